#!/usr/bin/python3
"""Remote access: inside traffic to several clients, each its own tunnel to its own peer address, all
behind one gateway (a route via 192.0.2.2, a static neighbour). Every ESP packet must leave to the
gateway's MAC, from the right SA, decryptable by scapy, each client's packets in the order sent; the
worker reuses the previous packet's Ethernet header for a new peer behind the same next hop. Bursts
after the first change tunnel at almost every packet, so the worker defers their outbound_SPI lookups
to one bulk lookup per burst (encrypt_deferred); runs of two packets to one client share a lookup.
usage: test_many_peers.py path/to/dpvpn-dataplane"""
import sys

from scapy.all import IP, UDP, Ether, Raw

import dpvpn_pcap as dp

CLIENTS = 6
ROUNDS = 12


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
    # Round robin over the clients, 12 rounds (several 32-packet bursts): consecutive packets go to
    # another peer, except that every other turn a client gets two packets in a row.
    sent = {c: [] for c in range(CLIENTS)}
    inside_in = []
    for r in range(ROUNDS):
        for c in range(CLIENTS):
            for k in range(1 + (r + c) % 2):
                payload = f"client {c} round {r} packet {k}".encode()
                sent[c].append(payload)
                inside_in.append(Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) /
                                 IP(src="10.1.0.5", dst=f"10.128.0.{c + 1}") /
                                 UDP(sport=1000 + r, dport=53) / Raw(payload))
    out_inside, out_outside, stats, log = dp.run_dataplane(binary, config, inside_in, [])
    failures = []
    esp = [p for p in out_outside if IP in p and p[IP].proto == 50]
    if len(esp) != len(inside_in):
        failures.append(f"{len(esp)} ESP packets out, want {len(inside_in)}")
    got = {c: [] for c in range(CLIENTS)}
    for i, pkt in enumerate(esp):
        if pkt[Ether].dst != dp.PEER_MAC or pkt[Ether].src != dp.OUTSIDE_MAC:
            failures.append(f"packet {i}: Ethernet {pkt[Ether].src} -> {pkt[Ether].dst}")
        peers = [c for c in range(CLIENTS) if pkt[IP].dst == f"100.64.0.{c + 1}"]
        if not peers:
            failures.append(f"packet {i}: to {pkt[IP].dst}, not a client's peer")
            continue
        c = peers[0]
        try:
            inner = dp.decrypt_from_dpvpn(sas[2 * c], pkt)
        except Exception as e:  # another SA's key or SPI: scapy refuses it
            failures.append(f"packet {i} to client {c}: not decryptable with its SA ({e})")
            continue
        got[c].append(bytes(inner[UDP].payload))
    for c in range(CLIENTS):
        if got[c] != sent[c]:
            k = next((k for k, (a, b) in enumerate(zip(got[c], sent[c])) if a != b), min(len(got[c]), len(sent[c])))
            failures.append(f"client {c}: {len(got[c])} packets, want {len(sent[c])}; from packet {k} got "
                            f"{got[c][k:k + 2]}, want {sent[c][k:k + 2]}")
    return dp.finish(failures, log,
                     f"OK: {len(esp)} ESP packets to {CLIENTS} peers through one gateway, "
                     "all to its MAC, decryptable and in order per client")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
