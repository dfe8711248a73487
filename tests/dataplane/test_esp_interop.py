#!/usr/bin/python3
"""dpvpn-dataplane against scapy's ESP, every combination in one run: 5 algorithms x ESN on/off x
NAT-T on/off x IPv4/IPv6 outer x IPv4/IPv6 inner. Outbound: clear packets in on the inside, dpvpn's
ESP out of the outside is decrypted by scapy and must equal the input (TTL - 1). Inbound: scapy's
ESP in on the outside, dpvpn's clear packets out of the inside must equal scapy's inner packets
(TTL - 1). Also: a duplicate and a tampered packet per algorithm are dropped and counted exactly.
usage: test_esp_interop.py path/to/dpvpn-dataplane"""
import itertools
import sys

from scapy.all import IP, IPv6, UDP, Ether, Raw
from scapy.layers.ipsec import ESP

import dpvpn_pcap as dp

SIZES = (1, 200, 1300)


def combos():
    out = []
    for k, (alg, esn, natt, outer6, inner6) in enumerate(
            itertools.product(dp.ALGORITHMS, (False, True), (False, True), (False, True), (False, True))):
        out.append(dict(k=k, alg=alg, esn=esn, natt=natt, outer6=outer6, inner6=inner6))
    return out


def addresses(c):
    k = c["k"]
    local, remote = ("2001:db8::1", "2001:db8::2") if c["outer6"] else ("192.0.2.1", "192.0.2.2")
    if c["inner6"]:
        return local, remote, "fd01::/64", f"fd02:0:0:{k:x}::/64", "fd01::5", f"fd02:0:0:{k:x}::9"
    return local, remote, "10.1.0.0/24", f"10.2.{k}.0/24", "10.1.0.5", f"10.2.{k}.9"


def inner_packet(src, dst, k, size, ttl=64):
    l3 = IPv6(src=src, dst=dst, hlim=ttl) if ":" in src else IP(src=src, dst=dst, ttl=ttl)
    return l3 / UDP(sport=1000 + k, dport=2000) / Raw(bytes((k + i) & 0xFF for i in range(size)))


def after_hop(pkt):
    """The same IP packet one router later: TTL/hop limit - 1, checksums recomputed."""
    p = pkt.copy()
    if IP in p:
        p[IP].ttl -= 1
        del p[IP].chksum
    else:
        p[IPv6].hlim -= 1
    return p.__class__(bytes(p))


def main(binary):
    cs = combos()
    sas, policies = [], []
    for c in cs:
        local, remote, lnet, rnet, _, _ = addresses(c)
        c["out"] = dp.Sa(f"o{c['k']}", "outbound", 0x1000 + c["k"], c["alg"], local, remote, c["esn"], c["natt"])
        c["in"] = dp.Sa(f"i{c['k']}", "inbound", 0x2000 + c["k"], c["alg"], local, remote, c["esn"], c["natt"])
        sas += [c["out"], c["in"]]
        policies.append(f'  - {{local: "{lnet}", remote: "{rnet}", action: protect, '
                        f'outbound_sa: o{c["k"]}, inbound_sa: i{c["k"]}}}')
    config = dp.base_config(sas, "\n".join(policies))

    inside_in = [dp.garp(dp.HOST_MAC, "10.1.0.5"), dp.garp(dp.HOST_MAC, "fd01::5")]
    outside_in = [dp.garp(dp.PEER_MAC, "192.0.2.2"), dp.garp(dp.PEER_MAC, "2001:db8::2")]
    expected_out, expected_in = {}, {}
    for c in cs:
        local, remote, _, _, host, far = addresses(c)
        expected_out[c["out"].spi] = []
        expected_in[c["k"]] = []
        for seq, size in enumerate(SIZES, start=1):
            clear = inner_packet(host, far, c["k"], size)
            inside_in.append(Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) / clear)
            expected_out[c["out"].spi].append(bytes(after_hop(clear)))
            back = inner_packet(far, host, c["k"], size)
            esp = dp.encrypt_from_peer(c["in"], back, remote, local, seq)
            outside_in.append(Ether(src=dp.PEER_MAC, dst=dp.OUTSIDE_MAC) / esp)
            expected_in[c["k"]].append(bytes(after_hop(back)))
    # Per algorithm (IPv4/IPv4, no ESN, no NAT-T): a replay of seq 1 and a packet with a flipped byte.
    negatives = [c for c in cs if not (c["esn"] or c["natt"] or c["outer6"] or c["inner6"])]
    for c in negatives:
        local, remote, _, _, host, far = addresses(c)
        dup = dp.encrypt_from_peer(c["in"], inner_packet(far, host, c["k"], SIZES[0]), remote, local, 1)
        outside_in.append(Ether(src=dp.PEER_MAC, dst=dp.OUTSIDE_MAC) / dup)
        bad = bytearray(bytes(dp.encrypt_from_peer(c["in"], inner_packet(far, host, c["k"], 64), remote, local, 10)))
        bad[-20] ^= 0x01  # inside the ciphertext
        outside_in.append(Ether(src=dp.PEER_MAC, dst=dp.OUTSIDE_MAC) / IP(bytes(bad)))

    out_inside, out_outside, stats, log = dp.run_dataplane(binary, config, inside_in, outside_in)
    failures = []

    # Outbound: group dpvpn's ESP by SPI, decrypt with scapy, compare in order.
    got_out = {}
    for pkt in out_outside:
        if ESP not in pkt and not (UDP in pkt and pkt[UDP].dport == 4500):
            continue
        if pkt[Ether].dst != dp.PEER_MAC or pkt[Ether].src != dp.OUTSIDE_MAC:
            failures.append(f"outbound frame with wrong MACs {pkt[Ether].src} -> {pkt[Ether].dst}")
        got_out.setdefault(None, []).append(pkt)
    by_spi = {}
    for pkt in got_out.get(None, []):
        esp_bytes = dp.esp_layer_bytes(pkt)
        spi = int.from_bytes(esp_bytes[0:4], "big")
        seq = int.from_bytes(esp_bytes[4:8], "big")
        by_spi.setdefault(spi, []).append((seq, pkt))
    for c in cs:
        sa = c["out"]
        got = sorted(by_spi.get(sa.spi, []), key=lambda t: t[0])
        want = expected_out[sa.spi]
        label = f"outbound {c}"
        if [s for s, _ in got] != list(range(1, len(want) + 1)):
            failures.append(f"{label}: sequence numbers {[s for s, _ in got]}")
            continue
        for (seq, pkt), exp in zip(got, want):
            outer = pkt[IP] if IP in pkt else pkt[IPv6]
            if outer.src != sa.local or outer.dst != sa.remote:
                failures.append(f"{label}: outer {outer.src} -> {outer.dst}")
            if sa.natt != (UDP in outer and outer[UDP].dport == 4500 and outer[UDP].sport == 4500):
                failures.append(f"{label}: NAT-T encapsulation wrong")
            try:
                inner = dp.decrypt_from_dpvpn(sa, pkt)
            except Exception as e:  # scapy raises on a bad ICV
                failures.append(f"{label} seq {seq}: scapy could not decrypt: {e}")
                continue
            if bytes(inner) != exp:
                failures.append(f"{label} seq {seq}: inner differs\n  got  {bytes(inner).hex()}\n  want {exp.hex()}")

    # Inbound: dpvpn's clear output on the inside, by the UDP source port (1000 + k).
    got_in = {}
    for pkt in out_inside:
        if UDP not in pkt:
            continue
        if pkt[Ether].dst != dp.HOST_MAC:
            failures.append(f"inbound frame to {pkt[Ether].dst}")
        l3 = pkt[IP] if IP in pkt else pkt[IPv6]
        got_in.setdefault(pkt[UDP].sport - 1000, []).append(bytes(l3))
    for c in cs:
        # Order may differ: packets that waited for the host's MAC leave after later ones that did not.
        got, want = sorted(got_in.get(c["k"], [])), sorted(expected_in[c["k"]])
        if got != want:
            detail = "".join(f"\n  got  {g.hex()}\n  want {w.hex()}" for g, w in zip(got, want) if g != w)
            failures.append(f"inbound {c['alg']} esn={c['esn']} natt={c['natt']} outer6={c['outer6']} "
                            f"inner6={c['inner6']}: got {len(got)} packets, want {len(want)} identical ones{detail}")

    # Exact counters.
    drops = stats["drops"]
    n = len(negatives)
    checks = {"esp_replay_duplicate": n, "esp_auth_failed": n, "unknown_spi": 0, "esp_replay_too_old": 0}
    for name, want in checks.items():
        if drops.get(name) != want:
            failures.append(f"drops.{name} = {drops.get(name)}, want {want}")
    if stats["encrypted"] != len(cs) * len(SIZES) or stats["decrypted"] != len(cs) * len(SIZES):
        failures.append(f"encrypted {stats['encrypted']} decrypted {stats['decrypted']}, want {len(cs) * len(SIZES)}")
    lcore = stats["lcores"][0]  # the one worker saw everything
    if lcore["encrypted"] != stats["encrypted"] or lcore["decrypted"] != stats["decrypted"]:
        failures.append(f"per-lcore counters {lcore} disagree with the totals")
    if stats["connections_created"] != 2 * len(cs):  # one flow each way per combination
        failures.append(f"connections_created {stats['connections_created']}, want {2 * len(cs)}")
    per_sa = {s["name"]: s for s in stats["sas"]}
    for c in negatives:
        s = per_sa[c["in"].name]
        if s["replay_drops"] != 1 or s["auth_failures"] != 1 or s["packets"] != len(SIZES):
            failures.append(f"SA {c['in'].name}: {s}")

    if failures:
        print(log)
        print("\n".join(failures[:40]))
        print(f"FAILED: {len(failures)} problems")
        return 1
    print(f"OK: {len(cs)} combinations x {len(SIZES)} packets each way; "
          f"{n} replays and {n} tampered packets dropped and counted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
