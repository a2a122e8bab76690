// fuzz_scenario's inputs as runs (scenarios/fuzz_input.h): the layout decodes
// as documented, any bytes give a valid run of every scenario, and a run's
// repro replays it exactly from its recorded decisions — which is what
// `segsim fuzz-artifact` relies on. In mutants builds, a bug found through a
// fuzz input replays to the same failure.
#include <gtest/gtest.h>

#include <string>

#include "core/fault_point.h"
#include "core/mutants.h"
#include "faults/fault_plan.h"
#include "scenarios/fuzz_input.h"
#include "scenarios/repro.h"
#include "sim/random.h"

namespace segsim::scenarios {
namespace {

std::string input(std::uint8_t scenario, std::uint64_t seed, std::uint8_t threads, std::string faults_and_schedule) {
  std::string bytes(1, static_cast<char>(scenario));
  for (int i = 0; i < 8; ++i) bytes += static_cast<char>((seed >> (8 * i)) & 0xff);
  bytes += static_cast<char>(threads);
  return bytes + faults_and_schedule;
}

RunReport run_ok(const RunSpec& spec) {
  std::string error;
  auto report = run_scenario(spec, {}, &error);
  EXPECT_TRUE(report.ok()) << error;
  return report.ok() ? std::move(report.value()) : RunReport{};
}

TEST(FuzzInput, DecodesScenarioSeedThreadsFaultsAndSchedule) {
  const std::size_t count = scenario_catalogue().size();
  const RunSpec spec = fuzz_run_spec(input(static_cast<std::uint8_t>(count + 1), 0x0102030405060708, 4,
                                           std::string("\x02\x05\x07\x03", 4) + "sched"));
  EXPECT_EQ(spec.scenario, scenario_catalogue()[1].name);
  EXPECT_EQ(spec.seed, 0x0102030405060708u);
  EXPECT_EQ(spec.threads, 1 + 4 % std::min(kFuzzMaxThreads, scenario_catalogue()[1].default_threads));
  // Rules 0 and 2 on (0x05): mmap:ENOMEM at rate 7, madvise:EINVAL at rate 3.
  EXPECT_EQ(spec.faults, "mmap:ENOMEM@p=0.25,madvise:EINVAL@p=0.01");
  EXPECT_EQ(spec.fuzz_bytes, "sched");
  EXPECT_EQ(spec.strategy, sim::StrategyKind::Fuzz);
  EXPECT_EQ(fuzz_run_spec(input(0, 1, 0, std::string("\x01", 1))).faults, "swarm");
  EXPECT_EQ(fuzz_run_spec(input(0, 1, 0, std::string("\x00", 1))).faults, "none");
  EXPECT_EQ(fuzz_run_spec("").faults, "none");  // past the end: zeros
  EXPECT_EQ(fuzz_run_spec("").scenario, scenario_catalogue()[0].name);
}

// Rules byte bit 7: fault points chosen one by one — a subset, as swarm's
// plans have, each at its own rate; with other rules before them.
TEST(FuzzInput, DecodesFaultPointsOneByOne) {
  const auto& points = fault_points::kFaultPoints;
  // Rule 1 (madvise:EAGAIN) at rate 0, then points 0 and 9 (mask 0x0201) at rates 7 and 2.
  const RunSpec spec =
      fuzz_run_spec(input(0, 1, 0, std::string("\x02\x82\x00", 3) + fuzz_point_mask_bytes(0x0201) + "\x07\x02" + "sched"));
  EXPECT_EQ(spec.faults, "madvise:EAGAIN@p=0.001,point:" + std::string(points[0].name) + "@p=0.25,point:" +
                             std::string(points[9].name) + "@p=0.005");
  EXPECT_EQ(spec.fuzz_bytes, "sched");
  // No point selected, no other rule: no faults.
  EXPECT_EQ(fuzz_run_spec(input(0, 1, 0, std::string("\x02\x80", 2) + fuzz_point_mask_bytes(0))).faults, "none");
  // Every point's name parses as a fault spec.
  for (std::size_t i = 0; i < points.size(); ++i) {
    const RunSpec one =
        fuzz_run_spec(input(3, 1, 0, std::string("\x03\x80", 2) + fuzz_point_mask_bytes(FuzzPointMask{1} << i) + "\x07"));
    EXPECT_EQ(one.faults, "point:" + std::string(points[i].name) + "@p=0.25");
    std::string error;
    EXPECT_TRUE(faults::make_fault_plan(one.faults, 1, &error).ok()) << one.faults << ": " << error;
  }
}

// Every scenario, from seeded random bytes, runs and passes (the stack has
// no bug here), and the repro of the run replays it to the same trace hash.
TEST(FuzzInput, AnyBytesRunEveryScenarioAndTheReproReplaysIt) {
  sim::Rng rng(16);
  for (std::size_t s = 0; s < scenario_catalogue().size(); ++s) {
    std::string schedule;
    for (int i = 0; i < 64; ++i) schedule += static_cast<char>(rng.next() & 0xff);
    const RunSpec spec = fuzz_run_spec(input(static_cast<std::uint8_t>(s), rng.next(), rng.next() & 0xff,
                                             std::string(1, static_cast<char>(s % 4)) + schedule));
    const RunReport report = run_ok(spec);
    EXPECT_TRUE(report.passed) << spec.scenario << ": " << (report.failure ? report.failure->signature() : "");
    std::string error;
    auto repro = repro_from_json(repro_to_json(repro_from_report(report)), &error);
    ASSERT_TRUE(repro.ok()) << error;
    EXPECT_EQ(repro->spec.strategy, sim::StrategyKind::Fuzz);
    // A replay follows the run's recorded decisions: one that diverges says
    // where (its failure), which a bare hash mismatch would not.
    const RunReport replayed = run_ok(repro->spec);
    EXPECT_EQ(replayed.trace_hash, report.trace_hash)
        << spec.scenario << " seed " << spec.seed << " threads " << spec.threads << " faults " << spec.faults
        << ": run " << report.steps << " steps, replay " << replayed.steps << " steps"
        << (replayed.failure ? ", replay failed: " + replayed.failure->signature() : std::string());
  }
}

TEST(FuzzInput, AFailureFoundThroughAFuzzInputReplaysFromItsRepro) {
  RunSpec spec = fuzz_run_spec(input(0, 7, 1, std::string("\x00\x10\x22\x01", 4)));
  ASSERT_EQ(spec.scenario, "chicago");
  if (mutants::kBuilt) {
    spec.bug = "return-not-idempotent";
  } else {
    spec.test_hook = "corrupt-segment";
  }
  const RunReport report = run_ok(spec);
  ASSERT_FALSE(report.passed);
  std::string error;
  auto repro = repro_from_json(repro_to_json(repro_from_report(report)), &error);
  ASSERT_TRUE(repro.ok()) << error;
  const RunReport again = run_ok(repro->spec);
  ASSERT_TRUE(again.failure.has_value());
  EXPECT_EQ(again.failure->signature(), report.failure->signature());
  EXPECT_EQ(again.trace_hash, report.trace_hash);
}

}  // namespace
}  // namespace segsim::scenarios
