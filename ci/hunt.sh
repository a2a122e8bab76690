#!/usr/bin/env bash
# The bug-catalogue gate: build the mutants preset and hunt every catalogued
# bug with the default strategy (swarm: random schedules and swarm faults).
# A bug the harness cannot find within its budget fails the build. The
# budget is in seeds, so the gate is deterministic: a commit finds or misses
# the same bugs on every machine (a 20 s budget missed cleanup-race, found at
# seed 126, on a machine that ran a quarter as many seeds a second). The time
# budget is only a safety limit.
#   SEGSIM_HUNT_BUDGET_SEEDS (default 400, per hunt)
#   SEGSIM_HUNT_BUDGET_SECONDS (default 300, per hunt)  SEGSIM_HUNT_REPEATS (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."

budget_seeds=${SEGSIM_HUNT_BUDGET_SEEDS:-400}
budget=${SEGSIM_HUNT_BUDGET_SECONDS:-300}
repeats=${SEGSIM_HUNT_REPEATS:-1}
cmake --preset mutants >/dev/null
cmake --build --preset mutants -j "$(nproc)" --target segsim
rm -rf build/mutants/hunt
build/mutants/segsim hunt --bug all --strategy swarm --budget-seeds "$budget_seeds" --budget-seconds "$budget" --repeats "$repeats" \
  --jobs "$(nproc)" --md build/mutants/hunt.md --json build/mutants/hunt.json 2>build/mutants/hunt.log
# Issue 13: a catalogued bug's failure replays in a new process (also
# shrunk), and a real-thread crash report reproduces: the CTest label
# "mutants" of this preset.
cmake --build --preset mutants -j "$(nproc)" --target segsim segsim_failure_report_tests segsim_core_stress
ctest --preset mutants -L mutants --output-on-failure
