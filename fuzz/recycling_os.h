// RecyclingOs: the Os of fuzz targets — LinuxOs, except that an unmapped
// anonymous mapping is kept and handed out again, zeroed, by the next map of
// the same size.
//
// Why: a fuzz target builds a fresh allocator per input, and each fresh
// mapping costs an mmap, a page fault per 4 KiB touched and a munmap — far
// more than the input's own work (fuzz_alloc_ops ran ~1,100 inputs/s so).
// A recycled mapping is already resident. Which mapping is reused depends
// only on the sequence of calls (last unmapped, first reused), never on an
// address, and nothing the allocator decides depends on the address it gets.
//
// Zeroing only what was written: a recycled mapping must read zero like a
// fresh one (the allocator skips zeroing fresh slices), but memset of whole
// 256 KiB regions was half of fuzz_alloc_ops' instructions (callgrind), while
// an input touches a few slices of each. So the target tells the Os which
// bytes may have been written — every slice the allocator hands out, through
// SliceObserver below — and a reused mapping is zeroed over that extent only
// (from its first to its last touched byte). An madvise(DONTNEED) of a live
// mapping zeroes that extent within its range too (advise() below). Nothing else writes to the
// mappings: free slices are poisoned, so under ASan (the fuzz presets) a
// write outside every handed-out slice is reported in the input that made it.
// Without ASan such a write would carry into a later input; every
// kVerifyEvery-th reuse therefore checks the whole mapping reads zero and
// aborts naming the harness if not (amortised: 1/kVerifyEvery of a scan).
//
// Partial unmaps and file mappings go to LinuxOs unchanged. Single-threaded
// use per process (libFuzzer runs one input at a time); not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <sys/mman.h>

#include "core/asan.h"
#include "core/forwarding_os.h"
#include "core/linux_os.h"
#include "core/os.h"
#include "core/segment_allocator.h"

namespace segsim::fuzzing {

class RecyclingOs final : public ForwardingOs {
 public:
  // Every this many reuses, the whole reused mapping is checked to read zero.
  static constexpr std::size_t kVerifyEvery = 64;

  // Reports every slice a SegmentAllocator hands out as touched (the
  // allocator's `observer`); must outlive the allocator, as the Os does.
  class SliceObserver final : public SegmentObserver {
   public:
    explicit SliceObserver(RecyclingOs& os) : os_(os) {}
    void handing_out(const Segment& segment) override { os_.touched(segment.data(), segment.size()); }
    void handed_out(const Segment&, bool) override {}
    void released(const Segment&) override {}

   private:
    RecyclingOs& os_;
  };

  // Keeps at most `max_kept_bytes` of unmapped memory for reuse.
  explicit RecyclingOs(std::size_t max_kept_bytes = std::size_t{64} << 20)
      : ForwardingOs(LinuxOs::instance()), max_kept_bytes_(max_kept_bytes) {}
  ~RecyclingOs() override {
    for (auto& [bytes, kept] : kept_) {
      for (const Mapping& mapping : kept) (void)inner().unmap(mapping.addr, bytes);
    }
  }
  RecyclingOs(const RecyclingOs&) = delete;
  RecyclingOs& operator=(const RecyclingOs&) = delete;

  // [addr, addr + bytes) of a mapping handed out by map() may be written
  // from now on. Addresses outside every live mapping are ignored (a file
  // mapping, or memory not from this Os).
  void touched(const std::byte* addr, std::size_t bytes) {
    Live* live = nullptr;
    std::size_t begin = 0;
    if (bytes == 0 || !locate(addr, live, begin)) return;
    const std::size_t end = std::min(live->bytes, begin + bytes);
    if (live->dirty_end == 0) {  // nothing touched yet
      live->dirty_begin = begin;
      live->dirty_end = end;
      return;
    }
    live->dirty_begin = std::min(live->dirty_begin, begin);
    live->dirty_end = std::max(live->dirty_end, end);
  }

  OsResult<std::byte*> map(std::size_t bytes) override {
    auto kept = kept_.find(bytes);
    if (kept == kept_.end() || kept->second.empty()) {
      OsResult<std::byte*> mapped = inner().map(bytes);
      if (mapped.ok()) live_[mapped.value()] = Live{bytes, 0, 0};
      return mapped;
    }
    const Mapping mapping = kept->second.back();
    kept->second.pop_back();
    kept_bytes_ -= bytes;
    zero(mapping.addr + mapping.dirty_begin, mapping.dirty_end - mapping.dirty_begin);
    if (++reuses_ % kVerifyEvery == 0) verify_zero(mapping.addr, bytes);
    live_[mapping.addr] = Live{bytes, 0, 0};
    return mapping.addr;
  }

  OsStatus unmap(std::byte* addr, std::size_t bytes) override {
    auto live = live_.find(addr);
    if (live == live_.end() || live->second.bytes != bytes || kept_bytes_ + bytes > max_kept_bytes_) {
      if (live != live_.end()) live_.erase(live);  // whole or partly gone: not ours to reuse
      return inner().unmap(addr, bytes);
    }
    const Live was = live->second;
    live_.erase(live);
    asan::unpoison(addr, bytes);  // like a fresh mapping: every byte addressable
    kept_[bytes].push_back(Mapping{addr, was.dirty_begin, was.dirty_end});
    kept_bytes_ += bytes;
    return {};
  }

  // DONTNEED on a live anonymous mapping is done as zero() does it: the
  // range reads zero afterwards, as the kernel promises, but its resident
  // pages are memset instead of dropped. A dropped page costs a fault (~2 us
  // here) at its next touch, and the allocator's resets and cleanups drop
  // whole slices and regions the next operation writes again: those faults
  // were about half of both stack targets' time (sys time). Non-resident
  // pages still go to madvise. Unaligned or foreign ranges go to the kernel
  // unchanged (EINVAL stays EINVAL).
  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override {
    if (advice == Advice::DontNeed && bytes != 0 &&
        reinterpret_cast<std::uintptr_t>(addr) % inner().page_size() == 0) {
      Live* live = nullptr;
      std::size_t offset = 0;
      const std::size_t page = inner().page_size();
      const std::size_t rounded = (bytes + page - 1) / page * page;
      if (locate(addr, live, offset) && rounded <= live->bytes - offset) {
        // Only what was handed out since the mapping read zero can be non-zero.
        const std::size_t from = std::max(offset, live->dirty_begin);
        const std::size_t to = std::min(offset + rounded, live->dirty_end);
        if (from < to) zero(addr - offset + from, to - from);
        return {};
      }
    }
    return inner().advise(addr, bytes, advice);
  }

  // How many maps were served from kept mappings (tests).
  std::size_t reuses() const noexcept { return reuses_; }

 private:
  struct Live {
    std::size_t bytes = 0;
    std::size_t dirty_begin = 0;  // touched extent [dirty_begin, dirty_end); empty when dirty_end == 0
    std::size_t dirty_end = 0;
  };
  struct Mapping {
    std::byte* addr = nullptr;
    std::size_t dirty_begin = 0;
    std::size_t dirty_end = 0;
  };

  // memset without ASan's interceptor: advise() zeroes slices the allocator
  // keeps poisoned (free), and the interceptor would report that write.
  static void fill_zero(std::byte* addr, std::size_t bytes) {
#if defined(__x86_64__)
    asm volatile("rep stosb" : "+D"(addr), "+c"(bytes) : "a"(0) : "memory");
#else
    asan::unpoison(addr, bytes);  // not x86-64: a poisoned range loses its poison here
    std::memset(addr, 0, bytes);
#endif
  }

  // Makes [addr, addr + bytes) read zero. A plain memset: since advise()
  // no longer drops pages, a recycled mapping's pages stay resident (a page
  // never touched yet is faulted in once, and stays). It used to ask mincore
  // for the resident runs first — a syscall per reuse, a fifth of
  // fuzz_alloc_ops' time in stack samples.
  static void zero(std::byte* addr, std::size_t bytes) {
    if (bytes != 0) fill_zero(addr, bytes);
  }

  // The live mapping holding `addr` and its offset there; false if none.
  bool locate(const std::byte* addr, Live*& live, std::size_t& offset) {
    auto it = live_.upper_bound(const_cast<std::byte*>(addr));
    if (it == live_.begin()) return false;
    --it;
    offset = static_cast<std::size_t>(addr - it->first);
    if (offset >= it->second.bytes) return false;
    live = &it->second;
    return true;
  }

  // A non-zero byte here was written outside every slice reported touched:
  // the next input would see it, so stop rather than carry state over.
  static void verify_zero(const std::byte* addr, std::size_t bytes) {
    // addr[0] is zero and each byte equals the next: a memcmp-speed scan.
    if (bytes == 0 || (addr[0] == std::byte{0} && std::memcmp(addr, addr + 1, bytes - 1) == 0)) return;
    std::fprintf(stderr,
                 "RecyclingOs: a recycled mapping does not read zero: something wrote outside the slices "
                 "the harness reported touched (fuzz/recycling_os.h)\n");
    std::abort();
  }

  const std::size_t max_kept_bytes_;
  std::map<std::byte*, Live> live_;                     // handed out, by address (lookups only)
  std::map<std::size_t, std::vector<Mapping>> kept_;   // unmapped, by size; last in, first out
  std::size_t kept_bytes_ = 0;
  std::size_t reuses_ = 0;
};

}  // namespace segsim::fuzzing
