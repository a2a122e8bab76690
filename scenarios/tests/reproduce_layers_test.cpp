// segsim reproduce of the object layers (issue 13, crash-report version 3):
// slab / arena / large-object events parse, write back the same and are
// refused in a version-2 report; the "recorded" scenario rebuilds the layer
// the program called last on the simulated stack with the recorded config —
// a correct stack passes it (a stress-check report of a correct run is not
// "reproduced"); with the report's catalogued bug on (mutants builds) the
// layer's own oracles catch it, also when a remote free was numbered before
// its object's allocation (the slab's hand-overs carry no stamp).
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include <fmt/format.h>

#include "core/mutants.h"
#include "scenarios/crash_report.h"
#include "scenarios/recording.h"
#include "scenarios/repro.h"
#include "scenarios/reproduce.h"
#include "scenarios/workloads/recorded_layers.h"

namespace segsim::scenarios {
namespace {

std::string object_event(std::uint64_t seq, const char* op, std::uint32_t instance, std::uint32_t id0,
                         std::uint32_t id1, std::uint32_t id2, std::uint64_t id3, std::uint64_t bytes, int size_class,
                         std::uint32_t depth = 0) {
  return fmt::format(R"({{"seq": {}, "op": "{}", "depth": {}, "allocator": {}, "ids": [{}, {}, {}, {}], )"
                     R"("bytes": {}, "class": {}, "result": "ok"}})",
                     seq, op, depth, instance, id0, id1, id2, id3, bytes, size_class);
}

constexpr const char* kSlabConfig =
    R"("slab": {"allocator": 7, "slab_bytes": 65536, "magazine_capacity": [8, 8, 8, 8, 8, 8, 8, 8, 8],
                "adaptive_magazines": true, "depot_full_magazines_max": 8, "empty_slabs_kept": 1, "max_slabs": 65536})";

// Thread 0 allocates 40 objects of slab allocator 7 and frees the first 20;
// thread 1 frees the other 20 — remote frees, numbered (as the recorder may
// number them) before their allocations.
std::string slab_report(const std::string& bug, int version = 3) {
  std::string t0, t1;
  for (std::uint32_t i = 0; i < 40; ++i) {
    if (!t0.empty()) t0 += ", ";
    t0 += object_event(100 + i, "slab_allocate", 7, 1, i, 1, 1, 64, 0);
  }
  for (std::uint32_t i = 0; i < 20; ++i) t0 += ", " + object_event(200 + i, "slab_free", 7, 1, i, 1, 1, 0, 0);
  for (std::uint32_t i = 20; i < 40; ++i) {
    if (!t1.empty()) t1 += ", ";
    t1 += object_event(1 + i, "slab_free", 7, 1, i, 1, 1, 0, 0);
  }
  t1 += ", " + object_event(90, "slab_flush", 7, 0, 0, 0, 0, 0, -1);
  return fmt::format(R"({{"format": "segsim-crash", "version": {}, "build_id": "b", "pid": 1, {}
  "stack": {{"region_bytes": 1048576, "budget_bytes": 536870912, "ring_events": 512, "threads_not_recorded": 0, {}}},
  "failure": {{"kind": "stress-check", "message": "SlabStress: an audit failed"}},
  "threads": [
    {{"thread": 0, "recorded": 60, "events": [{}]}},
    {{"thread": 1, "recorded": 21, "events": [{}]}}
  ]}})",
                     version, bug.empty() ? "" : fmt::format(R"("bug": "{}",)", bug), kSlabConfig, t0, t1);
}

TEST(CrashReportLayers, ObjectEventsAndConfigsParseAndWriteBackTheSame) {
  std::string error;
  auto report = crash_report_from_json(slab_report(""), &error);
  ASSERT_TRUE(report.ok()) << error;
  ASSERT_TRUE(report->slab);
  EXPECT_EQ(report->slab->allocator, 7u);
  EXPECT_EQ(report->slab->magazine_capacity.size(), 9u);
  const CrashEvent& free = report->threads[1].events[0];
  EXPECT_EQ(free.op, flight_recorder::Op::SlabFree);
  EXPECT_EQ(free.allocator, 7u);
  EXPECT_EQ(free.slice, 20u);
  EXPECT_EQ(free.object, 1u);
  auto again = crash_report_from_json(crash_report_to_json(report.value()), &error);
  ASSERT_TRUE(again.ok()) << error;
  ASSERT_TRUE(again->slab);
  EXPECT_EQ(again->slab->magazine_capacity, report->slab->magazine_capacity);
  EXPECT_TRUE(again->threads == report->threads);
}

TEST(CrashReportLayers, BadObjectEventsAndOlderVersionsAreOneLine) {
  const std::string good = slab_report("");
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  const std::vector<std::string> bad = {
      slab_report("", 2),  // object-layer operations came with version 3
      replaced(R"("ids": [1, 0, 1, 1])", R"("ids": [1, 0, 1])"),
      replaced(R"("ids": [1, 0, 1, 1])", R"("ids": [1, "0", 1, 1])"),
      replaced(R"("ids": [1, 0, 1, 1])", R"("ids": [4294967296, 0, 1, 1])"),
      replaced(R"("allocator": 7, "ids")", R"("ids")"),
      replaced(R"("magazine_capacity": [8, 8, 8, 8, 8, 8, 8, 8, 8])", R"("magazine_capacity": [8])"),
      replaced(R"("adaptive_magazines": true)", R"("adaptive_magazines": 1)"),
      replaced(R"("version": 3)", R"("version": 5)"),
      // A class the recorder never writes: past the slab classes, or on a
      // flush (which has none).
      replaced(R"("bytes": 64, "class": 0)", R"("bytes": 64, "class": 9)"),
      replaced(R"("op": "slab_flush", "depth": 0, "allocator": 7, "ids": [0, 0, 0, 0], "bytes": 0, "class": -1)",
               R"("op": "slab_flush", "depth": 0, "allocator": 7, "ids": [0, 0, 0, 0], "bytes": 0, "class": 0)"),
  };
  for (const std::string& text : bad) {
    std::string error;
    EXPECT_FALSE(crash_report_from_json(text, &error).ok()) << text.substr(0, 300);
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(error.rfind("bad crash report: ", 0), 0u) << error;
  }
}

TEST(CrashReportLayers, TheLastSlabClassParsesAndTheFormatVersionIsKept) {
  std::string error;
  std::string text = slab_report("");
  const std::string first = R"("bytes": 64, "class": 0)";
  text.replace(text.find(first), first.size(), R"("bytes": 64, "class": 8)");
  auto report = crash_report_from_json(text, &error);
  ASSERT_TRUE(report.ok()) << error;
  EXPECT_EQ(report->threads[0].events[0].size_class, 8);
  EXPECT_EQ(report->version, 3);
  auto again = crash_report_from_json(crash_report_to_json(report.value()), &error);
  ASSERT_TRUE(again.ok()) << error;
  EXPECT_EQ(again->version, flight_recorder::kFormatVersion);
}

TEST(CrashReportLayers, TheProgramsLastLayerIsRebuilt) {
  std::string error;
  auto report = crash_report_from_json(slab_report(""), &error);
  ASSERT_TRUE(report.ok()) << error;
  const RecordedTarget target = recorded_target(report.value());
  EXPECT_EQ(target.layer, RecordedLayer::Slab);
  EXPECT_EQ(target.instance, 7u);
  EXPECT_FALSE(replays_page_layer(report.value()));
}

// A correct stack passes the rebuilt slab operations: a stress-check report
// of a run without a bug is not "reproduced" (any oracle failure would be).
TEST(ReproduceLayers, ACorrectSlabPassesItsRebuiltOperations) {
  std::string error;
  auto report = crash_report_from_json(slab_report(""), &error);
  ASSERT_TRUE(report.ok()) << error;
  ReproduceLimits limits;
  limits.max_attempts = 8;
  auto outcome = reproduce_crash(report.value(), limits, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  EXPECT_FALSE(outcome->reproduced) << outcome->failure;
  EXPECT_EQ(outcome->attempts, 8u);
}

// With the bug on, the remote frees — numbered before their allocations —
// are replayed after them (by the objects' ids) and counted twice: the slab
// audit fails in the recorded order, and the repro replays the same way.
TEST(ReproduceLayers, ARemoteFreeNumberedBeforeItsAllocationIsReplayedAfterIt) {
  if (!mutants::kBuilt) GTEST_SKIP() << "needs the bug catalogue (mutants preset)";
  std::string error;
  auto report = crash_report_from_json(slab_report("slab-remote-free-counted-twice"), &error);
  ASSERT_TRUE(report.ok()) << error;
  auto outcome = reproduce_crash(report.value(), {}, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  ASSERT_TRUE(outcome->reproduced);
  EXPECT_EQ(outcome->attempts, 1u);
  EXPECT_EQ(outcome->schedule, "recorded order");
  EXPECT_EQ(outcome->failure.rfind("slab-accounting: slab audit after the recorded operations: ", 0), 0u)
      << outcome->failure;
  ASSERT_TRUE(outcome->repro);
  auto read_back = repro_from_json(repro_to_json(*outcome->repro), &error);  // as a new process reads it
  ASSERT_TRUE(read_back.ok()) << error;
  auto replayed = run_scenario(read_back->spec, {}, &error);
  ASSERT_TRUE(replayed.ok()) << error;
  ASSERT_TRUE(replayed->failure);
  EXPECT_EQ(replayed->failure->signature(), outcome->failure);
  EXPECT_EQ(replayed->trace_hash, outcome->repro->expected_trace_hash);
}

}  // namespace
}  // namespace segsim::scenarios
