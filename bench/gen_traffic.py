#!/usr/bin/python3
"""Traffic for scripts/bench.sh: pcaps of one SA's traffic, built with scapy (Debian's /usr/bin/python3).

  gen_traffic.py --out DIR --dir outbound --size 64 --count 4096      # clear UDP from the inside host
  gen_traffic.py --out DIR --dir inbound  --size 64 --count 3000000   # ESP from the peer, seq 1..count

Writes DIR/<dir>-<size>-<count>.pcap (the traffic) and DIR/garp-<dir>.pcap (one gratuitous ARP that
announces the MAC of the next hop the traffic leaves through: the peer for outbound, the inside host
for inbound; only the pcap feed's other port reads it — the ring feed's runs give dpvpn the same MACs as
static neighbours, and their other port is net_null,no-rx=1).

`size` is the inner IP packet's length in bytes (IPv4 + UDP + payload): the packet that is encrypted.

Inbound ESP (RFC 4303 + RFC 4106, AES-GCM-128, tunnel mode) has strictly increasing sequence numbers
1..count, IV = the sequence number, so a single pass never replays. The first packets are built by
scapy's SecurityAssociation and the rest by the same construction with python3-cryptography (scapy
is ~50x slower); the script checks both agree byte for byte on the first 64 packets, so scapy stays
the reference. AES-CBC-128 + HMAC-SHA-256-128 (--alg aes128cbc-sha256; RFC 3602 / 4868) is built by scapy
alone (only small pcaps: the ring feed's templates and the correctness gate), with the IV = 8 zero bytes
then the sequence number modulo N_FLOWS (64 bits big-endian), as dpvpn-bench-feed makes it (esp_iv).
"""
import argparse
import multiprocessing
import os
import struct
import sys

from scapy.all import ARP, IP, UDP, Ether, Raw, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_topology as topo  # noqa: E402

PCAP_GLOBAL = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # LINKTYPE_ETHERNET
N_FLOWS = 8  # inner UDP flows (source ports), so `connections` holds a few entries


def inner_packets(direction, size):
    """The N_FLOWS inner IPv4/UDP packets of `size` bytes (bytes, no Ethernet)."""
    if size < 28:
        raise SystemExit("size must be >= 28 (IPv4 + UDP headers)")
    src, dst = (topo.HOST_IP, topo.REMOTE_HOST_IP) if direction == "outbound" else (topo.REMOTE_HOST_IP, topo.HOST_IP)
    pkts = []
    for f in range(N_FLOWS):
        payload = bytes((i * 7 + f) & 0xFF for i in range(size - 28))
        p = IP(src=src, dst=dst, ttl=64, id=f) / UDP(sport=10000 + f, dport=5001) / Raw(payload)
        b = bytes(p)
        assert len(b) == size
        pkts.append(b)
    return pkts


def pcap_record(frame):
    return struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame


def esp_frame(aesgcm, salt, spi, seq, inner):
    """Ether / outer IPv4 / ESP(AES-GCM-128) around `inner`, as scapy builds it (RFC 4106)."""
    pad_len = (-(len(inner) + 2)) % 4
    plain = inner + bytes(range(1, pad_len + 1)) + bytes([pad_len, 4])  # next header 4 = IPv4
    iv = seq.to_bytes(8, "big")
    hdr = struct.pack(">II", spi, seq)
    ct = aesgcm.encrypt(salt + iv, plain, hdr)  # ciphertext || 16-byte ICV
    esp = hdr + iv + ct
    total = 20 + len(esp)
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 50, 0,
                               bytes(map(int, topo.PEER_IP.split("."))), bytes(map(int, topo.WAN_IP.split(".")))))
    s = sum(struct.unpack(">10H", bytes(ip)))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    ip[10:12] = struct.pack(">H", ~s & 0xFFFF)
    return topo.mac_bytes(topo.WAN_MAC) + topo.mac_bytes(topo.PEER_MAC) + b"\x08\x00" + bytes(ip) + esp


def scapy_sa(direction, alg, spi, tunnel_header=None, s=0):
    """scapy's SecurityAssociation for SA s of bench_topology (keys there)."""
    if alg == "aes128gcm":
        return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=topo.cipher_key(direction, s, alg),
                                   tunnel_header=tunnel_header)
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-CBC", crypt_key=topo.cipher_key(direction, s, alg),
                               auth_algo="SHA2-256-128", auth_key=topo.auth_key(direction, alg),
                               tunnel_header=tunnel_header)


def esp_iv(alg, seq):
    """GCM: the sequence number; CBC: 8 zero bytes + the sequence number modulo N_FLOWS (dpvpn-bench-feed then
    encrypts each of the N_FLOWS inner packets once and computes only the HMAC per packet)."""
    return seq.to_bytes(8, "big") if alg == "aes128gcm" else bytes(8) + (seq % N_FLOWS).to_bytes(8, "big")


def scapy_esp_frame(seq, inner, alg="aes128gcm"):
    sa = scapy_sa("inbound", alg, topo.SPI_IN, IP(src=topo.PEER_IP, dst=topo.WAN_IP, ttl=64, id=0, flags=0))
    enc = sa.encrypt(IP(inner), seq_num=seq, iv=esp_iv(alg, seq))
    return bytes(Ether(src=topo.PEER_MAC, dst=topo.WAN_MAC) / enc)


def _chunk(args):
    first, last, size = args
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    aesgcm = AESGCM(topo.KEY_IN[:16])
    salt = topo.KEY_IN[16:20]
    inners = inner_packets("inbound", size)
    out = bytearray()
    for seq in range(first, last):
        out += pcap_record(esp_frame(aesgcm, salt, topo.SPI_IN, seq, inners[seq % N_FLOWS]))
    return bytes(out)


def write_inbound_scapy(path, size, count, alg):
    inners = inner_packets("inbound", size)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(PCAP_GLOBAL)
        for seq in range(1, count + 1):
            f.write(pcap_record(scapy_esp_frame(seq, inners[seq % N_FLOWS], alg)))
    os.replace(tmp, path)


def traffic_name(direction, size, count, alg="aes128gcm"):
    """The pcap's file name (outbound traffic is the same for every algorithm)."""
    tag = "" if direction == "outbound" or alg == "aes128gcm" else f"{alg}-"
    return f"{direction}-{tag}{size}-{count}.pcap"


def write_inbound(path, size, count):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    aesgcm = AESGCM(topo.KEY_IN[:16])
    inners = inner_packets("inbound", size)
    for seq in range(1, 65):  # scapy is the reference
        mine = esp_frame(aesgcm, topo.KEY_IN[16:20], topo.SPI_IN, seq, inners[seq % N_FLOWS])
        ref = scapy_esp_frame(seq, inners[seq % N_FLOWS])
        if mine != ref:
            raise SystemExit(f"generator disagrees with scapy at seq {seq}:\n{mine.hex()}\n{ref.hex()}")
    step = 50000
    jobs = [(s, min(s + step, count + 1), size) for s in range(1, count + 1, step)]
    tmp = path + ".tmp"
    with open(tmp, "wb") as f, multiprocessing.Pool(min(2, os.cpu_count() or 1)) as pool:
        f.write(PCAP_GLOBAL)
        for blob in pool.imap(_chunk, jobs):
            f.write(blob)
    os.replace(tmp, path)


def write_outbound(path, size, count):
    inners = inner_packets("outbound", size)
    eth = topo.mac_bytes(topo.LAN_MAC) + topo.mac_bytes(topo.HOST_MAC) + b"\x08\x00"
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(PCAP_GLOBAL)
        for i in range(count):
            f.write(pcap_record(eth + inners[i % N_FLOWS]))
    os.replace(tmp, path)


def garp(mac, ip):
    return Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=mac, psrc=ip, hwdst=mac, pdst=ip)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--dir", choices=("outbound", "inbound"), required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--alg", choices=topo.ALGS, default="aes128gcm")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, traffic_name(a.dir, a.size, a.count, a.alg))
    if not os.path.exists(path):
        if a.dir == "outbound":
            write_outbound(path, a.size, a.count)
        elif a.alg == "aes128gcm":
            write_inbound(path, a.size, a.count)
        elif a.count <= 100000:
            write_inbound_scapy(path, a.size, a.count, a.alg)
        else:
            raise SystemExit(f"{a.alg}: only small pcaps (scapy builds them; the ring feed makes the traffic)")
    g = os.path.join(a.out, f"garp-{a.dir}.pcap")
    if not os.path.exists(g):
        wrpcap(g, [garp(topo.PEER_MAC, topo.PEER_IP)] if a.dir == "outbound" else [garp(topo.HOST_MAC, topo.HOST_IP)])
    print(path)


if __name__ == "__main__":
    main()
