// The retire-stats drill: see retire_stats_drill.h.
#include "scenarios/workloads/retire_stats_drill.h"

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/size_class.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/native_thread.h"

namespace segsim::scenarios {

namespace retire_stats_drill {
namespace {

constexpr const char* kDrill = "retire-stats drill";
constexpr int kRounds = 3;
constexpr std::size_t kMaxOwnSlices = 8;     // the thread's own, allocated twice (hits)
constexpr std::size_t kMaxRemoteSlices = 4;  // the caller's, released by the thread (remote)

// A real thread that uses the allocator, then parks until let go; it exits
// (its cache retires) right after. What broke on it, if anything, in `problem`.
class ParkedThread {
 public:
  ParkedThread(SegmentAllocator& allocator, std::size_t slice_bytes, std::size_t own_slices,
               std::vector<Segment> remote)
      : thread_([this, &allocator, slice_bytes, own_slices, remote = std::move(remote)] {
          problem_ = use(allocator, slice_bytes, own_slices, remote);
          std::unique_lock lock(mu_);
          parked_ = true;
          cv_.notify_all();
          cv_.wait(lock, [this] { return go_; });
        }) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return parked_; });
  }
  ParkedThread(const ParkedThread&) = delete;
  ParkedThread& operator=(const ParkedThread&) = delete;
  ~ParkedThread() { exit(); }

  // Read once parked (the constructor waited for it).
  const std::string& problem() const { return problem_; }
  // Lets the thread exit and waits until it is gone (its cache retired).
  void exit() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      go_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  static std::string use(SegmentAllocator& allocator, std::size_t slice_bytes, std::size_t own_slices,
                         const std::vector<Segment>& remote) {
    for (int pass = 0; pass < 2; ++pass) {  // the second pass takes back what the first parked in the cache
      std::vector<Segment> own;
      for (std::size_t i = 0; i < own_slices; ++i) {
        Result<Segment> got = allocator.allocate(slice_bytes);
        if (!got.ok()) return fmt::format("the thread's allocate({}) refused: {}", slice_bytes, got.error().describe());
        own.push_back(got.value());
      }
      for (const Segment& s : own) {
        if (Status released = allocator.release(s); !released.ok()) {
          return "the thread's release of its live slice refused: " + released.error().describe();
        }
      }
    }
    for (const Segment& s : remote) {
      if (Status released = allocator.release(s); !released.ok()) {
        return "the thread's release of the caller's live slice refused: " + released.error().describe();
      }
    }
    return {};
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool parked_ = false;
  bool go_ = false;
  std::string problem_;
  std::thread thread_;  // last: started once the members it uses exist
};

// What changed between two snapshots that a retire must leave alone (the
// cache's counts move to the retired totals; its slices, free, to the pool),
// and the cache count; empty when as due.
std::string retire_changes(const AllocatorStats& before, const AllocatorStats& after, std::size_t c,
                           std::size_t caches_gone) {
  const SizeClassStats& b = before.classes[c];
  const SizeClassStats& a = after.classes[c];
  if (after.cache_hits == before.cache_hits && after.remote_releases == before.remote_releases &&
      after.thread_caches + caches_gone == before.thread_caches && a.live_slices == b.live_slices &&
      a.free_slices == b.free_slices) {
    return {};
  }
  return fmt::format("cache_hits {} → {}, remote_releases {} → {}, thread caches {} → {} ({} due), the class's live "
                     "slices {} → {} and free {} → {}",
                     before.cache_hits, after.cache_hits, before.remote_releases, after.remote_releases,
                     before.thread_caches, after.thread_caches, before.thread_caches - caches_gone, b.live_slices,
                     a.live_slices, b.free_slices, a.free_slices);
}

void round(Stack& stack, ClockedInstance& instance, sim::Rng& rng, int r) {
  SegmentAllocator& allocator = *instance.allocator;
  const EpisodeCalls calls{stack, allocator, kDrill};
  const std::size_t c = rng.below(kSizeClassCount);
  const std::size_t slice_bytes = class_bytes(c);
  std::vector<Segment> remote;
  for (std::size_t n = 1 + rng.below(kMaxRemoteSlices); n > 0; --n) {
    remote.push_back(calls.allocate(slice_bytes, "the caller's slice"));
  }
  const AllocatorStats start = allocator.stats();
  std::string problem;
  bool retired_in_the_window = false;
  AllocatorStats parked, retired;
  {
    ParkedThread thread(allocator, slice_bytes, 1 + rng.below(kMaxOwnSlices), std::move(remote));
    problem = thread.problem();
    if (problem.empty()) {
      std::size_t locks = 0;  // nothing joins or retires during this call
      instance.clock.at_lock([&](const platform::SimTag&) {
        ++locks;
        return false;
      });
      parked = allocator.stats();
      if (constexpr std::size_t kDue = kSizeClassCount + 2; locks != kDue) {
        stack.oracles.fail("stats-locks", fmt::format("{}, round {}: stats() took {} lock(s) while no thread cache "
                                                      "joined or retired; {} were due (each class's once, the "
                                                      "regions' once, the cache registry's once)",
                                                      kDrill, r, locks, kDue));
      }
      instance.clock.at_lock([&](const platform::SimTag&) {
        thread.exit();
        retired_in_the_window = true;
        return true;
      });
      retired = allocator.stats();
      instance.clock.at_lock(nullptr);
    }
  }  // the thread is gone here, whatever happened
  if (!problem.empty()) stack.oracles.fail("exception", fmt::format("{}, round {}: {}", kDrill, r, problem));
  if (!retired_in_the_window) {
    stack.oracles.fail("exception", fmt::format("{}, round {}: stats() took no lock (the window was not walked)",
                                                kDrill, r));
  }
  if (parked.cache_hits <= start.cache_hits || parked.thread_caches != start.thread_caches + 1) {
    stack.oracles.fail("exception", fmt::format("{}, round {}: the parked thread added {} cache hit(s) and {} "
                                                "cache(s); some hits and one cache were its setup's due",
                                                kDrill, r, parked.cache_hits - start.cache_hits,
                                                parked.thread_caches - start.thread_caches));
  }
  if (std::string changed = retire_changes(parked, retired, c, 1); !changed.empty()) {
    stack.oracles.fail("counters-grow",
                       fmt::format("{}, round {}: stats() during which a thread's cache retired (at its first lock) "
                                   "saw {}; the retired cache's counts were due in the totals (a retiring cache is "
                                   "counted once: listed, or in the retired totals)",
                                   kDrill, r, changed));
  }
  if (std::string changed = retire_changes(retired, allocator.stats(), c, 0); !changed.empty()) {
    stack.oracles.fail("counters-grow", fmt::format("{}, round {}: at quiescence after a thread's cache retired, "
                                                    "stats() saw {}; nothing had changed",
                                                    kDrill, r, changed));
  }
}

}  // namespace
}  // namespace retire_stats_drill

void run_retire_stats_drill(Stack& stack, sim::Rng& rng) {
  count_native_thread_episode();
  fault_points::ControllerScope quiet(nullptr);  // no fault point steers the private allocator
  SegmentAllocatorConfig config = clocked_drill_config(rng, kDrillRegionBytes, kDrillBudgetBytes);
  ClockedInstance instance(stack, rng, kDrillReservationBytes, config, "retire-stats drill");
  for (int r = 0; r < retire_stats_drill::kRounds; ++r) retire_stats_drill::round(stack, instance, rng, r);
}

}  // namespace segsim::scenarios
