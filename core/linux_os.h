// LinuxOs: the Os seam over real Linux syscalls (mmap, munmap, madvise,
// open, write, close).
#pragma once

#include "core/os.h"

namespace segsim {

class LinuxOs final : public Os {
 public:
  LinuxOs();

  OsResult<std::byte*> map(std::size_t bytes) override;
  OsStatus unmap(std::byte* addr, std::size_t bytes) override;
  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override;
  OsResult<MappedFile> map_file(const std::string& path) override;
  OsResult<FileStatus> stat_file(const std::string& path) override;
  OsResult<int> create_file(const std::string& path) override;
  OsResult<std::size_t> write_file(int fd, const std::byte* data, std::size_t bytes) override;
  OsStatus close_file(int fd) override;
  std::size_t page_size() const noexcept override { return page_size_; }

  // The process-wide instance (stateless apart from the page size).
  static LinuxOs& instance();

 private:
  std::size_t page_size_;
};

}  // namespace segsim
