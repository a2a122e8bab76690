#!/usr/bin/env bash
# Measures docs/reproduce.md's table (issue 13). For every catalogued bug:
# run the real-thread stress tests (segsim_core_stress of the mutants preset)
# with SEGSIM_MUTANT=<bug> and the flight recorder on until a run fails (a
# failing test or a crash report), at most RUNS runs; then `segsim reproduce`
# the first crash report. Prints one Markdown row per bug.
#   ci/reproduce_table.sh [RUNS]   (default 5; needs build/mutants with segsim and segsim_core_stress)
#   KEEP_WORK=1 keeps the crash reports and reproduce output (its directory on stderr).
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "reproduce_table.sh: RUNS must be a whole number >= 1" >&2; exit 2; }
segsim=build/mutants/segsim
stress=build/mutants/core/tests/segsim_core_stress
[[ -x $segsim && -x $stress ]] || { echo "reproduce_table.sh: build the mutants preset first" >&2; exit 2; }
# Threads/AllocatorStress releases stale handles on purpose: the recorder
# cannot tell a deliberate refusal from a bug, so that suite is left out.
stress_filter='-Threads/AllocatorStress.*'
work=$(mktemp -d)
[[ -n ${KEEP_WORK:-} ]] && echo "work: $work" >&2 || trap 'rm -rf "$work"' EXIT

echo "| bug | real-thread runs to first failure | crash report | reproduced | attempts | seconds |"
echo "|---|---|---|---|---|---|"
for bug in $("$segsim" list | sed -n '/^bugs/,/^[a-z]/p' | awk '/^  [a-z]/ {print $1}'); do
  failed_at=""
  for ((run = 1; run <= runs; run++)); do
    rm -rf "$work/r" && mkdir -p "$work/r"
    SEGSIM_FLIGHT_RECORDER="$work/r" SEGSIM_MUTANT="$bug" \
      timeout 120 "$stress" --gtest_filter="$stress_filter" > "$work/stress.log" 2>&1
    code=$?
    reports=("$work"/r/segsim-crash-*.json)
    if [[ $code != 0 || -e ${reports[0]} ]]; then failed_at=$run; break; fi
  done
  if [[ -z $failed_at ]]; then
    echo "| $bug | no failure in $runs | — | — | — | — |"
    continue
  fi
  if [[ ! -e ${reports[0]} ]]; then
    echo "| $bug | $failed_at | none (exit $code) | no | — | — |"
    continue
  fi
  kind=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["failure"]["kind"])' "${reports[0]}")
  "$segsim" reproduce "${reports[0]}" -o "$work/repro.json" > "$work/reproduce.txt" 2> "$work/reproduce.err"
  rcode=$?
  line=$(grep '^reproduce:' "$work/reproduce.txt")
  attempts=$(sed -nE 's/.* after ([0-9]+) attempt.*/\1/p; s/.* within ([0-9]+) attempts.*/\1/p' <<< "$line")
  seconds=$(sed -nE 's/.*, ([0-9.]+) s.*/\1/p' <<< "$line")
  case $rcode in
    1) echo "| $bug | $failed_at | $kind | yes | $attempts | $seconds |" ;;
    3) echo "| $bug | $failed_at | $kind | no (not within budget) | $attempts | $seconds |" ;;
    *) echo "| $bug | $failed_at | $kind | no ($(grep -v warning "$work/reproduce.err" | sed 's/.*: //' | head -c 80)) | — | — |" ;;
  esac
done
