// Real-thread stress of the SlabAllocator and the TxnArenaManager (run under
// the tsan preset too): threads allocate the seed's object mix, stamp each
// object with an owner token, hand half of them to other threads, which
// verify and free them (remote frees); racing frees of one handle; and
// concurrent transactions with savepoints on one arena manager. At the end
// every thread has exited (flushing its magazines), nothing is live and the
// audits are clean.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/slab_allocator.h"
#include "core/tests/brief_threads.h"
#include "core/tests/scripted_os.h"
#include "core/txn_arena.h"

namespace segsim::testing {
namespace {

constexpr int kThreads = 4;

struct OwnedObject {
  SlabObject object;
  std::uint64_t token;
};

void stamp(std::byte* data, std::size_t bytes, std::uint64_t token) {
  for (std::size_t off = 0; off + sizeof token <= bytes; off += 64) std::memcpy(data + off, &token, sizeof token);
}
bool verify(const std::byte* data, std::size_t bytes, std::uint64_t token) {
  for (std::size_t off = 0; off + sizeof token <= bytes; off += 64) {
    std::uint64_t seen;
    std::memcpy(&seen, data + off, sizeof seen);
    if (seen != token) return false;
  }
  return true;
}

std::unique_ptr<SegmentAllocator> make_segments(ScriptedOs& os) {
  SegmentAllocatorConfig config;
  config.region_bytes = 1 << 20;
  config.budget_bytes = 512 << 20;
  return std::move(SegmentAllocator::create(os, config).value());
}

TEST(SlabStress, CrossThreadFreesAreNeverLost) {
  ScriptedOs os;
  auto segments = make_segments(os);
  SlabAllocatorConfig config;
  config.magazine_capacity.fill(8);  // small magazines: the depot is busy
  auto slab = std::move(SlabAllocator::create(*segments, config).value());
  std::mutex mu;
  std::deque<OwnedObject> handed;
  std::atomic<int> corrupt{0}, refused{0};
  const int rounds = 20000;
  auto worker = [&](int index) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(index) * 7919 + 1);
    std::vector<OwnedObject> mine;
    for (int n = 0; n < rounds; ++n) {
      const std::size_t bytes = 1 + rng() % kSlabLargestObjectBytes;
      auto object = slab->allocate(bytes);
      if (!object.ok()) {
        refused.fetch_add(1);
        continue;
      }
      const std::uint64_t token = (static_cast<std::uint64_t>(index) << 32) | static_cast<std::uint64_t>(n);
      stamp(object->data(), object->size(), token);
      mine.push_back({object.value(), token});
      if (mine.size() > 64 || rng() % 3 == 0) {
        OwnedObject owned = mine[rng() % mine.size()];
        std::swap(owned, mine.back());
        mine.pop_back();
        if (rng() % 2 == 0) {
          std::lock_guard guard(mu);
          handed.push_back(owned);
          continue;
        }
        if (!verify(owned.object.data(), owned.object.size(), owned.token)) corrupt.fetch_add(1);
        if (!slab->free(owned.object).ok()) refused.fetch_add(1);
      }
      OwnedObject remote;
      bool got = false;
      {
        std::lock_guard guard(mu);
        if (!handed.empty()) {
          remote = handed.front();
          handed.pop_front();
          got = true;
        }
      }
      if (got) {
        if (!verify(remote.object.data(), remote.object.size(), remote.token)) corrupt.fetch_add(1);
        if (!slab->free(remote.object).ok()) refused.fetch_add(1);
      }
    }
    for (const OwnedObject& owned : mine) {
      if (!slab->free(owned.object).ok()) refused.fetch_add(1);
    }
  };  // thread exit flushes the thread's magazines
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  for (const OwnedObject& owned : handed) ASSERT_TRUE(slab->free(owned.object).ok());
  EXPECT_EQ(corrupt.load(), 0);
  EXPECT_EQ(refused.load(), 0);
  const SlabStats stats = slab->stats();
  EXPECT_EQ(stats.live_objects(), 0u);
  std::uint64_t remote = 0;
  for (const auto& c : stats.classes) remote += c.remote_frees;
  EXPECT_GT(remote, 0u);
  const auto violations = slab->audit();
  EXPECT_TRUE(violations.empty()) << violations.front();
  slab->flush_all();
  EXPECT_EQ(segments->stats().live_slices(), 0u);
}

TEST(SlabStress, RacingFreesOfOneHandleFreeItOnce) {
  ScriptedOs os;
  auto segments = make_segments(os);
  auto slab = std::move(SlabAllocator::create(*segments).value());
  for (int round = 0; round < 2000; ++round) {
    const SlabObject object = slab->allocate(64 + static_cast<std::size_t>(round % 4000)).value();
    std::atomic<int> ok{0}, doubles{0};
    auto racer = [&] {
      Status freed = slab->free(object);
      (freed.ok() ? ok : doubles).fetch_add(1);
      if (!freed.ok()) {
        EXPECT_EQ(freed.error().code, Errc::DoubleFree);
      }
    };
    std::thread a(racer), b(racer);
    a.join();
    b.join();
    ASSERT_EQ(ok.load(), 1);
    ASSERT_EQ(doubles.load(), 1);
  }
  EXPECT_EQ(slab->stats().live_objects(), 0u);
  EXPECT_EQ(slab->stats().double_frees, 2000u);
}

// Threads that live briefly, while another thread reads stats() in a loop:
// an exiting thread's counts move from its cache to the allocator's retired
// totals, and no snapshot may see them in both places (a count above the
// allocations started) or in neither (a count lower than an earlier one).
TEST(SlabStress, StatsCountEachExitingThreadOnce) {
  ScriptedOs os;
  auto segments = make_segments(os);
  SlabAllocatorConfig config;
  config.magazine_capacity.fill(8);
  auto slab = std::move(SlabAllocator::create(*segments, config).value());
  std::atomic<std::uint64_t> started{0};
  std::atomic<int> refused{0};
  int regressions = 0, overcounts = 0;  // the reader's own
  std::uint64_t last_allocations = 0, last_fast = 0;
  auto read = [&] {
    const SlabStats stats = slab->stats();
    const std::uint64_t bound = started.load();  // every allocation counted had started before this load
    std::uint64_t allocations = 0, fast = 0;
    for (const SlabClassStats& c : stats.classes) {
      allocations += c.allocations;
      fast += c.fast_allocations;
    }
    if (allocations < last_allocations || fast < last_fast) ++regressions;
    if (allocations > bound) ++overcounts;
    last_allocations = allocations;
    last_fast = fast;
  };
  auto brief = [&] {
    for (int n = 0; n < 24; ++n) {
      started.fetch_add(1);
      auto object = slab->allocate(64 + static_cast<std::size_t>(n) * 100);
      if (!object.ok() || !slab->free(object.value()).ok()) refused.fetch_add(1);
    }
  };  // exit: the thread's magazines and counts go to the allocator
  EXPECT_GT(run_brief_threads_while_reading(300, brief, read), 0u);
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(regressions, 0) << "a count went down between two snapshots of one thread";
  EXPECT_EQ(overcounts, 0) << "a snapshot counted more allocations than were started";
  std::uint64_t allocations = 0;
  for (const SlabClassStats& c : slab->stats().classes) allocations += c.allocations;
  EXPECT_EQ(allocations, started.load());
}

TEST(ArenaStress, ConcurrentTransactionsWithSavepoints) {
  ScriptedOs os;
  auto segments = make_segments(os);
  auto arenas = std::move(TxnArenaManager::create(*segments).value());
  std::atomic<int> corrupt{0}, failed{0};
  auto worker = [&](int index) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(index) + 17);
    for (int txn = 0; txn < 300; ++txn) {
      auto root = arenas->begin(static_cast<std::uint64_t>(txn), static_cast<ArenaProfile>(rng() % 3));
      if (!root.ok()) {
        failed.fetch_add(1);
        continue;
      }
      std::vector<std::pair<std::byte*, std::size_t>> objects;
      std::vector<TxnArena*> open{root.value()};
      for (int op = 0; op < 60; ++op) {
        if (rng() % 10 == 0 && open.size() < 4) open.push_back(arenas->begin_child(open.back()->id()).value());
        const std::size_t bytes = 1 + rng() % 3000;
        auto data = open.back()->allocate(bytes);
        if (!data.ok()) continue;  // the profile's limit
        stamp(data.value(), bytes, static_cast<std::uint64_t>(index));
        if (open.size() == 1) objects.emplace_back(data.value(), bytes);
        if (rng() % 15 == 0 && open.size() > 1) {
          if (!(rng() % 2 ? arenas->commit(open.back()->id()) : arenas->rollback(open.back()->id())).ok()) failed.fetch_add(1);
          open.pop_back();
        }
      }
      for (const auto& [data, bytes] : objects) {
        if (!verify(data, bytes, static_cast<std::uint64_t>(index))) corrupt.fetch_add(1);
      }
      while (!open.empty()) {
        if (!arenas->rollback(open.back()->id()).ok()) failed.fetch_add(1);
        open.pop_back();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  EXPECT_EQ(corrupt.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  const auto violations = arenas->audit();
  EXPECT_TRUE(violations.empty()) << violations.front();
  EXPECT_EQ(arenas->stats().live_arenas, 0u);
  EXPECT_EQ(segments->stats().live_slices(), 0u);
}

}  // namespace
}  // namespace segsim::testing
