#include "core/page_file_writer.h"
#include "core/assert.h"
#include "core/probe.h"

#include <cerrno>
#include <cstring>

namespace segsim {

namespace {

Error os_error(const char* detail, int err) {
  Error e = make_error(Errc::OsFailure, detail);
  e.os_errno = err;
  return e;
}

}  // namespace

PageFileWriter::PageFileWriter(std::uint64_t max_file_bytes) : max_file_bytes_(max_file_bytes) {
  SEGSIM_ASSERT(max_file_bytes_ <= kMaxPageFileWriterBytes, "the writer's limit is at most 1 GiB");
}

Status PageFileWriter::set_page_size(std::uint32_t page_bytes) {
  if (page_count_ != 0) {
    SEGSIM_PROBE("writer.page_size.after_first_page");
    return make_error(Errc::InvalidConfig, "page size set after the first page");
  }
  if ((page_bytes & (page_bytes - 1)) != 0 || page_bytes < kMinPageFileBytesPerPage ||
      page_bytes > kMaxPageFileBytesPerPage) {
    SEGSIM_PROBE("writer.page_size.invalid");
    return make_error(Errc::InvalidConfig, "page_size not a power of two in 4 KiB..1 MiB");
  }
  page_size_ = page_bytes;
  return {};
}

Result<std::uint64_t> PageFileWriter::add_page(std::span<const std::byte> contents) {
  if (contents.size() > page_size_) {
    SEGSIM_PROBE("writer.add_page.too_long");
    return make_error(Errc::InvalidSize, "page contents longer than page_size");
  }
  // No overflow: page_count_ * page_size_ <= max_file_bytes_ <= 1 GiB.
  if ((page_count_ + 2) * page_size_ > max_file_bytes_) {
    SEGSIM_PROBE("writer.add_page.size_limit");
    return make_error(Errc::InvalidSize, "page file would pass the writer's size limit");
  }
  SEGSIM_ASSERT(page_size_ > 0, "a writer without a page size");
  const std::size_t start = pages_.size();
  SEGSIM_ASSERT(start == page_count_ * page_size_, "pages are whole before the next");
  // Appended, then padded: no pointer arithmetic into the buffer, whose
  // mistakes would corrupt the heap before any check could say so.
  pages_.insert(pages_.end(), contents.begin(), contents.end());
  pages_.resize(start + page_size_);  // the zero padding to a whole page
  SEGSIM_ASSERT(pages_.size() == (page_count_ + 1) * page_size_, "pages are whole");
  return page_count_++;
}

Status PageFileWriter::set_root_page(std::uint64_t index) {
  if (index >= page_count_) {
    SEGSIM_PROBE("writer.root.past_last_page");
    return make_error(Errc::InvalidConfig, "root page index past the last page");
  }
  root_index_ = index;
  return {};
}

std::vector<std::byte> PageFileWriter::to_bytes() const {
  SEGSIM_ASSERT(page_count_ > 0, "a page file needs at least one page (its root)");
  SEGSIM_ASSERT(root_index_ < page_count_, "root page exists");
  PageFileHeader header;
  header.page_size = page_size_;
  header.page_count = page_count_;
  header.root_offset = (root_index_ + 1) * page_size_;
  const auto encoded = encode_page_file_header(header);
  std::vector<std::byte> out(page_size_);  // header page, zero padded
  std::memcpy(out.data(), encoded.data(), encoded.size());
  out.insert(out.end(), pages_.begin(), pages_.end());
  SEGSIM_ASSERT(out.size() == (page_count_ + 1) * page_size_, "file length matches the header");
  return out;
}

Status PageFileWriter::write(Os& os, const std::string& path) const {
  if (page_count_ == 0) return make_error(Errc::InvalidConfig, "page file has no pages");
  const std::vector<std::byte> bytes = to_bytes();
  const OsResult<int> created = os.create_file(path);
  if (!created.ok()) {
    SEGSIM_PROBE("writer.write.create_failed");
    return os_error("open for writing failed", created.error().errno_value);
  }
  const int fd = created.value();
  std::size_t done = 0;
  std::uint32_t interruptions = 0;  // in a row
  while (done < bytes.size()) {
    const OsResult<std::size_t> wrote = os.write_file(fd, bytes.data() + done, bytes.size() - done);
    if (!wrote.ok() && wrote.error().errno_value == EINTR && ++interruptions <= kMaxWriteInterruptions) {
      SEGSIM_PROBE("writer.write.interrupted");
      continue;
    }
    if (!wrote.ok() || wrote.value() == 0) {
      SEGSIM_PROBE("writer.write.failed");
      const int err = wrote.ok() ? EIO : wrote.error().errno_value;
      (void)os.close_file(fd);  // the write's failure is the one to report
      return os_error("write failed", err);
    }
    SEGSIM_ASSERT(wrote.value() <= bytes.size() - done, "write_file reported more bytes than asked");
    if (wrote.value() < bytes.size() - done) SEGSIM_PROBE("writer.write.short");
    interruptions = 0;
    done += wrote.value();
  }
  if (const OsStatus closed = os.close_file(fd); !closed.ok()) {
    SEGSIM_PROBE("writer.write.close_failed");
    return os_error("close after write failed", closed.error().errno_value);
  }
  return {};
}

}  // namespace segsim
