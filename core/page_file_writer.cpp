#include "core/page_file_writer.h"
#include "core/probe.h"

#include <fcntl.h>
#include <unistd.h>

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
  pages_.resize(start + page_size_);  // zero padding comes from resize
  if (!contents.empty()) std::memcpy(pages_.data() + start, contents.data(), contents.size());
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

Status PageFileWriter::write(const std::string& path) const {
  if (page_count_ == 0) return make_error(Errc::InvalidConfig, "page file has no pages");
  const std::vector<std::byte> bytes = to_bytes();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("open for writing failed", errno);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      return os_error("write failed", err);
    }
    SEGSIM_ASSERT(static_cast<std::size_t>(n) <= bytes.size() - done, "write() reported more bytes than asked");
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) return os_error("close after write failed", errno);
  return {};
}

}  // namespace segsim
