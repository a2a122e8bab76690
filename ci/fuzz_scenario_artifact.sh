#!/usr/bin/env bash
# fuzz_scenario's crash path end to end (ci/fuzz.sh runs it after the
# campaign): with a sabotage on, the fuzzer finds a crash from the committed
# corpus; `segsim fuzz-artifact` turns the crash artifact into an ordinary
# repro; `segsim replay` reproduces it (exit 1).
#   ci/fuzz_scenario_artifact.sh FUZZ_SCENARIO SEGSIM [BUG]
# Without BUG the sabotage is the chicago test hook (SEGSIM_FUZZ_TEST_HOOK=
# corrupt-segment); with BUG — both binaries from mutants builds — it is the
# catalogued bug (SEGSIM_MUTANT=BUG). Exit 0 when the artifact replays.
set -uo pipefail
cd "$(dirname "$0")/.."
fail() { echo "fuzz_scenario_artifact: FAIL: $*" >&2; exit 1; }
(($# >= 2)) || { echo "usage: ci/fuzz_scenario_artifact.sh FUZZ_SCENARIO SEGSIM [BUG]" >&2; exit 2; }
fuzzer=$(realpath "$1")
segsim=$(realpath "$2")
bug=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
if [[ -n $bug ]]; then
  export SEGSIM_MUTANT=$bug
  convert=(--bug "$bug")
else
  export SEGSIM_FUZZ_TEST_HOOK=corrupt-segment
  convert=(--test-hook corrupt-segment)
fi
"$fuzzer" -max_total_time=120 -timeout=30 -artifact_prefix="$work/" "$work/corpus" fuzz/corpus/scenario \
  > "$work/fuzz.log" 2>&1 && fail "the fuzzer found no crash in 120 s: $(tail -5 "$work/fuzz.log")"
crash=$(compgen -G "$work/crash-*" | head -1)
[[ -n $crash ]] || fail "no crash artifact: $(tail -20 "$work/fuzz.log")"
unset SEGSIM_MUTANT SEGSIM_FUZZ_TEST_HOOK
"$segsim" fuzz-artifact "$crash" -o "$work/repro.json" "${convert[@]}" > "$work/convert.txt"
code=$?
[[ $code == 1 ]] || fail "fuzz-artifact exited $code (expected 1): $(tail -5 "$work/convert.txt")"
"$segsim" replay "$work/repro.json" > "$work/replay.txt"
code=$?
[[ $code == 1 ]] || fail "replay exited $code (expected 1): $(tail -5 "$work/replay.txt")"
echo "fuzz_scenario_artifact: crash $(basename "$crash") → repro → replay exit 1 ($(grep -m1 '^replay:' "$work/replay.txt"))"
