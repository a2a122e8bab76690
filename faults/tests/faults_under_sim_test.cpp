// The memory stack under each fault kind, in simulation (SimOs + FaultyOs)
// and with real threads (FaultyOs over LinuxOs): every refusal is a clear
// error, no slice is lost, accounting stays exact, fresh segments read zero.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <unistd.h>

#include "core/linux_os.h"
#include "core/platform/clock.h"
#include "core/segment_allocator.h"
#include "core/units.h"
#include "faults/fault_injector.h"
#include "faults/faulty_os.h"
#include "faults/sim_os.h"
#include "sim/simulation.h"
#include "sim/tests/sim_test_util.h"

namespace segsim::faults {
namespace {


bool all_zero(const Segment& s) {
  for (std::size_t i = 0; i < s.size(); i += 512) {
    if (s.data()[i] != std::byte{0}) return false;
  }
  return s.data()[s.size() - 1] == std::byte{0};
}

struct RunOutcome {
  sim::RunResult result;
  FaultCounts counts;
  AllocatorStats stats;
  std::vector<std::string> violations;
  std::size_t sim_os_virtual_bytes = 0;
};

// Allocator on FaultyOs(SimOs) under a simulation with `spec`; three client
// fibers and proactive cleanups; clients free regions now and then.
RunOutcome run_with_faults(const std::string& spec, std::uint64_t seed) {
  auto plan = make_fault_plan(spec, seed);
  SEGSIM_ASSERT(plan.ok(), "test fault spec");
  FaultInjector injector(plan.value(), seed);
  SimOsConfig os_config;
  os_config.reservation_bytes = std::size_t{256} << 20;
  os_config.seed = seed;
  auto sim_os = SimOs::create(os_config);
  SEGSIM_ASSERT(sim_os.ok(), "SimOs");
  FaultyOs os(*sim_os.value(), injector);
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * KiB;
  config.budget_bytes = 4 * 1024 * KiB;
  config.cleanup_start_free_slices = 8;
  config.cleanup_every_free_slices = 4;
  config.reset_madvise_min_bytes = 16 * KiB;  // zeroing by madvise, so madvise faults matter
  // One slice per class per cache: the caches (on by default) stay in the
  // program, and releases still spill to the pool often enough to start
  // cleanups (async tasks, so async faults fire).
  config.thread_cache_bytes = 4 * KiB;
  auto allocator = std::move(SegmentAllocator::create(os, config).value());

  sim::SimulationConfig sim_config;
  sim_config.seed = seed;
  sim_config.async_start_delay = [&injector] { return injector.async_start_delay(); };
  RunOutcome outcome;
  {
    fault_points::ControllerScope points(&injector);
    sim::Simulation simulation(sim_config);
    for (std::uint32_t f = 0; f < 3; ++f) {
      simulation.spawn("client", [&, f] {
        sim::Rng rng = simulation.stream("workload." + std::to_string(f));
        std::vector<std::pair<Segment, unsigned char>> live;
        for (int op = 0; op < 40; ++op) {
          const std::uint64_t choice = rng.below(100);
          if (choice < 50 && live.size() < 10) {
            auto s = allocator->allocate(1 + rng.below(class_bytes(rng.below(5))));
            if (!s.ok()) {
              const Errc code = s.error().code;
              if (code != Errc::OutOfMemory && code != Errc::OutOfBudget) {
                throw std::runtime_error("unexpected: " + s.error().describe());
              }
              continue;
            }
            if (!all_zero(s.value())) throw std::runtime_error("fresh segment not zero");
            const auto fill = static_cast<unsigned char>(1 + rng.below(250));
            std::memset(s->data(), fill, s->size());
            live.emplace_back(s.value(), fill);
          } else if (choice < 90 && !live.empty()) {
            const std::size_t i = rng.below(live.size());
            const Segment& s = live[i].first;
            if (s.data()[s.size() / 2] != std::byte{live[i].second}) throw std::runtime_error("lost bytes");
            if (!allocator->release(s).ok()) throw std::runtime_error("release refused");
            live[i] = live.back();
            live.pop_back();
          } else if (choice < 95) {
            allocator->free_unused_regions(0);
          } else if (!live.empty()) {
            Status reset = allocator->reset(live.back().first);
            if (!reset.ok()) throw std::runtime_error("reset refused");
            if (!all_zero(live.back().first)) throw std::runtime_error("reset not zero");
            live.back().second = 0;
          }
        }
        for (auto& [s, fill] : live) {
          if (!allocator->release(s).ok()) throw std::runtime_error("final release refused");
        }
      });
    }
    outcome.result = simulation.run();
  }
  allocator->wait_for_cleanups();
  outcome.counts = injector.counts();
  outcome.stats = allocator->stats();
  outcome.violations = allocator->audit();
  outcome.sim_os_virtual_bytes = sim_os.value()->stats().virtual_bytes;
  return outcome;
}

class EveryFaultKind : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryFaultKind, StackKeepsItsPromises) {
  std::uint64_t injected = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    RunOutcome outcome = run_with_faults(GetParam(), seed);
    ASSERT_TRUE(outcome.result.passed()) << GetParam() << " seed " << seed << ": " << outcome.result.message;
    ASSERT_EQ(outcome.stats.live_slices(), 0u) << "seed " << seed;
    ASSERT_TRUE(outcome.violations.empty()) << "seed " << seed << ": " << outcome.violations.front();
    // The allocator's view of virtual memory is the OS's.
    ASSERT_EQ(outcome.stats.virtual_bytes, outcome.sim_os_virtual_bytes) << "seed " << seed;
    injected += outcome.counts.injected();
  }
  if (std::string(GetParam()) != "none") {
    EXPECT_GT(injected, 0u) << "the plan never fired";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Specs, EveryFaultKind,
    ::testing::Values("none", "mmap:ENOMEM@p=0.3", "madvise:EAGAIN@p=0.5", "madvise:EINVAL@after=3",
                      "munmap:ENOMEM@p=0.5", "async:delay@p=0.5", "async:reorder",
                      "point:*@p=0.3", "swarm"),
    [](const auto& info) {
      std::string name;
      for (char c : std::string(info.param)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

TEST(FaultDeterminism, SameSeedAndSpecSameHash) {
  for (const char* spec : {"swarm", "mmap:ENOMEM@p=0.3,madvise:EAGAIN@p=0.2,async:reorder"}) {
    for (std::uint64_t seed : {5, 6}) {
      EXPECT_EQ(run_with_faults(spec, seed).result.trace_hash, run_with_faults(spec, seed).result.trace_hash)
          << spec << " " << seed;
    }
  }
  EXPECT_NE(run_with_faults("swarm", 5).result.trace_hash, run_with_faults("swarm", 6).result.trace_hash);
}

TEST(FaultDeterminismChild, PrintHashes) {
  if (std::getenv("SEGSIM_FAULTS_CHILD") == nullptr) GTEST_SKIP() << "child-process helper";
  for (std::uint64_t seed : {3, 9}) sim::testing::print_child_hash(seed, run_with_faults("swarm", seed).result.trace_hash);
}

TEST(FaultDeterminism, SameSeedAndSpecSameHashAcrossProcesses) {
  const auto hashes = sim::testing::child_process_hashes("SEGSIM_FAULTS_CHILD", "FaultDeterminismChild.PrintHashes");
  ASSERT_EQ(hashes.size(), 2u) << "the child process did not report its hashes";
  for (const auto& [seed, hash] : hashes) {
    EXPECT_EQ(hash, run_with_faults("swarm", seed).result.trace_hash) << "seed " << seed;
  }
}

TEST(FaultyOsRealThreads, StressWithInjectedFailures) {
  auto plan = parse_fault_plan("mmap:ENOMEM@p=0.2,madvise:EAGAIN@p=0.3,munmap:ENOMEM@p=0.3");
  ASSERT_TRUE(plan.ok());
  FaultInjector injector(plan.value(), 99);
  FaultyOs os(LinuxOs::instance(), injector);
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * KiB;
  config.budget_bytes = 8 * 1024 * KiB;
  config.cleanup_start_free_slices = 16;
  config.cleanup_every_free_slices = 4;
  config.reset_madvise_min_bytes = 8 * KiB;
  auto allocator = std::move(SegmentAllocator::create(os, config).value());
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      sim::Rng rng(static_cast<std::uint64_t>(t) + 1);
      std::vector<Segment> live;
      for (int op = 0; op < 3000; ++op) {
        if (live.size() < 16 && rng.chance(0.55)) {
          auto s = allocator->allocate(1 + rng.below(class_bytes(rng.below(4))));
          if (!s.ok()) {
            if (s.error().code != Errc::OutOfMemory && s.error().code != Errc::OutOfBudget) ++errors;
            continue;
          }
          if (!all_zero(s.value())) ++errors;
          std::memset(s->data(), 0xab, 64);
          live.push_back(s.value());
        } else if (!live.empty()) {
          if (!allocator->release(live.back()).ok()) ++errors;
          live.pop_back();
          if (rng.chance(0.02)) allocator->free_unused_regions(config.budget_bytes / 2);
        }
      }
      for (const Segment& s : live) {
        if (!allocator->release(s).ok()) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  allocator->wait_for_cleanups();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
  std::vector<std::string> violations = allocator->audit();
  EXPECT_TRUE(violations.empty()) << violations.front();
  EXPECT_GT(injector.counts().injected(), 0u);
}

}  // namespace
}  // namespace segsim::faults
