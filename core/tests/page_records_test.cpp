// PageRecords: the record table inside a page (core/page_records.h) —
// encoding, decoding and every rule a corrupt table breaks.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/page_records.h"
#include "core/tests/page_file_bytes.h"

namespace segsim {
namespace {

using testing::expect_same_records;
using testing::kPage;
using testing::Sample;
using testing::store_le32;

TEST(PageRecords, RoundTripKeepsSlotsValuesAndDeweyPresence) {
  Sample sample;
  const auto records = sample.records_for(4);
  auto encoded = encode_page_records(records, kPage);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->size(), 8u + 3 * 24 + 5 + 3 + 0 + 11);
  std::vector<std::byte> page = encoded.value();
  page.resize(kPage);  // zero padded, as in a file
  auto decoded = decode_page_records(page);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  expect_same_records(decoded.value(), records);
  // The views point into the page, not into copies.
  for (const auto& r : decoded.value()) {
    EXPECT_TRUE(r.value.empty() || (r.value.data() >= page.data() && r.value.data() < page.data() + page.size()));
  }
}

TEST(PageRecords, AnAllZeroPageHasNoRecords) {
  std::vector<std::byte> page(kPage);
  auto decoded = decode_page_records(page);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
  auto encoded = encode_page_records({}, kPage);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->size(), 8u);
}

TEST(PageRecords, EncodingRefusesWhatDoesNotFitAndDuplicateSlots) {
  std::vector<std::byte> big(kPage - 8 - 24 + 1);
  std::vector<PageRecordView> one{{0, big, std::nullopt}};
  auto over = encode_page_records(one, kPage);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::InvalidSize);
  big.pop_back();
  one[0].value = big;
  auto exact = encode_page_records(one, kPage);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->size(), kPage);
  EXPECT_TRUE(decode_page_records(exact.value()).ok());

  std::vector<PageRecordView> many(kPage / 24 + 1);  // the table alone is past the page
  for (std::uint32_t i = 0; i < many.size(); ++i) many[i].slot = i;
  EXPECT_EQ(encode_page_records(many, kPage).error().code, Errc::InvalidSize);

  std::vector<PageRecordView> dup{{9, {}, std::nullopt}, {3, {}, std::nullopt}, {9, {}, std::nullopt}};
  auto duplicate = encode_page_records(dup, kPage);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, Errc::InvalidPageFile);
  EXPECT_STREQ(duplicate.error().detail, "duplicate slot");
  EXPECT_EQ(encode_page_records({}, 7).error().code, Errc::InvalidSize);
  EXPECT_EQ(encode_page_records({}, kMaxPageRecordsPageBytes + 1).error().code, Errc::InvalidSize);
}

TEST(PageRecords, EveryCorruptTableIsRejectedWithItsRule) {
  Sample sample;
  auto encoded = encode_page_records(sample.records_for(0), kPage);
  ASSERT_TRUE(encoded.ok());
  std::vector<std::byte> valid = encoded.value();
  valid.resize(kPage);
  const std::uint32_t table_end = 8 + 3 * 24;
  const std::uint32_t payload = 5 + 3 + 11;
  struct Case {
    const char* name;
    std::function<void(std::vector<std::byte>&)> corrupt;
    const char* detail;
  };
  auto entry = [](int record, int field) { return static_cast<std::size_t>(8 + 24 * record + 4 * field); };
  const std::vector<Case> cases = {
      {"page of 7 bytes", [](auto& p) { p.resize(7); }, "page shorter than the record header"},
      {"empty page", [](auto& p) { p.clear(); }, "page shorter than the record header"},
      {"count past the page", [](auto& p) { store_le32(p, 0, kPage / 24 + 1); }, "record table past the page end"},
      {"count max", [](auto& p) { store_le32(p, 0, UINT32_MAX); }, "record table past the page end"},
      {"payload past the page", [=](auto& p) { store_le32(p, 4, kPage - table_end + 1); },
       "record payload past the page end"},
      {"payload max", [](auto& p) { store_le32(p, 4, UINT32_MAX); }, "record payload past the page end"},
      {"value inside the table", [&](auto& p) { store_le32(p, entry(0, 2), table_end - 1); },
       "record value outside the payload"},
      {"value past the payload", [&](auto& p) { store_le32(p, entry(2, 3), 12); },
       "record value outside the payload"},
      {"value offset wraps", [&](auto& p) {
         store_le32(p, entry(0, 2), UINT32_MAX - 1);
         store_le32(p, entry(0, 3), 4);
       }, "record value outside the payload"},
      {"value length wraps", [&](auto& p) { store_le32(p, entry(0, 3), UINT32_MAX); },
       "record value outside the payload"},
      {"shrunk payload", [=](auto& p) { store_le32(p, 4, payload - 1); }, "record value outside the payload"},
      {"unknown flag", [&](auto& p) { store_le32(p, entry(1, 1), 2); }, "unknown record flags"},
      {"dewey past the payload", [&](auto& p) { store_le32(p, entry(0, 5), payload); },
       "record DeweyID outside the payload"},
      {"dewey offset zero", [&](auto& p) { store_le32(p, entry(0, 4), 0); }, "record DeweyID outside the payload"},
      {"dewey fields without flag", [&](auto& p) { store_le32(p, entry(1, 5), 1); },
       "DeweyID fields set on a record without one"},
      {"dewey flag cleared", [&](auto& p) { store_le32(p, entry(0, 1), 0); },
       "DeweyID fields set on a record without one"},
      {"duplicate slot", [&](auto& p) { store_le32(p, entry(2, 0), 0); }, "duplicate slot"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::byte> page = valid;
    c.corrupt(page);
    auto decoded = decode_page_records(page);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().code, Errc::InvalidPageFile);
    EXPECT_STREQ(decoded.error().detail, c.detail);
  }
}

}  // namespace
}  // namespace segsim
