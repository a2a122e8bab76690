#!/usr/bin/env bash
# The test command (README): bootstrap, then build and test the dev, asan and
# tsan presets, hunt the bug catalogue in the mutants preset (ci/hunt.sh),
# build the fuzz preset and run each fuzz target briefly.
#   ci/test.sh                  everything (what CI runs)
#   SEGSIM_PRESETS="dev" ci/test.sh      only some presets
#   SEGSIM_FUZZ_SECONDS=60 ci/test.sh    longer fuzzing (0 skips it)
#   SEGSIM_HUNT=0 ci/test.sh             skip the bug-catalogue hunt (ci/hunt.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
ci/bootstrap.sh

jobs=$(nproc)
presets=${SEGSIM_PRESETS:-dev asan tsan}
for preset in $presets; do
  echo "=== $preset: configure, build, test ($(($(date +%s) - start))s elapsed)"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done

if [[ "${SEGSIM_HUNT:-1}" != 0 ]]; then
  echo "=== mutants: build, hunt every catalogued bug ($(($(date +%s) - start))s elapsed)"
  ci/hunt.sh
fi

fuzz_seconds=${SEGSIM_FUZZ_SECONDS:-20}
if [[ "$fuzz_seconds" != 0 ]]; then
  echo "=== fuzz: build, run each target ${fuzz_seconds}s ($(($(date +%s) - start))s elapsed)"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs"
  ci/fuzz.sh "$fuzz_seconds"
fi
echo "=== ci/test.sh: all green in $(($(date +%s) - start))s"
