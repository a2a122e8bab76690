#!/usr/bin/env python3
"""Checks that two segsim sweep results hold the same runs, seed by seed.

    ci/slurm_compare.py EXPECTED.json ACTUAL.json

ci/slurm.sh compares the merged result of a Slurm campaign with a local sweep of
the same range: the same settings, the same seeds (none missing, none extra)
and, for every seed, the same outcome and trace hash. Written apart from
`segsim merge` on purpose: the check must not share the code it checks.
Exit: 0 equal; 1 different (one line per difference, the first 10); 2 bad input.
"""
import json
import sys

MAX_LINES = 10


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        if result.get("format") != "segsim-sweep":
            raise ValueError("not a segsim sweep result")
        return result
    except (OSError, ValueError) as error:
        print(f"slurm_compare: {path}: {error}", file=sys.stderr)
        sys.exit(2)


def differences(expected, actual):
    for key in ("scenario", "strategy", "faults", "settings"):
        if expected[key] != actual[key]:
            yield f"{key}: {expected[key]!r} vs {actual[key]!r}"
    want = {s["seed"]: s for s in expected["seeds"]}
    have = {s["seed"]: s for s in actual["seeds"]}
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    if missing:
        yield f"{len(missing)} seed(s) missing, first {missing[:5]}"
    if extra:
        yield f"{len(extra)} seed(s) not expected, first {extra[:5]}"
    for seed in sorted(set(want) & set(have)):
        a, b = want[seed], have[seed]
        if a["outcome"] != b["outcome"] or a["trace_hash"] != b["trace_hash"]:
            yield (f"seed {seed}: {a['outcome']} {a['trace_hash']} vs {b['outcome']} {b['trace_hash']}")


def main():
    if len(sys.argv) != 3:
        print("slurm_compare: usage: slurm_compare.py EXPECTED.json ACTUAL.json", file=sys.stderr)
        return 2
    expected, actual = load(sys.argv[1]), load(sys.argv[2])
    found = list(differences(expected, actual))
    for line in found[:MAX_LINES]:
        print(f"slurm_compare: {line}")
    if len(found) > MAX_LINES:
        print(f"slurm_compare: ... and {len(found) - MAX_LINES} more difference(s)")
    if found:
        print(f"slurm_compare: DIFFERENT: {sys.argv[2]} is not {sys.argv[1]} seed by seed")
        return 1
    failed = sum(1 for s in expected["seeds"] if s["outcome"] != "passed")
    print(f"slurm_compare: equal: {len(expected['seeds'])} seeds ({failed} failed), outcome and trace hash each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
