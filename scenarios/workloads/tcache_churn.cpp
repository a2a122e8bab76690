// tcache-churn — SegmentAllocator's per-thread caches under the simulator:
// fibers (each a thread with its own cache) allocate a mix of classes, hand
// segments to each other through mailboxes and release them remotely, flush,
// exit with full caches (helper fibers, some without flushing), release stale
// handles whose slices sit in a cache (DoubleFree, exactly), and reclaim
// regions (free_unused_regions / release_unused_regions must empty every
// fiber's cache). The cache size and the cleanup thresholds are drawn per seed.
// At quiescence a reclaim leaves no slice cached and the audit is exact; then
// the cache-policy episode checks when a cache must take and give slices.
#include <cstring>

#include <fmt/format.h>

#include "core/platform/mutex.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/cache_policy_episode.h"
#include "scenarios/workloads/cleanup_cadence_episode.h"
#include "scenarios/workloads/cleanup_throw_drill.h"
#include "scenarios/workloads/forced_growth_drill.h"
#include "scenarios/workloads/grant_race_drill.h"
#include "scenarios/workloads/growth_flush_drill.h"
#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/release_race_drill.h"
#include "scenarios/workloads/budget_refusal_drill.h"
#include "scenarios/workloads/retire_stats_drill.h"
#include "scenarios/workloads/swarm.h"
#include "scenarios/workloads/teardown_drill.h"
#include "scenarios/workloads/unmap_order_drill.h"
#include "scenarios/workloads/zeroing_due_drill.h"

namespace segsim::scenarios {

namespace {

constexpr std::size_t kMaxHeld = 16;   // live segments a fiber holds at most
constexpr std::size_t kMaxStale = 8;   // released handles kept for double frees
constexpr std::uint32_t kOpsPerSize = 120;

enum Op : std::size_t {
  kAllocate, kReleaseOwn, kGiveAway, kReleaseRemote, kReleaseStale, kFlush, kFreeUnused, kReleaseUnused,
  kStats, kHelper, kOpCount
};

struct Held {
  Segment segment;
  std::uint8_t fill = 0;
};

// What the fibers share: one mailbox per client (segments handed over).
struct Mailboxes {
  std::vector<std::vector<Held>> boxes;
};

Mailboxes& mailboxes(Stack& stack) { return *static_cast<Mailboxes*>(stack.scenario_state.get()); }

void verify(Stack& stack, const Held& held) {
  const std::byte* data = held.segment.data();
  for (std::size_t off = 0; off < held.segment.size(); off += 512) {
    if (data[off] != std::byte{held.fill}) {
      stack.oracles.fail("content", fmt::format("a {}-byte segment reads {:#04x} at byte {}; {:#04x} was due",
                                                held.segment.size(), static_cast<unsigned>(data[off]), off,
                                                held.fill),
                         data);
    }
  }
}

class Worker {
 public:
  Worker(Stack& stack, sim::Rng rng, std::uint32_t box) : stack_(stack), rng_(rng), box_(box) {}

  void run(const OpMix& mix, std::uint32_t ops, bool may_spawn);
  // Fiber exit: its segments back (or handed over), its cache flushed or not.
  void exit(bool flush) {
    for (const Held& held : held_) release(held);
    held_.clear();
    if (flush) stack_.allocator.flush_thread_cache();
  }

 private:
  void allocate() {
    if (held_.size() >= kMaxHeld) return;
    const bool zero = rng_.chance(0.5);
    Result<Segment> segment = checked_allocate(stack_, draw_allocation_bytes(rng_, kLargestClassBytes), zero);
    if (!segment) return;  // refused as the oracles allow (checked there)
    const auto fill = static_cast<std::uint8_t>(1 + rng_.below(255));
    std::memset(segment->data(), fill, segment->size());
    held_.push_back({segment.value(), fill});
  }
  void release(const Held& held) {
    verify(stack_, held);
    checked_release(stack_, held.segment);
    stale_.push_back(held.segment);
    if (stale_.size() > kMaxStale) stale_.erase(stale_.begin());
  }
  void release_own() {
    if (held_.empty()) return;
    const std::size_t i = rng_.below(held_.size());
    release(held_[i]);
    held_[i] = held_.back();
    held_.pop_back();
  }
  void give_away() {
    if (held_.empty()) return;
    auto& boxes = mailboxes(stack_).boxes;
    boxes[rng_.below(boxes.size())].push_back(held_.back());
    held_.pop_back();
  }
  void release_remote() {
    auto& box = mailboxes(stack_).boxes[box_];
    if (box.empty()) return;
    const Held held = box.back();
    box.pop_back();
    release(held);  // often allocated by another fiber: a remote release
  }
  void release_stale() {
    if (stale_.empty()) return;
    const Segment& stale = stale_[rng_.below(stale_.size())];
    stack_.oracles.expect_refusal(Errc::DoubleFree);
    const Status status = stack_.allocator.release(stale);
    if (!status) check_error_text(stack_.oracles, status.error());
    stack_.oracles.check_refusal("release of a stale handle", status, Errc::DoubleFree, stale.data());
  }
  void stats() {
    const std::uint64_t events = stack_.oracles.slice_events();
    const AllocatorStats stats = stack_.allocator.stats();
    stack_.oracles.check_resident_estimate(stats);
    stack_.oracles.check_counters_grow(last_stats_, stats);
    last_stats_ = stats;
    if (events != stack_.oracles.slice_events()) return;  // others changed it meanwhile
    if (stats.live_slices() != stack_.oracles.model_live_slices()) {
      stack_.oracles.fail("accounting", fmt::format("stats() reports {} live slices ({} cached), the model holds {}",
                                                    stats.live_slices(), stats.cached_slices(),
                                                    stack_.oracles.model_live_slices()));
    }
    for (const SizeClassStats& c : stats.classes) {
      if (c.cached_slices > c.free_slices) {
        stack_.oracles.fail("accounting", fmt::format("class {} KiB: {} cached slices but {} free", c.slice_bytes / 1024,
                                                      c.cached_slices, c.free_slices));
      }
    }
  }
  void spawn_helper(const OpMix& mix);

  Stack& stack_;
  sim::Rng rng_;
  std::uint32_t box_;
  std::vector<Held> held_;
  std::vector<Segment> stale_;
  AllocatorStats last_stats_{};  // this worker's last stats() snapshot
};

// A helper fiber: works a little, hands its segments over, exits — with a
// full cache half the time (a later reclaim must still find it).
void Worker::spawn_helper(const OpMix& mix) {
  struct Done {
    platform::Mutex mu;
    platform::CondVar cv;
    bool done = false;
  };
  auto done = std::make_shared<Done>();
  const std::uint64_t seed = rng_.next();
  const std::uint32_t box = box_;
  Stack& stack = stack_;
  stack.simulation.spawn("tcache-helper", [&stack, mix, done, seed, box] {
    Worker helper(stack, sim::Rng(seed), box);
    helper.run(mix, 24, false);
    while (!helper.held_.empty()) helper.give_away();
    helper.exit(helper.rng_.chance(0.5));
    platform::LockGuard guard(done->mu);
    done->done = true;
    done->cv.notify_all();
  });
  platform::UniqueLock lock(done->mu);
  done->cv.wait(lock, [&] { return done->done; });
}

void Worker::run(const OpMix& mix, std::uint32_t ops, bool may_spawn) {
  for (std::uint32_t n = 0; n < ops; ++n) {
    switch (static_cast<Op>(mix.pick(rng_))) {
      case kAllocate: allocate(); break;
      case kReleaseOwn: release_own(); break;
      case kGiveAway: give_away(); break;
      case kReleaseRemote: release_remote(); break;
      case kReleaseStale: release_stale(); break;
      case kFlush: stack_.allocator.flush_thread_cache(); break;
      case kFreeUnused:
        tracked_free_unused_regions(stack_, draw_one<std::size_t>(rng_, {0, stack_.allocator.config().budget_bytes / 2}));
        break;
      case kReleaseUnused: tracked_release_unused_regions(stack_, static_cast<int>(rng_.below(kSizeClassCount))); break;
      case kStats: stats(); break;
      case kHelper:
        if (may_spawn) spawn_helper(mix);
        break;
      case kOpCount: break;
    }
    stack_.oracles.check_cheap();
  }
}

// Quiescent: leftovers in the mailboxes are released (remote), then a reclaim
// must leave no slice in any fiber's cache, helpers' that exited unflushed too.
void finish(Stack& stack) {
  Worker conductor(stack, stack.simulation.stream("workload.tcache-churn.finish"), 0);
  for (auto& box : mailboxes(stack).boxes) {
    while (!box.empty()) {
      verify(stack, box.back());
      checked_release(stack, box.back().segment);
      box.pop_back();
    }
  }
  (void)tracked_free_unused_regions(stack, 0);
  const AllocatorStats stats = stack.allocator.stats();
  if (stats.cached_slices() != 0) {
    stack.oracles.fail("accounting", fmt::format("after free_unused_regions(0) at quiescence {} slice(s) stay "
                                                 "cached in {} fiber cache(s)",
                                                 stats.cached_slices(), stats.thread_caches));
  }
  stack.scenario_state.reset();
  sim::Rng episode_rng = stack.simulation.stream("workload.tcache-churn.cache-policy");
  run_cache_policy_episode(stack, episode_rng);
  // The pool's proactive cleanup: when it starts and what it frees (cleanup_cadence_episode.h).
  sim::Rng cadence_rng = stack.simulation.stream("workload.tcache-churn.cleanup-cadence");
  run_cleanup_cadence_episode(stack, cadence_rng);
  // A hit release whose cache's grant another thread took meanwhile (grant_race_drill.h).
  sim::Rng grant_rng = stack.simulation.stream("workload.tcache-churn.grant-race");
  run_grant_race_drill(stack, grant_rng);
  // A class grows only after the caches gave their free slices of it back (growth_flush_drill.h).
  sim::Rng growth_rng = stack.simulation.stream("workload.tcache-churn.growth-flush");
  run_growth_flush_drill(stack, growth_rng);
  // A forced slow path grows a class that has free slices, or the pool serves (forced_growth_drill.h).
  sim::Rng forced_rng = stack.simulation.stream("workload.tcache-churn.forced-growth");
  run_forced_growth_drill(stack, forced_rng);
  // A zeroed allocation zeroes only the slices that may be dirty (zeroing_due_drill.h).
  sim::Rng zeroing_rng = stack.simulation.stream("workload.tcache-churn.zeroing-due");
  run_zeroing_due_drill(stack, zeroing_rng);
  // The allocator's destructor lets a cleanup in flight finish first (teardown_drill.h).
  sim::Rng teardown_rng = stack.simulation.stream("workload.tcache-churn.teardown");
  run_teardown_drill(stack, teardown_rng);
  // free_unused_regions unmaps the freed queue first (unmap_order_drill.h).
  sim::Rng unmap_rng = stack.simulation.stream("workload.tcache-churn.unmap-order");
  run_unmap_order_drill(stack, unmap_rng);
  // A cleanup that ended by a throw finished, and the next one starts (cleanup_throw_drill.h).
  sim::Rng throw_rng = stack.simulation.stream("workload.tcache-churn.cleanup-throw");
  run_cleanup_throw_drill(stack, throw_rng);
  // A thread's cache that retires during stats() is counted once (retire_stats_drill.h).
  sim::Rng retire_rng = stack.simulation.stream("workload.tcache-churn.retire-stats");
  run_retire_stats_drill(stack, retire_rng);
  // Two threads release one handle at once: one is refused (release_race_drill.h).
  sim::Rng release_rng = stack.simulation.stream("workload.tcache-churn.release-race");
  run_release_race_drill(stack, release_rng);
  // A lone refusal over budget makes one pass (budget_refusal_drill.h).
  sim::Rng budget_rng = stack.simulation.stream("workload.tcache-churn.budget-refusal");
  run_budget_refusal_drill(stack, budget_rng);
}

}  // namespace

ScenarioDef tcache_churn_scenario() {
  ScenarioDef def;
  def.info = {"tcache-churn",
              "fibers churn SegmentAllocator's per-thread caches: remote releases through mailboxes, stale handles "
              "of cached slices, flushes, fiber exits with full caches, reclaims that must empty every cache",
              4, 1};
  def.configure = [](SegmentAllocatorConfig& allocator, PageCacheConfig&, std::uint32_t, std::uint32_t) {
    allocator.region_bytes = 256 * 1024;
    allocator.budget_bytes = 24 * allocator.region_bytes;
  };
  def.configure_seeded = [](SegmentAllocatorConfig& allocator, PageCacheConfig&, std::uint64_t seed) {
    sim::Rng rng(sim::derive_seed(seed, "config.tcache-churn"));
    allocator.thread_cache_bytes = draw_one<std::size_t>(rng, {4096, 64 * 1024, 256 * 1024, 1024 * 1024});
    allocator.proactive_cleanup = rng.chance(0.5);  // off: every OutOfBudget is judged necessary or not
    allocator.cleanup_start_free_slices = draw_one<std::size_t>(rng, {0, 8, 64});
    allocator.cleanup_every_free_slices = draw_one<std::size_t>(rng, {1, 4, 32});
    // The limit on all caches together: the smallest (one largest slice) and
    // 1 MiB make fibers' releases and refills pass it; 8 MiB is the default.
    // Drawn last: the draws above stay what they were for every seed.
    allocator.thread_caches_max_bytes = draw_one<std::size_t>(rng, {256 * 1024, 1024 * 1024, 8 * 1024 * 1024});
  };
  def.prepare = [](Stack& stack) {
    auto boxes = std::make_shared<Mailboxes>();
    boxes->boxes.resize(stack.threads);
    stack.scenario_state = boxes;
  };
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng mix_rng = stack.simulation.stream("workload.tcache-churn.mix");
    const OpMix mix(mix_rng, kOpCount, {kAllocate, kReleaseOwn, kGiveAway, kReleaseRemote});
    Worker worker(stack, stack.simulation.stream(fmt::format("workload.tcache-churn.{}", index)), index);
    worker.run(mix, kOpsPerSize * stack.size, true);
    worker.exit(true);
  };
  def.info.native_threads = true;  // the cleanup-throw and retire-stats drills (finish, every seed)
  def.finish = finish;
  return def;
}

}  // namespace segsim::scenarios
