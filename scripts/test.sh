#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test; then the same tests in an
# ASan+UBSan build (the concurrency test shorter there); then 20 s of libFuzzer. No test may hang
# the run: each has at most 300 s unless it sets its own TIMEOUT.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/scripts/setup.sh"
ctest --test-dir "$root/build" --output-on-failure --timeout 300

echo "== ASan + UBSan build"
BUILD_DIR="$root/build-asan" BUILD_TYPE=Debug SANITIZE=ON "$root/scripts/setup.sh"
# DPDK keeps its memory for the process lifetime; leaks are not what this run looks for.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  DPVPN_CONCURRENCY_SECONDS=1.5 ctest --test-dir "$root/build-asan" --output-on-failure --timeout 300
"$root/scripts/fuzz.sh" 20
