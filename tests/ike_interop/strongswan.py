#!/usr/bin/python3
"""strongSwan (5.9.8, charon + kernel-libipsec) as an IKEv2 peer in network namespaces.

A test harness for IKEv2 interoperability tests (dpvpn-controld against strongSwan), standard
library only; run with Debian's /usr/bin/python3 as root. See README.md beside this file.

    with Topology(hosts=True) as topo:                       # left gw / right gw (+ a host behind each)
        right = topo.strongswan("right", role="responder", auth=Psk("s3cret"))
        left = topo.strongswan("left", auth=Psk("s3cret"))    # (dpvpn will take "left" later)
        left.initiate("net")
        assert ping(topo.left_host, RIGHT.host, count=3) == 3
        sa = left.child_sa("net")                             # ChildSa: spi_in/spi_out, counters, algs

Layout (interface names are per namespace, so parallel topologies never collide):

  ns PREFIX-lhost  eth0 10.1.0.5/24 [fd01::5/64]    gw 10.1.0.1 [fd01::1]
        | veth
  ns PREFIX-left   lan 10.1.0.1/24 [fd01::1/64]     wan 192.0.2.1/24 [2001:db8::1/64]   <- dpvpn
        | veth "the internet"
  ns PREFIX-right  wan 192.0.2.2/24 [2001:db8::2/64] lan 10.2.0.1/24 [fd02::1/64]       <- strongSwan
        | veth
  ns PREFIX-rhost  eth0 10.2.0.9/24 [fd02::9/64]    gw 10.2.0.1 [fd02::1]

With left_bare=True the left gateway's wan and lan ends are up with no address, IPv6 off and
offloads off, for a DPDK dataplane (`--vdev net_af_packet0,iface=wan`) to take them.

Facts this relies on (shared/notes/strongswan-peer.md): strongSwan here does ESP in userspace
(kernel-libipsec, TUN `ipsec0`), so ESP is always UDP-encapsulated on port 4500 and
start_action=trap does not work; one charon per namespace needs a private mount namespace
(its own /run); the vici socket path must stay short (< 108 bytes).
"""
import contextlib
import ctypes
import dataclasses
import hashlib
import ipaddress
import itertools
import os
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

PYTHON = "/usr/bin/python3"
CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "/usr/sbin/swanctl"
NS_PREFIX = "ikei-"          # namespaces are NS_PREFIX<pid>-<n>-<role>; stale ones are removed by pid

# Where things are. dpvpn tests configure their daemon in "left" from these.
@dataclass(frozen=True)
class Side:
    wan: str            # gateway address on the link between the gateways
    wan6: str
    lan: str            # gateway address on its inside network (the hosts' default gateway)
    lan6: str
    net: str            # the inside network (traffic selector)
    net6: str
    host: str           # the host behind the gateway
    host6: str
    plen: int = 24
    plen6: int = 64


LEFT = Side(wan="192.0.2.1", wan6="2001:db8::1", lan="10.1.0.1", lan6="fd01::1",
            net="10.1.0.0/24", net6="fd01::/64", host="10.1.0.5", host6="fd01::5")
RIGHT = Side(wan="192.0.2.2", wan6="2001:db8::2", lan="10.2.0.1", lan6="fd02::1",
             net="10.2.0.0/24", net6="fd02::/64", host="10.2.0.9", host6="fd02::9")
SIDES = {"left": LEFT, "right": RIGHT}
WAN_IF, LAN_IF, HOST_IF, LAN_STUB_IF = "wan", "lan", "eth0", "lan-stub"


class HarnessError(RuntimeError):
    pass


# What the harness runs, and the Debian package that brings it (meson-deps/debian-packages.txt).
REQUIREMENTS = {
    CHARON: "strongswan-charon",
    SWANCTL: "strongswan-swanctl",
    "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so": "libcharon-extra-plugins",
    "/usr/lib/ipsec/plugins/libstrongswan-openssl.so": "libstrongswan-standard-plugins",
    "/usr/sbin/ethtool": "ethtool",
    "/usr/bin/openssl": "openssl",
}


def missing_requirements():
    """[(path, Debian package)] of what is not installed; empty when the harness can run."""
    return [(path, pkg) for path, pkg in REQUIREMENTS.items() if not os.path.exists(path)]


def check_installed():
    missing = missing_requirements()
    if missing:
        raise HarnessError("strongSwan harness requirements missing: " +
                           ", ".join(f"{path} (package {pkg})" for path, pkg in missing) +
                           "; install them: apt-get install --no-install-recommends " +
                           " ".join(sorted({pkg for _, pkg in missing})) + " (scripts/setup.sh does)")


# --- processes in namespaces -------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
CLONE_NEWNET = 0x40000000


def _die_with_parent():
    """preexec_fn: SIGTERM when the test process dies, even by SIGKILL (a ctest timeout)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _argv(argv):
    return shlex.split(argv) if isinstance(argv, str) else [str(a) for a in argv]


def run(ns, argv, *, check=True, timeout=30, input=None, env=None):
    """Runs argv (a list, or a string split like a shell would) in namespace ns (None: here).
    Returns the CompletedProcess (text stdout/stderr); raises HarnessError on a non-zero exit."""
    cmd = _argv(argv)
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input, env=env,
                       preexec_fn=_die_with_parent)
    if check and p.returncode != 0:
        raise HarnessError(f"`{shlex.join(cmd)}` exited {p.returncode}: {(p.stderr or p.stdout).strip()}")
    return p


def popen(ns, argv, **kwargs):
    """subprocess.Popen of argv in namespace ns; the child gets SIGTERM if this process dies.
    Prefer Topology.popen(), which also stops the process when the topology is torn down."""
    cmd = _argv(argv)
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    kwargs.setdefault("preexec_fn", _die_with_parent)
    return subprocess.Popen(cmd, **kwargs)


def stop_process(p, timeout=5):
    """SIGTERM, then SIGKILL after timeout; returns the exit code."""
    if p.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            p.wait(timeout)
    return p.returncode


class in_netns:
    """`with in_netns(ns):` moves the calling thread into network namespace ns and back.
    Sockets created inside stay in ns for their whole life, whichever thread uses them later."""

    def __init__(self, ns):
        self.ns = ns

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(f"/run/netns/{self.ns}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns({self.ns})")
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        _libc.setns(self.home, CLONE_NEWNET)
        os.close(self.home)


def ns_socket(ns, family, type_, proto=0):
    """A socket in network namespace ns (None: this one)."""
    if not ns:
        return socket.socket(family, type_, proto)
    with in_netns(ns):
        return socket.socket(family, type_, proto)


def wait_for(predicate: Callable, timeout=10.0, interval=0.1, what=None):
    """Calls predicate() until it returns something truthy, and returns that; raises TimeoutError
    after timeout seconds (naming `what`, or the predicate, and its last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            name = what or getattr(predicate, "__name__", "condition")
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {name} (last value {value!r})")
        time.sleep(interval)


# --- topology ----------------------------------------------------------------------------------

_topology_counter = itertools.count()


def _ns_list():
    out = run(None, ["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.split()]


def _kill_ns_processes(ns):
    pids = run(None, ["ip", "netns", "pids", ns], check=False).stdout.split()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), sig)
                alive.append(pid)
        if not alive:
            return
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in alive):
            time.sleep(0.02)
        pids = [p for p in alive if os.path.exists(f"/proc/{p}")]


def _delete_ns(ns):
    _kill_ns_processes(ns)
    links = run(None, ["ip", "-n", ns, "-o", "link", "show"], check=False).stdout
    for m in re.finditer(r"^\d+: ([^:@ ]+)(?:@\S+)?: .*link/ether", links, re.M):
        run(None, ["ip", "-n", ns, "link", "del", m.group(1)], check=False)
    run(None, ["ip", "netns", "del", ns], check=False)


def remove_stale_namespaces():
    """Deletes the namespaces of earlier harness runs whose process is gone (killed, SIGKILLed)."""
    for ns in _ns_list():
        m = re.match(re.escape(NS_PREFIX) + r"(\d+)-", ns)
        if not m or int(m.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            _delete_ns(ns)
        except PermissionError:
            pass


def sysctl(ns, key, value):
    """Writes /proc/sys/<key with dots as slashes> inside ns."""
    path = "/proc/sys/" + key.replace(".", "/")
    run(ns, ["sh", "-c", f'echo {shlex.quote(str(value))} > "$0"', path])


def offloads_off(ns, iface):
    """veth offloads hand AF_PACKET readers (DPDK net_af_packet, captures) partial checksums and
    GSO/GRO super-frames; off, the kernel checksums and segments as for a real wire."""
    run(ns, ["ethtool", "-K", iface, "tx", "off", "sg", "off", "tso", "off", "gso", "off", "gro", "off"],
        check=False)


class Topology:
    """Context manager: namespaces and veths of the test network, always removed on exit
    (also on an exception, Ctrl-C or SIGTERM). Attributes: left, right, left_host, right_host
    (namespace names; the hosts are None without hosts=True), workdir (a temp dir, kept when
    the body failed or IKE_INTEROP_KEEP=1 is set, removed otherwise).

    hosts      a host namespace behind each gateway (10.1.0.5 via 10.1.0.1, 10.2.0.9 via 10.2.0.1);
               without, each gateway's lan is a veth to a stub end (lan-stub) in its own namespace,
               still with the LAN address (ping(topo.left, RIGHT.lan, src=LEFT.lan) uses the tunnel)
    ipv6       IPv6 addresses too (2001:db8::1/2 on the link, fd01::/64 and fd02::/64 inside)
    left_bare  leave the left gateway's wan/lan ends bare for a DPDK dataplane: up, no address,
               IPv6 off, offloads off (on both ends of each veth); False: addresses + forwarding,
               for strongSwan or dpvpn-controld --no-dataplane on kernel sockets
    offloads   keep veth offloads on (default: off everywhere, as a real wire would look)
    prefix     namespace name prefix (default ikei-<pid>-<n>, unique per process and topology)
    """

    def __init__(self, *, hosts=True, ipv6=False, left_bare=False, offloads=False, prefix=None,
                 workdir=None, keep=None, verbose=True):
        self.hosts, self.ipv6, self.left_bare, self.offloads = hosts, ipv6, left_bare, offloads
        self.prefix = prefix or f"{NS_PREFIX}{os.getpid()}-{next(_topology_counter)}"
        self.left, self.right = f"{self.prefix}-left", f"{self.prefix}-right"
        self.left_host = f"{self.prefix}-lhost" if hosts else None
        self.right_host = f"{self.prefix}-rhost" if hosts else None
        self._workdir_arg = workdir
        self.workdir = None
        self.keep = keep if keep is not None else os.environ.get("IKE_INTEROP_KEEP") == "1"
        self.verbose = verbose
        self._created = []
        self._procs = []
        self._peers = []
        self._old_sigterm = None

    # namespace of a side: "left", "right", "left_host"/"lhost", "right_host"/"rhost", or a name
    def ns(self, which):
        roles = {"left": self.left, "right": self.right, "left_host": self.left_host, "lhost": self.left_host,
                 "right_host": self.right_host, "rhost": self.right_host}
        if which in roles and roles[which] is None:
            raise HarnessError(f"this topology has no {which} namespace (hosts=False)")
        return roles.get(which, which)

    @property
    def namespaces(self):
        return [n for n in (self.left, self.right, self.left_host, self.right_host) if n]

    def __enter__(self):
        if os.geteuid() != 0:
            raise HarnessError("the IKE interop harness needs root (network namespaces)")
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self._old_sigterm = signal.SIG_DFL

            def on_term(signum, frame):
                raise KeyboardInterrupt(f"signal {signum}")
            signal.signal(signal.SIGTERM, on_term)
        try:
            remove_stale_namespaces()
            self.workdir = self._workdir_arg or tempfile.mkdtemp(prefix=f"{self.prefix}.", dir="/tmp")
            os.makedirs(self.workdir, exist_ok=True)
            self._build()
        except BaseException:
            self._teardown(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self._teardown(failed=exc_type is not None)
        return False

    def _ns_add(self, ns):
        if ns in _ns_list():
            _delete_ns(ns)
        run(None, ["ip", "netns", "add", ns])
        self._created.append(ns)
        run(ns, ["ip", "link", "set", "lo", "up"])

    def _veth(self, ns_a, if_a, ns_b, if_b):
        run(None, ["ip", "-n", ns_a, "link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", ns_b])

    def _addr(self, ns, iface, *addrs):
        for a in addrs:
            extra = ["nodad"] if ":" in a else []
            run(ns, ["ip", "addr", "add", a, "dev", iface] + extra)

    def _build(self):
        for ns in self.namespaces:
            self._ns_add(ns)
            if self.ipv6:
                sysctl(ns, "net.ipv6.conf.all.accept_dad", 0)
                sysctl(ns, "net.ipv6.conf.default.accept_dad", 0)
        self._veth(self.left, WAN_IF, self.right, WAN_IF)
        pairs = [(self.left, WAN_IF), (self.right, WAN_IF)]
        if self.hosts:
            self._veth(self.left, LAN_IF, self.left_host, HOST_IF)
            self._veth(self.right, LAN_IF, self.right_host, HOST_IF)
            pairs += [(self.left, LAN_IF), (self.left_host, HOST_IF), (self.right, LAN_IF), (self.right_host, HOST_IF)]
        else:
            # No hosts: the gateways still get their lan port and address (kernel-libipsec installs
            # a CHILD_SA only with an own address inside the local traffic selector; a DPDK gateway
            # needs a LAN port), a veth whose other end (lan-stub) stays in the same namespace.
            for gw in (self.left, self.right):
                self._veth(gw, LAN_IF, gw, LAN_STUB_IF)
                pairs += [(gw, LAN_IF), (gw, LAN_STUB_IF)]
        if not self.offloads:   # before "up": toggling veth features later drops the carrier for ~1 s
            for ns, iface in pairs:
                offloads_off(ns, iface)
        for gw, side in ((self.left, LEFT), (self.right, RIGHT)):
            bare = gw == self.left and self.left_bare
            ifaces = [WAN_IF, LAN_IF] + ([] if self.hosts else [LAN_STUB_IF])
            for iface in ifaces:
                if bare or not self.ipv6:
                    sysctl(gw, f"net.ipv6.conf.{iface}.disable_ipv6", 1)
            if not bare:
                self._addr(gw, WAN_IF, f"{side.wan}/{side.plen}", *([f"{side.wan6}/{side.plen6}"] if self.ipv6 else []))
                self._addr(gw, LAN_IF, f"{side.lan}/{side.plen}",
                           *([f"{side.lan6}/{side.plen6}"] if self.ipv6 else []))
                sysctl(gw, "net.ipv4.ip_forward", 1)
                if self.ipv6:
                    sysctl(gw, "net.ipv6.conf.all.forwarding", 1)
            for iface in ifaces:
                run(gw, ["ip", "link", "set", iface, "up"])
        if self.hosts:
            for host, side in ((self.left_host, LEFT), (self.right_host, RIGHT)):
                if not self.ipv6:
                    sysctl(host, f"net.ipv6.conf.{HOST_IF}.disable_ipv6", 1)
                self._addr(host, HOST_IF, f"{side.host}/{side.plen}",
                           *([f"{side.host6}/{side.plen6}"] if self.ipv6 else []))
                run(host, ["ip", "link", "set", HOST_IF, "up"])
                run(host, ["ip", "route", "add", "default", "via", side.lan])
                if self.ipv6:
                    run(host, ["ip", "-6", "route", "add", "default", "via", side.lan6])
        for ns, iface in pairs:
            wait_for(lambda: " UP " in run(None, ["ip", "-n", ns, "-br", "link", "show", iface]).stdout,
                     5, 0.05, f"{ns} {iface} up (carrier)")
        if self.verbose:
            mode = "bare (DPDK)" if self.left_bare else "kernel"
            print(f"topology {self.prefix}: left={self.left} ({mode}) right={self.right}"
                  f"{f' hosts={self.left_host},{self.right_host}' if self.hosts else ''} workdir={self.workdir}",
                  flush=True)

    def _teardown(self, failed):
        for peer in reversed(self._peers):
            with contextlib.suppress(Exception):
                peer.stop()
        for p in reversed(self._procs):
            with contextlib.suppress(Exception):
                stop_process(p, timeout=3)
        for ns in reversed(self._created):
            _delete_ns(ns)
        self._created.clear()
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None
        if self.workdir and not self._workdir_arg:
            if failed or self.keep:
                print(f"topology {self.prefix}: logs kept in {self.workdir}", file=sys.stderr, flush=True)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)

    # helpers bound to this topology ---------------------------------------------------------------

    def run(self, ns, argv, **kwargs):
        return run(self.ns(ns), argv, **kwargs)

    def popen(self, ns, argv, **kwargs):
        """Popen in a namespace; stopped (SIGTERM, then SIGKILL) when the topology is torn down."""
        p = popen(self.ns(ns), argv, **kwargs)
        self._procs.append(p)
        return p

    def mac(self, ns, iface):
        out = run(self.ns(ns), ["cat", f"/sys/class/net/{iface}/address"]).stdout
        return out.strip()

    def add_neighbor(self, ns, ip, mac, iface):
        """A static neighbour entry (e.g. when a bare DPDK gateway does not answer ARP)."""
        run(self.ns(ns), ["ip", "neigh", "replace", ip, "lladdr", mac, "dev", iface, "nud", "permanent"])

    def strongswan(self, side, *, role="initiator", name=None, start=True, **kwargs):
        """A StrongSwan on gateway `side` ("left" or "right"), addressed for this topology:
        local/remote addresses, IDs (the WAN addresses) and traffic selectors (the LANs, plus
        the IPv6 ones with ipv6=True) default from the side; any Conn/Child argument overrides.
        role="responder": remote_addrs=%any. Stopped at teardown. See StrongSwan and Conn."""
        if role not in ("initiator", "responder"):
            raise ValueError(f"role must be 'initiator' or 'responder', not {role!r}")
        if side not in SIDES:
            raise ValueError(f"side must be 'left' or 'right', not {side!r}")
        me, peer = SIDES[side], SIDES["right" if side == "left" else "left"]
        if side == "left" and self.left_bare:
            raise HarnessError("the left gateway is bare (left_bare=True): no kernel addresses for strongSwan")
        sw_kwargs = {k: kwargs.pop(k) for k in ("charon_options", "log_levels") if k in kwargs}
        v6 = kwargs.pop("ipv6_outer", False)
        defaults = dict(
            local_addrs=me.wan6 if v6 else me.wan,
            remote_addrs="%any" if role == "responder" else (peer.wan6 if v6 else peer.wan),
            local_id=me.wan6 if v6 else me.wan,
            remote_id=peer.wan6 if v6 else peer.wan,
        )
        child_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _CHILD_FIELDS and k != "name"}
        if "children" not in kwargs:
            ts_l, ts_r = [me.net], [peer.net]
            if self.ipv6:
                ts_l.append(me.net6)
                ts_r.append(peer.net6)
            child_kwargs.setdefault("local_ts", ts_l)
            child_kwargs.setdefault("remote_ts", ts_r)
            kwargs["children"] = [Child(**child_kwargs)]
        elif child_kwargs:
            raise ValueError(f"pass {sorted(child_kwargs)} inside children=[Child(...)]")
        for k, v in defaults.items():
            kwargs.setdefault(k, v)
        conn = Conn(**kwargs)
        sw = StrongSwan(self.ns(side), os.path.join(self.workdir, name or f"sw-{side}"), [conn],
                        label=name or side, **sw_kwargs)
        self._peers.append(sw)
        if start:
            sw.start()
        return sw


# --- vici (strongSwan's control protocol), a small client --------------------------------------

class Vici:
    """Minimal vici client over the charon's unix socket (src/libcharon/plugins/vici/README.md).
    request(cmd, msg) -> response dict; streamed commands (list-sas, initiate...) collect events."""
    CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN, EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM, \
        EVENT_UNKNOWN, EVENT = range(8)
    SECTION_START, SECTION_END, KEY_VALUE, LIST_START, LIST_ITEM, LIST_END = range(1, 7)

    def __init__(self, path, timeout=30):
        self.path, self.timeout = path, timeout

    @classmethod
    def encode(cls, msg):
        out = bytearray()

        def name(n):
            b = n.encode()
            out.extend(bytes([len(b)]) + b)

        def value(v):
            if isinstance(v, bool):
                v = "yes" if v else "no"
            b = v if isinstance(v, bytes) else str(v).encode()
            out.extend(struct.pack("!H", len(b)) + b)

        def section(d):
            for k, v in d.items():
                if isinstance(v, dict):
                    out.append(cls.SECTION_START)
                    name(k)
                    section(v)
                    out.append(cls.SECTION_END)
                elif isinstance(v, (list, tuple)):
                    out.append(cls.LIST_START)
                    name(k)
                    for item in v:
                        out.append(cls.LIST_ITEM)
                        value(item)
                    out.append(cls.LIST_END)
                else:
                    out.append(cls.KEY_VALUE)
                    name(k)
                    value(v)
        section(msg or {})
        return bytes(out)

    @classmethod
    def decode(cls, data):
        stack = [{}]
        pos, current_list = 0, None

        def name():
            nonlocal pos
            n = data[pos]
            s = data[pos + 1:pos + 1 + n].decode(errors="replace")
            pos += 1 + n
            return s

        def value():
            nonlocal pos
            (n,) = struct.unpack_from("!H", data, pos)
            s = data[pos + 2:pos + 2 + n].decode(errors="replace")
            pos += 2 + n
            return s

        while pos < len(data):
            t = data[pos]
            pos += 1
            if t == cls.SECTION_START:
                k = name()
                d = {}
                stack[-1][k] = d
                stack.append(d)
            elif t == cls.SECTION_END:
                stack.pop()
            elif t == cls.KEY_VALUE:
                k = name()
                stack[-1][k] = value()
            elif t == cls.LIST_START:
                k = name()
                current_list = stack[-1][k] = []
            elif t == cls.LIST_ITEM:
                current_list.append(value())
            elif t == cls.LIST_END:
                current_list = None
            else:
                raise HarnessError(f"vici: bad element type {t}")
        return stack[0]

    def _send(self, sock, ptype, name=None, msg=None):
        body = bytes([ptype])
        if name is not None:
            b = name.encode()
            body += bytes([len(b)]) + b
        if msg is not None:
            body += self.encode(msg)
        sock.sendall(struct.pack("!I", len(body)) + body)

    @staticmethod
    def _recv_exact(sock, n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise HarnessError("vici: connection closed by charon")
            buf += chunk
        return buf

    def _recv(self, sock):
        (n,) = struct.unpack("!I", self._recv_exact(sock, 4))
        data = self._recv_exact(sock, n)
        ptype, pos, name = data[0], 1, None
        if ptype in (self.CMD_REQUEST, self.EVENT_REGISTER, self.EVENT_UNREGISTER, self.EVENT):
            name = data[2:2 + data[1]].decode()
            pos = 2 + data[1]
        return ptype, name, data[pos:]

    def request(self, cmd, msg=None, stream=None, timeout=None):
        """Sends command cmd; with stream=EVENT (e.g. "list-sa", "control-log") registers for that
        event first and returns (response, [events]); else returns the response dict."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout or self.timeout)
        try:
            sock.connect(self.path)
            events = []
            if stream:
                self._send(sock, self.EVENT_REGISTER, stream)
                ptype, _, _ = self._recv(sock)
                if ptype != self.EVENT_CONFIRM:
                    raise HarnessError(f"vici: cannot register for event {stream!r}")
            self._send(sock, self.CMD_REQUEST, cmd, msg)
            while True:
                ptype, name, payload = self._recv(sock)
                if ptype == self.EVENT:
                    events.append(self.decode(payload))
                elif ptype == self.CMD_RESPONSE:
                    response = self.decode(payload)
                    break
                elif ptype == self.CMD_UNKNOWN:
                    raise HarnessError(f"vici: unknown command {cmd!r}")
                else:
                    raise HarnessError(f"vici: unexpected packet type {ptype}")
            if stream:
                self._send(sock, self.EVENT_UNREGISTER, stream)
                while self._recv(sock)[0] == self.EVENT:   # a late event before the confirmation
                    pass
            return (response, events) if stream else response
        finally:
            sock.close()


# --- strongSwan configuration ------------------------------------------------------------------

Lifetime = Union[int, str, None]    # seconds, or strongSwan syntax ("90s", "1h"); None: strongSwan's default


@dataclass
class Psk:
    """Pre-shared key authentication (both directions)."""
    secret: str


@dataclass
class Certs:
    """Certificate (pubkey) authentication: own cert + private key (PEM), the CA(s) to trust.
    Make them with TestCA (openssl CLI)."""
    cert: str
    key: str
    ca: Union[str, list]
    key_type: str = "ecdsa"

    @property
    def cas(self):
        return [self.ca] if isinstance(self.ca, str) else list(self.ca)


@dataclass
class Child:
    """A CHILD_SA config (swanctl.conf connections.<conn>.children.<name>)."""
    name: str = "net"
    local_ts: Union[str, list] = "dynamic"
    remote_ts: Union[str, list] = "dynamic"
    esp_proposals: Union[str, list] = "aes128gcm16"
    mode: str = "tunnel"
    rekey_time: Lifetime = None
    life_time: Lifetime = None
    rand_time: Lifetime = 0            # 0: deterministic rekeys (strongSwan's default is random)
    rekey_bytes: Optional[int] = None
    rekey_packets: Optional[int] = None
    start_action: str = "none"         # none | start | trap (trap does not work with kernel-libipsec)
    dpd_action: str = "clear"          # clear | trap | restart
    close_action: str = "none"
    extra: dict = field(default_factory=dict)   # any other swanctl.conf child key

    def render(self):
        if self.start_action == "trap":
            warnings.warn("start_action=trap: kernel-libipsec never acquires, the CHILD_SA will not come up")
        d = {"local_ts": self.local_ts, "remote_ts": self.remote_ts, "esp_proposals": self.esp_proposals,
             "mode": self.mode, "rekey_time": _lt(self.rekey_time), "life_time": _lt(self.life_time),
             "rand_time": _lt(self.rand_time), "rekey_bytes": self.rekey_bytes,
             "rekey_packets": self.rekey_packets, "start_action": self.start_action,
             "dpd_action": self.dpd_action, "close_action": self.close_action}
        d.update(self.extra)
        return {k: v for k, v in d.items() if v is not None}


_CHILD_FIELDS = {f.name for f in dataclasses.fields(Child)}


@dataclass
class Conn:
    """An IKE connection config (swanctl.conf connections.<name>) and its secrets.
    IDs default to the addresses (IP IDs). mobike is off by default; ESP is always UDP-encapsulated
    with kernel-libipsec whatever `encap` says. Lifetimes: rekey_time/over_time/rand_time/reauth_time
    of the IKE SA (strongSwan has no IKE life_time: it is rekey_time + over_time)."""
    name: str = "gw"
    local_addrs: Union[str, list] = "%any"
    remote_addrs: Union[str, list] = "%any"
    proposals: Union[str, list] = "aes128gcm16-prfsha256-ecp256"
    auth: Union[Psk, Certs] = dataclasses.field(default_factory=lambda: Psk("dpvpn-interop-secret"))
    local_id: Optional[str] = None
    remote_id: Optional[str] = None
    children: list = field(default_factory=lambda: [Child()])
    version: int = 2
    local_port: Optional[int] = None
    remote_port: Optional[int] = None
    rekey_time: Lifetime = None
    over_time: Lifetime = None
    rand_time: Lifetime = 0
    reauth_time: Lifetime = None       # (setting it, even to 0, drops strongSwan's default rekey_time)
    dpd_delay: Lifetime = None
    dpd_timeout: Lifetime = None
    fragmentation: str = "yes"         # yes | accept | force | no
    mobike: bool = False
    encap: bool = False
    keyingtries: int = 1
    unique: str = "no"
    send_certreq: Optional[bool] = None
    send_cert: Optional[str] = None    # default: "always" with certificates
    extra: dict = field(default_factory=dict)         # other connection-level keys
    local_extra: dict = field(default_factory=dict)   # other keys of the local auth round
    remote_extra: dict = field(default_factory=dict)

    def render(self):
        pubkey = isinstance(self.auth, Certs)
        local = {"auth": "pubkey" if pubkey else "psk", "id": self.local_id}
        remote = {"auth": "pubkey" if pubkey else "psk", "id": self.remote_id}
        if pubkey:
            local["certs"] = os.path.basename(self.auth.cert)
            remote["cacerts"] = [os.path.basename(c) for c in self.auth.cas]
        local.update(self.local_extra)
        remote.update(self.remote_extra)
        d = {"version": self.version, "local_addrs": self.local_addrs, "remote_addrs": self.remote_addrs,
             "local_port": self.local_port, "remote_port": self.remote_port, "proposals": self.proposals,
             "rekey_time": _lt(self.rekey_time), "over_time": _lt(self.over_time),
             "rand_time": _lt(self.rand_time), "reauth_time": _lt(self.reauth_time),
             "dpd_delay": _lt(self.dpd_delay), "dpd_timeout": _lt(self.dpd_timeout),
             "fragmentation": self.fragmentation, "mobike": self.mobike, "encap": self.encap,
             "keyingtries": self.keyingtries, "unique": self.unique, "send_certreq": self.send_certreq,
             "send_cert": self.send_cert or ("always" if pubkey else None)}
        d.update(self.extra)
        d = {k: v for k, v in d.items() if v is not None}
        d["local"] = {k: v for k, v in local.items() if v is not None}
        d["remote"] = {k: v for k, v in remote.items() if v is not None}
        d["children"] = {c.name: c.render() for c in self.children}
        return d

    def secrets(self):
        if not isinstance(self.auth, Psk):
            return {}
        s = {"secret": self.auth.secret}
        ids = [i for i in (self.local_id, self.remote_id) if i and i != "%any"]
        for n, i in enumerate(ids, 1):
            s[f"id-{n}"] = i
        return {f"ike-{self.name}": s}


def _lt(v):
    return f"{v}s" if isinstance(v, int) and not isinstance(v, bool) else v


_PLAIN = re.compile(r"^[A-Za-z0-9_.:/@%*+\-]+$")


def _conf_value(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    s = str(v)
    if _PLAIN.match(s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_conf(d, indent=0):
    """swanctl.conf / strongswan.conf syntax of a nested dict."""
    pad = "    " * indent
    lines = []
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append(f"{pad}{k} {{")
            lines.append(render_conf(v, indent + 1))
            lines.append(f"{pad}}}")
        else:
            lines.append(f"{pad}{k} = {_conf_value(v)}")
    return "\n".join(line for line in lines if line)


# Plugins: kernel-libipsec before kernel-netlink (else XFRM wins and installing SAs fails with
# ENOSYS), kdf (PRF-based KDF since 5.9.6), openssl (AES-GCM, X25519, ECP, MODP), pkcs8 (keys).
CHARON_PLUGINS = ("random nonce openssl pem pkcs1 pkcs8 x509 pubkey kdf kernel-libipsec kernel-netlink "
                  "socket-default vici updown")
SWANCTL_PLUGINS = "pem pkcs1 pkcs8 x509 pubkey openssl random"
# charon_options for DPD / dead-peer tests: strongSwan's default retransmission schedule (5 tries,
# 4 s, base 1.8) takes ~165 s to give up on a dead peer; this one ~3 s.
FAST_RETRANSMIT = {"retransmit_tries": 2, "retransmit_timeout": 1, "retransmit_base": 1}
DEFAULT_LOG_LEVELS = {"default": 1, "ike": 2, "knl": 2, "cfg": 2, "net": 1, "enc": 1}


# --- parsed SAs ---------------------------------------------------------------------------------

def _int(v, default=0):
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def _hex(v):
    try:
        return int(v, 16)
    except (TypeError, ValueError):
        return None


@dataclass
class ChildSa:
    name: str
    uniqueid: int
    reqid: int
    state: str          # INSTALLED, REKEYING, REKEYED, DELETING...
    mode: str
    protocol: str
    encap: bool
    spi_in: int         # our inbound SPI (the peer's outbound)
    spi_out: int
    encr_alg: str       # e.g. AES_GCM_16, AES_CBC
    encr_keysize: int
    integ_alg: Optional[str]   # e.g. HMAC_SHA2_256_128 (None for AEAD)
    dh_group: Optional[str]
    bytes_in: int
    packets_in: int
    bytes_out: int
    packets_out: int
    use_in: Optional[int]      # seconds since last inbound packet
    use_out: Optional[int]
    rekey_time: Optional[int]  # seconds until rekey
    life_time: Optional[int]
    install_time: int
    local_ts: list
    remote_ts: list
    raw: dict = field(repr=False)

    @classmethod
    def parse(cls, d):
        return cls(name=d.get("name", ""), uniqueid=_int(d.get("uniqueid")), reqid=_int(d.get("reqid")),
                   state=d.get("state", ""), mode=d.get("mode", ""), protocol=d.get("protocol", ""),
                   encap=d.get("encap") == "yes", spi_in=_hex(d.get("spi-in")), spi_out=_hex(d.get("spi-out")),
                   encr_alg=d.get("encr-alg"), encr_keysize=_int(d.get("encr-keysize")),
                   integ_alg=d.get("integ-alg"), dh_group=d.get("dh-group"),
                   bytes_in=_int(d.get("bytes-in")), packets_in=_int(d.get("packets-in")),
                   bytes_out=_int(d.get("bytes-out")), packets_out=_int(d.get("packets-out")),
                   use_in=_int(d["use-in"]) if "use-in" in d else None,
                   use_out=_int(d["use-out"]) if "use-out" in d else None,
                   rekey_time=_int(d["rekey-time"]) if "rekey-time" in d else None,
                   life_time=_int(d["life-time"]) if "life-time" in d else None,
                   install_time=_int(d.get("install-time")), local_ts=list(d.get("local-ts", [])),
                   remote_ts=list(d.get("remote-ts", [])), raw=d)


@dataclass
class IkeSa:
    name: str
    uniqueid: int
    version: int
    state: str          # CONNECTING, ESTABLISHED, REKEYING, REKEYED, DELETING...
    initiator: bool     # we initiated this IKE SA
    spi_i: int          # initiator's SPI
    spi_r: int
    local_host: str
    local_port: int
    local_id: str
    remote_host: str
    remote_port: int
    remote_id: str
    nat_any: bool       # NAT detected (or faked: kernel-libipsec always encapsulates)
    encr_alg: Optional[str]
    encr_keysize: int
    integ_alg: Optional[str]
    prf_alg: Optional[str]
    dh_group: Optional[str]
    established: Optional[int]  # seconds since
    rekey_time: Optional[int]
    reauth_time: Optional[int]
    children: list      # [ChildSa]
    raw: dict = field(repr=False)

    @classmethod
    def parse(cls, name, d):
        kids = [ChildSa.parse(c) for c in (d.get("child-sas") or {}).values()]
        return cls(name=name, uniqueid=_int(d.get("uniqueid")), version=_int(d.get("version")),
                   state=d.get("state", ""), initiator=d.get("initiator") == "yes",
                   spi_i=_hex(d.get("initiator-spi")), spi_r=_hex(d.get("responder-spi")),
                   local_host=d.get("local-host"), local_port=_int(d.get("local-port")),
                   local_id=d.get("local-id"), remote_host=d.get("remote-host"),
                   remote_port=_int(d.get("remote-port")), remote_id=d.get("remote-id"),
                   nat_any=d.get("nat-any") == "yes", encr_alg=d.get("encr-alg"),
                   encr_keysize=_int(d.get("encr-keysize")), integ_alg=d.get("integ-alg"),
                   prf_alg=d.get("prf-alg"), dh_group=d.get("dh-group"),
                   established=_int(d["established"]) if "established" in d else None,
                   rekey_time=_int(d["rekey-time"]) if "rekey-time" in d else None,
                   reauth_time=_int(d["reauth-time"]) if "reauth-time" in d else None,
                   children=kids, raw=d)

    @property
    def spis(self):
        return (self.spi_i, self.spi_r)

    def child(self, name=None, state="INSTALLED"):
        for c in self.children:
            if (name is None or c.name == name) and (state is None or c.state == state):
                return c
        return None


# --- the strongSwan peer ------------------------------------------------------------------------

class StrongSwan:
    """One charon in network namespace `ns`, configured in `workdir` (created) from Conn objects.

        sw = StrongSwan(ns, workdir, [Conn(...)]).start()      # or Topology.strongswan(...)
        sw.initiate("net"); sw.list_sas(); sw.child_sa("net"); sw.rekey_child("net")
        sw.terminate_ike(); sw.log_contains(r"..."); sw.stop()

    Files in workdir: strongswan.conf, swanctl/swanctl.conf (+ x509, x509ca, private),
    charon.log (log_path), charon.out (stdout/stderr), run/ (its /run), vici socket."""

    def __init__(self, ns, workdir, conns, *, label=None, log_levels=None, charon_options=None):
        self.ns = ns
        self.workdir = os.path.abspath(workdir)
        self.conns = list(conns) if isinstance(conns, (list, tuple)) else [conns]
        self.label = label or os.path.basename(self.workdir)
        self.log_levels = dict(DEFAULT_LOG_LEVELS, **(log_levels or {}))
        self.charon_options = charon_options or {}
        self.log_path = os.path.join(self.workdir, "charon.log")
        self.out_path = os.path.join(self.workdir, "charon.out")
        self.swanctl_dir = os.path.join(self.workdir, "swanctl")
        self.conf_path = os.path.join(self.workdir, "strongswan.conf")
        self.vici_path = os.path.join(self.workdir, "vici")
        self._short_dir = None
        if len(self.vici_path) >= 100:    # sun_path is 108 bytes
            self._short_dir = tempfile.mkdtemp(prefix="sw.", dir="/tmp")
            self.vici_path = os.path.join(self._short_dir, "vici")
        self.vici = Vici(self.vici_path)
        self.proc = None

    # --- configuration ---

    def conn(self, name=None):
        for c in self.conns:
            if name is None or c.name == name:
                return c
        raise KeyError(name)

    def _write_strongswan_conf(self):
        log = dict(self.log_levels, path=self.log_path, flush_line="yes", time_format="%H:%M:%S",
                   ike_name="yes", append="yes")
        charon = {
            "load_modular": "no", "load": CHARON_PLUGINS, "port": 500, "port_nat_t": 4500,
            "install_routes": "yes", "install_virtual_ip": "no",
            "plugins": {"vici": {"socket": f"unix://{self.vici_path}"},
                        "kernel-libipsec": {"allow_peer_ts": "no"}},
            "filelog": {"log": log},
        }
        _deep_update(charon, self.charon_options)
        conf = {"charon": charon, "swanctl": {"load": SWANCTL_PLUGINS, "socket": f"unix://{self.vici_path}"}}
        with open(self.conf_path, "w") as f:
            f.write(f"# {self.label}: written by tests/ike_interop/strongswan.py\n{render_conf(conf)}\n")

    def _write_swanctl_conf(self):
        for sub in ("x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey", "private",
                    "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12"):
            os.makedirs(os.path.join(self.swanctl_dir, sub), exist_ok=True)
        secrets = {}
        for c in self.conns:
            secrets.update(c.secrets())
            if isinstance(c.auth, Certs):
                shutil.copy(c.auth.cert, os.path.join(self.swanctl_dir, "x509", os.path.basename(c.auth.cert)))
                shutil.copy(c.auth.key, os.path.join(self.swanctl_dir, "private", os.path.basename(c.auth.key)))
                for ca in c.auth.cas:
                    shutil.copy(ca, os.path.join(self.swanctl_dir, "x509ca", os.path.basename(ca)))
        conf = {"connections": {c.name: c.render() for c in self.conns}}
        if secrets:
            conf["secrets"] = secrets
        with open(os.path.join(self.swanctl_dir, "swanctl.conf"), "w") as f:
            f.write(f"# {self.label}: written by tests/ike_interop/strongswan.py\n{render_conf(conf)}\n")

    def swanctl(self, *args, check=True, timeout=30):
        """Runs swanctl against this charon (--uri added); returns the CompletedProcess."""
        env = dict(os.environ, STRONGSWAN_CONF=self.conf_path, SWANCTL_DIR=self.swanctl_dir)
        argv = [SWANCTL, *args, "--uri", f"unix://{self.vici_path}"]
        return run(None, argv, check=check, timeout=timeout, env=env)

    def load(self):
        """(Re)writes swanctl.conf from self.conns and loads everything (swanctl --load-all)."""
        self._write_swanctl_conf()
        p = self.swanctl("--load-all", "--clear", "--file", os.path.join(self.swanctl_dir, "swanctl.conf"),
                         check=False)
        if p.returncode != 0 or re.search(r"failed|error", p.stdout + p.stderr, re.I):
            raise HarnessError(f"{self.label}: swanctl --load-all failed ({p.returncode}):\n"
                               f"{p.stdout}{p.stderr}\n--- charon.log tail ---\n{self.log_tail()}")
        return p.stdout

    def reload(self, conns=None):
        """Replaces the connection configs (unchanged: None) and loads them again."""
        if conns is not None:
            self.conns = list(conns) if isinstance(conns, (list, tuple)) else [conns]
        return self.load()

    # --- process ---

    def start(self, timeout=10):
        check_installed()
        rundir = os.path.join(self.workdir, "run")
        shutil.rmtree(rundir, ignore_errors=True)   # a stale charon.pid after a kill()
        os.makedirs(rundir)
        self._write_strongswan_conf()
        self._write_swanctl_conf()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.vici_path)
        env = dict(os.environ, STRONGSWAN_CONF=self.conf_path)
        self._out = open(self.out_path, "ab")
        try:
            self._start(env, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, env, timeout):
        # Private mount namespace with our own /run: charon.pid and friends never collide.
        script = 'mount --bind "$1/run" /run && exec "$2"'
        self.proc = popen(self.ns, ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                                    "sh", self.workdir, CHARON],
                          env=env, stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                raise HarnessError(f"{self.label}: charon exited ({self.proc.returncode}) at start:\n"
                                   f"{self._read(self.out_path)[-2000:]}\n{self.log_tail()}")
            try:
                self.vici.request("version", timeout=1)
                return True
            except (OSError, HarnessError):
                return False
        wait_for(up, timeout, 0.05, f"{self.label}: charon's vici socket")
        bad = self.log_contains(r"plugin '\S+' failed to load.*|loading certificate from .* failed.*")
        if bad:
            raise HarnessError(f"{self.label}: {bad.group(0)}\n{self.log_tail()}")
        self.load()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5):
        """Stops charon (SIGTERM; SIGKILL after timeout). Idempotent."""
        if self.proc is not None:
            stop_process(self.proc, timeout)
        if getattr(self, "_out", None):
            self._out.close()
        if self._short_dir:
            shutil.rmtree(self._short_dir, ignore_errors=True)
        return self.proc.returncode if self.proc else None

    def kill(self):
        """SIGKILL: the peer vanishes without DELETEs (for DPD / dead-peer tests)."""
        if self.running:
            self.proc.kill()
        return self.stop()

    def __enter__(self):
        return self if self.running else self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- control ---

    def _check(self, what, response, logs=()):
        if response.get("success") != "yes":
            log = "\n".join(f"  {e.get('msg', e)}" for e in logs)
            raise HarnessError(f"{self.label}: {what} failed: {response.get('errmsg', response)}\n{log}\n"
                               f"--- charon.log tail ---\n{self.log_tail()}")
        return response

    def initiate(self, child="net", ike=None, timeout=15):
        """Initiates CHILD_SA config `child` (and its IKE SA if none is up); blocks until it is
        established or failed (HarnessError with charon's log lines). Returns the ChildSa."""
        msg = {"child": child, "timeout": int(timeout * 1000), "init-limits": "no", "loglevel": 1}
        if ike:
            msg["ike"] = ike
        resp, logs = self.vici.request("initiate", msg, stream="control-log", timeout=timeout + 5)
        self._check(f"initiate {child}", resp, logs)
        return self.child_sa(child)

    def initiate_async(self, child="net", ike=None):
        """Starts initiating and returns at once (wait_established() later)."""
        msg = {"child": child, "timeout": -1, "init-limits": "no"}
        if ike:
            msg["ike"] = ike
        return self._check(f"initiate {child}", self.vici.request("initiate", msg))

    def terminate_ike(self, ike=None, *, ike_id=None, force=False, timeout=10):
        """Deletes the IKE SA (config name `ike`, default: every one of this peer's connections'
        IKE SAs, or one by unique id) with its CHILD_SAs; blocks until done."""
        if ike is None and ike_id is None:
            for sa in self.list_sas():
                self.terminate_ike(ike_id=sa.uniqueid, force=force, timeout=timeout)
            return
        msg = {"timeout": int(timeout * 1000), "loglevel": 1}
        if force:   # delete locally without waiting for the peer's answer to our DELETE
            msg = {"force": "yes", "loglevel": 1}
        msg.update({"ike": ike} if ike_id is None else {"ike-id": ike_id})
        resp, logs = self.vici.request("terminate", msg, stream="control-log", timeout=timeout + 5)
        self._check("terminate IKE SA", resp, logs)

    def terminate_child(self, child="net", *, child_id=None, timeout=10):
        msg = {"timeout": int(timeout * 1000), "loglevel": 1}
        msg.update({"child": child} if child_id is None else {"child-id": child_id})
        resp, logs = self.vici.request("terminate", msg, stream="control-log", timeout=timeout + 5)
        self._check(f"terminate CHILD_SA {child}", resp, logs)

    def rekey_child(self, child="net", *, child_id=None, wait=True, wait_old_gone=False, timeout=10):
        """Rekeys CHILD_SA `child`; with wait, returns the new INSTALLED ChildSa once the old one
        is no longer INSTALLED here (check the peer with wait_child_spi()). The old SA stays
        listed as DELETED for charon.delete_rekeyed_delay (5 s): wait_old_gone waits for that."""
        old = {c.spi_in for c in self.child_sas(child, state=None)}
        msg = {"child": child} if child_id is None else {"child-id": child_id}
        self._check(f"rekey CHILD_SA {child}", self.vici.request("rekey", msg))
        if not wait:
            return None

        def rekeyed():
            kids = self.child_sas(child, state=None)
            new = [c for c in kids if c.state == "INSTALLED" and c.spi_in not in old]
            stale = [c for c in kids if c.spi_in in old and (wait_old_gone or c.state != "DELETED")]
            return new[0] if new and not stale else None
        return self.wait_for(rekeyed, timeout, 0.05, f"{self.label}: CHILD_SA {child} rekeyed")

    def rekey_ike(self, ike=None, *, ike_id=None, reauth=False, wait=True, timeout=10):
        """Rekeys (or reauthenticates) the IKE SA; with wait, returns the new ESTABLISHED IkeSa."""
        ike = ike or self.conns[0].name
        old = {sa.spis for sa in self.list_sas(ike)}
        msg = {"ike": ike} if ike_id is None else {"ike-id": ike_id}
        msg["reauth"] = reauth
        self._check(f"rekey IKE SA {ike}", self.vici.request("rekey", msg))
        if not wait:
            return None

        def rekeyed():
            sas = self.list_sas(ike)
            new = [s for s in sas if s.state == "ESTABLISHED" and s.spis not in old]
            if new and not any(s.spis in old for s in sas):
                return new[0]
            return None
        return self.wait_for(rekeyed, timeout, 0.05, f"{self.label}: IKE SA {ike} rekeyed")

    # --- state ---

    def list_sas(self, ike=None):
        """All IKE SAs (optionally of connection `ike`) as [IkeSa] with their [ChildSa]."""
        msg = {"ike": ike} if ike else {}
        _, events = self.vici.request("list-sas", msg, stream="list-sa")
        return [IkeSa.parse(name, d) for e in events for name, d in e.items()]

    def list_conns(self):
        _, events = self.vici.request("list-conns", {}, stream="list-conn")
        out = {}
        for e in events:
            out.update(e)
        return out

    def ike_sa(self, ike=None, state="ESTABLISHED"):
        for sa in self.list_sas(ike):
            if state is None or sa.state == state:
                return sa
        return None

    def child_sas(self, child=None, state="INSTALLED"):
        return [c for sa in self.list_sas() for c in sa.children
                if (child is None or c.name == child) and (state is None or c.state == state)]

    def child_sa(self, child="net", state="INSTALLED"):
        kids = self.child_sas(child, state)
        return kids[0] if kids else None

    def wait_established(self, child="net", timeout=15):
        """Waits for an ESTABLISHED IKE SA with an INSTALLED CHILD_SA `child`; returns (IkeSa, ChildSa)."""
        def up():
            for sa in self.list_sas():
                if sa.state == "ESTABLISHED" and sa.child(child):
                    return sa, sa.child(child)
            return None
        return self.wait_for(up, timeout, 0.05, f"{self.label}: IKE SA + CHILD_SA {child} up")

    def wait_child_spi(self, spi_in=None, spi_out=None, child="net", timeout=10):
        """Waits until an INSTALLED CHILD_SA has these SPIs (e.g. the peer's mirror after a rekey)."""
        def found():
            for c in self.child_sas(child):
                if (spi_in is None or c.spi_in == spi_in) and (spi_out is None or c.spi_out == spi_out):
                    return c
            return None
        return self.wait_for(found, timeout, 0.05, f"{self.label}: CHILD_SA {child} with spi_in={spi_in and hex(spi_in)}"
                        f" spi_out={spi_out and hex(spi_out)}")

    def wait_no_sas(self, timeout=10):
        return self.wait_for(lambda: not self.list_sas(), timeout, 0.05, f"{self.label}: no IKE SA left")

    def stats(self):
        return self.vici.request("stats")

    # --- logs ---

    @staticmethod
    def _read(path, since=0):
        try:
            with open(path, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log(self, since=0):
        """charon.log's text (from byte offset `since`, a log_mark())."""
        return self._read(self.log_path, since)

    def log_mark(self):
        """The log's current size: pass it as since= to look only at what comes after."""
        try:
            return os.path.getsize(self.log_path)
        except FileNotFoundError:
            return 0

    def log_contains(self, regex, since=0, flags=re.M):
        """The first re.Match of regex in charon.log (after mark `since`), or None."""
        return re.search(regex, self.log(since), flags)

    def log_findall(self, regex, since=0, flags=re.M):
        return list(re.finditer(regex, self.log(since), flags))

    def wait_for_log(self, regex, timeout=10, since=0):
        return self.wait_for(lambda: self.log_contains(regex, since), timeout, 0.05, f"{self.label}: log /{regex}/")

    def log_tail(self, lines=40):
        return "\n".join(self.log().splitlines()[-lines:])

    def log_problems(self, lines=12):
        """The last log lines that tell why a negotiation failed (for error messages)."""
        bad = [line for line in self.log().splitlines()
               if re.search(r"fail|unacceptable|error|no proposal|giving up|NO_PROPOSAL|AUTH_FAILED|"
                            r"TS_UNACCEPT|no matching|not found|invalid", line, re.I)
               and "vici client" not in line]
        return "\n".join(bad[-lines:])

    def wait_for(self, predicate, timeout=10, interval=0.1, what=None):
        """wait_for() whose TimeoutError also quotes this charon's log lines about failures."""
        try:
            return wait_for(predicate, timeout, interval, what)
        except TimeoutError as e:
            problems = self.log_problems()
            raise TimeoutError(f"{e}\n--- {self.label}: problems in {self.log_path} ---\n{problems or '(none)'}") \
                from None


def _deep_update(d, u):
    for k, v in u.items():
        if isinstance(v, dict) and isinstance(d.get(k), dict):
            _deep_update(d[k], v)
        else:
            d[k] = v


# --- certificates (openssl CLI) ------------------------------------------------------------------

class TestCA:
    """A throw-away CA in `directory`, made with the openssl CLI. key_type "ecdsa" (P-256, or
    ecdsa_curve) or "rsa" (rsa_bits). issue() makes end-entity certs whose subjectAltNames are the
    given IDs (IP addresses -> IP:, names with @ -> email:, else DNS:) so IP and FQDN IDs work.

        ca = TestCA(topo.workdir, "ecdsa")
        left = ca.issue("left", ["192.0.2.1", "left.dpvpn.test"])   # -> Certs(cert, key, ca)
    """
    __test__ = False   # not a test class for pytest

    def __init__(self, directory, key_type="ecdsa", *, name="dpvpn interop test CA", rsa_bits=2048,
                 ecdsa_curve="P-256", days=30):
        self.dir = os.path.abspath(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.key_type, self.rsa_bits, self.curve, self.days = key_type, rsa_bits, ecdsa_curve, days
        tag = f"ca-{key_type}"
        self.key = os.path.join(self.dir, f"{tag}.key.pem")
        self.cert = os.path.join(self.dir, f"{tag}.pem")
        self._genkey(self.key, key_type)
        ext = os.path.join(self.dir, f"{tag}.ext")
        with open(ext, "w") as f:
            f.write("[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                    "subjectKeyIdentifier=hash\n")
        self._openssl("req", "-new", "-x509", "-key", self.key, "-out", self.cert, "-days", days,
                      "-subj", f"/O=dpvpn/CN={name}", "-config", ext, "-extensions", "v3", "-sha256")

    def _openssl(self, *args):
        if not shutil.which("openssl"):
            raise HarnessError("openssl CLI not installed (apt-get install openssl)")
        run(None, ["openssl", *args])

    def _genkey(self, path, key_type):
        if key_type == "ecdsa":
            self._openssl("genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{self.curve}",
                          "-out", path)
        elif key_type == "rsa":
            self._openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{self.rsa_bits}",
                          "-out", path)
        else:
            raise ValueError(f"key_type must be 'ecdsa' or 'rsa', not {key_type!r}")

    @staticmethod
    def san(ids):
        out = []
        for i in ids:
            try:
                ipaddress.ip_address(i)
                out.append(f"IP:{i}")
            except ValueError:
                out.append(f"email:{i}" if "@" in i else f"DNS:{i}")
        return ",".join(out)

    def issue(self, name, ids, key_type=None):
        """An end-entity cert + key for `name` (CN=name) with subjectAltNames `ids`; returns Certs."""
        key_type = key_type or self.key_type
        key = os.path.join(self.dir, f"{name}-{key_type}.key.pem")
        cert = os.path.join(self.dir, f"{name}-{key_type}.pem")
        csr = os.path.join(self.dir, f"{name}-{key_type}.csr")
        ext = os.path.join(self.dir, f"{name}-{key_type}.ext")
        self._genkey(key, key_type)
        with open(ext, "w") as f:
            f.write(f"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                    f"extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName={self.san(ids)}\n"
                    "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n")
        self._openssl("req", "-new", "-key", key, "-out", csr, "-subj", f"/O=dpvpn/CN={name}")
        self._openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial",
                      "-out", cert, "-days", self.days, "-sha256", "-extfile", ext)
        return Certs(cert=cert, key=key, ca=self.cert, key_type=key_type)


def make_certs(directory, key_type="ecdsa", left_ids=(LEFT.wan, "left.dpvpn.test"),
               right_ids=(RIGHT.wan, "right.dpvpn.test")):
    """A CA and a cert for each gateway: returns (TestCA, left Certs, right Certs)."""
    ca = TestCA(os.path.join(directory, f"pki-{key_type}"), key_type)
    return ca, ca.issue("left", list(left_ids)), ca.issue("right", list(right_ids))


# --- traffic: ICMP echo, TCP transfer ------------------------------------------------------------

def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


_ident_counter = itertools.count(1)


class Pinger:
    """ICMP/ICMPv6 echo over a raw socket in namespace ns (there is no ping binary here).
    ping() below is the one-shot form; as a context manager it pings in the background every
    `interval` until the block ends (then waits `grace` for stragglers): sent, received, lost."""

    def __init__(self, ns, dst, *, interval=0.05, size=56, grace=1.0, src=None):
        self.ns, self.dst, self.interval, self.size, self.grace = ns, dst, interval, size, grace
        self.v6 = ":" in dst
        if self.v6:
            self.sock = ns_socket(ns, socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
            self.request, self.reply = 128, 129   # the kernel computes ICMPv6 checksums
        else:
            self.sock = ns_socket(ns, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            self.request, self.reply = 8, 0
        if src:   # e.g. a gateway's lan address, to send through the tunnel from the gateway itself
            self.sock.bind((src, 0))
        self.ident = (os.getpid() * 31 + next(_ident_counter) * 7919) & 0xFFFF
        self.sent, self.replies = {}, {}
        self._stop = threading.Event()
        self._thread = None

    def send(self, seq):
        payload = struct.pack("!d", time.time()) + bytes((seq + i) & 0xFF for i in range(max(0, self.size - 8)))
        hdr = struct.pack("!BBHHH", self.request, 0, 0, self.ident, seq & 0xFFFF)
        if not self.v6:
            hdr = struct.pack("!BBHHH", self.request, 0, _checksum(hdr + payload), self.ident, seq & 0xFFFF)
        self.sent[seq & 0xFFFF] = (time.monotonic(), payload)
        try:
            self.sock.sendto(hdr + payload, (self.dst, 0))
        except OSError:
            pass   # e.g. no route yet: counts as lost

    def receive(self, until):
        while True:
            left = until - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return
            data, addr = self.sock.recvfrom(65535)
            icmp = data if self.v6 else data[(data[0] & 0x0F) * 4:]
            if len(icmp) < 8 or ipaddress.ip_address(addr[0].split("%")[0]) != ipaddress.ip_address(self.dst):
                continue
            kind, _, _, rid, seq = struct.unpack("!BBHHH", icmp[:8])
            if kind != self.reply or rid != self.ident or seq not in self.sent or seq in self.replies:
                continue
            if icmp[8:] != self.sent[seq][1]:
                continue   # a corrupted echo does not count
            self.replies[seq] = time.monotonic() - self.sent[seq][0]

    def run(self, count, timeout=2.0):
        for seq in range(count):
            self.send(seq)
            self.receive(time.monotonic() + self.interval)
        end = time.monotonic() + timeout
        while len(self.replies) < count and time.monotonic() < end:
            self.receive(min(end, time.monotonic() + 0.02))
        return len(self.replies)

    def _loop(self):
        seq = 0
        while not self._stop.is_set():
            self.send(seq)
            seq += 1
            self.receive(time.monotonic() + self.interval)
        end = time.monotonic() + self.grace
        while len(self.replies) < len(self.sent) and time.monotonic() < end:
            self.receive(min(end, time.monotonic() + 0.02))

    def __enter__(self):
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"ping {self.dst}")
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sock.close()

    @property
    def received(self):
        return len(self.replies)

    @property
    def lost(self):
        return sorted(set(self.sent) - set(self.replies))

    def __repr__(self):
        return f"<Pinger {self.dst}: sent {len(self.sent)} received {self.received} lost {len(self.lost)}>"


def ping(ns, dst, count=3, timeout=2.0, interval=0.1, size=56, src=None):
    """Sends `count` echo requests from namespace ns to dst (from address src, default: the
    kernel's choice); returns how many matching replies came back (within `timeout` after the
    last request)."""
    p = Pinger(ns, dst, interval=interval, size=size, src=src)
    try:
        return p.run(count, timeout)
    finally:
        p.sock.close()


@dataclass
class Transfer:
    bytes_sent: int
    bytes_received: int
    sha256_sent: str
    sha256_received: str
    seconds: float

    @property
    def ok(self):
        return self.bytes_sent == self.bytes_received and self.sha256_sent == self.sha256_received

    @property
    def mbit_s(self):
        return self.bytes_received * 8 / 1e6 / self.seconds if self.seconds else 0.0


def tcp_transfer(src_ns, dst_ns, dst, mib=1.0, *, port=0, timeout=60):
    """Sends `mib` MiB of random bytes over TCP from namespace src_ns to dst (an address in
    dst_ns, where a one-shot server listens on `port`, 0: any); returns a Transfer (.ok when
    sizes and sha256 match). Raises on connection errors and timeouts."""
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    srv = ns_socket(dst_ns, family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((dst, port))
    srv.listen(1)
    srv.settimeout(timeout)
    port = srv.getsockname()[1]
    got = {}

    def serve():
        try:
            conn, _ = srv.accept()
            conn.settimeout(timeout)
            h, n = hashlib.sha256(), 0
            while True:
                chunk = conn.recv(1 << 18)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
            got.update(bytes=n, sha=h.hexdigest())
            conn.sendall(h.hexdigest().encode())
            conn.close()
        except OSError as e:
            got["error"] = e
        finally:
            srv.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    total = int(mib * (1 << 20))
    h = hashlib.sha256()
    cli = ns_socket(src_ns, family, socket.SOCK_STREAM)
    cli.settimeout(timeout)
    start = time.monotonic()
    try:
        cli.connect((dst, port))
        left = total
        while left:
            chunk = os.urandom(min(left, 1 << 16))
            h.update(chunk)
            cli.sendall(chunk)
            left -= len(chunk)
        cli.shutdown(socket.SHUT_WR)
        while cli.recv(256):
            pass
    finally:
        cli.close()
    t.join(timeout)
    seconds = time.monotonic() - start
    if "error" in got:
        raise HarnessError(f"tcp_transfer server: {got['error']}")
    return Transfer(total, got.get("bytes", 0), h.hexdigest(), got.get("sha", ""), seconds)


# --- on-the-wire capture (AF_PACKET, in-process) -----------------------------------------------

@dataclass
class Frame:
    time: float
    outgoing: bool
    data: bytes


@dataclass
class EspPacket:
    src: str
    dst: str
    spi: int
    seq: int
    udp: bool           # ESP-in-UDP (RFC 3948) rather than IP protocol 50
    outgoing: bool


class Capture:
    """Records the frames of interface `iface` in namespace ns (both directions) while the block
    runs. esp() parses them into EspPacket; ip() into (src, dst, proto, sport, dport) tuples;
    write_pcap(path) for tshark/wireshark."""
    ETH_P_ALL, PACKET_OUTGOING = 0x0003, 4

    def __init__(self, ns, iface):
        self.ns, self.iface = ns, iface
        self.frames = []
        self._stop = threading.Event()
        with in_netns(ns) if ns else contextlib.nullcontext():
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(self.ETH_P_ALL))
            self.sock.bind((iface, 0))

    def _loop(self):
        while True:
            if not select.select([self.sock], [], [], 0.05)[0]:
                if self._stop.is_set():
                    return
                continue
            data, addr = self.sock.recvfrom(65535)
            self.frames.append(Frame(time.time(), addr[2] == self.PACKET_OUTGOING, data))

    def __enter__(self):
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"capture {self.iface}")
        self._thread.start()
        return self

    def __exit__(self, *exc):
        time.sleep(0.05)
        self._stop.set()
        self._thread.join()
        self.sock.close()

    @staticmethod
    def _l3(frame):
        data = frame.data
        etype, off = struct.unpack_from("!H", data, 12)[0], 14
        while etype in (0x8100, 0x88A8) and len(data) >= off + 4:
            etype, off = struct.unpack_from("!H", data, off + 2)[0], off + 4
        if etype == 0x0800 and len(data) >= off + 20:
            ihl = (data[off] & 0x0F) * 4
            return (socket.inet_ntop(socket.AF_INET, data[off + 12:off + 16]),
                    socket.inet_ntop(socket.AF_INET, data[off + 16:off + 20]), data[off + 9], data[off + ihl:])
        if etype == 0x86DD and len(data) >= off + 40:
            return (socket.inet_ntop(socket.AF_INET6, data[off + 8:off + 24]),
                    socket.inet_ntop(socket.AF_INET6, data[off + 24:off + 40]), data[off + 6], data[off + 40:])
        return None

    def ip(self):
        out = []
        for f in self.frames:
            l3 = self._l3(f)
            if not l3:
                continue
            src, dst, proto, payload = l3
            sport = dport = None
            if proto in (6, 17) and len(payload) >= 4:
                sport, dport = struct.unpack_from("!HH", payload)
            out.append((src, dst, proto, sport, dport))
        return out

    def esp(self):
        out = []
        for f in self.frames:
            l3 = self._l3(f)
            if not l3:
                continue
            src, dst, proto, payload = l3
            if proto == 50 and len(payload) >= 8:
                spi, seq = struct.unpack_from("!II", payload)
                out.append(EspPacket(src, dst, spi, seq, False, f.outgoing))
            elif proto == 17 and len(payload) >= 16 and 4500 in struct.unpack_from("!HH", payload):
                spi, seq = struct.unpack_from("!II", payload, 8)
                if spi:   # 0: the non-ESP marker of IKE on port 4500
                    out.append(EspPacket(src, dst, spi, seq, True, f.outgoing))
        return out

    def esp_spis(self):
        """{SPI: packet count} of the ESP seen."""
        counts = {}
        for p in self.esp():
            counts[p.spi] = counts.get(p.spi, 0) + 1
        return counts

    def write_pcap(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for fr in self.frames:
                sec = int(fr.time)
                f.write(struct.pack("<IIII", sec, int((fr.time - sec) * 1e6), len(fr.data), len(fr.data)))
                f.write(fr.data)
        return path


# --- a manual playground -------------------------------------------------------------------------

def _main():
    import argparse
    ap = argparse.ArgumentParser(description="strongSwan <-> strongSwan in namespaces, held until Ctrl-C "
                                 "(poke with `ip netns exec NS ...` and `swanctl --uri unix://WORKDIR/sw-*/vici`)")
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--proposals", default="aes128gcm16-prfsha256-ecp256")
    ap.add_argument("--esp", default="aes128gcm16")
    a = ap.parse_args()
    with Topology(hosts=True, ipv6=a.ipv6, keep=True) as topo:
        topo.strongswan("right", role="responder", proposals=a.proposals, esp_proposals=a.esp)
        left = topo.strongswan("left", proposals=a.proposals, esp_proposals=a.esp)
        print(left.initiate("net"))
        print(f"ping {RIGHT.host}: {ping(topo.left_host, RIGHT.host, 3)}/3")
        print("holding; Ctrl-C to tear down")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    _main()
