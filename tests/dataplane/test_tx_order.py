#!/usr/bin/python3
"""Packets leave in the order they came, with the right Ethernet header, when the worker hands runs of
them to a port's TX buffer together (Worker::TxRun): after ESP, packets whose next hop the burst's memo
holds are collected and added to the buffer at once, and a packet to another neighbour sends the run
first. Outbound: two tunnels to two peers on the outside link, packets in blocks of 1-13 per tunnel;
inbound: ESP from both peers, the decrypted packets to two inside hosts in blocks of other lengths. The
TX buffer then holds packets sent one by one when a run arrives, and with some packets dropped (a bad
checksum outbound, a replay inbound) bursts leave fewer than 32, so runs are split over a full buffer.
Every packet must come out once, in input order across tunnels and hosts, to its own neighbour's MAC
(a stale memo would give the other one's), decryptable (outbound), and the ports' tx counters must equal
the packets written.
usage: test_tx_order.py path/to/dpvpn-dataplane"""
import sys

from scapy.all import IP, UDP, Ether, Raw

import dpvpn_pcap as dp

PACKETS = 240
PEERS = [("192.0.2.2", "02:00:00:00:02:02"), ("192.0.2.3", "02:00:00:00:02:03")]
HOSTS = [("10.1.0.5", dp.HOST_MAC), ("10.1.0.6", "02:00:00:00:01:06")]


def blocks(lengths, total):
    """Which of two targets each of `total` packets goes to: blocks of the given lengths, alternating."""
    out, k = [], 0
    while len(out) < total:
        out += [k % 2] * lengths[k % len(lengths)]
        k += 1
    return out[:total]


def main(binary):
    sas, policies = [], []
    for t, (peer, _) in enumerate(PEERS):
        sas.append(dp.Sa(f"o{t}", "outbound", 0x1000 + t, "aes128gcm", "192.0.2.1", peer))
        sas.append(dp.Sa(f"i{t}", "inbound", 0x2000 + t, "aes128gcm", "192.0.2.1", peer))
        policies.append(f"  - {{local: 10.1.0.0/24, remote: 10.{2 + t}.0.0/24, action: protect, "
                        f"outbound_sa: o{t}, inbound_sa: i{t}}}")
    neighbors = "".join(f'  - port: outside\n    address: {a}\n    mac: "{m}"\n' for a, m in PEERS)
    neighbors += "".join(f'  - port: inside\n    address: {a}\n    mac: "{m}"\n' for a, m in HOSTS)
    config = dp.base_config(sas, "\n".join(policies)) + "neighbors:\n" + neighbors

    out_tunnel = blocks([1, 4, 2, 7, 3, 13, 5, 9], PACKETS)
    inside_in = []
    for i, t in enumerate(out_tunnel):
        pkt = (Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) / IP(src="10.1.0.5", dst=f"10.{2 + t}.0.9") /
               UDP(sport=1000, dport=2000) / Raw(f"out {i}".encode()))
        inside_in.append(pkt)
        if i % 5 == 4:  # and one dropped (bad IPv4 checksum): bursts then leave fewer than 32
            bad = pkt.copy()
            bad[IP].chksum = 1
            inside_in.append(bad)
    in_tunnel = blocks([3, 1, 8, 2, 11, 6], PACKETS)
    in_host = blocks([5, 2, 1, 9, 4], PACKETS)
    outside_in, seq = [], [0, 0]
    for i, (t, h) in enumerate(zip(in_tunnel, in_host)):
        seq[t] += 1
        inner = IP(src=f"10.{2 + t}.0.9", dst=HOSTS[h][0]) / UDP(sport=2000, dport=1000) / Raw(f"in {i}".encode())
        esp = dp.encrypt_from_peer(sas[2 * t + 1], inner, PEERS[t][0], "192.0.2.1", seq[t])
        outside_in.append(Ether(src=PEERS[t][1], dst=dp.OUTSIDE_MAC) / esp)
        if i % 6 == 5:
            outside_in.append(outside_in[-1])  # and replayed (dropped)

    out_inside, out_outside, stats, log = dp.run_dataplane(binary, config, inside_in, outside_in)
    failures = []

    esp = [p for p in out_outside if IP in p and p[IP].proto == 50]
    if len(esp) != PACKETS:
        failures.append(f"{len(esp)} ESP packets out, want {PACKETS}")
    for i, (pkt, t) in enumerate(zip(esp, out_tunnel)):
        peer, mac = PEERS[t]
        if pkt[IP].dst != peer or pkt[Ether].dst != mac or pkt[Ether].src != dp.OUTSIDE_MAC:
            failures.append(f"ESP packet {i}: {pkt[Ether].dst} / {pkt[IP].dst}, want {mac} / {peer} (tunnel {t})")
            continue
        try:
            payload = bytes(dp.decrypt_from_dpvpn(sas[2 * t], pkt)[UDP].payload)
        except Exception as e:
            failures.append(f"ESP packet {i}: not decryptable with tunnel {t}'s SA ({e})")
            continue
        if payload != f"out {i}".encode():
            failures.append(f"ESP packet {i}: carries {payload!r}, want 'out {i}'")

    clear = [p for p in out_inside if IP in p and UDP in p and p[UDP].sport == 2000]
    if len(clear) != PACKETS:
        failures.append(f"{len(clear)} decrypted packets out, want {PACKETS}")
    for i, (pkt, h) in enumerate(zip(clear, in_host)):
        host, mac = HOSTS[h]
        payload = bytes(pkt[UDP].payload)
        if payload != f"in {i}".encode() or pkt[IP].dst != host or pkt[Ether].dst != mac:
            failures.append(f"decrypted packet {i}: {payload!r} to {pkt[Ether].dst} / {pkt[IP].dst}, "
                            f"want 'in {i}' to {mac} / {host}")

    drops = stats["drops"]
    if drops["ipv4_bad_checksum"] != PACKETS // 5 or drops["esp_replay_duplicate"] != PACKETS // 6:
        failures.append(f"drops: ipv4_bad_checksum {drops['ipv4_bad_checksum']}, want {PACKETS // 5}; "
                        f"esp_replay_duplicate {drops['esp_replay_duplicate']}, want {PACKETS // 6}")
    for name, written in (("outside", out_outside), ("inside", out_inside)):
        if stats["ports"][name]["tx"] != len(written):
            failures.append(f"port {name}: tx counter {stats['ports'][name]['tx']}, {len(written)} packets written")
    return dp.finish(failures[:20], log,
                     f"OK: {PACKETS} ESP packets over 2 tunnels and {PACKETS} decrypted to 2 hosts, "
                     "in order, each to its neighbour's MAC; tx counters match")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
