#!/bin/bash
# Submits a sharded sweep campaign: a job array of SHARDS tasks (sweep.sbatch)
# and its merge job (merge.sbatch, --dependency=afterany on the array).
#   deploy/slurm/submit-sweep.sh SCENARIO A..B SHARDS RESULTS_DIR [SWEEP OPTION...]
# Prints "ARRAY_JOB_ID MERGE_JOB_ID". Results, repros and logs go to RESULTS_DIR
# (made absolute: the jobs may start in another folder). Running it again with
# the same arguments resumes every shard. Environment: SEGSIM (the binary,
# default segsim on PATH; made absolute), SEGSIM_CPUS_PER_TASK (default 1: the
# sweep's --jobs), SEGSIM_SHARD_SECONDS (time budget per task), and sbatch's own
# SBATCH_* variables (SBATCH_PARTITION, SBATCH_TIMELIMIT, ...).
# Exit: 0 submitted, 2 bad usage or sbatch refused.
set -euo pipefail

if (($# < 4)); then
  echo "submit-sweep.sh: usage: submit-sweep.sh SCENARIO A..B SHARDS RESULTS_DIR [SWEEP OPTION...]" >&2
  exit 2
fi
scenario=$1 seeds=$2 shards=$3 results=$4
shift 4
if ! [[ "$shards" =~ ^[1-9][0-9]*$ ]]; then
  echo "submit-sweep.sh: SHARDS must be a positive whole number, got '$shards'" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
segsim=${SEGSIM:-segsim}
if ! resolved=$(command -v "$segsim"); then
  echo "submit-sweep.sh: no segsim binary at '$segsim' (set SEGSIM)" >&2
  exit 2
fi
case $resolved in /*) ;; *) resolved=$(pwd)/$resolved ;; esac
export SEGSIM=$resolved
mkdir -p "$results/logs"
results=$(cd "$results" && pwd)
cpus=${SEGSIM_CPUS_PER_TASK:-1}

array=$(sbatch --parsable --array="0-$((shards - 1))" --cpus-per-task="$cpus" \
  --output="$results/logs/sweep-%A_%a.log" "$here/sweep.sbatch" "$scenario" "$seeds" "$results" "$@") ||
  { echo "submit-sweep.sh: sbatch refused the array" >&2; exit 2; }
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterany:$array" --output="$results/logs/merge-%j.log" \
  "$here/merge.sbatch" "$seeds" "$results") ||
  { echo "submit-sweep.sh: sbatch refused the merge job (array $array is queued)" >&2; exit 2; }
echo "${array} ${merge%%;*}"
