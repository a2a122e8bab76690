#!/usr/bin/env bash
# The multi-threaded allocator table of docs/benchmarks.md ("Multi-threaded
# allocator"): every (allocator, threads) row in a fresh process, so each
# peak RSS is that row's alone; ratios are against glibc at the same thread
# count, measured in this run.
#   bench/mt_alloc.sh [BUILD_DIR (default build/release)] [OPS_PER_THREAD (default 400000)]
# Run it under the shared lock: flock /tmp/segsim-build.lock bench/mt_alloc.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/release}/bench
ops=${2:-400000}
[[ -x $dir/segsim_mt_bench ]] || { echo "mt_alloc.sh: $dir/segsim_mt_bench not built" >&2; exit 2; }
rows=()
for threads in 1 2 4; do
  for alloc in glibc mimalloc segment segment-nocache; do
    rows+=("$("$dir/segsim_mt_bench" "$alloc" "$threads" "$ops")")
  done
  if [[ -x $dir/segsim_mt_bench_jemalloc ]]; then
    rows+=("$("$dir/segsim_mt_bench_jemalloc" jemalloc "$threads" "$ops")")
  fi
done
printf '%s\n' "${rows[@]}" | python3 -c '
import sys
rows = [l.split("\t") for l in sys.stdin.read().splitlines() if l]
base = {r[1]: float(r[4]) for r in rows if r[0] == "glibc"}
print("| threads | allocator | Mops/s | ÷ glibc | peak RSS MiB |")
print("|---|---|---|---|---|")
for name, threads, ops, secs, mops, rss in rows:
    print(f"| {threads} | {name} | {float(mops):.2f} | {float(mops) / base[threads]:.2f} | {float(rss):.0f} |")
'
