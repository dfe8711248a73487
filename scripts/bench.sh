#!/usr/bin/env bash
# IPsec throughput benchmark: dpvpn-dataplane vs DPDK's ipsec-secgw vs a crypto-only ceiling, on one
# worker lcore, same machine, same run, same traffic and the same SA.
#   scripts/bench.sh --quick     outbound + inbound x 64 / 1420-byte inner packets, AES-GCM-128, 1 SA
#   scripts/bench.sh             the matrix: outbound + inbound x 64/256/512/1420 B x AES-GCM-128 and
#                                AES-CBC-128+HMAC-SHA-256 x 1 SA / 1000 SAs / 100k SAs with 1M flows
#   scripts/bench.sh [--runs N] [--sizes 64,1420] [--dirs outbound,inbound] [--algs aes128gcm,aes128cbc-sha256]
#                    [--scales 1,1000,100000:1000000] [--lcores 1,2] [--no-gate] [--feed ring|pcap] [--window SECONDS]
# (--scales: SA pairs[:flows]. --lcores 2: the 1- vs 2-lcore scaling of dpvpn, ipsec-secgw and testpmd, AES-GCM,
# --dirs x --sizes, each worker reading its traffic from a pcap, as the ring feed would need a third CPU:
# bench/scaling.py; the default 1,2 runs the matrix and then the scaling; --quick is 1 lcore only.)
#
# Traffic feed (--feed): ring (default) = dpvpn-bench-feed, a DPDK secondary process on the other CPU
# that writes the traffic into each gateway's net_ring RX ring (inbound ESP encrypted on the fly with
# increasing sequence numbers); needs hugepages (without them the pcap feed is used, with a note).
# pcap = both gateways read scapy-built pcaps through net_pcap (the method until 2026-11; its RX costs
# the gateway's worker most of its CPU inbound).
# Builds ipsec-secgw from /usr/share/dpdk/examples/ipsec-secgw (Debian's dpdk-doc) into
# build-bench/secgw (git-ignored), with one line patched so it starts on virtual devices (it insists on
# RX checksum offload, which net_pcap and net_ring lack). Pcaps are generated once into build-bench/pcaps
# (the correctness gate's and the ring feed's templates: a few MB; with --feed pcap also ~2.5 GB of
# single-pass inbound traffic).
# Prints a table and one `bench: ...` line per case; JSON (+ PNG with python3-matplotlib) in bench-results/.
# Environment: BUILD_DIR (default build), BENCH_SKIP_SETUP=1 (do not run scripts/setup.sh first),
# BENCH_PCAPS (pcap directory).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
bench_dir=$root/build-bench
pcaps=${BENCH_PCAPS:-$bench_dir/pcaps}

args=()
feed=ring
while (($#)); do
  case "$1" in
    --quick) args+=(--quick) ;;
    --runs | --sizes | --dirs | --algs | --scales | --lcores | --secgw-max-sas | --window) args+=("$1" "$2"); shift ;;
    --feed) feed=$2; shift ;;
    --no-gate) args+=(--no-gate) ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ "${BENCH_SKIP_SETUP:-0}" = 1 ] || "$root/scripts/setup.sh"
for bin in "$build_dir/dataplane/dpvpn-dataplane" "$build_dir/bench/dpvpn-bench-crypto" "$build_dir/bench/dpvpn-bench-feed"; do
  [ -x "$bin" ] || { echo "bench.sh: $bin is missing (build first: scripts/setup.sh)" >&2; exit 1; }
done

# ipsec-secgw, built at benchmark time from the installed example sources (never vendored).
examples=/usr/share/dpdk/examples
secgw=$bench_dir/secgw/src/ipsec-secgw/build/ipsec-secgw
stamp=$bench_dir/secgw/built-from
want="$(dpkg-query -W -f='${Version}' dpdk-doc 2>/dev/null || echo unknown)"
if [ ! -x "$secgw" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -d "$examples/ipsec-secgw" ] || { echo "bench.sh: $examples/ipsec-secgw missing (Debian package dpdk-doc)" >&2; exit 1; }
  echo "bench: building ipsec-secgw from $examples (dpdk-doc $want) into $bench_dir/secgw"
  rm -rf "$bench_dir/secgw"
  mkdir -p "$bench_dir/secgw/src"
  cp -r "$examples/ipsec-secgw" "$examples/common" "$bench_dir/secgw/src/"
  src=$bench_dir/secgw/src/ipsec-secgw/ipsec-secgw.c
  # Its port_conf requires RX checksum offload; virtual devices have none. Ask for no RX offload.
  sed -i 's|\.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,|.offloads = 0, /* dpvpn bench: vdevs have no RX checksum offload */|' "$src"
  grep -q "dpvpn bench: vdevs" "$src" || { echo "bench.sh: could not patch $src (the example changed?)" >&2; exit 1; }
  make -C "$bench_dir/secgw/src/ipsec-secgw" -j "$(nproc)" >"$bench_dir/secgw/make.log" 2>&1 ||
    { echo "bench.sh: building ipsec-secgw failed, see $bench_dir/secgw/make.log" >&2; exit 1; }
  echo "$want" >"$stamp"
fi

# 2 MB hugepages when we can reserve them (as root); otherwise 4 KB pages (slower, still comparable).
if [ "$(id -u)" -eq 0 ]; then
  # 3 GB: a case with 100k SAs gives each gateway 2 GB (Case.eal_mb in run_bench.py).
  [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1536 ] || echo 1536 >/proc/sys/vm/nr_hugepages || true
  mountpoint -q /dev/hugepages || { mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages; } || true
fi
if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -ge 300 ] && mountpoint -q /dev/hugepages; then
  args+=(--hugepages)
  echo "bench: memory: 2 MB hugepages"
else
  echo "bench: memory: no hugepages (4 KB pages)"
  if [ "$feed" = ring ]; then
    echo "bench: note: the ring feed needs hugepages (a DPDK secondary process): using --feed pcap"
    feed=pcap
  fi
fi
echo "bench: traffic feed: $feed"

exec /usr/bin/python3 "$root/bench/run_bench.py" --dpvpn "$build_dir/dataplane/dpvpn-dataplane" --secgw "$secgw" \
  --crypto "$build_dir/bench/dpvpn-bench-crypto" --testpmd "$(command -v dpdk-testpmd || true)" --feed "$feed" --feed-bin "$build_dir/bench/dpvpn-bench-feed" --pcaps "$pcaps" --results "$root/bench-results" "${args[@]}"
