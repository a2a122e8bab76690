// SlabAllocator unit tests: classes, magazines and the depot, slabs from and
// back to the segment allocator, every refusal (state unchanged), stats and
// audit, thread exit and cross-thread frees.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "core/slab_allocator.h"
#include "core/tests/allocator_fixture.h"

namespace segsim::testing {
namespace {

class SlabTest : public AllocatorTest {
 protected:
  void SetUp() override { make_slab(); }
  void make_slab(SlabAllocatorConfig config = {}) {
    slab.reset();
    if (!allocator) make();
    auto created = SlabAllocator::create(*allocator, config);
    ASSERT_TRUE(created.ok()) << created.error().describe();
    slab = std::move(created.value());
  }
  void TearDown() override {
    if (slab) {
      const auto violations = slab->audit();
      EXPECT_TRUE(violations.empty()) << violations.front();
      slab.reset();
      EXPECT_EQ(allocator->stats().live_slices(), 0u) << "every slab went back";
    }
    AllocatorTest::TearDown();
  }
  SlabObject must(std::size_t bytes) {
    auto object = slab->allocate(bytes);
    EXPECT_TRUE(object.ok()) << object.error().describe();
    return object.ok() ? object.value() : SlabObject{};
  }
  std::unique_ptr<SlabAllocator> slab;
};

TEST(SlabClasses, RoundUpToTheSeedsClasses) {
  EXPECT_EQ(slab_class_of(0), -1);
  EXPECT_EQ(slab_class_of(1), 0);
  EXPECT_EQ(slab_class_bytes(static_cast<std::size_t>(slab_class_of(129))), 192u);
  EXPECT_EQ(slab_class_bytes(static_cast<std::size_t>(slab_class_of(257))), 384u);
  EXPECT_EQ(slab_class_bytes(static_cast<std::size_t>(slab_class_of(4096))), 4096u);
  EXPECT_EQ(slab_class_of(4097), -1);
}

TEST_F(SlabTest, AllocatesEveryClassDistinctAndWritable) {
  std::vector<SlabObject> objects;
  std::set<std::byte*> seen;
  for (std::size_t bytes : kSlabClassBytes) {
    for (std::size_t request : {bytes - 1, bytes}) {
      for (int i = 0; i < 40; ++i) {
        SlabObject object = must(request);
        ASSERT_EQ(object.size(), bytes);
        ASSERT_TRUE(seen.insert(object.data()).second) << "handed out twice";
        std::memset(object.data(), 0x5a, object.size());
        objects.push_back(object);
      }
    }
  }
  EXPECT_EQ(slab->stats().live_objects(), objects.size());
  for (const SlabObject& object : objects) ASSERT_TRUE(slab->free(object).ok());
  EXPECT_EQ(slab->stats().live_objects(), 0u);
}

TEST_F(SlabTest, RefusesBadSizes) {
  auto zero = slab->allocate(0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, Errc::InvalidSize);
  auto large = slab->allocate(4097);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().code, Errc::InvalidSize);
  EXPECT_EQ(allocator->stats().live_slices(), 0u) << "a refusal takes no slab";
}

TEST_F(SlabTest, DoubleFreeIsRefusedAndChangesNothing) {
  SlabObject object = must(100);
  ASSERT_TRUE(slab->free(object).ok());
  const SlabStats before = slab->stats();
  Status again = slab->free(object);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::DoubleFree);
  const SlabStats after = slab->stats();
  EXPECT_EQ(after.double_frees, before.double_frees + 1);
  EXPECT_EQ(after.live_objects(), before.live_objects());
  EXPECT_EQ(after.cached_objects(), before.cached_objects());
}

TEST_F(SlabTest, StaleHandleAfterReuseIsDoubleFree) {
  SlabObject first = must(64);
  ASSERT_TRUE(slab->free(first).ok());
  SlabObject second = must(64);
  ASSERT_EQ(second.data(), first.data()) << "LIFO magazine reuses the object";
  Status stale = slab->free(first);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::DoubleFree);
  std::memset(second.data(), 1, second.size());  // still ours
  EXPECT_TRUE(slab->free(second).ok());
}

TEST_F(SlabTest, ForeignAndForgedHandlesAreInvalidPointers) {
  EXPECT_EQ(slab->free(SlabObject{}).error().code, Errc::InvalidPointer);
  auto other = SlabAllocator::create(*allocator);
  ASSERT_TRUE(other.ok());
  SlabObject theirs = other.value()->allocate(64).value();
  EXPECT_EQ(slab->free(theirs).error().code, Errc::InvalidPointer);
  EXPECT_TRUE(other.value()->free(theirs).ok());
  other.value().reset();
  SlabObject ours = must(64);
  std::byte local[64];
  EXPECT_EQ(slab->free(local, 64).error().code, Errc::InvalidPointer);
  EXPECT_EQ(slab->free(ours.data() + 8, 64).error().code, Errc::InvalidPointer) << "inside an object";
  EXPECT_GE(slab->stats().invalid_pointers, 4u);
  EXPECT_TRUE(slab->free(ours).ok());
}

TEST_F(SlabTest, SizedFreeOfAnotherClassIsRefused) {
  SlabObject object = must(256);
  Status wrong = slab->free(object.data(), 512);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::InvalidPointer);
  EXPECT_EQ(slab->stats().live_objects(), 1u);
  EXPECT_TRUE(slab->free(object.data(), 200).ok()) << "any size of the same class";
  EXPECT_EQ(slab->free(object.data(), 256).error().code, Errc::DoubleFree);
}

TEST_F(SlabTest, LookupFindsLiveObjects) {
  SlabObject object = must(2048);
  auto found = slab->lookup(object.data());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->generation(), object.generation());
  ASSERT_TRUE(slab->free(found.value()).ok());
  EXPECT_EQ(slab->lookup(object.data()).error().code, Errc::DoubleFree);
}

TEST_F(SlabTest, SlabsAreSegmentsAndEmptySlabsGoBack) {
  SlabAllocatorConfig config;
  config.empty_slabs_kept = 0;
  config.depot_full_magazines_max = 0;
  make_slab(config);
  const std::size_t per_slab = config.slab_bytes / 4096;
  std::vector<SlabObject> objects;
  for (std::size_t i = 0; i < 3 * per_slab; ++i) objects.push_back(must(4096));
  EXPECT_EQ(allocator->stats().live_slices(), 3u);
  for (const SlabObject& object : objects) ASSERT_TRUE(slab->free(object).ok());
  slab->flush_thread_cache();
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
  EXPECT_EQ(slab->stats().slabs_released, 3u);
}

TEST_F(SlabTest, AFlushGivesAThreadWithoutACacheNone) {
  std::thread fresh([&] { slab->flush_thread_cache(); });
  fresh.join();
  slab->flush_thread_cache();  // this thread has made no call either
  EXPECT_EQ(slab->stats().thread_caches, 0u);
  const SlabObject object = must(64);  // now it has one, and a flush keeps it
  slab->flush_thread_cache();
  EXPECT_EQ(slab->stats().thread_caches, 1u);
  ASSERT_TRUE(slab->free(object).ok());
}

TEST_F(SlabTest, DepotExchangesKeepAFastPath) {
  std::vector<SlabObject> objects;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 300; ++i) objects.push_back(must(64));
    for (const SlabObject& object : objects) ASSERT_TRUE(slab->free(object).ok());
    objects.clear();
  }
  const SlabStats stats = slab->stats();
  EXPECT_GT(stats.classes[0].depot_exchanges, 0u);
  EXPECT_GT(stats.fast_path_hit_rate(), 0.9);
}

// A thread cache starts, and a flush leaves it, without a previous magazine: a
// placeholder stands in that is never swapped in and never given to the depot.
// So the first free past a full loaded magazine is a depot exchange that hands
// the depot nothing, and the first refill after a flush drops the placeholder.
TEST_F(SlabTest, NoPreviousMagazineIsNeverSwappedInNorGivenToTheDepot) {
  SlabAllocatorConfig config;
  config.magazine_capacity[0] = 8;
  config.adaptive_magazines = false;
  make_slab(config);
  std::vector<SlabObject> objects;
  for (int i = 0; i < 24; ++i) objects.push_back(must(64));
  SlabClassStats s = slab->stats().classes[0];
  EXPECT_EQ(s.depot_exchanges, 3u) << "three refills from the slabs, one per 8 allocations";
  EXPECT_EQ(s.fast_allocations, 21u);
  EXPECT_EQ(s.cached_objects, 0u);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(slab->free(objects[i]).ok());
  s = slab->stats().classes[0];
  EXPECT_EQ(s.fast_frees, 8u);
  EXPECT_EQ(s.depot_exchanges, 3u);
  ASSERT_TRUE(slab->free(objects[8]).ok());  // loaded full, no previous: an exchange
  s = slab->stats().classes[0];
  EXPECT_EQ(s.fast_frees, 8u) << "the placeholder was swapped in as an empty magazine";
  EXPECT_EQ(s.depot_exchanges, 4u);
  EXPECT_EQ(s.depot_objects, 0u);
  EXPECT_EQ(s.cached_objects, 9u);
  for (int i = 9; i < 17; ++i) ASSERT_TRUE(slab->free(objects[i]).ok());  // the 17th: previous full
  s = slab->stats().classes[0];
  EXPECT_EQ(s.fast_frees, 15u);
  EXPECT_EQ(s.depot_exchanges, 5u);
  EXPECT_EQ(s.depot_objects, 8u) << "the full previous magazine went to the depot";
  EXPECT_EQ(s.cached_objects, 9u);
  slab->flush_thread_cache();
  s = slab->stats().classes[0];
  EXPECT_EQ(s.cached_objects, 0u);
  EXPECT_EQ(s.depot_objects, 17u);
  objects.push_back(must(64));  // no previous again: a refill loads a full magazine from the depot
  s = slab->stats().classes[0];
  EXPECT_EQ(s.depot_exchanges, 6u);
  EXPECT_EQ(s.depot_objects, 9u);
  EXPECT_EQ(s.cached_objects, 7u);
  EXPECT_TRUE(slab->audit().empty());
  for (std::size_t i = 17; i < objects.size(); ++i) ASSERT_TRUE(slab->free(objects[i]).ok());
}

TEST_F(SlabTest, MagazineCapacityAdaptsWithinBounds) {
  SlabAllocatorConfig config;
  config.magazine_capacity[0] = 8;
  make_slab(config);
  // Ping-pong at a magazine boundary: many exchanges serving few operations.
  std::vector<SlabObject> objects;
  for (int round = 0; round < 400; ++round) {
    for (int i = 0; i < 40; ++i) objects.push_back(must(64));
    for (const SlabObject& object : objects) ASSERT_TRUE(slab->free(object).ok());
    objects.clear();
  }
  const std::uint32_t capacity = slab->stats().classes[0].magazine_capacity;
  EXPECT_GT(capacity, 8u);
  EXPECT_LE(capacity, 16u);
}

TEST_F(SlabTest, RemoteFreesAreNeverLost) {
  std::vector<SlabObject> objects;
  for (int i = 0; i < 500; ++i) objects.push_back(must(192));
  const std::size_t cached_here = slab->stats().classes[2].cached_objects;
  std::thread other([&] {
    for (const SlabObject& object : objects) ASSERT_TRUE(slab->free(object).ok());
  });  // its exit flushes its magazines
  other.join();
  const SlabStats stats = slab->stats();
  EXPECT_EQ(stats.classes[2].remote_frees, 500u) << "counters survive the thread";
  EXPECT_EQ(stats.classes[2].frees, 500u);
  EXPECT_EQ(stats.live_objects(), 0u);
  EXPECT_EQ(stats.thread_caches, 1u);
  EXPECT_EQ(stats.classes[2].cached_objects, cached_here) << "the thread's magazines were flushed at exit";
  const auto& c = stats.classes[2];
  EXPECT_EQ(c.slab_free_objects + c.cached_objects + c.depot_objects, c.slabs * c.objects_per_slab);
}

TEST_F(SlabTest, FlushAllReturnsEverySlab) {
  std::vector<SlabObject> objects;
  for (std::size_t bytes : kSlabClassBytes) {
    for (int i = 0; i < 50; ++i) objects.push_back(must(bytes));
  }
  for (const SlabObject& object : objects) ASSERT_TRUE(slab->free(object).ok());
  slab->flush_all();
  EXPECT_EQ(slab->stats().cached_objects(), 0u);
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
}

TEST_F(SlabTest, OutOfBudgetIsCleanAndRecoverable) {
  SegmentAllocatorConfig tight = small_config();
  tight.budget_bytes = 256 * KiB;
  slab.reset();
  make(tight);
  make_slab();
  std::vector<SlabObject> objects;
  Result<SlabObject> last = SlabObject{};
  while ((last = slab->allocate(4096)).ok()) objects.push_back(last.value());
  EXPECT_EQ(last.error().code, Errc::OutOfBudget);
  EXPECT_GT(slab->stats().slab_failures, 0u);
  EXPECT_EQ(slab->stats().live_objects(), objects.size());
  for (const SlabObject& object : objects) ASSERT_TRUE(slab->free(object).ok());
  auto again = slab->allocate(4096);
  ASSERT_TRUE(again.ok()) << "objects freed: allocation works again";
  ASSERT_TRUE(slab->free(again.value()).ok());
  slab->flush_all();
}

TEST_F(SlabTest, RefusesBadConfigs) {
  SlabAllocatorConfig config;
  config.slab_bytes = 3000;
  EXPECT_EQ(SlabAllocator::create(*allocator, config).error().code, Errc::InvalidConfig);
  config = {};
  config.magazine_capacity[3] = 0;
  EXPECT_EQ(SlabAllocator::create(*allocator, config).error().code, Errc::InvalidConfig);
  config = {};
  config.max_slabs = 0;
  EXPECT_EQ(SlabAllocator::create(*allocator, config).error().code, Errc::InvalidConfig);
}

TEST_F(SlabTest, AuditCatchesNothingOnAHealthyMix) {
  std::vector<SlabObject> objects;
  for (int i = 0; i < 2000; ++i) {
    objects.push_back(must(1 + static_cast<std::size_t>(i * 37) % 4096));
    if (i % 3 == 0) {
      ASSERT_TRUE(slab->free(objects[objects.size() / 2]).ok());
      objects.erase(objects.begin() + static_cast<std::ptrdiff_t>(objects.size() / 2));
    }
  }
  const auto violations = slab->audit();
  EXPECT_TRUE(violations.empty()) << violations.front();
  for (const SlabObject& object : objects) ASSERT_TRUE(slab->free(object).ok());
}

}  // namespace
}  // namespace segsim::testing
