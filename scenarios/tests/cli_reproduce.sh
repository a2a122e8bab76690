#!/usr/bin/env bash
# Issue 13, segsim reproduce end to end. Always: a bad, truncated or foreign
# crash report is one line and exit 2; a repro file is replayed; the seed
# report is reproduced into a repro (and a shrunk one) that `segsim replay`
# fails the same way in a new process. With a mutants build and its
# real-thread stress tests: a stress run with a bug on (SEGSIM_MUTANT) and
# the flight recorder on writes a crash report, `segsim reproduce` makes its
# failure recur under the simulator (exit 1) and writes a repro, and a new
# `segsim replay` process fails with the same signature, also when shrunk —
# for a refused release and for a page-layer bug's stress-check report.
#   cli_reproduce.sh SEGSIM SEED_REPORT [STRESS_BINARY]
source "$(dirname "$0")/cli_test_lib.sh"
seed_report=$2
stress=${3:-}

one_line_exit2() {  # what, then the command
  local what=$1; shift
  "$@" > out.txt 2> err.txt; local code=$?
  [[ $code == 2 ]] || fail "$what: exit $code, expected 2"
  [[ $(wc -l < err.txt) == 1 ]] || fail "$what: not one line on stderr: $(cat err.txt)"
}
head -c 300 "$seed_report" > truncated.json
one_line_exit2 "truncated report" "$segsim" reproduce truncated.json
echo '{"format": "segsim-crash", "version": 7}' > future.json
one_line_exit2 "unknown version" "$segsim" reproduce future.json
echo 'hello' > foreign.bin
one_line_exit2 "foreign file" "$segsim" reproduce foreign.bin
one_line_exit2 "missing file" "$segsim" reproduce missing.json

"$segsim" run chicago --seed 42 --test-hook corrupt-segment > /dev/null; code=$?
[[ $code == 1 ]] || fail "corrupted run exited $code"
"$segsim" reproduce segsim-failures/chicago-seed42.repro.json > replay.txt; code=$?
[[ $code == 1 ]] && grep -q "reproduced exactly" replay.txt || fail "reproduce of a repro did not replay it ($code)"

# REPORT -> REPRO (and REPRO.min) -> replay, each in a new process; the
# repro's failure names the report's refused call by its recorded ids.
reproduce_and_replay() {  # report, repro path
  local report=$1 repro=$2 min=${2%.repro.json}.min.repro.json code
  "$segsim" reproduce "$report" -o "$repro" --shrink --shrink-seconds 60 > reproduce.txt 2> reproduce.err; code=$?
  [[ $code == 1 ]] || fail "reproduce $report exited $code, expected 1: $(cat reproduce.txt reproduce.err)"
  grep -q "^reproduce: reproduced after" reproduce.txt || fail "no reproduce: line"
  [[ -s $repro && -s $min ]] || fail "reproduce wrote no repro ($repro) or no shrunk one ($min)"
  python3 - "$report" "$repro" <<'PY' || fail "the repro's failure is not the report's (refused call, or a stress check's any oracle)"
import json, sys
crash, repro = (json.load(open(p)) for p in sys.argv[1:3])
if crash["failure"]["kind"] == "refused" and crash["failure"]["operation"].get("depth", 0) > 0:
    # A release the page layer made (nested): rebuilt at the program's level,
    # the stack's own release refused again as a double free is the match.
    same = repro["failure"]["signature"].startswith("double-free: ")
elif crash["failure"]["kind"] == "refused":
    op = crash["failure"]["operation"]
    want = "double-free: {} of recorded region #{} slice {} (generation {}) by recorded thread {} refused again: {}".format(
        op["op"], op["region"], op["slice"], op["generation"], crash["failure"]["thread"], crash["failure"]["errc"])
    same = repro["failure"]["signature"] == want
else:  # a stress test's own check names no operation: any oracle's failure is the match
    same = crash["failure"]["kind"] == "stress-check" and repro["failure"]["signature"] != ""
# The catalogued bug the crashing process ran with is the repro's.
sys.exit(0 if repro["scenario"] == "recorded" and same and repro["bug"] == crash.get("bug", "") else 1)
PY
  for file in "$repro" "$min"; do
    "$segsim" replay "$file" > replay.txt 2>&1; code=$?
    [[ $code == 1 ]] || fail "replay $file exited $code, expected 1: $(cat replay.txt)"
    grep -q "replay: reproduced exactly" replay.txt || fail "replay $file: $(cat replay.txt)"
    grep -q "outcome differs" replay.txt && fail "replay $file: outcome differs"
  done
}
# Thread 0 allocates slice 0 and releases it; thread 1 releases it again
# (refused: the report's failure); with "signal", the process instead died
# of a SIGSEGV inside the released slice.
small_report() {  # failure kind: refused | signal
  local failure='"kind": "refused", "errc": "double free", "thread": 1, "operation": {"seq": 3, "op": "release",
      "bytes": 0, "class": 0, "region": 0, "slice": 0, "generation": 1, "result": "double free"}'
  [[ $1 == signal ]] && failure='"kind": "signal", "signal": 11, "signal_name": "SIGSEGV",
      "fault_slice": {"region": 0, "slice": 0, "generation": 1, "offset": 8}'
  cat <<JSON
{"format": "segsim-crash", "version": 1, "build_id": "test", "stack": {"region_bytes": 262144, "budget_bytes": 67108864},
 "failure": {$failure},
 "threads": [
  {"thread": 0, "recorded": 2, "events": [
    {"seq": 1, "op": "allocate", "bytes": 4096, "class": 0, "region": 0, "slice": 0, "generation": 1, "result": "ok"},
    {"seq": 2, "op": "release", "bytes": 0, "class": 0, "region": 0, "slice": 0, "generation": 1, "result": "ok"}]},
  {"thread": 1, "recorded": 1, "events": [
    {"seq": 3, "op": "release", "bytes": 0, "class": 0, "region": 0, "slice": 0, "generation": 1, "result": "double free"}]}]}
JSON
}
small_report refused > refused.json
reproduce_and_replay refused.json small.repro.json
small_report signal > signal.json
"$segsim" reproduce signal.json -o signal.repro.json > signal.txt 2>&1; code=$?
[[ $code == 1 ]] && grep -q "^reproduce: reproduced after .*use-after-release" signal.txt ||
  fail "the signal report did not reproduce ($code): $(cat signal.txt)"
"$segsim" replay signal.repro.json > replay.txt 2>&1; code=$?
[[ $code == 1 ]] && grep -q "replay: reproduced exactly" replay.txt || fail "replay of the signal's repro: $(cat replay.txt)"

# A fuzz_alloc_ops artifact runs under the simulator: this one's operations
# (allocate, write, release) are correct, so it is not reproduced (exit 3);
# an artifact of a target no scenario runs is one line, exit 2.
printf '\000\000\001\200\006\000\011\002\000' > crash-0123456789abcdef
"$segsim" reproduce crash-0123456789abcdef --attempts 2 > artifact.txt 2>&1; code=$?
[[ $code == 3 ]] && grep -q "^libFuzzer artifact of fuzz_alloc_ops: 9 bytes" artifact.txt ||
  fail "artifact: exit $code: $(cat artifact.txt)"
one_line_exit2 "artifact of another target" "$segsim" reproduce crash-0123456789abcdef --fuzz-target page_file

if [[ -n $stress ]]; then
  mkdir reports
  for ((run = 1; run <= 10; run++)); do
    SEGSIM_FLIGHT_RECORDER=$PWD/reports SEGSIM_MUTANT=return-not-idempotent \
      "$stress" --gtest_filter='PageLayerStress.*' > stress.txt 2>&1
    grep -lq '"kind": "refused"' reports/segsim-crash-*.json 2> /dev/null && break
  done
  # Any refusal report of the process reproduces; the last one holds the
  # earlier refusals in its rings too (expected, not the failure sought).
  report=$(grep -l '"kind": "refused"' reports/segsim-crash-*.json 2> /dev/null | sort -t- -k4 -n | tail -1)
  [[ -n $report ]] || fail "no crash report of a refused release in 10 real-thread runs with return-not-idempotent"
  reproduce_and_replay "$report" real.repro.json
  refused_line=$(grep '^reproduce:' reproduce.txt)

  # A page-layer bug (the cache's eviction clears a page but never gives it
  # back): the stress test's own check fails and writes a stress-check
  # report; its recorded pool / page / cache calls, rebuilt on the simulated
  # stack with the bug on, make a failure recur, and its repro replays.
  mkdir pages
  SEGSIM_FLIGHT_RECORDER=$PWD/pages SEGSIM_MUTANT=evict-no-return \
    "$stress" --gtest_filter='PageLayerStress.*' > stress.txt 2>&1 && fail "evict-no-return: the stress test passed"
  report=$(ls pages/segsim-crash-*.json 2> /dev/null | head -1)
  [[ -n $report ]] || fail "the failing page-layer stress test wrote no crash report: $(tail -5 stress.txt)"
  grep -q '"kind": "stress-check", "message": "PageLayerStress.' "$report" || fail "not a stress-check report: $report"
  grep -q '"op": "cache_put"' "$report" || fail "the report holds no page-layer event: $report"
  reproduce_and_replay "$report" pages.repro.json
  echo "PASS (real threads: $run run(s); $refused_line; page layer: $(grep '^reproduce:' reproduce.txt))"
  exit 0
fi
echo "PASS"
