#include "core/mapped_page_file.h"
#include "core/little_endian.h"
#include "core/probe.h"

#include <atomic>
#include <cstring>
#include <span>
#include <utility>

namespace segsim {

namespace {

// Process-wide: a destructor has nowhere else to report. A plain std::atomic,
// not platform::Atomic: a statistic, never a synchronisation point worth
// exploring under simulation.
std::atomic<std::uint64_t> g_unmap_failures{0};

struct Layout {
  std::uint32_t page_size;
  std::uint64_t page_count;
  std::uint64_t root_offset;
};

bool is_power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Every rule of the format, reading only bytes [0, 64) of `file`. Fields are
// checked before the checksum so that each rule reports its own detail (a
// checksum over garbage says less than "bad page size"); the file length and
// root offset come after it, because they are only meaningful for a header
// known to be intact.
Result<Layout> validate(const std::byte* data, std::size_t bytes) {
  if (bytes < kPageFileHeaderBytes) {
    SEGSIM_PROBE("pagefile.invalid.short");
    return invalid_page_file("file shorter than the 64-byte header");
  }
  SEGSIM_ASSERT(data != nullptr, "a non-empty mapping has an address");
  const std::span<const std::byte> header(data, kPageFileHeaderBytes);
  if (std::memcmp(data, kPageFileMagic.data(), kPageFileMagic.size()) != 0) {
    SEGSIM_PROBE("pagefile.invalid.magic");
    return invalid_page_file("bad magic");
  }
  if (little_endian::load32(header, 8) != kPageFileVersion) {
    SEGSIM_PROBE("pagefile.invalid.version");
    return invalid_page_file("unsupported format_version");
  }
  const std::uint32_t page_size = little_endian::load32(header, 12);
  if (!is_power_of_two(page_size) || page_size < kMinPageFileBytesPerPage ||
      page_size > kMaxPageFileBytesPerPage) {
    SEGSIM_PROBE("pagefile.invalid.page_size");
    return invalid_page_file("page_size not a power of two in 4 KiB..1 MiB");
  }
  if (little_endian::load64(header, 32) != 0) {
    SEGSIM_PROBE("pagefile.invalid.reserved");
    return invalid_page_file("reserved field not zero");
  }
  for (std::size_t i = 48; i < kPageFileHeaderBytes; ++i) {
    SEGSIM_ASSERT(i < bytes, "a header byte read past the file");
    if (data[i] != std::byte{0}) {
      SEGSIM_PROBE("pagefile.invalid.padding");
      return invalid_page_file("header bytes 48..63 not zero");
    }
  }
  const std::uint64_t checksum = fnv1a64(std::span(data, kPageFileChecksummedBytes));
  if (little_endian::load64(header, 40) != checksum) {
    SEGSIM_PROBE("pagefile.invalid.checksum");
    return invalid_page_file("header checksum mismatch");
  }

  const std::uint64_t page_count = little_endian::load64(header, 16);
  const std::uint64_t root_offset = little_endian::load64(header, 24);
  if (page_count == 0) {
    SEGSIM_PROBE("pagefile.invalid.no_pages");
    return invalid_page_file("page_count is zero (no root page)");
  }
  // Division, never page_size * (page_count + 1): page_count is attacker
  // controlled and the product can wrap to exactly the file length.
  const std::uint64_t file_bytes = bytes;
  if (file_bytes < page_size || file_bytes % page_size != 0 || file_bytes / page_size - 1 != page_count) {
    SEGSIM_PROBE("pagefile.invalid.length");
    return invalid_page_file("file length does not match page_count x page_size");
  }
  if (root_offset < page_size || root_offset >= file_bytes) {
    SEGSIM_PROBE("pagefile.invalid.root_range");
    return invalid_page_file("root offset out of range");
  }
  if (root_offset % page_size != 0) {
    SEGSIM_PROBE("pagefile.invalid.root_alignment");
    return invalid_page_file("root offset not page aligned");
  }
  return Layout{page_size, page_count, root_offset};
}

}  // namespace

std::uint64_t fnv1a64(std::span<const std::byte> bytes) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::byte b : bytes) {
    hash ^= static_cast<std::uint64_t>(b);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::array<std::byte, kPageFileHeaderBytes> encode_page_file_header(const PageFileHeader& header) {
  std::array<std::byte, kPageFileHeaderBytes> out{};
  std::memcpy(out.data(), kPageFileMagic.data(), kPageFileMagic.size());
  little_endian::store32(out, 8, header.format_version);
  little_endian::store32(out, 12, header.page_size);
  little_endian::store64(out, 16, header.page_count);
  little_endian::store64(out, 24, header.root_offset);
  little_endian::store64(out, 32, header.reserved);
  little_endian::store64(out, 40, fnv1a64(std::span(out.data(), kPageFileChecksummedBytes)));
  return out;
}

Result<MappedPageFile> MappedPageFile::open(Os& os, const std::string& path, const OpenOptions& options) {
  OsResult<MappedFile> mapped = os.map_file(path);
  if (!mapped.ok()) {
    SEGSIM_PROBE("pagefile.open.map_failed");
    Error e = make_error(Errc::OsFailure, "map_file failed");
    e.os_errno = mapped.error().errno_value;
    return e;
  }
  const MappedFile& file = mapped.value();
  Result<Layout> layout = validate(file.data, file.bytes);
  if (!layout.ok()) {
    if (file.data != nullptr && !os.unmap(const_cast<std::byte*>(file.data), file.bytes).ok()) {
      SEGSIM_PROBE("pagefile.open.unmap_after_invalid_failed");
      g_unmap_failures.fetch_add(1, std::memory_order_relaxed);
    }
    return layout.error();
  }
  MappedPageFile opened(os, path, file, layout->page_size, layout->page_count, layout->root_offset);
  opened.apply_options(options);
  return opened;
}

MappedPageFile::MappedPageFile(Os& os, std::string path, const MappedFile& mapped, std::uint32_t page_size,
                               std::uint64_t page_count, std::uint64_t root_offset)
    : os_(&os),
      path_(std::move(path)),
      data_(mapped.data),
      bytes_(mapped.bytes),
      status_(mapped.status),
      page_size_(page_size),
      page_count_(page_count),
      root_offset_(root_offset) {
  SEGSIM_ASSERT(data_ != nullptr, "a valid page file is never empty");
  SEGSIM_ASSERT(bytes_ / page_size_ == page_count_ + 1 && bytes_ % page_size_ == 0,
                "length validated against page_count");
  SEGSIM_ASSERT(root_offset_ % page_size_ == 0 && root_offset_ >= page_size_ && root_offset_ < bytes_,
                "root offset validated");
}

void MappedPageFile::apply_options(const OpenOptions& options) {
  auto* start = const_cast<std::byte*>(data_);
  if (options.access != AccessHint::None) {
    const Advice advice = options.access == AccessHint::Sequential ? Advice::Sequential : Advice::WillNeed;
    OsStatus advised = os_->advise(start, bytes_, advice);
    if (!advised.ok()) {
      SEGSIM_PROBE("pagefile.advise_failed");
      ++advise_failures_;
      last_advise_errno_ = advised.error().errno_value;
    }
  }
  if (options.populate_on_open) {
    SEGSIM_PROBE("pagefile.populated");
    const std::size_t stride = os_->page_size();
    SEGSIM_ASSERT(stride > 0, "the Os has a page size");
    // Reads, not writes: the mapping is read-only. volatile so the loop survives -O2.
    std::uint8_t sink = 0;
    for (std::size_t offset = 0; offset < bytes_; offset += stride) {
      SEGSIM_ASSERT(offset < bytes_, "populating past the file's mapping");
      sink ^= *reinterpret_cast<const volatile std::uint8_t*>(data_ + offset);
      ++populated_os_pages_;
    }
    asm volatile("" : : "r"(sink));
  }
}

MappedPageFile::MappedPageFile(MappedPageFile&& other) noexcept
    : os_(other.os_),
      path_(std::move(other.path_)),
      data_(other.data_),
      bytes_(other.bytes_),
      status_(other.status_),
      page_size_(other.page_size_),
      page_count_(other.page_count_),
      root_offset_(other.root_offset_),
      advise_failures_(other.advise_failures_),
      last_advise_errno_(other.last_advise_errno_),
      populated_os_pages_(other.populated_os_pages_) {
  other.reset();
}

MappedPageFile& MappedPageFile::operator=(MappedPageFile&& other) noexcept {
  if (this == &other) return *this;
  (void)close();  // failure counted in unmap_failures(); a move cannot report
  os_ = other.os_;
  path_ = std::move(other.path_);
  data_ = other.data_;
  bytes_ = other.bytes_;
  status_ = other.status_;
  page_size_ = other.page_size_;
  page_count_ = other.page_count_;
  root_offset_ = other.root_offset_;
  advise_failures_ = other.advise_failures_;
  last_advise_errno_ = other.last_advise_errno_;
  populated_os_pages_ = other.populated_os_pages_;
  other.reset();
  return *this;
}

MappedPageFile::~MappedPageFile() { (void)close(); }

void MappedPageFile::reset() noexcept {
  data_ = nullptr;
  bytes_ = 0;
  page_count_ = 0;
  page_size_ = 0;
  root_offset_ = 0;
}

Status MappedPageFile::close() {
  if (data_ == nullptr) {
    SEGSIM_PROBE("pagefile.close.already_closed");
    return {};
  }
  SEGSIM_ASSERT(os_ != nullptr && bytes_ > 0, "closing a mapping without an Os or a length");
  OsStatus unmapped = os_->unmap(const_cast<std::byte*>(data_), bytes_);
  reset();
  if (!unmapped.ok()) {
    SEGSIM_PROBE("pagefile.close.unmap_failed");
    g_unmap_failures.fetch_add(1, std::memory_order_relaxed);
    Error e = make_error(Errc::OsFailure, "unmap of the page file failed");
    e.os_errno = unmapped.error().errno_value;
    return e;
  }
  return {};
}

std::span<const std::byte> MappedPageFile::page(std::uint64_t i) const {
  SEGSIM_ASSERT(data_ != nullptr, "page() on a closed MappedPageFile");
  SEGSIM_ASSERT(i < page_count_, "page index out of range");
  const std::uint64_t offset = (i + 1) * page_size_;  // no overflow: (i + 1) * page_size <= bytes_
  SEGSIM_ASSERT(offset + page_size_ <= bytes_, "a page lies inside the mapping");
  return {data_ + offset, page_size_};
}

std::uint64_t MappedPageFile::root_page_index() const {
  SEGSIM_ASSERT(data_ != nullptr, "root_page_index() on a closed MappedPageFile");
  SEGSIM_ASSERT(page_size_ > 0 && root_offset_ >= page_size_, "a root offset inside the header page");
  return root_offset_ / page_size_ - 1;
}

Result<bool> MappedPageFile::refresh() const {
  SEGSIM_ASSERT(os_ != nullptr && !path_.empty(), "refresh() on a moved-from MappedPageFile");
  OsResult<FileStatus> now = os_->stat_file(path_);
  if (!now.ok()) {
    SEGSIM_PROBE("pagefile.refresh.stat_failed");
    Error e = make_error(Errc::OsFailure, "stat of the page file failed");
    e.os_errno = now.error().errno_value;
    return e;
  }
  return now->bytes != status_.bytes || now->mtime_ns != status_.mtime_ns;
}

std::uint64_t MappedPageFile::unmap_failures() noexcept {
  return g_unmap_failures.load(std::memory_order_relaxed);
}

}  // namespace segsim
