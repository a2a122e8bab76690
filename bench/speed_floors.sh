#!/usr/bin/env bash
# The speed table of issue 17, measured in one run as ratios against
# baselines measured in the same run (docs/benchmarks.md, "Speed floors"):
#   * 64 KiB allocate_uninitialized+release (default config) ÷ glibc malloc+free and ÷ mimalloc
#   * a switching scheduling point ÷ a one-way raw fcontext switch
#   * simulated allocator ops ÷ the same loop natively
#   * `segsim sweep chicago --seeds 1..400` seeds/s with --jobs 1, and --jobs 2 ÷ --jobs 1
# Prints one Markdown table with the floors (and goals) beside each figure.
#   bench/speed_floors.sh [BUILD_DIR] [RUNS]   default: build/dev, 3 sweep runs (median taken)
# Needs a built preset with segsim and bench/segsim_bench, and python3.
# Run it on a quiet machine: every figure is wall-clock.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
runs=${2:-3}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "speed_floors.sh: RUNS must be a whole number >= 1" >&2; exit 2; }
segsim=$build/segsim
bench=$build/bench/segsim_bench
[[ -x $segsim && -x $bench ]] || { echo "speed_floors.sh: $segsim or $bench missing: build the preset first" >&2; exit 2; }
command -v python3 >/dev/null || { echo "speed_floors.sh: python3 not found" >&2; exit 2; }
segsim=$(realpath "$segsim")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bench" \
  --benchmark_filter='^(AllocSegmentUninitialized|AllocGlibcMalloc|AllocMimalloc)/65536$|^(SimRawSwitch|SimSchedulingPointSwitching|SimAllocatorOps|NativeAllocatorOps)$' \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$work/bench.json" --benchmark_out_format=json >"$work/bench.log" 2>&1 ||
  { cat "$work/bench.log" >&2; echo "speed_floors.sh: segsim_bench failed" >&2; exit 1; }

# Sweeps run in a scratch directory (a sweep writes segsim-failures/ there),
# jobs 1 and jobs 2 in turn so drift of the machine spreads over both.
sweep_seconds() {  # JOBS → wall seconds of one sweep
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$work" && "$segsim" sweep chicago --seeds 1..400 --jobs "$1" >/dev/null 2>"$work/sweep.log") ||
    { cat "$work/sweep.log" >&2; echo "speed_floors.sh: the sweep failed" >&2; exit 1; }
  t1=$(date +%s.%N)
  python3 -c "print($t1 - $t0)"
}
sweep_seconds 1 >/dev/null  # warm-up
for ((i = 0; i < runs; i++)); do
  sweep_seconds 1 >>"$work/jobs1"
  sweep_seconds 2 >>"$work/jobs2"
done

python3 - "$work" <<'EOF'
import json, statistics, sys
work = sys.argv[1]
rows = json.load(open(f"{work}/bench.json"))["benchmarks"]
# ns per item: from items_per_second where a benchmark counts items (the
# simulator rows: points, switches, ops), else its time per iteration.
unit_ns = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
ns = {}
for r in rows:
    if r.get("aggregate_name") != "median": continue
    if r.get("items_per_second"): ns[r["run_name"]] = 1e9 / r["items_per_second"]
    else: ns[r["run_name"]] = r["real_time"] * unit_ns[r.get("time_unit", "ns")]
def get(name):
    if name not in ns: sys.exit(f"speed_floors.sh: benchmark {name} missing from the run")
    return ns[name]
seg, glibc, mi = get("AllocSegmentUninitialized/65536"), get("AllocGlibcMalloc/65536"), get("AllocMimalloc/65536")
raw, point = get("SimRawSwitch"), get("SimSchedulingPointSwitching")
sim_ops, native_ops = get("SimAllocatorOps"), get("NativeAllocatorOps")
j1 = [float(x) for x in open(f"{work}/jobs1")]
j2 = [float(x) for x in open(f"{work}/jobs2")]
j1m, j2m = statistics.median(j1), statistics.median(j2)
per_pair = statistics.median(a / b for a, b in zip(j1, j2))
rows = [
    ("64 KiB allocate_uninitialized+release ÷ glibc malloc+free", f"{seg:.1f} / {glibc:.1f} ns = {seg/glibc:.2f}x", seg/glibc <= 1.0, "≤ 1.0x", "≤ 0.7x"),
    ("same ÷ mimalloc", f"{seg:.1f} / {mi:.1f} ns = {seg/mi:.2f}x", seg/mi <= 2.0, "≤ 2.0x", "≤ 1.0x"),
    ("switching scheduling point ÷ one-way raw switch", f"{point:.1f} / {raw:.2f} ns = {point/raw:.2f}x", point/raw <= 5.0, "≤ 5x", "≤ 3x"),
    ("simulated allocator ops ÷ native", f"1/{sim_ops/native_ops:.2f} ({sim_ops:.1f} vs {native_ops:.1f} ns/op)", native_ops/sim_ops >= 1/2.5, "≥ 1/2.5", "≥ 1/2"),
    ("`chicago` seeds/s on one core (`--jobs 1`, 400 seeds)", f"{400/j1m:.1f} ({j1m:.2f} s, median of {len(j1)})", 400/j1m >= 60, "≥ 60", "≥ 100"),
    ("`sweep --jobs 2` ÷ `--jobs 1`, no faults", f"{per_pair:.2f}x (median per pair; {j2m:.2f} s vs {j1m:.2f} s)", per_pair >= 1.8, "≥ 1.8x", "≥ 1.9x"),
]
print("| what | measured | floor | goal | floor met |")
print("|---|---|---|---|---|")
for what, measured, met, floor, goal in rows:
    print(f"| {what} | {measured} | {floor} | {goal} | {'yes' if met else '**no**'} |")
EOF
