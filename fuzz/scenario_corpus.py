#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_scenario to fuzz/corpus/scenario/.

Inputs in the layout of scenarios/fuzz_input.h, for every scenario of
`segsim list` (its index there is byte 0), at the scenario's default client
count (at most 4):
  NN-<scenario>-none        no faults
  NN-<scenario>-swarm       swarm faults (the plan drawn from the seed)
  NN-<scenario>-all-faults  every rule of kFuzzFaultRules on
  NN-<scenario>-point-<p>   fault point <p> alone at p = 0.25 (rules byte bit
                            7), in the two scenarios where it fires most
                            (faults injected over seeds 1-3 with it on):
                            swarm plans have such subsets, and one point's
                            window may need the others off (a slow decommit's
                            window is wasted while growth ignores free ranges)
  NN-<scenario>-point-<p>-always  the same at p = 1 (a window opened at every
                            chance), with a seed of its own
An existing file is kept (the committed inputs stay what they were); --force
rewrites every file. Deterministic: the same segsim gives the same files.
    fuzz/scenario_corpus.py SEGSIM [--force]
"""
import os
import random
import shutil
import re
import subprocess
import sys
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "scenario")
MAX_THREADS = 4           # kFuzzMaxThreads
RULES = 7                 # len(kFuzzFaultRules)
POINTS_BIT = 0x80         # kFuzzFaultPointsBit
RATE_025 = 7              # kFuzzFaultRates[7] == "0.25"
RATE_1 = 8                # kFuzzFaultRates[8] == "1"
SCHEDULE_BYTES = 32
REACH_SEEDS = (1, 2, 3)   # the runs that measure where a fault point fires
SCENARIOS_PER_POINT = 2


def listing(segsim):
    text = subprocess.run([segsim, "list"], check=True, capture_output=True, text=True).stdout
    scenarios, points, section = [], [], None
    for line in text.splitlines():
        if line and not line[0].isspace():  # a section header: "scenarios:", "fault points:", "probes ..."
            section = re.match(r"[a-z ]+", line).group(0).strip()
            continue
        fields = line.split()
        if not fields:
            continue
        if section == "scenarios":
            threads = int(re.search(r"default threads (\d+)", line).group(1))
            scenarios.append((fields[0], threads))
        elif section == "fault points":
            points.append(fields[0])
    return scenarios, points


def injected(segsim, scenario, point, scratch):
    """Faults injected over REACH_SEEDS' runs of `scenario` with `point` on."""
    total = 0
    for seed in REACH_SEEDS:
        run = subprocess.run([segsim, "run", scenario, "--seed", str(seed), "--faults", f"point:{point}@p=0.25"],
                             capture_output=True, text=True, cwd=scratch)
        count = re.search(r"(\d+) faults injected", run.stdout)
        total += int(count.group(1)) if count else 0
    return total


def head(index, name, threads, kind):
    rng = random.Random(f"{name}/{kind}")
    seed = rng.randrange(1, 1 << 16)
    data = bytes([index]) + seed.to_bytes(8, "little") + bytes([min(MAX_THREADS, threads) - 1])
    return data, rng


def write(path, data, force):
    if os.path.exists(path) and not force:
        return False
    with open(path, "wb") as f:
        f.write(data)
    return True


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    segsim, force = os.path.abspath(sys.argv[1]), "--force" in sys.argv[2:]
    scratch = tempfile.mkdtemp()  # failing runs write their repros here
    scenarios, points = listing(segsim)
    os.makedirs(OUT, exist_ok=True)
    written = 0
    inputs = [{"none": bytes([0]), "swarm": bytes([1]),
               "all-faults": bytes([2, (1 << RULES) - 1]) + bytes([4, 4, 4, 4, 6, 6, 7])} for _ in scenarios]
    mask_bytes = (len(points) + 7) // 8  # kFuzzPointMaskBytes
    for bit, point in enumerate(points):
        counts = [(injected(segsim, name, point, scratch), -index) for index, (name, _) in enumerate(scenarios)]
        for count, negative_index in sorted(counts, reverse=True)[:SCENARIOS_PER_POINT]:
            if count > 0:
                mask = 1 << bit
                for suffix, rate in (("", RATE_025), ("-always", RATE_1)):
                    inputs[-negative_index][f"point-{point}{suffix}"] = (
                        bytes([2, POINTS_BIT]) + mask.to_bytes(mask_bytes, "little") + bytes([rate]))
    for index, (name, threads) in enumerate(scenarios):
        for kind, faults in inputs[index].items():
            data, rng = head(index, name, threads, kind)
            schedule = bytes(rng.randrange(256) for _ in range(SCHEDULE_BYTES))
            written += write(os.path.join(OUT, f"{index:02d}-{name}-{kind}"), data + faults + schedule, force)
    shutil.rmtree(scratch)
    print(f"scenario_corpus.py: {written} inputs written to {OUT}")


if __name__ == "__main__":
    main()
