#!/usr/bin/env bash
# OSS-Fuzz / ClusterFuzzLite build script: builds every fuzz target with the
# compiler, flags and engine the infrastructure provides and installs them in
# $OUT with their seed corpora and dictionaries:
#   $OUT/fuzz_<name>                    the target
#   $OUT/fuzz_<name>_seed_corpus.zip    fuzz/corpus/<name>/
#   $OUT/fuzz_<name>.dict               fuzz/<name>.dict, when there is one
#   $OUT/fuzz_<name>.options            [asan] fuzz/campaign.asan_options
# Every library is compiled with $CXXFLAGS plus -fsanitize=fuzzer-no-link
# (SEGSIM_FUZZ=ON); only the targets link $LIB_FUZZING_ENGINE.
# Needs: cmake, ninja, zip, libboost-context1.81-dev, libfmt-dev (ci/bootstrap.sh).
# Local check:
#   CXX=clang++-14 CXXFLAGS="-fsanitize=address,fuzzer-no-link" \
#     LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out fuzz/build.sh
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
for var in CXX LIB_FUZZING_ENGINE OUT; do
  [[ -n "${!var:-}" ]] || { echo "build.sh: \$$var is not set" >&2; exit 2; }
done
build=${WORK:-/tmp}/segsim-fuzz-build
mkdir -p "$OUT"

# CMAKE_BUILD_TYPE=None: the optimisation level is the infrastructure's ($CXXFLAGS).
cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
  -DCMAKE_EXE_LINKER_FLAGS="${CXXFLAGS:-}" \
  -DSEGSIM_FUZZ=ON \
  -DSEGSIM_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DSEGSIM_BUILD_TESTS=OFF
cmake --build "$build" -j "$(nproc)"

shopt -s nullglob
installed=0
for target in "$build"/fuzz/fuzz_*; do
  [[ -x "$target" && -f "$target" ]] || continue
  name=$(basename "$target")
  cp "$target" "$OUT/$name"
  short=${name#fuzz_}
  if [[ -d "$src/fuzz/corpus/$short" ]]; then
    rm -f "$OUT/${name}_seed_corpus.zip"
    (cd "$src/fuzz/corpus/$short" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
  fi
  [[ -f "$src/fuzz/$short.dict" ]] && cp "$src/fuzz/$short.dict" "$OUT/$name.dict"
  # The campaign's ASan settings (fuzz/campaign.asan_options, docs/fuzzing.md
  # Round 6) as ClusterFuzz reads them: an [asan] section of <target>.options.
  # ClusterFuzz reproduces a crash with the same file; for the full report
  # (allocation and free stacks) replay it without these settings.
  { echo "[asan]"; tr ':' '\n' < "$src/fuzz/campaign.asan_options" | sed -E '/^$/d; s/=/ = /'; } > "$OUT/$name.options"
  installed=$((installed + 1))
done
((installed > 0)) || { echo "build.sh: no fuzz target was built" >&2; exit 1; }
echo "build.sh: $installed targets in $OUT"
