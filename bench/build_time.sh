#!/usr/bin/env bash
# Build time from scratch, file by file and in unity batches (CMakeLists.txt,
# SEGSIM_UNITY_BUILD): wall seconds and compiler CPU seconds (the sum of
# ninja's job times, which the other core's load barely moves). ccache off.
#   bench/build_time.sh [PRESET]   (default dev)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-8s %-6s %8s %8s %6s\n' preset unity wall_s cpu_s jobs
for unity in OFF ON; do
  dir=$work/$unity
  CCACHE_DISABLE=1 cmake --preset "$preset" -B "$dir" -DSEGSIM_UNITY_BUILD=$unity \
    -DCMAKE_CXX_COMPILER_LAUNCHER= -DCMAKE_C_COMPILER_LAUNCHER= > "$work/configure.log" 2>&1 ||
    { cat "$work/configure.log" >&2; exit 1; }
  start=$(date +%s.%N)
  CCACHE_DISABLE=1 cmake --build "$dir" -j "$(nproc)" > "$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 - "$dir/.ninja_log" "$preset" "$unity" "$start" "$end" <<'PY'
import sys
log, preset, unity, start, end = sys.argv[1:]
jobs = {}
for line in open(log):
    if line.startswith("#"): continue
    s, e, _, out, _ = line.rstrip("\n").split("\t")
    jobs[out] = int(e) - int(s)
print(f"{preset:<8} {unity:<6} {float(end) - float(start):8.1f} {sum(jobs.values()) / 1000:8.1f} {len(jobs):6d}")
PY
done
