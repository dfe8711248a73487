#!/usr/bin/env bash
# Fuzzes the packet classifier, the local responders and ESP decapsulation (tests/fuzz/fuzz_packet.cpp)
# for SECONDS (default 30): builds build-fuzz/ with clang, libFuzzer, ASan and UBSan; checks that
# every seed runs and that each of the fuzzer's SAs has a seed that decrypts; replays
# tests/fuzz/regressions/; then fuzzes a temporary copy of tests/fuzz/corpus (the committed corpus
# is never modified). Then the same SECONDS for the IKEv2 wire format (tests/fuzz/fuzz_ike_message.cpp)
# on a copy of tests/fuzz/ike_corpus. Without clang it says so and exits 0.
#   scripts/fuzz.sh [SECONDS]     FUZZ_BUILD_DIR=build-fuzz
# A crash leaves its input in $FUZZ_BUILD_DIR/artifacts/ (reproduce: build-fuzz/tests/fuzz_packet FILE,
# or build-fuzz/tests/fuzz_ike_message FILE).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-30}
build_dir=${FUZZ_BUILD_DIR:-$root/build-fuzz}

if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
  echo "clang not found: fuzzing skipped"
  exit 0
fi

echo "== fuzz: build ($build_dir, clang, libFuzzer + ASan + UBSan)"
# -O1: asserts stay on, still fast enough to fuzz.
CC=clang CXX=clang++ cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DDPVPN_SANITIZE=ON -DDPVPN_FUZZ=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target fuzz_packet
fuzzer=$build_dir/tests/fuzz_packet

# DPDK keeps its memory for the process lifetime (detect_leaks=0); the fuzzer itself aborts if an
# input leaks an mbuf.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
log=$build_dir/fuzz.log
corpus=$(mktemp -d)
ike_corpus=$(mktemp -d)
trap 'rm -rf "$corpus" "$ike_corpus"' EXIT

# 1. Every seed once; every SA (sa0..sa3) must decrypt at least one seed, or the corpus no longer
#    matches the fuzzer's keys (regenerate it with tests/fuzz/make_corpus.py).
DPVPN_FUZZ_VERBOSE=1 "$fuzzer" "$root"/tests/fuzz/corpus/* >"$log" 2>&1 || { tail -n 60 "$log"; exit 1; }
for sa in 0 1 2 3; do
  if ! grep -q "esp sa $sa: ok" "$log"; then
    echo "fuzz: no seed in tests/fuzz/corpus decrypts with SA $sa (see $log)"
    exit 1
  fi
done
# 2. Past crashes, fixed.
shopt -s nullglob
regressions=("$root"/tests/fuzz/regressions/*)
if ((${#regressions[@]})); then
  "$fuzzer" "${regressions[@]}" >>"$log" 2>&1 || { tail -n 60 "$log"; exit 1; }
fi
echo "fuzz: $(ls "$root"/tests/fuzz/corpus | wc -l) seeds and ${#regressions[@]} regressions ran; every SA decrypts a seed"

# 3. Fuzz.
cp "$root"/tests/fuzz/corpus/* "$corpus"/
mkdir -p "$build_dir/artifacts"
echo "== fuzz: ${seconds}s on a copy of tests/fuzz/corpus (log: $log)"
if ! "$fuzzer" -max_total_time="$seconds" -max_len=2000 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build_dir/artifacts/" "$corpus" >>"$log" 2>&1; then
  tail -n 80 "$log"
  echo "fuzz: FAILED; the input is in $build_dir/artifacts/ (reproduce: $fuzzer FILE)"
  exit 1
fi
grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" | tr '\n' ' ' || true
echo

# 4. The IKEv2 wire format: every seed once, then SECONDS of fuzzing on a copy of tests/fuzz/ike_corpus.
#    No DPDK here: leaks are checked.
cmake --build "$build_dir" -j "$(nproc)" --target fuzz_ike_message
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
ike_fuzzer=$build_dir/tests/fuzz_ike_message
ike_log=$build_dir/fuzz_ike.log
"$ike_fuzzer" "$root"/tests/fuzz/ike_corpus/* >"$ike_log" 2>&1 || { tail -n 60 "$ike_log"; exit 1; }
echo "fuzz: $(ls "$root"/tests/fuzz/ike_corpus | wc -l) IKE seeds ran"
cp "$root"/tests/fuzz/ike_corpus/* "$ike_corpus"/
echo "== fuzz: ${seconds}s of fuzz_ike_message on a copy of tests/fuzz/ike_corpus (log: $ike_log)"
if ! "$ike_fuzzer" -max_total_time="$seconds" -max_len=4000 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build_dir/artifacts/" "$ike_corpus" >>"$ike_log" 2>&1; then
  tail -n 80 "$ike_log"
  echo "fuzz: FAILED; the input is in $build_dir/artifacts/ (reproduce: $ike_fuzzer FILE)"
  exit 1
fi
grep -E '^#[0-9]+[[:space:]]+DONE' "$ike_log" | tail -n 1 || true
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$ike_log" | tr '\n' ' ' || true
echo
