// The cleanup-throw drill: see cleanup_throw_drill.h.
#include "scenarios/workloads/cleanup_throw_drill.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/forwarding_os.h"
#include "core/size_class.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/native_thread.h"

namespace segsim::scenarios {

namespace {

constexpr const char* kDrill = "cleanup-throw drill";
// How long the drill waits for a cleanup on the worker thread (real time:
// a cleanup of one region takes microseconds; the bound only ends a hang).
constexpr int kMaxWaitMs = 10000;

// The drill's Os: SimOs, except that its first DontNeed advise throws.
class ThrowingAdviseOs final : public ForwardingOs {
 public:
  using ForwardingOs::ForwardingOs;
  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override {
    if (advice == Advice::DontNeed && !thrown_.exchange(true)) throw std::bad_alloc();
    return ForwardingOs::advise(addr, bytes, advice);
  }

 private:
  std::atomic<bool> thrown_{false};
};

// On the drill's thread: one region of class `c` filled and released whole,
// then the cleanup that starts waited for. An empty string, or what broke.
std::string fill_release_and_wait(SegmentAllocator& allocator, int c, std::uint64_t cleanups_due,
                                  const char* which) {
  const std::size_t slice_bytes = class_bytes(static_cast<std::size_t>(c));
  std::vector<Segment> region;
  for (std::size_t i = 0; i < kDrillRegionBytes / slice_bytes; ++i) {
    Result<Segment> got = allocator.allocate(slice_bytes);
    if (!got.ok()) return fmt::format("{}: allocate({}) refused: {}", which, slice_bytes, got.error().describe());
    region.push_back(got.value());
  }
  for (const Segment& s : region) {
    if (Status released = allocator.release(s); !released.ok()) {
      return fmt::format("{}: the release of a live slice refused: {}", which, released.error().describe());
    }
  }
  AllocatorStats stats = allocator.stats();
  if (stats.cleanups_started() != cleanups_due) {
    return fmt::format("{}: releasing a whole region of {} B slices left {} cleanup(s) started; {} were due (a "
                       "cleanup that ended by a throw must not keep the next one from starting)",
                       which, slice_bytes, stats.cleanups_started(), cleanups_due);
  }
  for (int waited_ms = 0; stats.cleanups_finished() != cleanups_due; ++waited_ms) {
    if (waited_ms == kMaxWaitMs) {
      return fmt::format("{}: {} of {} cleanup(s) finished after {} ms (a cleanup that ended by a throw must count "
                         "as finished)",
                         which, stats.cleanups_finished(), cleanups_due, kMaxWaitMs);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    stats = allocator.stats();
  }
  return {};
}

}  // namespace

void run_cleanup_throw_drill(Stack& stack, sim::Rng& rng) {
  count_native_thread_episode();
  fault_points::ControllerScope quiet(nullptr);  // no fault point steers the private allocator
  auto sim_os = make_episode_os(stack, rng, kDrillReservationBytes, kDrill);
  ThrowingAdviseOs os(*sim_os);
  const int c = static_cast<int>(rng.below(3));  // classes with many slices a region
  SegmentAllocatorConfig config;
  config.region_bytes = kDrillRegionBytes;
  config.budget_bytes = kDrillBudgetBytes;
  config.thread_cache_bytes = 0;  // every release reaches the pool
  config.cleanup_start_free_slices = 0;
  config.cleanup_every_free_slices = kDrillRegionBytes / class_bytes(static_cast<std::size_t>(c));
  auto created = SegmentAllocator::create(os, config);
  if (!created.ok()) stack.oracles.fail("exception", fmt::format("{}: allocator: {}", kDrill, created.error().describe()));
  std::unique_ptr<SegmentAllocator> allocator = std::move(created.value());
  std::string problem;
  std::thread([&] {
    problem = [&]() -> std::string {
      if (std::string broke = fill_release_and_wait(*allocator, c, 1, "the first region's cleanup (its advise throws)");
          !broke.empty()) {
        return broke;
      }
      const AllocatorStats after_throw = allocator->stats();
      if (after_throw.classes[static_cast<std::size_t>(c)].freed_regions != 1 || after_throw.regions_released != 0) {
        return fmt::format("a cleanup whose advise threw left {} region(s) of its class in the freed queue and {} "
                           "released; its one region, resident, was due in the queue",
                           after_throw.classes[static_cast<std::size_t>(c)].freed_regions,
                           after_throw.regions_released);
      }
      if (std::string broke = fill_release_and_wait(*allocator, c, 2, "the region taken back from the freed queue");
          !broke.empty()) {
        return broke;
      }
      if (const std::uint64_t released = allocator->stats().regions_released; released != 1) {
        return fmt::format("the cleanup after the one that threw released {} region(s); its one all-free region "
                           "was due", released);
      }
      return {};
    }();
    // Destroyed on this thread too: its executor's worker is a real thread,
    // which a fiber's shutdown could not wake.
    allocator.reset();
  }).join();
  if (!problem.empty()) stack.oracles.fail("cleanup-cadence", fmt::format("{}: {}", kDrill, problem));
}

}  // namespace segsim::scenarios
