#!/usr/bin/env python3
"""The CI campaign's probe gate (python3 stdlib only).

  ci/campaign_probes.py --required ci/required_probes.txt [--table OUT.txt] SWEEP.json...
  ci/campaign_probes.py --rank-cells "PROBE..." SWEEP.json...   (campaign pass 3's order)

Sums the `probes` objects ({"<probe name>": <hits>, ...}, every probe of the build, zeros
included) of every sweep result given, then prints

  probes: N of M fired; required missing: none | a, b, ...

and exits 1 when a probe named in the required file never fired (or is not a probe of this
build: a renamed probe must be renamed in the list too). Exit 0 otherwise. Exit 3, with a
WARNING, when no sweep result has a `probes` field (a build whose sweep does not report probes
yet): the gate cannot run. Exit 2 on unreadable input.
"""
import argparse
import os
import json
import sys

from required_probes import read_required  # one parser of the list, beside this file


def probe_counts(value):
    """{name: hits} from a sweep's `probes` value: an object name -> count (the format), or a list
    of {"name", "count"|"hits"} objects (tolerated)."""
    if isinstance(value, dict):
        return {str(k): int(v) for k, v in value.items()}
    if isinstance(value, list):
        out = {}
        for item in value:
            out[str(item["name"])] = int(item.get("count", item.get("hits", 0)))
        return out
    raise ValueError(f"`probes` is a {type(value).__name__}, expected an object name -> count")


def cell_of(path):
    """The campaign cell of a sweep result json/<scenario>.<strategy>-<faults>.<first seed>.json:
    everything before the last dot of the file's stem (ci/campaign.sh, run_batch)."""
    stem = os.path.basename(path)
    stem = stem[:-len(".json")] if stem.endswith(".json") else stem
    return stem.rsplit(".", 1)[0] if "." in stem else stem


def rank_cells(missing, results):
    """Cells, best first, for firing the missing probes: a probe is named component.operation.case
    (core/probe_list.h), so the cells that fired the most *distinct* siblings of a missing probe —
    of the same operation (component.operation.*), then of the same component — are the ones whose
    workload walks the paths around it (a cell that only repeats the main path a million times is
    not: distinct siblings first, hits only to break ties). Only cells with some such hit are printed."""
    prefixes = []
    for name in missing:
        parts = name.split(".")
        prefixes.append([".".join(parts[:k]) + "." for k in range(len(parts) - 1, 0, -1)])
    depth = max((len(p) for p in prefixes), default=0)
    hits_of = {}  # cell -> {probe: hits}
    for path in results:
        try:
            with open(path, encoding="utf-8") as f:
                root = json.load(f)
            counts = probe_counts(root["probes"]) if isinstance(root, dict) and "probes" in root else {}
        except (OSError, ValueError, KeyError, TypeError):
            continue  # the gate reads every file again and reports what is wrong with it
        cell = hits_of.setdefault(cell_of(path), {})
        for name, hits in counts.items():
            cell[name] = cell.get(name, 0) + hits
    scores = {}
    for cell, counts in hits_of.items():
        distinct, volume = [0] * depth, [0] * depth
        for name, hits in counts.items():
            if hits == 0:
                continue
            for level in range(depth):
                if any(level < len(chain) and name.startswith(chain[level]) for chain in prefixes):
                    distinct[level] += 1
                    volume[level] += hits
        scores[cell] = distinct + volume
    ranked = sorted((cell for cell, score in scores.items() if any(score)), key=lambda c: scores[c], reverse=True)
    for cell in ranked:
        print(cell)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--required", help="required probes, one a line, # comments")
    parser.add_argument("--table", help="write every probe with its total hits here")
    parser.add_argument("--rank-cells", metavar="PROBES",
                        help="print the campaign cells (scenario.strategy-faults) best placed to fire these "
                             "space-separated probes, best first, and nothing else")
    parser.add_argument("results", nargs="*", help="segsim sweep --json files")
    args = parser.parse_args()
    if args.rank_cells is not None:
        return rank_cells(args.rank_cells.split(), args.results)
    if not args.required:
        parser.error("--required is needed (unless --rank-cells)")

    try:
        required = read_required(args.required)
    except OSError as e:
        print(f"campaign_probes.py: cannot read {args.required}: {e.strerror}", file=sys.stderr)
        return 2

    totals = {}
    with_probes = 0
    for path in args.results:
        try:
            with open(path, encoding="utf-8") as f:
                root = json.load(f)
        except (OSError, ValueError) as e:
            print(f"campaign_probes.py: cannot read {path}: {e}", file=sys.stderr)
            return 2
        if not isinstance(root, dict) or "probes" not in root:
            continue
        try:
            counts = probe_counts(root["probes"])
        except (ValueError, KeyError, TypeError) as e:
            print(f"campaign_probes.py: {path}: {e}", file=sys.stderr)
            return 2
        with_probes += 1
        for name, hits in counts.items():
            totals[name] = totals.get(name, 0) + hits

    if with_probes == 0:
        print("WARNING: ========================================================================")
        print(f"WARNING: none of the {len(args.results)} sweep results has a \"probes\" field: this build's")
        print("WARNING: `segsim sweep --json` does not report probe hits yet, so the required-probes")
        print(f"WARNING: gate ({len(required)} probes in {args.required}) is SKIPPED.")
        print("WARNING: ========================================================================")
        return 3
    if with_probes < len(args.results):
        print(f"WARNING: {len(args.results) - with_probes} of {len(args.results)} sweep results have no "
              "\"probes\" field; counted as no hits")

    fired = sorted(name for name, hits in totals.items() if hits > 0)
    never = sorted(name for name, hits in totals.items() if hits == 0)
    unknown = [name for name in required if name not in totals]
    missing = [name for name in required if totals.get(name, 0) == 0 and name in totals]

    if args.table:
        with open(args.table, "w", encoding="utf-8") as f:
            req = set(required)
            for name in sorted(totals):
                f.write(f"{name:<48} {totals[name]:>12} {'required' if name in req else ''}\n")

    print(f"probes: {len(fired)} of {len(totals)} fired; required missing: "
          f"{', '.join(missing) if missing else 'none'}")
    optional_never = [name for name in never if name not in set(required)]
    if optional_never:
        print(f"  never fired (optional): {', '.join(optional_never)}")
    if unknown:
        print(f"  not probes of this build (renamed or removed? fix {args.required}): {', '.join(unknown)}")
    return 1 if missing or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
