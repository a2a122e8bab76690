#!/usr/bin/env bash
# A mutation score for the scenario campaign alone (issue 16): N source-level
# mutations of core/, each built incrementally in a copy of the tree and judged
# by the scenario sweeps. Not run by CI (each mutant costs a build and a
# campaign). See docs/mutation.md.
#   ci/mutation.sh [N] [--seed S] [--seeds SEEDS] [--configs "random:swarm pct:none"] [--files REGEX]
#                  [--only FILE:LINE[:OPERATOR]]... [--work DIR]
# SEGSIM_MUTATION_LOCK=FILE: flock FILE around each build+campaign (shared machines).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "mutation.sh: python3 not found (ci/bootstrap.sh installs it)" >&2; exit 2; }
exec python3 ci/mutation.py "$@"
