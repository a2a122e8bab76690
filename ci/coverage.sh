#!/usr/bin/env bash
# Line, branch and function coverage of core/ reached by the scenario sweeps
# alone (no unit, property or stress tests): builds the `coverage` preset
# (g++ -O0 --coverage, only the segsim binary), sweeps every scenario of
# `segsim list` under each campaign config over a fixed seed range, then runs
# gcovr over core/ (core/tests/ excluded) and reports:
#   * totals and a per-file table (lines, branches, functions), for all of
#     core/ and without the seams the simulator cannot run (core/linux_os.*,
#     core/platform/);
#   * every public operation declared in core/*.h and core/platform/*.h, and
#     whether the sweeps reached it.
# The report is written to build/coverage/report/coverage.md and into the
# section between the coverage markers of docs/coverage.md
# (SEGSIM_COVERAGE_DOCS=0: leave docs/ alone).
#
#   ci/coverage.sh [SEEDS]      seeds 1..SEEDS per (scenario, config); default 100
#
# Knobs: SEGSIM_COVERAGE_JOBS (default nproc), SEGSIM_COVERAGE_CONFIGS
# (default "random:swarm random:none pct:none pos:none"; strategies the build
# does not list are skipped), SEGSIM_COVERAGE_SEED_TIMEOUT (default 300),
# SEGSIM_COVERAGE_REPORT_ONLY=1 (no build, no sweeps: report the counters of
# the last run again, e.g. after changing the report).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${1:-100}
[[ "$seeds" =~ ^[1-9][0-9]*$ ]] || { echo "coverage.sh: SEEDS must be a positive number, got '$seeds'" >&2; exit 2; }
jobs=${SEGSIM_COVERAGE_JOBS:-$(nproc)}
seed_timeout=${SEGSIM_COVERAGE_SEED_TIMEOUT:-300}
read -r -a configs <<<"${SEGSIM_COVERAGE_CONFIGS:-random:swarm random:none pct:none pos:none}"
command -v gcovr >/dev/null || { echo "coverage.sh: gcovr not found (ci/bootstrap.sh installs it)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "coverage.sh: python3 not found (ci/bootstrap.sh installs it)" >&2; exit 2; }
command -v ctags >/dev/null || echo "coverage.sh: ctags not found: the public-operation list is skipped (ci/bootstrap.sh installs universal-ctags)"

start=$(date +%s)
segsim=build/coverage/segsim
out=build/coverage/report

section_items() {  # the first word of each indented line of section "$1:" of `segsim list`
  awk -v want="$1:" '/^[^ ]/ { in_section = ($0 == want); next } in_section && /^  [^ ]/ { print $1 }' <<<"$list"
}

run_sweeps() {
  echo "=== coverage: configure and build the coverage preset (segsim only)"
  cmake --preset coverage >/dev/null
  cmake --build --preset coverage -j "$(nproc)" --target segsim
  rm -rf "$out"
  mkdir -p "$out/json" "$out/logs"
  # Counters from earlier runs would add up: start from zero.
  find build/coverage -name '*.gcda' -delete

  list=$("$segsim" list)
  local scenarios strategies scenario config strategy faults tag rc
  mapfile -t scenarios < <(section_items scenarios)
  mapfile -t strategies < <(section_items strategies)
  ((${#scenarios[@]} > 0)) || { echo "coverage.sh: '$segsim list' shows no scenarios" >&2; exit 2; }
  local ran=() failed=()
  for config in "${configs[@]}"; do
    strategy=${config%%:*}
    if [[ " ${strategies[*]} " == *" $strategy "* ]]; then
      ran+=("$config")
    else
      echo "coverage: strategy $strategy is not in this build's 'segsim list': $config skipped"
    fi
  done

  echo "=== coverage: sweeps, seeds 1..$seeds, of ${scenarios[*]} x ${ran[*]}"
  for scenario in "${scenarios[@]}"; do
    for config in "${ran[@]}"; do
      strategy=${config%%:*}
      faults=${config#*:}
      tag="$scenario.$strategy-${faults//[^A-Za-z0-9._-]/_}"
      local cmd=("$segsim" sweep "$scenario" --seeds "1..$seeds" --jobs "$jobs" --strategy "$strategy"
                 --faults "$faults" --timeout "$seed_timeout" --json "$out/json/$tag.json"
                 --failures-dir "$out/repros/${tag#*.}")
      echo "+ ${cmd[*]}"
      rc=0
      timeout -k 10 $(( (seeds + jobs - 1) / jobs * seed_timeout + 120 )) "${cmd[@]}" >"$out/logs/$tag.log" 2>&1 || rc=$?
      grep -E "^sweep " "$out/logs/$tag.log" | tail -1 | sed 's/^/  /' || true
      ((rc == 0)) || failed+=("$tag (exit $rc; $out/logs/$tag.log)")
    done
  done
  if ((${#failed[@]} > 0)); then
    # Coverage measures what the sweeps reach; finding bugs is the campaign's job. Say it loudly.
    echo "WARNING: ${#failed[@]} sweep(s) had failing seeds (a crashed or hung seed's coverage is lost):"
    printf 'WARNING:   %s\n' "${failed[@]}"
  fi
  # What the report says about this run (and SEGSIM_COVERAGE_REPORT_ONLY reads back).
  printf 'seeds=%s\nscenarios=%s\nconfigs=%s\n' "$seeds" "${scenarios[*]}" "${ran[*]}" >"$out/run.txt"
}

if [[ "${SEGSIM_COVERAGE_REPORT_ONLY:-0}" != 0 ]]; then
  [[ -f "$out/run.txt" ]] || { echo "coverage.sh: SEGSIM_COVERAGE_REPORT_ONLY: no earlier run in $out" >&2; exit 2; }
  echo "=== coverage: report only, from the counters of the last run"
else
  run_sweeps
fi
run_seeds=$(sed -n 's/^seeds=//p' "$out/run.txt")
run_scenarios=$(sed -n 's/^scenarios=//p' "$out/run.txt")
run_configs=$(sed -n 's/^configs=//p' "$out/run.txt")

echo "=== coverage: gcovr over core/ ($(($(date +%s) - start))s elapsed)"
# Raw: every branch gcov counts. Filtered (the figures the target is for):
# without branches that exist only in the compiler's expansion — exception
# edges (--exclude-throw-branches), branches of lines with no useful code
# (--exclude-unreachable-branches) — and without the branches of two macros'
# own lines: a line that is only SEGSIM_PROBE("name"); (its "counting off"
# side, never taken in a sweep, which always counts) and a line starting
# SEGSIM_ASSERT( / SEGSIM_DEBUG_ASSERT( (the failing side, reached only by a
# bug, and the condition's short-circuit edges). docs/coverage.md says why.
macro_lines='\s*(SEGSIM_PROBE\("[^"]*"\);\s*(//.*)?$|SEGSIM_(DEBUG_)?ASSERT\()'
seams=(--exclude 'core/linux_os\.(cpp|h)$' --exclude 'core/platform/')
gcovr_raw=(--root . --object-directory build/coverage --filter 'core/' --exclude 'core/tests/' -j "$(nproc)")
gcovr_common=("${gcovr_raw[@]}" --exclude-throw-branches --exclude-unreachable-branches
              --exclude-branches-by-pattern "$macro_lines")
gcovr "${gcovr_common[@]}" --json "$out/core.json" --json-summary "$out/core-summary.json" \
  --txt "$out/core-lines.txt"
gcovr "${gcovr_common[@]}" "${seams[@]}" --json-summary "$out/core-sim-summary.json"
gcovr "${gcovr_raw[@]}" --json-summary "$out/core-raw-summary.json"
gcovr "${gcovr_raw[@]}" "${seams[@]}" --json-summary "$out/core-sim-raw-summary.json"

ops=()
if command -v ctags >/dev/null; then
  ctags --output-format=json --fields=+aSKZsne --kinds-C++=+p --language-force=C++ -f - \
    core/*.h core/platform/*.h >"$out/headers.tags"
  ops=(--tags "$out/headers.tags")
fi
report_args=(--core "$out/core.json" --summary "$out/core-summary.json" --sim-summary "$out/core-sim-summary.json"
             --raw-summary "$out/core-raw-summary.json" --sim-raw-summary "$out/core-sim-raw-summary.json"
             "${ops[@]}" --seeds "$run_seeds" --scenarios "$run_scenarios" --configs "$run_configs"
             --markdown "$out/coverage.md")
[[ "${SEGSIM_COVERAGE_DOCS:-1}" == 0 ]] || report_args+=(--docs docs/coverage.md)
python3 ci/coverage_report.py "${report_args[@]}"
echo "=== coverage: done in $(($(date +%s) - start))s: $out/coverage.md (gcovr json: $out/core.json)"
