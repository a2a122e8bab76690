// The flight recorder (issue 13): real threads' operations land in per-thread
// rings with one global order; a refused release, a failed assertion and a
// fatal signal each write a versioned crash report naming the failure by
// stable ids (a fault address inside a slice becomes region / slice).
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/assert.h"
#include "core/flight_recorder.h"
#include "core/large_object_allocator.h"
#include "core/leaf_page_pool.h"
#include "core/linux_os.h"
#include "core/os.h"
#include "core/page_cache.h"
#include "core/segment_allocator.h"
#include "core/slab_allocator.h"
#include "core/txn_arena.h"
#include "core/tests/recorder_dir.h"

namespace segsim {
namespace {

using nlohmann::json;

using testing::RecorderDir;

std::unique_ptr<SegmentAllocator> make_allocator() {
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * 1024;
  config.budget_bytes = 64 << 20;
  auto allocator = SegmentAllocator::create(LinuxOs::instance(), config);
  EXPECT_TRUE(allocator.ok());
  return std::move(allocator.value());
}

// Killed by the signal — or, under a sanitizer whose handler the recorder
// hands the signal back to, exited with its error code; not one of the
// test's own early exits (3, 4, 5).
bool died_of_the_fault(int status) {
  if (WIFSIGNALED(status)) return true;
  return WIFEXITED(status) && WEXITSTATUS(status) != 0 && (WEXITSTATUS(status) < 3 || WEXITSTATUS(status) > 5);
}

flight_recorder::Config config_for(const RecorderDir& dir) {
  flight_recorder::Config config;
  config.dir = dir.path();
  config.ring_events = 64;
  config.build_id = "test-build";
  return config;
}

// In a child process, the recorder on: `fault(allocator)` makes memory of a
// slice inaccessible and touches it (or exits 4 when it cannot set that up).
// The reports the child's signal handler wrote.
template <class Fault>
std::vector<json> reports_after_a_fault(const RecorderDir& dir, Fault fault) {
  EXPECT_EXIT(
      {
        std::string error;
        if (!flight_recorder::enable(config_for(dir), &error)) std::_Exit(3);
        auto allocator = make_allocator();
        fault(*allocator);
        std::_Exit(5);
      },
      died_of_the_fault, "crash report");
  return dir.reports();
}

TEST(FlightRecorder, RefusedReleaseWritesAReportWithEveryThreadsRing) {
  RecorderDir dir;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config_for(dir), &error)) << error;
  auto allocator = make_allocator();
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto segment = allocator->allocate(4096 << (i % 3));
        ASSERT_TRUE(segment.ok());
        ASSERT_TRUE(allocator->release(segment.value()).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto segment = allocator->allocate(8192);
  ASSERT_TRUE(segment.ok());
  ASSERT_TRUE(allocator->release(segment.value()).ok());
  EXPECT_FALSE(allocator->release(segment.value()).ok());  // the double free
  flight_recorder::disable();

  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  const json& report = reports[0];
  EXPECT_EQ(report["format"], "segsim-crash");
  EXPECT_EQ(report["version"], flight_recorder::kFormatVersion);
  EXPECT_EQ(report["build_id"], "test-build");
  EXPECT_EQ(report["stack"]["region_bytes"], 256 * 1024);
  const json& failure = report["failure"];
  EXPECT_EQ(failure["kind"], "refused");
  EXPECT_EQ(failure["errc"], "double free");
  EXPECT_EQ(failure["operation"]["op"], "release");
  EXPECT_EQ(failure["operation"]["region"], segment->region_id());
  EXPECT_EQ(failure["operation"]["slice"], segment->slice_index());
  EXPECT_EQ(failure["operation"]["generation"], segment->generation());
  ASSERT_EQ(report["threads"].size(), 4u);  // three workers and this thread
  // The order across threads: every hand-out and release of one slice is
  // ordered by its class lock, so a later generation has a later stamp, and
  // within a generation the allocation comes before the release.
  // Version 4: a thread's events between two of its synchronisations tie
  // (a cache hit does not step the clock); their order is the ring's.
  struct Placed {
    std::uint64_t thread;
    std::size_t index;  // in its thread's events
    json event;
  };
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<Placed>> by_slice;
  for (const json& thread : report["threads"]) {
    std::uint64_t previous = 0;
    EXPECT_LE(thread["events"].size(), 64u) << "bounded ring";
    for (std::size_t i = 0; i < thread["events"].size(); ++i) {
      const json& event = thread["events"][i];
      const std::uint64_t seq = event["seq"];
      EXPECT_GE(seq, previous) << "a thread's events are in its order";
      previous = seq;
      by_slice[{event["region"], event["slice"]}].push_back({thread["thread"], i, event});
    }
  }
  std::size_t pairs = 0;
  for (const auto& [slice, events] : by_slice) {
    for (const Placed& a : events) {
      for (const Placed& b : events) {
        const std::uint64_t ga = a.event["generation"], gb = b.event["generation"];
        const bool a_first = ga < gb || (ga == gb && a.event["op"] == "allocate" && b.event["op"] == "release" &&
                                          a.event["result"] == "ok" && b.event["result"] == "ok");
        if (!a_first) continue;
        ++pairs;
        if (a.thread == b.thread) {
          EXPECT_LT(a.index, b.index) << a.event << " before " << b.event;
          EXPECT_LE(a.event["seq"].get<std::uint64_t>(), b.event["seq"].get<std::uint64_t>());
          continue;
        }
        EXPECT_LT(a.event["seq"].get<std::uint64_t>(), b.event["seq"].get<std::uint64_t>())
            << a.event << " before " << b.event;
      }
    }
  }
  EXPECT_GT(pairs, 100u) << "slices changed hands";
  const json& last = report["threads"].back()["events"].back();
  EXPECT_EQ(last["op"], "release");
  EXPECT_EQ(last["result"], "double free");
}

TEST(FlightRecorder, OffRecordsNothingAndRefusesABadDirectory) {
  std::string error;
  flight_recorder::Config config;
  config.dir = "/nonexistent/segsim";
  EXPECT_FALSE(flight_recorder::enable(config, &error));
  EXPECT_NE(error.find("/nonexistent/segsim"), std::string::npos) << error;
  EXPECT_FALSE(flight_recorder::on());
  EXPECT_EQ(flight_recorder::write_report("test"), "");
}

// The page layer's calls are recorded with their nesting: what the program
// called is depth 0; a put that evicts gives the page back (depth 1), which
// returns its segments (depth 2) to the allocator (depth 3).
TEST(FlightRecorder, PageLayerOperationsAreRecordedWithTheirDepth) {
  RecorderDir dir;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config_for(dir), &error)) << error;
  auto allocator = make_allocator();
  {
    LeafPagePool pool(*allocator);
    PageCache cache({1, std::size_t{1} << 30}, pool);
    for (std::uint64_t id = 1; id <= 2; ++id) {
      auto page = pool.borrow(id);
      ASSERT_TRUE(page.ok());
      const std::vector<std::byte> value(100, std::byte{7});
      ASSERT_TRUE(page.value()->set_slot(3, value).ok());
      cache.put(id, page.value());  // the second evicts page 1
    }
    auto pinned = cache.get(2);
    EXPECT_TRUE(pinned);
  }
  ASSERT_NE(flight_recorder::write_report("test"), "");
  flight_recorder::disable();
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["stack"]["page_cache"]["max_entries"], 1);
  std::vector<std::string> ops;
  for (const json& e : reports[0]["threads"][0]["events"]) {
    ops.push_back(e["op"].get<std::string>() + "@" + std::to_string(e["depth"].get<int>()) +
                  (e.contains("page") ? "#" + std::to_string(e["page"].get<std::uint64_t>()) : ""));
  }
  const std::vector<std::string> first = {"allocate@1", "pool_borrow@0#1", "page_set_slot@0#1", "cache_put@0#1"};
  ASSERT_GE(ops.size(), 12u);
  EXPECT_EQ(std::vector<std::string>(ops.begin(), ops.begin() + 4), first);
  // Page 2, then the eviction of page 1 nested in its put.
  const std::vector<std::string> evicting = {"cache_put@0#2", "release@3", "page_return@2#1", "page_clear@2#1",
                                             "pool_give_back@1#1", "cache_get@0#2", "cache_unpin@0#2"};
  const auto put2 = std::find(ops.begin(), ops.end(), "cache_put@0#2");
  ASSERT_NE(put2, ops.end());
  EXPECT_EQ(std::vector<std::string>(put2, put2 + 7), evicting);
  for (const json& e : reports[0]["threads"][0]["events"]) {
    if (e["op"] == "allocate" || e["op"] == "release") {
      EXPECT_NE(e["allocator"], 0) << e;
    }
  }
}

// Version 3: the slab, arena and large-object layers' calls are recorded at
// depth 0 with their instance and object ids (their segment calls nested),
// and the slab / large allocators' configs go into "stack".
TEST(FlightRecorder, ObjectLayerOperationsAreRecordedWithTheirIds) {
  RecorderDir dir;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config_for(dir), &error)) << error;
  auto allocator = make_allocator();
  SlabAllocatorConfig slab_config;
  slab_config.magazine_capacity.fill(4);
  auto slab = std::move(SlabAllocator::create(*allocator, slab_config).value());
  auto object = slab->allocate(100);
  ASSERT_TRUE(object.ok());
  ASSERT_TRUE(slab->free(object.value()).ok());
  EXPECT_FALSE(slab->free(object.value()).ok());  // a stale handle: recorded with its Errc
  slab->flush_thread_cache();
  auto arenas = std::move(TxnArenaManager::create(*allocator).value());
  auto root = arenas->begin(42, ArenaProfile::Small);
  ASSERT_TRUE(root.ok());
  auto child = arenas->begin_child(root.value()->id());
  ASSERT_TRUE(child.ok());
  ASSERT_TRUE(child.value()->allocate(64).ok());
  ASSERT_TRUE(arenas->commit(child.value()->id()).ok());
  ASSERT_TRUE(arenas->rollback(root.value()->id()).ok());
  LargeObjectAllocatorConfig large_config;
  large_config.max_object_bytes = 2 << 20;
  large_config.span_bytes = 4 << 20;
  auto large = std::move(LargeObjectAllocator::create(LinuxOs::instance(), large_config).value());
  auto big = large->allocate(LargeObjectAllocator::kMinObjectBytes + 1);
  ASSERT_TRUE(big.ok());
  ASSERT_TRUE(large->release(big.value()).ok());
  (void)large->decommit_idle(0);
  ASSERT_NE(flight_recorder::write_report("test"), "");
  flight_recorder::disable();
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  const json& report = reports[0];
  EXPECT_EQ(report["version"], flight_recorder::kFormatVersion);
  EXPECT_EQ(report["stack"]["slab"]["magazine_capacity"][0], 4);
  EXPECT_EQ(report["stack"]["large"]["span_bytes"], 4 << 20);
  std::vector<std::string> calls;
  std::vector<json> slab_events;
  for (const json& e : report["threads"][0]["events"]) {
    if (e["depth"] != 0) continue;
    calls.push_back(e["op"].get<std::string>() + (e["result"] == "ok" ? "" : ":" + e["result"].get<std::string>()));
    if (e["op"] == "slab_allocate" || e["op"] == "slab_free") slab_events.push_back(e);
  }
  const std::vector<std::string> want = {"slab_allocate",  "slab_free",         "slab_free:double free",
                                         "slab_flush",     "arena_begin",       "arena_begin_child",
                                         "arena_allocate", "arena_commit",      "arena_rollback",
                                         "large_allocate", "large_release",     "large_decommit_idle"};
  EXPECT_EQ(calls, want);
  ASSERT_EQ(slab_events.size(), 3u);
  // The free names the object by the allocate's ids: slab, index, generation, epoch.
  EXPECT_EQ(slab_events[0]["ids"], slab_events[1]["ids"]);
  EXPECT_EQ(slab_events[0]["ids"][0], object->slab_id());
  EXPECT_EQ(slab_events[0]["ids"][2], object->generation());
  EXPECT_EQ(slab_events[0]["class"], object->size_class());
  EXPECT_EQ(slab_events[0]["bytes"], 100);
  // The slab's own segment allocation is nested in its allocate.
  bool nested_segment = false;
  for (const json& e : report["threads"][0]["events"]) {
    nested_segment |= e["op"].get<std::string>().rfind("allocate", 0) == 0 && e["depth"] == 1;
  }
  EXPECT_TRUE(nested_segment);
}

// More threads than ring slots over a process's life: an exited thread's
// ring is taken over (the oldest first), so the newest threads are recorded.
TEST(FlightRecorder, AnExitedThreadsRingIsReused) {
  RecorderDir dir;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config_for(dir), &error)) << error;
  auto allocator = make_allocator();
  const std::size_t threads = flight_recorder::kMaxThreads + 40;
  for (std::size_t t = 0; t < threads; ++t) {
    std::thread([&] {
      auto segment = allocator->allocate(4096);
      ASSERT_TRUE(segment.ok());
      ASSERT_TRUE(allocator->release(segment.value()).ok());
    }).join();
  }
  ASSERT_NE(flight_recorder::write_report("test"), "");
  flight_recorder::disable();
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["stack"]["threads_not_recorded"], 0);
  std::uint64_t newest = 0;
  for (const json& t : reports[0]["threads"]) {
    newest = std::max<std::uint64_t>(newest, t["thread"].get<std::uint64_t>());
    EXPECT_EQ(t["recorded"], 2) << "a reused ring starts empty";
  }
  EXPECT_EQ(newest, threads - 1);
  EXPECT_LE(reports[0]["threads"].size(), flight_recorder::kMaxThreads);
}

// A thread whose ring cannot be allocated records nothing until the next
// enable() (its later calls do not try again), and the report says a thread
// is missing; the next enable() starts the count over.
TEST(FlightRecorder, AThreadWhoseRingCannotBeAllocatedIsCountedNotRecorded) {
  RecorderDir dir;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config_for(dir), &error)) << error;
  auto allocator = make_allocator();
  std::thread([&] {
    flight_recorder::fail_ring_allocations(1);
    for (int i = 0; i < 2; ++i) {
      auto segment = allocator->allocate(4096);
      ASSERT_TRUE(segment.ok());
      ASSERT_TRUE(allocator->release(segment.value()).ok());
    }
  }).join();
  auto segment = allocator->allocate(4096);  // this thread's ring: allocated (one failure only)
  ASSERT_TRUE(segment.ok());
  EXPECT_EQ(flight_recorder::rings_held(), 1u) << "the refused thread holds no ring";
  ASSERT_NE(flight_recorder::write_report("test"), "");
  flight_recorder::disable();
  RecorderDir next_dir;
  ASSERT_TRUE(flight_recorder::enable(config_for(next_dir), &error)) << error;
  ASSERT_NE(flight_recorder::write_report("test"), "");
  flight_recorder::disable();
  ASSERT_TRUE(allocator->release(segment.value()).ok());
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["stack"]["threads_not_recorded"], 1);
  ASSERT_EQ(reports[0]["threads"].size(), 1u);
  EXPECT_EQ(reports[0]["threads"][0]["recorded"], 1) << "only this thread's allocate";
  const auto next = next_dir.reports();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0]["stack"]["threads_not_recorded"], 0);
}

// A report's write interrupted before it wrote anything (EINTR) is asked
// again, up to kMaxWriteInterruptions in a row; one more and the report is
// given up: no report, and no temporary file left behind.
TEST(FlightRecorder, InterruptedReportWritesAreAskedAgainUpToTheLimit) {
  flight_recorder::disable();
  ASSERT_TRUE(flight_recorder::reset_report_count());
  RecorderDir dir;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config_for(dir), &error)) << error;
  flight_recorder::interrupt_report_writes(kMaxWriteInterruptions);
  const std::string path = flight_recorder::write_report("interrupted");
  EXPECT_NE(path, "");
  flight_recorder::interrupt_report_writes(kMaxWriteInterruptions + 1);
  EXPECT_EQ(flight_recorder::write_report("interrupted too often"), "");
  flight_recorder::interrupt_report_writes(0);
  flight_recorder::disable();
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "the given-up report's temporary file is removed";
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["failure"]["kind"], "interrupted");
  EXPECT_TRUE(flight_recorder::reset_report_count());
}

// A thread that saw a free ring slot but lost it to others before claiming
// it is refused and counted, like a thread past kMaxThreads: its ring is not
// kept half-made (nor leaked), and every slot holds one other thread's call.
TEST(FlightRecorder, AThreadThatLosesTheLastSlotIsCountedNotRecorded) {
  RecorderDir dir;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config_for(dir), &error)) << error;
  auto allocator = make_allocator();
  struct Hold {
    std::latch held{1};
    std::latch others_done{flight_recorder::kMaxThreads};
  } hold;
  std::latch all_done(flight_recorder::kMaxThreads + 1);
  auto one_call = [&] {
    auto segment = allocator->allocate(4096);
    ASSERT_TRUE(segment.ok());
    ASSERT_TRUE(allocator->release(segment.value()).ok());
  };
  std::thread loser([&] {
    flight_recorder::hold_next_ring_claim(
        [](void* arg) {
          auto* h = static_cast<Hold*>(arg);
          h->held.count_down();
          h->others_done.wait();
        },
        &hold);
    one_call();
    all_done.arrive_and_wait();
  });
  hold.held.wait();
  std::vector<std::thread> others;
  for (std::size_t t = 0; t < flight_recorder::kMaxThreads; ++t) {
    others.emplace_back([&] {
      one_call();
      hold.others_done.count_down();
      all_done.arrive_and_wait();
    });
  }
  loser.join();
  for (std::thread& thread : others) thread.join();
  EXPECT_EQ(flight_recorder::rings_held(), flight_recorder::kMaxThreads) << "the loser freed the ring it made";
  ASSERT_NE(flight_recorder::write_report("test"), "");
  flight_recorder::disable();
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["stack"]["threads_not_recorded"], 1);
  ASSERT_EQ(reports[0]["threads"].size(), flight_recorder::kMaxThreads);
  for (const json& t : reports[0]["threads"]) EXPECT_EQ(t["recorded"], 2) << "one allocate and release each";
}

// A program's verdict stops the tape: events after it are not recorded.
TEST(FlightRecorder, AFinalReportStopsTheRecordingAndCarriesItsMessage) {
  RecorderDir dir;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config_for(dir), &error)) << error;
  auto allocator = make_allocator();
  auto segment = allocator->allocate(4096);
  ASSERT_TRUE(segment.ok());
  ASSERT_NE(flight_recorder::write_final_report(flight_recorder::kStressCheckReport, "Suite.Test: a \"check\"\n"), "");
  EXPECT_FALSE(flight_recorder::on());
  ASSERT_TRUE(allocator->release(segment.value()).ok());  // not recorded
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["failure"]["kind"], "stress-check");
  EXPECT_EQ(reports[0]["failure"]["message"], "Suite.Test: a \"check\"\n");
  ASSERT_EQ(reports[0]["threads"].size(), 1u);
  EXPECT_EQ(reports[0]["threads"][0]["events"].size(), 1u);
  EXPECT_EQ(flight_recorder::write_final_report(flight_recorder::kStressCheckReport, "again"), "") << "off now";
}

// A refusal made on purpose, announced, writes no report.
TEST(FlightRecorder, RefusalsExpectedWriteNoReport) {
  RecorderDir dir;
  std::string error;
  ASSERT_TRUE(flight_recorder::reset_report_count());  // the per-process cap: earlier tests' reports count too
  ASSERT_TRUE(flight_recorder::enable(config_for(dir), &error)) << error;
  auto allocator = make_allocator();
  auto segment = allocator->allocate(4096);
  ASSERT_TRUE(segment.ok());
  ASSERT_TRUE(allocator->release(segment.value()).ok());
  {
    const flight_recorder::RefusalsExpected on_purpose;
    EXPECT_FALSE(allocator->release(segment.value()).ok());
  }
  EXPECT_EQ(dir.reports().size(), 0u);
  EXPECT_FALSE(allocator->release(segment.value()).ok());  // no longer announced: reported
  flight_recorder::disable();
  EXPECT_EQ(dir.reports().size(), 1u);
}

// A write into a slice made inaccessible: the signal handler's report maps
// the fault address to the slice's stable ids.
TEST(FlightRecorderDeathTest, FatalSignalInsideASliceNamesTheSlice) {
  GTEST_FLAG_SET(death_test_style, "fast");  // the child writes into the parent's directory
  RecorderDir dir;
  const auto reports = reports_after_a_fault(dir, [](SegmentAllocator& allocator) {
    auto segment = allocator.allocate(16384);
    if (!segment.ok()) std::_Exit(4);
    ::mprotect(segment->data(), segment->size(), PROT_NONE);
    *reinterpret_cast<volatile char*>(segment->data() + 4096 + 7) = 1;
  });
  ASSERT_EQ(reports.size(), 1u);
  const json& failure = reports[0]["failure"];
  EXPECT_EQ(failure["kind"], "signal");
  EXPECT_EQ(failure["signal_name"], "SIGSEGV");
  ASSERT_TRUE(failure.contains("fault_slice"));
  EXPECT_EQ(failure["fault_slice"]["offset"], 4096 + 7);
  EXPECT_EQ(reports[0]["threads"][0]["events"][0]["op"], "allocate");
}

// A slice released and handed out again with no synchronisation between:
// the three events tie on their sequence (format version 4), and the fault
// is in the slice's latest generation — the later event in ring order.
TEST(FlightRecorderDeathTest, FatalSignalNamesTheLatestGenerationAmongTiedEvents) {
  GTEST_FLAG_SET(death_test_style, "fast");  // the child writes into the parent's directory
  RecorderDir dir;
  const auto reports = reports_after_a_fault(dir, [](SegmentAllocator& allocator) {
    auto first = allocator.allocate(16384);
    if (!first.ok() || !allocator.release(first.value()).ok()) std::_Exit(4);
    auto again = allocator.allocate(16384);
    if (!again.ok() || again->data() != first->data()) std::_Exit(4);  // not the same slice, reused
    ::mprotect(again->data(), again->size(), PROT_NONE);
    *reinterpret_cast<volatile char*>(again->data() + 9) = 1;
  });
  ASSERT_EQ(reports.size(), 1u);
  const json& failure = reports[0]["failure"];
  ASSERT_TRUE(failure.contains("fault_slice"));
  const json& events = reports[0]["threads"][0]["events"];
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["seq"], events[2]["seq"]) << "the events do not tie: this test no longer tests ties";
  EXPECT_EQ(failure["fault_slice"]["generation"], events[2]["generation"]);
  EXPECT_NE(failure["fault_slice"]["generation"], events[0]["generation"]);
  EXPECT_EQ(failure["fault_slice"]["offset"], 9);
}

TEST(FlightRecorderDeathTest, AssertionWritesItsText) {
  GTEST_FLAG_SET(death_test_style, "fast");  // the child writes into the parent's directory
  RecorderDir dir;
  EXPECT_DEATH(
      {
        std::string error;
        if (!flight_recorder::enable(config_for(dir), &error)) std::_Exit(3);
        SEGSIM_ASSERT(dir.path().empty(), "the recorder test's deliberate assertion");
      },
      "crash report");
  const auto reports = dir.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["failure"]["kind"], "assertion");
  EXPECT_EQ(reports[0]["failure"]["assertion"]["message"], "the recorder test's deliberate assertion");
}

}  // namespace
}  // namespace segsim
