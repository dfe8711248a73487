#!/usr/bin/python3
"""Remote access: one burst of inside traffic to several clients, each its own tunnel to its own peer
address, all behind one gateway (a route via 192.0.2.2, a static neighbour). Every ESP packet must
leave to the gateway's MAC, from the right SA, decryptable by scapy; the worker reuses the previous
packet's Ethernet header for a new peer behind the same next hop.
usage: test_many_peers.py path/to/dpvpn-dataplane"""
import sys

from scapy.all import IP, UDP, Ether, Raw

import dpvpn_pcap as dp

CLIENTS = 6


def main(binary):
    sas, policies = [], []
    for c in range(CLIENTS):
        peer = f"100.64.0.{c + 1}"
        sas.append(dp.Sa(f"o{c}", "outbound", 0x1000 + c, "aes128gcm", "192.0.2.1", peer))
        sas.append(dp.Sa(f"i{c}", "inbound", 0x2000 + c, "aes128gcm", "192.0.2.1", peer))
        policies.append(f"  - {{local: 10.1.0.0/24, remote: 10.128.0.{c + 1}/32, action: protect, "
                        f"outbound_sa: o{c}, inbound_sa: i{c}}}")
    config = dp.base_config(sas, "\n".join(policies)) + f"""routes:
  - prefix: 100.64.0.0/10
    via: 192.0.2.2
    port: outside
neighbors:
  - port: outside
    address: 192.0.2.2
    mac: "{dp.PEER_MAC}"
  - port: inside
    address: 10.1.0.5
    mac: "{dp.HOST_MAC}"
"""
    # Round robin over the clients, twice: consecutive packets always go to another peer.
    inside_in = [Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) / IP(src="10.1.0.5", dst=f"10.128.0.{c + 1}") /
                 UDP(sport=1000 + r, dport=53) / Raw(f"client {c} round {r}".encode())
                 for r in range(2) for c in range(CLIENTS)]
    out_inside, out_outside, stats, log = dp.run_dataplane(binary, config, inside_in, [])
    failures = []
    esp = [p for p in out_outside if IP in p and p[IP].proto == 50]
    if len(esp) != len(inside_in):
        failures.append(f"{len(esp)} ESP packets out, want {len(inside_in)}")
    for i, (sent, got) in enumerate(zip(inside_in, esp)):
        c = i % CLIENTS
        if got[Ether].dst != dp.PEER_MAC or got[Ether].src != dp.OUTSIDE_MAC:
            failures.append(f"packet {i}: Ethernet {got[Ether].src} -> {got[Ether].dst}")
        if got[IP].dst != f"100.64.0.{c + 1}":
            failures.append(f"packet {i}: to {got[IP].dst}, want 100.64.0.{c + 1}")
            continue
        inner = dp.decrypt_from_dpvpn(sas[2 * c], got)
        if bytes(inner[UDP].payload) != bytes(sent[UDP].payload):
            failures.append(f"packet {i}: wrong payload {bytes(inner[UDP].payload)!r}")
    return dp.finish(failures, log,
                     f"OK: {len(esp)} ESP packets to {CLIENTS} peers through one gateway, "
                     "all to its MAC and decryptable")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
