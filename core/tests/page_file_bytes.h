// Byte-level helpers shared by the page-file and page-record tests: build and
// patch files by hand, a sample file, compare decoded records.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/page_file_writer.h"
#include "core/page_records.h"

namespace segsim::testing {

inline constexpr std::uint32_t kPage = 4096;

inline std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out(text.size());
  if (!text.empty()) std::memcpy(out.data(), text.data(), text.size());
  return out;
}

inline void store_le64(std::vector<std::byte>& file, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) file[at + i] = static_cast<std::byte>(v >> (8 * i));
}
inline void store_le32(std::vector<std::byte>& file, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) file[at + i] = static_cast<std::byte>(v >> (8 * i));
}

// Three 4 KiB pages with records; the root is page 1.
struct Sample {
  std::vector<std::vector<std::byte>> values{bytes_of("alpha"), bytes_of(""), bytes_of("gamma-value")};
  std::vector<std::byte> dewey = bytes_of("\x01\x03\x05");

  std::vector<PageRecordView> records_for(std::uint32_t page) const {
    std::vector<PageRecordView> records;
    records.push_back({page * 10 + 0, values[0], dewey});
    records.push_back({page * 10 + 1, values[1], std::nullopt});
    records.push_back({page * 10 + 7, values[2], std::span<const std::byte>{}});
    return records;
  }

  PageFileWriter writer(std::uint64_t pages = 3) const {
    PageFileWriter w;
    EXPECT_TRUE(w.set_page_size(kPage).ok());
    for (std::uint32_t p = 0; p < pages; ++p) {
      auto encoded = encode_page_records(records_for(p), kPage);
      EXPECT_TRUE(encoded.ok());
      EXPECT_TRUE(w.add_page(encoded.value()).ok());
    }
    EXPECT_TRUE(w.set_root_page(pages > 1 ? 1 : 0).ok());
    return w;
  }
};

inline void expect_same_records(const std::vector<PageRecordView>& got, const std::vector<PageRecordView>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].slot, want[i].slot);
    EXPECT_TRUE(std::equal(got[i].value.begin(), got[i].value.end(), want[i].value.begin(), want[i].value.end()));
    ASSERT_EQ(got[i].dewey_id.has_value(), want[i].dewey_id.has_value()) << i;
    if (got[i].dewey_id) {
      EXPECT_TRUE(std::equal(got[i].dewey_id->begin(), got[i].dewey_id->end(), want[i].dewey_id->begin(),
                             want[i].dewey_id->end()));
    }
  }
}

}  // namespace segsim::testing
