// What a sweep found: the settings its seeds ran with, each seed's outcome,
// probe hits; as JSON (--json, merge), as JUnit XML (CI), and merged over
// the shards of one sweep.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "scenarios/run.h"

namespace segsim::scenarios {

enum class SeedOutcome { Passed, Failed, Crashed, TimedOut };
std::string_view seed_outcome_name(SeedOutcome outcome);

struct SeedResult {
  std::uint64_t seed = 0;
  SeedOutcome outcome = SeedOutcome::Passed;
  std::string detail;       // failure signature, "killed by SIGSEGV", "timed out after 60 s"
  std::string repro_path;   // for anything but Passed
  // Crashed / TimedOut: the last line the worker wrote to stderr while it ran
  // this seed (a sanitizer's "SUMMARY: " line wins over later ones), such as
  // glibc's "free(): double free detected in tcache 2"; "" if it wrote none.
  // Shown beside the detail, never part of a failure's signature.
  std::string worker_stderr;
  std::uint64_t trace_hash = 0;  // Passed / Failed
  std::uint64_t steps = 0;
  double seconds = 0;
};

struct ProbeCount {
  std::string name;
  std::uint64_t hits = 0;
  bool operator==(const ProbeCount&) const = default;
};

struct SweepResult {
  // The settings every seed ran with (resolved: threads, size and max_steps
  // are never 0 in a sweep's results). Seeds of one sweep are comparable
  // only under equal settings: merge refuses a mix.
  std::string scenario;
  std::string strategy;
  std::string faults;
  int pct_depth = 0;
  std::uint32_t threads = 0;
  std::uint32_t size = 0;
  std::uint64_t max_steps = 0;
  std::string test_hook;
  std::string bug;
  std::string build_id;

  std::vector<SeedResult> seeds;  // in seed order
  // Hits of every probe of core/ summed over the seeds (in probes::kProbes
  // order, zeros included); seeds that crashed or hung report none.
  std::vector<ProbeCount> probes;
  // Asks and fires of every fault point of core/, summed likewise (in
  // fault_points::kFaultPoints order, zeros included): which points the
  // plan reached. Empty in results written before they were counted.
  std::vector<ProbeCount> fault_point_asks;
  std::vector<ProbeCount> fault_point_fires;
  double wall_seconds = 0;
  int interrupted = 0;            // the signal that stopped the sweep, 0 if none
  std::string environment_error;  // the harness could not set a run up: the sweep stopped
  std::size_t failures() const;   // everything but Passed
};

// The settings of `spec` (resolved) into an empty result.
SweepResult sweep_settings(const RunSpec& spec);
// "" when a and b ran with the same settings, else one line naming the first difference.
std::string settings_difference(const SweepResult& a, const SweepResult& b);

// The settings, by name, as text: one list for JSON, comparison and messages.
std::vector<std::pair<const char*, std::string>> settings_list(const SweepResult& result);

// Results as JSON (for `--json` and `merge`) and as JUnit XML (for CI).
std::string sweep_to_json(const SweepResult& result);
Result<SweepResult> sweep_from_json(const std::string& text, std::string* error_line);
std::string sweep_to_junit(const SweepResult& result);
// The refusal of sweep_from_json and merge_sweeps: `line` into *error_line
// (when given), Errc::InvalidConfig to return.
Result<SweepResult> invalid_sweep(std::string* error_line, std::string line);
// Adds each count of `from` to its name's count in `into` (appended when
// absent), saturating: probe hits and fault point counts of several sweeps.
void add_counts_by_name(std::vector<ProbeCount>& into, const std::vector<ProbeCount>& from);
// Combines shard results of one sweep (same settings); probe hits and fault
// point counts are summed.
Result<SweepResult> merge_sweeps(const std::vector<SweepResult>& shards, std::string* error_line);
// Sweep results are read whole: at most this many bytes.
inline constexpr std::size_t kMaxSweepResultsBytes = std::size_t{256} << 20;

}  // namespace segsim::scenarios
