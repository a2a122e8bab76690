#!/usr/bin/env bash
# Installs the Debian packages segsim builds with — only those missing, so a
# second run is a fast no-op. Idempotent; needs root (or sudo) only when
# something is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build git
  clang-14 libclang-rt-14-dev libfuzzer-14-dev   # asan / tsan / fuzz presets
  libboost-context1.81-dev                       # fibers (1.81: TSan fiber hooks)
  libgtest-dev libgmock-dev librapidcheck-dev    # tests and properties
  libbenchmark-dev libjemalloc-dev libmimalloc-dev  # benchmarks and their baselines
  libcli11-dev nlohmann-json3-dev libfmt-dev     # CLI, JSON, formatting
  zlib1g-dev                                     # compact decision logs (sim/decision_log.cpp)
  python3                                        # ci/campaign.sh probe gate, ci/coverage.sh report
  gcovr universal-ctags                          # ci/coverage.sh: coverage of core/, its public operations
  slurm-wlm munge                                # ci/slurm.sh: a private single-node Slurm cluster
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Boost 1.74's -dev packages conflict with 1.81's; apt removes them when asked to.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "bootstrap: done"
