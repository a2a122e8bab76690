#include "scenarios/reproduce.h"

#include <chrono>
#include <functional>
#include <memory>

#include <fmt/format.h>

#include "core/mutants.h"
#include "scenarios/fuzz_artifact.h"
#include "scenarios/fuzz_input.h"
#include "scenarios/recording.h"
#include "scenarios/safe_file.h"
#include "scenarios/workloads/recorded_layers.h"

namespace segsim::scenarios {

namespace {

using Clock = std::chrono::steady_clock;
// The simulated OS reserves 4 GiB (scenarios/run.cpp): a larger budget could
// not be reached in the rebuilt run.
constexpr std::uint64_t kMaxBudgetBytes = std::uint64_t{4} << 30;
constexpr std::uint64_t kMaxSteps = 50'000'000;
constexpr std::uint64_t kStepsPerEvent = 8;  // PCT's k: a recorded operation takes a few decisions
// The fault points that only move time (a yield, a sleep: docs/faults.md),
// never a path or a result: half of the exploring attempts enable them, so a
// window a real run opened by being slow (an advise, a hand-over) opens here.
constexpr const char* kTimingPoints =
    "point:alloc.cleanup.delay@p=0.5,point:arena.chunk.grow@p=0.5,point:cache.evict.yield@p=0.5,"
    "point:large.decommit.slow@p=0.5,point:slab.magazine.exchange@p=0.5,point:slab.remote_free.handover@p=0.5";

std::size_t event_count(const CrashReport& report) {
  std::size_t n = 0;
  for (const CrashThread& t : report.threads) n += t.events.size();
  return n;
}

// Why the report cannot be rebuilt here ("" when it can).
std::string refusal(const CrashReport& report) {
  if (std::string why = unmatchable_because(report); !why.empty()) return "cannot reproduce " + why;
  if (report.threads.empty()) return "bad crash report: no recorded thread: nothing to rebuild";
  if (report.threads.size() > kMaxThreads) {
    return fmt::format("cannot reproduce a report of {} threads (at most {})", report.threads.size(), kMaxThreads);
  }
  if ((report.budget_bytes == 0 && !report.large) || report.budget_bytes > kMaxBudgetBytes) {
    return "bad crash report: budget_bytes must be in 1..4 GiB";
  }
  if (!report.bug.empty() && !mutants::kBuilt) {
    return fmt::format("the report was written with the catalogued bug '{}' on; this build has no mutants: "
                       "reproduce it with a mutants build (build/mutants/segsim)",
                       report.bug);
  }
  return {};
}

// Attempt n (from 1): the recorded order first, then random and PCT by turns.
RunSpec attempt_spec(const CrashReport& report, const std::shared_ptr<const Recording>& ordered,
                     const std::shared_ptr<const Recording>& free, std::uint32_t n) {
  RunSpec spec;
  spec.scenario = "recorded";
  spec.seed = n;
  spec.strategy = n == 1 || n % 2 == 0 ? sim::StrategyKind::Random : sim::StrategyKind::Pct;
  spec.pct_steps = std::max<std::uint64_t>(64, event_count(report) * kStepsPerEvent);
  spec.threads = static_cast<std::uint32_t>(report.threads.size());
  spec.size = 1;
  spec.max_steps = kMaxSteps;
  spec.bug = report.bug;
  spec.recording = n == 1 ? ordered : free;
  if (n >= 2 && (n / 2) % 2 == 1) spec.faults = kTimingPoints;  // attempts 2, 3, 6, 7, ...
  return spec;
}

// Runs attempt 1, 2, ... (spec_of(n)) until one fails in a way `recurs`
// accepts, within the limits.
Result<ReproduceOutcome> search(const std::function<RunSpec(std::uint32_t)>& spec_of,
                                const std::function<bool(const Failure&)>& recurs, const ReproduceLimits& limits,
                                std::string* error_line) {
  const auto started = Clock::now();
  ReproduceOutcome outcome;
  for (std::uint32_t n = 1; n <= limits.max_attempts; ++n) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (n > 1 && seconds >= limits.max_seconds) break;
    const RunSpec spec = spec_of(n);
    std::string line;
    auto run = run_scenario(spec, {}, &line);
    if (!run.ok()) {
      if (error_line != nullptr) *error_line = line.rfind("environment:", 0) == 0 ? line : "bad input: " + line;
      return run.error();
    }
    outcome.attempts = n;
    if (run->failure && recurs(*run->failure)) {
      outcome.reproduced = true;
      outcome.schedule = spec.recording && spec.recording->follow_recorded_order
                             ? std::string("recorded order")
                             : fmt::format("{} seed {}", sim::strategy_name(spec.strategy), spec.seed);
      outcome.failure = run->failure->signature();
      outcome.repro = repro_from_report(std::move(run.value()));
      break;
    }
  }
  outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return outcome;
}

// A report rebuilt at an object layer (recorded_layers.h) keeps only the
// events the rebuild replays, and only the threads that made some: a stress
// binary's earlier tests (thousands of short threads) leave rings the
// rebuild has no use for.
CrashReport pruned_for_rebuild(const CrashReport& in) {
  const RecordedTarget target = recorded_target(in);
  if (target.layer != RecordedLayer::Slab && target.layer != RecordedLayer::Arena &&
      target.layer != RecordedLayer::Large) {
    return in;
  }
  CrashReport out = in;
  out.threads.clear();
  for (const CrashThread& thread : in.threads) {
    CrashThread kept{thread.thread, thread.recorded, {}};
    for (const CrashEvent& e : thread.events) {
      if (replays_object_event(target, e)) kept.events.push_back(e);
    }
    if (!kept.events.empty()) out.threads.push_back(std::move(kept));
  }
  return out;
}

}  // namespace

Result<ReproduceOutcome> reproduce_crash(const CrashReport& full_report, const ReproduceLimits& limits,
                                         std::string* error_line) {
  const CrashReport report = pruned_for_rebuild(full_report);
  if (std::string why = refusal(report); !why.empty()) {
    if (error_line != nullptr) *error_line = std::move(why);
    return make_error(Errc::InvalidConfig, "cannot reproduce");
  }
  auto ordered = std::make_shared<Recording>(Recording{report, true});
  auto free = std::make_shared<Recording>(Recording{report, false});
  auto found = search([&](std::uint32_t n) { return attempt_spec(report, ordered, free, n); },
                      [&](const Failure& failure) { return recurs_in(report, failure); }, limits, error_line);
  if (!found.ok() && error_line != nullptr && error_line->rfind("bad input: ", 0) == 0) {
    *error_line = "bad crash report: " + error_line->substr(11);
  }
  return found;
}

Result<ReproduceOutcome> reproduce_fuzz_artifact(const FuzzArtifact& artifact, const ReproduceLimits& limits,
                                                 std::string* error_line) {
  // An artifact does not say which catalogued bug its fuzzer ran with: the
  // one this process runs with (SEGSIM_MUTANT) is carried into the repro.
  std::string bug;
#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
  if (const char* active = mutants::active_name(); active != nullptr) bug = active;
#endif
  if (artifact.target == kFuzzScenarioTarget) {
    // A fuzz_scenario input names its whole run, schedule included
    // (scenarios/fuzz_input.h): every attempt would be the same run.
    ReproduceLimits once = limits;
    once.max_attempts = 1;
    const auto spec_of = [&](std::uint32_t) {
      RunSpec spec = fuzz_run_spec(artifact.bytes);
      spec.bug = bug;
      return spec;
    };
    return search(spec_of, [](const Failure&) { return true; }, once, error_line);
  }
  const std::string_view scenario = scenario_for_fuzz_target(artifact.target);
  if (scenario.empty()) {
    if (error_line != nullptr) {
      *error_line = fmt::format(
          "cannot reproduce artifacts of fuzz_{}: only fuzz_alloc_ops and fuzz_scenario artifacts are run",
          one_line(artifact.target, 40));
    }
    return make_error(Errc::InvalidConfig, "cannot reproduce");
  }
  auto shared = std::make_shared<FuzzArtifact>(artifact);
  // One client: schedules differ only in when the allocator's async cleanups
  // run; any failure of the artifact's operations is the finding.
  const auto spec_of = [&](std::uint32_t n) {
    RunSpec spec;
    spec.scenario = std::string(scenario);
    spec.seed = n;
    spec.strategy = sim::StrategyKind::Random;
    spec.threads = 1;
    spec.size = 1;
    spec.fuzz_artifact = shared;
    spec.bug = bug;
    return spec;
  };
  return search(spec_of, [](const Failure&) { return true; }, limits, error_line);
}

}  // namespace segsim::scenarios
