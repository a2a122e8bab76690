#!/usr/bin/env bash
# The stack targets' determinism check (docs/fuzzing.md): an input must do the
# same whether it runs first in a process or after a thousand other inputs —
# state a target keeps across inputs (recycled mappings, a per-process SimOs,
# allocator ids) must not leak into what an input does. With
# SEGSIM_FUZZ_DIGEST=1 a target prints `digest <hex>` per input
# (fuzz/input_digest.h: the stats after every step, no address). For each
# target this runs
#   * every input of a set (the committed corpus, <BUILD_DIR>/corpus/<target>
#     from ci/fuzz.sh runs, and what a short fuzzing run adds) in one process,
#     the set repeated until each input's last run comes after >= 1000 others,
#     and checks every run of an input printed the same digest;
#   * the set in reverse order in another process;
#   * SAMPLE inputs each alone in a fresh process, every other one under
#     another heap (ci/other_heap.sh: freed memory reused in another order),
# and fails on any digest that differs (naming the input).
#   ci/fuzz_determinism.sh [BUILD_DIR] [TARGET...]   default build/fuzz, alloc_ops leaf_page
#   SEGSIM_DETERMINISM_SAMPLE=N                      inputs run alone (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build/fuzz}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
((${#targets[@]} > 0)) || targets=(alloc_ops leaf_page)
sample=${SEGSIM_DETERMINISM_SAMPLE:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source ci/other_heap.sh

# Runs $1 over the files listed in $2 (one per line), with the environment
# assignments $3...; prints "file digest" per run.
digests() {
  xargs -d '\n' env SEGSIM_FUZZ_DIGEST=1 "${@:3}" "$1" < "$2" 2>&1 |
    awk '/^Running: /{file=$2} / digest [0-9a-f]+$/{print file, $NF}'
}

failed=0
for target in "${targets[@]}"; do
  bin=$build/fuzz/fuzz_$target
  [[ -x $bin ]] || { echo "fuzz_determinism.sh: no $bin (build the fuzz preset)" >&2; exit 2; }
  mkdir -p "$work/$target/new"
  dict=()
  [[ -f fuzz/$target.dict ]] && dict=("-dict=fuzz/$target.dict")
  # New inputs from a short run; crashes would be another check's business.
  "$bin" -max_total_time=5 -rss_limit_mb=4096 "${dict[@]}" "$work/$target/new" fuzz/corpus/"$target" \
    >"$work/$target/fuzz.log" 2>&1 || true
  dirs=(fuzz/corpus/"$target" "$work/$target/new")
  [[ -d $build/corpus/$target ]] && dirs+=("$build/corpus/$target")
  find "${dirs[@]}" -type f | sort -u >"$work/$target/set"
  n=$(wc -l <"$work/$target/set")
  ((n > 0)) || { echo "fuzz_determinism.sh: $target: no inputs" >&2; exit 2; }
  repeats=$(( 1000 / n + 2 ))
  for ((r = 0; r < repeats; ++r)); do cat "$work/$target/set"; done >"$work/$target/forward"
  tac "$work/$target/set" >"$work/$target/backward"
  awk -v n="$sample" -v total="$n" 'NR == 1 || NR == total || (total > n && NR % int(total / n) == 0)' \
    "$work/$target/set" | head -n "$sample" >"$work/$target/alone"
  {
    digests "$bin" "$work/$target/forward"
    digests "$bin" "$work/$target/backward"
    k=0
    while read -r file; do
      printf '%s\n' "$file" >"$work/$target/one"
      if ((k++ % 2)); then digests "$bin" "$work/$target/one" "${other_heap[@]}"; else digests "$bin" "$work/$target/one"; fi
    done <"$work/$target/alone"
  } >"$work/$target/runs"
  runs=$(wc -l <"$work/$target/runs")
  expected=$(( n * repeats + n + $(wc -l <"$work/$target/alone") ))
  differing=$(awk '{ if (!($1 in d)) d[$1] = $2; else if (d[$1] != $2 && !($1 in bad)) { bad[$1] = 1; print $1 } }' \
    "$work/$target/runs")
  distinct=$(awk '{print $1}' "$work/$target/runs" | sort -u | wc -l)
  # libFuzzer may run a file twice (its leak check re-runs an input that
  # malloc'ed more than it freed: the first one's process-wide state): more
  # digests than runs is fine, a run without one is not.
  if [[ -n $differing || $runs -lt $expected || $distinct -ne $n ]]; then
    failed=$((failed + 1))
    echo "fuzz_determinism: $target FAILED: $runs digests of $expected runs, $distinct of $n inputs; inputs whose digests differ:"
    printf '  %s\n' $differing | head -20
  else
    echo "fuzz_determinism: $target: $n inputs, $runs runs ($repeats passes in one process, one reversed, $(wc -l <"$work/$target/alone") alone, half of those under another heap): every input's digest the same"
  fi
done
((failed == 0))
