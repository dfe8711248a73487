#!/usr/bin/python3
"""Inner packets too big for the outer link once encrypted (outside MTU 1400): IPv4 without DF is
fragmented before encryption (RFC 4459) and the peer (scapy) reassembles exactly the original;
IPv4 with DF gets ICMP "fragmentation needed" with the usable MTU, IPv6 gets ICMPv6 "packet too
big"; both errors quote the original packet. Clear packets over the inside MTU get the same.
usage: test_mtu.py path/to/dpvpn-dataplane"""
import sys

from scapy.all import ICMP, IP, IPv6, UDP, Ether, ICMPv6PacketTooBig, Raw, defragment

import dpvpn_pcap as dp

OUTER_MTU = 1400


def main(binary):
    out_sa = dp.Sa("out", "outbound", 0x1000, "aes128gcm", "192.0.2.1", "192.0.2.2")
    in_sa = dp.Sa("in", "inbound", 0x2000, "aes128gcm", "192.0.2.1", "192.0.2.2")
    policies = "\n".join([
        '  - {local: 10.1.0.0/24, remote: 10.2.0.0/24, action: protect, outbound_sa: out, inbound_sa: in}',
        '  - {local: "fd01::/64", remote: "fd02::/64", action: protect, outbound_sa: out, inbound_sa: in}'])
    config = dp.base_config([out_sa, in_sa], policies, outside_mtu=OUTER_MTU)
    # aes128gcm over IPv4, no NAT-T: 20 outer + 8 ESP + 8 IV + up to 3 pad + 2 trailer + 16 ICV = 57.
    limit = OUTER_MTU - 57
    host = Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC)
    big_v4 = IP(src="10.1.0.5", dst="10.2.0.9", flags=0, id=77) / UDP(sport=5, dport=6) / Raw(bytes(range(256)) * 6)
    df_v4 = IP(src="10.1.0.5", dst="10.2.0.9", flags="DF") / UDP(sport=7, dport=8) / Raw(b"d" * 1450)
    big_v6 = IPv6(src="fd01::5", dst="fd02::9") / UDP(sport=9, dport=10) / Raw(b"6" * 1400)
    fits = IP(src="10.1.0.5", dst="10.2.0.9", flags="DF") / UDP(sport=11, dport=12) / Raw(b"f" * (limit - 28))
    inside_in = [dp.garp(dp.HOST_MAC, "10.1.0.5"), dp.garp(dp.HOST_MAC, "fd01::5"),
                 host / big_v4, host / df_v4, host / big_v6, host / fits]
    outside_in = [dp.garp(dp.PEER_MAC, "192.0.2.2")]
    out_inside, out_outside, stats, log = dp.run_dataplane(binary, config, inside_in, outside_in)

    failures = []
    esp = [p for p in out_outside if IP in p and p[IP].proto == 50]
    if any(len(p[IP]) > OUTER_MTU for p in esp):
        failures.append(f"ESP packet over the outer MTU: {[len(p[IP]) for p in esp]}")
    inner = [dp.decrypt_from_dpvpn(out_sa, p) for p in esp]
    fragments = [p for p in inner if IP in p and p[IP].id == 77]
    whole = defragment(fragments)
    expected = IP(bytes(big_v4))
    expected.ttl -= 1
    del expected.chksum
    expected = IP(bytes(expected))
    reassembled = [p for p in whole if IP in p and p[IP].id == 77 and not (p[IP].flags.MF or p[IP].frag)]
    if len(fragments) < 2:
        failures.append(f"expected the 1564-byte packet in >= 2 fragments, got {len(fragments)}")
    elif len(reassembled) != 1 or bytes(reassembled[0][IP].payload) != bytes(expected[IP].payload):
        failures.append("reassembled fragments differ from the original payload")
    fitting = [p for p in inner if UDP in p and p[UDP].sport == 11]
    if len(fitting) != 1:
        failures.append(f"the packet that fits: {len(fitting)} copies through the tunnel")

    errors4 = [p for p in out_inside if ICMP in p and p[ICMP].type == 3 and p[ICMP].code == 4]
    if len(errors4) != 1:
        failures.append(f"ICMP fragmentation-needed: {len(errors4)}")
    else:
        e = errors4[0]
        if e[IP].src != "10.1.0.1" or e[IP].dst != "10.1.0.5" or e[ICMP].nexthopmtu != limit:
            failures.append(f"ICMP error {e[IP].src}->{e[IP].dst} mtu {e[ICMP].nexthopmtu}, want mtu {limit}")
        quoted = bytes(e[ICMP].payload)
        if not quoted.startswith(bytes(df_v4)[:20 + 8][0:8]):
            failures.append("ICMP error does not quote the original header")
    errors6 = [p for p in out_inside if ICMPv6PacketTooBig in p]
    if len(errors6) != 1:
        failures.append(f"ICMPv6 packet too big: {len(errors6)}")
    else:
        e = errors6[0]
        # IPv6 outer is not used here (the SA is IPv4): the limit is the same 1343 bytes.
        if e[IPv6].src != "fd01::1" or e[IPv6].dst != "fd01::5" or e[ICMPv6PacketTooBig].mtu != limit:
            failures.append(f"PTB {e[IPv6].src}->{e[IPv6].dst} mtu {e[ICMPv6PacketTooBig].mtu}")
        if len(e[IPv6]) > 1280:
            failures.append(f"PTB is {len(e[IPv6])} bytes, over 1280")
    if stats["fragmented"] != 1 or stats["icmp_too_big"] != 2 or stats["drops"]["too_big"] != 2:
        failures.append(f"counters: fragmented {stats['fragmented']} icmp_too_big {stats['icmp_too_big']} "
                        f"too_big drops {stats['drops']['too_big']}")
    return dp.finish(failures, log,
                     f"OK: {len(fragments)} fragments reassembled by the peer; "
                     f"ICMP and ICMPv6 too-big with MTU {limit}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
