#!/usr/bin/env bash
# The main job: a real tunnel. Two dpvpn-dataplane gateways with mirrored static SAs, each on two
# net_af_packet ports (veth pairs), a kernel host in a network namespace behind each; pings both
# ways over IPv4 and IPv6, a TCP transfer with sha256 on both ends, a capture of the link between
# the gateways (only ESP crosses it), each gateway's final counters; then every namespace and
# process is removed (also on Ctrl-C). The picture and the code are shared with the end-to-end
# test: tests/e2e/tunnel_topology.py. While the tunnel is up, dpvpnctl reads gateway A's kernel
# tables and SAs over its gRPC agent.
#   DEMO_ALG=aes128gcm|aes256gcm|aes128cbc-sha256|aes256cbc-sha256|chacha20poly1305  DEMO_NATT=1
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo  # network namespaces need root
natt=()
[ "${DEMO_NATT:-0}" = 1 ] && natt=(--natt)
echo
$sudo /usr/bin/python3 "$root/tests/e2e/tunnel_topology.py" --demo --binary "$root/build/dataplane/dpvpn-dataplane" \
  --alg "${DEMO_ALG:-aes128gcm}" "${natt[@]}"
