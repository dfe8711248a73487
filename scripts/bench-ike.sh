#!/usr/bin/env bash
# IKEv2 setup benchmark: dpvpn-controld vs strongSwan's charon as responder, the same suite (PSK,
# X25519, AES-GCM-128) and the same load generator (dpvpn's IKE engine, 128 setups in flight) in the
# same run; the figure is the responder's CPU time per tunnel (bench/run_bench_ike.py explains how).
#   scripts/bench-ike.sh [--tunnels 1000,10000] [--strongswan-tunnels 1000] [--hold-s 25] [--repeat 1]
# Ends with one line per N:
#   bench-ike: tunnels=N dpvpn_cpu_ms_per_tunnel=X strongswan_cpu_ms_per_tunnel=Y ratio=Y/X dpvpn_setups_per_s=A strongswan_setups_per_s=B
# Environment: BUILD_DIR (default build), BENCH_SKIP_SETUP=1 (do not run scripts/setup.sh first).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
[ "${BENCH_SKIP_SETUP:-0}" = 1 ] || "$root/scripts/setup.sh"
for bin in bench/dpvpn-ike-load controlplane/controld/dpvpn-controld; do
  [ -x "$build_dir/$bin" ] || { echo "bench-ike.sh: $build_dir/$bin is missing (build first: scripts/setup.sh)" >&2; exit 1; }
done
exec /usr/bin/python3 "$root/bench/run_bench_ike.py" "$build_dir" "$@"
