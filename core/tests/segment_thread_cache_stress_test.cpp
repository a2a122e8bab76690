// Real-thread stress of SegmentAllocator's per-thread caches (run under the
// tsan preset too): handles cross threads through shared mailboxes and are
// released remotely, some handles are released by two threads at once (one
// release must win, the other must be a DoubleFree), reclaims run meanwhile,
// and threads exit with full caches. At the end accounting is exact.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/segment_allocator.h"
#include "core/flight_recorder.h"
#include "core/tests/brief_threads.h"
#include "core/tests/failure_log.h"
#include "core/tests/scripted_os.h"
#include "core/units.h"
#include "sim/random.h"

namespace segsim::testing {
namespace {


// A realistic mix: mostly small pages, some large ones.
std::size_t draw_bytes(sim::Rng& rng) {
  constexpr std::size_t kWeights[kSizeClassCount] = {30, 25, 15, 12, 10, 5, 3};
  std::uint64_t pick = rng.below(100);
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    if (pick < kWeights[c]) return 1 + rng.below(class_bytes(c));
    pick -= kWeights[c];
  }
  return kLargestClassBytes;
}

// An allocator with thread caches, in 256 KiB regions.
Result<std::unique_ptr<SegmentAllocator>> create_cached_allocator(ScriptedOs& os) {
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * KiB;
  config.thread_cache_bytes = 256 * KiB;
  return SegmentAllocator::create(os, config);
}

// Handles on their way from the allocating thread to another.
struct Mailbox {
  std::mutex mu;
  std::vector<Segment> segments;
  void put(const Segment& s) {
    std::lock_guard lock(mu);
    segments.push_back(s);
  }
  bool take(Segment& out) {
    std::lock_guard lock(mu);
    if (segments.empty()) return false;
    out = segments.back();
    segments.pop_back();
    return true;
  }
};

struct Counts {
  std::atomic<std::uint64_t> allocated{0}, released{0}, refused_twins{0}, twins{0};
};

void worker(SegmentAllocator& allocator, std::vector<Mailbox>& boxes, int self, int operations,
            Counts& counts, FailureLog& failures) {
  sim::Rng rng(static_cast<std::uint64_t>(self) * 104729 + 3);
  const int threads = static_cast<int>(boxes.size());
  std::vector<Segment> mine;
  auto release = [&](const Segment& s, const char* how) {
    const std::uint64_t stamp = static_cast<std::uint64_t>(s.generation());
    std::uint64_t seen = 0;
    std::memcpy(&seen, s.data(), sizeof seen);
    if (seen != stamp) failures.add(fmt::format("thread {}: {} segment overwritten", self, how));
    Status status = allocator.release(s);
    if (!status.ok()) failures.add(fmt::format("thread {}: {} release: {}", self, how, status.error().describe()));
    counts.released.fetch_add(1, std::memory_order_relaxed);
  };
  for (int op = 0; op < operations; ++op) {
    const std::uint64_t choice = rng.below(100);
    Segment s;
    if (choice < 50 && mine.size() < 48) {
      auto result = allocator.allocate_uninitialized(draw_bytes(rng));
      if (!result.ok()) {
        if (result.error().code != Errc::OutOfBudget) failures.add(result.error().describe());
        continue;
      }
      counts.allocated.fetch_add(1, std::memory_order_relaxed);
      const std::uint64_t stamp = result->generation();
      std::memcpy(result->data(), &stamp, sizeof stamp);
      if (rng.below(100) < 30) {
        const auto other = static_cast<int>(rng.below(static_cast<std::uint64_t>(threads - 1)));
        boxes[static_cast<std::size_t>((self + 1 + other) % threads)].put(*result);
      } else {
        mine.push_back(*result);
      }
    } else if (choice < 75 && boxes[static_cast<std::size_t>(self)].take(s)) {
      release(s, "remote");
    } else if (choice < 97 && !mine.empty()) {
      const std::size_t i = rng.below(mine.size());
      release(mine[i], "own");
      mine[i] = mine.back();
      mine.pop_back();
    } else if (choice < 98) {
      allocator.flush_thread_cache();
    } else if (choice < 99) {
      (void)allocator.free_unused_regions(8 * 256 * KiB);
    } else {
      (void)allocator.release_unused_regions(static_cast<int>(rng.below(kSizeClassCount)));
    }
  }
  for (const Segment& left : mine) release(left, "own");
}

TEST(SegmentThreadCacheStress, RemoteReleasesReclaimsAndThreadExitsKeepAccountingExact) {
  for (int threads : {2, 4}) {
    ScriptedOs os;
    SegmentAllocatorConfig config;
    config.region_bytes = 256 * KiB;
    config.budget_bytes = 64 * 1024 * KiB;
    config.cleanup_start_free_slices = 64;
    config.cleanup_every_free_slices = 16;
    config.thread_cache_bytes = 256 * KiB;
    auto created = SegmentAllocator::create(os, config);
    ASSERT_TRUE(created.ok());
    SegmentAllocator& allocator = *created.value();
    std::vector<Mailbox> boxes(static_cast<std::size_t>(threads));
    Counts counts;
    FailureLog failures;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back(worker, std::ref(allocator), std::ref(boxes), t, 60000 / threads, std::ref(counts),
                        std::ref(failures));
    }
    for (auto& th : pool) th.join();
    // Mail nobody collected is released here (remote for every sender).
    Segment s;
    for (Mailbox& box : boxes) {
      while (box.take(s)) {
        ASSERT_TRUE(allocator.release(s).ok());
        counts.released.fetch_add(1);
      }
    }
    allocator.flush_thread_cache();
    allocator.wait_for_cleanups();
    const std::vector<std::string> failed = failures.take();
    EXPECT_TRUE(failed.empty()) << failed.size() << " failures:\n" << joined(failed);
    EXPECT_EQ(counts.allocated.load(), counts.released.load());
    const AllocatorStats st = allocator.stats();
    EXPECT_EQ(st.live_slices(), 0u);
    EXPECT_EQ(st.cached_slices(), 0u) << "every worker's exit flushed its cache";
    EXPECT_GT(st.remote_releases, 0u);
    EXPECT_GT(st.cache_hits, 0u);
    const std::vector<std::string> violations = allocator.audit();
    EXPECT_TRUE(violations.empty()) << joined(violations);
  }
}

// Threads that live briefly, while another thread reads stats() in a loop:
// an exiting thread's cache hits move to the allocator's retired totals, and
// no snapshot may count them twice (more hits than allocations started) or
// lose them (fewer than an earlier snapshot of the same thread).
TEST(SegmentThreadCacheStress, StatsCountEachExitingThreadOnce) {
  ScriptedOs os;
  auto created = create_cached_allocator(os);
  ASSERT_TRUE(created.ok());
  SegmentAllocator& allocator = *created.value();
  std::atomic<std::uint64_t> started{0};
  std::atomic<int> refused{0};
  int regressions = 0, overcounts = 0;  // the reader's own
  std::uint64_t last_hits = 0;
  auto read = [&] {
    const AllocatorStats stats = allocator.stats();
    const std::uint64_t bound = started.load();  // every hit counted had started before this load
    if (stats.cache_hits < last_hits) ++regressions;
    if (stats.cache_hits > bound) ++overcounts;
    last_hits = stats.cache_hits;
  };
  auto brief = [&] {
    for (int n = 0; n < 24; ++n) {
      started.fetch_add(1);
      auto segment = allocator.allocate_uninitialized(4 * KiB);
      if (!segment.ok() || !allocator.release(segment.value()).ok()) refused.fetch_add(1);
    }
  };  // exit: the thread's cache and its hit count go to the allocator
  EXPECT_GT(run_brief_threads_while_reading(300, brief, read), 0u);
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(regressions, 0) << "cache_hits went down between two snapshots of one thread";
  EXPECT_EQ(overcounts, 0) << "a snapshot counted more cache hits than allocations started";
  const AllocatorStats stats = allocator.stats();
  EXPECT_GT(stats.cache_hits, 0u);
  EXPECT_LE(stats.cache_hits, started.load());
}

// Two threads release the same handle at once, many times: exactly one of
// each pair succeeds, the other is refused as a DoubleFree.
TEST(SegmentThreadCacheStress, RacingReleasesOfOneHandleFreeItOnce) {
  ScriptedOs os;
  auto created = create_cached_allocator(os);
  ASSERT_TRUE(created.ok());
  SegmentAllocator& allocator = *created.value();
  constexpr int kRounds = 2000;
  const flight_recorder::RefusalsExpected on_purpose;  // every round's second release is refused
  std::atomic<int> round{-1};
  std::atomic<int> arrived{0};
  std::vector<Segment> handles(kRounds);
  std::atomic<int> ok{0}, double_free{0}, other{0};
  auto racer = [&] {
    for (int r = 0; r < kRounds; ++r) {
      while (round.load() < r) std::this_thread::yield();
      Status status = allocator.release(handles[static_cast<std::size_t>(r)]);
      if (status.ok()) {
        ++ok;
      } else if (status.error().code == Errc::DoubleFree) {
        ++double_free;
      } else {
        ++other;
      }
      ++arrived;
    }
  };
  std::thread a(racer), b(racer);
  for (int r = 0; r < kRounds; ++r) {
    auto s = allocator.allocate(4 * KiB << (r % 3));
    ASSERT_TRUE(s.ok());
    handles[static_cast<std::size_t>(r)] = *s;
    round.store(r);
    while (arrived.load() < 2 * (r + 1)) std::this_thread::yield();
  }
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), kRounds);
  EXPECT_EQ(double_free.load(), kRounds);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(allocator.stats().double_frees, static_cast<std::uint64_t>(kRounds));
  EXPECT_EQ(allocator.stats().live_slices(), 0u);
  EXPECT_TRUE(allocator.audit().empty());
}

}  // namespace
}  // namespace segsim::testing
