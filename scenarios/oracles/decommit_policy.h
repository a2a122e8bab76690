// decommit-policy: the large-object allocator decommits when and what its
// header promises (core/large_object_allocator.h, "Lazy decommit"), not
// merely correctly.
//
// A release that decommits on every call, a pass that never runs, or an
// emergency that leaves a just-released range resident returns right results
// to every caller: only memory (or speed) is lost, and no other oracle sees
// it. This model follows a private allocator that only the calling fiber
// uses, with no fault point able to fire, on a clock that moves only when
// the caller sleeps (workloads/manual_clock.h), and predicts each call to
// the nanosecond:
//  * a released range is dirty and idle from the release's now; a fresh
//    span's range, or one decommitted, is clean;
//  * release() runs a lazy decommit pass exactly when
//    decommit_check_interval_ns > 0 and now >= the next check, which is 0
//    for a new allocator (its first release runs one) and now + the interval
//    after each pass; the pass decommits exactly the dirty ranges idle for at
//    least decommit_after_ns (the one just released too, when that is 0);
//  * decommit_idle(min) decommits exactly the dirty ranges idle for at least
//    min and returns their bytes;
//  * StackPressureActions over this allocator alone: gentle_eviction()
//    decommits exactly the ranges decommit_idle() does; aggressive_eviction()
//    and emergency_cleanup() leave no free range of a span that keeps a live
//    object dirty — a range released in the same nanosecond included;
//  * an allocation has to zero (zeroings) exactly when it is zeroed and the
//    range it takes is dirty;
//  * a range that comes back free beside free ones (a release, or a
//    decommitted range whose neighbour was released while the advise ran)
//    coalesces with them: dirty if any part is, idle since its newest part's
//    time — so a later pass leaves it until that part is idle long enough.
// Checked after every call against stats(): decommits, decommitted bytes
// (cumulative and now), zeroings, coalesces, free bytes and ranges, spans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/large_object_allocator.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

class DecommitPolicyModel {
 public:
  // The allocator must be new (no span, every counter 0).
  DecommitPolicyModel(Oracles& oracles, const LargeObjectAllocatorConfig& config);

  enum class Action : std::uint8_t { Gentle, Aggressive, Emergency };

  // allocate() (`zeroed`) or allocate_uninitialized() returned `got` at `now_ns`.
  // Whether the range it took was clean (known zero: a fresh span or decommitted).
  bool allocated(const LargeObject& got, bool zeroed, std::int64_t now_ns, const LargeObjectStats& after);
  // release() of a live object succeeded at `now_ns`.
  void released(const LargeObject& object, std::int64_t now_ns, const LargeObjectStats& after);
  // decommit_idle(min_idle_ns) returned `returned` at `now_ns`.
  void decommitted(std::int64_t min_idle_ns, std::size_t returned, std::int64_t now_ns,
                   const LargeObjectStats& after);
  // decommit_idle(min_idle_ns) began at `now_ns` and returned `returned`;
  // while its advise ran with the lock dropped (the fault point
  // large.decommit.slow), `during` (live) was released at `during_ns`.
  void decommitted_around(std::int64_t min_idle_ns, std::size_t returned, std::int64_t now_ns,
                          const LargeObject& during, std::int64_t during_ns, const LargeObjectStats& after);
  // The StackPressureActions action ran at `now_ns` with only this allocator as a target.
  void acted(Action action, std::int64_t now_ns, const LargeObjectStats& after);

  // For the caller's draws: the next check release() must honour, and the
  // free ranges (when each became idle, whether decommitted).
  std::int64_t next_check_ns() const noexcept { return next_check_ns_; }
  struct FreeRange {
    std::uint32_t span = 0;
    std::size_t offset = 0, bytes = 0;
    std::int64_t idle_since = 0;
    bool clean = false;
  };
  std::vector<FreeRange> free_ranges() const;
  // The smallest free range's bytes (an exact fit for best fit), if any.
  std::optional<std::size_t> smallest_free_bytes() const;

 private:
  using Key = std::pair<std::uint32_t, std::size_t>;  // span, offset
  struct Range {
    std::size_t bytes = 0;
    bool clean = false;
    std::int64_t idle_since = 0;
  };
  struct Pass {
    std::size_t ranges = 0;
    std::size_t bytes = 0;
  };

  // Whether a pass at `now_ns` for `min_idle_ns` decommits `range`: dirty, idle that long.
  static bool due(const Range& range, std::int64_t min_idle_ns, std::int64_t now_ns) {
    return !range.clean && now_ns - range.idle_since >= min_idle_ns;
  }
  // Decommits the model's dirty ranges idle for at least `min_idle_ns`.
  Pass decommit(std::int64_t min_idle_ns, std::int64_t now_ns);
  // `range` at `key` back in the free ranges, merged with free neighbours.
  void insert_coalescing(Key key, Range range);
  // A release at `now_ns` and the lazy pass it runs when due; whether it ran one.
  bool release(const LargeObject& object, std::int64_t now_ns, Pass& pass);
  // The call's decommits (and `returned` bytes, when it returns them) against the prediction.
  void check_pass(const std::string& call, const std::string& promise, const Pass& predicted,
                  std::optional<std::size_t> returned, const LargeObjectStats& after);
  void check(const std::string& call, const LargeObjectStats& after);
  [[noreturn]] void fail(const std::string& call, const std::string& what);

  Oracles& oracles_;
  const LargeObjectAllocatorConfig config_;
  std::map<Key, Range> free_;
  std::map<std::uint32_t, std::size_t> spans_;  // span id → bytes
  std::int64_t next_check_ns_ = 0;              // State::next_decommit_check_ns starts at 0
  std::uint64_t decommits_ = 0, decommitted_bytes_total_ = 0, zeroings_ = 0, coalesces_ = 0;
  std::uint64_t calls_ = 0;
};

}  // namespace segsim::scenarios
