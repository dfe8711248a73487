#!/usr/bin/env bash
# Lookup benchmark: inbound_SPI bulk lookups through dpvpn's KernelTable next to raw
# rte_hash_lookup_bulk on the same keys, 1 / 10k / 100k / 1M entries. Uses 2 MB hugepages when it
# can reserve them (as root), else runs without (slower at 1M entries: TLB misses).
#   scripts/bench-tables.sh [-- --entries 1,1000000 --trials 9 --lookups 16777216]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
[ "${1:-}" = "--" ] && shift

eal=(--no-shconf --file-prefix "dpvpn-bench-$$" --no-pci --no-telemetry -l 1 --log-level lib.eal:error)
if [ "$(id -u)" -eq 0 ]; then
  [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 512 ] || echo 512 > /proc/sys/vm/nr_hugepages || true
  mountpoint -q /dev/hugepages || { mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages; } || true
fi
if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -ge 450 ] && mountpoint -q /dev/hugepages; then
  eal+=(-m 900 --huge-unlink)
  echo "memory: 2 MB hugepages"
else
  eal+=(--no-huge -m 2048)
  echo "memory: no hugepages (4 KB pages)"
fi
"$root/build/bench/dpvpn-bench-tables" "${eal[@]}" -- "$@"
