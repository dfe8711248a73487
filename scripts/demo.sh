#!/usr/bin/env bash
# The main job: a real tunnel between dpvpn and strongSwan. The left gateway is dpvpn
# (dpvpn-controld negotiating IKEv2, dpvpn-dataplane forwarding on net_af_packet veth ports), the
# right one strongSwan 5.9.8; a host namespace sits behind each. dpvpn initiates; the demo shows
# `dpvpnctl tu tlist`, strongSwan's view of the same SAs, pings both ways and an 8 MiB TCP transfer
# through the tunnel, that only ESP-in-UDP crosses the link, a child SA rekey under pings, and the
# dataplane's kernel tables; then removes every namespace and process (also on Ctrl-C).
# Code: tests/ike_interop/demo.py (the same harness as the interop tests).
#   DEMO=static   the earlier demo instead: two dpvpn-dataplane gateways with static SAs
#                 (tests/e2e/tunnel_topology.py; DEMO_ALG=aes128gcm|aes256gcm|aes128cbc-sha256|
#                 aes256cbc-sha256|chacha20poly1305, DEMO_NATT=1)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo  # network namespaces need root
echo
if [ "${DEMO:-ike}" = static ]; then
  natt=()
  [ "${DEMO_NATT:-0}" = 1 ] && natt=(--natt)
  exec $sudo /usr/bin/python3 "$root/tests/e2e/tunnel_topology.py" --demo --binary "$root/build/dataplane/dpvpn-dataplane" \
    --alg "${DEMO_ALG:-aes128gcm}" "${natt[@]}"
fi
exec $sudo /usr/bin/python3 "$root/tests/ike_interop/demo.py" "$root/build"
