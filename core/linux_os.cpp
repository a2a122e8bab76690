#include "core/linux_os.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace segsim {

std::string_view advice_name(Advice advice) noexcept {
  switch (advice) {
    case Advice::DontNeed: return "dontneed";
    case Advice::Free: return "free";
    case Advice::WillNeed: return "willneed";
    case Advice::Sequential: return "sequential";
    case Advice::HugePage: return "hugepage";
  }
  return "unknown";
}

std::string_view os_call_name(OsCall call) noexcept {
  switch (call) {
    case OsCall::Map: return "mmap";
    case OsCall::Unmap: return "munmap";
    case OsCall::Advise: return "madvise";
    case OsCall::MapFile: return "map_file";
    case OsCall::StatFile: return "stat";
    case OsCall::CreateFile: return "create";
    case OsCall::WriteFile: return "write";
    case OsCall::CloseFile: return "close";
  }
  return "unknown";
}

namespace {

int linux_advice(Advice advice) {
  switch (advice) {
    case Advice::DontNeed: return MADV_DONTNEED;
    case Advice::Free: return MADV_FREE;
    case Advice::WillNeed: return MADV_WILLNEED;
    case Advice::Sequential: return MADV_SEQUENTIAL;
    case Advice::HugePage: return MADV_HUGEPAGE;
  }
  return -1;
}

FileStatus to_file_status(const struct stat& st) {
  FileStatus status;
  status.bytes = static_cast<std::uint64_t>(st.st_size);
  status.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return status;
}

}  // namespace

LinuxOs::LinuxOs() : page_size_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))) {}

LinuxOs& LinuxOs::instance() {
  static LinuxOs os;
  return os;
}

OsResult<std::byte*> LinuxOs::map(std::size_t bytes) {
  if (bytes == 0 || bytes % page_size_ != 0) return OsFailure{OsCall::Map, EINVAL};
  void* addr = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (addr == MAP_FAILED) return OsFailure{OsCall::Map, errno};
  return static_cast<std::byte*>(addr);
}

OsStatus LinuxOs::unmap(std::byte* addr, std::size_t bytes) {
  if (::munmap(addr, bytes) != 0) return OsFailure{OsCall::Unmap, errno};
  return {};
}

OsStatus LinuxOs::advise(std::byte* addr, std::size_t bytes, Advice advice) {
  if (::madvise(addr, bytes, linux_advice(advice)) != 0) return OsFailure{OsCall::Advise, errno};
  return {};
}

OsResult<FileStatus> LinuxOs::stat_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return OsFailure{OsCall::StatFile, errno};
  if (!S_ISREG(st.st_mode)) return OsFailure{OsCall::StatFile, EINVAL};
  return to_file_status(st);
}

OsResult<int> LinuxOs::create_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return OsFailure{OsCall::CreateFile, errno};
  return fd;
}

OsResult<std::size_t> LinuxOs::write_file(int fd, const std::byte* data, std::size_t bytes) {
  const ssize_t n = ::write(fd, data, bytes);
  if (n < 0) return OsFailure{OsCall::WriteFile, errno};
  return static_cast<std::size_t>(n);
}

OsStatus LinuxOs::close_file(int fd) {
  if (::close(fd) != 0) return OsFailure{OsCall::CloseFile, errno};
  return {};
}

OsResult<MappedFile> LinuxOs::map_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsFailure{OsCall::MapFile, errno};
  struct stat st {};
  int err = ::fstat(fd, &st) != 0 ? errno : (S_ISREG(st.st_mode) ? 0 : EINVAL);
  if (err != 0) {
    ::close(fd);
    return OsFailure{OsCall::MapFile, err};
  }
  MappedFile file;
  file.status = to_file_status(st);
  file.bytes = static_cast<std::size_t>(st.st_size);
  if (file.bytes > 0) {
    void* addr = ::mmap(nullptr, file.bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      err = errno;
      ::close(fd);
      return OsFailure{OsCall::MapFile, err};
    }
    file.data = static_cast<const std::byte*>(addr);
  }
  ::close(fd);  // the mapping keeps the file referenced
  return file;
}

}  // namespace segsim
