#include "scenarios/hunt.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <ostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/mutants.h"
#include "scenarios/in_child.h"
#include "scenarios/repro.h"
#include "scenarios/sweep.h"

namespace segsim::scenarios {

namespace {

constexpr std::uint64_t kSeedsPerBatch = 8;
constexpr std::uint64_t kMaxSeedsPerHunt = 100000;
// A replay confirmation's child (confirm): the most of its log that is kept,
// and its time limit: three times the sweep's per-seed limit (it runs the
// detected seed twice: the replay, then without the bug), at least this.
constexpr std::size_t kConfirmMaxBytes = std::size_t{1} << 20;
constexpr std::chrono::seconds kConfirmMinTimeLimit{120};

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

struct Detection {
  bool found = false;
  bool confirmed = false;
  std::uint64_t seeds = 0;
  double seconds = 0;
  std::string oracle;
  std::string repro_path;
};

// The run a strategy name stands for.
RunSpec base_spec(const std::string& scenario, const std::string& strategy, const std::string& bug) {
  RunSpec spec;
  spec.scenario = scenario;
  spec.bug = bug;
  // A hunt's "swarm" is random schedules under swarm faults.
  spec.strategy = sim::parse_strategy(strategy).value_or(sim::StrategyKind::Random);
  spec.faults = strategy == "swarm" ? "swarm" : "none";
  // Calibrated once here, not in every sweep worker.
  if (spec.strategy == sim::StrategyKind::Pct) spec.pct_steps = pct_steps_for(spec);
  return spec;
}

std::chrono::milliseconds confirm_time_limit(double seed_timeout_seconds) {
  const auto three_seeds = std::chrono::duration<double>(3 * seed_timeout_seconds);
  return std::max<std::chrono::milliseconds>(kConfirmMinTimeLimit,
                                             std::chrono::duration_cast<std::chrono::milliseconds>(three_seeds));
}

// Replays the detection and runs its seed without the bug.
bool confirm_here(const SeedResult& seed, std::string& oracle, std::ostream& log) {
  std::string error;
  auto repro = read_repro(seed.repro_path, &error);
  if (!repro.ok() || !repro->failure) {
    log << "  unconfirmed: " << (repro.ok() ? "no failure recorded (crash or hang)" : error) << "\n";
    oracle = seed.outcome == SeedOutcome::Crashed ? "crash" : "hang";
    return false;
  }
  oracle = repro->failure->oracle;
  auto replayed = run_scenario(repro->spec, {}, &error);
  if (!replayed.ok() || !replayed->failure || replayed->failure->signature() != repro->failure->signature() ||
      replayed->trace_hash != repro->expected_trace_hash) {
    log << "  unconfirmed: the repro did not replay to the same failure and hash\n";
    return false;
  }
  RunSpec control = repro->spec;
  control.bug.clear();
  control.decisions = {};  // the bug changes the schedule: run the seed afresh
  control.lenient_replay = false;
  auto clean = run_scenario(control, {}, &error);
  if (!clean.ok() || !clean->passed) {
    log << "  unconfirmed: seed " << repro->spec.seed << " also fails without the bug\n";
    return false;
  }
  return true;
}

// confirm_here() in a child process. A replay runs the bug's code in the
// process that runs it, and a bug that writes out of bounds can hit the
// harness's own memory, wherever the heap layout of that process puts it
// (seen: a slab-magazine-still-owned seed whose worker reported an assertion
// cleanly, and whose replay crashed the hunt in the simulator's cancel).
// A crashed confirmation costs that detection its confirmation, not the hunt;
// so does one that hangs: it is killed at `time_limit`.
bool confirm(const SeedResult& seed, std::string& oracle, std::ostream& log, std::chrono::milliseconds time_limit) {
  std::string error;
  if (auto repro = read_repro(seed.repro_path, &error); repro.ok() && repro->failure) {
    oracle = repro->failure->oracle;  // what the detection said, whatever the child does
  }
  log.flush();
  const ChildOutcome child = run_in_child(
      [&] {
        std::ostringstream child_log;
        std::string child_oracle = oracle;
        const bool confirmed = confirm_here(seed, child_oracle, child_log);
        return fmt::format("{}\n{}\n{}", confirmed ? 1 : 0, child_oracle, child_log.str());
      },
      kConfirmMaxBytes, time_limit);
  if (child.end == ChildOutcome::End::NotStarted) return confirm_here(seed, oracle, log);  // no isolation: as before
  if (child.end == ChildOutcome::End::TimedOut) {
    log << fmt::format("  unconfirmed: the replay did not end within its time limit of {:g} s and was killed "
                       "(a hang?)\n",
                       std::chrono::duration<double>(time_limit).count());
    return false;
  }
  const std::string& message = child.bytes;
  const std::size_t first = message.find('\n');
  const std::size_t second = first == std::string::npos ? first : message.find('\n', first + 1);
  if (child.end != ChildOutcome::End::Exited || child.exit_code != 0 || second == std::string::npos) {
    log << "  unconfirmed: the replay "
        << (child.end == ChildOutcome::End::Signalled ? fmt::format("died of signal {}", child.signal)
                                                      : fmt::format("exited with {}", child.exit_code))
        << " (the bug may have written over the harness's memory)\n";
    return false;
  }
  oracle = message.substr(first + 1, second - first - 1);
  log << message.substr(second + 1);
  if (child.truncated) log << fmt::format("  (the replay's log is cut at {} bytes)\n", kConfirmMaxBytes);
  return message[0] == '1';
}

void add_probes(const std::vector<ProbeCount>& hits, std::vector<ProbeCount>* totals) {
  if (totals == nullptr) return;
  if (totals->empty()) {
    *totals = hits;
    return;
  }
  for (std::size_t i = 0; i < hits.size() && i < totals->size(); ++i) (*totals)[i].hits += hits[i].hits;
}

Detection hunt_once(const std::string& bug, const std::string& scenario, const std::string& strategy,
                    std::uint64_t base_seed, const HuntSpec& spec, std::ostream& log,
                    std::vector<ProbeCount>* probes) {
  Detection detection;
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  const std::uint64_t end = base_seed + std::min(spec.budget_seeds, kMaxSeedsPerHunt);  // past the last seed
  for (std::uint64_t first = base_seed; first < end; first += kSeedsPerBatch) {
    if (elapsed() > spec.budget_seconds) break;
    SweepSpec sweep;
    sweep.base = base_spec(scenario, strategy, bug);
    sweep.seeds = {first, std::min(first + kSeedsPerBatch, end) - 1};
    sweep.jobs = spec.jobs;
    sweep.stop_on_failure = true;
    sweep.seed_timeout_seconds = std::max(5.0, spec.budget_seconds);
    sweep.failures_dir = fmt::format("{}/{}-{}", spec.work_dir, bug, strategy);
    std::ostringstream quiet;
    SweepResult result = run_sweep(sweep, quiet, /*terminal=*/false);
    add_probes(result.probes, probes);
    detection.seeds = sweep.seeds.last - base_seed + 1;  // swept so far
    for (const SeedResult& seed : result.seeds) {
      if (seed.outcome == SeedOutcome::Passed) continue;
      detection.found = true;
      detection.seeds = seed.seed - base_seed + 1;
      detection.seconds = elapsed();
      detection.repro_path = seed.repro_path;
      detection.confirmed = confirm(seed, detection.oracle, log, confirm_time_limit(sweep.seed_timeout_seconds));
      return detection;
    }
  }
  detection.seconds = elapsed();
  return detection;
}

}  // namespace

std::vector<HuntRow> run_hunt(const HuntSpec& spec, std::ostream& log, std::vector<ProbeCount>* probes) {
  std::vector<HuntRow> rows;
  if (!mutants::kBuilt) return rows;  // no bug can be switched on: nothing to hunt
  for (const std::string& bug : spec.bugs) {
    const auto info = std::find_if(std::begin(mutants::kCatalogue), std::end(mutants::kCatalogue),
                                   [&](const mutants::BugInfo& entry) { return entry.name == bug; });
    if (info == std::end(mutants::kCatalogue)) continue;
    for (const std::string& strategy : spec.strategies) {
      HuntRow row;
      row.bug = bug;
      row.scenario = std::string(info->scenario);
      row.strategy = strategy;
      row.repeats = spec.repeats;
      std::vector<double> seeds, seconds;
      std::map<std::string, int> oracles;
      for (std::uint32_t r = 0; r < spec.repeats; ++r) {
        // Bases far apart: independent hunts.
        const std::uint64_t base = 1 + static_cast<std::uint64_t>(r) * 1'000'003;
        Detection d = hunt_once(bug, row.scenario, strategy, base, spec, log, probes);
        log << fmt::format("{} / {} / hunt {}: {}\n", bug, strategy, r + 1,
                           !d.found ? fmt::format("not found in {} seeds, {:.1f} s", d.seeds, d.seconds)
                                    : fmt::format("{} after {} seeds, {:.2f} s ({}){}", d.oracle, d.seeds,
                                                  d.seconds, d.repro_path, d.confirmed ? "" : " UNCONFIRMED"));
        if (!d.found) continue;
        if (!d.confirmed) {
          ++row.unconfirmed;
          continue;
        }
        ++row.found;
        seeds.push_back(static_cast<double>(d.seeds));
        seconds.push_back(d.seconds);
        ++oracles[d.oracle];
      }
      row.median_seeds = median(seeds);
      row.median_seconds = median(seconds);
      int best = 0;
      for (const auto& [oracle, count] : oracles) {
        if (count > best) {
          best = count;
          row.oracle = oracle;
        }
      }
      rows.push_back(row);
    }
  }
  return rows;
}

std::string hunt_markdown(const std::vector<HuntRow>& rows) {
  std::string text =
      "| bug | scenario | strategy | found | median seeds | median seconds | oracle |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const HuntRow& r : rows) {
    text += fmt::format("| `{}` | {} | {} | {}/{}{} | {} | {} | {} |\n", r.bug, r.scenario, r.strategy, r.found,
                        r.repeats, r.unconfirmed > 0 ? fmt::format(" ({} unconfirmed)", r.unconfirmed) : "",
                        r.found > 0 ? fmt::format("{:g}", r.median_seeds) : "—",
                        r.found > 0 ? fmt::format("{:.2f}", r.median_seconds) : "—",
                        r.oracle.empty() ? "—" : r.oracle);
  }
  return text;
}

std::string hunt_json(const std::vector<HuntRow>& rows) {
  nlohmann::json doc = nlohmann::json::array();
  for (const HuntRow& r : rows) {
    doc.push_back({{"bug", r.bug}, {"scenario", r.scenario}, {"strategy", r.strategy}, {"repeats", r.repeats},
                   {"found", r.found}, {"unconfirmed", r.unconfirmed}, {"median_seeds", r.median_seeds},
                   {"median_seconds", r.median_seconds}, {"oracle", r.oracle}});
  }
  return doc.dump(2) + "\n";
}

}  // namespace segsim::scenarios
