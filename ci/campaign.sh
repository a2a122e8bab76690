#!/usr/bin/env bash
# The CI campaign: every scenario of `segsim list`, under the default strategy
# (random schedules with swarm faults, and fault-free) and under pct (and pos
# when the build lists it), for a time budget, on seeds derived from the
# commit id. Any failing seed fails the campaign (exit 1) with its
# `reproduce:` line; so does a required probe (ci/required_probes.txt) that no
# sweep fired.
#
#   ci/campaign.sh [PRESET] [SECONDS]          default: dev, 180
#
# The preset must be built (build/PRESET/segsim). Knobs (environment):
#   SEGSIM_CAMPAIGN_SECONDS   budget when SECONDS is not given (default 180)
#   SEGSIM_CAMPAIGN_SEED      first seed (default: from `git rev-parse HEAD`)
#   SEGSIM_CAMPAIGN_JOBS      sweep workers at once (default: nproc)
#   SEGSIM_CAMPAIGN_CONFIGS   STRATEGY:FAULTS list (default "random:swarm random:none pct:none pos:none";
#                             a strategy the build does not list is skipped)
#   SEGSIM_CAMPAIGN_PROBE_EXTRA_SECONDS  extra time for required probes not yet fired (pass 3;
#                             default budget/2; 0: none)
#   SEGSIM_CAMPAIGN_SEED_TIMEOUT  seconds per seed before it counts as a hang
#                             (default 60; 180 in sanitizer presets)
#   SEGSIM_CAMPAIGN_HEAP_SECONDS  of the budget, for pass 4 (default budget/5; 0: no pass 4)
#
# How the budget is spent: each (scenario, config) cell first runs one batch
# of JOBS seeds from the start seed (which measures its seeds/s), then up to
# four batches, each sized from its seeds/s so far, until its equal share of
# the time left is spent. A required probe that has not fired by then gets
# more seeds (pass 3, at most SEGSIM_CAMPAIGN_PROBE_EXTRA_SECONDS, default half
# the budget) before the gate fails. Every sweep command is printed;
# the k-th config of a scenario runs seeds START+k·10^6 .. +n-1 (the summary
# shows each cell's range), so any seed replays by itself.
# Pass 4 (the last SEGSIM_CAMPAIGN_HEAP_SECONDS of the budget) runs each
# cell's first seeds again under another heap — glibc's malloc (and ASan's)
# reusing freed memory in another order — and fails a seed whose trace hash
# changed: a run must depend on its seed alone, not on where the heap put
# things (a model keyed on a freed object's address made one CI run in five
# fail a replay: docs/coverage.md, "Pass 4").
# Outputs under build/PRESET/campaign/: json/ and junit/ (one file a sweep),
# logs/, repros/STRATEGY-FAULTS/ (failing seeds), probes.txt, summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: ci/campaign.sh [PRESET] [SECONDS]   (see the header of ci/campaign.sh)" >&2; exit 2; }
[[ $# -le 2 ]] || usage
preset=${1:-dev}
budget=${2:-${SEGSIM_CAMPAIGN_SECONDS:-180}}
[[ "$budget" =~ ^[0-9]+$ ]] || { echo "campaign.sh: SECONDS must be a whole number, got '$budget'" >&2; exit 2; }
jobs=${SEGSIM_CAMPAIGN_JOBS:-$(nproc)}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "campaign.sh: SEGSIM_CAMPAIGN_JOBS must be a positive number, got '$jobs'" >&2; exit 2; }
case "$preset" in
  asan|tsan|fuzz) default_seed_timeout=180 ;;
  *) default_seed_timeout=60 ;;
esac
seed_timeout=${SEGSIM_CAMPAIGN_SEED_TIMEOUT:-$default_seed_timeout}
[[ "$seed_timeout" =~ ^[1-9][0-9]*$ ]] || { echo "campaign.sh: SEGSIM_CAMPAIGN_SEED_TIMEOUT must be a positive number, got '$seed_timeout'" >&2; exit 2; }
read -r -a configs <<<"${SEGSIM_CAMPAIGN_CONFIGS:-random:swarm random:none pct:none pos:none}"

segsim=build/$preset/segsim
[[ -x "$segsim" ]] || { echo "campaign.sh: $segsim not found: build the preset first (cmake --preset $preset && cmake --build --preset $preset)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "campaign.sh: python3 not found (the probe gate needs it)" >&2; exit 2; }

# Sanitizer runtime options, as the presets' ctest environments (CMakePresets.json) set them.
case "$preset" in
  asan)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} ;;
  tsan)
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} ;;
esac

# ---- the start seed: from the commit id, so it changes from one commit to the next
if [[ -n "${SEGSIM_CAMPAIGN_SEED:-}" ]]; then
  [[ "$SEGSIM_CAMPAIGN_SEED" =~ ^[0-9]{1,15}$ ]] || { echo "campaign.sh: SEGSIM_CAMPAIGN_SEED must be a number, got '$SEGSIM_CAMPAIGN_SEED'" >&2; exit 2; }
  base_seed=$((10#$SEGSIM_CAMPAIGN_SEED))
  seed_origin="SEGSIM_CAMPAIGN_SEED"
elif commit=$(git rev-parse HEAD 2>/dev/null) && [[ "$commit" =~ ^[0-9a-f]{8} ]]; then
  base_seed=$(( 16#${commit:0:8} % 1000000000 ))
  seed_origin="commit ${commit:0:12} (first 8 hex digits mod 10^9)"
else
  base_seed=1000
  seed_origin="fixed: not a git checkout (set SEGSIM_CAMPAIGN_SEED to choose)"
fi

# ---- what to run: parsed from `segsim list`, never hard-coded
list=$("$segsim" list) || { echo "campaign.sh: '$segsim list' failed" >&2; exit 2; }
section_items() {  # the first word of each indented line of section "$1:" of `segsim list`
  awk -v want="$1:" '/^[^ ]/ { in_section = ($0 == want); next } in_section && /^  [^ ]/ { print $1 }' <<<"$list"
}
mapfile -t scenarios < <(section_items scenarios)
mapfile -t strategies < <(section_items strategies)
((${#scenarios[@]} > 0)) || { echo "campaign.sh: '$segsim list' shows no scenarios" >&2; exit 2; }

cells=()  # "scenario strategy faults"
skipped=()
for config in "${configs[@]}"; do
  [[ "$config" == *:* ]] || { echo "campaign.sh: config '$config' is not STRATEGY:FAULTS" >&2; exit 2; }
  strategy=${config%%:*}
  if [[ " ${strategies[*]} " != *" $strategy "* ]]; then
    skipped+=("$config")
    continue
  fi
done
# A scenario's cells start a million seeds apart: a scenario whose workload
# does not depend on the schedule (one client, say) would otherwise run the
# same few workloads in each of its cells.
seed_stride=1000000
declare -a first_seed=()
for scenario in "${scenarios[@]}"; do
  k=0
  for config in "${configs[@]}"; do
    strategy=${config%%:*}
    [[ " ${strategies[*]} " == *" $strategy "* ]] || continue
    cells+=("$scenario $strategy ${config#*:}")
    first_seed+=($((base_seed + k * seed_stride)))
    k=$((k + 1))
  done
done
((${#cells[@]} > 0)) || { echo "campaign.sh: no (scenario, strategy) to run: strategies listed are ${strategies[*]}" >&2; exit 2; }

out=build/$preset/campaign
rm -rf "$out"
mkdir -p "$out/json" "$out/junit" "$out/logs" "$out/repros"

echo "campaign: preset $preset, budget ${budget}s, $jobs jobs, seed timeout ${seed_timeout}s"
echo "campaign: start seed $base_seed ($seed_origin)"
echo "campaign: ${#scenarios[@]} scenarios (${scenarios[*]}) x configs (${configs[*]}) = ${#cells[@]} sweeps"
((${#skipped[@]} == 0)) || echo "campaign: skipped (strategy not in this build's 'segsim list'): ${skipped[*]}"

heap_s=${SEGSIM_CAMPAIGN_HEAP_SECONDS:-$((budget / 5))}
[[ "$heap_s" =~ ^[0-9]+$ ]] && ((heap_s <= budget)) ||
  { echo "campaign.sh: SEGSIM_CAMPAIGN_HEAP_SECONDS must be a whole number up to the budget ($budget), got '$heap_s'" >&2; exit 2; }
source ci/other_heap.sh  # other_heap: pass 4's environment

now_us() { local t=${EPOCHREALTIME/./}; echo "$((10#$t))"; }
start_us=$(now_us)
deadline_us=$((start_us + (budget - heap_s) * 1000000))

declare -a next_seed=() seeds_run=() failed=() wall_us=()
failure_lines=()
harness_errors=()
sweep_count=0

# config_dir_of STRATEGY FAULTS: one config's name, safe in file names.
config_dir_of() { echo "$1-${2//[^A-Za-z0-9._-]/_}"; }

# sweep_seeds CELL FIRST LAST JSON JUNIT LOG REPRO_DIR [VAR=VALUE...]: sweeps
# the cell's seeds FIRST..LAST (in the environment given), its output in LOG;
# sets sweep_rc and sweep_bound.
sweep_seeds() {
  local i=$1 first=$2 last=$3 json=$4 junit=$5 log=$6 repros=$7
  shift 7
  local scenario strategy faults
  read -r scenario strategy faults <<<"${cells[$i]}"
  local cmd=("$segsim" sweep "$scenario" --seeds "$first..$last" --jobs "$jobs" --strategy "$strategy"
             --faults "$faults" --timeout "$seed_timeout" --json "$json" --junit "$junit"
             --failures-dir "$repros")
  (($# == 0)) || cmd=(env "$@" "${cmd[@]}")
  echo "+ ${cmd[*]}"
  # The sweep kills a seed after --timeout; the outer bound only catches a hung harness.
  sweep_bound=$(( (last - first + jobs) / jobs * seed_timeout + 120 ))
  sweep_rc=0
  timeout -k 10 "$sweep_bound" "${cmd[@]}" >"$log" 2>&1 || sweep_rc=$?
}

# run_batch CELL_INDEX N: sweeps the cell's next N seeds.
run_batch() {
  local i=$1 n=$2
  local scenario strategy faults
  read -r scenario strategy faults <<<"${cells[$i]}"
  local first=${next_seed[$i]} last=$(( ${next_seed[$i]} + n - 1 ))
  local config_dir
  config_dir=$(config_dir_of "$strategy" "$faults")
  local tag="$scenario.$config_dir.$first"
  local json="$out/json/$tag.json" log="$out/logs/$tag.log"
  local t0 t1
  t0=$(now_us)
  sweep_seeds "$i" "$first" "$last" "$json" "$out/junit/$tag.xml" "$log" "$out/repros/$config_dir"
  t1=$(now_us)
  local rc=$sweep_rc bound=$sweep_bound
  sweep_count=$((sweep_count + 1))
  next_seed[$i]=$((last + 1))
  seeds_run[$i]=$(( ${seeds_run[$i]:-0} + n ))
  wall_us[$i]=$(( ${wall_us[$i]:-0} + t1 - t0 ))
  local summary
  summary=$(grep -E "^sweep " "$log" | tail -1 || true)
  echo "  ${summary:-(no summary line)}"
  local bad=0
  case $rc in
    0) ;;
    1)
      bad=$(grep -cE '^  seed [0-9]+:' "$log" || true)
      ((bad > 0)) || bad=1
      echo "  FAILED: $bad seed(s) of $scenario ($strategy, faults $faults):"
      # the first few failing seeds here and in the verdict; all of them in the log
      local line shown=0
      while IFS= read -r line; do
        [[ "$line" == "  seed "* ]] && shown=$((shown + 1))
        ((shown <= 5)) || continue
        echo "  $line"
        failure_lines+=("$scenario [$strategy, faults $faults] ${line# }")
      done < <(grep -E '^  (seed [0-9]+:|reproduce:)' "$log" || true)
      ((shown <= 5)) || {
        echo "    ... and $((shown - 5)) more failing seeds: $log"
        failure_lines+=("$scenario [$strategy, faults $faults]  ... and $((shown - 5)) more failing seeds: $log")
      }
      ;;
    124|137)
      bad=1
      harness_errors+=("$scenario [$strategy, faults $faults]: sweep $first..$last did not finish within ${bound}s (log $log)")
      echo "  ERROR: the sweep did not finish within ${bound}s; last lines of $log:"
      tail -20 "$log" | sed 's/^/    /'
      ;;
    *)
      bad=1
      harness_errors+=("$scenario [$strategy, faults $faults]: sweep $first..$last exited $rc (log $log)")
      echo "  ERROR: the sweep exited $rc; last lines of $log:"
      tail -20 "$log" | sed 's/^/    /'
      ;;
  esac
  failed[$i]=$(( ${failed[$i]:-0} + bad ))
}

# ---- pass 1: one batch of `jobs` seeds a cell, which also measures its seeds/s
echo "=== campaign pass 1: $jobs seeds a sweep, measuring seeds/s"
for i in "${!cells[@]}"; do
  next_seed[$i]=${first_seed[$i]}
  run_batch "$i" "$jobs"
done

# ---- pass 2: the rest of the budget, shared equally among the cells. A cell
# runs batches sized from its seeds/s so far (the first estimate, from a tiny
# batch, is low: process start-up dominates it) until its share is spent.
max_batches=4
left_us=$((deadline_us - $(now_us)))
if ((left_us <= 0)); then
  echo "=== campaign pass 2: skipped, the budget was spent in pass 1 ($(( ($(now_us) - start_us) / 1000000 ))s)"
else
  echo "=== campaign pass 2: $((left_us / 1000000))s left for ${#cells[@]} sweeps"
  for i in "${!cells[@]}"; do
    remaining_cells=$(( ${#cells[@]} - i ))
    t=$(now_us)
    left_us=$((deadline_us - t))
    ((left_us > 0)) || { echo "campaign: budget spent; ${remaining_cells} cell(s) get no pass-2 seeds"; break; }
    cell_deadline_us=$((t + left_us / remaining_cells))
    if (( ${failed[$i]} > 0 )); then
      echo "campaign: ${cells[$i]}: failed in pass 1; no more seeds (its share goes to the others)"
      continue
    fi
    for ((batch = 0; batch < max_batches; batch++)); do
      room_us=$((cell_deadline_us - $(now_us)))
      ((room_us > 0)) || break
      # seeds the room holds at the cell's rate so far, with 10 % to spare
      n=$(( ${seeds_run[$i]} * room_us / (${wall_us[$i]} > 0 ? ${wall_us[$i]} : 1) * 9 / 10 ))
      ((n <= 100000)) || n=100000
      ((n >= 1)) || break
      run_batch "$i" "$n"
      (( ${failed[$i]} == 0 )) || break  # one failing batch is enough to fail CI
    done
  done
fi
# ---- pass 3: required probes still missing. How many seeds a cell runs in the
# budget depends on the machine (a slow one ran a fifth of them, and a probe
# that fires in 13 % of page-file's swarm seeds went unseen): instead of
# failing on that, the cells run more seeds — in widening rounds, the cells
# nearest the missing probes first (below), then the fault-injecting ones —
# until every required probe has
# fired or SEGSIM_CAMPAIGN_PROBE_EXTRA_SECONDS (default: half the budget) is
# spent. A probe still missing then fails the gate below, as before.
extra_s=${SEGSIM_CAMPAIGN_PROBE_EXTRA_SECONDS:-$((budget / 2))}
[[ "$extra_s" =~ ^[0-9]+$ ]] || { echo "campaign.sh: SEGSIM_CAMPAIGN_PROBE_EXTRA_SECONDS must be a whole number, got '$extra_s'" >&2; exit 2; }
missing_probes() {  # the required probes no sweep so far fired, space-separated ("" when none or unknown)
  local line
  line=$(python3 ci/campaign_probes.py --required ci/required_probes.txt "$out"/json/*.json 2>/dev/null |
         grep -m1 '^probes: ' || true)
  line=${line#*required missing: }
  [[ "$line" == none || "$line" == probes:* ]] && return 0
  echo "${line//,/}"
}
missing=$(missing_probes)
if [[ -n "$missing" && "${SEGSIM_CAMPAIGN_PROBE_GATE:-1}" != 0 && "$extra_s" != 0 ]]; then
  echo "=== campaign pass 3: required probes not fired yet: $missing; more seeds for up to ${extra_s}s"
  extra_deadline_us=$(( $(now_us) + extra_s * 1000000 ))
  # Order: first the cells that fired the most distinct siblings of the missing
  # probes (same operation, then same component: ci/campaign_probes.py
  # --rank-cells), then the fault-injecting cells, then the rest; ranked again
  # whenever a missing probe fires.
  declare -A index_of=()
  for i in "${!cells[@]}"; do
    read -r scenario strategy faults <<<"${cells[$i]}"
    index_of["$scenario.$(config_dir_of "$strategy" "$faults")"]=$i
  done
  rank_order() {  # sets order=(cell indices) for the probes in $missing
    local tag i
    local -A in_order=()
    order=()
    while read -r tag; do
      [[ -n "$tag" && -n "${index_of[$tag]:-}" && -z "${in_order[${index_of[$tag]}]:-}" ]] || continue
      order+=("${index_of[$tag]}")
      in_order[${index_of[$tag]}]=1
    done < <(python3 ci/campaign_probes.py --rank-cells "$missing" "$out"/json/*.json 2>/dev/null || true)
    echo "campaign: pass 3: for $missing: ${#order[@]} of ${#cells[@]} cells fired their siblings; those first"
    for i in "${!cells[@]}"; do [[ -z "${in_order[$i]:-}" && "${cells[$i]##* }" != none ]] && order+=("$i"); done
    for i in "${!cells[@]}"; do [[ -z "${in_order[$i]:-}" && "${cells[$i]##* }" == none ]] && order+=("$i"); done
    return 0
  }
  # Rounds widen and lengthen: round r visits the first 4·2^r cells of the
  # order, each for about 2^r seconds of seeds, so the nearest cells get most
  # of the time and a far one still gets its turn.
  ranked_for=""
  while [[ -n "$missing" ]] && (( $(now_us) < extra_deadline_us )); do
    if [[ "$missing" != "$ranked_for" ]]; then
      rank_order
      ranked_for=$missing
      visit=4
      seconds=1
    fi
    for i in "${order[@]:0:visit}"; do
      (( $(now_us) < extra_deadline_us )) || break
      (( ${failed[$i]} == 0 )) || continue
      n=$(( seconds * ${seeds_run[$i]} * 1000000 / (${wall_us[$i]} > 0 ? ${wall_us[$i]} : 1) ))
      ((n >= jobs)) || n=$jobs
      run_batch "$i" "$n"
      missing=$(missing_probes)
      [[ -n "$missing" && "$missing" == "$ranked_for" ]] || break
    done
    [[ "$missing" == "$ranked_for" ]] || continue
    visit=$((visit * 2))
    seconds=$((seconds * 2))
  done
  echo "campaign: pass 3 ends: required probes still missing: ${missing:-none}"
fi
# ---- pass 4: each cell's first seeds again under another heap (see the header)
heap_seeds=0
if ((heap_s > 0)); then
  heap_deadline_us=$(( $(now_us) + heap_s * 1000000 ))
  echo "=== campaign pass 4: ${heap_s}s: each cell's first seeds again under another heap (${other_heap[*]})"
  mkdir -p "$out/heap"
  # Config by config (each scenario's first config, then each one's second...):
  # should the time run out, every scenario was checked under the first.
  heap_order=()
  for config in "${configs[@]}"; do
    for i in "${!cells[@]}"; do
      read -r _ strategy faults <<<"${cells[$i]}"
      [[ "$strategy:$faults" == "$config" ]] && heap_order+=("$i")
    done
  done
  for ((k = 0; k < ${#heap_order[@]}; k++)); do
    i=${heap_order[$k]}
    remaining_cells=$(( ${#heap_order[@]} - k ))
    t=$(now_us)
    left_us=$((heap_deadline_us - t))
    ((left_us > 0)) || { echo "campaign: pass 4: its time is spent; ${remaining_cells} cell(s) not checked"; break; }
    (( ${failed[$i]} == 0 )) || continue  # its failure is reported already
    read -r scenario strategy faults <<<"${cells[$i]}"
    # seeds the cell's share holds at its rate so far, with 10 % to spare; at least one
    n=$(( ${seeds_run[$i]} * (left_us / remaining_cells) / (${wall_us[$i]} > 0 ? ${wall_us[$i]} : 1) * 9 / 10 ))
    ((n <= ${seeds_run[$i]})) || n=${seeds_run[$i]}
    ((n >= 1)) || n=1
    first=${first_seed[$i]}
    last=$((first + n - 1))
    config_dir=$(config_dir_of "$strategy" "$faults")
    json="$out/heap/$scenario.$config_dir.json"
    log="$out/logs/$scenario.$config_dir.heap.log"
    sweep_seeds "$i" "$first" "$last" "$json" "$out/heap/$scenario.$config_dir.xml" "$log" \
      "$out/repros/heap-$config_dir" "${other_heap[@]}"
    rc=$sweep_rc
    if [[ $rc != 0 && $rc != 1 ]] || [[ ! -s "$json" ]]; then
      harness_errors+=("$scenario [$strategy, faults $faults]: pass 4's sweep $first..$last exited $rc (log $log)")
      failed[$i]=$(( ${failed[$i]} + 1 ))
      continue
    fi
    # Each seed's trace hash and outcome against its first run's (the cell's sweeps of passes 1-3).
    verdict=$(python3 - "$json" "$out/json/$scenario.$config_dir."[0-9]*.json <<'PY'
import json, sys
other = json.load(open(sys.argv[1]))["seeds"]
usual = {}
for path in sys.argv[2:]:
    for seed in json.load(open(path))["seeds"]:
        usual[seed["seed"]] = seed
differ = 0
for seed in sorted(other, key=lambda s: s["seed"]):
    first = usual.get(seed["seed"])
    if first is not None and (first["trace_hash"], first["outcome"]) == (seed["trace_hash"], seed["outcome"]):
        continue
    differ += 1
    if differ <= 5:
        was = "not run" if first is None else f"trace hash {first['trace_hash']} ({first['outcome']})"
        print(f"seed {seed['seed']}: {was}, under the other heap {seed['trace_hash']} ({seed['outcome']})")
print(f"checked {len(other)} differ {differ}")
PY
) || { harness_errors+=("$scenario [$strategy, faults $faults]: pass 4 could not compare $json"); continue; }
    read -r _ checked _ differ <<<"$(tail -1 <<<"$verdict")"
    heap_seeds=$((heap_seeds + checked))
    if ((differ == 0)); then
      echo "  $checked seeds, the same trace hashes"
      continue
    fi
    echo "  FAILED: $differ of $checked seeds of $scenario ($strategy, faults $faults) depend on the heap's state:"
    failed[$i]=$(( ${failed[$i]} + differ ))
    while IFS= read -r line; do
      echo "    $line"
      failure_lines+=("$scenario [$strategy, faults $faults] $line")
    done < <(head -n -1 <<<"$verdict")
    failure_lines+=("  reproduce: compare '$segsim run $scenario --strategy $strategy --faults $faults --seed SEED' with and without 'env ${other_heap[*]}'")
  done
fi
elapsed_s=$(( ($(now_us) - start_us) / 1000000 ))

# ---- summary: scenario x strategy
total_seeds=0
total_failed=0
summary=$(printf 'campaign summary: preset %s, start seed %s, %d sweeps, %ds (budget %ss)\n' \
  "$preset" "$base_seed" "$sweep_count" "$elapsed_s" "$budget")
summary+=$'\n'$(printf '  %-16s %-8s %-13s %8s %9s %9s  %s' scenario strategy faults seeds failures seeds/s "seed range")
for i in "${!cells[@]}"; do
  read -r scenario strategy faults <<<"${cells[$i]}"
  rate=$(awk -v n="${seeds_run[$i]}" -v us="${wall_us[$i]}" 'BEGIN { printf "%.1f", (us > 0 ? n * 1e6 / us : 0) }')
  summary+=$'\n'$(printf '  %-16s %-8s %-13s %8d %9d %9s  %s' "$scenario" "$strategy" "$faults" "${seeds_run[$i]}" \
    "${failed[$i]}" "$rate" "${first_seed[$i]}..$(( ${next_seed[$i]} - 1 ))")
  total_seeds=$((total_seeds + ${seeds_run[$i]}))
  total_failed=$((total_failed + ${failed[$i]}))
done
summary+=$'\n'$(printf '  %-39s %8d %9d' total "$total_seeds" "$total_failed")
echo "=== campaign summary"
tee "$out/summary.txt" <<<"$summary"

# ---- probe gate
gate_failed=0
echo "=== campaign probes (required: ci/required_probes.txt)"
if ! drift=$(python3 ci/required_probes.py --check 2>&1); then
  echo "WARNING: ci/required_probes.txt and the 'required' flags of core/probe_list.h differ:"
  echo "$drift" | sed 's/^/WARNING:   /'
fi
shopt -s nullglob
results=("$out"/json/*.json)
shopt -u nullglob
gate_rc=0
python3 ci/campaign_probes.py --required ci/required_probes.txt --table "$out/probes.txt" "${results[@]}" || gate_rc=$?
case $gate_rc in
  0) echo "  every probe's total: $out/probes.txt" ;;
  3) ;;  # no probe counts in this build's sweep results: warned, gate skipped
  1) if [[ "${SEGSIM_CAMPAIGN_PROBE_GATE:-1}" == 0 ]]; then
       echo "  (probe gate advisory here: SEGSIM_CAMPAIGN_PROBE_GATE=0)"
     else
       gate_failed=1
     fi ;;
  *) gate_failed=1; echo "campaign: the probe gate could not read the sweep results (exit $gate_rc)" ;;
esac

# ---- verdict
if ((total_failed > 0 || gate_failed || ${#harness_errors[@]} > 0)); then
  echo "=== campaign: FAILED (preset $preset, start seed $base_seed)"
  for line in "${failure_lines[@]}"; do echo "  $line"; done
  for line in "${harness_errors[@]}"; do echo "  $line"; done
  ((${#failure_lines[@]} == 0)) || echo "  (segsim = $segsim; repros under $out/repros/)"
  ((gate_failed == 0)) || echo "  required probes not fired: see 'probes:' above"
  exit 1
fi
echo "=== campaign: passed: $total_seeds seeds, 0 failures, ${elapsed_s}s (preset $preset, start seed $base_seed;" \
     "$heap_seeds seeds again under another heap, the same trace hashes)"
