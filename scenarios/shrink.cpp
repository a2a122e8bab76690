#include "scenarios/shrink.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <ostream>

#include <fmt/format.h>

#include "faults/fault_plan.h"

namespace segsim::scenarios {

namespace {

using Clock = std::chrono::steady_clock;

// Hard ceilings over whatever the caller asks for: a shrink is interactive.

// Runs candidates within the budget and says whether each still fails the
// same way. Every accepted candidate becomes the best so far.
class Shrinker {
 public:
  Shrinker(const ShrinkLimits& limits, std::ostream& log)
      : max_runs_(std::min(limits.max_runs, kMaxRunsCeiling)),
        deadline_(Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                     std::clamp(limits.max_seconds, 0.0, kMaxSecondsCeiling)))),
        log_(log) {}

  bool exhausted() {
    if (!exhausted_ && (runs_ >= max_runs_ || Clock::now() >= deadline_)) {
      exhausted_ = true;
      log_ << fmt::format("budget exhausted after {} runs: keeping the smallest failing run so far\n",
                          runs_);
    }
    return exhausted_;
  }

  // The confirming run: its errors are the caller's errors.
  Result<RunReport> first(const RunSpec& spec, std::string* error_line) {
    ++runs_;
    return run_scenario(spec, {}, error_line);
  }

  void set_target(const RunSpec& spec, RunReport report) {
    SEGSIM_ASSERT(report.failure.has_value(), "the target run failed");
    oracle_ = report.failure->oracle;
    best_spec_ = spec;
    best_report_ = std::move(report);
  }

  // Runs `candidate`; when it fails with the target oracle it becomes the best.
  bool still_fails(const RunSpec& candidate) {
    if (exhausted()) return false;
    ++runs_;
    std::string ignored;  // a refused candidate (e.g. too few threads) just does not shrink
    Result<RunReport> report = run_scenario(candidate, {}, &ignored);
    if (!report.ok() || report->passed || !report->failure || report->failure->oracle != oracle_) {
      return false;
    }
    best_spec_ = candidate;
    best_report_ = std::move(*report);
    return true;
  }

  const RunSpec& best_spec() const { return best_spec_; }
  const RunReport& best_report() const { return best_report_; }
  const std::string& oracle() const { return oracle_; }
  std::uint64_t runs() const { return runs_; }

 private:
  const std::uint32_t max_runs_;
  const Clock::time_point deadline_;
  std::ostream& log_;
  std::uint64_t runs_ = 0;
  bool exhausted_ = false;
  std::string oracle_;
  RunSpec best_spec_;
  RunReport best_report_;
};

// Greedy descent of one knob: halve while it still fails, then step by one.
std::uint32_t shrink_knob(Shrinker& s, const char* name, std::uint32_t start,
                          std::uint32_t RunSpec::*knob, std::ostream& log) {
  std::uint32_t current = start;
  const auto attempt = [&](std::uint32_t value) {
    RunSpec candidate = s.best_spec();
    candidate.*knob = value;
    if (!s.still_fails(candidate)) return false;
    log << fmt::format("{} {} -> {} (run {})\n", name, current, value, s.runs());
    current = value;
    return true;
  };
  while (current > 1 && attempt(std::max<std::uint32_t>(1, current / 2))) {
  }
  while (current > 1 && attempt(current - 1)) {
  }
  return current;
}

RunSpec with_decisions(const RunSpec& base, std::vector<std::uint32_t> decisions) {
  RunSpec spec = base;
  spec.strategy = sim::StrategyKind::Replay;
  spec.lenient_replay = true;
  spec.decisions = sim::DecisionLog::from_vector(decisions);
  return spec;
}

// Zeller's ddmin over the decision list: try each of n chunks alone, then each
// complement; on success restart at the coarser granularity, else refine.
std::vector<std::uint32_t> ddmin(Shrinker& s, std::vector<std::uint32_t> current, std::ostream& log) {
  const auto accept = [&](std::vector<std::uint32_t> candidate) {
    if (!s.still_fails(with_decisions(s.best_spec(), candidate))) return false;
    log << fmt::format("decisions {} -> {} (run {})\n", current.size(), candidate.size(), s.runs());
    current = std::move(candidate);
    return true;
  };

  // Lenient replay runs the lowest runnable fiber past the list's end, so a
  // short prefix often fails just as well: the cheapest big win, tried first.
  while (current.size() >= 2 && !s.exhausted()) {
    std::vector<std::uint32_t> prefix(current.begin(),
                                      current.begin() + static_cast<std::ptrdiff_t>(current.size() / 2));
    if (!accept(std::move(prefix))) break;
  }

  std::size_t chunks = 2;
  while (current.size() >= 2 && !s.exhausted()) {
    chunks = std::min(chunks, current.size());
    const std::size_t n = current.size();
    const auto bounds = [&](std::size_t i) { return std::pair{i * n / chunks, (i + 1) * n / chunks}; };
    bool reduced = false;
    for (std::size_t i = 0; i < chunks && !reduced; ++i) {
      const auto [begin, end] = bounds(i);
      reduced = accept({current.begin() + static_cast<std::ptrdiff_t>(begin),
                        current.begin() + static_cast<std::ptrdiff_t>(end)});
      if (reduced) chunks = 2;
    }
    for (std::size_t i = 0; i < chunks && !reduced && chunks > 2; ++i) {
      const auto [begin, end] = bounds(i);
      std::vector<std::uint32_t> complement(current.begin(),
                                            current.begin() + static_cast<std::ptrdiff_t>(begin));
      complement.insert(complement.end(), current.begin() + static_cast<std::ptrdiff_t>(end), current.end());
      reduced = accept(std::move(complement));
      if (reduced) chunks = std::max<std::size_t>(chunks - 1, 2);
    }
    if (!reduced) {
      if (chunks >= current.size()) break;  // single decisions tried: 1-minimal
      chunks = std::min(chunks * 2, current.size());
    }
  }
  // The list never becomes empty: run_scenario refuses a replay without decisions.
  return current;
}

// Drops fault rules one at a time while the failure stays; returns the rules left.
faults::FaultPlan drop_fault_rules(Shrinker& s, faults::FaultPlan rules, std::ostream& log) {
  for (std::size_t i = 0; i < rules.rules.size() && !s.exhausted();) {
    faults::FaultPlan fewer = rules;
    fewer.rules.erase(fewer.rules.begin() + static_cast<std::ptrdiff_t>(i));
    RunSpec candidate = s.best_spec();
    candidate.faults = fewer.describe();
    if (s.still_fails(candidate)) {
      log << fmt::format("fault rules {} -> {}: dropped {} (run {})\n", rules.rules.size(),
                         fewer.rules.size(), rules.rules[i].describe(), s.runs());
      rules = std::move(fewer);
    } else {
      ++i;
    }
  }
  return rules;
}

}  // namespace

Result<ShrinkResult> shrink(const Repro& failing, const ShrinkLimits& limits, std::ostream& log,
                            std::string* error_line) {
  const auto fail = [&](std::string line) -> Result<ShrinkResult> {
    if (error_line != nullptr) *error_line = std::move(line);
    return make_error(Errc::InvalidConfig, "shrink");
  };
  const ScenarioInfo* info = find_scenario(failing.spec.scenario);
  if (info == nullptr) return fail(fmt::format("unknown scenario '{}'", failing.spec.scenario));

  Shrinker s(limits, log);
  Result<RunReport> confirmed = s.first(failing.spec, error_line);
  if (!confirmed.ok()) return confirmed.error();
  if (confirmed->passed || !confirmed->failure) return fail("the repro passes: nothing to shrink");
  if (failing.failure && failing.failure->oracle != confirmed->failure->oracle) {
    log << fmt::format("note: the repro recorded oracle '{}' but now fails with '{}': shrinking that\n",
                       failing.failure->oracle, confirmed->failure->oracle);
  }

  ShrinkResult result;
  result.decisions_before = confirmed->decisions.size();
  RunSpec start = failing.spec;
  // Explicit knobs so each step changes one number; "swarm" made concrete so
  // single rules can be dropped.
  if (start.threads == 0) start.threads = info->default_threads;
  if (start.size == 0) start.size = info->default_size;
  start.faults = confirmed->concrete_faults.empty() ? start.faults : confirmed->concrete_faults;
  // A recorded decision list names fibers of the recorded shape: once threads
  // or size change it can only be followed leniently.
  if (start.strategy == sim::StrategyKind::Replay) start.lenient_replay = true;
  result.threads_before = start.threads;
  result.size_before = start.size;
  s.set_target(start, std::move(*confirmed));
  log << fmt::format("shrinking a '{}' failure of {} seed {} ({} decisions)\n", s.oracle(),
                     start.scenario, start.seed, result.decisions_before);

  result.threads_after = shrink_knob(s, "threads", start.threads, &RunSpec::threads, log);
  result.size_after = shrink_knob(s, "size", start.size, &RunSpec::size, log);

  std::string fault_error;
  Result<faults::FaultPlan> plan = faults::parse_fault_plan(s.best_spec().faults, &fault_error);
  if (!plan.ok()) return fail(fmt::format("the repro's fault spec does not parse: {}", fault_error));
  result.fault_rules_before = plan->rules.size();
  result.fault_rules_after = drop_fault_rules(s, std::move(*plan), log).rules.size();

  // The best run's decisions are exact for it: replayed leniently they give
  // the same run, and every removal from there is a candidate.
  std::vector<std::uint32_t> decisions = s.best_report().decisions.to_vector();
  const std::size_t decisions_start = decisions.size();
  bool decisions_shrunk = false;
  if (!s.exhausted() && !decisions.empty()) {
    decisions = ddmin(s, std::move(decisions), log);
    decisions_shrunk = decisions.size() < decisions_start;
  }

  // The best run is, by construction, the last accepted candidate.
  Repro minimal = repro_from_report(s.best_report());
  minimal.spec.threads = s.best_spec().threads;
  minimal.spec.size = s.best_spec().size;
  minimal.spec.faults = s.best_spec().faults;
  if (decisions_shrunk) {
    // The shrunk list, followed leniently, is what the best run replayed: its
    // trace hash is the one repro_from_report recorded.
    minimal.spec.strategy = sim::StrategyKind::Replay;
    minimal.spec.decisions = s.best_spec().decisions;
    minimal.spec.lenient_replay = true;
  }
  SEGSIM_ASSERT(minimal.failure && minimal.failure->oracle == s.oracle(),
                "the minimal repro fails with the target oracle");
  result.decisions_after = decisions_shrunk ? minimal.spec.decisions.size() : decisions_start;
  result.runs = s.runs();
  log << fmt::format("done after {} runs: threads {} -> {}, size {} -> {}, fault rules {} -> {}, "
                     "decisions {} -> {}\n",
                     result.runs, result.threads_before, result.threads_after, result.size_before,
                     result.size_after, result.fault_rules_before, result.fault_rules_after,
                     result.decisions_before, result.decisions_after);
  result.minimal = std::move(minimal);
  return result;
}

}  // namespace segsim::scenarios
