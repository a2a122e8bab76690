// The flight recorder's table of mapped regions (flight_recorder_regions.h):
// what a report rebuilds a compact event's address from.
#include <cstdint>
#include <memory>

#include <gtest/gtest.h>

#include "core/flight_recorder_regions.h"
#include "core/linux_os.h"
#include "core/segment_allocator.h"

namespace segsim {
namespace {

using flight_recorder::detail::forget_region;
using flight_recorder::detail::kRegionTableEntries;
using flight_recorder::detail::note_region_mapped;
using flight_recorder::detail::region_base;
using flight_recorder::detail::region_home_entry;

// Allocator ids far above any a SegmentAllocator of this process takes.
constexpr std::uint32_t kAllocator = 0x7fff0000;

TEST(FlightRecorderRegions, ANotedRegionIsFoundByItsIdsAndMovesWhenMappedAgain) {
  EXPECT_EQ(region_base(kAllocator, 3), 0u);
  note_region_mapped(kAllocator, 3, 0x10000);
  note_region_mapped(kAllocator + 1, 3, 0x20000);  // another allocator's region 3
  EXPECT_EQ(region_base(kAllocator, 3), 0x10000u);
  EXPECT_EQ(region_base(kAllocator + 1, 3), 0x20000u);
  note_region_mapped(kAllocator, 3, 0x30000);
  EXPECT_EQ(region_base(kAllocator, 3), 0x30000u);
  forget_region(kAllocator, 3);
  forget_region(kAllocator + 1, 3);
  EXPECT_EQ(region_base(kAllocator, 3), 0u);
  EXPECT_EQ(region_base(kAllocator + 1, 3), 0u);
}

// Entries freed by forget_region are taken again, and keys placed past a
// freed entry are still found: the table never fills with dead allocators'.
TEST(FlightRecorderRegions, ForgottenEntriesAreReusedAndDoNotHideOthers) {
  constexpr std::uint32_t kRegions = 3 * kRegionTableEntries / 4;
  for (int round = 0; round < 3; ++round) {
    const std::uint32_t allocator = kAllocator + 10 + static_cast<std::uint32_t>(round);
    for (std::uint32_t r = 0; r < kRegions; ++r) note_region_mapped(allocator, r, 0x1000 * (r + 1));
    for (std::uint32_t r = 0; r < kRegions; r += 2) forget_region(allocator, r);
    for (std::uint32_t r = 0; r < kRegions; ++r) {
      ASSERT_EQ(region_base(allocator, r), r % 2 == 0 ? 0u : 0x1000u * (r + 1)) << "round " << round << " region " << r;
    }
    for (std::uint32_t r = 1; r < kRegions; r += 2) forget_region(allocator, r);
  }
}

// Keys picked by region_home_entry to share a home: the second is placed past
// the first, and found there, also once the first is forgotten and noted anew.
TEST(FlightRecorderRegions, KeysSharingAHomeEntryAreEachFound) {
  constexpr std::uint32_t allocator = kAllocator + 20;
  const std::size_t home = region_home_entry(allocator, 0);
  std::uint32_t second = 1;
  while (region_home_entry(allocator, second) != home) {
    ASSERT_LT(second, 64 * kRegionTableEntries) << "no region id shares region 0's home entry";
    ++second;
  }
  note_region_mapped(allocator, 0, 0x10000);
  note_region_mapped(allocator, second, 0x20000);
  EXPECT_EQ(region_base(allocator, 0), 0x10000u);
  EXPECT_EQ(region_base(allocator, second), 0x20000u);
  forget_region(allocator, 0);
  EXPECT_EQ(region_base(allocator, 0), 0u);
  EXPECT_EQ(region_base(allocator, second), 0x20000u);
  note_region_mapped(allocator, 0, 0x30000);
  EXPECT_EQ(region_base(allocator, 0), 0x30000u);
  EXPECT_EQ(region_base(allocator, second), 0x20000u);
  forget_region(allocator, 0);
  forget_region(allocator, second);
}

// A SegmentAllocator notes each region it maps, at the base its slices are
// in, and forgets them when it is destroyed.
TEST(FlightRecorderRegions, AnAllocatorNotesItsRegionsAndForgetsThemWhenDestroyed) {
  auto created = SegmentAllocator::create(LinuxOs::instance(), SegmentAllocatorConfig{});
  ASSERT_TRUE(created.ok());
  std::unique_ptr<SegmentAllocator> allocator = std::move(created.value());
  auto segment = allocator->allocate(4096);
  ASSERT_TRUE(segment.ok());
  const Segment s = segment.value();
  const std::uintptr_t base = region_base(s.allocator_id(), s.region_id());
  ASSERT_NE(base, 0u);
  EXPECT_EQ(base + s.offset_in_region(), reinterpret_cast<std::uintptr_t>(s.data()));
  ASSERT_TRUE(allocator->release(s).ok());
  allocator.reset();
  EXPECT_EQ(region_base(s.allocator_id(), s.region_id()), 0u);
}

}  // namespace
}  // namespace segsim
