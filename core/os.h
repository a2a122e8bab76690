// The Os seam: every call core makes to the operating system's memory manager,
// and the file writes of PageFileWriter (so a simulation writes files in
// memory, with short writes and faults, and no sweep touches a file system).
//
// Implementations: LinuxOs (real syscalls, here), SimOs (a deterministic
// simulated address space) and FaultyOs (a decorator that injects failures),
// both in faults/. Every call reports failure as an OsFailure carrying errno;
// callers must handle it — nothing here swallows an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace segsim {

// A file's writer (a page file, a crash report) asks again after a write
// interrupted before it wrote anything (EINTR), and gives up after this many
// in a row: a signal storm must not hold it forever.
inline constexpr std::uint32_t kMaxWriteInterruptions = 16;

enum class Advice : std::uint8_t {
  DontNeed,    // drop physical pages now; the next touch reads zero (private anonymous)
  Free,        // lazily free; old bytes MAY survive a later touch — never a zeroing reset
  WillNeed,    // prefetch hint
  Sequential,  // read-ahead hint
  HugePage,    // transparent huge pages hint
};
std::string_view advice_name(Advice advice) noexcept;

enum class OsCall : std::uint8_t { Map, Unmap, Advise, MapFile, StatFile, CreateFile, WriteFile, CloseFile };
inline constexpr std::size_t kOsCallCount = 8;
std::string_view os_call_name(OsCall call) noexcept;

struct OsFailure {
  OsCall call = OsCall::Map;
  int errno_value = 0;
};

template <class T>
using OsResult = Result<T, OsFailure>;
using OsStatus = BasicStatus<OsFailure>;

struct FileStatus {
  std::uint64_t bytes = 0;
  std::int64_t mtime_ns = 0;
};

// A read-only mapping of a whole file. `data` is null when the file is empty.
struct MappedFile {
  const std::byte* data = nullptr;
  std::size_t bytes = 0;
  FileStatus status;
};

class Os {
 public:
  virtual ~Os() = default;

  // Private anonymous read-write memory, zero-filled, `bytes` a multiple of page_size().
  virtual OsResult<std::byte*> map(std::size_t bytes) = 0;
  // Unmaps [addr, addr+bytes); part of a mapping may be unmapped (the rest stays).
  virtual OsStatus unmap(std::byte* addr, std::size_t bytes) = 0;
  virtual OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) = 0;
  // Maps a whole file read-only. Unmap it with unmap(data, bytes).
  virtual OsResult<MappedFile> map_file(const std::string& path) = 0;
  virtual OsResult<FileStatus> stat_file(const std::string& path) = 0;
  // Creates `path` (or truncates it) for writing, mode 0644: its descriptor.
  virtual OsResult<int> create_file(const std::string& path) = 0;
  // Appends up to `bytes` from `data` to the file of `fd`; how many it wrote,
  // which may be fewer than asked (as write(2)). EINTR: nothing written, ask
  // again (a writer gives up after kMaxWriteInterruptions in a row).
  virtual OsResult<std::size_t> write_file(int fd, const std::byte* data, std::size_t bytes) = 0;
  // Closes `fd`, whatever it answers (a failure may mean the data never arrived).
  virtual OsStatus close_file(int fd) = 0;
  virtual std::size_t page_size() const noexcept = 0;
};

}  // namespace segsim
