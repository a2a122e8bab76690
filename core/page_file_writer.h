// PageFileWriter: builds a valid page file (format: core/mapped_page_file.h)
// in memory, then writes it through the Os seam (a real file with LinuxOs, an
// in-memory one with SimOs) or hands out its bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/mapped_page_file.h"
#include "core/os.h"
#include "core/result.h"

namespace segsim {

// The writer holds every page in memory; past this it refuses more pages.
inline constexpr std::uint64_t kMaxPageFileWriterBytes = std::uint64_t{1} << 30;

class PageFileWriter {
 public:
  // Page size 4 KiB until set_page_size. add_page refuses a page that would
  // make the file longer than max_file_bytes (at most kMaxPageFileWriterBytes).
  explicit PageFileWriter(std::uint64_t max_file_bytes = kMaxPageFileWriterBytes);

  // A power of two in 4 KiB..1 MiB (else Errc::InvalidConfig); only before
  // the first add_page (else Errc::InvalidConfig too).
  Status set_page_size(std::uint32_t page_bytes);
  // Appends a page, zero-padded to the page size, and returns its index.
  // Errc::InvalidSize if `contents` is longer than a page or the file would
  // pass the writer's max_file_bytes.
  Result<std::uint64_t> add_page(std::span<const std::byte> contents);
  // The root page (default: page 0). Errc::InvalidConfig if no such page.
  Status set_root_page(std::uint64_t index);

  std::uint32_t page_size() const noexcept { return page_size_; }
  std::uint64_t page_count() const noexcept { return page_count_; }

  // The whole file. Precondition: at least one page was added.
  std::vector<std::byte> to_bytes() const;
  // Writes the file to `path` (create or truncate) through `os`, however few
  // bytes each write takes; an interrupted write (EINTR) is asked again, up
  // to kMaxWriteInterruptions in a row. Errc::InvalidConfig if no page was
  // added; Errc::OsFailure with the errno of the call that failed (EIO for a
  // write that took nothing), the descriptor closed. A failed write may leave
  // part of the file at `path`.
  Status write(Os& os, const std::string& path) const;

 private:
  std::uint64_t max_file_bytes_;
  std::uint32_t page_size_ = kMinPageFileBytesPerPage;
  std::uint64_t page_count_ = 0;
  std::uint64_t root_index_ = 0;
  std::vector<std::byte> pages_;  // page_count_ * page_size_ bytes, page after page
};

}  // namespace segsim
