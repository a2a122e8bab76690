# Sourced by the CLI's shell tests: `segsim` is the binary under test (the
# script's first argument), the working directory a fresh temporary one that
# is removed on exit, and fail() ends the test with a message.
set -uo pipefail
# Made absolute first: the test runs in its own temporary folder.
segsim=$1
[[ "$segsim" == */* && "$segsim" != /* ]] && segsim="$PWD/$segsim"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
