#!/usr/bin/env bash
# The main job, for now: every dpvpn kernel table, live in DPDK memory (no NIC, no hugepages),
# holding a sample tunnel, shown the way operators read them (`fw tab` flags). When the dataplane
# lands, this script brings up a real tunnel instead.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
tab="$root/build/dataplane/dpvpn-tab-demo"

show() {
  echo
  echo "\$ dpvpn-tab-demo $*"
  "$tab" "$@"
}
echo "dpvpn kernel tables: a tunnel 192.0.2.1 <-> 203.0.113.7 (10.1.0.0/16 <-> 10.2.0.0/16), an IPv6 peer"
show -s
show -t inbound_SPI
show -t inbound_SPI -r
show -t connections -f -r
show -t vpn_routing -r
show -t 10 -r
show -t connections -m 1
echo
echo "... and 60 seconds later the UDP flow (40 s idle timeout) has aged out:"
show --age 60 -t connections -r
echo
echo "\$ dpvpn-tab-demo -t no_such_table"
"$tab" -t no_such_table || true
