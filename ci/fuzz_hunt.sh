#!/usr/bin/env bash
# The fuzzers' column of the hunt table (docs/hunt.md, docs/fuzzing.md): for
# each catalogued bug and each target, runs the fuzz-mutants build of the
# target with SEGSIM_MUTANT=<bug>, starting from a copy of its committed corpus
# (or from nothing), until the first crash or the budget ends. Prints one
# markdown row per (bug, target): seconds to the first crash (wall clock,
# process start included) and the first line of the report, or "not found in N s".
#   ci/fuzz_hunt.sh [SECONDS] [TARGET...]   default 60 s; targets leaf_page alloc_ops large_objects
#   SEGSIM_FUZZ_HUNT_BUGS="a b"             only these bugs (default: the whole catalogue, core/mutants.h)
#   SEGSIM_FUZZ_HUNT_EMPTY=1                start from an empty corpus instead of fuzz/corpus/<target>
# Build first: cmake --preset fuzz-mutants && cmake --build --preset fuzz-mutants
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz_hunt.sh: seconds must be a whole number, got '$seconds'" >&2; exit 2; }
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
((${#targets[@]} > 0)) || targets=(leaf_page alloc_ops large_objects)
bugs=${SEGSIM_FUZZ_HUNT_BUGS:-$(grep -oP '^\s*\{Bug::\w+, "\K[a-z-]+' core/mutants.h | tr '\n' ' ')}
for target in "${targets[@]}"; do
  [[ -x build/fuzz-mutants/fuzz/fuzz_$target ]] ||
    { echo "fuzz_hunt.sh: no build/fuzz-mutants/fuzz/fuzz_$target (build the fuzz-mutants preset)" >&2; exit 2; }
done

# The campaign's sanitizer settings (ci/fuzz.sh): the column measures what a
# campaign finds, and how fast.
export ASAN_OPTIONS=${ASAN_OPTIONS-$(cat fuzz/campaign.asan_options)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start_label=committed
[[ "${SEGSIM_FUZZ_HUNT_EMPTY:-0}" != 0 ]] && start_label=empty
echo "| bug | target | corpus | budget | first crash | report |"
echo "|---|---|---|---|---|---|"
for bug in $bugs; do
  for target in "${targets[@]}"; do
    rm -rf "$work/corpus" "$work/artifacts" && mkdir -p "$work/corpus" "$work/artifacts"
    if [[ "$start_label" == committed && -d fuzz/corpus/$target ]]; then cp fuzz/corpus/"$target"/* "$work/corpus/"; fi
    dict=()
    [[ -f fuzz/$target.dict ]] && dict=("-dict=fuzz/$target.dict")
    t0=$(date +%s.%N)
    SEGSIM_MUTANT=$bug build/fuzz-mutants/fuzz/fuzz_"$target" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=4096 -artifact_prefix="$work/artifacts/" "${dict[@]}" "$work/corpus" \
      >"$work/log" 2>&1 || true
    t1=$(date +%s.%N)
    if compgen -G "$work/artifacts/*" >/dev/null; then
      found=$(printf '%.1f s' "$(echo "$t1 - $t0" | bc)")
      report=$(grep -m1 -E "^fuzz_$target: |ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error|assertion" "$work/log" |
               sed -E 's/0x[0-9a-f]+/0x…/g; s/==[0-9]+==//; s/\|/\\|/g' | cut -c1-120)
    else
      found="not found in $seconds s"
      report="—"
    fi
    echo "| \`$bug\` | fuzz_$target | $start_label | ${seconds} s | $found | $report |"
  done
done
