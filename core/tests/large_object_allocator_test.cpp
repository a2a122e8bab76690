// LargeObjectAllocator: fit policies, coalescing, decommit, spans, budget,
// huge pages, and every error path leaving the allocator as it was.
#include "core/large_object_allocator.h"

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "core/fault_point_controllers.h"
#include "core/tests/scripted_os.h"
#include "core/units.h"

namespace segsim::testing {
namespace {


class LargeObjects : public ::testing::Test {
 protected:
  void make(LargeObjectAllocatorConfig config = small_config()) {
    auto created = LargeObjectAllocator::create(os, std::move(config));
    ASSERT_TRUE(created.ok()) << created.error().describe();
    large = std::move(created.value());
  }
  static LargeObjectAllocatorConfig small_config() {
    LargeObjectAllocatorConfig config;
    config.max_object_bytes = 8 * MiB;
    config.granule_bytes = 64 * KiB;
    config.span_bytes = 4 * MiB;
    config.budget_bytes = 32 * MiB;
    config.decommit_check_interval_ns = 0;  // decommit only when a test asks
    return config;
  }
  LargeObject must(std::size_t bytes) {
    auto object = large->allocate(bytes);
    EXPECT_TRUE(object.ok()) << object.error().describe();
    return object.ok() ? object.value() : LargeObject{};
  }
  static bool all(const LargeObject& o, unsigned char value) {
    for (std::byte b : o.bytes()) {
      if (b != std::byte{value}) return false;
    }
    return true;
  }
  void expect_consistent() {
    auto violations = large->audit();
    EXPECT_TRUE(violations.empty()) << violations.front();
  }
  // What a refused call must not change.
  std::vector<std::size_t> fingerprint() {
    LargeObjectStats s = large->stats();
    return {s.mapped_bytes, s.spans, s.live_objects, s.live_bytes, s.free_bytes, s.free_ranges,
            s.largest_free_bytes, s.decommitted_bytes};
  }

  ScriptedOs os;
  std::unique_ptr<LargeObjectAllocator> large;
};

TEST_F(LargeObjects, ConfigIsValidated) {
  auto config = small_config();
  config.granule_bytes = 1000;
  EXPECT_EQ(LargeObjectAllocator::create(os, config).error().code, Errc::InvalidConfig);
  config = small_config();
  config.max_object_bytes = 256 * KiB;
  EXPECT_EQ(LargeObjectAllocator::create(os, config).error().code, Errc::InvalidConfig);
  config = small_config();
  config.span_bytes = 100 * KiB;
  EXPECT_EQ(LargeObjectAllocator::create(os, config).error().code, Errc::InvalidConfig);
}

TEST_F(LargeObjects, SizesOutsideTheRangeAreRefused) {
  make();
  for (std::size_t bytes : {std::size_t{0}, 256 * KiB, 8 * MiB + 1}) {
    auto object = large->allocate(bytes);
    ASSERT_FALSE(object.ok()) << bytes;
    EXPECT_EQ(object.error().code, Errc::InvalidSize);
  }
  EXPECT_EQ(large->stats().mapped_bytes, 0u);
  LargeObject smallest = must(256 * KiB + 1);
  EXPECT_EQ(smallest.size(), 320 * KiB);  // rounded up to the granule
  LargeObject largest = must(8 * MiB);
  EXPECT_EQ(largest.size(), 8 * MiB);
  EXPECT_TRUE(large->release(smallest).ok());
  EXPECT_TRUE(large->release(largest).ok());
  expect_consistent();
}

TEST_F(LargeObjects, ObjectsAreZeroedEvenWhenTheirRangeWasUsed) {
  make();
  LargeObject a = must(512 * KiB);
  EXPECT_TRUE(all(a, 0));
  std::memset(a.data(), 0x5a, a.size());
  ASSERT_TRUE(large->release(a).ok());
  LargeObject b = must(512 * KiB);
  EXPECT_EQ(b.data(), a.data());
  EXPECT_TRUE(all(b, 0));
  EXPECT_EQ(large->stats().zeroings, 1u);
  ASSERT_TRUE(large->release(b).ok());
}

TEST_F(LargeObjects, NeighboursCoalesceOnRelease) {
  make();
  // One 4 MiB span: a b c d, then a 2 MiB free tail.
  LargeObject a = must(512 * KiB), b = must(512 * KiB), c = must(512 * KiB), d = must(512 * KiB);
  ASSERT_TRUE(large->release(a).ok());
  ASSERT_TRUE(large->release(c).ok());
  EXPECT_EQ(large->stats().free_ranges, 3u);  // a, c, tail: none adjacent
  EXPECT_EQ(large->stats().coalesces, 0u);
  ASSERT_TRUE(large->release(b).ok());        // joins a and c
  EXPECT_EQ(large->stats().free_ranges, 2u);
  EXPECT_EQ(large->stats().coalesces, 2u);
  expect_consistent();
  ASSERT_TRUE(large->release(d).ok());        // joins a+b+c and the tail
  LargeObjectStats s = large->stats();
  EXPECT_EQ(s.free_ranges, 1u);
  EXPECT_EQ(s.wholly_free_spans, 1u);
  EXPECT_EQ(s.coalesces, 4u);
  EXPECT_DOUBLE_EQ(s.fragmentation_ratio, 0.0);
  expect_consistent();
}

TEST_F(LargeObjects, FitPoliciesPickTheirRange) {
  for (FitPolicy policy : {FitPolicy::BestFit, FitPolicy::FirstFit, FitPolicy::WorstFit}) {
    auto config = small_config();
    config.fit = policy;
    make(config);
    // Holes of 1 MiB (offset 0) and 512 KiB (later), pinned apart by live objects.
    LargeObject big_hole = must(1 * MiB), sep1 = must(512 * KiB), small_hole = must(512 * KiB), sep2 = must(512 * KiB);
    ASSERT_TRUE(large->release(big_hole).ok());
    ASSERT_TRUE(large->release(small_hole).ok());
    LargeObject picked = must(512 * KiB);
    const std::size_t tail_offset = sep2.offset() + sep2.size();
    switch (policy) {
      case FitPolicy::BestFit: EXPECT_EQ(picked.offset(), small_hole.offset()); break;
      case FitPolicy::FirstFit: EXPECT_EQ(picked.offset(), 0u); break;
      case FitPolicy::WorstFit: EXPECT_EQ(picked.offset(), tail_offset); break;  // the span's tail
    }
    for (const LargeObject& o : {sep1, sep2, picked}) ASSERT_TRUE(large->release(o).ok());
    expect_consistent();
    large.reset();
  }
}

TEST_F(LargeObjects, DoubleStaleAndForeignReleasesChangeNothing) {
  make();
  LargeObject a = must(1 * MiB);
  ASSERT_TRUE(large->release(a).ok());
  auto before = fingerprint();
  Status again = large->release(a);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::DoubleFree);
  EXPECT_EQ(fingerprint(), before);
  LargeObject b = must(1 * MiB);  // reuses a's range: a is stale now
  ASSERT_EQ(b.offset(), a.offset());
  std::memset(b.data(), 0x33, b.size());
  before = fingerprint();
  Status stale = large->release(a);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::DoubleFree);
  EXPECT_EQ(stale.error().live_generation, b.generation());
  EXPECT_EQ(fingerprint(), before);
  EXPECT_TRUE(all(b, 0x33));

  ScriptedOs other_os;
  auto other = LargeObjectAllocator::create(other_os, small_config());
  ASSERT_TRUE(other.ok());
  auto foreign = other.value()->allocate(1 * MiB);
  ASSERT_TRUE(foreign.ok());
  Status wrong = large->release(foreign.value());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::InvalidPointer);
  EXPECT_EQ(large->release(LargeObject{}).error().code, Errc::InvalidPointer);
  EXPECT_EQ(fingerprint(), before);
  EXPECT_EQ(large->stats().double_frees, 2u);
  EXPECT_EQ(large->stats().invalid_pointers, 2u);
  ASSERT_TRUE(other.value()->release(foreign.value()).ok());
  ASSERT_TRUE(large->release(b).ok());
  expect_consistent();
}

// Generations wrap from 2^32 - 1 to 1, never to 0 (free); generation.near_wrap
// starts them three before the wrap, and a handle from before it stays stale.
TEST_F(LargeObjects, GenerationsWrapPastZeroToOne) {
  fault_points::FireSites near_wrap(fault_points::FireSites::Times::EveryAsk,
                                    {fault_points::id_of("generation.near_wrap")});
  fault_points::ControllerScope scope(&near_wrap);
  make();
  std::vector<std::uint32_t> generations;
  LargeObject first;
  for (int i = 0; i < 4; ++i) {
    const LargeObject o = must(1 * MiB);
    if (i == 0) first = o;
    generations.push_back(o.generation());
    ASSERT_TRUE(large->release(o).ok());
  }
  EXPECT_EQ(generations, (std::vector<std::uint32_t>{UINT32_MAX - 2, UINT32_MAX - 1, UINT32_MAX, 1}));
  const LargeObject live = must(1 * MiB);
  ASSERT_EQ(live.offset(), first.offset());
  Status stale = large->release(first);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::DoubleFree);
  ASSERT_TRUE(large->release(live).ok());
  expect_consistent();
}

TEST_F(LargeObjects, HandleOfAnUnmappedSpanIsADoubleFree) {
  make();
  LargeObject a = must(1 * MiB);
  ASSERT_TRUE(large->release(a).ok());
  EXPECT_EQ(large->unmap_free_spans(0), 4 * MiB);
  EXPECT_EQ(large->release(a).error().code, Errc::DoubleFree);
  expect_consistent();
}

TEST_F(LargeObjects, MapFailureIsOutOfMemoryAndChangesNothing) {
  make();
  os.fail_nth(OsCall::Map, 1, ENOMEM);
  auto object = large->allocate(1 * MiB);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().code, Errc::OutOfMemory);
  EXPECT_EQ(object.error().os_errno, ENOMEM);
  EXPECT_EQ(large->stats().mapped_bytes, 0u);
  EXPECT_EQ(large->stats().map_failures, 1u);
  LargeObject ok = must(1 * MiB);  // the next map works
  ASSERT_TRUE(large->release(ok).ok());
  expect_consistent();
}

TEST_F(LargeObjects, HugePageHintForLargeSpansAndItsFailureIsHarmless) {
  make();
  os.only_advice(Advice::HugePage);
  os.fail_nth(OsCall::Advise, 1, EINVAL);
  LargeObject a = must(1 * MiB);  // 4 MiB span: hinted, hint fails
  EXPECT_EQ(large->stats().huge_page_failures, 1u);
  LargeObject b = must(4 * MiB);  // a second span: hinted, works
  EXPECT_EQ(large->stats().huge_page_hints, 1u);
  EXPECT_EQ(os.advise_calls(Advice::HugePage), 2u);
  std::memset(a.data(), 1, a.size());
  ASSERT_TRUE(large->release(a).ok());
  ASSERT_TRUE(large->release(b).ok());
  expect_consistent();
}

TEST_F(LargeObjects, IdleRangesAreDecommittedAndReadZero) {
  make();
  LargeObject a = must(1 * MiB), keep = must(1 * MiB);
  std::memset(a.data(), 0x77, a.size());
  ASSERT_TRUE(large->release(a).ok());
  EXPECT_EQ(large->decommit_idle(0), 1 * MiB);
  LargeObjectStats s = large->stats();
  EXPECT_EQ(s.decommits, 1u);
  EXPECT_EQ(s.decommitted_bytes, s.free_bytes);  // a's range, and the never-touched tail
  EXPECT_GE(os.advise_calls(Advice::DontNeed), 1u);
  LargeObject b = must(1 * MiB);
  EXPECT_EQ(b.offset(), a.offset());
  EXPECT_TRUE(all(b, 0));
  EXPECT_EQ(large->stats().zeroings, 0u);  // decommitted: no memset needed
  ASSERT_TRUE(large->release(b).ok());
  ASSERT_TRUE(large->release(keep).ok());
  expect_consistent();
}

TEST_F(LargeObjects, FailedDecommitKeepsTheRangeDirty) {
  make();
  LargeObject a = must(1 * MiB), keep = must(1 * MiB);
  std::memset(a.data(), 0x77, a.size());
  ASSERT_TRUE(large->release(a).ok());
  os.fail_nth(OsCall::Advise, 1, EAGAIN);
  EXPECT_EQ(large->decommit_idle(0), 0u);
  EXPECT_EQ(large->stats().advise_failures, 1u);
  expect_consistent();
  LargeObject b = must(1 * MiB);
  EXPECT_TRUE(all(b, 0));  // zeroed by memset: the range was never assumed clean
  EXPECT_EQ(large->stats().zeroings, 1u);
  ASSERT_TRUE(large->release(b).ok());
  ASSERT_TRUE(large->release(keep).ok());
}

TEST_F(LargeObjects, BudgetFirstUnmapsFreeSpansThenRefuses) {
  auto config = small_config();
  config.budget_bytes = 8 * MiB;
  config.span_bytes = 2 * MiB;
  make(config);
  LargeObject a = must(2 * MiB), b = must(4 * MiB);  // spans of 2 and 4 MiB
  ASSERT_TRUE(large->release(a).ok());
  // 3 MiB fits no free range, and 6 + 3 > 8: a's wholly free span is unmapped first.
  LargeObject c = must(3 * MiB);
  EXPECT_EQ(large->stats().spans_unmapped, 1u);
  EXPECT_EQ(large->stats().mapped_bytes, 7 * MiB);
  auto before = fingerprint();
  auto refused = large->allocate(4 * MiB);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::OutOfBudget);
  EXPECT_EQ(fingerprint(), before);
  EXPECT_EQ(large->stats().budget_refusals, 1u);
  ASSERT_TRUE(large->release(b).ok());
  ASSERT_TRUE(large->release(c).ok());
  expect_consistent();
}

TEST_F(LargeObjects, SharedBudgetAndReclaimHook) {
  auto config = small_config();
  config.budget_bytes = 8 * MiB;
  std::size_t others = 6 * MiB;
  int hook_calls = 0;
  config.shared_used_bytes = [&] { return others; };
  config.on_budget_exhausted = [&](std::size_t needed) {
    ++hook_calls;
    EXPECT_EQ(needed, 1 * MiB);
    others = 2 * MiB;  // the loop freed memory elsewhere
    return true;
  };
  make(config);
  LargeObject a = must(1 * MiB);  // 6 + 4 > 8: a 1 MiB span of its own, fits: 7 MiB
  EXPECT_EQ(large->stats().mapped_bytes, 1 * MiB);
  others = 7 * MiB;
  LargeObject b = must(1 * MiB);  // 7 + 1 + 1 > 8: the hook frees, retried
  EXPECT_EQ(hook_calls, 1);
  ASSERT_TRUE(large->release(a).ok());
  ASSERT_TRUE(large->release(b).ok());
  expect_consistent();
}

TEST_F(LargeObjects, UnmapFailureKeepsTheSpan) {
  make();
  LargeObject a = must(1 * MiB);
  ASSERT_TRUE(large->release(a).ok());
  os.fail_nth(OsCall::Unmap, 1, ENOMEM);
  EXPECT_EQ(large->unmap_free_spans(0), 0u);
  EXPECT_EQ(large->stats().unmap_failures, 1u);
  EXPECT_EQ(large->stats().spans, 1u);
  expect_consistent();
  LargeObject again = must(1 * MiB);  // the kept span still serves
  EXPECT_EQ(large->stats().free_list_hits, 1u);
  ASSERT_TRUE(large->release(again).ok());
}

TEST_F(LargeObjects, FragmentationRatioAndHitRate) {
  make();
  std::vector<LargeObject> objects;
  for (int i = 0; i < 6; ++i) objects.push_back(must(512 * KiB));
  for (int i = 0; i < 6; i += 2) ASSERT_TRUE(large->release(objects[i]).ok());
  LargeObjectStats s = large->stats();
  // Free: three 512 KiB holes and the 1 MiB tail; the largest is the tail.
  EXPECT_EQ(s.free_bytes, 3 * 512 * KiB + 1 * MiB);
  EXPECT_NEAR(s.fragmentation_ratio, 1.0 - 1.0 / 2.5, 1e-9);
  EXPECT_NEAR(s.free_list_hit_rate(), 5.0 / 6.0, 1e-9);  // all but the first came from a free range
  for (int i = 1; i < 6; i += 2) ASSERT_TRUE(large->release(objects[i]).ok());
  expect_consistent();
}

}  // namespace
}  // namespace segsim::testing
