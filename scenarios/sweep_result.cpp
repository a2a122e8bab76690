// A sweep's results: outcomes and the settings its seeds ran with.
#include <algorithm>

#include <fmt/format.h>

#include "scenarios/safe_file.h"
#include "scenarios/sweep_result.h"

namespace segsim::scenarios {

std::string_view seed_outcome_name(SeedOutcome outcome) {
  switch (outcome) {
    case SeedOutcome::Passed: return "passed";
    case SeedOutcome::Failed: return "failed";
    case SeedOutcome::Crashed: return "crashed";
    case SeedOutcome::TimedOut: return "timed-out";
  }
  return "?";
}

std::size_t SweepResult::failures() const {
  return static_cast<std::size_t>(std::count_if(seeds.begin(), seeds.end(), [](const SeedResult& s) {
    return s.outcome != SeedOutcome::Passed;
  }));
}

std::vector<std::pair<const char*, std::string>> settings_list(const SweepResult& r) {
  return {{"scenario", r.scenario},
          {"strategy", r.strategy},
          {"faults", r.faults},
          {"pct_depth", std::to_string(r.pct_depth)},
          {"threads", std::to_string(r.threads)},
          {"size", std::to_string(r.size)},
          {"max_steps", std::to_string(r.max_steps)},
          {"test_hook", r.test_hook},
          {"bug", r.bug},
          {"build_id", r.build_id}};
}

SweepResult sweep_settings(const RunSpec& spec_in) {
  const RunSpec spec = resolved_spec(spec_in);
  SweepResult r;
  r.scenario = spec.scenario;
  r.strategy = sim::strategy_name(spec.strategy);
  r.faults = spec.faults;
  r.pct_depth = spec.pct_depth;
  r.threads = spec.threads;
  r.size = spec.size;
  r.max_steps = spec.max_steps;
  r.test_hook = spec.test_hook;
  r.bug = spec.bug;
  r.build_id = build_id();
  return r;
}

std::string settings_difference(const SweepResult& a, const SweepResult& b) {
  const auto mine = settings_list(a);
  const auto theirs = settings_list(b);
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (mine[i].second != theirs[i].second) {
      return fmt::format("{} {} vs {}", mine[i].first, quoted_text(mine[i].second, 60), quoted_text(theirs[i].second, 60));
    }
  }
  return {};
}

}  // namespace segsim::scenarios
