// The private instances a policy episode drives (cache-policy, magazine-policy,
// cleanup-cadence): a SimOs of its own and a SegmentAllocator over it, so the
// run's own stack, its Os ledger and its oracles are untouched. A setup that
// fails is the harness's fault, reported as "exception" naming the episode.
// The caller holds a fault_points::ControllerScope(nullptr) around its use:
// no fault point may steer what the episode's model predicts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

#include "core/segment_allocator.h"
#include "core/platform/runtime.h"
#include "faults/sim_os.h"
#include "scenarios/stack.h"
#include "scenarios/workloads/manual_clock.h"
#include "sim/random.h"

namespace segsim::scenarios {

// A drill's instance: small regions, so one call's effect on the region count
// is plain to see, and a budget of a few of them (a drill may choose another).
inline constexpr std::size_t kDrillRegionBytes = std::size_t{256} << 10;
inline constexpr std::size_t kDrillBudgetBytes = 16 * kDrillRegionBytes;
inline constexpr std::size_t kDrillReservationBytes = std::size_t{16} << 20;

// A SimOs reserving `reservation_bytes`, seeded from `rng`.
std::unique_ptr<faults::SimOs> make_episode_os(Stack& stack, sim::Rng& rng, std::size_t reservation_bytes,
                                               std::string_view episode);

// A SegmentAllocator over `os` with `config` (which must be valid).
std::unique_ptr<SegmentAllocator> make_episode_allocator(Stack& stack, faults::SimOs& os,
                                                         const SegmentAllocatorConfig& config,
                                                         std::string_view episode);

// A private SegmentAllocator over its own SimOs, both living inside a
// ManualClock installed on the caller: for drills that act as several
// threads (ManualClock::act_as_thread) and run another thread's calls at a
// scheduling point (at_next_atomic). The clock's broken disciplines fail the
// run as "exception". Members are destroyed allocator first, clock last.
struct ClockedInstance {
  ClockedInstance(Stack& stack, sim::Rng& rng, std::size_t reservation_bytes, const SegmentAllocatorConfig& config,
                  std::string_view episode);

  ManualClock clock;
  platform::RuntimeScope on_the_clock;
  std::unique_ptr<faults::SimOs> os;
  std::unique_ptr<SegmentAllocator> allocator;
};

// A ClockedInstance's config for a drill: regions of `region_bytes`, a
// budget of `budget_bytes`, a thread cache of a size drawn from `rng` (4 KiB
// to 1 MiB), and no proactive cleanup (its task would be a spawn, which the
// clock refuses). The caches' limit is the drill's to set.
SegmentAllocatorConfig clocked_drill_config(sim::Rng& rng, std::size_t region_bytes, std::size_t budget_bytes);

// Flushes the caches of `threads` (ManualClock thread keys), each as that
// thread, in order: the clock is left acting as the last.
void flush_caches_as(ManualClock& clock, SegmentAllocator& allocator, std::initializer_list<std::uint32_t> threads);

// Calls on an episode's allocator that must not be refused (the episode set
// it up so): a refusal fails the run as the harness's fault, naming the
// episode and `what`.
struct EpisodeCalls {
  Stack& stack;
  SegmentAllocator& allocator;
  std::string_view episode;

  Segment allocate(std::size_t bytes, std::string_view what) const;
  void release(const Segment& segment, std::string_view what) const;
};

// Segments of one size held from a private allocator to spend its budget
// (the segment-refusal drills): filled until the allocator refuses, so that
// exactly what is given back can be taken again. Releases through
// EpisodeCalls; a premise broken is "exception" naming the drill.
class BudgetFiller {
 public:
  BudgetFiller(Stack& stack, SegmentAllocator& allocator, std::size_t segment_bytes, std::string_view drill);

  // Takes segments until the allocator refuses: exactly `count` must come
  // (at most count + 1 are asked for).
  void take(std::size_t count, std::string_view phase);
  void give_back(std::size_t count);
  std::size_t held() const noexcept { return held_.size(); }

 private:
  Stack& stack_;
  const EpisodeCalls calls_;
  const std::size_t segment_bytes_;
  std::vector<Segment> held_;
};

}  // namespace segsim::scenarios
