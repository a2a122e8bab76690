// The real SegmentAllocator, unmodified, under the simulator: four fibers
// allocate, stamp, verify and release across classes while the proactive
// cleanup (threshold lowered) runs as async fibers between their releases.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/linux_os.h"
#include "core/segment_allocator.h"
#include "core/units.h"
#include "sim/tests/sim_test_util.h"

namespace segsim::sim {
namespace {


struct Workload {
  std::unique_ptr<SegmentAllocator> allocator;
};

std::unique_ptr<SegmentAllocator> make_allocator() {
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * KiB;
  config.budget_bytes = 8 * 1024 * KiB;
  config.cleanup_start_free_slices = 8;
  config.cleanup_every_free_slices = 4;
  // One slice per class per cache: the caches (on by default) stay in the
  // program, and releases still spill to the pool often enough to cross the
  // cleanup thresholds (with 256 KiB per class they rarely did).
  config.thread_cache_bytes = 4 * KiB;
  auto created = SegmentAllocator::create(LinuxOs::instance(), config);
  SEGSIM_ASSERT(created.ok(), "allocator config");
  return std::move(created.value());
}

void stamp(const Segment& s, std::uint64_t token) {
  std::memcpy(s.data(), &token, sizeof token);
  std::memcpy(s.data() + s.size() - sizeof token, &token, sizeof token);
}
bool stamped(const Segment& s, std::uint64_t token) {
  std::uint64_t head, tail;
  std::memcpy(&head, s.data(), sizeof head);
  std::memcpy(&tail, s.data() + s.size() - sizeof tail, sizeof tail);
  return head == token && tail == token;
}

void allocator_program(Simulation& s, SegmentAllocator& allocator) {
  for (std::uint32_t f = 0; f < 4; ++f) {
    s.spawn("client", [&allocator, &s, f] {
      Rng rng = s.stream("workload." + std::to_string(f));
      std::vector<std::pair<Segment, std::uint64_t>> live;
      for (int op = 0; op < 60; ++op) {
        if (live.size() < 12 && (live.empty() || rng.chance(0.55))) {
          auto segment = allocator.allocate(1 + rng.below(class_bytes(rng.below(4))));
          if (!segment.ok()) {
            if (segment.error().code == Errc::OutOfBudget) continue;
            throw std::runtime_error(segment.error().describe());
          }
          if (segment->data()[0] != std::byte{0}) throw std::runtime_error("not zeroed");
          const std::uint64_t token = (std::uint64_t{f} << 32) | static_cast<std::uint64_t>(op);
          stamp(segment.value(), token);
          live.emplace_back(segment.value(), token);
        } else {
          const std::size_t i = rng.below(live.size());
          if (!stamped(live[i].first, live[i].second)) throw std::runtime_error("overwritten");
          Status released = allocator.release(live[i].first);
          if (!released.ok()) throw std::runtime_error(released.error().describe());
          live[i] = live.back();
          live.pop_back();
        }
      }
      for (auto& [segment, token] : live) {
        if (!stamped(segment, token)) throw std::runtime_error("overwritten at end");
        if (!allocator.release(segment).ok()) throw std::runtime_error("release at end");
      }
    });
  }
}

TEST(AllocatorUnderSimulation, AccountingExactAcrossSeeds) {
  std::uint64_t cleanups = 0, released_regions = 0;
  for (const char* strategy : {"random", "pct"}) {
    for (std::uint64_t seed = 1; seed <= testing::scaled_seeds(500); ++seed) {
      auto allocator = make_allocator();
      SimulationConfig config;
      config.seed = seed;
      config.strategy = strategy;
      config.pct_estimated_steps = 3000;
      RunResult result = testing::run_program(
          config, [&](Simulation& s) { allocator_program(s, *allocator); });
      ASSERT_TRUE(result.passed()) << strategy << " seed " << seed << ": " << result.message;
      allocator->wait_for_cleanups();
      AllocatorStats stats = allocator->stats();
      ASSERT_EQ(stats.live_slices(), 0u) << strategy << " seed " << seed;
      ASSERT_EQ(stats.cleanups_started(), stats.cleanups_finished());
      std::vector<std::string> violations = allocator->audit();
      ASSERT_TRUE(violations.empty()) << strategy << " seed " << seed << ": " << violations.front();
      cleanups += stats.cleanups_started();
      released_regions += stats.regions_released;
    }
  }
  std::printf("  %llu seeds: %llu async cleanups ran as fibers, %llu regions released\n",
              static_cast<unsigned long long>(2 * testing::scaled_seeds(500)),
              static_cast<unsigned long long>(cleanups),
              static_cast<unsigned long long>(released_regions));
  EXPECT_GT(cleanups, 10u);  // the cleanup really interleaved with the clients
  EXPECT_GT(released_regions, 0u);
}

TEST(AllocatorUnderSimulation, SameSeedSameTraceHash) {
  auto run_once = [](std::uint64_t seed) {
    auto allocator = make_allocator();
    SimulationConfig config;
    config.seed = seed;
    RunResult result = testing::run_program(
        config, [&](Simulation& s) { allocator_program(s, *allocator); });
    EXPECT_TRUE(result.passed()) << result.message;
    return result.trace_hash;
  };
  for (std::uint64_t seed : {3, 17, 2024}) EXPECT_EQ(run_once(seed), run_once(seed));
}

// Two fibers release the same handle (the caller's double free, racing):
// under every schedule exactly one release succeeds and the other is refused
// as a double free, with the accounting exact — also when both passed the
// cached release's generation check before either reached its scheduling
// point, so the loser's compare-exchange fails after it (the hit path then
// finishes on the locked path, segment_fast_path.h).
TEST(AllocatorUnderSimulation, RacingReleasesOfOneHandleAreOneReleaseAndOneDoubleFree) {
  for (std::uint64_t seed = 1; seed <= testing::scaled_seeds(200); ++seed) {
    auto allocator = make_allocator();
    int ok = 0, double_frees = 0, other = 0;
    SimulationConfig config;
    config.seed = seed;
    RunResult result = testing::run_program(config, [&](Simulation& s) {
      s.spawn("owner", [&] {
        // Warm this fiber's cache, so the next allocation is a cached hit.
        auto warm = allocator->allocate(4 * KiB);
        if (!warm.ok() || !allocator->release(warm.value()).ok()) throw std::runtime_error("warm-up");
        auto segment = allocator->allocate(4 * KiB);
        if (!segment.ok()) throw std::runtime_error(segment.error().describe());
        const Segment handle = segment.value();
        for (int f = 0; f < 2; ++f) {
          s.spawn("releaser", [&, handle] {
            // Each releaser's cache exists, with room and grant for the
            // class, so its release of the handle is a cached one.
            auto own = allocator->allocate(4 * KiB);
            if (!own.ok()) throw std::runtime_error("own");
            Status released = allocator->release(handle);
            if (!allocator->release(own.value()).ok()) throw std::runtime_error("own release");
            if (released.ok()) {
              ++ok;
            } else if (released.error().code == Errc::DoubleFree) {
              ++double_frees;
            } else {
              ++other;
            }
          });
        }
      });
    });
    ASSERT_TRUE(result.passed()) << "seed " << seed << ": " << result.message;
    ASSERT_EQ(ok, 1) << "seed " << seed;
    ASSERT_EQ(double_frees, 1) << "seed " << seed;
    ASSERT_EQ(other, 0) << "seed " << seed;
    AllocatorStats stats = allocator->stats();
    ASSERT_EQ(stats.live_slices(), 0u) << "seed " << seed;
    std::vector<std::string> violations = allocator->audit();
    ASSERT_TRUE(violations.empty()) << "seed " << seed << ": " << violations.front();
    ASSERT_EQ(stats.double_frees, 1u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace segsim::sim
