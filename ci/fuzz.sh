#!/usr/bin/env bash
# Runs every libFuzzer target of the fuzz preset for a while, starting from
# its committed seed corpus and dictionary (fuzz/<target>.dict). New inputs go
# to build/fuzz/corpus/<target>/ (the committed corpus is never modified
# while fuzzing); crashes to build/fuzz/artifacts/.
#   ci/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
#   SEGSIM_FUZZ_FORK=N ci/fuzz.sh ... libFuzzer's -fork=N: N worker processes
#                                     per target (a crash still stops the target)
#   SEGSIM_FUZZ_JOBS=N ci/fuzz.sh ... targets run N at a time, each on its own
#                                     core for its seconds (default: nproc, or 1
#                                     with SEGSIM_FUZZ_FORK)
#   SEGSIM_FUZZ_BUILD=DIR ci/fuzz.sh ... the build tree whose fuzz/fuzz_* run, and
#                                     where corpora, logs and artifacts go (default
#                                     build/fuzz; ci/test.sh: build/asan, configured
#                                     with -DSEGSIM_FUZZ=ON)
#   ci/fuzz.sh --merge                no fuzzing: merges what earlier runs found
#                                     (build/fuzz/corpus/<target>) into the committed
#                                     fuzz/corpus/<target> with -merge=1 — only
#                                     inputs that add coverage are added; review
#                                     and commit them
# Targets (fuzz/CMakeLists.txt, docs/fuzzing.md): every build/fuzz/fuzz/fuzz_*
# found is run. After the campaign, fuzz_scenario's crash path is checked:
# an artifact is converted and replayed (ci/fuzz_scenario_artifact.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SEGSIM_FUZZ_BUILD:-build/fuzz}
[[ -d "$build" ]] || { echo "fuzz.sh: no build directory $build (build the fuzz preset first)" >&2; exit 2; }

merge=0
if [[ "${1:-}" == --merge ]]; then
  merge=1
  shift
fi
seconds=${1:-30}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: seconds must be a whole number, got '$seconds'" >&2; exit 2; }
fork=${SEGSIM_FUZZ_FORK:-0}
[[ "$fork" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SEGSIM_FUZZ_FORK must be a whole number, got '$fork'" >&2; exit 2; }
shopt -s nullglob
targets=($build/fuzz/fuzz_*)
((${#targets[@]} > 0)) || { echo "fuzz.sh: no targets in $build/fuzz/ (build the fuzz preset first)" >&2; exit 2; }

if ((merge)); then
  for target in "${targets[@]}"; do
    name=$(basename "$target")
    name=${name#fuzz_}
    [[ -d $build/corpus/$name ]] || continue
    mkdir -p "fuzz/corpus/$name"
    before=$(find "fuzz/corpus/$name" -type f | wc -l)
    "$target" -merge=1 "fuzz/corpus/$name" "$build/corpus/$name" > "$build/$name.merge.log" 2>&1 ||
      { echo "fuzz.sh: merging $name failed; see $build/$name.merge.log"; exit 1; }
    echo "fuzz.sh: $name: $(( $(find "fuzz/corpus/$name" -type f | wc -l) - before )) inputs added to fuzz/corpus/$name"
  done
  exit 0
fi
# Campaign settings of the sanitizers (docs/fuzzing.md, Round 6): ASan records
# no stack trace per malloc and free (malloc_context_size=0, from 30) —
# fuzz_leaf_page's inputs make hundreds of heap calls each: +32 % exec/s in an
# interleaved A/B (fuzz_alloc_ops: no change). Detection is unchanged; only
# a report's "allocated by / freed by" stacks are gone, so replay an artifact
# without these settings for the full report (<build>/fuzz/fuzz_<t> crash-…).
# A caller's ASAN_OPTIONS replaces them.
export ASAN_OPTIONS=${ASAN_OPTIONS-$(cat fuzz/campaign.asan_options)}
parallel=()
((fork > 0)) && parallel=("-fork=$fork")
default_jobs=$(nproc)
((fork > 0)) && default_jobs=1
jobs=${SEGSIM_FUZZ_JOBS:-$default_jobs}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: SEGSIM_FUZZ_JOBS must be a whole number ≥ 1, got '$jobs'" >&2; exit 2; }

fuzz_target() {  # TARGET: runs it for $seconds; its log is $build/<name>.log
  local target=$1 name work
  name=$(basename "$target")
  name=${name#fuzz_}
  work=$build/corpus/$name
  mkdir -p "$work"
  local seeds=() dict=()
  [[ -d fuzz/corpus/$name ]] && seeds+=("fuzz/corpus/$name")
  [[ -f fuzz/$name.dict ]] && dict+=("-dict=fuzz/$name.dict")
  "$target" "${parallel[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix=$build/artifacts/"$name"- "${dict[@]}" "$work" "${seeds[@]}" > "$build/$name.log" 2>&1
}

mkdir -p $build/artifacts
passed=0
failed=0
declare -A running=()  # pid → target name
finish_one() {  # waits for one running target and reports it
  local pid name
  wait -n -p pid "${!running[@]}" && status=0 || status=$?
  name=${running[$pid]}
  unset "running[$pid]"
  if ((status == 0)); then
    passed=$((passed + 1))
    echo "fuzz.sh: $name passed"
    grep -E "stat::number_of_executed_units|cov:" "$build/$name.log" | tail -2 || true
  else
    failed=$((failed + 1))
    echo "fuzz.sh: $name FAILED (exit $status); last lines of $build/$name.log:"
    tail -40 "$build/$name.log"
  fi
}
for target in "${targets[@]}"; do
  ((${#running[@]} < jobs)) || finish_one
  name=$(basename "$target")
  echo "fuzz.sh: ${name#fuzz_} for ${seconds}s"
  fuzz_target "$target" &
  running[$!]=${name#fuzz_}
done
while ((${#running[@]} > 0)); do finish_one; done
# fuzz_scenario's crash path: with a sabotage on it crashes, and the artifact
# converts to a repro that `segsim replay` reproduces (a dev build's segsim).
if [[ -x $build/fuzz/fuzz_scenario ]]; then
  if [[ -x build/dev/segsim ]]; then
    if ci/fuzz_scenario_artifact.sh $build/fuzz/fuzz_scenario build/dev/segsim; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
  else
    echo "fuzz.sh: no build/dev/segsim: fuzz_scenario's artifact check skipped (build the dev preset)"
  fi
fi
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
