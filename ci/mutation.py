#!/usr/bin/env python3
"""A mutation score for the harness itself: how many small, realistic mistakes in
core/ does the scenario campaign alone (no unit, property or stress test) catch?

Mull, dextool and universalmutator are not installable here, so this is a small
source-level mutator of our own:

  1. Copy the tracked source tree (as it is in the working tree) to
     build/mutation/src and build its `segsim` binary in the dev preset.
  2. Check that the unmutated campaign passes (otherwise nothing can be judged).
  3. Draw N mutation sites from core/*.cpp (and core/*.h with --headers) with a seeded generator (the seed is
     printed; the same seed and source give the same mutants): relational and
     arithmetic operator swaps, +-1 on a literal in a comparison, && <-> ||,
     a dropped `!`, a deleted statement, swapped call arguments, a dropped
     `return` of an error, `return true` <-> `return false`.
  4. For each: apply it, rebuild incrementally, and run the scenario campaign
     (every scenario of `segsim list`, configs random:swarm and pct:none, seeds
     1..SEEDS, stop at the first failing seed). A mutant that does not compile
     is stillborn and another is drawn; one whose object file is byte-identical
     to the original's (debug sections aside) is equivalent by construction.
  5. Report the share killed by a named oracle (and, of those, how many by an
     assertion or a signal the simulated Os names, and each failure name's
     count), killed by a crash or hang, and surviving, with every survivor listed (file:line, operator, before/after),
     as text on stdout and as JSON/Markdown under build/mutation/.

The source tree of the repository is never modified: all edits happen in the copy.
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutation"
COPY = WORK / "src"
# Files whose code the simulator cannot run by design (the real Os, the native
# halves of the platform seam) or that only exist for the catalogue.
EXCLUDED = {"core/linux_os.cpp", "core/mutants.cpp", "core/assert.cpp",
            # With --headers: their headers, and the sanitizers' glue (no code in the dev build the
            # campaign runs) and the probes' (the harness's instrument, not the stack).
            "core/linux_os.h", "core/mutants.h", "core/assert.h", "core/asan.h", "core/sanitizers.h",
            "core/probe.h", "core/probe_list.h"}
SKIP_LINE = re.compile(r"^\s*(//|#|\*|/\*)|SEGSIM_ASSERT|SEGSIM_PROBE|SEGSIM_MUTANT|static_assert|"
                       r"SEGSIM_FAULT|fmt::format|describe\(|\"")
MAX_BUILD_SECONDS = 900
MAX_SWEEP_SECONDS = 600


@dataclass
class Mutant:
    file: str
    line: int          # 1-based
    operator: str
    before: str
    after: str
    outcome: str = ""  # killed-oracle | killed-crash | survived | stillborn | equivalent
    killer: str = ""   # scenario/config/seed and detail of the first failing seed
    seconds: float = 0.0


def fail(message: str) -> None:
    print(f"mutation: {message}", file=sys.stderr)
    sys.exit(2)


# --- mutation operators: each yields (operator, new_line) for one line ------------------------

def _swap_tokens(line: str, pairs: list[tuple[str, str]], name: str):
    for old, new in pairs:
        for match in re.finditer(re.escape(old), line):
            yield name, line[:match.start()] + new + line[match.end():]


def op_relational(line):
    # Spaced operators only: avoids templates, shifts, arrows and includes.
    yield from _swap_tokens(line, [(" <= ", " < "), (" >= ", " > "), (" == ", " != "), (" != ", " == ")],
                            "relational")
    for old, new in ((" < ", " <= "), (" > ", " >= ")):
        for match in re.finditer(re.escape(old), line):
            yield "relational", line[:match.start()] + new + line[match.end():]


def op_arithmetic(line):
    yield from _swap_tokens(line, [(" + ", " - "), (" - ", " + "), (" * ", " / "), ("++", "--"),
                                   (" += ", " -= "), (" -= ", " += ")], "arithmetic")


def op_bound(line):
    if not re.search(r" (<|<=|>|>=|==|!=) ", line):
        return
    for match in re.finditer(r"(?<![\w.])(\d+)(?![\w.'])", line):
        value = int(match.group(1))
        for delta in (1, -1):
            if value + delta < 0:
                continue
            yield "bound+-1", line[:match.start()] + str(value + delta) + line[match.end():]


def op_logical(line):
    yield from _swap_tokens(line, [(" && ", " || "), (" || ", " && ")], "logical")
    for match in re.finditer(r"(?<=[(\s])!(?=[\w(])", line):
        yield "negation-dropped", line[:match.start()] + line[match.end():]


def op_delete(line):
    stripped = line.strip()
    if not stripped.endswith(";") or stripped.startswith(("return", "}", "case", "break", "continue")):
        return
    # A statement, not a declaration: a call, an assignment or an increment on an lvalue.
    if re.match(r"^[a-z_][\w.\->\[\]]*(\(.*\)|\s*(=|\+=|-=|\|=|&=)\s.*|\+\+|--);$", stripped) and \
            not re.match(r"^(auto|const|std::|[A-Z]\w*\s)", stripped):
        indent = line[:len(line) - len(line.lstrip())]
        yield "statement-deleted", f"{indent};  // mutation: deleted\n"


SYMMETRIC_OR_KEYWORD = {"if", "while", "for", "switch", "min", "max", "swap", "gcd", "lcm"}


def op_swap_args(line):
    for match in re.finditer(r"\b(\w+)\(([a-z_][\w.\->]*), ([a-z_][\w.\->]*)\)", line):
        # Symmetric calls (min, max, swap) would give equivalent mutants by construction.
        if match.group(2) != match.group(3) and match.group(1) not in SYMMETRIC_OR_KEYWORD:
            swapped = f"{match.group(1)}({match.group(3)}, {match.group(2)})"
            yield "arguments-swapped", line[:match.start()] + swapped + line[match.end():]


def op_return(line):
    stripped = line.strip()
    indent = line[:len(line) - len(line.lstrip())]
    if re.match(r"^return (Error|Errc::|std::unexpected|make_error|fail\(|refuse)", stripped) or \
            re.match(r"^return .*Errc::\w+", stripped):
        yield "error-return-dropped", f"{indent};  // mutation: error return dropped\n"
    yield from _swap_tokens(line, [("return true;", "return false;"), ("return false;", "return true;")],
                            "boolean-return")


OPERATORS = [op_relational, op_arithmetic, op_bound, op_logical, op_delete, op_swap_args, op_return]


# Operators whose result replaces the whole line (its trailing comment too).
WHOLE_LINE = {"statement-deleted", "error-return-dropped"}


def candidate_sites(files: list[str]) -> list[Mutant]:
    sites = []
    for rel in files:
        lines = (COPY / rel).read_text().splitlines(keepends=True)
        for number, line in enumerate(lines, start=1):
            if SKIP_LINE.search(line) or not line.strip():
                continue
            # Only the code: a change inside a trailing comment is equivalent by construction (a
            # header's has no identical-object check to say so). A line with a string literal was
            # skipped above, so "//" here starts a comment.
            code, slashes, comment = line.rstrip("\n").partition("//")
            for operator in OPERATORS:
                for name, new in operator(code + "\n"):
                    after = new.rstrip("\n") if name in WHOLE_LINE else new.rstrip("\n") + slashes + comment
                    if after != line.rstrip("\n"):
                        sites.append(Mutant(rel, number, name, line.rstrip("\n"), after))
    return sites


def draw_order(sites: list[Mutant], rng: random.Random) -> list[Mutant]:
    """Sites in the order they are tried: an operator kind is drawn with weight
    sqrt(its site count), then one of its sites uniformly, so the many deletable
    statements do not crowd out the rarer kinds (error returns, argument swaps)."""
    by_kind: dict[str, list[Mutant]] = {}
    for site in sites:
        by_kind.setdefault(site.operator, []).append(site)
    for kind in sorted(by_kind):
        rng.shuffle(by_kind[kind])
    order = []
    while by_kind:
        kinds = sorted(by_kind)
        kind = rng.choices(kinds, weights=[len(by_kind[k]) ** 0.5 for k in kinds])[0]
        order.append(by_kind[kind].pop())
        if not by_kind[kind]:
            del by_kind[kind]
    return order


# --- the copy, the build and the campaign --------------------------------------------------------

class Lock:
    """Optional: SEGSIM_MUTATION_LOCK=FILE serialises each build+campaign with other
    heavy jobs on a shared machine (flock on FILE)."""

    def __init__(self):
        path = os.environ.get("SEGSIM_MUTATION_LOCK")
        self.handle = open(path, "a") if path else None

    def __enter__(self):
        if self.handle:
            fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        if self.handle:
            fcntl.flock(self.handle, fcntl.LOCK_UN)


def sync_copy() -> None:
    """Copy the tracked files as they are in the working tree. A file whose bytes
    are unchanged is left alone (its time stamp too: the copy's build stays
    incremental); a changed one is written now, so it is newer than any object
    the copy built before. (Keeping the source's time stamp could make it look
    older than an object built from an earlier copy — a mutant's restore, say —
    and the build would keep the stale object.)"""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src, dst = ROOT / rel, COPY / rel
        if not src.is_file():
            continue
        content = src.read_bytes()
        if dst.is_file() and dst.read_bytes() == content:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(content)
        shutil.copymode(src, dst)


def build(log: Path) -> bool:
    with open(log, "w") as out:
        try:
            for cmd in (["cmake", "--preset", "dev"],
                        ["cmake", "--build", "--preset", "dev", "-j", str(os.cpu_count() or 2),
                         "--target", "segsim"]):
                if subprocess.run(cmd, cwd=COPY, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=MAX_BUILD_SECONDS).returncode != 0:
                    return False
        except subprocess.TimeoutExpired:
            return False
    return True


def object_digest(rel: str) -> str:
    """sha256 of the object file built from `rel` (found through the build's own layout)."""
    name = Path(rel).name + ".o"
    matches = list((COPY / "build" / "dev").rglob(name))
    matches = [m for m in matches if "/core/" in str(m)]
    if len(matches) != 1:
        return ""
    # Compared without its debug sections: their line tables change with any edit, even one
    # that compiles to the same code (a call whose body this build compiles out), which is
    # equivalent all the same. Code, data and relocations are still compared byte for byte.
    stripped = WORK / "digest.o"
    if shutil.which("objcopy") and subprocess.run(["objcopy", "--strip-debug", str(matches[0]), str(stripped)],
                                                  capture_output=True).returncode == 0:
        return hashlib.sha256(stripped.read_bytes()).hexdigest()
    return hashlib.sha256(matches[0].read_bytes()).hexdigest()


def scenarios_of(segsim: Path) -> list[str]:
    listing = subprocess.run([str(segsim), "list"], capture_output=True, text=True, check=True).stdout
    names, in_section = [], False
    for line in listing.splitlines():
        if not line.startswith(" "):
            in_section = line.strip() == "scenarios:"
        elif in_section and line.startswith("  ") and line.strip():
            names.append(line.split()[0])
    return names


def campaign(segsim: Path, scenarios, configs, seeds: int, seed_timeout: float):
    """First failing seed as (outcome, where), or None when every sweep passed."""
    for scenario in scenarios:
        for config in configs:
            strategy, faults = config.split(":", 1)
            result = WORK / "sweep.json"
            result.unlink(missing_ok=True)
            cmd = [str(segsim), "sweep", scenario, "--seeds", f"1..{seeds}", "--jobs",
                   str(os.cpu_count() or 2), "--strategy", strategy, "--faults", faults,
                   "--stop-on-failure", "--timeout", str(seed_timeout), "--json", str(result),
                   "--failures-dir", str(WORK / "repros")]
            try:
                # A mutant may print any bytes (a torn string, a page's content): decode what is
                # not UTF-8 as U+FFFD instead of failing the sample.
                done = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                                      timeout=MAX_SWEEP_SECONDS)
            except subprocess.TimeoutExpired:
                return "killed-crash", f"{scenario} {config}: the sweep itself hung"
            try:
                seeds_out = json.loads(result.read_text())["seeds"]
            except (OSError, ValueError, KeyError):
                return "killed-crash", f"{scenario} {config}: the sweep wrote no result"
            for seed in seeds_out:
                if seed["outcome"] == "passed":
                    continue
                kind = "killed-oracle" if seed["outcome"] == "failed" else "killed-crash"
                return kind, f"{scenario} {config} seed {seed['seed']}: {seed['outcome']}: " \
                             f"{seed.get('detail', '')[:160]}"
            if len(seeds_out) < seeds:
                # Every seed run passed, but not every seed ran: the sweep stopped because the run
                # could not be set up (the stack refused the scenario's configuration — which it
                # accepted unmutated: the baseline ran), and says why. Not a pass.
                said = [line for line in done.stderr.splitlines() if line.strip()]
                why = said[-1] if said else f"exit status {done.returncode}"
                stopped = "the sweep stopped:" in why
                return ("killed-oracle" if stopped else "killed-crash"), \
                    f"{scenario} {config}: {len(seeds_out)} of {seeds} seeds ran: {why[:160]}"
    return None


# --- the run ---------------------------------------------------------------------------------------

def apply(mutant: Mutant) -> str:
    path = COPY / mutant.file
    original = path.read_text()
    lines = original.splitlines(keepends=True)
    lines[mutant.line - 1] = mutant.after + "\n"
    path.write_text("".join(lines))
    return original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=20, help="mutants to judge (default 20)")
    parser.add_argument("--seed", type=int, default=None, help="site-drawing seed (default: random, printed)")
    parser.add_argument("--seeds", type=int, default=40, help="campaign seeds per sweep (default 40)")
    parser.add_argument("--configs", default="random:swarm pct:none", help="STRATEGY:FAULTS list")
    parser.add_argument("--seed-timeout", type=float, default=20.0, help="seconds per seed")
    parser.add_argument("--files", default="", help="regex on core/ paths to mutate (default: all)")
    parser.add_argument("--headers", action="store_true",
                        help="draw from core/*.h too (inline code: the hit paths, the recorder's note functions); "
                             "a header's mutant rebuilds every file that includes it, and has no identical-object "
                             "check")
    parser.add_argument("--only", action="append", default=[], metavar="FILE:LINE[:OPERATOR]",
                        help="judge only the sites on that line (of that operator): re-check a mutant; repeatable")
    parser.add_argument("--work", default="", metavar="DIR",
                        help="work directory (default build/mutation): a second run beside a running one")
    args = parser.parse_args()
    global WORK, COPY
    if args.work:
        WORK = (ROOT / args.work).resolve()
        COPY = WORK / "src"
    only = [o.split(":") for o in args.only]
    for o, given in zip(only, args.only):
        if len(o) not in (2, 3) or not o[1].isdigit():
            fail(f"--only wants FILE:LINE[:OPERATOR], got '{given}'")
    if not 1 <= args.count <= 10000 or not 1 <= args.seeds <= 100000:
        fail("COUNT must be 1..10000 and --seeds 1..100000")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    configs = args.configs.split()
    if not configs or any(":" not in c for c in configs):
        fail(f"--configs wants STRATEGY:FAULTS words, got '{args.configs}'")

    WORK.mkdir(parents=True, exist_ok=True)
    COPY.mkdir(parents=True, exist_ok=True)
    replay = f"ci/mutation.sh {args.count} --seed {seed} --seeds {args.seeds} --configs '{args.configs}'"
    if args.files:
        replay += f" --files '{args.files}'"
    if args.headers:
        replay += " --headers"
    replay += "".join(f" --only '{o}'" for o in args.only)
    print(f"mutation: seed {seed} (replay: {replay})", flush=True)
    sync_copy()
    segsim = COPY / "build" / "dev" / "segsim"
    with Lock():
        if not build(WORK / "build-baseline.log"):
            fail(f"the unmutated tree does not build: {WORK / 'build-baseline.log'}")
        if not segsim.is_file():  # e.g. an earlier run of this --work copy killed mid-link
            fail(f"the unmutated build made no {segsim}: remove {WORK} and run again")
        scenarios = scenarios_of(segsim)
        baseline = campaign(segsim, scenarios, configs, args.seeds, args.seed_timeout)
    if baseline:
        fail(f"the unmutated campaign fails ({baseline[1]}): no mutant can be judged")

    patterns = ("*.cpp", "*.h") if args.headers else ("*.cpp",)
    files = sorted(str(p.relative_to(COPY)) for pattern in patterns for p in (COPY / "core").glob(pattern)
                   if str(p.relative_to(COPY)) not in EXCLUDED and re.search(args.files, str(p)))
    # A header has no object of its own: its mutants are judged by the campaign alone.
    digests = {rel: object_digest(rel) for rel in files if rel.endswith(".cpp")}
    sites = candidate_sites(files)
    sites = draw_order(sites, random.Random(seed))
    if only:
        sites = [m for m in sites if any(m.file == o[0] and m.line == int(o[1]) and (len(o) == 2 or m.operator == o[2])
                                         for o in only)]
        if not sites:
            fail(f"no mutation site matches --only {' '.join(args.only)}")
    print(f"mutation: {len(sites)} candidate sites in {len(files)} files; scenarios {' '.join(scenarios)};"
          f" configs {' '.join(configs)}; seeds 1..{args.seeds}", flush=True)

    judged: list[Mutant] = []
    stillborn: list[Mutant] = []
    interrupted = False
    original_sigint = signal.getsignal(signal.SIGINT)
    for mutant in sites:
        if len(judged) >= args.count:
            break
        started = time.monotonic()
        original = apply(mutant)
        try:
            with Lock():
                if not build(WORK / "build-mutant.log"):
                    mutant.outcome = "stillborn"
                elif digests.get(mutant.file) and object_digest(mutant.file) == digests[mutant.file]:
                    mutant.outcome = "equivalent"
                else:
                    verdict = campaign(segsim, scenarios, configs, args.seeds, args.seed_timeout)
                    mutant.outcome, mutant.killer = verdict if verdict else ("survived", "")
        except KeyboardInterrupt:
            interrupted = True
        finally:
            (COPY / mutant.file).write_text(original)
        if interrupted:
            print("mutation: interrupted; reporting the mutants judged so far", flush=True)
            break
        mutant.seconds = round(time.monotonic() - started, 1)
        (stillborn if mutant.outcome == "stillborn" else judged).append(mutant)
        if mutant.outcome != "stillborn":
            print(f"[{len(judged)}/{args.count}] {mutant.outcome:13} {mutant.file}:{mutant.line} "
                  f"{mutant.operator}: {mutant.after.strip()[:90]}"
                  + (f"\n      by {mutant.killer}" if mutant.killer else ""), flush=True)
    signal.signal(signal.SIGINT, original_sigint)
    # Leave the copy's build matching the unmutated source.
    with Lock():
        build(WORK / "build-restore.log")
    report(judged, stillborn, seed, args, interrupted)


# Names a failure can carry that say where the program stopped rather than which promise broke:
# an assertion (core/'s or the harness's own) and the faults the simulated Os names from a signal.
# They are named kills (the line says what went wrong), reported apart from the harness's oracles.
ASSERTION_NAMES = {"assertion", "null-dereference", "arithmetic-fault"}


def killing_name(mutant: Mutant) -> str:
    """The failure's name (the oracle before the detail), or how the sweep stopped."""
    found = re.search(r" seed \d+: failed: ([A-Za-z0-9_-]+):", mutant.killer)
    if found:
        return found.group(1)
    return "sweep-stopped" if "seeds ran:" in mutant.killer else "unnamed"


def report(judged, stillborn, seed, args, interrupted) -> None:
    count = {k: sum(m.outcome == k for m in judged)
             for k in ("killed-oracle", "killed-crash", "survived", "equivalent")}
    scored = len(judged) - count["equivalent"]
    killed = count["killed-oracle"] + count["killed-crash"]
    score = 100.0 * killed / scored if scored else 0.0
    survivors = [m for m in judged if m.outcome == "survived"]
    named_by: dict[str, int] = {}
    for m in judged:
        if m.outcome == "killed-oracle":
            name = killing_name(m)
            named_by[name] = named_by.get(name, 0) + 1
    by_assertion = sum(n for name, n in named_by.items() if name in ASSERTION_NAMES)
    summary = (f"mutation score: {killed}/{scored} = {score:.1f} % of non-equivalent mutants killed "
               f"(by a named oracle {count['killed-oracle']} — of which {by_assertion} by an assertion or a "
               f"named fault signal —, by a crash or hang {count['killed-crash']}; "
               f"survived {count['survived']}; equivalent by identical object {count['equivalent']}; "
               f"stillborn {len(stillborn)}; seed {seed})")
    print(summary)
    if named_by:
        print("named kills by failure name: " +
              ", ".join(f"{name} {n}" for name, n in sorted(named_by.items(), key=lambda kv: (-kv[1], kv[0]))))
    print(f"survivors ({len(survivors)}):")
    for m in survivors:
        print(f"  {m.file}:{m.line} {m.operator}\n    - {m.before.strip()}\n    + {m.after.strip()}")
    data = {"format": "segsim-mutation", "version": 1, "seed": seed, "count": args.count,
            "campaign_seeds": args.seeds, "configs": args.configs.split(), "headers": args.headers,
            "interrupted": interrupted,
            "score_percent": round(score, 1), "counts": count, "named_by": named_by,
            "named_by_assertion": by_assertion, "stillborn": len(stillborn),
            "mutants": [asdict(m) for m in judged]}
    (WORK / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    rows = "\n".join(f"| `{m.file}:{m.line}` | {m.operator} | `{m.after.strip()[:70]}` | {m.outcome} |"
                     for m in judged)
    (WORK / "results.md").write_text(f"{summary}\n\n| site | operator | mutated line | outcome |\n"
                                     f"|---|---|---|---|\n{rows}\n")
    print(f"mutation: results in {WORK / 'results.json'} and {WORK / 'results.md'}")


if __name__ == "__main__":
    main()
