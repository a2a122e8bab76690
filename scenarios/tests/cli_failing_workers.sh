#!/usr/bin/env bash
# Failing seeds across worker layouts (mutants preset): a seed that fails as
# the Nth seed of a reused sweep worker fails the same way — outcome, trace
# hash, steps, failure group — in a fresh process per seed, and its repro,
# written by the reused worker, replays "reproduced exactly" in a new process.
# cli_sweep_workers.sh checks the same on passing seeds only (a dev build has
# no failing ones); a failure's text is where process-wide state leaks in
# (stop 64: an allocator id in a message made a worker's later seed replay as
# "NOT reproduced").
#   cli_failing_workers.sh SEGSIM
source "$(dirname "$0")/cli_test_lib.sh"

last=${SEGSIM_FAILING_WORKERS_SEEDS:-12}
# One catalogued bug per scenario that hunts them, strategies and faults mixed.
configs=("chicago return-not-idempotent random none" "leak-soak cleanup-race random swarm"
         "evict-race pin-ignored pct none" "resize-storm resize-alias random none"
         "large-objects decommit-reused pos swarm" "pressure pressure-evicts-pinned random none"
         "slab-churn slab-magazine-still-owned random swarm" "txn-arenas arena-child-chunks-forgotten pct none"
         "alloc-api prealloc-leak random swarm")

failing_total=0
for config in "${configs[@]}"; do
  read -r scenario bug strategy faults <<<"$config"
  name="$scenario-$bug"
  knobs=(--seeds 1..$last --bug "$bug" --strategy "$strategy" --faults "$faults")
  "$segsim" sweep "$scenario" "${knobs[@]}" --jobs 1 --seeds-per-worker 1000 --json "$name-reused.json" \
      --failures-dir "f-reused-$name" > /dev/null 2>&1
  [[ $? == 1 ]] || fail "$name: the reused sweep did not exit 1 (failures found)"
  "$segsim" sweep "$scenario" "${knobs[@]}" --jobs 2 --seeds-per-worker 1 --json "$name-fresh.json" \
      --failures-dir "f-fresh-$name" > /dev/null 2>&1
  [[ $? == 1 ]] || fail "$name: the fresh sweep did not exit 1 (failures found)"
  for layout in reused fresh; do  # merge exits 1: the results hold failures
    "$segsim" merge "$name-$layout.json" --groups "$name-$layout-groups.json" > /dev/null 2>&1
    [[ $? == 1 && -f "$name-$layout-groups.json" ]] || fail "$name: merge --groups of the $layout sweep"
  done
  repros=$(python3 - "$name" <<'PY'
import json, sys
name = sys.argv[1]
a, b = (json.load(open(f"{name}-{k}.json")) for k in ("reused", "fresh"))
keys = ("seed", "outcome", "trace_hash", "steps")
sa = [tuple(s[k] for k in keys) for s in a["seeds"]]
sb = [tuple(s[k] for k in keys) for s in b["seeds"]]
assert len(sa) == len(sb) > 0, (len(sa), len(sb))
for x, y in zip(sa, sb):
    assert x == y, f"{name}: seed {x[0]}: reused worker {x[1:]}, fresh process {y[1:]}"
failing = [s for s in a["seeds"] if s["outcome"] != "passed"]
assert failing, f"{name}: no seed failed, so the comparison proves nothing"
# The same failure groups, seed for seed (a signature with numbers read N).
ga, gb = (json.load(open(f"{name}-{k}-groups.json")) for k in ("reused", "fresh"))
group = lambda g: sorted((x["signature"], x["count"], x["first_seed"]) for x in g["groups"])
assert group(ga) == group(gb), f"{name}: failure groups differ: {group(ga)} vs {group(gb)}"
print("\n".join(s["repro"] for s in failing))
PY
) || fail "$name: the reused and the fresh sweep differ"
  while read -r repro; do
    [[ -f "$repro" ]] || fail "$name: the reused sweep wrote no repro $repro"
    "$segsim" replay "$repro" > replay.txt 2>&1
    grep -q "^replay: reproduced exactly" replay.txt ||
      fail "$name: $repro, written by a reused worker, does not replay in a new process: $(grep '^replay' replay.txt)"
    failing_total=$((failing_total + 1))
  done <<<"$repros"
done
echo "PASS ($failing_total failing seeds replayed)"
