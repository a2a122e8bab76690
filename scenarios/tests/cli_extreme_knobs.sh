#!/usr/bin/env bash
# No false failures (issue 11): every scenario passes at its extreme accepted
# knobs with the default (derived) step limit and budget — the most threads
# and a large size — and the cases that once failed healthy runs.
# Usage: cli_extreme_knobs.sh SEGSIM
source "$(dirname "$0")/cli_test_lib.sh"
failed=0
check() {
  "$segsim" run "$@" > out.txt 2>&1; local code=$?
  if [[ $code != 0 ]]; then
    echo "FAIL: run $* exited $code: $(grep -m1 'FAILURE' out.txt || tail -1 out.txt)"
    failed=1
  fi
}
for scenario in chicago leak-soak budget resize-storm evict-race page-file; do
  check "$scenario" --threads 64
  check "$scenario" --size 64
done
check chicago --size 17
check leak-soak --size 32
check leak-soak --threads 32
[[ $failed == 0 ]] || exit 1
echo "extreme knobs: passed"
