#!/usr/bin/python3
"""Seed corpus for tests/fuzz/fuzz_packet.cpp: one Ethernet frame per file.

ESP packets are encrypted by scapy's SecurityAssociation with the fuzzer's four inbound SAs (same
SPIs, keys, addresses, ports), so they decrypt and reach the code after the ICV check; ESP whose
plaintext is chosen here (scapy's ciphers over a hand-made trailer: bad padding, next header 59 /
17 / 41-for-IPv4, an inner length past the payload, TFC padding, inner options and fragments),
since no mutation can reach those branches through a valid ICV; then tampered, truncated and
IKE/keepalive variants, ARP, neighbour discovery, echo, and frames cut short at every layer. Deterministic: rerunning rewrites the same files.

Usage: /usr/bin/python3 tests/fuzz/make_corpus.py [OUT_DIR]   (default: tests/fuzz/corpus)
Needs Debian's python3-scapy (and python3-cryptography, which scapy's ESP uses).
"""
import hashlib
import hmac
import os
import struct
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, \
    ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPOption_RR, IPv6, IPv6ExtHdrHopByHop, Raw, Dot1Q
from scapy.layers.ipsec import ESP, SecurityAssociation, _ESPPlain

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

OUR_MAC, PEER_MAC, PEER_MAC_DUP = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
SPI_BASE = 0x0D0C0B00
NATT_LOCAL, NATT_REMOTE = 4500, 14500
OUTER = {4: ("198.51.100.2", "192.0.2.1"), 6: ("2001:db8:ffff::2", "2001:db8::1")}  # peer -> us

# Must match kSaSpecs in fuzz_packet.cpp: (scapy crypt, key bytes incl. salt, scapy auth, esn, natt, outer).
SAS = [
    ("AES-GCM", 16 + 4, None, True, False, 4),
    ("AES-CBC", 32, "SHA2-256-128", False, True, 4),
    ("CHACHA20-POLY1305", 32 + 4, None, False, False, 6),
    ("AES-CBC", 32, "SHA2-256-128", True, True, 6),
]


def key_bytes(n, first):
    return bytes((first + j) & 0xFF for j in range(n))


def keys(i):
    crypt, klen, auth, _, _, _ = SAS[i]
    return key_bytes(klen, 0x10 * (i + 1)), key_bytes(32, 0x80 + 3 * i) if auth else b""


def ether(ip_bytes, v6, dup=False):
    return bytes(Ether(dst=OUR_MAC, src=PEER_MAC_DUP if dup else PEER_MAC, type=0x86DD if v6 else 0x0800)
                 / Raw(ip_bytes))


def outer_ip(v, payload, proto):
    src, dst = OUTER[v]
    if v == 4:
        return bytes(IP(src=src, dst=dst, proto=proto, id=0x4242, ttl=61) / Raw(payload))
    return bytes(IPv6(src=src, dst=dst, nh=proto, hlim=61) / Raw(payload))


def scapy_sa(i, seq_hi=0):
    crypt, _, auth, esn, _, v = SAS[i]
    key, auth_key = keys(i)
    src, dst = OUTER[v]
    tunnel = IP(src=src, dst=dst) if v == 4 else IPv6(src=src, dst=dst)
    return SecurityAssociation(ESP, spi=SPI_BASE + i, crypt_algo=crypt, crypt_key=key, auth_algo=auth,
                               auth_key=auth_key or None, tunnel_header=tunnel, esn_en=esn, esn=seq_hi)


def deterministic_iv(i, seq, seq_hi):
    return hashlib.sha256(b"iv %d %d %d" % (i, seq_hi, seq)).digest()[:16 if SAS[i][2] else 8]


def fix_esn_icv(i, esp, seq_hi):
    """RFC 4303 2.2.1: with ESN, seq_hi is under the HMAC; scapy leaves it out."""
    _, _, auth, esn, _, _ = SAS[i]
    if not (esn and auth):
        return esp
    return esp[:-16] + hmac.new(keys(i)[1], esp[:-16] + struct.pack("!I", seq_hi), hashlib.sha256).digest()[:16]


def esp_bytes(i, inner, seq, seq_hi=0):
    """ESP header .. ICV (no outer IP/UDP) for `inner` with SA i and sequence number seq_hi:seq."""
    sa = scapy_sa(i, seq_hi)
    sa.seq_num = seq
    raw = bytes(sa.encrypt(inner, iv=deterministic_iv(i, seq, seq_hi)))
    return fix_esn_icv(i, raw[20 if SAS[i][5] == 4 else 40:], seq_hi)


def esp_plain(i, data, nh=4, seq=1, padding=None, padlen=None, extra_pad=0):
    """ESP with a plaintext of our choosing (scapy's ciphers, our trailer): what a broken or
    malicious peer with the right keys could send. Padding is 1, 2, 3, ... to the block size
    (+ extra_pad bytes) unless `padding` is given; `padlen` defaults to its length."""
    _, _, auth, esn, _, _ = SAS[i]
    sa = scapy_sa(i)
    if padding is None:
        n = (-(len(data) + 2)) % (16 if auth else 4) + extra_pad
        padding = bytes(range(1, n + 1))
    esp = _ESPPlain(spi=SPI_BASE + i, seq=seq, iv=deterministic_iv(i, seq, 0), data=Raw(data), padding=padding,
                    padlen=len(padding) if padlen is None else padlen, nh=nh)
    esp = sa.crypt_algo.encrypt(sa, esp, sa.crypt_key, sa.crypt_icv_size, esn_en=esn, esn=0)
    sa.auth_algo.sign(esp, sa.auth_key)
    return fix_esn_icv(i, bytes(esp), 0)


def esp_frame(i, esp, dup=False, udp=None):
    """Outer IP (+ UDP 14500 -> 4500 when the SA does NAT-T, or `udp` says so) around `esp`."""
    _, _, _, _, natt, v = SAS[i]
    if udp if udp is not None else natt:
        return ether(outer_ip(v, bytes(UDP(sport=NATT_REMOTE, dport=NATT_LOCAL) / Raw(esp)), 17), v == 6, dup)
    return ether(outer_ip(v, esp, 50), v == 6, dup)


INNER4 = IP(src="10.0.0.5", dst="10.1.2.3", ttl=64, id=7) / UDP(sport=1111, dport=17) / Raw(b"fuzz inner v4 payload")
INNER4_TCP = IP(src="10.0.0.6", dst="10.1.0.9") / TCP(sport=40000, dport=443, flags="S")
INNER4_OFF_TS = IP(src="20.0.0.1", dst="10.1.2.3") / UDP(sport=1, dport=2) / Raw(b"not in the selectors")
INNER6 = IPv6(src="fd00::5", dst="fd01::3", hlim=64) / UDP(sport=2222, dport=53) / Raw(b"fuzz inner v6 payload!")
INNER6_ICMP = IPv6(src="fd00::7", dst="fd01::8") / ICMPv6EchoRequest(id=3, seq=4, data=b"ping6")


def bad_padding(i, data):
    """Padding of the right length (at least 4) for SA i whose second byte is not 2."""
    block = 16 if SAS[i][2] else 4
    pad = bytearray(range(1, (-(len(data) + 2)) % block + block + 1))
    pad[1] = 9
    return bytes(pad)


def corpus():
    out = {}
    # -- ESP that decrypts, per SA (sa<N> = the SPI's last byte).
    out["esp-sa0-gcm128-esn-v4-inner4"] = esp_frame(0, esp_bytes(0, INNER4, 1))
    out["esp-sa0-gcm128-esn-v4-inner6-dup"] = esp_frame(0, esp_bytes(0, INNER6, 2), dup=True)
    out["esp-sa0-gcm128-esn-seq-fffffffe"] = esp_frame(0, esp_bytes(0, INNER4_TCP, 0xFFFFFFFE))
    out["esp-sa0-gcm128-esn-in-udp"] = esp_frame(0, esp_bytes(0, INNER4, 5), udp=True)
    out["esp-sa1-cbc256-natt-v4-inner4"] = esp_frame(1, esp_bytes(1, INNER4, 1))
    out["esp-sa1-cbc256-natt-v4-inner6-dup"] = esp_frame(1, esp_bytes(1, INNER6_ICMP, 9), dup=True)
    out["esp-sa1-cbc256-not-in-udp"] = esp_frame(1, esp_bytes(1, INNER4_TCP, 3), udp=False)
    out["esp-sa2-chacha-v6-inner4-ts"] = esp_frame(2, esp_bytes(2, INNER4, 1))
    out["esp-sa2-chacha-v6-inner6-ts"] = esp_frame(2, esp_bytes(2, INNER6, 100))
    out["esp-sa2-chacha-v6-inner4-off-ts"] = esp_frame(2, esp_bytes(2, INNER4_OFF_TS, 4))
    out["esp-sa3-cbc256-esn-natt-v6-inner4"] = esp_frame(3, esp_bytes(3, INNER4, 1))
    out["esp-sa3-cbc256-esn-natt-v6-inner6-dup"] = esp_frame(3, esp_bytes(3, INNER6, 77), dup=True)
    # -- ESP whose ICV verifies but whose plaintext is wrong (or odd but fine).
    in4, in6 = bytes(INNER4), bytes(INNER6)
    out["esp-sa0-plain-bad-padding"] = esp_frame(0, esp_plain(0, in4, padding=bad_padding(0, in4)))
    out["esp-sa1-plain-bad-padding"] = esp_frame(1, esp_plain(1, in4, padding=bad_padding(1, in4)))
    out["esp-sa0-plain-padlen-too-big"] = esp_frame(0, esp_plain(0, in4, padlen=250))
    out["esp-sa0-plain-dummy-nh59"] = esp_frame(0, esp_plain(0, b"\xde\xad\xbe\xef" * 4, nh=59))
    out["esp-sa0-plain-nh41-inner4"] = esp_frame(0, esp_plain(0, in4, nh=41))
    out["esp-sa0-plain-nh17"] = esp_frame(0, esp_plain(0, in4, nh=17))
    out["esp-sa1-plain-empty"] = esp_frame(1, esp_plain(1, b"", nh=4))
    long_len = bytearray(in4)
    long_len[2:4] = struct.pack("!H", len(in4) + 8)
    out["esp-sa0-plain-inner-too-long"] = esp_frame(0, esp_plain(0, bytes(long_len)))
    out["esp-sa3-plain-inner6-tfc-padding"] = esp_frame(3, esp_plain(3, in6 + bytes(32), nh=41, extra_pad=16))
    opts = bytes(IP(src="10.0.0.5", dst="10.1.2.3", options=[IPOption_RR()]) / UDP(sport=7, dport=8) / Raw(b"x"))
    out["esp-sa2-plain-inner4-options-ts"] = esp_frame(2, esp_plain(2, opts))
    frag = bytes(IP(src="10.0.0.5", dst="10.1.2.3", proto=17, flags="MF", frag=100) / Raw(b"fragment body 12"))
    out["esp-sa2-plain-inner4-fragment-ts"] = esp_frame(2, esp_plain(2, frag))
    # -- ESP that does not decrypt.
    good = esp_bytes(0, INNER4, 8)
    out["esp-sa0-bad-icv"] = esp_frame(0, good[:-1] + bytes([good[-1] ^ 1]))
    out["esp-sa0-seq-zero"] = esp_frame(0, esp_bytes(0, INNER4, 0))
    out["esp-sa0-header-only"] = esp_frame(0, good[:8])
    out["esp-sa1-cut-block"] = esp_frame(1, esp_bytes(1, INNER4, 1)[:-5])
    out["esp-spi-mismatch"] = esp_frame(0, struct.pack("!I", SPI_BASE + 4) + good[4:])
    # Outer IPv4 fragment (MF set) carrying ESP.
    frag = bytearray(esp_frame(0, good))
    frag[14 + 6] |= 0x20
    frag[14 + 10:14 + 12] = b"\0\0"
    frag[14 + 10:14 + 12] = struct.pack("!H", ip_checksum(bytes(frag[14:34])))  # over a zero checksum
    out["esp-outer-fragment"] = bytes(frag)
    udp_to_us = lambda payload: ether(outer_ip(4, bytes(UDP(sport=NATT_REMOTE, dport=NATT_LOCAL) / Raw(payload)), 17), False)
    out["udp4500-nat-keepalive"] = udp_to_us(b"\xff")
    out["udp4500-ike-non-esp-marker"] = udp_to_us(b"\0\0\0\0" + bytes(28))
    out["udp4500-short"] = udp_to_us(b"\x0d\x0c\x0b")
    # -- ARP.
    out["arp-request-for-us"] = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC) /
                                      ARP(op=1, hwsrc=PEER_MAC, psrc="192.0.2.9", pdst="192.0.2.1"))
    out["arp-request-other"] = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC) /
                                     ARP(op=1, hwsrc=PEER_MAC, psrc="192.0.2.9", pdst="192.0.2.77"))
    out["arp-reply"] = bytes(Ether(dst=OUR_MAC, src=PEER_MAC) /
                             ARP(op=2, hwsrc=PEER_MAC, psrc="192.0.2.9", hwdst=OUR_MAC, pdst="192.0.2.1"))
    out["arp-vlan-request"] = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC) / Dot1Q(vlan=7) /
                                    ARP(op=1, hwsrc=PEER_MAC, psrc="198.51.100.9", pdst="198.51.100.1"))
    # -- Neighbour discovery.
    ns = IPv6(src="2001:db8::9", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt="2001:db8::1") / \
        ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC)
    out["nd-ns-for-us"] = bytes(Ether(dst="33:33:ff:00:00:01", src=PEER_MAC) / ns)
    # Duplicate address detection: from ::, no option (24 bytes of ICMPv6).
    out["nd-ns-dad"] = bytes(Ether(dst="33:33:ff:00:00:01", src=PEER_MAC) /
                             IPv6(src="::", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt="2001:db8::1"))
    out["nd-na-with-lladdr"] = bytes(Ether(dst=OUR_MAC, src=PEER_MAC) /
                                     IPv6(src="2001:db8::9", dst="2001:db8::1", hlim=255) /
                                     ICMPv6ND_NA(tgt="2001:db8::9", R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=PEER_MAC))
    # -- ICMP echo.
    out["icmp4-echo"] = bytes(Ether(dst=OUR_MAC, src=PEER_MAC) /
                              IP(src="192.0.2.9", dst="192.0.2.1") / ICMP(id=5, seq=1) / Raw(b"abcdefgh"))
    out["icmp6-echo"] = bytes(Ether(dst=OUR_MAC, src=PEER_MAC) /
                              IPv6(src="2001:db8::9", dst="2001:db8::1") / ICMPv6EchoRequest(id=5, seq=1, data=b"abc"))
    # -- Other traffic and malformed frames.
    out["udp4-transit-padded"] = bytes(Ether(dst=OUR_MAC, src=PEER_MAC) /
                                       IP(src="10.0.0.5", dst="10.9.9.9") / UDP(sport=5, dport=6)) + bytes(6)
    out["ipv4-options"] = bytes(Ether(dst=OUR_MAC, src=PEER_MAC) /
                                IP(src="10.0.0.5", dst="192.0.2.1", options=[IPOption_RR()]) / UDP())
    out["ipv6-hop-by-hop"] = bytes(Ether(dst=OUR_MAC, src=PEER_MAC) /
                                   IPv6(src="2001:db8::9", dst="2001:db8::1") / IPv6ExtHdrHopByHop() / UDP())
    full4 = bytes(Ether(dst=OUR_MAC, src=PEER_MAC) / IP(src="10.0.0.5", dst="192.0.2.1") / TCP(dport=22))
    out["cut-tcp4"] = full4[:14 + 20 + 10]
    out["cut-ipv4-header"] = full4[:14 + 12]
    out["cut-ipv6-header"] = esp_frame(2, esp_bytes(2, INNER4, 1))[:14 + 30]
    out["cut-ethernet"] = full4[:10]
    out["cut-vlan"] = bytes(Ether(dst=OUR_MAC, src=PEER_MAC) / Dot1Q(vlan=7))[:16]
    return out


def ip_checksum(header):
    s = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, frame in sorted(corpus().items()):
        assert len(frame) <= 2000, name
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(frame)
    print(f"{len(corpus())} seeds in {OUT}")


if __name__ == "__main__":
    main()
