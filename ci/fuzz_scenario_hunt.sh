#!/usr/bin/env bash
# fuzz_scenario's column of the hunt table (docs/hunt.md): for each catalogued
# bug, the seconds a fuzz + mutants build of fuzz_scenario takes, from the
# committed corpus, to crash with that bug on (SEGSIM_MUTANT); each crash is
# confirmed like `segsim hunt` confirms a detection: converted with a mutants
# segsim (`fuzz-artifact --bug`), its run fails with the bug and passes
# without it. Prints a markdown table.
#   ci/fuzz_scenario_hunt.sh FUZZ_SCENARIO SEGSIM [SECONDS_PER_BUG] [BUG...]
# FUZZ_SCENARIO from a fuzz build configured with -DSEGSIM_MUTANTS=ON,
# SEGSIM from the mutants preset. Default: 60 s per bug, every bug.
set -uo pipefail
cd "$(dirname "$0")/.."
(($# >= 2)) || { echo "usage: ci/fuzz_scenario_hunt.sh FUZZ_SCENARIO SEGSIM [SECONDS_PER_BUG] [BUG...]" >&2; exit 2; }
fuzzer=$(realpath "$1")
segsim=$(realpath "$2")
seconds=${3:-60}
shift $(($# >= 3 ? 3 : 2))
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz_scenario_hunt.sh: seconds must be a whole number, got '$seconds'" >&2; exit 2; }
bugs=("$@")
if ((${#bugs[@]} == 0)); then
  mapfile -t bugs < <("$segsim" list | sed -n '/^bugs/,$p' | awk 'NR > 1 && NF > 1 { print $1 }')
fi
((${#bugs[@]} > 0)) || { echo "fuzz_scenario_hunt.sh: no bugs listed by $segsim (not a mutants build?)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "| bug | found | seconds | runs | scenario | oracle |"
echo "|---|---|---|---|---|---|"
missed=0
for bug in "${bugs[@]}"; do
  mkdir -p "$work/$bug"
  start=$(date +%s.%N)
  SEGSIM_MUTANT=$bug "$fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -artifact_prefix="$work/$bug/" "$work/$bug" fuzz/corpus/scenario > "$work/$bug.log" 2>&1
  elapsed=$(echo "$(date +%s.%N) - $start" | bc)
  runs=$(grep -oE '^#[0-9]+' "$work/$bug.log" | tail -1 | tr -d '#')
  crash=$(compgen -G "$work/$bug/crash-*" | head -1)
  verdict="no" oracle="—" scenario="—"
  if [[ -n $crash ]]; then
    "$segsim" fuzz-artifact "$crash" -o "$work/$bug.json" --bug "$bug" > "$work/$bug.convert" 2>&1
    with=$?
    "$segsim" fuzz-artifact "$crash" -o "$work/$bug.control.json" > "$work/$bug.control" 2>&1
    without=$?
    scenario=$(awk '/^scenario/ { print $2; exit }' "$work/$bug.convert")
    oracle=$(awk '/^FAILURE: oracle/ { print $3; exit }' "$work/$bug.convert")
    if ((with == 1 && without == 0)); then
      verdict="yes"
    else
      verdict="unconfirmed (with bug: exit $with, without: exit $without)"
    fi
  fi
  [[ $verdict == yes ]] || missed=$((missed + 1))
  printf '| `%s` | %s | %.1f | %s | %s | %s |\n' "$bug" "$verdict" "$elapsed" "${runs:-0}" "$scenario" "${oracle:-?}"
done
echo
echo "fuzz_hunt: $((${#bugs[@]} - missed)) of ${#bugs[@]} found and confirmed"
((missed == 0))
