// segsim reproduce's parts (issue 13): the crash report parser is strict (a
// bad, truncated or foreign report is one line), and a report's recorded
// operations, rebuilt as fibers, make the recorded refusal recur — first in
// the recorded order; a refusal the operations cannot cause is not found.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include <fmt/format.h>

#include "scenarios/alloc_ops_input.h"
#include "scenarios/crash_report.h"
#include "scenarios/fuzz_artifact.h"
#include "scenarios/recording.h"
#include "scenarios/repro.h"
#include "scenarios/reproduce.h"

namespace segsim::scenarios {
namespace {

std::string event(std::uint64_t seq, const char* op, int size_class, std::uint32_t slice, std::uint32_t generation,
                  const char* result) {
  return fmt::format(R"({{"seq": {}, "op": "{}", "bytes": {}, "class": {}, "region": 0, "slice": {}, )"
                     R"("generation": {}, "result": "{}", "address": "0x7f0000001000"}})",
                     seq, op, std::string(op).rfind("allocate", 0) == 0 ? 4096 : 0, size_class, slice, generation,
                     result);
}

// Thread 0 allocates slice 0 and releases it; thread 1 releases the same
// handle again afterwards: the double free the report records.
std::string double_free_report(const std::string& refused_slice = "0") {
  return fmt::format(R"({{"format": "segsim-crash", "version": 1, "build_id": "b", "pid": 1,
  "stack": {{"region_bytes": 262144, "budget_bytes": 67108864, "ring_events": 16, "threads_not_recorded": 0}},
  "failure": {{"kind": "refused", "errc": "double free", "thread": 1,
               "operation": {{"seq": 3, "op": "release", "bytes": 0, "class": 0, "region": 0, "slice": {},
                             "generation": 1, "result": "double free", "address": "0x1"}}}},
  "threads": [
    {{"thread": 0, "recorded": 2, "events": [{}, {}]}},
    {{"thread": 1, "recorded": 1, "events": [{}]}}
  ]}})",
                     refused_slice, event(1, "allocate", 0, 0, 1, "ok"), event(2, "release", 0, 0, 1, "ok"),
                     event(3, "release", 0, 0, 1, "double free"));
}

TEST(CrashReport, ParsesTheRecordedOperations) {
  std::string error;
  auto report = crash_report_from_json(double_free_report(), &error);
  ASSERT_TRUE(report.ok()) << error;
  EXPECT_EQ(report->kind, "refused");
  ASSERT_TRUE(report->refused);
  EXPECT_EQ(report->refused->error, Errc::DoubleFree);
  ASSERT_EQ(report->threads.size(), 2u);
  EXPECT_EQ(report->threads[0].events[1].op, flight_recorder::Op::Release);
  EXPECT_EQ(report->threads[0].events[1].address.value, 0x7f0000001000u);  // read, for recorder-addresses
  EXPECT_EQ(report->region_bytes, 262144u);
}

TEST(CrashReport, BadTruncatedOrForeignIsOneLine) {
  const std::string good = double_free_report();
  std::vector<std::string> bad = {"", "{", "[]", R"({"format": "segsim-repro", "version": 2})",
                                  R"({"format": "segsim-crash", "version": 99})"};
  for (std::size_t cut = 1; cut < good.size(); cut += 37) bad.push_back(good.substr(0, cut));
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  bad.push_back(replaced(R"("op": "allocate")", R"("op": "free")"));
  bad.push_back(replaced(R"("result": "ok")", R"("result": "oops")"));
  bad.push_back(replaced(R"("class": 0)", R"("class": 9)"));
  bad.push_back(replaced(R"("seq": 2)", R"("seq": 1)"));
  bad.push_back(replaced(R"("region_bytes": 262144)", R"("region_bytes": -1)"));
  bad.push_back(replaced(R"("class": 0)", R"("class": -0)"));  // a signed zero: not the writer's form
  for (const char* address : {R"("0x7g")", R"("7f0000001000")", R"("0x")", R"("0x10000000000000000")", "4096",
                              R"("0x07f0000001000")", R"("0x00")", R"("0x7F0000001000")", R"("0x+7f")"}) {
    bad.push_back(replaced(R"("0x7f0000001000")", address));
  }
  for (const std::string& text : bad) {
    std::string error;
    EXPECT_FALSE(crash_report_from_json(text, &error).ok()) << text;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(error.rfind("bad crash report: ", 0), 0u) << error;
  }
}

TEST(Reproduce, TheRecordedDoubleFreeRecursInTheRecordedOrder) {
  std::string error;
  auto report = crash_report_from_json(double_free_report(), &error);
  ASSERT_TRUE(report.ok()) << error;
  auto outcome = reproduce_crash(report.value(), {}, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  EXPECT_TRUE(outcome->reproduced);
  EXPECT_EQ(outcome->attempts, 1u);
  EXPECT_EQ(outcome->schedule, "recorded order");
  EXPECT_EQ(outcome->failure,
            "double-free: release of recorded region #0 slice 0 (generation 1) by recorded thread 1 refused again: "
            "double free");
}

// The reproducing attempt is an ordinary repro: written, read back (as a new
// process would) and run again, it fails with the same signature and hash.
TEST(Reproduce, TheReproducedRunIsARepro) {
  std::string error;
  auto report = crash_report_from_json(double_free_report(), &error);
  ASSERT_TRUE(report.ok()) << error;
  auto outcome = reproduce_crash(report.value(), {}, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  ASSERT_TRUE(outcome->repro && outcome->repro->failure);
  EXPECT_EQ(outcome->repro->spec.scenario, "recorded");
  auto read_back = repro_from_json(repro_to_json(*outcome->repro), &error);
  ASSERT_TRUE(read_back.ok()) << error;
  ASSERT_TRUE(read_back->spec.recording);
  EXPECT_TRUE(read_back->spec.recording->follow_recorded_order);
  auto replayed = run_scenario(read_back->spec, {}, &error);
  ASSERT_TRUE(replayed.ok()) << error;
  ASSERT_TRUE(replayed->failure);
  EXPECT_EQ(replayed->failure->signature(), outcome->failure);
  EXPECT_EQ(replayed->trace_hash, outcome->repro->expected_trace_hash);
}

// A later report of the same process: its rings hold the earlier refusal
// (seq 3) too, which is expected in the rebuilt run; the report's own (seq 6)
// is the failure that recurs.
TEST(Reproduce, AnEarlierRecordedRefusalIsNotTheFailureSought) {
  const std::string text = fmt::format(R"({{"format": "segsim-crash", "version": 1, "build_id": "b",
  "stack": {{"region_bytes": 262144, "budget_bytes": 67108864}},
  "failure": {{"kind": "refused", "errc": "double free", "thread": 1,
               "operation": {}}},
  "threads": [{{"thread": 0, "recorded": 4, "events": [{}, {}, {}, {}]}},
              {{"thread": 1, "recorded": 2, "events": [{}, {}]}}]}})",
                                       event(6, "release", 0, 1, 1, "double free"), event(1, "allocate", 0, 0, 1, "ok"),
                                       event(2, "release", 0, 0, 1, "ok"), event(4, "allocate", 0, 1, 1, "ok"),
                                       event(5, "release", 0, 1, 1, "ok"), event(3, "release", 0, 0, 1, "double free"),
                                       event(6, "release", 0, 1, 1, "double free"));
  std::string error;
  auto report = crash_report_from_json(text, &error);
  ASSERT_TRUE(report.ok()) << error;
  auto outcome = reproduce_crash(report.value(), {}, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  ASSERT_TRUE(outcome->reproduced);
  EXPECT_NE(outcome->failure.find("recorded region #0 slice 1 (generation 1)"), std::string::npos) << outcome->failure;
}

// A ring copied while its thread kept recording starts with slots already
// overwritten by newer events: they are dropped, the rest kept in order.
TEST(CrashReport, OverwrittenLeadingSlotsAreDropped) {
  std::string text = double_free_report();
  const std::string first = event(1, "allocate", 0, 0, 1, "ok");
  text.replace(text.find(first), first.size(), event(9, "allocate", 0, 7, 1, "ok") + ", " + first);
  std::string error;
  auto report = crash_report_from_json(text, &error);
  ASSERT_TRUE(report.ok()) << error;
  ASSERT_EQ(report->threads[0].events.size(), 2u);
  EXPECT_EQ(report->threads[0].events[0].sequence, 1u);
  EXPECT_EQ(report->threads[0].events[1].sequence, 2u);
}

// Version 4: a thread's events between two of its synchronisations tie on
// their sequence number (a cache hit does not step the clock) and keep their
// order in the ring. Ties are refused in earlier versions, where each event
// stepped the clock. Thread 1's refusal comes after both of thread 0's
// events: the recorded order allocates, releases, then refuses.
std::string tied_report(int version) {
  std::string text = double_free_report();
  const std::string release = event(2, "release", 0, 0, 1, "ok");
  text.replace(text.find(release), release.size(), event(1, "release", 0, 0, 1, "ok"));
  text.replace(text.find(R"("version": 1)"), 12, fmt::format(R"("version": {})", version));
  return text;
}

TEST(CrashReport, Version4EventsOfAThreadMayTieAndKeepTheirOrder) {
  std::string error;
  EXPECT_FALSE(crash_report_from_json(tied_report(3), &error).ok());
  EXPECT_EQ(error, "bad crash report: a thread's events are not in sequence order");
  auto report = crash_report_from_json(tied_report(4), &error);
  ASSERT_TRUE(report.ok()) << error;
  ASSERT_EQ(report->threads[0].events.size(), 2u);
  EXPECT_EQ(report->threads[0].events[0].op, flight_recorder::Op::Allocate);
  EXPECT_EQ(report->threads[0].events[1].op, flight_recorder::Op::Release);
  auto outcome = reproduce_crash(report.value(), {}, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  EXPECT_TRUE(outcome->reproduced);
  EXPECT_EQ(outcome->attempts, 1u);
  EXPECT_EQ(outcome->schedule, "recorded order");
}

TEST(CrashReport, WrittenBackItReadsTheSame) {
  std::string error;
  std::string text = double_free_report();
  text.replace(text.find(R"("build_id": "b",)"), 16, R"("build_id": "b", "bug": "resize-alias",)");
  auto report = crash_report_from_json(text, &error);
  ASSERT_TRUE(report.ok()) << error;
  auto again = crash_report_from_json(crash_report_to_json(report.value()), &error);
  ASSERT_TRUE(again.ok()) << error;
  EXPECT_EQ(again->bug, "resize-alias");
  EXPECT_EQ(again->text, report->text);
  EXPECT_EQ(again->refused_thread, 1u);
  EXPECT_TRUE(again->threads == report->threads);
  // A raw address is neither written back nor compared (DESIGN.md).
  EXPECT_EQ(again->threads[0].events[0].address.value, 0u);
  EXPECT_NE(report->threads[0].events[0].address.value, 0u);
}

// Thread 0 allocates slice 0 (and, with `released`, releases it); the
// process then died of a SIGSEGV at offset 8 of that slice.
std::string signal_report(bool released) {
  const std::string events = released ? event(1, "allocate", 0, 0, 1, "ok") + ", " + event(2, "release", 0, 0, 1, "ok")
                                      : event(1, "allocate", 0, 0, 1, "ok");
  return fmt::format(R"({{"format": "segsim-crash", "version": 1, "build_id": "b", "pid": 1,
  "stack": {{"region_bytes": 262144, "budget_bytes": 67108864, "ring_events": 16, "threads_not_recorded": 0}},
  "failure": {{"kind": "signal", "signal": 11, "signal_name": "SIGSEGV", "fault_address": "0x7f0000001008",
               "fault_slice": {{"region": 0, "slice": 0, "generation": 1, "offset": 8}}}},
  "threads": [{{"thread": 0, "recorded": {}, "events": [{}]}}]}})",
                     released ? 2 : 1, events);
}

TEST(Reproduce, ASignalInsideAReleasedSliceRecursAsUseAfterRelease) {
  std::string error;
  auto report = crash_report_from_json(signal_report(true), &error);
  ASSERT_TRUE(report.ok()) << error;
  ASSERT_TRUE(report->fault_slice);
  EXPECT_EQ(report->fault_slice->offset, 8u);
  auto outcome = reproduce_crash(report.value(), {}, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  ASSERT_TRUE(outcome->reproduced);
  EXPECT_EQ(outcome->failure.rfind("use-after-release: the recorded SIGSEGV at offset 8 of recorded region #0 slice 0", 0),
            0u)
      << outcome->failure;
}

TEST(Reproduce, ASignalInsideALiveMappedSliceIsNotFound) {
  std::string error;
  auto report = crash_report_from_json(signal_report(false), &error);
  ASSERT_TRUE(report.ok()) << error;
  ReproduceLimits limits;
  limits.max_attempts = 3;
  auto outcome = reproduce_crash(report.value(), limits, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  EXPECT_FALSE(outcome->reproduced);
}

TEST(Reproduce, ASignalOutsideEveryRecordedSliceIsRefusedInOneLine) {
  std::string text = signal_report(true);
  const auto from = text.rfind(',', text.find(R"("fault_slice")"));
  text.erase(from, text.find('}', from) + 1 - from);
  std::string error;
  auto report = crash_report_from_json(text, &error);
  ASSERT_TRUE(report.ok()) << error;
  EXPECT_FALSE(reproduce_crash(report.value(), {}, &error).ok());
  EXPECT_NE(error.find("SIGSEGV outside every recorded slice"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

// An assertion matches by its condition and message, never by address or line.
TEST(Reproduce, AnAssertionRecursByItsText) {
  CrashReport report;
  report.kind = "assertion";
  report.assertion = CrashAssertion{"free == total", "region fully free", "core/x.cpp", 12};
  Failure same{.oracle = "assertion", .message = "assertion failed: free == total (region fully free) at /src/core/x.cpp:14"};
  Failure other{.oracle = "assertion", .message = "assertion failed: free < total (region fully free) at /src/core/x.cpp:12"};
  Failure not_assertion{.oracle = "exception", .message = "assertion failed: free == total (region fully free)"};
  EXPECT_TRUE(recurs_in(report, same));
  EXPECT_FALSE(recurs_in(report, other));
  EXPECT_FALSE(recurs_in(report, not_assertion));
  EXPECT_EQ(unmatchable_because(report), "");
}

// A real-thread stress test's own check names no operation: any oracle
// failure of the rebuilt run matches; another reason of its own does not.
TEST(Reproduce, AStressCheckReportMatchesAnyOracleFailure) {
  CrashReport report;
  report.kind = flight_recorder::kStressCheckReport;
  EXPECT_EQ(unmatchable_because(report), "");
  EXPECT_TRUE(recurs_in(report, Failure{.oracle = "leak", .message = "2 live slices at quiescence"}));
  report.kind = "my own reason";
  EXPECT_NE(unmatchable_because(report), "");
  EXPECT_FALSE(recurs_in(report, Failure{.oracle = "leak", .message = "2 live slices at quiescence"}));
}

TEST(Reproduce, TheRecordedScenarioNeedsARecording) {
  RunSpec spec;
  spec.scenario = "recorded";
  std::string error;
  EXPECT_FALSE(run_scenario(spec, {}, &error).ok());
  EXPECT_NE(error.find("segsim reproduce"), std::string::npos) << error;
  EXPECT_EQ(find_scenario("recorded")->name, "recorded");
  for (const ScenarioInfo& info : scenario_catalogue()) EXPECT_NE(info.name, "recorded");
}

TEST(Reproduce, ARefusalTheOperationsCannotCauseIsNotFound) {
  std::string error;
  auto report = crash_report_from_json(double_free_report("5"), &error);  // slice 5: never released twice
  ASSERT_TRUE(report.ok()) << error;
  ReproduceLimits limits;
  limits.max_attempts = 4;
  auto outcome = reproduce_crash(report.value(), limits, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  EXPECT_FALSE(outcome->reproduced);
  EXPECT_EQ(outcome->attempts, 4u);
}

TEST(Reproduce, ABadStackConfigIsRefused) {
  std::string text = double_free_report();
  text.replace(text.find("262144"), 6, "1000");
  std::string error;
  auto report = crash_report_from_json(text, &error);
  ASSERT_TRUE(report.ok()) << error;
  EXPECT_FALSE(reproduce_crash(report.value(), {}, &error).ok());
  EXPECT_NE(error.find("allocator config"), std::string::npos) << error;
  EXPECT_EQ(error.rfind("bad crash report: ", 0), 0u) << error;
}


// fuzz_alloc_ops's byte format, decoded as the target reads it: the config
// byte, then each op's opcode (modulo the op count) and fixed argument bytes;
// reads past the end are 0.
TEST(AllocOpsInput, DecodesTheTargetsFormat) {
  const std::uint8_t bytes[] = {3, 0, 1, 2, 12, 5, 6, 7, 8, 9, 1};
  const fuzzing::AllocOpsInput input = fuzzing::decode_alloc_ops(bytes, sizeof bytes);
  EXPECT_EQ(input.config, 3);
  EXPECT_TRUE(input.madvise_resets());
  EXPECT_FALSE(input.proactive_cleanup());
  ASSERT_EQ(input.steps.size(), 4u);
  EXPECT_EQ(input.steps[0].op, fuzzing::AllocOp::Allocate);
  EXPECT_EQ(std::tie(input.steps[0].a, input.steps[0].b), std::tie(bytes[2], bytes[3]));
  EXPECT_EQ(input.steps[1].op, fuzzing::AllocOp::Release);  // 12 % 10
  EXPECT_EQ(input.steps[1].a, 5);
  EXPECT_EQ(input.steps[2].op, fuzzing::AllocOp::Write);
  EXPECT_EQ(std::tie(input.steps[2].a, input.steps[2].b), std::tie(bytes[7], bytes[8]));
  EXPECT_EQ(input.steps[3].op, fuzzing::AllocOp::InjectFailure);
  EXPECT_EQ(input.steps[3].a, 1);
  EXPECT_EQ(input.steps[3].b, 0);  // past the end
  EXPECT_EQ(fuzzing::alloc_op_request_bytes(0, 0), 1u);
  EXPECT_EQ(fuzzing::alloc_op_request_bytes(0, 255), class_bytes(0));
  EXPECT_GT(fuzzing::alloc_op_request_bytes(static_cast<std::uint8_t>(kSizeClassCount), 1), kLargestClassBytes);
}

// Allocations of every class, writes, resets, releases, stale releases and
// region release: the correct stack passes, the artifact travels in a repro
// and runs the same from it.
TEST(Reproduce, AFuzzArtifactRunsUnderTheOraclesAndTravelsInARepro) {
  std::string bytes = {'\0'};
  for (std::uint8_t c = 0; c < kSizeClassCount; ++c) bytes += {0, static_cast<char>(c), 100, 6, 0, 7};
  for (int i = 0; i < 4; ++i) bytes += {5, 0, 2, 0, 3, 0, 4, 0};
  bytes += {7, 0, 8, 0};
  FuzzArtifact artifact{"alloc_ops", bytes};
  ReproduceLimits limits;
  limits.max_attempts = 2;
  std::string error;
  auto outcome = reproduce_fuzz_artifact(artifact, limits, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  EXPECT_FALSE(outcome->reproduced) << outcome->failure;
  EXPECT_EQ(outcome->attempts, 2u);

  RunSpec spec;
  spec.scenario = "fuzz-alloc-ops";
  spec.fuzz_artifact = std::make_shared<FuzzArtifact>(artifact);
  auto run = run_scenario(spec, {}, &error);
  ASSERT_TRUE(run.ok()) << error;
  EXPECT_TRUE(run->passed);
  Repro repro = repro_from_report(run.value());
  auto read_back = repro_from_json(repro_to_json(repro), &error);
  ASSERT_TRUE(read_back.ok()) << error;
  ASSERT_TRUE(read_back->spec.fuzz_artifact);
  EXPECT_EQ(read_back->spec.fuzz_artifact->bytes, bytes);
  auto again = run_scenario(read_back->spec, {}, &error);
  ASSERT_TRUE(again.ok()) << error;
  EXPECT_EQ(again->trace_hash, run->trace_hash);
}

TEST(Reproduce, AnArtifactOfAnotherTargetIsRefusedInOneLine) {
  std::string error;
  EXPECT_FALSE(reproduce_fuzz_artifact(FuzzArtifact{"page_file", "x"}, {}, &error).ok());
  EXPECT_NE(error.find("fuzz_page_file"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace segsim::scenarios
