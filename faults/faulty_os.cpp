#include "faults/faulty_os.h"

namespace segsim::faults {

OsResult<std::byte*> FaultyOs::map(std::size_t bytes) {
  if (int err = injector_.os_call(OsCall::Map)) return OsFailure{OsCall::Map, err};
  return inner_.map(bytes);
}

OsStatus FaultyOs::unmap(std::byte* addr, std::size_t bytes) {
  if (int err = injector_.os_call(OsCall::Unmap)) return OsFailure{OsCall::Unmap, err};
  return inner_.unmap(addr, bytes);
}

OsStatus FaultyOs::advise(std::byte* addr, std::size_t bytes, Advice advice) {
  if (int err = injector_.os_call(OsCall::Advise)) return OsFailure{OsCall::Advise, err};
  return inner_.advise(addr, bytes, advice);
}

OsResult<MappedFile> FaultyOs::map_file(const std::string& path) {
  if (int err = injector_.os_call(OsCall::MapFile)) return OsFailure{OsCall::MapFile, err};
  return inner_.map_file(path);
}

OsResult<FileStatus> FaultyOs::stat_file(const std::string& path) {
  if (int err = injector_.os_call(OsCall::StatFile)) return OsFailure{OsCall::StatFile, err};
  return inner_.stat_file(path);
}

OsResult<int> FaultyOs::create_file(const std::string& path) {
  if (int err = injector_.os_call(OsCall::CreateFile)) return OsFailure{OsCall::CreateFile, err};
  return inner_.create_file(path);
}

OsResult<std::size_t> FaultyOs::write_file(int fd, const std::byte* data, std::size_t bytes) {
  if (int err = injector_.os_call(OsCall::WriteFile)) return OsFailure{OsCall::WriteFile, err};
  return inner_.write_file(fd, data, bytes);
}

// An injected close failure still closes: the descriptor must not leak.
OsStatus FaultyOs::close_file(int fd) {
  if (int err = injector_.os_call(OsCall::CloseFile)) {
    (void)inner_.close_file(fd);
    return OsFailure{OsCall::CloseFile, err};
  }
  return inner_.close_file(fd);
}

}  // namespace segsim::faults
