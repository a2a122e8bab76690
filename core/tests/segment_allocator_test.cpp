// SegmentAllocator: size classes, zeroing, reset policy, lookup, stats.
#include <set>

#include "core/tests/allocator_fixture.h"

namespace segsim::testing {
namespace {

class SegmentAllocatorBasics : public AllocatorTest {
 protected:
  void SetUp() override { make(); }
};

TEST_F(SegmentAllocatorBasics, RequestsRoundUpToTheirClass) {
  struct Case { std::size_t request, class_size; };
  for (Case c : {Case{1, 4 * KiB}, Case{4 * KiB, 4 * KiB}, Case{4 * KiB + 1, 8 * KiB},
                 Case{8 * KiB, 8 * KiB}, Case{20 * KiB, 32 * KiB}, Case{64 * KiB, 64 * KiB},
                 Case{100 * KiB, 128 * KiB}, Case{256 * KiB, 256 * KiB}}) {
    Segment s = must_allocate(c.request);
    EXPECT_EQ(s.size(), c.class_size) << c.request;
    EXPECT_EQ(class_bytes(static_cast<std::size_t>(s.size_class())), c.class_size);
    EXPECT_TRUE(allocator->release(s).ok());
  }
}

TEST_F(SegmentAllocatorBasics, ZeroAndOversizedRequestsAreInvalidSize) {
  for (std::size_t bytes : {std::size_t{0}, 256 * KiB + 1, std::size_t{1} << 40}) {
    auto s = allocator->allocate(bytes);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::InvalidSize);
    EXPECT_FALSE(allocator->allocate_uninitialized(bytes).ok());
  }
  EXPECT_EQ(allocator->stats().virtual_bytes, 0u);  // nothing mapped for a refused request
}

TEST_F(SegmentAllocatorBasics, FreshSegmentsReadZero) {
  Segment s = must_allocate(64 * KiB);
  EXPECT_TRUE(all_equal(s, 0));
  EXPECT_TRUE(allocator->release(s).ok());
}

TEST_F(SegmentAllocatorBasics, ReusedSegmentIsZeroedAgain) {
  Segment first = must_allocate(16 * KiB);
  fill(first, 0xcd);
  ASSERT_TRUE(allocator->release(first).ok());
  Segment second = must_allocate(16 * KiB);
  EXPECT_EQ(second.data(), first.data());  // LIFO pool: same slice back
  EXPECT_NE(second.generation(), first.generation());
  EXPECT_TRUE(all_equal(second, 0));
  EXPECT_GE(allocator->stats().resets_memset, 1u);
  EXPECT_TRUE(allocator->release(second).ok());
}

TEST_F(SegmentAllocatorBasics, UninitializedAllocationSkipsZeroing) {
  Segment first = must_allocate(4 * KiB);
  fill(first, 0x77);
  ASSERT_TRUE(allocator->release(first).ok());
  const auto before = allocator->stats().resets_memset;
  auto second = allocator->allocate_uninitialized(4 * KiB);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(allocator->stats().resets_memset, before);
  ASSERT_TRUE(allocator->release(second.value()).ok());
  // A slice handed out uninitialized is dirty afterwards: the next zeroed allocation zeroes it.
  Segment third = must_allocate(4 * KiB);
  EXPECT_TRUE(all_equal(third, 0));
  EXPECT_TRUE(allocator->release(third).ok());
}

TEST_F(SegmentAllocatorBasics, ResetZeroesALiveSegmentWithMemsetByDefault) {
  Segment s = must_allocate(32 * KiB);
  fill(s, 0xee);
  ASSERT_TRUE(allocator->reset(s).ok());
  EXPECT_TRUE(all_equal(s, 0));
  EXPECT_EQ(os.advise_calls(Advice::DontNeed), 0u);
  EXPECT_TRUE(allocator->release(s).ok());
}

TEST_F(SegmentAllocatorBasics, ResetUsesMadviseAtOrAboveTheConfiguredSize) {
  SegmentAllocatorConfig config = small_config();
  config.reset_madvise_min_bytes = 64 * KiB;
  make(config);
  Segment small = must_allocate(32 * KiB);
  Segment large = must_allocate(64 * KiB);
  fill(small, 1);
  fill(large, 2);
  ASSERT_TRUE(allocator->reset(small).ok());
  ASSERT_TRUE(allocator->reset(large).ok());
  EXPECT_TRUE(all_equal(small, 0));
  EXPECT_TRUE(all_equal(large, 0));
  EXPECT_EQ(allocator->stats().resets_madvise, 1u);
  EXPECT_EQ(os.advise_calls(Advice::DontNeed), 1u);
  // Never MADV_FREE: it does not zero.
  EXPECT_EQ(os.advise_calls(Advice::Free), 0u);
  EXPECT_TRUE(allocator->release(small).ok());
  EXPECT_TRUE(allocator->release(large).ok());
}

TEST_F(SegmentAllocatorBasics, LiveSegmentsNeverOverlap) {
  std::vector<Segment> live;
  // 6 of each class: 15 regions of 256 KiB, within the 4 MiB budget.
  for (int i = 0; i < 42; ++i) live.push_back(must_allocate(class_bytes(i % kSizeClassCount) - 7));
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> ranges;
  for (const Segment& s : live) {
    auto begin = reinterpret_cast<std::uintptr_t>(s.data());
    ranges.emplace_back(begin, begin + s.size());
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) EXPECT_LE(ranges[i - 1].second, ranges[i].first);
  for (const Segment& s : live) EXPECT_TRUE(allocator->release(s).ok());
}

TEST_F(SegmentAllocatorBasics, LookupFindsLiveSlicesOnly) {
  Segment s = must_allocate(8 * KiB);
  auto found = allocator->lookup(s.data());
  ASSERT_TRUE(found.ok()) << found.error().describe();
  EXPECT_EQ(found.value(), s);

  auto inside = allocator->lookup(s.data() + 1);
  ASSERT_FALSE(inside.ok());
  EXPECT_EQ(inside.error().code, Errc::InvalidPointer);

  int on_stack = 0;
  auto foreign = allocator->lookup(reinterpret_cast<std::byte*>(&on_stack));
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, Errc::InvalidPointer);

  ASSERT_TRUE(allocator->release(s).ok());
  auto freed = allocator->lookup(s.data());
  ASSERT_FALSE(freed.ok());
  EXPECT_EQ(freed.error().code, Errc::DoubleFree);
}

TEST_F(SegmentAllocatorBasics, StatsAccountPerClass) {
  Segment a = must_allocate(4 * KiB);
  Segment b = must_allocate(4 * KiB);
  Segment c = must_allocate(256 * KiB);
  AllocatorStats s = allocator->stats();
  EXPECT_EQ(s.classes[0].live_slices, 2u);
  EXPECT_EQ(s.classes[0].free_slices, 256 * KiB / (4 * KiB) - 2);
  EXPECT_EQ(s.classes[6].live_slices, 1u);
  EXPECT_EQ(s.classes[6].free_slices, 0u);
  EXPECT_EQ(s.classes[0].active_regions, 1u);
  EXPECT_EQ(s.virtual_bytes, 2 * 256 * KiB);
  EXPECT_EQ(s.regions_mapped, 2u);
  EXPECT_EQ(s.live_slices(), 3u);
  EXPECT_EQ(s.live_bytes(), 2 * 4 * KiB + 256 * KiB);
  EXPECT_EQ(s.resident_estimate_bytes, 2 * 4 * KiB + 256 * KiB);
  for (const Segment& seg : {a, b, c}) EXPECT_TRUE(allocator->release(seg).ok());
  s = allocator->stats();
  EXPECT_EQ(s.live_slices(), 0u);
  EXPECT_EQ(s.classes[0].free_slices, 64u);
}

TEST_F(SegmentAllocatorBasics, GenerationsAreUniquePerClass) {
  std::set<std::uint32_t> generations;
  for (int i = 0; i < 100; ++i) {
    Segment s = must_allocate(4 * KiB);
    EXPECT_TRUE(generations.insert(s.generation()).second);
    EXPECT_TRUE(allocator->release(s).ok());
  }
}

TEST(SegmentAllocatorConfigTest, InvalidConfigsAreRefusedWithTheField) {
  ScriptedOs os;
  auto refuse = [&](SegmentAllocatorConfig config) {
    auto created = SegmentAllocator::create(os, config);
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.error().code, Errc::InvalidConfig);
    EXPECT_NE(std::string(created.error().detail), "");
  };
  SegmentAllocatorConfig c;
  c.region_bytes = 128 * KiB;  // smaller than the largest class
  refuse(c);
  c = {};
  c.region_bytes = 3 * 128 * KiB;  // not a multiple of 256 KiB
  refuse(c);
  c = {};
  c.budget_bytes = 3 * MiB;  // not a multiple of 2 MiB regions
  refuse(c);
  c = {};
  c.budget_bytes = 0;
  refuse(c);
  c = {};
  c.cleanup_every_free_slices = 0;
  refuse(c);
  c = {};
  c.cleanup_queue_capacity = 0;
  refuse(c);
  c = {};
  c.reset_madvise_min_bytes = 1000;
  refuse(c);
  c = {};
  c.region_bytes = 256 * KiB;
  c.budget_bytes = std::size_t{1} << 40;  // 4M+ region slots
  refuse(c);
  EXPECT_EQ(os.calls(OsCall::Map), 0u);
}

TEST(SegmentAllocatorConfigTest, DefaultsMatchTheSeeds) {
  SegmentAllocatorConfig c;
  EXPECT_EQ(c.region_bytes, 2 * MiB);
  EXPECT_EQ(c.budget_bytes, std::size_t{1} << 30);
  EXPECT_EQ(c.cleanup_start_free_slices, 5000u);
  EXPECT_EQ(c.cleanup_every_free_slices, 1000u);
  EXPECT_TRUE(c.proactive_cleanup);
}

TEST(ErrorDescribe, NamesCodeAddressClassAndErrno) {
  Error e = make_error(Errc::DoubleFree, "slice is free");
  e.address = 0x1000;
  e.size_class = 4;
  e.generation = 7;
  const std::string line = e.describe();
  EXPECT_NE(line.find("double free"), std::string::npos) << line;
  EXPECT_NE(line.find("0x1000"), std::string::npos) << line;
  EXPECT_NE(line.find("64 KiB"), std::string::npos) << line;
  EXPECT_NE(line.find("generation 7"), std::string::npos) << line;
  EXPECT_NE(line.find("slice is free"), std::string::npos) << line;
  Error oom = make_error(Errc::OutOfMemory);
  oom.os_errno = ENOMEM;
  EXPECT_NE(oom.describe().find("errno 12"), std::string::npos) << oom.describe();
}

}  // namespace
}  // namespace segsim::testing
