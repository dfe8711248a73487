#!/usr/bin/python3
"""Bad input to dpvpn-dataplane over net_pcap: each kind is dropped and counted by its reason,
local traffic is answered or punted, and the process stays up to print its stats.
usage: test_bad_input.py path/to/dpvpn-dataplane"""
import sys

from scapy.all import ARP, ICMP, IP, IPv6, UDP, Ether, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, Raw
from scapy.layers.ipsec import ESP

import dpvpn_pcap as dp


def main(binary):
    sa_in = dp.Sa("in", "inbound", 0x2000, "aes128gcm", "192.0.2.1", "192.0.2.2")
    sa_out = dp.Sa("out", "outbound", 0x1000, "aes128gcm", "192.0.2.1", "192.0.2.2")
    config = dp.base_config([sa_out, sa_in], '  - {local: 10.1.0.0/24, remote: 10.2.0.0/24, action: protect, '
                                              'outbound_sa: out, inbound_sa: in}')
    to_us = Ether(src=dp.PEER_MAC, dst=dp.OUTSIDE_MAC)
    good = dp.encrypt_from_peer(sa_in, IP(src="10.2.0.9", dst="10.1.0.5") / UDP() / Raw(b"x" * 40),
                                "192.0.2.2", "192.0.2.1", 1)
    raw_esp = bytes(good)

    def natt(seq, udp_len_delta=0):
        """The SA's ESP for seq in UDP 4500 (accepted whatever the SA's natt flag); a UDP length field
        off by udp_len_delta (the IP lengths right) is for the ESP stage to refuse."""
        esp = bytes(dp.encrypt_from_peer(sa_in, IP(src="10.2.0.9", dst="10.1.0.5") / UDP() / Raw(b"x" * 40),
                                         "192.0.2.2", "192.0.2.1", seq)[IP].payload)
        return to_us / IP(src="192.0.2.2", dst="192.0.2.1") / UDP(sport=4500, dport=4500,
                                                                   len=8 + len(esp) + udp_len_delta) / esp
    outside_in = [
        dp.garp(dp.PEER_MAC, "192.0.2.2"),
        Raw(bytes(to_us)[:10]),                                               # runt_frame
        to_us / IP(src="192.0.2.2", dst="192.0.2.1", proto=50) / raw_esp[20:32],   # esp_truncated
        to_us / IP(src="192.0.2.2", dst="192.0.2.1", proto=50) / (b"\x00\x00\x99\x99" + raw_esp[24:]),  # unknown_spi
        to_us / IP(src="192.0.2.2", dst="192.0.2.1", options=[b"\x01\x01\x01\x00"]) / ICMP(),  # ipv4_options
        to_us / IP(src="192.0.2.2", dst="192.0.2.1", flags="MF", proto=50) / raw_esp[20:],  # ip_fragment
        to_us / IP(bytes(IP(src="192.0.2.2", dst="192.0.2.1", chksum=0x1234) / ICMP())),  # ipv4_bad_checksum
        to_us / IP(src="192.0.2.2", dst="192.0.2.1") / UDP(sport=4500, dport=4500) / b"\xff",  # natt_keepalive
        to_us / IP(src="192.0.2.2", dst="192.0.2.1") / UDP(sport=500, dport=500) / (b"\x01" * 28),  # IKE punt
        to_us / IP(src="192.0.2.2", dst="192.0.2.1") / UDP(sport=4500, dport=4500) / (b"\x00" * 4 + b"\x02" * 28),
        Ether(src=dp.PEER_MAC, dst="ff:ff:ff:ff:ff:ff", type=0x0806) / (b"\x00\x07" + b"\x00" * 26),  # arp_malformed
        Ether(src=dp.PEER_MAC, dst=dp.OUTSIDE_MAC, type=0x88b5) / (b"\x00" * 40),  # unknown_ethertype
        to_us / IP(src="192.0.2.2", dst="192.0.2.1") / ICMP(type=8, id=7, seq=1) / b"ping",  # echo -> reply
        Ether(src=dp.PEER_MAC, dst=dp.OUTSIDE_MAC) / ARP(op=1, hwsrc=dp.PEER_MAC, psrc="192.0.2.2",
                                                         pdst="192.0.2.1"),  # ARP request -> reply
        to_us / good,                                                         # decrypted and delivered
        to_us / good,                                                         # replay
        natt(2),                                                              # ESP in UDP: delivered
        natt(3, udp_len_delta=4),                                             # esp_bad_outer_packet
    ]
    bad_pad = bytearray(bytes(good))
    outside_in.append(to_us / IP(bytes(bad_pad[:-20]) + bytes(20)))           # auth failure (ICV zeroed)
    inside_in = [
        dp.garp(dp.HOST_MAC, "10.1.0.5"),
        Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) / IPv6(src="fd01::5", dst="fd01::1") / ICMPv6EchoRequest(),
        Ether(src=dp.HOST_MAC, dst="33:33:ff:00:00:01") /
        IPv6(src="fd01::5", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt="fd01::1") /
        ICMPv6NDOptSrcLLAddr(lladdr=dp.HOST_MAC),                             # NS -> NA
        Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) / IP(src="10.1.0.5", dst="10.9.9.9", ttl=1) / UDP(),  # ttl_exceeded
        # never forwarded: limited broadcast, multicast, a link-local IPv6 source
        Ether(src=dp.HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / IP(src="10.1.0.5", dst="255.255.255.255") / UDP(),
        Ether(src=dp.HOST_MAC, dst="01:00:5e:00:00:fb") / IP(src="10.1.0.5", dst="224.0.0.251", ttl=4) / UDP(),
        Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) / IPv6(src="fe80::5", dst="fd02::9") / UDP(),
    ]
    out_inside, out_outside, stats, log = dp.run_dataplane(binary, config, inside_in, outside_in)
    drops = stats["drops"]
    want = {"runt_frame": 1, "esp_truncated": 1, "unknown_spi": 1, "ipv4_options": 1, "ip_fragment": 1,
            "ipv4_bad_checksum": 1, "natt_keepalive": 1, "arp_malformed": 1, "unknown_ethertype": 1,
            "esp_replay_duplicate": 1, "esp_auth_failed": 1, "ttl_exceeded": 1, "not_forwardable": 3,
            "esp_bad_outer_packet": 1}
    failures = [f"drops.{k} = {drops.get(k)}, want {v}" for k, v in want.items() if drops.get(k) != v]
    unexpected = {k: v for k, v in drops.items() if v and k not in want}
    if unexpected:
        failures.append(f"unexpected drops {unexpected}")
    if stats["ike_punted"] != 2:
        failures.append(f"ike_punted {stats['ike_punted']}, want 2 (UDP 500, UDP 4500 with the non-ESP marker)")
    if stats["forwarded_clear"] != 0:
        failures.append(f"forwarded_clear {stats['forwarded_clear']}, want 0")
    if stats["decrypted"] != 2:
        failures.append(f"decrypted {stats['decrypted']}, want 2 (ESP, ESP in UDP)")
    if stats["local_replies"] != 4:
        failures.append(f"local_replies {stats['local_replies']}, want 4 (ICMP echo, ARP, ICMPv6 echo, NA)")
    replies = [p for p in out_outside if ICMP in p and p[ICMP].type == 0 and p[IP].dst == "192.0.2.2"]
    arp_replies = [p for p in out_outside if ARP in p and p[ARP].op == 2 and p[ARP].psrc == "192.0.2.1"]
    if len(replies) != 1 or bytes(replies[0][ICMP].payload) != b"ping":
        failures.append(f"ICMP echo replies: {len(replies)}")
    if len(arp_replies) != 1 or arp_replies[0][ARP].hwsrc != dp.OUTSIDE_MAC:
        failures.append(f"ARP replies: {len(arp_replies)}")
    delivered = [p for p in out_inside if UDP in p and p[IP].dst == "10.1.0.5"]
    if len(delivered) != 2 or any(bytes(p[UDP].payload) != b"x" * 40 for p in delivered):
        failures.append(f"delivered inner packets: {len(delivered)}")
    return dp.finish(failures, log,
                     f"OK: {sum(want.values())} bad packets dropped by reason, 2 IKE punts, 4 local replies, "
                     "2 delivered")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
