#!/usr/bin/python3
"""802.1Q on the inside port (VLAN 100): tagged ARP and traffic are served and come back tagged,
untagged or wrongly tagged frames are dropped and counted; the outside stays untagged.
usage: test_vlan.py path/to/dpvpn-dataplane"""
import sys

from scapy.all import ARP, IP, UDP, Dot1Q, Ether, Raw

import dpvpn_pcap as dp


def main(binary):
    out_sa = dp.Sa("out", "outbound", 0x1000, "aes256gcm", "192.0.2.1", "192.0.2.2")
    in_sa = dp.Sa("in", "inbound", 0x2000, "aes256gcm", "192.0.2.1", "192.0.2.2")
    config = dp.base_config([out_sa, in_sa], '  - {local: 10.1.0.0/24, remote: 10.2.0.0/24, action: protect, '
                                             'outbound_sa: out, inbound_sa: in}', inside_vlan=100)
    tagged = Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) / Dot1Q(vlan=100)
    learn = Ether(src=dp.HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=100) / ARP(
        op=2, hwsrc=dp.HOST_MAC, psrc="10.1.0.5", hwdst=dp.HOST_MAC, pdst="10.1.0.5")
    inside_in = [
        learn,
        Ether(src=dp.HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=100) / ARP(op=1, hwsrc=dp.HOST_MAC,
                                                                               psrc="10.1.0.5", pdst="10.1.0.1"),
        tagged / IP(src="10.1.0.5", dst="10.2.0.9") / UDP(sport=1, dport=2) / Raw(b"tagged"),
        Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) / IP(src="10.1.0.5", dst="10.2.0.9") / UDP() / b"untagged",
        Ether(src=dp.HOST_MAC, dst=dp.INSIDE_MAC) / Dot1Q(vlan=101) / IP(src="10.1.0.5", dst="10.2.0.9") / UDP(),
    ]
    # Two replies to one host, both to come back tagged. (Both wait for 10.1.0.5's MAC, learned on the
    # inside, so they leave through the hold queue: the per-burst header memo is not exercised here.)
    replies = [b"reply", b"reply2"]
    backs = [dp.encrypt_from_peer(in_sa, IP(src="10.2.0.9", dst="10.1.0.5") / UDP(sport=3, dport=4) / Raw(r),
                                  "192.0.2.2", "192.0.2.1", seq) for seq, r in enumerate(replies, 1)]
    outside_in = [dp.garp(dp.PEER_MAC, "192.0.2.2")] + [Ether(src=dp.PEER_MAC, dst=dp.OUTSIDE_MAC) / b for b in backs]
    out_inside, out_outside, stats, log = dp.run_dataplane(binary, config, inside_in, outside_in)
    failures = []
    arp = [p for p in out_inside if ARP in p and p[ARP].op == 2]
    if len(arp) != 1 or Dot1Q not in arp[0] or arp[0][Dot1Q].vlan != 100:
        failures.append(f"ARP reply on VLAN 100: {[p.summary() for p in arp]}")
    esp = [p for p in out_outside if IP in p and p[IP].proto == 50]
    if len(esp) != 1 or Dot1Q in esp[0]:
        failures.append(f"one untagged ESP packet on the outside: {len(esp)}")
    elif bytes(dp.decrypt_from_dpvpn(out_sa, esp[0])[UDP].payload) != b"tagged":
        failures.append("the tagged packet did not come through the tunnel")
    delivered = [p for p in out_inside if UDP in p and p[UDP].sport == 3]
    if [bytes(p[UDP].payload) for p in delivered] != replies or \
            any(Dot1Q not in p or p[Dot1Q].vlan != 100 or p[Ether].dst != dp.HOST_MAC for p in delivered):
        failures.append(f"decrypted replies delivered on VLAN 100: {[p.summary() for p in delivered]}")
    if stats["drops"]["vlan_mismatch"] != 2:
        failures.append(f"vlan_mismatch {stats['drops']['vlan_mismatch']}, want 2")
    return dp.finish(failures, log, "OK: VLAN 100 served tagged, untagged and VLAN 101 frames dropped and counted")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
