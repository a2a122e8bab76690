// The flight recorder's table of mapped regions (flight_recorder_regions.h):
// what a report rebuilds a compact event's address from.
#include <atomic>
#include <barrier>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/fault_point.h"
#include "core/fault_point_controllers.h"
#include "core/flight_recorder_regions.h"
#include "core/linux_os.h"
#include "core/platform/runtime.h"
#include "core/segment_allocator.h"

namespace segsim {
namespace {

using flight_recorder::detail::forget_region;
using flight_recorder::detail::kRegionTableEntries;
using flight_recorder::detail::note_region_mapped;
using flight_recorder::detail::region_base;
using flight_recorder::detail::region_entry;
using flight_recorder::detail::region_home_entry;
using flight_recorder::detail::region_max_displacement;

// A placement's window between claiming its entry and publishing it.
constexpr std::size_t kClaimSite = fault_points::id_of("recorder.regions.claim.yield");
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
  // Where they sit (the drill's premise check reads these): the first at the
  // home when it was free, the second past it, and the farthest placement
  // reaches it.
  const std::size_t first_at = region_entry(allocator, 0);
  const std::size_t second_at = region_entry(allocator, second);
  ASSERT_LT(first_at, kRegionTableEntries);
  ASSERT_LT(second_at, kRegionTableEntries);
  const std::size_t second_past_home = (second_at - home) & (kRegionTableEntries - 1);
  EXPECT_GE(second_past_home, 1u);
  EXPECT_LE(second_past_home, region_max_displacement());
  EXPECT_EQ(region_entry(allocator, second + kRegionTableEntries), kRegionTableEntries) << "a key never noted";
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

// The first region id of `allocator` from `from` on whose key's home entry is `home`.
std::uint32_t region_homed_at(std::uint32_t allocator, std::size_t home, std::uint32_t from) {
  for (std::uint32_t region = from;; ++region) {
    if (region_home_entry(allocator, region) == home) return region;
  }
}

// A key of the same home placed while another's claim is in flight takes
// another entry: before stop 41 it could claim the same one, and the first
// placement's publication then overwrote it.
TEST(FlightRecorderRegions, APlacementInFlightKeepsItsEntryFromAnotherOfItsHome) {
  constexpr std::uint32_t allocator = kAllocator + 30;
  const std::size_t home = region_home_entry(allocator, 0);
  const std::uint32_t second = region_homed_at(allocator, home, 1);
  fault_points::ActOnce meanwhile(kClaimSite, [&] { note_region_mapped(allocator, second, 0x20000); });
  {
    fault_points::ControllerScope scope(&meanwhile);
    note_region_mapped(allocator, 0, 0x10000);
  }
  ASSERT_TRUE(meanwhile.acted());
  EXPECT_EQ(region_base(allocator, 0), 0x10000u);
  EXPECT_EQ(region_base(allocator, second), 0x20000u);
  forget_region(allocator, 0);
  forget_region(allocator, second);
}

// The farthest placement only grows: a key placed 3 entries from its home,
// while a key 1 from its own is placed meanwhile, is still found (seed 22's
// mutant flight_recorder_regions.cpp:67 kept 1). Each test runs in a process
// of its own (gtest_discover_tests), where no key was displaced before.
TEST(FlightRecorderRegions, AFartherPlacementInFlightIsFoundAfterANearerOneCompletes) {
  constexpr std::uint32_t allocator = kAllocator + 40;
  const std::size_t x_home = region_home_entry(allocator, 0);
  std::uint32_t next = 1;
  std::vector<std::uint32_t> pillars{0};
  for (std::size_t d = 1; d < 3; ++d) {
    pillars.push_back(region_homed_at(allocator, (x_home + d) % kRegionTableEntries, next));
    next = pillars.back() + 1;
  }
  const std::uint32_t x = region_homed_at(allocator, x_home, next);
  const std::uint32_t y_home_key = x + 1;
  const std::uint32_t y = region_homed_at(allocator, region_home_entry(allocator, y_home_key), y_home_key + 1);
  pillars.push_back(y_home_key);
  for (const std::uint32_t region : pillars) note_region_mapped(allocator, region, 0x1000 * (region + 1));
  fault_points::ActOnce meanwhile(kClaimSite, [&] { note_region_mapped(allocator, y, 0x50000); });
  {
    fault_points::ControllerScope scope(&meanwhile);
    note_region_mapped(allocator, x, 0x40000);
  }
  ASSERT_TRUE(meanwhile.acted());
  EXPECT_EQ(region_base(allocator, x), 0x40000u);
  EXPECT_EQ(region_base(allocator, y), 0x50000u);
  for (const std::uint32_t region : pillars) {
    EXPECT_EQ(region_base(allocator, region), 0x1000u * (region + 1));
    forget_region(allocator, region);
  }
  forget_region(allocator, x);
  forget_region(allocator, y);
}

// A runtime whose yield throws, as a simulation's does when it cancels a
// fiber whose run is over; nothing else is called.
class CancellingRuntime final : public platform::Runtime {
 public:
  struct Cancelled {};
  void mutex_lock(platform::SimTag&) override {}
  bool mutex_try_lock(platform::SimTag&) override { return true; }
  void mutex_unlock(platform::SimTag&) override {}
  void condvar_wait(platform::SimTag&, platform::SimTag&) override {}
  bool condvar_wait_for(platform::SimTag&, platform::SimTag&, std::int64_t) override { return false; }
  void condvar_notify(platform::SimTag&, bool) override {}
  void atomic_access(platform::SimTag&, platform::AtomicOp) override {}
  bool spawn(platform::Task) override { return false; }
  std::int64_t now_ns() override { return 0; }
  void sleep_for_ns(std::int64_t) override {}
  void yield() override { throw Cancelled{}; }
};

// A placement cancelled at its fault point's yield (a simulated run that
// ended; stop 41's hunt: the exception left a noexcept function and the
// process terminated) unwinds, leaving its entry free and nothing noted.
TEST(FlightRecorderRegions, APlacementCancelledAtItsYieldLeavesItsEntryFree) {
  constexpr std::uint32_t allocator = kAllocator + 60;
  const std::size_t home = region_home_entry(allocator, 0);
  const std::uint32_t second = region_homed_at(allocator, home, 1);
  CancellingRuntime runtime;
  fault_points::FireSites fire(fault_points::FireSites::Times::EveryAsk, {kClaimSite});
  {
    platform::RuntimeScope on_runtime(&runtime);
    fault_points::ControllerScope scope(&fire);
    EXPECT_THROW(note_region_mapped(allocator, 0, 0x10000), CancellingRuntime::Cancelled);
  }
  EXPECT_EQ(region_base(allocator, 0), 0u);
  note_region_mapped(allocator, second, 0x20000);  // takes the home entry the cancelled one had claimed
  note_region_mapped(allocator, 0, 0x30000);
  EXPECT_EQ(region_base(allocator, second), 0x20000u);
  EXPECT_EQ(region_base(allocator, 0), 0x30000u);
  forget_region(allocator, 0);
  forget_region(allocator, second);
}

// Real threads place keys of one home at once, round after round, over the
// entries the rounds before freed: every key is found at its base (and TSan,
// which runs this suite, sees no race).
TEST(FlightRecorderRegions, ThreadsPlacingKeysOfOneHomeAtOnceEachFindTheirs) {
  constexpr std::uint32_t allocator = kAllocator + 50;
  constexpr int kThreads = 4;
  constexpr int kKeysPerThread = 4;
  constexpr int kRounds = 200;
  const std::size_t home = region_home_entry(allocator, 0);
  std::vector<std::uint32_t> regions;  // [round][thread][key]
  for (std::uint32_t next = 0; regions.size() < std::size_t{kRounds} * kThreads * kKeysPerThread;) {
    regions.push_back(region_homed_at(allocator, home, next));
    next = regions.back() + 1;
  }
  const auto region_of = [&](int round, int thread, int key) {
    return regions[(static_cast<std::size_t>(round) * kThreads + static_cast<std::size_t>(thread)) * kKeysPerThread +
                   static_cast<std::size_t>(key)];
  };
  const auto base_of = [](std::uint32_t region) { return std::uintptr_t{0x10000} * (region + 1); };
  std::barrier sync(kThreads);
  std::atomic<int> misplaced{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        sync.arrive_and_wait();
        for (int k = 0; k < kKeysPerThread; ++k) note_region_mapped(allocator, region_of(round, t, k), base_of(region_of(round, t, k)));
        sync.arrive_and_wait();
        for (int other = 0; other < kThreads; ++other) {
          for (int k = 0; k < kKeysPerThread; ++k) {
            const std::uint32_t region = region_of(round, other, k);
            if (region_base(allocator, region) != base_of(region)) misplaced.fetch_add(1);
          }
        }
        sync.arrive_and_wait();
        for (int k = 0; k < kKeysPerThread; ++k) forget_region(allocator, region_of(round, t, k));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(misplaced.load(), 0) << "key readings that missed their base, over " << kRounds << " rounds of "
                                 << kThreads << " threads x " << kKeysPerThread << " keys (each read by every thread)";
}

}  // namespace
}  // namespace segsim
