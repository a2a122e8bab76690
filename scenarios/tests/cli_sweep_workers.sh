#!/usr/bin/env bash
# Sweep workers (issue 17, "Cheaper seeds"): a seed gives the same result —
# outcome, trace hash, steps, failure signature, repro, probe hits — when it
# runs as the Nth seed of a reused worker as in a fresh process per seed
# (--seeds-per-worker 1) and as `segsim run SCENARIO --seed N` alone; and a
# sweep with workers keeps --resume and --shard.
#   cli_sweep_workers.sh SEGSIM
source "$(dirname "$0")/cli_test_lib.sh"

# 24 seeds; fewer under the sanitizers (SEGSIM_SWEEP_WORKERS_SEEDS, set by
# CMake: a seed there costs ~10x, and what they check — the worker's memory
# and threads — is the same on seed 8 as on seed 24).
last=${SEGSIM_SWEEP_WORKERS_SEEDS:-24}
seeds=1..$last
recycle=$(( (last + 3) / 5 ))  # several workers retire and are replaced mid-sweep
# scenario strategy faults: faults swarm and pct included, and the scenarios
# with the most process-wide state (alloc-api turns the flight recorder on per
# seed; tcache-churn and slab-churn keep per-thread caches).
configs=("chicago random none" "leak-soak random swarm" "alloc-api pct swarm" "alloc-api random none"
         "tcache-churn pos swarm" "slab-churn pct none" "budget random swarm")

compare() {  # A.json B.json: every seed and every probe total equal
  python3 - "$1" "$2" <<'PY' || fail "$1 and $2 differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = ("seed", "outcome", "trace_hash", "steps", "detail", "repro")
sa = [tuple(s[k] for k in keys) for s in a["seeds"]]
sb = [tuple(s[k] for k in keys) for s in b["seeds"]]
assert len(sa) == len(sb) > 0, (len(sa), len(sb))
for x, y in zip(sa, sb):
    assert x == y, f"seed {x[0]}: {x[1:]} vs {y[1:]}"
# recorder.regions.displaced counts collisions in the flight recorder's
# region table, keyed by allocator ids, which count up over the whole
# process: a reused worker's seed collides elsewhere than a fresh one's. Ids
# are never reused (thread-local cache tables of long-lived threads still
# hold dead allocators' ids), so this one count may differ; every other
# probe, and every trace, may not.
layout_dependent = {"recorder.regions.displaced"}
diff = {k: (a["probes"][k], b["probes"].get(k)) for k in a["probes"]
        if k not in layout_dependent and a["probes"][k] != b["probes"].get(k)}
assert not diff, f"probe hits differ: {diff}"
assert sum(a["probes"].values()) > 0, "no probe fired at all: the comparison proves nothing"
PY
}

hash_of() {  # JSON SEED: the seed's trace hash in a sweep's results
  python3 -c "import json,sys;print(next(s['trace_hash'] for s in json.load(open(sys.argv[1]))['seeds'] if s['seed']==int(sys.argv[2])))" "$1" "$2"
}

for config in "${configs[@]}"; do
  read -r scenario strategy faults <<<"$config"
  name="$scenario-$strategy-$faults"
  knobs=(--strategy "$strategy" --faults "$faults")
  # Reused: one worker runs every seed; workers of $recycle seeds (retired and replaced mid-sweep).
  "$segsim" sweep "$scenario" --seeds $seeds "${knobs[@]}" --jobs 1 --seeds-per-worker 1000 \
      --json "$name-reused.json" --failures-dir "f-reused" > /dev/null 2>&1 || fail "$name: reused sweep exited $?"
  "$segsim" sweep "$scenario" --seeds $seeds "${knobs[@]}" --jobs 2 --seeds-per-worker "$recycle" \
      --json "$name-recycled.json" --failures-dir "f-recycled" > /dev/null 2>&1 || fail "$name: recycled sweep exited $?"
  "$segsim" sweep "$scenario" --seeds $seeds "${knobs[@]}" --jobs 2 --seeds-per-worker 1 \
      --json "$name-fresh.json" --failures-dir "f-fresh" > /dev/null 2>&1 || fail "$name: fresh sweep exited $?"
  sed -i 's#f-reused/#f-fresh/#' "$name-reused.json"
  sed -i 's#f-recycled/#f-fresh/#' "$name-recycled.json"
  compare "$name-reused.json" "$name-fresh.json"
  compare "$name-recycled.json" "$name-fresh.json"
  # The last seed of the reused worker, run alone.
  alone=$("$segsim" run "$scenario" --seed "$last" "${knobs[@]}" | awk '$1 == "trace" && $2 == "hash" {print $3}')
  [[ -n "$alone" && "$alone" == "$(hash_of "$name-reused.json" "$last")" ]] ||
    fail "$name: seed $last alone has hash '$alone', as the last seed of a worker $(hash_of "$name-reused.json" "$last")"
done

# --resume and --shard with workers: the union is the whole sweep, seed for seed.
shard_seeds=1..$((last + 6))  # 30 seeds; 14 under the sanitizers
kept=$((last / 2))            # seeds kept by the partial sweep that --resume continues
"$segsim" sweep chicago --seeds $shard_seeds --shard 0/2 --json shard0.json --failures-dir f > /dev/null 2>&1 || fail "shard 0"
"$segsim" sweep chicago --seeds $shard_seeds --shard 1/2 --json shard1.json --failures-dir f > /dev/null 2>&1 || fail "shard 1"
"$segsim" merge shard0.json shard1.json --json merged.json > /dev/null 2>&1 || fail "merge of the shards"
"$segsim" sweep chicago --seeds $shard_seeds --seeds-per-worker 1 --json whole.json --failures-dir f > /dev/null 2>&1 ||
  fail "whole sweep"
compare merged.json whole.json
python3 - "$kept" <<'PY' || fail "could not cut whole.json to a partial sweep"
import json, sys
d = json.load(open("whole.json")); d["seeds"] = d["seeds"][:int(sys.argv[1])]
json.dump(d, open("partial.json", "w"))
PY
"$segsim" sweep chicago --seeds $shard_seeds --seeds-per-worker 7 --json partial.json --resume --failures-dir f > resume.txt 2>&1 ||
  fail "resume: $(cat resume.txt)"
grep -q "resuming: $kept seeds" resume.txt || fail "resume did not start from the $kept kept seeds: $(cat resume.txt)"
python3 - <<'PY' || fail "resumed sweep differs from the whole one"
import json
a, b = (json.load(open(p)) for p in ("partial.json", "whole.json"))
key = lambda s: (s["seed"], s["outcome"], s["trace_hash"], s["steps"])
assert [key(s) for s in a["seeds"]] == [key(s) for s in b["seeds"]]
PY

# A bad value is one line and exit 2, never a clamp.
"$segsim" sweep chicago --seeds 1..2 --seeds-per-worker 0 > bad.txt 2>&1; code=$?
[[ $code == 2 ]] || fail "--seeds-per-worker 0 exited $code"
echo "PASS"
