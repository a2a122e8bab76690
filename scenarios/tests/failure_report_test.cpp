// Failure reports a person can act on (issue 13): signatures with stable ids
// only, the first offending operation with its fiber and step, the trace
// events around that step (not the run's last ones, not mutex noise), and
// the involved slice's history — also for double frees found at quiescence.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "core/mutants.h"
#include "scenarios/failure_signature.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/repro.h"
#include "scenarios/report_events.h"
#include "scenarios/run.h"
#include "core/platform/clock.h"
#include "sim/simulation.h"

namespace segsim::scenarios {
namespace {

// A raw user-space address as printed by Error::describe().
const std::regex kRawAddress("0x7[0-9a-f]{10,}|0x5[0-9a-f]{10,}");

TEST(StableText, RewritesAddressesKeepsOffsetsAndWords) {
  const AddressNamer namer = [](std::uintptr_t a) -> std::optional<std::string> {
    if (a == 0x7f0000001000) return "region #2 slice 1";
    if (a >= (std::uintptr_t{1} << 36)) return "<foreign address>";
    return std::nullopt;
  };
  EXPECT_EQ(stable_text("double free: segment 0x7f0000001000 (class 4 KiB)", namer),
            "double free: segment region #2 slice 1 (class 4 KiB)");
  EXPECT_EQ(stable_text("at 0x7e0000000000, offset 0x1000", namer), "at <foreign address>, offset 0x1000");
  EXPECT_EQ(stable_text("word0x7f0000001000 0x 0xg", namer), "word0x7f0000001000 0x 0xg");
  EXPECT_EQ(stable_text("0x123456789abcdef0123", namer), "<foreign address>") << "overflow: not an offset";
}

// Allocator ids hang on what the process made before the run: by order of mention.
TEST(StableText, NamesAllocatorsByTheirOrderOfMention) {
  const AddressNamer none = [](std::uintptr_t) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_EQ(stable_text("allocate of allocator 150 region 2; allocator 7's config, not allocator 150's", none),
            "allocate of allocator #1 region 2; allocator #2's config, not allocator #1's");
  EXPECT_EQ(stable_text("allocator 12 region 2", none), stable_text("allocator 150 region 2", none));
  EXPECT_NE(stable_text("allocator 12 and allocator 12", none), stable_text("allocator 12 and allocator 13", none));
  EXPECT_EQ(stable_text("allocator refused; slab allocator 3x; suballocator 4", none),
            "allocator refused; slab allocator 3x; suballocator 4");
}

TEST(ReportEvents, AroundTheStepWithoutOtherFibersMutexNoise) {
  std::vector<sim::TraceEvent> window;
  for (std::uint64_t step = 1; step <= 40; ++step) {
    window.push_back(sim::TraceEvent{step, static_cast<std::uint32_t>(step % 3),
                                     step % 2 == 0 ? sim::TraceOp::MutexLock : sim::TraceOp::AtomicFetchAdd, 1, 0, 0});
  }
  const auto events = events_around(window, 1, 20, 4, 3);
  ASSERT_EQ(events.size(), 7u);
  for (const auto& e : events) {
    EXPECT_TRUE(e.op != sim::TraceOp::MutexLock || e.fiber == 1) << e.describe();
  }
  EXPECT_LE(events[3].step, 20u);
  EXPECT_GT(events[4].step, 20u);
  EXPECT_GE(events.front().step, 10u) << "the last events before the step, not the first of the window";
}

RunReport run_failing(const RunSpec& spec) {
  std::string error;
  auto report = run_scenario(spec, {}, &error);
  EXPECT_TRUE(report.ok()) << error;
  EXPECT_TRUE(report.ok() && report->failure.has_value());
  return report.ok() ? std::move(report.value()) : RunReport{};
}

TEST(FailureReport, ContentFailureNamesStepFiberTraceAroundAndHistory) {
  RunSpec spec;
  spec.scenario = "chicago";
  spec.seed = 42;
  spec.test_hook = "corrupt-segment";
  const RunReport report = run_failing(spec);
  ASSERT_TRUE(report.failure);
  const Failure& f = *report.failure;
  EXPECT_NE(f.fiber, sim::kNoFiber);
  EXPECT_GT(f.step, 0u);
  EXPECT_LT(f.step, report.steps);
  ASSERT_FALSE(f.trace_around.empty());
  bool before = false;
  for (const auto& e : f.trace_around) {
    before |= e.step <= f.step;
    EXPECT_LE(e.step, f.step + 1000) << "around the failing step, not the run's end: " << e.describe();
    const bool mutex = e.op == sim::TraceOp::MutexLock || e.op == sim::TraceOp::MutexUnlock;
    EXPECT_FALSE(mutex && e.fiber != f.fiber) << "other fibers' mutex noise: " << e.describe();
  }
  EXPECT_TRUE(before);
  EXPECT_FALSE(f.segment.empty());
  ASSERT_FALSE(f.segment_history.empty());
  EXPECT_EQ(f.segment_history.front().what, "allocated");
  EXPECT_FALSE(f.operations_around.empty());
  EXPECT_FALSE(std::regex_search(f.signature(), kRawAddress)) << f.signature();
}

// Two fibers: one allocates and releases a slice, the other releases the same
// handle again. The double-free oracle at quiescence names that release.
TEST(FailureReport, DoubleFreeAtQuiescenceNamesTheFirstOffendingRelease) {
  faults::SimOsConfig os_config;
  os_config.reservation_bytes = std::size_t{64} << 20;
  auto os = faults::SimOs::create(os_config);
  ASSERT_TRUE(os.ok());
  Oracles oracles(*os.value());
  SegmentAllocatorConfig config;
  config.region_bytes = 256 * 1024;
  config.observer = &oracles;
  auto allocator = SegmentAllocator::create(*os.value(), config);
  ASSERT_TRUE(allocator.ok());
  oracles.attach(*allocator.value());

  sim::SimulationConfig sim_config;
  sim_config.seed = 3;
  sim_config.strategy = "rr";
  sim::Simulation simulation(sim_config);
  Segment handle;
  std::uint64_t second_release_step = 0;  // the release's scheduling points lie in between
  std::uint64_t after_second_release_step = 0;
  simulation.spawn("owner", [&] {
    auto got = allocator.value()->allocate(4096);
    ASSERT_TRUE(got.ok());
    handle = got.value();
    ASSERT_TRUE(allocator.value()->release(handle).ok());
  });
  simulation.spawn("second", [&] {
    while (handle.is_null()) platform::yield();
    platform::yield();
    second_release_step = sim::Simulation::current()->step();
    EXPECT_FALSE(allocator.value()->release(handle).ok());
    after_second_release_step = sim::Simulation::current()->step();
  });
  const sim::RunResult result = simulation.run();
  ASSERT_TRUE(result.passed()) << result.message;
  oracles.check_quiescent(0);
  oracles.complete_failure(result);
  ASSERT_TRUE(oracles.failure());
  const Failure& f = *oracles.failure();
  EXPECT_EQ(f.oracle, "double-free");
  EXPECT_EQ(f.fiber, 1u) << "the fiber of the offending release, not the checker";
  EXPECT_GE(f.step, second_release_step);
  EXPECT_LE(f.step, after_second_release_step);
  EXPECT_NE(f.message.find("the first: release of region #"), std::string::npos) << f.message;
  EXPECT_EQ(f.segment.rfind("region #", 0), 0u) << f.segment;
  ASSERT_GE(f.segment_history.size(), 3u);
  EXPECT_EQ(f.segment_history[0].what, "allocated");
  EXPECT_EQ(f.segment_history[0].fiber, 0u);
  EXPECT_EQ(f.segment_history[1].what, "released");
  EXPECT_EQ(f.segment_history.back().what, "release refused");
  EXPECT_EQ(f.segment_history.back().fiber, 1u);
  EXPECT_FALSE(f.trace_around.empty());
  EXPECT_FALSE(std::regex_search(f.signature(), kRawAddress)) << f.signature();
  EXPECT_NE(f.signature().find("region #"), std::string::npos) << f.signature();
}

// The acceptance of issue 13 in-process: a catalogued bug's failure replays
// with the same signature from its repro text (addresses differ between the
// runs' processes; the signature has none). Needs the mutants build.
TEST(FailureReport, MutantFailureReplaysWithTheSameSignature) {
  if (!mutants::kBuilt) GTEST_SKIP() << "needs the mutants preset";
  RunSpec spec;
  spec.scenario = "resize-storm";
  spec.seed = 1;
  spec.bug = "resize-alias";
  const RunReport report = run_failing(spec);
  ASSERT_TRUE(report.failure);
  EXPECT_FALSE(std::regex_search(report.failure->signature(), kRawAddress)) << report.failure->signature();
  std::string error;
  auto repro = repro_from_json(repro_to_json(repro_from_report(report)), &error);
  ASSERT_TRUE(repro.ok()) << error;
  const RunReport again = run_failing(repro->spec);
  ASSERT_TRUE(again.failure && repro->failure);
  EXPECT_EQ(again.failure->signature(), repro->failure->signature());
  EXPECT_FALSE(again.failure->segment_history.empty());
}

}  // namespace
}  // namespace segsim::scenarios

namespace segsim::scenarios {
namespace {

// A failure message may quote bytes that are not UTF-8 (what a process wrote
// on stderr, a corrupted file's bytes): the repro is written all the same,
// each such byte replaced, and reads back.
TEST(FailureReport, ReproWithAMessageThatIsNotUtf8IsWrittenAndReadsBack) {
  Repro repro;
  RunSpec spec;
  spec.scenario = "alloc-api";
  spec.seed = 1;
  repro.spec = resolved_spec(spec);
  Failure failure;
  failure.oracle = "flight-recorder";
  failure.message = std::string("stderr said 'crash report \xA2\xFF'");
  repro.failure = failure;
  std::string text;
  ASSERT_NO_THROW(text = repro_to_json(repro));
  std::string error;
  const Result<Repro> back = repro_from_json(text, &error);
  ASSERT_TRUE(back.ok()) << error;
  ASSERT_TRUE(back.value().failure);
  EXPECT_EQ(back.value().failure->message, "stderr said 'crash report \xEF\xBF\xBD\xEF\xBF\xBD'");
}

}  // namespace
}  // namespace segsim::scenarios
