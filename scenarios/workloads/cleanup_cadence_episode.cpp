// The cleanup-cadence episode: see cleanup_cadence_episode.h.
#include "scenarios/workloads/cleanup_cadence_episode.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/size_class.h"
#include "scenarios/oracles/cleanup_cadence.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

// Named: a unity build puts this file beside tcache_churn.cpp's own helpers.
namespace cleanup_cadence_episode {
namespace {

constexpr std::size_t kMaxHeldSlices = 300;
// Each class keeps at most its peak in regions (no growth can unmap below the
// budget), so all classes together stay under kSizeClassCount times this.
constexpr std::size_t kMaxHeldBytes = std::size_t{12} << 20;
constexpr std::size_t kEpisodeBudgetBytes = std::size_t{128} << 20;
constexpr std::uint32_t kMaxPhases = 24;

class Episode {
 public:
  Episode(Stack& stack, sim::Rng& rng, SegmentAllocator& allocator)
      : stack_(stack), rng_(rng), allocator_(allocator), model_(stack.oracles, allocator.config()) {}

  void run() {
    const std::uint32_t phases = 6 + static_cast<std::uint32_t>(rng_.below(kMaxPhases - 6));
    for (std::uint32_t p = 0; p < phases; ++p) {
      const int c = draw_class();
      switch (rng_.below(4)) {
        case 0: batch(c); break;
        case 1: to_the_due_point(c); break;
        case 2: two_due_at_once(c); break;
        default: walk(c); break;
      }
    }
    while (!held_.empty()) release(held_.size() - 1);
    allocator_.wait_for_cleanups();
    const std::vector<std::string> audit = allocator_.audit();
    if (!audit.empty()) {
      stack_.oracles.fail("accounting", fmt::format("cleanup-cadence episode: the allocator audits: {}", audit.front()));
    }
  }

 private:
  // The small classes have many slices per region: the cadence shows there.
  int draw_class() { return static_cast<int>(rng_.chance(0.7) ? rng_.below(3) : rng_.below(kSizeClassCount)); }
  std::size_t held_bytes() const {
    std::size_t bytes = 0;
    for (const Segment& s : held_) bytes += s.size();
    return bytes;
  }
  bool room_for(int c) const {
    return held_.size() < kMaxHeldSlices && held_bytes() + class_bytes(static_cast<std::size_t>(c)) <= kMaxHeldBytes;
  }

  void allocate(int c) {
    if (!room_for(c)) return;
    const std::size_t bytes = class_bytes(static_cast<std::size_t>(c));
    Result<Segment> got = rng_.chance(0.5) ? allocator_.allocate(bytes) : allocator_.allocate_uninitialized(bytes);
    if (!got.ok()) {
      stack_.oracles.fail("cleanup-cadence",
                          fmt::format("cleanup-cadence episode: allocate({}) refused: {}", bytes, got.error().describe()));
    }
    model_.allocated(got.value(), allocator_.stats());
    held_.push_back(got.value());
  }
  Segment take(std::size_t i) {
    const Segment segment = held_[i];
    held_[i] = held_.back();
    held_.pop_back();
    return segment;
  }
  void release_unwaited(const Segment& segment) {
    const Status status = allocator_.release(segment);
    if (!status.ok()) {
      stack_.oracles.fail("cleanup-cadence", fmt::format("cleanup-cadence episode: release of a live handle refused: {}",
                                                         status.error().describe()));
    }
  }
  void release(std::size_t i) {
    const Segment segment = take(i);
    const AllocatorStats before = allocator_.stats();
    release_unwaited(segment);
    allocator_.wait_for_cleanups();  // a cleanup the release started runs now, alone
    model_.released(segment, before, allocator_.stats());
  }
  std::vector<std::size_t> held_of(int c) const {
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < held_.size(); ++i) {
      if (held_[i].size_class() == c) at.push_back(i);
    }
    return at;
  }

  // Up to a few regions' worth of one class out, then back in a drawn order.
  void batch(int c) {
    const std::size_t per_region = allocator_.config().region_bytes / class_bytes(static_cast<std::size_t>(c));
    const std::size_t n = 1 + rng_.below(std::min<std::size_t>(kMaxHeldSlices, 3 * per_region));
    for (std::size_t k = 0; k < n; ++k) allocate(c);
    const bool newest_first = rng_.chance(0.5);
    for (std::vector<std::size_t> at = held_of(c); !at.empty(); at = held_of(c)) {
      release(newest_first ? at.back() : at[rng_.below(at.size())]);
    }
  }
  // Releases aimed at the next due point: one short of it, at it, one past it.
  void to_the_due_point(int c) {
    const std::size_t n = model_.releases_to_next_due(c) + rng_.below(3);
    for (std::size_t k = 0; k < n + 1; ++k) allocate(c);  // room to release n
    std::vector<std::size_t> at = held_of(c);
    for (std::size_t k = 0; k < n && !at.empty(); ++k, at = held_of(c)) release(at[rng_.below(at.size())]);
  }
  // Brings class c to one release short of a due cleanup (false: none will
  // be due, or no room to hold the slices it takes).
  bool one_short_of_due(int c) {
    for (int tries = 0; tries < 4; ++tries) {  // an allocation may map a region: the due point moves
      const std::size_t n = model_.releases_to_next_due(c);
      if (n == 0) return false;
      std::vector<std::size_t> at = held_of(c);
      if (at.size() >= n) {
        for (std::size_t k = 0; k + 1 < n; ++k, at = held_of(c)) release(at[rng_.below(at.size())]);
        return true;
      }
      for (std::size_t k = at.size(); k < n; ++k) allocate(c);
    }
    return false;
  }
  // Two classes' due releases back to back, with no wait between: with
  // cleanup_queue_capacity 1 the second finds the first's cleanup still
  // queued or running, unless it ran meanwhile, and the full queue refuses
  // it. Then each class's next due release must start a cleanup again — a
  // refusal that left its class's guard set would start none.
  void two_due_at_once(int first_class) {
    const int second_class =
        static_cast<int>((static_cast<std::size_t>(first_class) + 1 + rng_.below(kSizeClassCount - 1)) %
                         kSizeClassCount);
    if (!one_short_of_due(first_class) || !one_short_of_due(second_class)) return;
    std::vector<std::size_t> at = held_of(first_class);
    const Segment first = take(at[rng_.below(at.size())]);
    at = held_of(second_class);
    const Segment second = take(at[rng_.below(at.size())]);
    // One snapshot for both: a stats() between would give the first's
    // cleanup a scheduling point to finish in.
    const AllocatorStats before = allocator_.stats();
    release_unwaited(first);
    release_unwaited(second);
    allocator_.wait_for_cleanups();
    model_.released_together(first, second, before, allocator_.stats());
    for (const int c : {first_class, second_class}) {
      if (!one_short_of_due(c)) continue;
      at = held_of(c);
      release(at[rng_.below(at.size())]);
    }
  }
  void walk(int c) {
    const std::uint32_t steps = 10 + static_cast<std::uint32_t>(rng_.below(120));
    for (std::uint32_t s = 0; s < steps; ++s) {
      const std::vector<std::size_t> at = held_of(c);
      if (at.empty() || rng_.chance(0.55)) {
        allocate(c);
      } else {
        release(at[rng_.below(at.size())]);
      }
    }
  }

  Stack& stack_;
  sim::Rng& rng_;
  SegmentAllocator& allocator_;
  CleanupCadenceModel model_;
  std::vector<Segment> held_;
};

}  // namespace
}  // namespace cleanup_cadence_episode

void run_cleanup_cadence_episode(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // the model predicts a cleanup no fault point delays
  auto os = make_episode_os(stack, rng, std::size_t{160} << 20, "cleanup-cadence");
  SegmentAllocatorConfig config;
  config.region_bytes = draw_one<std::size_t>(rng, {std::size_t{256} << 10, std::size_t{1} << 20});
  config.budget_bytes = cleanup_cadence_episode::kEpisodeBudgetBytes;
  config.thread_cache_bytes = 0;  // every release reaches the pool: the cadence counts them all
  config.proactive_cleanup = rng.below(8) != 0;
  config.cleanup_start_free_slices = draw_one<std::size_t>(rng, {0, 1, 2, 5, 17, 64});
  config.cleanup_every_free_slices = draw_one<std::size_t>(rng, {1, 2, 3, 8, 31});
  config.cleanup_queue_capacity = draw_one<std::size_t>(rng, {1, 16});  // 1: one cleanup at a time
  auto allocator = make_episode_allocator(stack, *os, config, "cleanup-cadence");
  cleanup_cadence_episode::Episode episode(stack, rng, *allocator);
  episode.run();
}

}  // namespace segsim::scenarios
