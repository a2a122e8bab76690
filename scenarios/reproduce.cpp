#include "scenarios/reproduce.h"

#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "core/mutants.h"
#include "scenarios/recording.h"

namespace segsim::scenarios {

namespace {

using Clock = std::chrono::steady_clock;
// The simulated OS reserves 4 GiB (scenarios/run.cpp): a larger budget could
// not be reached in the rebuilt run.
constexpr std::uint64_t kMaxBudgetBytes = std::uint64_t{4} << 30;
constexpr std::uint64_t kMaxSteps = 50'000'000;
constexpr std::uint64_t kStepsPerEvent = 8;  // PCT's k: a recorded operation takes a few decisions

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
  if (report.budget_bytes == 0 || report.budget_bytes > kMaxBudgetBytes) {
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
  return spec;
}

}  // namespace

Result<ReproduceOutcome> reproduce_crash(const CrashReport& report, const ReproduceLimits& limits,
                                         std::string* error_line) {
  if (std::string why = refusal(report); !why.empty()) {
    if (error_line != nullptr) *error_line = std::move(why);
    return make_error(Errc::InvalidConfig, "cannot reproduce");
  }
  auto ordered = std::make_shared<Recording>(Recording{report, true});
  auto free = std::make_shared<Recording>(Recording{report, false});
  const auto started = Clock::now();
  ReproduceOutcome outcome;
  for (std::uint32_t n = 1; n <= limits.max_attempts; ++n) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (n > 1 && seconds >= limits.max_seconds) break;
    const RunSpec spec = attempt_spec(report, ordered, free, n);
    std::string line;
    auto run = run_scenario(spec, {}, &line);
    if (!run.ok()) {
      if (error_line != nullptr) {
        *error_line = line.rfind("environment:", 0) == 0 ? line : "bad crash report: " + line;
      }
      return run.error();
    }
    outcome.attempts = n;
    if (run->failure && recurs_in(report, *run->failure)) {
      outcome.reproduced = true;
      outcome.schedule = n == 1 ? std::string("recorded order")
                                : fmt::format("{} seed {}", sim::strategy_name(spec.strategy), n);
      outcome.failure = run->failure->signature();
      outcome.repro = repro_from_report(std::move(run.value()));
      break;
    }
  }
  outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return outcome;
}

}  // namespace segsim::scenarios
