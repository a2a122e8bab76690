#!/usr/bin/env bash
# Runs the deploy/slurm/ recipes on a live private single-node Slurm cluster
# (ci/slurm_cluster.sh: munged, slurmctld, slurmd, all state under build/slurm/)
# and checks what they produce:
#  1. a sweep campaign (chicago 1..400, 4 array tasks + a dependent merge job):
#     the merged result must equal a local `sweep --jobs 2` of the same range
#     seed by seed (outcome and trace hash), and the check must FAIL on the same
#     shards with one dropped (a negative control);
#  2. the campaign with a 1 s time budget per task (merge: exit 3, incomplete),
#     submitted again: every task resumes, and the result equals the local sweep;
#  3. the campaign with a catalogued bug on (build/mutants): equal to a local
#     sweep, failures grouped by signature like the local ones, and every group's
#     representative repro replays to its failure (`segsim replay` exits 1);
#  4. when build/fuzz (or $SEGSIM_FUZZ_BUILD) has the target: a 2-task fuzzing array and its merge job.
# The daemons it started are stopped on any exit (trap); it fails if a Slurm
# process it started is still there afterwards.
#   ci/slurm.sh                   everything (ci/test.sh runs this)
#   ci/slurm.sh --drop-shard K    drop shard K's results before the merge: must exit 1
# Environment: SEGSIM_SLURM_TIMEOUT (seconds to wait for one campaign, default 240).
set -euo pipefail
cd "$(dirname "$0")/.."

drop_shard=""
if [[ "${1:-}" == --drop-shard && "${2:-}" =~ ^[0-3]$ ]]; then
  drop_shard=$2
elif (($# > 0)); then
  echo "slurm.sh: usage: ci/slurm.sh [--drop-shard K] (K in 0..3)" >&2
  exit 2
fi
timeout_seconds=${SEGSIM_SLURM_TIMEOUT:-240}
scenario=chicago
seeds=1..400
shards=4
bug=clear-after-return
root=$(pwd)
work=$root/build/slurm
start=$(date +%s)

source ci/slurm_cluster.sh
source ci/slurm_checks.sh

ci/bootstrap.sh
for preset in dev mutants; do
  if [[ ! -x build/$preset/segsim ]]; then
    echo "slurm.sh: building build/$preset/segsim"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j "$(nproc)" --target segsim
  fi
done

check_usage_errors "$root/build/dev/segsim"
slurm_before=$(slurm_our_process_list)
on_exit() {
  local rc=$?
  slurm_cluster_stop
  if ! slurm_check_nothing_left "$slurm_before"; then rc=1; fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

rm -rf "$work"
mkdir -p "$work"
slurm_cluster_start "$work/cluster"
echo "=== slurm.sh: cluster up in $(($(date +%s) - start))s: $(sinfo -h -o '%P %D node(s) %c CPUs %t')"

# ---- 1. the sweep campaign vs a local sweep of the same range, then a dropped shard
campaign_sweep dev "$root/build/dev/segsim" 0 0
[[ -z "$drop_shard" ]] || drop_shard_and_merge dev "$drop_shard" "$root/build/dev/segsim"
slurm_seconds=$campaign_seconds
local_sweep dev "$root/build/dev/segsim" 0
echo "=== slurm.sh: timing: $shards-task Slurm campaign ${slurm_seconds}s (submit to merged) vs local sweep --jobs 2 ${local_seconds}s"
check_equal dev
check_dropped_shard_is_caught dev "$root/build/dev/segsim"

# ---- 2. a time budget of 1 s per task, then the same campaign again: tasks resume
campaign_sweep budget "$root/build/dev/segsim" 1 0
campaign_sweep budget "$root/build/dev/segsim" 0 0
python3 ci/slurm_compare.py "$work/dev-local.json" "$work/budget/merged.json" ||
  slurm_fail "the budgeted and resumed campaign is not the local sweep"

# ---- 3. a catalogued bug on: grouped failures with replayable repros
campaign_sweep bug "$root/build/mutants/segsim" 0 1 --bug "$bug"
local_sweep bug "$root/build/mutants/segsim" 1 --bug "$bug"
check_equal bug
check_groups bug "$root/build/mutants/segsim"

# ---- 4. fuzzing, when the fuzz preset is built
campaign_fuzz
echo "=== slurm.sh: all green in $(($(date +%s) - start))s"
