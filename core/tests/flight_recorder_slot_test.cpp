// The flight recorder's compact slot (flight_recorder.h, Slot): a successful
// allocator call is packed into 32 bytes and unpacked by the report writer.
// Every field the report carries must survive the round trip exactly — on the
// hit path and the full path, at every depth, for every request size a hit
// can take — and what does not fit (a failed or refused call) goes wide.
#include <sys/types.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/flight_recorder.h"
#include "core/linux_os.h"
#include "core/segment_allocator.h"
#include "core/tests/recorder_dir.h"

namespace segsim {
namespace {

using nlohmann::json;
using testing::RecorderDir;

// What the report must say of one call (address as the report prints it).
struct Expected {
  std::string op;
  std::uint64_t bytes;
  Segment segment;
  int depth;
  std::string result = "ok";
};

// The directory's one report (a test writes exactly one).
json single_report(const RecorderDir& dir) {
  std::vector<json> out = dir.reports();
  EXPECT_EQ(out.size(), 1u);
  return out.empty() ? json() : out[0];
}

void expect_event(const json& e, const Expected& want) {
  SCOPED_TRACE(e.dump());
  EXPECT_EQ(e["op"], want.op);
  EXPECT_EQ(e["bytes"], want.bytes);
  EXPECT_EQ(e["depth"], want.depth);
  EXPECT_EQ(e["result"], want.result);
  EXPECT_EQ(e["allocator"], want.segment.allocator_id());
  EXPECT_EQ(e["region"], want.segment.region_id());
  EXPECT_EQ(e["slice"], want.segment.slice_index());
  EXPECT_EQ(e["generation"], want.segment.generation());
  EXPECT_EQ(e["class"], want.segment.is_null() ? -1 : want.segment.size_class());
  // The address is for people, never compared across processes; within one
  // it must still name the slice (a fault address is mapped through it).
  EXPECT_EQ(e["address"], fmt::format("{:#x}", reinterpret_cast<std::uintptr_t>(want.segment.data())));
}

// The recorder on into `dir`, with rings of `ring_events`; no signal handlers
// (a test's own faults are not the subject).
void start_recorder(std::size_t ring_events, const RecorderDir& dir) {
  flight_recorder::Config config;
  config.dir = dir.path();
  config.ring_events = ring_events;
  config.catch_signals = false;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config, &error)) << error;
}

std::unique_ptr<SegmentAllocator> small_allocator() {
  SegmentAllocatorConfig config;
  config.region_bytes = 1 << 20;
  config.budget_bytes = 64 << 20;
  return std::move(SegmentAllocator::create(LinuxOs::instance(), config).value());
}

TEST(FlightRecorderSlot, EveryFieldOfAnAllocatorCallSurvivesThePacking) {
  RecorderDir dir;
  ASSERT_NO_FATAL_FAILURE(start_recorder(256, dir));
  auto allocator = small_allocator();

  std::vector<Expected> want;
  // Every class, the smallest and largest request of each, twice (the first
  // call of a class takes the full path, the second a cache hit).
  const std::vector<std::size_t> sizes = {1, 4096, 4097, 8192, 65536, 131073, 262144};
  for (int round = 0; round < 2; ++round) {
    for (const std::size_t bytes : sizes) {
      const bool zeroed = bytes % 2 == 0;
      auto got = zeroed ? allocator->allocate(bytes) : allocator->allocate_uninitialized(bytes);
      ASSERT_TRUE(got.ok());
      want.push_back({zeroed ? "allocate" : "allocate_uninitialized", bytes, got.value(), 0});
      ASSERT_TRUE(allocator->reset(got.value()).ok());
      want.push_back({"reset", 0, got.value(), 0});
      ASSERT_TRUE(allocator->release(got.value()).ok());
      want.push_back({"release", 0, got.value(), 0});
    }
  }
  {
    // Nested calls carry their depth (a layer's Scope around them).
    flight_recorder::Scope outer;
    flight_recorder::Scope inner;
    auto got = allocator->allocate(100);
    ASSERT_TRUE(got.ok());
    want.push_back({"allocate", 100, got.value(), 2});
    ASSERT_TRUE(allocator->release(got.value()).ok());
    want.push_back({"release", 0, got.value(), 2});
  }
  // Wide events: a failed allocate (class -1, any request), a refused release.
  EXPECT_FALSE(allocator->allocate(std::size_t{1} << 40).ok());
  want.push_back({"allocate", std::uint64_t{1} << 40, Segment{}, 0, "invalid size"});
  auto last = allocator->allocate(4096);
  ASSERT_TRUE(last.ok());
  want.push_back({"allocate", 4096, last.value(), 0});
  ASSERT_TRUE(allocator->release(last.value()).ok());
  want.push_back({"release", 0, last.value(), 0});
  {
    flight_recorder::RefusalsExpected expected;
    EXPECT_FALSE(allocator->release(last.value()).ok());
  }
  want.push_back({"release", 0, last.value(), 0, "double free"});

  ASSERT_NE(flight_recorder::write_report("test"), "");
  flight_recorder::disable();
  const json report = single_report(dir);
  ASSERT_EQ(report["threads"].size(), 1u);
  const json& events = report["threads"][0]["events"];
  ASSERT_EQ(events.size(), want.size());
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    expect_event(events[i], want[i]);
    EXPECT_GE(events[i]["seq"].get<std::uint64_t>(), previous);  // version 4: ties within a thread
    previous = events[i]["seq"];
  }
}

// A ring holds its last ring_events events: after it wrapped (several laps,
// the writer's cursor back at its first slot and past it), the report still
// counts every event the thread recorded and lists the newest ones, oldest
// first, whole. `events` compact and wide events (hits and full paths mixed).
void expect_wrapped_ring_keeps_the_newest(std::size_t events_recorded) {
  constexpr std::size_t kRingEvents = 16;
  RecorderDir dir;
  ASSERT_NO_FATAL_FAILURE(start_recorder(kRingEvents, dir));
  auto allocator = small_allocator();

  std::vector<Expected> want;
  for (std::size_t i = 0; want.size() < events_recorded; ++i) {
    const std::size_t bytes = 1 + (i * 7919) % 262144;
    auto got = allocator->allocate_uninitialized(bytes);
    ASSERT_TRUE(got.ok());
    want.push_back({"allocate_uninitialized", bytes, got.value(), 0});
    if (want.size() == events_recorded) break;
    ASSERT_TRUE(allocator->release(got.value()).ok());
    want.push_back({"release", 0, got.value(), 0});
  }

  ASSERT_NE(flight_recorder::write_report("test"), "");
  flight_recorder::disable();
  const json report = single_report(dir);
  ASSERT_EQ(report["threads"].size(), 1u);
  const json& thread = report["threads"][0];
  EXPECT_EQ(thread["recorded"], events_recorded);
  const json& events = thread["events"];
  ASSERT_EQ(events.size(), kRingEvents);
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    expect_event(events[i], want[events_recorded - kRingEvents + i]);
    EXPECT_GE(events[i]["seq"].get<std::uint64_t>(), previous);  // version 4: ties within a thread
    previous = events[i]["seq"];
  }
}

// 3 laps and 5 events (an odd count: the cursor mid-ring).
TEST(FlightRecorderSlot, AWrappedRingCountsEveryEventAndKeepsTheNewest) {
  expect_wrapped_ring_keeps_the_newest(3 * 16 + 5);
}

// Exactly 2 laps: the last event's step ended the lap (the cursor reached
// the ring's end and wrap() took it back to the first slot), and the ring's
// every slot holds the second lap, oldest first from the first slot.
TEST(FlightRecorderSlot, ARingWrappedAtItsLastSlotKeepsTheWholeLap) { expect_wrapped_ring_keeps_the_newest(2 * 16); }

}  // namespace
}  // namespace segsim
