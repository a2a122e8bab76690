#!/bin/bash
# Submits a fuzzing campaign: an array of TASKS libFuzzer processes on one
# shared corpus (fuzz.sbatch) and its merge job (fuzz-merge.sbatch,
# --dependency=afterany on the array).
#   deploy/slurm/submit-fuzz.sh TARGET TASKS RESULTS_DIR [SEED_CORPUS_DIR...]
# Prints "ARRAY_JOB_ID MERGE_JOB_ID". Paths are made absolute. Environment:
# SEGSIM_FUZZ_SECONDS, SEGSIM_FUZZ_SEED_BASE, SEGSIM_FUZZ_ARGS (fuzz.sbatch)
# and sbatch's SBATCH_* variables. Exit: 0 submitted, 2 bad usage or sbatch refused.
set -euo pipefail

if (($# < 3)); then
  echo "submit-fuzz.sh: usage: submit-fuzz.sh TARGET TASKS RESULTS_DIR [SEED_CORPUS_DIR...]" >&2
  exit 2
fi
target=$1 tasks=$2 results=$3
shift 3
if [[ ! -x "$target" ]] || ! [[ "$tasks" =~ ^[1-9][0-9]*$ ]]; then
  echo "submit-fuzz.sh: need an executable TARGET and a positive TASKS, got '$target' '$tasks'" >&2
  exit 2
fi
absolute() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
here=$(cd "$(dirname "$0")" && pwd)
target=$(absolute "$target")
mkdir -p "$results/logs"
results=$(cd "$results" && pwd)
seeds=()
for dir in "$@"; do seeds+=("$(absolute "$dir")"); done

array=$(sbatch --parsable --array="0-$((tasks - 1))" --output="$results/logs/fuzz-%A_%a.log" \
  "$here/fuzz.sbatch" "$target" "$results" "${seeds[@]}") ||
  { echo "submit-fuzz.sh: sbatch refused the array" >&2; exit 2; }
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterany:$array" --output="$results/logs/fuzz-merge-%j.log" \
  "$here/fuzz-merge.sbatch" "$target" "$results") ||
  { echo "submit-fuzz.sh: sbatch refused the merge job (array $array is queued)" >&2; exit 2; }
echo "${array} ${merge%%;*}"
