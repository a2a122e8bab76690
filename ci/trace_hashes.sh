#!/usr/bin/env bash
# Prints one line per run — scenario, strategy, seed, faults, steps, trace hash,
# result — for every scenario of `segsim list` x strategies random, pct, pos, rr
# x seeds 1, 42 x faults none, swarm. A change to the simulator that must not
# change traces or replay decisions (issue 17) is checked by diffing this
# output before and after:
#   ci/trace_hashes.sh build/dev/segsim > before.txt   # on the old build
#   ci/trace_hashes.sh build/dev/segsim > after.txt && diff before.txt after.txt
# Runs in a scratch directory: failing seeds write their repros there.
set -euo pipefail
segsim=$(realpath "${1:-build/dev/segsim}")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
scenarios=$("$segsim" list | awk '/^scenarios:/ {on = 1; next} /^[a-z]/ {on = 0} on && NF {print $1}')
for scenario in $scenarios; do
  for strategy in random pct pos rr; do
    for seed in 1 42; do
      for faults in none swarm; do
        out=$("$segsim" run "$scenario" --seed "$seed" --strategy "$strategy" --faults "$faults" 2>&1) || true
        steps=$(awk '/^steps / {print $2}' <<<"$out")
        hash=$(awk '/^trace hash / {print $3}' <<<"$out")
        result=$(awk '/^result / {$1 = ""; print substr($0, 2)}' <<<"$out")
        echo "$scenario $strategy $seed $faults steps=$steps hash=$hash result=$result"
      done
    done
  done
done
