#!/usr/bin/env bash
# Issue 16, `segsim fuzz-artifact` end to end: a fuzz_scenario input whose run
# fails becomes a repro that `segsim replay` reproduces (exit 1); a passing
# input writes nothing (exit 0); a missing input is one line and exit 2.
# `segsim reproduce --fuzz-target scenario` takes the same input: exit 3 and
# nothing written when its run passes; with a bug on (mutants), a repro that
# replays.
# With "mutants": the failure is a catalogued bug (--bug), else the chicago
# test hook (--test-hook corrupt-segment).
#   cli_fuzz_artifact.sh SEGSIM [mutants]
source "$(dirname "$0")/cli_test_lib.sh"
mode=${2:-}

# byte 0: scenario 0 (chicago); seed 42; 2 threads; no faults; a schedule.
printf '\x00\x2a\x00\x00\x00\x00\x00\x00\x00\x01\x00\x13\x25\x02\x41\x01' > input.bin

"$segsim" fuzz-artifact missing.bin -o r.json > out.txt 2> err.txt; code=$?
[[ $code == 2 && $(wc -l < err.txt) == 1 ]] || fail "missing input: exit $code, stderr: $(cat err.txt)"

"$segsim" fuzz-artifact input.bin -o passed.json > out.txt; code=$?
[[ $code == 0 && ! -e passed.json ]] || fail "a passing input: exit $code (expected 0, no repro)"
grep -q "passes in this build" out.txt || fail "a passing input does not say so: $(cat out.txt)"

if [[ $mode == mutants ]]; then
  sabotage=(--bug return-not-idempotent)
else
  sabotage=(--test-hook corrupt-segment)
fi
"$segsim" fuzz-artifact input.bin -o failed.json "${sabotage[@]}" > out.txt; code=$?
[[ $code == 1 && -s failed.json ]] || fail "a failing input: exit $code, expected 1 and a repro"
grep -q '"strategy": "fuzz"' failed.json || fail "the repro does not name strategy fuzz"
grep -q '"decisions"' failed.json || fail "the repro has no recorded decisions"
"$segsim" replay failed.json > replay.txt; code=$?
[[ $code == 1 ]] && grep -q "reproduced exactly" replay.txt || fail "replay of the artifact's repro: exit $code: $(tail -3 replay.txt)"
"$segsim" reproduce input.bin --fuzz-target scenario -o reproduced.json > out.txt; code=$?
[[ $code == 3 && ! -e reproduced.json ]] || fail "reproduce of a passing fuzz_scenario input: exit $code (expected 3, no repro)"
if [[ $mode == mutants ]]; then
  SEGSIM_MUTANT=return-not-idempotent "$segsim" reproduce input.bin --fuzz-target scenario -o reproduced.json > out.txt; code=$?
  [[ $code == 1 && -s reproduced.json ]] || fail "reproduce of a failing fuzz_scenario input: exit $code: $(tail -3 out.txt)"
  grep -q '"bug": "return-not-idempotent"' reproduced.json || fail "reproduce's repro does not carry the bug"
  "$segsim" replay reproduced.json > replay.txt; code=$?
  [[ $code == 1 ]] && grep -q "reproduced exactly" replay.txt || fail "replay of reproduce's repro: exit $code: $(tail -3 replay.txt)"
fi
echo "cli_fuzz_artifact: ok"
