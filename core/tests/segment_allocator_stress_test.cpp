// Real-thread stress of the SegmentAllocator (run under the tsan preset too):
// T threads allocate across classes, write a pattern unique to the owner,
// verify it, release — with proactive cleanups and budget pressure running
// concurrently. At the end accounting is exact and live segments never overlapped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/segment_allocator.h"
#include "core/tests/failure_log.h"
#include "core/tests/scripted_os.h"
// Header-only and dependency-free: the simulator's seeded streams.
#include "core/units.h"
#include "sim/random.h"

namespace segsim::testing {
namespace {


struct Owned {
  Segment segment;
  std::uint64_t token;
};

// Writes `token` at a stride through the segment: cheap even under TSan, and
// any overlap with another live segment breaks someone's verification.
constexpr std::size_t kStrideBytes = 1024;
void stamp(const Segment& s, std::uint64_t token) {
  for (std::size_t off = 0; off + sizeof token <= s.size(); off += kStrideBytes) {
    std::memcpy(s.data() + off, &token, sizeof token);
  }
}
bool verify(const Segment& s, std::uint64_t token) {
  for (std::size_t off = 0; off + sizeof token <= s.size(); off += kStrideBytes) {
    std::uint64_t seen;
    std::memcpy(&seen, s.data() + off, sizeof seen);
    if (seen != token) return false;
  }
  return true;
}
bool zero_at_stride(const Segment& s) {
  for (std::size_t off = 0; off < s.size(); off += kStrideBytes / 2) {
    if (s.data()[off] != std::byte{0}) return false;
  }
  return true;
}

struct StressParams {
  int threads;
  int operations_per_thread;
  std::size_t max_live_per_thread;
};

class AllocatorStress : public ::testing::TestWithParam<StressParams> {};

TEST_P(AllocatorStress, ConcurrentChurnKeepsAccountingExact) {
  const StressParams params = GetParam();
  ScriptedOs os;
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * KiB;
  config.budget_bytes = 32 * 1024 * KiB;  // tight: budget-driven unmapping happens too
  config.cleanup_start_free_slices = 32;
  config.cleanup_every_free_slices = 8;
  auto created = SegmentAllocator::create(os, config);
  ASSERT_TRUE(created.ok());
  SegmentAllocator& allocator = *created.value();

  FailureLog failures;
  std::atomic<std::uint64_t> out_of_budget{0};
  auto worker = [&](int thread_index) {
    sim::Rng rng(static_cast<std::uint64_t>(thread_index) * 7919 + 1);
    std::vector<Owned> live;
    std::vector<Segment> released;  // stale handles, re-released to test double-free safety
    std::uint64_t next_token = (static_cast<std::uint64_t>(thread_index) << 40) | 1;
    for (int op = 0; op < params.operations_per_thread; ++op) {
      const std::uint64_t choice = rng.below(100);
      if (choice < 55 && live.size() < params.max_live_per_thread) {
        const std::size_t bytes = 1 + rng.below(class_bytes(rng.below(kSizeClassCount)));
        auto segment = allocator.allocate(bytes);
        if (!segment.ok()) {
          if (segment.error().code != Errc::OutOfBudget) {
            failures.add(fmt::format("thread {} op {}: allocate({}): {}", thread_index, op, bytes,
                                     segment.error().describe()));
          }
          ++out_of_budget;
          continue;
        }
        if (!zero_at_stride(segment.value())) {
          failures.add(fmt::format("thread {} op {}: a fresh {}-byte segment is not zero", thread_index, op,
                                   segment->size()));
        }
        const std::uint64_t token = next_token++;
        stamp(segment.value(), token);
        live.push_back({segment.value(), token});
      } else if (choice < 95 && !live.empty()) {
        const std::size_t i = rng.below(live.size());
        if (!verify(live[i].segment, live[i].token)) {
          failures.add(fmt::format("thread {} op {}: token {:#x} overwritten", thread_index, op, live[i].token));
        }
        Status released_now = allocator.release(live[i].segment);
        if (!released_now.ok()) {
          failures.add(fmt::format("thread {} op {}: release: {}", thread_index, op, released_now.error().describe()));
        }
        released.push_back(live[i].segment);
        live[i] = live.back();
        live.pop_back();
      } else if (!released.empty()) {
        const Segment stale = released[rng.below(released.size())];
        Status again = allocator.release(stale);
        if (again.ok() || again.error().code != Errc::DoubleFree) {
          failures.add(fmt::format("thread {} op {}: a stale release was {}", thread_index, op,
                                   again.ok() ? "accepted" : again.error().describe()));
        }
        if (released.size() > 64) released.erase(released.begin(), released.begin() + 32);
      }
    }
    for (const Owned& owned : live) {
      if (!verify(owned.segment, owned.token)) {
        failures.add(fmt::format("thread {} at the end: token {:#x} overwritten", thread_index, owned.token));
      }
      Status released_now = allocator.release(owned.segment);
      if (!released_now.ok()) {
        failures.add(fmt::format("thread {} at the end: release: {}", thread_index, released_now.error().describe()));
      }
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < params.threads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  allocator.wait_for_cleanups();

  const std::vector<std::string> failed = failures.take();
  EXPECT_TRUE(failed.empty()) << failed.size() << " failures:\n" << joined(failed);
  AllocatorStats st = allocator.stats();
  EXPECT_EQ(st.live_slices(), 0u);
  EXPECT_LE(st.peak_virtual_bytes, config.budget_bytes);
  EXPECT_EQ(st.cleanups_started(), st.cleanups_finished());
  std::vector<std::string> violations = allocator.audit();
  EXPECT_TRUE(violations.empty()) << joined(violations);
  EXPECT_EQ(st.regions_mapped - st.regions_unmapped, st.virtual_bytes / config.region_bytes);
  ::testing::Test::RecordProperty("cleanups_started", static_cast<int>(st.cleanups_started()));
  ::testing::Test::RecordProperty("regions_reused", static_cast<int>(st.regions_reused));
}

INSTANTIATE_TEST_SUITE_P(Threads, AllocatorStress,
                         ::testing::Values(StressParams{2, 80000, 64}, StressParams{4, 40000, 96},
                                           StressParams{8, 16000, 48}));

// All threads hold their segments at once; the main thread checks no two overlap.
TEST(AllocatorStressOverlap, SimultaneouslyLiveSegmentsAreDisjoint) {
  ScriptedOs os;
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * KiB;
  config.budget_bytes = 64 * 1024 * KiB;
  auto created = SegmentAllocator::create(os, config);
  ASSERT_TRUE(created.ok());
  SegmentAllocator& allocator = *created.value();
  constexpr int kThreads = 4;
  std::vector<std::vector<Segment>> held(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        auto s = allocator.allocate(class_bytes(static_cast<std::size_t>(i + t) % 5));
        if (s.ok()) held[t].push_back(s.value());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<std::pair<const std::byte*, const std::byte*>> ranges;
  for (const auto& segments : held) {
    for (const Segment& s : segments) ranges.emplace_back(s.data(), s.data() + s.size());
  }
  EXPECT_EQ(ranges.size(), 1200u);
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    ASSERT_LE(ranges[i - 1].second, ranges[i].first) << "overlap at " << i;
  }
  EXPECT_EQ(allocator.stats().live_slices(), 1200u);
  for (const auto& segments : held) {
    for (const Segment& s : segments) EXPECT_TRUE(allocator.release(s).ok());
  }
  EXPECT_TRUE(allocator.audit().empty());
}

}  // namespace
}  // namespace segsim::testing
