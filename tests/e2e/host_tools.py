#!/usr/bin/python3
"""Small network tools run inside a host namespace (`ip netns exec NS /usr/bin/python3 host_tools.py ...`)
by the end-to-end test and the demo. This machine has no ping, ethtool or netcat; these are enough.
Every command prints one JSON object on stdout (tcp-serve first prints a line `LISTENING`).

  ping DST [--count N] [--interval S] [--timeout S] [--size N]   ICMP / ICMPv6 echo over a raw socket
  tcp-serve PORT                                                  accept one connection, read to EOF
  tcp-send DST PORT BYTES                                         send BYTES random bytes
  offload-off IFACE                                               TX checksum, SG, TSO, GSO, GRO off
"""
import argparse
import ctypes
import fcntl
import hashlib
import json
import os
import select
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(dst, count, interval, timeout, size):
    """Echo requests with our id and seq 0..count-1; a reply counts when id, seq and payload match."""
    v6 = ":" in dst
    if v6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        request_type, reply_type = 128, 129  # the kernel computes ICMPv6 checksums on raw sockets
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        request_type, reply_type = 8, 0
    ident = (os.getpid() ^ int(time.time() * 1000)) & 0xFFFF
    sent_at, replies = {}, {}

    def send(seq):
        payload = struct.pack("!d", time.time()) + bytes((seq + i) & 0xFF for i in range(max(0, size - 8)))
        header = struct.pack("!BBHHH", request_type, 0, 0, ident, seq)
        if not v6:
            header = struct.pack("!BBHHH", request_type, 0, checksum(header + payload), ident, seq)
        sock.sendto(header + payload, (dst, 0))
        sent_at[seq] = (time.monotonic(), payload)

    def receive(until):
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            if not select.select([sock], [], [], left)[0]:
                return
            data, anc, _, addr = sock.recvmsg(65535, 256)
            ttl = None
            if v6:
                for level, kind, value in anc:
                    if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT:
                        ttl = struct.unpack("i", value[:4])[0]
                icmp = data
            else:
                ihl = (data[0] & 0x0F) * 4
                ttl = data[8]
                icmp = data[ihl:]
            if len(icmp) < 8 or addr[0] != dst:
                continue
            kind, _, _, rid, seq = struct.unpack("!BBHHH", icmp[:8])
            if kind != reply_type or rid != ident or seq not in sent_at or seq in replies:
                continue
            if icmp[8:] != sent_at[seq][1]:
                continue  # a corrupted echo does not count
            replies[seq] = {"seq": seq, "ttl": ttl, "bytes": len(icmp),
                            "rtt_ms": round((time.monotonic() - sent_at[seq][0]) * 1000, 3)}

    for seq in range(count):
        send(seq)
        receive(time.monotonic() + interval)
    end = time.monotonic() + timeout  # then wait for stragglers, until all are in or the timeout passes
    while len(replies) < count and time.monotonic() < end:
        receive(min(end, time.monotonic() + 0.02))
    return {"dst": dst, "sent": count, "received": len(replies), "id": ident,
            "replies": [replies[s] for s in sorted(replies)]}


def tcp_serve(port):
    family = socket.AF_INET6
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # accepts IPv4 too
    srv.bind(("::", port))
    srv.listen(1)
    srv.settimeout(30)
    print("LISTENING", flush=True)
    conn, peer = srv.accept()
    conn.settimeout(30)
    h, n, start = hashlib.sha256(), 0, time.monotonic()
    while True:
        chunk = conn.recv(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    seconds = time.monotonic() - start
    conn.sendall(h.hexdigest().encode())  # lets the sender know we have everything
    conn.close()
    peer_addr = peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]
    return {"peer": peer_addr, "bytes": n, "sha256": h.hexdigest(), "seconds": round(seconds, 3)}


def tcp_send(dst, port, nbytes):
    data = os.urandom(nbytes)
    digest = hashlib.sha256(data).hexdigest()
    start = time.monotonic()
    sock = socket.create_connection((dst, port), timeout=30)
    sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)
    echo = b""
    while True:
        chunk = sock.recv(256)
        if not chunk:
            break
        echo += chunk
    seconds = time.monotonic() - start
    sock.close()
    return {"dst": dst, "bytes": nbytes, "sha256": digest, "seconds": round(seconds, 3),
            "server_sha256": echo.decode(errors="replace")}


# linux/ethtool.h: legacy per-feature set commands (struct ethtool_value {u32 cmd; u32 data;})
SIOCETHTOOL = 0x8946
ETHTOOL_SET = {"tx-checksum": 0x17, "scatter-gather": 0x19, "tso": 0x1F, "gso": 0x24, "gro": 0x2C}


def offload_off(iface):
    """veth offloads hand AF_PACKET readers (DPDK's net_af_packet) TCP/UDP segments with partial
    checksums (CHECKSUM_PARTIAL) and 64 KiB GSO super-frames; a real NIC never does. Off, the
    kernel computes checksums and segments itself, as for a real wire."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    done = {}
    for name, cmd in ETHTOOL_SET.items():
        value = ctypes.create_string_buffer(struct.pack("II", cmd, 0))
        ifreq = struct.pack("16sP", iface.encode(), ctypes.addressof(value))
        try:
            fcntl.ioctl(sock, SIOCETHTOOL, ifreq)
            done[name] = "off"
        except OSError as e:
            done[name] = f"error: {e.strerror}"
    return {"iface": iface, "features": done}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ping")
    p.add_argument("dst")
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--size", type=int, default=56)
    s = sub.add_parser("tcp-serve")
    s.add_argument("port", type=int)
    c = sub.add_parser("tcp-send")
    c.add_argument("dst")
    c.add_argument("port", type=int)
    c.add_argument("bytes", type=int)
    o = sub.add_parser("offload-off")
    o.add_argument("iface")
    a = ap.parse_args()
    if a.cmd == "ping":
        out = ping(a.dst, a.count, a.interval, a.timeout, a.size)
    elif a.cmd == "tcp-serve":
        out = tcp_serve(a.port)
    elif a.cmd == "tcp-send":
        out = tcp_send(a.dst, a.port, a.bytes)
    else:
        out = offload_off(a.iface)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
