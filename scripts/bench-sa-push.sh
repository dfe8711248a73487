#!/usr/bin/env bash
# SA-push benchmark: a dataplane encrypts a looped pcap (inside, net_pcap infinite_rx) on one worker
# lcore while dpvpn-bench-sa-push installs SAs into it over the batched gRPC stream. Prints installs
# per second and the forwarding rate during the push relative to before it, ending with
#   bench-sa-push: sas=N installs_per_s=X forwarding_ratio=Y
#   scripts/bench-sa-push.sh [--sas 100000] [--batch 1000]
# Environment: BENCH_SKIP_SETUP=1 (do not run scripts/setup.sh first; build/ must be built).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "${BENCH_SKIP_SETUP:-0}" = 1 ] || "$root/scripts/setup.sh"
sas=100000
batch=1000
while (($#)); do
  case "$1" in
    --sas) sas=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    *) echo "usage: $0 [--sas N] [--batch N]" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/dpvpn-sa-push.XXXXXX)
dp_pid=""
cleanup() {
  [ -n "$dp_pid" ] && kill -INT "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

/usr/bin/python3 - "$work" <<'PY'
import sys
from scapy.all import ARP, IP, UDP, Ether, Raw, wrpcap
work = sys.argv[1]
# Clear traffic to the protected range (encrypted by the static SA), 64 different flows.
wrpcap(f"{work}/inside.pcap", [Ether(src="02:00:00:00:01:05", dst="02:00:00:00:00:01") /
                               IP(src="10.1.0.5", dst="10.2.0.9") / UDP(sport=1000 + i, dport=2000) / Raw(b"x" * 36)
                               for i in range(64)])
# The peer announces itself once, so encrypted packets leave without waiting for ARP.
wrpcap(f"{work}/outside.pcap", [Ether(src="02:00:00:00:02:02", dst="ff:ff:ff:ff:ff:ff") /
                                ARP(op=2, hwsrc="02:00:00:00:02:02", psrc="192.0.2.2", pdst="192.0.2.2")])
PY
cat > "$work/dp.yaml" <<YAML
dataplane:
  workers:
    - lcore: 1
      rx: [inside:0, outside:0]
  idle: poll
  mbufs: 16383
  tables: {inbound_SPI: $((sas + 1024)), outbound_SPI: 1024}
ports:
  - name: inside
    device: "net_pcap0,rx_pcap=$work/inside.pcap,infinite_rx=1,tx_pcap=/dev/null"
    role: inside
    addresses: [10.1.0.1/24]
    mac: "02:00:00:00:00:01"
  - name: outside
    device: "net_pcap1,rx_pcap=$work/outside.pcap,tx_pcap=/dev/null"
    role: outside
    addresses: [192.0.2.1/24]
    mac: "02:00:00:00:00:02"
sas:
  - {name: out, direction: outbound, spi: 0x1000, algorithm: aes128gcm, key: 0x000102030405060708090a0b0c0d0e0f10111213, local: 192.0.2.1, remote: 192.0.2.2}
policies:
  - {local: 10.1.0.0/24, remote: 10.2.0.0/16, action: protect, outbound_sa: out}
YAML

"$root/build/dataplane/dpvpn-dataplane" --no-huge -m 2048 --no-shconf --no-pci --no-telemetry \
  --file-prefix "dpvpn-sa-push-$$" -l 0,1 --log-level lib.eal:error -- \
  --config "$work/dp.yaml" --grpc-socket "$work/agent.sock" >"$work/dp.log" 2>&1 &
dp_pid=$!
for _ in $(seq 100); do [ -S "$work/agent.sock" ] && break; sleep 0.1; done
[ -S "$work/agent.sock" ] || { cat "$work/dp.log"; echo "bench-sa-push: the dataplane did not start" >&2; exit 1; }
sleep 1  # let the worker reach its steady rate
# The client runs on lcore 0's core (with the agent and its gRPC threads): lcore 1 is the forwarding
# worker's alone, as on an appliance where the control plane never shares a worker core.
taskset -c 0 "$root/build/bench/dpvpn-bench-sa-push" --socket "$work/agent.sock" --sas "$sas" --batch "$batch"
