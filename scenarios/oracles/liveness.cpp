// liveness: the simulator's verdicts — deadlock (every fiber blocked), step
// limit (livelock), a fiber that threw or tripped an assertion — become
// oracle failures when no other oracle explained the run's end first.
#include "scenarios/oracles/liveness.h"

namespace segsim::scenarios {

void explain_simulation_failure(const sim::RunResult& result, Oracles& oracles) {
  if (result.passed() || oracles.failure()) return;
  std::string oracle = "exception";
  switch (result.outcome) {
    case sim::Outcome::Deadlock:
    case sim::Outcome::StepLimit:
      oracle = "liveness";
      break;
    case sim::Outcome::ReplayDiverged:
      oracle = "replay-diverged";
      break;
    case sim::Outcome::FiberFailed:
      oracle = result.message.find("assertion failed") != std::string::npos ? "assertion" : "exception";
      break;
    case sim::Outcome::Passed:
      break;
  }
  oracles.record_simulation_failure(oracle, result.message, result.failed_fiber, result.failure_step);
}

}  // namespace segsim::scenarios
