// SegmentAllocator's per-thread caches: hits, exact refusals of cached and
// stale handles, accounting of cached slices, flushes (explicit, thread exit,
// reclaim) and remote releases. Real-thread races: segment_thread_cache_stress_test.cpp.
#include <thread>

#include "core/tests/allocator_fixture.h"

namespace segsim::testing {
namespace {

class SegmentThreadCache : public AllocatorTest {
 protected:
  static SegmentAllocatorConfig cached_config() {
    SegmentAllocatorConfig config = small_config();
    config.thread_cache_bytes = 256 * KiB;
    return config;
  }
  void SetUp() override { make(cached_config()); }
};

TEST_F(SegmentThreadCache, AReleasedSliceServesTheNextAllocationOfItsClass) {
  Segment first = must_allocate(64 * KiB);
  ASSERT_TRUE(allocator->release(first).ok());
  const AllocatorStats before = allocator->stats();
  Segment second = must_allocate(64 * KiB);
  const AllocatorStats after = allocator->stats();
  EXPECT_EQ(second.data(), first.data());
  EXPECT_NE(second.generation(), first.generation());
  EXPECT_EQ(after.cache_hits, before.cache_hits + 1);
  EXPECT_EQ(after.cache_refills, before.cache_refills);
  EXPECT_TRUE(all_equal(second, 0));  // allocate() still zeroes a used slice
  EXPECT_TRUE(allocator->release(second).ok());
}

TEST_F(SegmentThreadCache, ReleasingACachedSliceAgainIsADoubleFree) {
  Segment s = must_allocate(4 * KiB);
  ASSERT_TRUE(allocator->release(s).ok());
  ASSERT_GE(allocator->stats().classes[0].cached_slices, 1u);
  const AllocatorStats before = allocator->stats();
  Status again = allocator->release(s);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::DoubleFree);
  EXPECT_EQ(again.error().detail, std::string("slice is free"));
  const AllocatorStats after = allocator->stats();
  EXPECT_EQ(after.double_frees, before.double_frees + 1);
  EXPECT_EQ(after.classes[0].cached_slices, before.classes[0].cached_slices);
  EXPECT_EQ(after.classes[0].free_slices, before.classes[0].free_slices);
}

TEST_F(SegmentThreadCache, AStaleHandleOfAReusedSliceIsRefusedAndTheOwnerKeepsIt) {
  Segment old_handle = must_allocate(16 * KiB);
  ASSERT_TRUE(allocator->release(old_handle).ok());
  Segment reused = must_allocate(16 * KiB);
  ASSERT_EQ(reused.data(), old_handle.data());
  fill(reused, 0x5a);
  Status stale = allocator->release(old_handle);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::DoubleFree);
  EXPECT_EQ(stale.error().live_generation, reused.generation());
  EXPECT_TRUE(all_equal(reused, 0x5a));
  EXPECT_EQ(allocator->stats().live_slices(), 1u);
  EXPECT_TRUE(allocator->release(reused).ok());
}

TEST_F(SegmentThreadCache, CachedSlicesAreFreeNotLiveAndTheAuditCountsThem) {
  std::vector<Segment> held;
  for (int i = 0; i < 6; ++i) held.push_back(must_allocate(32 * KiB));
  for (const Segment& s : held) ASSERT_TRUE(allocator->release(s).ok());
  const AllocatorStats stats = allocator->stats();
  const SizeClassStats& c32 = stats.classes[static_cast<std::size_t>(class_of(32 * KiB))];
  EXPECT_EQ(c32.live_slices, 0u);
  // Capacity 256 KiB / 32 KiB = 8; fresh slices are refilled one at a time.
  EXPECT_EQ(c32.cached_slices, 6u);
  EXPECT_EQ(c32.free_slices, 256 * KiB / (32 * KiB));  // one region, every slice free
  EXPECT_TRUE(allocator->audit().empty());
  allocator->flush_thread_cache();
  EXPECT_EQ(allocator->stats().cached_slices(), 0u);
  EXPECT_EQ(allocator->stats().classes[static_cast<std::size_t>(class_of(32 * KiB))].free_slices, 8u);
}

TEST_F(SegmentThreadCache, AFullCacheSendsItsOlderHalfBackToThePool) {
  // 64 KiB: capacity 256 KiB / 64 KiB = 4 slices; regions of 256 KiB hold 4.
  std::vector<Segment> held;
  for (int i = 0; i < 8; ++i) held.push_back(must_allocate(64 * KiB));
  for (const Segment& s : held) ASSERT_TRUE(allocator->release(s).ok());
  const SizeClassStats c64 = allocator->stats().classes[static_cast<std::size_t>(class_of(64 * KiB))];
  EXPECT_LE(c64.cached_slices, 4u);
  EXPECT_GE(c64.cached_slices, 2u);
  EXPECT_EQ(c64.free_slices, 8u);
  EXPECT_EQ(c64.live_slices, 0u);
}

TEST_F(SegmentThreadCache, RefilledFreshSlicesStillSkipTheZeroing) {
  const AllocatorStats before = allocator->stats();
  Segment a = must_allocate(8 * KiB);  // a refill: one fresh slice, handed out at once
  Segment b = must_allocate(8 * KiB);
  const AllocatorStats after = allocator->stats();
  EXPECT_EQ(after.resets_memset, before.resets_memset);
  EXPECT_EQ(after.cache_hits - before.cache_hits, 2u);
  EXPECT_EQ(after.cache_refills - before.cache_refills, 2u);
  EXPECT_EQ(after.resident_estimate_bytes, 2 * 8 * KiB);  // a cached fresh slice is not resident
  EXPECT_TRUE(allocator->release(a).ok());
  EXPECT_TRUE(allocator->release(b).ok());
  // Flushed unused fresh slices go back still known zero: no memset later.
  allocator->flush_thread_cache();
  EXPECT_TRUE(allocator->audit().empty());
}

TEST_F(SegmentThreadCache, UsedSlicesRefillInBatchesOfHalfTheCapacity) {
  std::vector<Segment> held;
  for (int i = 0; i < 64; ++i) held.push_back(must_allocate(4 * KiB));  // a whole region, fresh
  for (const Segment& s : held) ASSERT_TRUE(allocator->release(s).ok());  // cache keeps <= 32
  allocator->flush_thread_cache();
  const AllocatorStats before = allocator->stats();
  held.clear();
  for (int i = 0; i < 16; ++i) held.push_back(must_allocate(4 * KiB));
  const AllocatorStats after = allocator->stats();
  EXPECT_EQ(after.cache_refills - before.cache_refills, 1u);  // 16 = capacity 32 / 2
  EXPECT_EQ(after.cache_hits - before.cache_hits, 16u);
  EXPECT_EQ(after.resets_memset - before.resets_memset, 16u);  // used slices are zeroed
  for (const Segment& s : held) ASSERT_TRUE(allocator->release(s).ok());
}

TEST_F(SegmentThreadCache, SpillsCrossingTheThresholdStartCleanupsThatEmptyTheCache) {
  SegmentAllocatorConfig config = cached_config();
  config.cleanup_start_free_slices = 4;
  config.cleanup_every_free_slices = 2;
  make(config);
  std::vector<Segment> held;
  for (int i = 0; i < 64; ++i) held.push_back(must_allocate(4 * KiB));
  for (const Segment& s : held) ASSERT_TRUE(allocator->release(s).ok());
  allocator->wait_for_cleanups();
  allocator->flush_thread_cache();  // the last spill may have found a cleanup running
  allocator->wait_for_cleanups();
  const AllocatorStats st = allocator->stats();
  EXPECT_GT(st.classes[0].cleanups_started, 0u);
  EXPECT_EQ(st.classes[0].cleanups_finished, st.classes[0].cleanups_started);
  EXPECT_EQ(st.regions_released, 1u);  // the region, whole again once the cache was flushed
  EXPECT_EQ(st.classes[0].freed_regions, 1u);
  EXPECT_EQ(st.cached_slices(), 0u);
}

TEST_F(SegmentThreadCache, ARemoteReleaseJoinsTheReleasingThreadsCacheUntilItExits) {
  Segment s = must_allocate(128 * KiB);
  const AllocatorStats before = allocator->stats();
  std::size_t cached_while_alive = 0;
  std::thread([&] {
    ASSERT_TRUE(allocator->release(s).ok());
    cached_while_alive = allocator->stats().cached_slices();
  }).join();
  const AllocatorStats after = allocator->stats();
  EXPECT_EQ(after.remote_releases, before.remote_releases + 1);
  EXPECT_GE(cached_while_alive, 1u);
  // The other thread's exit flushed its cache; this thread's refill remains.
  EXPECT_EQ(after.cache_flushes, before.cache_flushes + 1);
  EXPECT_EQ(after.thread_caches, 1u);
  EXPECT_EQ(after.live_slices(), 0u);
  EXPECT_TRUE(allocator->audit().empty());
}

TEST_F(SegmentThreadCache, FreeUnusedRegionsReclaimsWhatTheCallersCacheHeld) {
  Segment s = must_allocate(256 * KiB);
  ASSERT_TRUE(allocator->release(s).ok());
  ASSERT_EQ(allocator->stats().cached_slices(), 1u);
  EXPECT_EQ(allocator->free_unused_regions(0), 1u);
  EXPECT_EQ(allocator->stats().virtual_bytes, 0u);
  EXPECT_EQ(allocator->stats().cached_slices(), 0u);
}

TEST_F(SegmentThreadCache, AnotherThreadsCacheFlushesAtItsNextCallAfterAReclaim) {
  std::atomic<int> phase{0};
  std::thread worker([&] {
    Segment s = must_allocate(256 * KiB);
    ASSERT_TRUE(allocator->release(s).ok());  // cached by the worker
    phase = 1;
    while (phase.load() != 2) std::this_thread::yield();
    Segment t = must_allocate(4 * KiB);  // its next call: flushes first
    ASSERT_TRUE(allocator->release(t).ok());
    phase = 3;
    while (phase.load() != 4) std::this_thread::yield();
  });
  while (phase.load() != 1) std::this_thread::yield();
  EXPECT_EQ(allocator->free_unused_regions(0), 0u);  // the worker's cache holds the region
  phase = 2;
  while (phase.load() != 3) std::this_thread::yield();
  EXPECT_EQ(allocator->stats().classes[kSizeClassCount - 1].cached_slices, 0u);
  EXPECT_EQ(allocator->free_unused_regions(0), 1u);  // the 256 KiB region (4 KiB's stays cached)
  phase = 4;
  worker.join();
}

TEST_F(SegmentThreadCache, ZeroCacheBytesTurnsTheCachesOff) {
  SegmentAllocatorConfig config = cached_config();
  config.thread_cache_bytes = 0;
  make(config);
  Segment s = must_allocate(64 * KiB);
  ASSERT_TRUE(allocator->release(s).ok());
  const AllocatorStats stats = allocator->stats();
  EXPECT_EQ(stats.cached_slices(), 0u);
  EXPECT_EQ(stats.cache_hits, 0u);
  EXPECT_EQ(stats.thread_caches, 0u);
}

TEST_F(SegmentThreadCache, ReleasesPastTheLimitOnAllCachesGoToThePool) {
  SegmentAllocatorConfig config = cached_config();
  config.thread_caches_max_bytes = 256 * KiB;  // one largest slice for every thread together
  make(config);
  Segment kept = must_allocate(256 * KiB);
  Segment other = must_allocate(256 * KiB);
  ASSERT_TRUE(allocator->release(kept).ok());  // this thread's cache: the whole limit
  const AllocatorStats before = allocator->stats();
  ASSERT_EQ(before.cached_slices(), 1u);
  std::size_t cached_by_other = 1;
  std::thread([&] {
    ASSERT_TRUE(allocator->release(other).ok());  // no room left: the locked path
    cached_by_other = allocator->stats().cached_slices() - 1;
  }).join();
  const AllocatorStats after = allocator->stats();
  EXPECT_EQ(cached_by_other, 0u);
  EXPECT_EQ(after.remote_releases, before.remote_releases);
  EXPECT_EQ(after.live_slices(), 0u);
  EXPECT_EQ(after.classes[kSizeClassCount - 1].free_slices, 2u);
  EXPECT_TRUE(allocator->audit().empty());
  // A flush gives the share back (a hand-out keeps it: the slice may come
  // back): the other thread's release is cached now.
  Segment again = must_allocate(256 * KiB);
  allocator->flush_thread_cache();
  std::thread([&] {
    ASSERT_TRUE(allocator->release(again).ok());
    cached_by_other = allocator->stats().cached_slices();
  }).join();
  EXPECT_EQ(cached_by_other, 1u);
  EXPECT_TRUE(allocator->audit().empty());
}

TEST_F(SegmentThreadCache, RefillsPastTheLimitOnAllCachesAreServedByThePool) {
  SegmentAllocatorConfig config = cached_config();
  config.thread_caches_max_bytes = 256 * KiB;
  make(config);
  Segment kept = must_allocate(256 * KiB);
  ASSERT_TRUE(allocator->release(kept).ok());  // this thread's cache: the whole limit
  const AllocatorStats before = allocator->stats();
  std::thread([&] {
    Segment s = must_allocate(64 * KiB);  // no room for a refill
    EXPECT_TRUE(all_equal(s, 0));
    ASSERT_TRUE(allocator->release(s).ok());
  }).join();
  const AllocatorStats after = allocator->stats();
  EXPECT_EQ(after.cache_refills, before.cache_refills);
  EXPECT_EQ(after.cache_hits, before.cache_hits);
  EXPECT_EQ(after.cached_slices(), 1u);
  EXPECT_EQ(after.live_slices(), 0u);
  EXPECT_TRUE(allocator->audit().empty());
}

TEST_F(SegmentThreadCache, ALimitOnAllCachesBelowOneLargestSliceIsRefused) {
  SegmentAllocatorConfig config = cached_config();
  config.thread_caches_max_bytes = 256 * KiB - 1;
  auto created = SegmentAllocator::create(os, config);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, Errc::InvalidConfig);
  config.thread_cache_bytes = 0;  // no caches: no limit to check
  EXPECT_TRUE(SegmentAllocator::create(os, config).ok());
}

}  // namespace
}  // namespace segsim::testing
