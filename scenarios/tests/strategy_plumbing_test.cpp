// The scheduling strategies through run_scenario: PCT's k is calibrated
// deterministically and recorded (report, repro), so a pct run is reproduced
// from its spec alone; pos runs every scenario and replays from its decisions.
#include <gtest/gtest.h>

#include <string>

#include "scenarios/repro.h"
#include "scenarios/run.h"

namespace segsim::scenarios {
namespace {

RunReport run_ok(const RunSpec& spec) {
  std::string error;
  auto report = run_scenario(spec, {}, &error);
  EXPECT_TRUE(report.ok()) << error;
  return report.ok() ? std::move(report.value()) : RunReport{};
}

TEST(PctCalibration, KIsTheCalibrationRunsLengthAndIsRecorded) {
  RunSpec spec;
  spec.scenario = "evict-race";
  spec.strategy = sim::StrategyKind::Pct;
  spec.seed = 5;
  const std::uint64_t k = pct_steps_for(spec);
  RunSpec calibration = spec;
  calibration.strategy = sim::StrategyKind::Random;
  calibration.seed = 1;
  EXPECT_EQ(k, run_ok(calibration).steps);
  EXPECT_EQ(pct_steps_for(spec), k) << "cached and stable";

  const RunReport report = run_ok(spec);
  EXPECT_EQ(report.spec.pct_steps, k);
  // The recorded k reproduces the run from its spec alone, without decisions.
  RunSpec again = report.spec;
  EXPECT_EQ(run_ok(again).trace_hash, report.trace_hash);
  // An explicit k is used as given, not calibrated.
  again.pct_steps = k * 7;
  EXPECT_EQ(run_ok(again).spec.pct_steps, k * 7);
}

TEST(PctCalibration, ReproKeepsK) {
  RunSpec spec;
  spec.scenario = "evict-race";
  spec.strategy = sim::StrategyKind::Pct;
  const RunReport report = run_ok(spec);
  std::string error;
  auto parsed = repro_from_json(repro_to_json(repro_from_report(report)), &error);
  ASSERT_TRUE(parsed.ok()) << error;
  EXPECT_EQ(parsed->spec.pct_steps, report.spec.pct_steps);
  EXPECT_GT(parsed->spec.pct_steps, 0u);
}

TEST(Pos, EveryScenarioPassesAndReplaysFromItsDecisions) {
  for (const ScenarioInfo& info : scenario_catalogue()) {
    RunSpec spec;
    spec.scenario = info.name;
    spec.strategy = sim::StrategyKind::Pos;
    spec.seed = 2;
    const RunReport report = run_ok(spec);
    EXPECT_TRUE(report.passed) << info.name << ": " << (report.failure ? report.failure->signature() : "");
    RunSpec replay = report.spec;
    replay.decisions = report.decisions;
    const RunReport replayed = run_ok(replay);
    EXPECT_EQ(replayed.trace_hash, report.trace_hash) << info.name;
    EXPECT_EQ(run_ok(spec).trace_hash, report.trace_hash) << info.name << ": pos is deterministic";
  }
}

}  // namespace
}  // namespace segsim::scenarios
