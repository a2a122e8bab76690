// `segsim hunt`: prove the harness finds the seeds' historical bugs.
//
// For each catalogued bug (core/mutants.h; mutants builds only) and strategy,
// `repeats` independent hunts sweep seeds from different bases — the seeds in
// forked sweep workers (run_sweep) — until an oracle fires or a budget ends:
// `budget_seeds` (deterministic: the same build finds or misses the same bug
// on every machine, so a gate on it cannot be flaky) and `budget_seconds`
// (a safety limit), whichever ends first.
// A detection counts only if its repro replays to the same failure and trace
// hash, and the same seed passes with the bug switched off.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace segsim::scenarios {

struct HuntSpec {
  std::vector<std::string> bugs;        // catalogue names
  std::vector<std::string> strategies;  // random, pct, pos (no faults); swarm (random + swarm faults)
  double budget_seconds = 10;           // per hunt
  std::uint64_t budget_seeds = 100000;  // per hunt: seeds base..base+budget_seeds-1 at most
  std::uint32_t repeats = 5;
  std::uint32_t jobs = 1;
  std::string work_dir = "build/hunt";  // repro files of detections
};

struct HuntRow {
  std::string bug;
  std::string scenario;
  std::string strategy;
  std::uint32_t repeats = 0;
  std::uint32_t found = 0;           // detections that replayed and passed their control run
  std::uint32_t unconfirmed = 0;     // failures that did not replay or also failed without the bug
  double median_seeds = 0;           // over found hunts: seeds swept until detection
  double median_seconds = 0;
  std::string oracle;                // the oracle that fired most often
};

struct ProbeCount;
// `probes`, when given, gets the probe hits summed over every seed run.
std::vector<HuntRow> run_hunt(const HuntSpec& spec, std::ostream& log, std::vector<ProbeCount>* probes = nullptr);
std::string hunt_markdown(const std::vector<HuntRow>& rows);
std::string hunt_json(const std::vector<HuntRow>& rows);

}  // namespace segsim::scenarios
