// AllocatorModel: the reference model of a SegmentAllocator, shared by the
// RapidCheck property suite and the libFuzzer target so the oracle is written
// once.
//
// The model knows what the allocator cannot be asked about directly: which
// segments the test holds (by a stable model id, never by address), what each
// must read back, and which released handles are now stale. check() compares
// it with the real allocator and names the first mismatch; callers decide how
// to report it (RC_FAIL, __builtin_trap, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/allocator_stats.h"
#include "core/segment.h"
#include "core/segment_allocator.h"
#include "core/tests/scripted_os.h"

namespace segsim::model {

// What a live segment must read back.
enum class Contents : std::uint8_t {
  Zero,     // fresh from allocate() or reset()
  Fill,     // every byte equals LiveSegment::fill
  Unknown,  // fresh from allocate_uninitialized(): anything goes
};

struct LiveSegment {
  std::uint64_t id = 0;  // stable across runs (allocation order), for messages
  Segment segment;
  std::size_t requested_bytes = 0;
  Contents contents = Contents::Zero;
  std::byte fill{0};
};

// How much of each live segment check() reads.
enum class Scan : std::uint8_t {
  EveryByte,
  // The first and last byte and one per 4 KiB page: a wrong memset, madvise
  // or overlapping write shows at page granularity, for 1/4096 of the cost
  // (the fuzzer checks after every operation, then scans every byte at the end).
  EveryPage,
};

class AllocatorModel {
 public:
  // Released handles kept for double-release attempts; older ones are dropped.
  static constexpr std::size_t kMaxStaleHandles = 8;

  // Room for this many live segments up front: the fuzz target builds a model
  // per input, and growing the vector by doubling was five ASan mallocs each.
  static constexpr std::size_t kReservedLive = 64;
  AllocatorModel() { live_.reserve(kReservedLive); }

  // Records a segment the allocator just handed out for `requested_bytes`.
  void allocated(const Segment& segment, std::size_t requested_bytes, bool zeroed);
  // Forgets live segment `index` (after a successful release) and keeps its
  // handle as stale. Returns the handle.
  Segment released(std::size_t index);
  // Live segment `index` was reset: it must read zero now.
  void reset(std::size_t index);
  // Writes `fill` over every byte of live segment `index` and expects it back.
  void write(std::size_t index, std::byte fill);

  const std::vector<LiveSegment>& live() const noexcept { return live_; }
  const std::deque<Segment>& stale() const noexcept { return stale_; }
  std::size_t live_in_class(int size_class) const;

  // Every live segment reads back its contents (as much as `scan` reads):
  // the first mismatch, or nullopt. Part of check(); alone, it is the check
  // the fuzz target runs after every operation — here, in property/, its
  // loops stay out of the fuzzers' coverage instrumentation
  // (fuzz/coverage_ignorelist.txt), which cost a quarter of fuzz_alloc_ops'
  // time when the target looped over the bytes itself.
  std::optional<std::string> check_contents(Scan scan) const;

  // Every live segment reads back its contents, lookup() finds it, it has the
  // class of its request, no two overlap, per-class live counts match
  // stats(), and audit() is clean. Call with the allocator quiescent
  // (wait_for_cleanups()). The first mismatch, or nullopt.
  std::optional<std::string> check(const SegmentAllocator& allocator,
                                   Scan scan = Scan::EveryByte) const;

 private:
  std::vector<LiveSegment> live_;  // allocation order; erasing keeps indices stable for the rest
  std::deque<Segment> stale_;
  std::uint64_t next_id_ = 1;
};

// The accounting a refused call (DoubleFree, OutOfBudget, ...) must leave as it
// was: virtual bytes, mappings, and each class's live/free/region counts.
// A description of the first difference, or nullopt.
std::optional<std::string> compare_accounting(const AllocatorStats& before,
                                              const AllocatorStats& after);

// Every Os call the allocator made through `os` is counted in `stats`: each
// success (regions mapped / unmapped, madvise resets + regions released) and
// each injected failure. Holds only while the allocator is the sole user of
// `os` and has not been destroyed. The first difference, or nullopt.
std::optional<std::string> check_os_accounting(const AllocatorStats& stats,
                                               const testing::ScriptedOs& os);

}  // namespace segsim::model
