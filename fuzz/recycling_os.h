// RecyclingOs: the Os of fuzz targets — LinuxOs, except that an unmapped
// anonymous mapping is kept and handed out again, zeroed, by the next map of
// the same size.
//
// Why: a fuzz target builds a fresh allocator per input, and each fresh
// mapping costs an mmap, a page fault per 4 KiB touched and a munmap — far
// more than the input's own work (fuzz_alloc_ops ran ~1,100 inputs/s so).
// A recycled mapping is already resident; zeroing it with memset keeps the
// Os promise the allocator relies on (a new mapping reads zero) at memcpy
// speed. Which mapping is reused depends only on the sequence of calls
// (last unmapped, first reused), never on an address, and nothing the
// allocator decides depends on the address it gets.
//
// Partial unmaps and file mappings go to LinuxOs unchanged. Single-threaded
// use per process (libFuzzer runs one input at a time); not thread-safe.
#pragma once

#include <cstddef>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/asan.h"
#include "core/linux_os.h"
#include "core/os.h"

namespace segsim::fuzzing {

class RecyclingOs final : public Os {
 public:
  // Keeps at most `max_kept_bytes` of unmapped memory for reuse.
  explicit RecyclingOs(std::size_t max_kept_bytes = std::size_t{64} << 20) : max_kept_bytes_(max_kept_bytes) {}
  ~RecyclingOs() override {
    for (auto& [bytes, kept] : kept_) {
      for (std::byte* addr : kept) (void)inner_.unmap(addr, bytes);
    }
  }
  RecyclingOs(const RecyclingOs&) = delete;
  RecyclingOs& operator=(const RecyclingOs&) = delete;

  OsResult<std::byte*> map(std::size_t bytes) override {
    auto kept = kept_.find(bytes);
    if (kept == kept_.end() || kept->second.empty()) {
      OsResult<std::byte*> mapped = inner_.map(bytes);
      if (mapped.ok()) live_[mapped.value()] = bytes;
      return mapped;
    }
    std::byte* addr = kept->second.back();
    kept->second.pop_back();
    kept_bytes_ -= bytes;
    std::memset(addr, 0, bytes);
    live_[addr] = bytes;
    return addr;
  }

  OsStatus unmap(std::byte* addr, std::size_t bytes) override {
    auto live = live_.find(addr);
    if (live == live_.end() || live->second != bytes || kept_bytes_ + bytes > max_kept_bytes_) {
      if (live != live_.end()) live_.erase(live);  // whole or partly gone: not ours to reuse
      return inner_.unmap(addr, bytes);
    }
    live_.erase(live);
    asan::unpoison(addr, bytes);  // like a fresh mapping: every byte addressable
    kept_[bytes].push_back(addr);
    kept_bytes_ += bytes;
    return {};
  }

  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override {
    return inner_.advise(addr, bytes, advice);
  }
  OsResult<MappedFile> map_file(const std::string& path) override { return inner_.map_file(path); }
  OsResult<FileStatus> stat_file(const std::string& path) override { return inner_.stat_file(path); }
  std::size_t page_size() const noexcept override { return inner_.page_size(); }

 private:
  Os& inner_ = LinuxOs::instance();
  const std::size_t max_kept_bytes_;
  std::map<std::byte*, std::size_t> live_;                  // handed out: address → bytes (lookups only)
  std::map<std::size_t, std::vector<std::byte*>> kept_;     // unmapped, by size; last in, first out
  std::size_t kept_bytes_ = 0;
};

}  // namespace segsim::fuzzing
