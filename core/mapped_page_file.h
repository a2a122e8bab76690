// MappedPageFile: a read-only page file, mapped whole through the Os seam and
// validated completely before any page can be read.
//
// File format (version 1, every integer little-endian):
//
//   offset  size  field
//   0       8     magic             "SEGSIMPF" (no terminator)
//   8       4     format_version    1
//   12      4     page_size         a power of two, 4 KiB .. 1 MiB
//   16      8     page_count        pages after the header page, >= 1
//   24      8     root_offset       byte offset of the root page: page_size * (i + 1), i < page_count
//   32      8     reserved          0
//   40      8     header_checksum   FNV-1a 64 over bytes [0, 40) — every field above it
//   48      16    zero
//
// The header occupies the whole first page_size bytes of the file (zero
// padded); page i (0-based) starts at byte page_size * (i + 1), and the file
// is exactly page_size * (page_count + 1) bytes long.
//
// open() reads only the 64-byte header (one OS page), so its cost does not
// depend on the file size; the header page's padding beyond byte 64 is never
// read (it is reserved: writers zero it, readers ignore it). Page contents are
// not checksummed: a page's own codec (page_records.h) validates what it reads.
//
// The Os must outlive every MappedPageFile opened through it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/os.h"
#include "core/result.h"

namespace segsim {

inline constexpr std::string_view kPageFileMagic = "SEGSIMPF";
inline constexpr std::uint32_t kPageFileVersion = 1;
inline constexpr std::uint32_t kMinPageFileBytesPerPage = 4 * 1024;
inline constexpr std::uint32_t kMaxPageFileBytesPerPage = 1024 * 1024;
inline constexpr std::size_t kPageFileHeaderBytes = 64;
inline constexpr std::size_t kPageFileChecksummedBytes = 40;  // bytes [0, 40)

// The header's fields, decoded but not validated.
struct PageFileHeader {
  std::uint32_t format_version = kPageFileVersion;
  std::uint32_t page_size = kMinPageFileBytesPerPage;
  std::uint64_t page_count = 0;
  std::uint64_t root_offset = 0;
  std::uint64_t reserved = 0;
};

// The 64 header bytes for `header`, with magic and a correct checksum. Tests
// and benchmarks use it to build files (also deliberately wrong ones).
std::array<std::byte, kPageFileHeaderBytes> encode_page_file_header(const PageFileHeader& header);

std::uint64_t fnv1a64(std::span<const std::byte> bytes) noexcept;

enum class AccessHint : std::uint8_t {
  None,        // no madvise
  Sequential,  // madvise(SEQUENTIAL) over the whole mapping: aggressive read-ahead
  WillNeed,    // madvise(WILLNEED): start reading the whole file in now
};

struct OpenOptions {
  AccessHint access = AccessHint::None;
  // Touch one byte per OS page after validation, so no later page read
  // faults (as far as the kernel keeps the pages). Makes open O(file size).
  bool populate_on_open = false;
};

class MappedPageFile {
 public:
  // Maps `path` with os.map_file and validates the header and the file length.
  // Errors: Errc::OsFailure (os_errno set) when the Os refuses; otherwise
  // Errc::InvalidPageFile with `detail` naming the rule, and nothing stays mapped.
  // A failed access hint is not an error (see advise_failures()).
  static Result<MappedPageFile> open(Os& os, const std::string& path, const OpenOptions& options = {});

  MappedPageFile(MappedPageFile&& other) noexcept;
  MappedPageFile& operator=(MappedPageFile&& other) noexcept;
  MappedPageFile(const MappedPageFile&) = delete;
  MappedPageFile& operator=(const MappedPageFile&) = delete;
  // Unmaps through the Os. A destructor cannot report: a failed unmap is
  // counted in unmap_failures() and the mapping is leaked. Call close() to
  // see the error instead.
  ~MappedPageFile();

  // Unmaps now. Afterwards the object is closed whether or not the Os
  // succeeded (a failed unmap leaks the mapping; it is counted too).
  // A closed (or moved-from) file has no pages: is_open() is false and
  // page_count(), page_size(), root_offset() and file_bytes() read 0.
  Status close();
  bool is_open() const noexcept { return data_ != nullptr; }

  // Page i, exactly page_size() bytes. Precondition: i < page_count().
  std::span<const std::byte> page(std::uint64_t i) const;
  std::span<const std::byte> root_page() const { return page(root_page_index()); }
  std::uint64_t root_page_index() const;

  std::uint64_t page_count() const noexcept { return page_count_; }
  std::uint32_t page_size() const noexcept { return page_size_; }
  std::uint64_t root_offset() const noexcept { return root_offset_; }
  std::size_t file_bytes() const noexcept { return bytes_; }
  const std::string& path() const noexcept { return path_; }
  FileStatus status_at_open() const noexcept { return status_; }

  // Access hints the Os refused, and the errno of the last refusal (0 if none).
  std::uint32_t advise_failures() const noexcept { return advise_failures_; }
  int last_advise_errno() const noexcept { return last_advise_errno_; }
  // OS pages touched by populate_on_open (0 without it).
  std::uint64_t populated_os_pages() const noexcept { return populated_os_pages_; }

  // Stats the path through the Os: true if its size or mtime differ from
  // what map_file saw. It never remaps — the mapping keeps showing what was
  // mapped (or SIGBUS past a truncated end) — so on true the caller reopens.
  Result<bool> refresh() const;

  // Unmaps that failed in any MappedPageFile's destructor or close(), process-wide.
  static std::uint64_t unmap_failures() noexcept;

 private:
  MappedPageFile(Os& os, std::string path, const MappedFile& mapped, std::uint32_t page_size,
                 std::uint64_t page_count, std::uint64_t root_offset);
  void apply_options(const OpenOptions& options);
  void reset() noexcept;

  Os* os_ = nullptr;
  std::string path_;
  const std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
  FileStatus status_;
  std::uint32_t page_size_ = 0;
  std::uint64_t page_count_ = 0;
  std::uint64_t root_offset_ = 0;
  std::uint32_t advise_failures_ = 0;
  int last_advise_errno_ = 0;
  std::uint64_t populated_os_pages_ = 0;
};

}  // namespace segsim
