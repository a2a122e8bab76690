#!/usr/bin/env bash
# Issue 13, segsim reproduce end to end. Always: a bad, truncated or foreign
# crash report is one line and exit 2; a repro file is replayed. With a
# mutants build and its real-thread stress tests: a stress run with a bug on
# (SEGSIM_MUTANT) and the flight recorder on writes a crash report, and
# `segsim reproduce` makes its failure recur under the simulator (exit 1).
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

if [[ -n $stress ]]; then
  mkdir reports
  for ((run = 1; run <= 10; run++)); do
    SEGSIM_FLIGHT_RECORDER=$PWD/reports SEGSIM_MUTANT=return-not-idempotent \
      "$stress" --gtest_filter='PageLayerStress.*' > stress.txt 2>&1
    compgen -G "reports/segsim-crash-*.json" > /dev/null && break
  done
  report=$(compgen -G "reports/segsim-crash-*.json" | head -1)
  [[ -n $report ]] || fail "no crash report in 10 real-thread runs with return-not-idempotent"
  grep -q '"kind": "refused"' "$report" || fail "the report is not of a refused release"
  "$segsim" reproduce "$report" > reproduce.txt; code=$?
  [[ $code == 1 ]] || fail "reproduce exited $code, expected 1: $(cat reproduce.txt)"
  grep -q "^reproduce: reproduced after" reproduce.txt || fail "no reproduce: line"
  echo "PASS (real threads: $run run(s); $(grep '^reproduce:' reproduce.txt))"
  exit 0
fi
echo "PASS"
