#!/usr/bin/env python3
"""Turns Google Benchmark JSON (run with --benchmark_repetitions) into the
ratio tables of docs/benchmarks.md: median ns of each row beside its ratio to
a baseline measured in the same run.

  bench/summarize.py main.json [--single single_threaded.json] [--jemalloc jemalloc.json]
"""
import argparse
import json
import sys

SIZES = [4096 << c for c in range(7)]


def medians(path):
    """{run_name without /manual_time: median real time in ns}."""
    with open(path) as f:
        data = json.load(f)
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    out = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median" or b.get("error_occurred"):
            continue
        name = b["run_name"].replace("/manual_time", "")
        out[name] = b["real_time"] * scale[b["time_unit"]]
    return data["context"], out


def kib(size):
    return f"{size // 1024} KiB"


def fmt_ns(ns):
    return f"{ns:,.1f}" if ns < 100 else f"{ns:,.0f}"


def table(m, baseline, rows, title):
    """rows: [(label, benchmark prefix)]; baseline: (label, prefix)."""
    base_label, base = baseline
    print(f"\n{title}\n")
    head = f"| size | {base_label} ns |" + "".join(f" {lbl} ns | {lbl} ÷ {base_label} |" for lbl, _ in rows)
    print(head)
    print("|" + "---|" * (2 + 2 * len(rows)))
    for size in SIZES:
        b = m.get(f"{base}/{size}")
        if b is None:
            continue
        cells = [kib(size), fmt_ns(b)]
        for _, prefix in rows:
            v = m.get(f"{prefix}/{size}")
            cells += ["—", "—"] if v is None else [fmt_ns(v), f"{v / b:.2f}"]
        print("| " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("main")
    ap.add_argument("--single")
    ap.add_argument("--jemalloc")
    args = ap.parse_args()

    ctx, m = medians(args.main)
    print(f"<!-- {args.main}: {ctx.get('date')}, {ctx.get('process_threads')} -->")
    seg, mi = "AllocSegmentUninitialized", "AllocMimalloc"
    table(m, ("malloc", "AllocGlibcMalloc"),
          [("segment", seg), ("mimalloc", mi)],
          "Uninitialised allocate+release (baseline glibc malloc/free)")
    print("\n| size | segment ÷ mimalloc |\n|---|---|")
    for size in SIZES:
        if f"{seg}/{size}" in m and f"{mi}/{size}" in m:
            print(f"| {kib(size)} | {m[f'{seg}/{size}'] / m[f'{mi}/{size}']:.2f} |")
    table(m, ("calloc", "AllocGlibcCalloc"),
          [("segment", "AllocSegmentZeroed"), ("mi_calloc", "AllocMimallocCalloc")],
          "Zeroed allocate+release (baseline glibc calloc/free)")
    table(m, ("memset", "ResetMemset"),
          [("DONTNEED syscall", "ResetMadviseDontneedSyscall"),
           ("DONTNEED+touch", "ResetMadviseDontneedTouch"),
           ("FREE syscall", "ResetMadviseFreeSyscall"),
           ("FREE+touch", "ResetMadviseFreeTouch"),
           ("reset default+touch", "ResetSegmentDefaultTouch"),
           ("reset madvise+touch", "ResetSegmentMadviseTouch")],
          "Reset of a resident buffer (baseline memset)")
    print("\n| operation | std ns | seam ns | seam − std ns | seam ÷ std |\n|---|---|---|---|---|")
    for label, seam, std in [("mutex lock+unlock pair", "PlatformMutexLockUnlock", "PlatformStdMutexLockUnlock"),
                             ("atomic fetch_add", "PlatformAtomicFetchAdd", "PlatformStdAtomicFetchAdd"),
                             ("atomic load", "PlatformAtomicLoad", "PlatformStdAtomicLoad")]:
        if seam in m and std in m:
            print(f"| {label} | {m[std]:.2f} | {m[seam]:.2f} | {m[seam] - m[std]:+.2f} | {m[seam] / m[std]:.2f} |")

    if args.single:
        ctx1, s = medians(args.single)
        print(f"\n<!-- {args.single}: {ctx1.get('process_threads')} -->")
        table(s, ("malloc", "AllocGlibcMalloc"), [("segment", seg), ("mimalloc", mi)],
              "Single-threaded process: uninitialised allocate+release")
        table(s, ("calloc", "AllocGlibcCalloc"),
              [("segment", "AllocSegmentZeroed"), ("mi_calloc", "AllocMimallocCalloc")],
              "Single-threaded process: zeroed allocate+release")
    if args.jemalloc:
        ctxj, j = medians(args.jemalloc)
        print(f"\n<!-- {args.jemalloc}: {ctxj.get('process_threads')} -->")
        table(j, ("je malloc", "AllocJemallocMalloc"),
              [("segment", seg), ("mallocx/sdallocx", "AllocJemallocMallocx")],
              "jemalloc executable: uninitialised allocate+release (baseline jemalloc malloc/free)")
        table(j, ("je calloc", "AllocJemallocCalloc"), [("segment", "AllocSegmentZeroed")],
              "jemalloc executable: zeroed allocate+release (baseline jemalloc calloc/free)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
