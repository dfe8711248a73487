#!/usr/bin/python3
"""Two dpvpn-dataplane gateways with mirrored static SAs, a kernel host behind each, in network
namespaces; shared by the end-to-end test (test_tunnel_netns.py) and scripts/demo.sh (--demo).

  ns hostA  eth0 10.1.0.5/24 fd01::5/64 (gw 10.1.0.1 / fd01::1)
     │ veth
  ns gwA    inside ── [dpvpn-dataplane A: inside 10.1.0.1/24 fd01::1/64 | outside 192.0.2.1/24] ── outside
     │ veth: "the internet", only ESP (proto 50, or UDP 4500 with NAT-T) should cross it
  ns gwB    outside ── [dpvpn-dataplane B: outside 192.0.2.2/24 | inside 10.2.0.1/24 fd02::1/64] ── inside
     │ veth
  ns hostB  eth0 10.2.0.9/24 fd02::9/64 (gw 10.2.0.1 / fd02::1)

Each gateway runs in its own namespace (`ip netns exec`), on `net_af_packet` ports bound to the
veth ends there by name; those ends are up with no address and IPv6 off, so the namespace's
kernel never answers or sends anything on them. The capture of the internet link is a Python
AF_PACKET socket on each gateway's `outside` end, incoming frames only, so each frame is seen once.

usage: tunnel_topology.py --demo [--binary PATH] [--alg aes128gcm] [--natt]"""
import argparse
import ctypes
import hashlib
import ipaddress
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
HOST_TOOLS = os.path.join(HERE, "host_tools.py")
PYTHON = "/usr/bin/python3"
NS_PREFIX = "dpvpn-e2e-"

# Host interface MTU. The gateways' inside MTU is 1500, but a 1500-byte packet plus ESP overhead
# (outer IPv4 20 + [UDP 8] + ESP 8 + IV 8..16 + pad/trailer 2..17 + ICV 16) exceeds the outside
# MTU of 1500: the dataplane drops it (counter `too_big`) and answers ICMP "fragmentation needed"
# / ICMPv6 "packet too big" (or fragments IPv4 without DF before encrypting). With 1400 on the
# hosts, TCP segments (MSS 1360) fit through the tunnel without relying on path MTU discovery;
# the test checks PMTUD separately (Topology.set_host_mtu(1500)).
HOST_MTU = 1400

GATEWAYS = {
    "A": {"inside": ["10.1.0.1/24", "fd01::1/64"], "outside": "192.0.2.1/24",
          "host": ("10.1.0.5/24", "fd01::5/64"), "lan": ("10.1.0.0/24", "fd01::/64")},
    "B": {"inside": ["10.2.0.1/24", "fd02::1/64"], "outside": "192.0.2.2/24",
          "host": ("10.2.0.9/24", "fd02::9/64"), "lan": ("10.2.0.0/24", "fd02::/64")},
}
SPI_A_TO_B, SPI_B_TO_A = 0x0000A001, 0x0000B001
KEY_SIZES = {"aes128gcm": (20, 0), "aes256gcm": (36, 0), "aes128cbc-sha256": (16, 32),
             "aes256cbc-sha256": (32, 32), "chacha20poly1305": (36, 0)}


def addr(prefix):
    return prefix.split("/")[0]


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """preexec_fn: SIGTERM when the driver dies, even by SIGKILL (a ctest timeout), so no gateway
    or host tool outlives it (they run in their own session and miss the terminal's Ctrl-C)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def run(*cmd, check=True, ns=None, capture=True, timeout=30):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    p = subprocess.run(cmd, capture_output=capture, text=True, timeout=timeout, preexec_fn=die_with_parent)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def derive_key(label, n):
    """Deterministic key material (a test tunnel: reproducible runs, decryptable captures)."""
    out = b""
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{len(out)}".encode()).digest()
    return out[:n]


class SaSpec:
    def __init__(self, name, spi, alg):
        self.name, self.spi, self.alg = name, spi, alg
        klen, alen = KEY_SIZES[alg]
        self.key = derive_key(f"{alg}/{spi:#x}/enc", klen)
        self.auth_key = derive_key(f"{alg}/{spi:#x}/auth", alen) if alen else b""

    def yaml(self, direction, local, remote, natt):
        lines = [f"  - name: {self.name}", f"    direction: {direction}", f"    spi: {self.spi:#010x}",
                 f"    algorithm: {self.alg}", f"    key: 0x{self.key.hex()}"]
        if self.auth_key:
            lines.append(f"    auth_key: 0x{self.auth_key.hex()}")
        lines += [f"    local: {local}", f"    remote: {remote}"]
        if natt:
            lines.append("    natt: {local_port: 4500, remote_port: 4500}")
        lines.append("    tunnel_id: 1")
        return "\n".join(lines)


def gateway_config(side, alg, natt, idle_sleep_us=20):
    """The YAML of gateway `side` ("A" or "B"): A's outbound SA is B's inbound SA (same SPI, keys)."""
    me = GATEWAYS[side]
    peer = GATEWAYS["B" if side == "A" else "A"]
    a_to_b, b_to_a = SaSpec("a-to-b", SPI_A_TO_B, alg), SaSpec("b-to-a", SPI_B_TO_A, alg)
    out_sa, in_sa = (a_to_b, b_to_a) if side == "A" else (b_to_a, a_to_b)
    local, remote = addr(me["outside"]), addr(peer["outside"])
    inside = ", ".join(f'"{a}"' for a in me["inside"])
    policies = "\n".join(
        f'  - {{local: "{mine}", remote: "{theirs}", action: protect, '
        f"outbound_sa: {out_sa.name}, inbound_sa: {in_sa.name}}}"
        for mine, theirs in zip(me["lan"], peer["lan"]))
    # framecnt: net_af_packet's kernel ring holds 512 frames by default; a TCP burst overflows it
    # while the worker sleeps (idle: sleep), and those frames never reach DPDK (not in our counters).
    return f"""# gateway {side} of the dpvpn end-to-end tunnel (tests/e2e/tunnel_topology.py)
dataplane:
  workers:
    - lcore: 1
      rx: [inside:0, outside:0]
  idle: sleep                    # two gateways share this machine's 2 CPUs
  idle_sleep_us: {idle_sleep_us}
  mbufs: 8191
ports:
  - name: inside
    device: "net_af_packet0,iface=inside,framecnt=4096"
    role: inside
    addresses: [{inside}]
  - name: outside
    device: "net_af_packet1,iface=outside,framecnt=4096"
    role: outside
    addresses: [{me["outside"]}]
sas:
{out_sa.yaml("outbound", local, remote, natt)}
{in_sa.yaml("inbound", local, remote, natt)}
policies:
{policies}
"""


# --- network namespaces ------------------------------------------------------------------------

def _ns_pid(name):
    m = re.match(re.escape(NS_PREFIX) + r"(\d+)-", name)
    return int(m.group(1)) if m else None


def remove_stale_namespaces():
    """Namespaces left by an earlier run that was killed (its pid is gone)."""
    for line in run("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        pid = _ns_pid(name)
        if pid is None or pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            run("ip", "netns", "del", name, check=False)
        except PermissionError:
            pass


def write_sysctl(ns, path, value):
    run("sh", "-c", f"echo {value} > /proc/sys/{path}", ns=ns)


CLONE_NEWNET = 0x40000000


class InNamespace:
    """Moves the calling thread into a network namespace and back (sockets keep theirs)."""

    def __init__(self, ns):
        self.ns = ns

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(f"/var/run/netns/{self.ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {self.ns}")
        finally:
            os.close(fd)

    def __exit__(self, *exc):
        _libc.setns(self.home, CLONE_NEWNET)
        os.close(self.home)


# --- the capture of the internet link ----------------------------------------------------------

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET, PACKET_STATISTICS = 263, 6


class WireCapture:
    """AF_PACKET sockets on both ends of the internet veth (incoming frames only: each frame once).
    Classifies every frame: ESP (proto 50), ESP-in-UDP (4500, non-zero SPI), IKE, ARP, or clear IP;
    a clear packet with an inner (10.x / fd0x::) address is a leak."""

    def __init__(self, ends, keep=12):
        self.ends, self.keep = ends, keep  # [(ns, iface, label of the sender)]
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self.esp = 0
        self.esp_by_dir = {}
        self.esp_by_flow = {}  # (sender, encap, spi) -> packets
        self.esp_bytes = 0
        self.ike = self.arp = self.other_l2 = 0
        self.clear = []
        self.clear_count = 0
        self.samples = []
        self.last = {}  # sender -> its last ESP packet
        self.kernel_drops = 0
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        if not self.ready.wait(5) or self.error:
            raise RuntimeError(f"capture did not start: {self.error}")

    def stop(self):
        time.sleep(0.2)
        self.stop_event.set()
        self.thread.join(5)

    def _run(self):
        socks = {}
        try:
            for ns, iface, sender in self.ends:
                with InNamespace(ns):
                    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                try:
                    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE (root)
                except OSError:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
                with InNamespace(ns):
                    s.bind((iface, ETH_P_ALL))
                s.setblocking(False)
                socks[s] = sender
        except Exception as e:  # noqa: BLE001 (reported by start())
            self.error = str(e)
            self.ready.set()
            return
        self.ready.set()
        while True:
            stopping = self.stop_event.is_set()
            readable = select.select(list(socks), [], [], 0.05)[0]
            for s in readable:
                while True:
                    try:
                        frame, meta = s.recvfrom(65535)
                    except BlockingIOError:
                        break
                    if meta[2] == PACKET_OUTGOING:
                        continue
                    self._classify(frame, socks[s])
            if stopping and not readable:
                break
        for s in socks:
            try:
                self.kernel_drops += struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))[1]
            except OSError:
                pass
            s.close()

    def _classify(self, frame, sender):
        if len(frame) < 14:
            self.other_l2 += 1
            return
        ethertype = struct.unpack("!H", frame[12:14])[0]
        if ethertype == 0x0806:
            self.arp += 1
            return
        if ethertype == 0x0800 and len(frame) >= 34:
            ihl = (frame[14] & 0x0F) * 4
            proto, src, dst = frame[23], socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
            l4 = frame[14 + ihl:]
        elif ethertype == 0x86DD and len(frame) >= 54:
            proto = frame[20]
            src, dst = socket.inet_ntop(socket.AF_INET6, frame[22:38]), socket.inet_ntop(socket.AF_INET6, frame[38:54])
            l4 = frame[54:]
        else:
            self.other_l2 += 1
            return
        encap, esp = None, None
        if proto == 50:
            encap, esp = "ESP", l4
        elif proto == 17 and len(l4) >= 8 and 4500 in struct.unpack("!HH", l4[:4]):
            body = l4[8:]
            if len(body) >= 8 and body[:4] != b"\0\0\0\0":
                encap, esp = "UDP-4500", body
            else:
                self.ike += 1
                return
        elif proto == 17 and len(l4) >= 4 and 500 in struct.unpack("!HH", l4[:4]):
            self.ike += 1
            return
        if esp is not None and len(esp) >= 8:
            spi, seq = struct.unpack("!II", esp[:8])
            self.esp += 1
            self.esp_bytes += len(frame)
            self.esp_by_dir[sender] = self.esp_by_dir.get(sender, 0) + 1
            flow = (sender, encap, spi)
            self.esp_by_flow[flow] = self.esp_by_flow.get(flow, 0) + 1
            row = {"from": sender, "src": src, "dst": dst, "encap": encap, "spi": spi, "seq": seq,
                   "len": len(frame) - 14}
            self.last[sender] = row
            if sum(1 for x in self.samples if x["from"] == sender) < self.keep // 2:
                self.samples.append(row)
            return
        self.clear_count += 1
        if len(self.clear) < 20:
            self.clear.append({"src": src, "dst": dst, "proto": proto, "len": len(frame) - 14,
                               "inner": _is_inner(src) or _is_inner(dst)})

    def summary(self):
        return {"esp": self.esp, "esp_by_sender": self.esp_by_dir, "esp_by_flow": self.esp_by_flow,
                "clear": self.clear_count,
                "clear_samples": self.clear, "ike": self.ike, "arp": self.arp, "other": self.other_l2,
                "kernel_drops": self.kernel_drops, "samples": self.samples, "last": self.last}


INNER_NETS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "fd00::/8")]


def _is_inner(a):
    ip = ipaddress.ip_address(a)
    return any(ip.version == n.version and ip in n for n in INNER_NETS)


# --- gateways -----------------------------------------------------------------------------------

class Gateway:
    def __init__(self, side, ns, binary, workdir, alg, natt):
        self.side, self.ns, self.binary = side, ns, binary
        self.config_path = os.path.join(workdir, f"gw{side}.yaml")
        self.stats_path = os.path.join(workdir, f"gw{side}-stats.json")
        self.socket_path = os.path.join(workdir, f"gw{side}.sock")  # its gRPC agent (dpvpnctl --socket)
        self.log_path = os.path.join(workdir, f"gw{side}.log")
        with open(self.config_path, "w") as f:
            f.write(gateway_config(side, alg, natt))
        self.proc = None
        self.lines = []
        self.reader = None
        self.stats = None

    def command(self):
        return [self.binary, "--no-huge", "-m", "512", "--no-shconf", "--no-pci", "--no-telemetry",
                "--file-prefix", f"dpvpn-e2e-{os.getpid()}-{self.side}", "-l", "0,1",
                "--log-level", "lib.eal:error", "--log-level", "pmd.net.af_packet:warning",
                "--", "--config", self.config_path, "--stats-json", self.stats_path, "--grpc-socket", self.socket_path]

    def start(self):
        # Its own session: a Ctrl-C on the terminal reaches the driver, which stops gateways in order.
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns] + self.command(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                     preexec_fn=die_with_parent)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        with open(self.log_path, "w") as log:
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                log.write(line)
                log.flush()

    def wait_running(self, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any("running" in line for line in self.lines):
                return next(line for line in self.lines if "running" in line)
            if self.proc.poll() is not None:
                self.reader.join(2)
                raise RuntimeError(f"gateway {self.side} exited ({self.proc.returncode}):\n" + "\n".join(self.lines))
            time.sleep(0.05)
        raise RuntimeError(f"gateway {self.side} did not start in {timeout} s:\n" + "\n".join(self.lines))

    def stop(self, timeout=10):
        """SIGINT: the dataplane prints its counters and writes --stats-json."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.reader.join(2)
        if os.path.exists(self.stats_path):
            with open(self.stats_path) as f:
                self.stats = json.load(f)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def exit_text(self):
        """What the dataplane printed at exit: from the port table on."""
        for i, line in enumerate(self.lines):
            if line.startswith("port ") and "rx packets" in line:
                return "\n".join(self.lines[i:])
        return "\n".join(self.lines)


class Topology:
    """Namespaces, veths, two gateways and the capture; a context manager that always cleans up."""

    def __init__(self, binary, alg="aes128gcm", natt=False, workdir=None, log=None):
        self.binary, self.alg, self.natt = binary, alg, natt
        tag = f"{NS_PREFIX}{os.getpid()}-"
        self.ns = {"hostA": tag + "hA", "gwA": tag + "gA", "gwB": tag + "gB", "hostB": tag + "hB"}
        self.own_workdir = workdir is None  # removed by down() when we created it
        self.workdir = workdir or tempfile.mkdtemp(prefix="dpvpn-e2e-")
        self.log = log or (lambda msg: None)
        self.gateways = {}
        self.capture = None
        self.created = []

    # -- bring up / tear down
    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()

    def up(self):
        remove_stale_namespaces()
        for name in self.ns.values():
            run("ip", "netns", "add", name)
            self.created.append(name)
            run("ip", "link", "set", "lo", "up", ns=name)
        for gw in ("gwA", "gwB"):  # the gateway namespaces' kernel stays silent on the DPDK ends
            write_sysctl(self.ns[gw], "net/ipv6/conf/default/disable_ipv6", 1)
            write_sysctl(self.ns[gw], "net/ipv6/conf/all/disable_ipv6", 1)
        for host in ("hostA", "hostB"):
            # Hosts with static routes: no router solicitations (to ff02::2, which a gateway
            # would count as transit traffic it has no route for).
            write_sysctl(self.ns[host], "net/ipv6/conf/default/router_solicitations", 0)
            write_sysctl(self.ns[host], "net/ipv6/conf/default/accept_ra", 0)
        hA, gA, gB, hB = (self.ns[k] for k in ("hostA", "gwA", "gwB", "hostB"))
        run("ip", "link", "add", "eth0", "netns", hA, "type", "veth", "peer", "name", "inside", "netns", gA)
        run("ip", "link", "add", "outside", "netns", gA, "type", "veth", "peer", "name", "outside", "netns", gB)
        run("ip", "link", "add", "eth0", "netns", hB, "type", "veth", "peer", "name", "inside", "netns", gB)
        for gw in (gA, gB):
            for ifname in ("inside", "outside"):
                write_sysctl(gw, f"net/ipv6/conf/{ifname}/disable_ipv6", 1)
                run("ip", "link", "set", ifname, "up", ns=gw)
        for side, host in (("A", hA), ("B", hB)):
            v4, v6 = GATEWAYS[side]["host"]
            gw4, gw6 = (addr(a) for a in GATEWAYS[side]["inside"])
            run("ip", "link", "set", "eth0", "mtu", str(HOST_MTU), ns=host)  # see HOST_MTU
            run(PYTHON, HOST_TOOLS, "offload-off", "eth0", ns=host)
            run("ip", "addr", "add", v4, "dev", "eth0", ns=host)
            run("ip", "addr", "add", v6, "dev", "eth0", "nodad", ns=host)
            run("ip", "link", "set", "eth0", "up", ns=host)
            run("ip", "route", "add", "default", "via", gw4, ns=host)
            run("ip", "-6", "route", "add", "default", "via", gw6, ns=host)
        self.capture = WireCapture([(gA, "outside", "B"), (gB, "outside", "A")])
        self.capture.start()
        for side, ns in (("A", gA), ("B", gB)):
            self.gateways[side] = Gateway(side, ns, self.binary, self.workdir, self.alg, self.natt)
        for gw in self.gateways.values():
            gw.start()
        for gw in self.gateways.values():
            gw.wait_running()

    def stop_gateways(self):
        for gw in self.gateways.values():
            gw.stop()
        if self.capture is not None and self.capture.thread.is_alive():
            self.capture.stop()

    def down(self):
        # A second Ctrl-C must not cut the cleanup short.
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
        try:
            for gw in self.gateways.values():
                try:
                    gw.stop(timeout=5)
                finally:
                    gw.kill()
            if self.capture is not None and self.capture.thread.is_alive():
                self.capture.stop()
            for name in reversed(self.created):
                run("ip", "netns", "del", name, check=False)
            self.created = []
            if self.own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
        finally:
            if main_thread:
                signal.signal(signal.SIGINT, previous)

    def set_host_mtu(self, side, mtu):
        run("ip", "link", "set", "eth0", "mtu", str(mtu), ns=self.host_ns(side))

    # -- traffic
    def host_ns(self, side):
        return self.ns["hostA" if side == "A" else "hostB"]

    def host_addr(self, side, v6=False):
        return addr(GATEWAYS[side]["host"][1 if v6 else 0])

    def ping(self, from_side, dst, count=5, interval=0.05, timeout=2.0):
        out = run(PYTHON, HOST_TOOLS, "ping", dst, "--count", str(count), "--interval", str(interval),
                  "--timeout", str(timeout), ns=self.host_ns(from_side), timeout=count * interval + timeout + 10)
        return json.loads(out.stdout)

    def tcp_transfer(self, from_side, to_side, nbytes, port=5001, v6=False):
        server = subprocess.Popen(["ip", "netns", "exec", self.host_ns(to_side), PYTHON, HOST_TOOLS, "tcp-serve",
                                   str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  preexec_fn=die_with_parent)
        try:
            first = server.stdout.readline()
            if "LISTENING" not in first:
                raise RuntimeError(f"tcp server did not start: {first} {server.stderr.read()}")
            client = run(PYTHON, HOST_TOOLS, "tcp-send", self.host_addr(to_side, v6), str(port), str(nbytes),
                         ns=self.host_ns(from_side), check=False, timeout=45)
            if client.returncode != 0:
                last = (client.stderr.strip().splitlines() or ["?"])[-1]
                raise RuntimeError(f"tcp client host{from_side} -> host{to_side} failed: {last}")
            out, err = server.communicate(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        return json.loads(client.stdout), json.loads(out)


# --- the demo -----------------------------------------------------------------------------------

def _rule(title):
    print()
    print(f"== {title} " + "=" * max(0, 96 - len(title)))


def _ping_line(src_label, res):
    rtts = [r["rtt_ms"] for r in res["replies"]]
    ttls = sorted({r["ttl"] for r in res["replies"]})
    rtt = f"rtt min/avg/max {min(rtts):.2f}/{sum(rtts) / len(rtts):.2f}/{max(rtts):.2f} ms" if rtts else ""
    ttl = f"ttl {','.join(map(str, ttls))}" if ttls else ""
    return (f"  {src_label:<22} -> {res['dst']:<10} {res['sent']} sent, {res['received']} replies"
            f"  {ttl:<7} {rtt}")


def _esp_row(s):
    return (f"  {s['from'] + ' -> ' + ('B' if s['from'] == 'A' else 'A'):<7} {s['src']:<11} {s['dst']:<11} "
            f"{s['encap']:<9} 0x{s['spi']:08x} {s['seq']:>7} {s['len']:>6}")


def demo(binary, alg, natt, nbytes=2 << 20):
    t0 = time.monotonic()
    encap = "ESP in UDP 4500 (NAT-T, RFC 3948)" if natt else "ESP (IP protocol 50)"
    print("dpvpn demo: two gateways, one static tunnel, a kernel host behind each")
    print()
    print("  hostA ──veth── [gateway A] ══ the \"internet\" (a veth) ══ [gateway B] ──veth── hostB")
    with Topology(binary, alg, natt) as topo:
        _rule("the network (one namespace each)")
        ns = topo.ns
        print(f"  {'node':<10} {'namespace':<20} {'interface':<10} addresses")
        rows = [("hostA", ns["hostA"], "eth0", "10.1.0.5/24  fd01::5/64", f"default via 10.1.0.1 / fd01::1, MTU {HOST_MTU}"),
                ("gateway A", ns["gwA"], "inside", "10.1.0.1/24  fd01::1/64", "dpvpn-dataplane port (net_af_packet)"),
                ("", "", "outside", "192.0.2.1/24", "the internet link"),
                ("gateway B", ns["gwB"], "outside", "192.0.2.2/24", "the internet link"),
                ("", "", "inside", "10.2.0.1/24  fd02::1/64", "dpvpn-dataplane port (net_af_packet)"),
                ("hostB", ns["hostB"], "eth0", "10.2.0.9/24  fd02::9/64", f"default via 10.2.0.1 / fd02::1, MTU {HOST_MTU}")]
        for node, n, ifname, addrs, note in rows:
            print(f"  {node:<10} {n:<20} {ifname:<10} {addrs:<24} {note}")
        print("  (the gateways' interfaces have no kernel address: only DPDK uses them)")

        _rule("the gateways start")
        print(f"  {'SA':<8} {'gateway A':<10} {'gateway B':<10} {'SPI':<11} {'algorithm':<17} encapsulation")
        print(f"  {'A -> B':<8} {'outbound':<10} {'inbound':<10} 0x{SPI_A_TO_B:08x}  {alg:<17} {encap}")
        print(f"  {'B -> A':<8} {'inbound':<10} {'outbound':<10} 0x{SPI_B_TO_A:08x}  {alg:<17} {encap}")
        print("  policies: 10.1.0.0/24 <-> 10.2.0.0/24 and fd01::/64 <-> fd02::/64, protect (B: the mirror)")
        for side, gw in topo.gateways.items():
            args = [os.path.basename(c) if c == binary else c.replace(topo.workdir + "/", "") for c in gw.command()]
            words = []  # an option with its value stays on one line
            for a in args:
                if words and words[-1].startswith("-") and words[-1] != "--" and " " not in words[-1] \
                        and not a.startswith("-"):
                    words[-1] += " " + a
                else:
                    words.append(a)
            lines, line = [], f"gateway {side}$"
            for word in words:  # wrapped like a shell line
                if len(line) + len(word) > 92 or (word == "--" and line.strip()):
                    lines.append(line + " \\")
                    line = " " * 13
                line += " " + word
            print()
            print("\n".join("  " + x for x in lines + [line]))
            print(f"  {gw.wait_running()}")

        _rule("ping through the tunnel (ICMP echo from a raw socket; 1 warm-up for ARP/ND, then 5)")
        pings = []
        for side, peer in (("A", "B"), ("B", "A")):
            for v6 in (False, True):
                dst = topo.host_addr(peer, v6)
                topo.ping(side, dst, count=1, timeout=2.0)
                res = topo.ping(side, dst, count=5)
                pings.append(res)
                print(_ping_line(f"host{side} {topo.host_addr(side, v6)}", res))
        print("  (ttl 62: each gateway decrements the inner TTL / hop limit like a router)")

        _rule(f"TCP through the tunnel: {nbytes >> 20} MiB of random bytes, hostA -> hostB port 5001")
        sent, got = topo.tcp_transfer("A", "B", nbytes)
        mbps = sent["bytes"] * 8 / max(sent["seconds"], 1e-6) / 1e6
        print(f"  hostA sent      {sent['bytes']:>8} bytes  sha256 {sent['sha256']}")
        print(f"  hostB received  {got['bytes']:>8} bytes  sha256 {got['sha256']}")
        same = sent["sha256"] == got["sha256"]
        print(f"  {'sha256 equal' if same else 'sha256 DIFFERENT'}; {sent['seconds']:.2f} s, {mbps:.0f} Mbit/s")

        dpvpnctl = os.path.join(ROOT, "build", "controlplane", "dpvpnctl")
        if os.path.exists(dpvpnctl):
            _rule("the operator's view: dpvpnctl against gateway A's gRPC agent")
            socket = topo.gateways["A"].socket_path
            for args in (["tab", "-s"], ["tab", "-t", "inbound_SPI", "-r"], ["tab", "-t", "connections", "-r", "-m", "4"],
                         ["tab", "-t", "neighbors", "-r"], ["sa", "list"]):
                print(f"\n  $ dpvpnctl {' '.join(args)}")
                out = subprocess.run([dpvpnctl, "--socket", socket] + args, capture_output=True, text=True)
                for line in (out.stdout + out.stderr).rstrip().splitlines():
                    print(f"  {line}")

        topo.stop_gateways()
        cap = topo.capture.summary()
        _rule("the internet link: what crossed it (AF_PACKET capture on both of its ends)")
        print(f"  {'':<7} {'src':<11} {'dst':<11} {'encap':<9} {'SPI':<10} {'seq':>7} {'bytes':>6}")
        for side in ("A", "B"):
            mine = [x for x in cap["samples"] if x["from"] == side]
            for x in mine[:3]:
                print(_esp_row(x))
            if side in cap["last"]:
                print(f"  {'':<7} {'...':<11}")
                print(_esp_row(cap["last"][side]))
        by = cap["esp_by_sender"]
        print()
        print(f"  {cap['esp']} ESP packets ({by.get('A', 0)} A -> B, {by.get('B', 0)} B -> A), {cap['clear']} clear"
              f"   (also {cap['arp']} ARP between the gateways, {cap['ike']} IKE)")
        for x in cap["clear_samples"][:5]:
            print(f"  CLEAR: {x['src']} -> {x['dst']} proto {x['proto']} {x['len']} bytes")

        _rule("final counters (printed by each dataplane when it stops)")
        for side, gw in topo.gateways.items():
            print(f"  -- gateway {side}")
            for line in gw.exit_text().splitlines():
                print(f"  {line}")
        if any(gw.stats and gw.stats["drops"].get("ipv6_ext_header") for gw in topo.gateways.values()):
            print("  (ipv6_ext_header: the hosts' MLD reports, which carry a hop-by-hop header)")
        replies = sum(p["received"] for p in pings)
        sent_pings = sum(p["sent"] for p in pings)
        ok = replies == sent_pings and same and cap["clear"] == 0 and cap["esp"] > 0
    print()
    print(f"{'OK' if ok else 'PROBLEM'}: {replies}/{sent_pings} echo replies, sha256 {'equal' if same else 'DIFFERENT'}, "
          f"{cap['clear']} clear packets on the internet link; namespaces and gateways removed "
          f"({time.monotonic() - t0:.1f} s)")
    return 0 if ok else 1


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", action="store_true", help="bring the tunnel up, show it, tear it down")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "dataplane", "dpvpn-dataplane"))
    ap.add_argument("--alg", default="aes128gcm", choices=sorted(KEY_SIZES))
    ap.add_argument("--natt", action="store_true")
    ap.add_argument("--print-config", metavar="SIDE", choices=("A", "B"))
    a = ap.parse_args()
    if a.print_config:
        print(gateway_config(a.print_config, a.alg, a.natt), end="")
        return 0
    if not a.demo:
        ap.print_help()
        return 2
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGHUP, _on_sigterm)
    try:
        return demo(a.binary, a.alg, a.natt)
    except KeyboardInterrupt:
        print("\ninterrupted: namespaces and gateways removed")
        return 130


if __name__ == "__main__":
    sys.exit(main())
