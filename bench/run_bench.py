#!/usr/bin/python3
"""scripts/bench.sh's runner: dpvpn-dataplane vs DPDK's ipsec-secgw vs a crypto-only ceiling, one
tunnel (bench_topology.py), one worker lcore, AES-GCM-128, the traffic of gen_traffic.py's pcaps.

How each number is measured (both gateways run one after the other, never together), the same way for
both: the output port's opackets are read twice through DPDK telemetry (/ethdev/stats): after a warm-up
once packets flow, and again after the measuring window; Mpps = delta / elapsed monotonic time. Start-up
is excluded by construction, and noise from other processes can only lower a sample, never raise it.
Only packets the gateway actually sent out count (its output port), and its input must advance alike.
- dpvpn: the sampled run has --duration-ms D2; its --stats-json must then show the packets as
  `encrypted` / `decrypted` and transmitted, and no replay/auth/other SA drops. With the pcap feed its worker
  must never have gone idle (lcore idle_polls) nor read the whole pcap (else the pcap ran dry and the run is
  refused); with the ring feed the feed's own window counters judge that (below).
  A second run of D1 gives the --stats-json difference (counter(D2) - counter(D1)) / (D2 - D1) as a
  cross-check (`stats_json_diff_mpps`); it is not used for the ratio because on a shared machine the
  two runs' start-ups differ (with the ring feed also the feed's attach time) and the difference can even
  overshoot the real rate.
- ipsec-secgw: has no final counters; its input port's ipackets must advance like its opackets.
- crypto-only: dpvpn-bench-crypto: dpvpn's own crypto call (IpsecMbEngine::process_burst, intel-ipsec-mb's
  direct GCM API) on bursts of 32 ESP-shaped ops, TSC cycles per packet. (Until 2026-11 it timed the JOB API one
  job at a time, ~75 cycles/packet slower than the call dpvpn makes, which overstated efficiency.) Timed at the
  run's start and again before each case; every case is judged against the fastest timing of the run (keep_fastest).
- cycles/packet of a gateway = TSC Hz / its packet rate (the worker lcore polls at 100 %).
- Gbps = inner IP packet bytes x rate (the protected traffic, before ESP).

Traffic feed (--feed; identical for both gateways either way):
- ring (default): dpvpn-bench-feed (bench/ring_feed.cpp), a DPDK secondary process of the gateway under test,
  on the other CPU (FEED_CPU; the worker lcore is on CPU 1), writes the traffic straight into the RX ring of the
  gateway's traffic port, a `--vdev net_ring0` (outbound: lan) / `net_ring1` (inbound: wan); the other port is
  `net_null1,no-rx=1` / `net_null0,no-rx=1` (DPDK's null PMD: RX returns nothing, TX frees the mbufs and
  counts them), which costs almost nothing to poll. It used to be net_pcap reading one gratuitous ARP so that
  dpvpn learnt the next hop's MAC, and polling it (a libpcap read each loop) took ~6 % of either gateway's
  worker cycles; now both gateways have the next hops' MACs in their config (dpvpn: static `neighbors:`,
  ipsec-secgw: its `neigh` lines), so no ARP is needed. The correctness gate still runs through net_pcap
  (it captures TX with tx_pcap). The mbufs are the gateway's own (its pool found by
  name: POOLS), reset as a NIC's RX path resets them; the gateway frees them when it transmits. Both gateways
  get the same feed binary, the same ring, the same frames, the same pool size, the same CPU for the feed. What
  the gateway's worker pays for RX is a ring dequeue and the cache misses on lines another CPU wrote (as with a
  NIC's DMA): forward-only costs either gateway ~115-150 cycles/packet, where net_pcap's outbound baseline
  was ~120-235 (a copy per packet) and its inbound file read 75-85 % of the worker's CPU. So the ratios now
  measure the gateways. The feed's frames are gen_traffic.py's (checked every case: check_feed_frames):
  outbound the clear UDP packets' headers (the payload is left as the recycled buffer holds it: content does not
  matter to a gateway, and a 1420 B copy would make the feed the bottleneck); inbound the same ESP packets, byte
  for byte, encrypted on the fly (intel-ipsec-mb) with strictly increasing sequence numbers from 1, so dpvpn's
  anti-replay window stays on (1024) and nothing is ever replayed, however long the run.
  The gateway must be the bottleneck, never the feed: the feed runs at a real-time priority (chrt -f 1, as
  root), sleeps only while the ring is full, and counts the times it found the ring short of a burst or empty
  between the two marks (SIGUSR1) run_bench.py sends at the window's edges, with a bound on how long the ring
  was empty; check_feed refuses a run where that exceeds 1 % of the window, or where the gateway's pool ran
  dry. Pool size: MBUFS_RING_FEED (see main()). Needs hugepages (a secondary process maps the primary's
  hugepage files, so the gateways run without --huge-unlink here and Bench.cleanup removes the files after
  each run).
- pcap (the method until 2026-11): both read the same pcaps through net_pcap. Outbound replays a 2048-packet
  pcap from memory (infinite_rx: one mbuf copy per packet); inbound reads one single-pass pcap from the file
  (libpcap fread; the file is locked in RAM for the case, so neither gateway reads from disk: see PinnedFile),
  because replaying it would repeat sequence numbers. The price: the RX cost (about 300 instructions per packet
  outbound, 600 inbound, identical for both) is a fixed addend in both gateways' cycles/packet that pulls every
  ratio towards 1.
A forward-only baseline is measured too (outbound traffic, same ports and feed, both gateways forwarding in
clear: dpvpn with a route and no SA, ipsec-secgw with a bypass SP) and printed beside the ratios with each
gateway's IPsec cycles/packet above its own baseline.
Two worker lcores (--lcores 2): both gateways with 1 and 2 worker lcores, each reading its traffic from a pcap,
with testpmd's own 1- vs 2-core scaling on the same pcaps beside them (bench/scaling.py).

Inbound honesty: ESP from the peer has strictly increasing sequence numbers (ring feed: made on the fly; pcap
feed: one single-pass pcap, no infinite_rx), dpvpn's anti-replay window is on (1024), only packets decrypted AND
transmitted count, and the SA's replay/auth drop counters must stay 0 in every measured run (ipsec-secgw's
anti-replay is off: its default).
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_topology as topo  # noqa: E402
import gen_traffic  # noqa: E402
import scaling  # noqa: E402
import targets  # noqa: E402

MBUFS = 32767          # each gateway's mbuf pool with the pcap feed (net_pcap allocates from the lcore cache, LIFO)
MBUFS_RING_FEED = 4095  # with the ring feed, which takes mbufs from the pool's ring, FIFO (see main())
# The ring feed (dpvpn-bench-feed): each gateway's mbuf pool by name (dpvpn: dataplane/runtime/dataplane.cpp;
# ipsec-secgw: pool_init() in ipsec-secgw.c, "mbuf_pool_<socket>_<port>", one pool on socket 0 without
# --per-port-pool) and the feed's CPU (the worker lcores run on CPU 1).
POOLS = {"dpvpn": "dpvpn_mbufs", "secgw": "mbuf_pool_0_0", "testpmd": "mb_pool_0"}  # testpmd: mbuf_poolname_build()
FEED_CPU = 0
OUTBOUND_LOOP = 2048   # outbound pcap, replayed by net_pcap infinite_rx=1 (no replay issue outbound)
GATE_COUNT = 2048      # packets in the correctness gate's pcaps


class Telemetry:
    """DPDK telemetry v2 client (the process's /var/run/dpdk/<prefix>/dpdk_telemetry.v2)."""

    def __init__(self, prefix, proc, timeout=30.0):
        path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"process exited ({proc.returncode}) before its telemetry socket appeared")
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no telemetry socket at {path}")
                time.sleep(0.002)
        self.s.recv(4096)
        # With the ring feed at a real-time priority on the CPU where the gateway's telemetry thread runs, the
        # replies (and this client) could wait for the feed's time slices: the window's two reads would then be
        # late by different amounts. Both run above the feed while sampling (they sleep almost all the time).
        self.realtime = os.geteuid() == 0
        if self.realtime:
            for tid in os.listdir(f"/proc/{proc.pid}/task"):
                try:
                    with open(f"/proc/{proc.pid}/task/{tid}/comm") as f:
                        if f.read().strip() == "telemetry-v2":
                            os.sched_setscheduler(int(tid), os.SCHED_FIFO, os.sched_param(2))
                except OSError:
                    pass

    def port_stats(self, port):
        self.s.send(f"/ethdev/stats,{port}".encode())
        t = time.monotonic()
        st = json.loads(self.s.recv(1 << 16))["/ethdev/stats"]
        if st is None:
            raise RuntimeError(f"telemetry: no stats for port {port} (the process is stopping: run too short?)")
        return t, st

    def sample_rate(self, out_port, in_port, warmup, window, worker, timeout=20.0, mark=None):
        """Waits for output, warms up, then returns (Mpps out, Mpps in, in_packets at the end, on-CPU share of
        the worker thread in the window); worker: the thread's /proc/<pid>/task/<tid> directory; mark: called
        right before and right after the window (the ring feed's counters)."""
        if self.realtime:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(2))
        try:
            return self._sample_rate(out_port, in_port, warmup, window, worker, timeout, mark)
        finally:
            if self.realtime:
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))

    def _sample_rate(self, out_port, in_port, warmup, window, worker, timeout, mark):
        deadline = time.monotonic() + timeout
        while True:
            try:  # (no stats until the gateway has made its ports: start-up with many SAs takes seconds)
                if self.port_stats(out_port)[1]["opackets"] > 0:
                    break
            except RuntimeError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("no output packets")
            time.sleep(0.001)
        time.sleep(warmup)
        if mark:
            mark()
        c0 = on_cpu_ns(worker)
        t0, o0 = self.port_stats(out_port)
        _, i0 = self.port_stats(in_port)
        time.sleep(window)
        t1, o1 = self.port_stats(out_port)
        _, i1 = self.port_stats(in_port)
        c1 = on_cpu_ns(worker)
        if mark:
            mark()
        dt = t1 - t0
        return ((o1["opackets"] - o0["opackets"]) / dt / 1e6, (i1["ipackets"] - i0["ipackets"]) / dt / 1e6,
                i1["ipackets"], min(1.0, (c1 - c0) / 1e9 / dt))

    def close(self):
        self.s.close()


def on_cpu_ns(task):
    """Time the thread has run on a CPU (ns): the first field of its schedstat."""
    with open(os.path.join(task, "schedstat")) as f:
        return int(f.read().split()[0])


def wait_ready(tel, timeout):
    """Waits until the process's ports exist (ipsec-secgw's start-up with many SAs takes seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            tel.port_stats(1)
            return
        except (RuntimeError, KeyError, TypeError):
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway's ports did not come up")
            time.sleep(0.05)


def worker_task(pid, comm=None):
    """The /proc task directory of the process's worker thread: the thread named `comm` (dpvpn's EAL worker
    lcore), or the main thread (ipsec-secgw's worker is its main lcore)."""
    for _ in range(1000):
        for tid in os.listdir(f"/proc/{pid}/task") if comm else [str(pid)]:
            task = f"/proc/{pid}/task/{tid}"
            try:
                with open(os.path.join(task, "comm")) as f:
                    if comm is None or f.read().strip() == comm:
                        return task
            except OSError:
                pass
        time.sleep(0.01)
    raise RuntimeError(f"no thread {comm} in process {pid}")


def lcore_args(workers, with_main):
    """EAL's lcore options: worker w as lcore w on CPU w modulo the CPUs (with 2 CPUs the second worker shares CPU
    0), and with_main an lcore 0 on CPU 0 for EAL's main lcore (dpvpn, testpmd; ipsec-secgw's main lcore is its
    first worker)."""
    if workers == 1:
        return ["-l", "0,1" if with_main else "1"]
    cpus = os.cpu_count() or 1
    return ["--lcores", ",".join((["0@0"] if with_main else []) + [f"{w}@{w % cpus}" for w in range(1, workers + 1)])]


def null_device(direction):
    """The ring feed's other port (the one the traffic leaves through): DPDK's null PMD with no-rx=1, whose RX
    returns nothing and whose TX frees the mbufs (and counts them: the output's opackets). Both gateways know
    the next hop's MAC from their config (static neighbours, bench_topology.py), so this port never has to
    deliver an ARP; net_pcap reading one gratuitous ARP cost each gateway's worker ~6 % of its cycles (a
    libpcap read on every poll)."""
    return f"net_null{1 if direction == 'outbound' else 0},no-rx=1"


def ring_device(direction):
    """The traffic port's vdev in the ring feed: the port the traffic arrives on (lan = port 0 outbound, wan =
    port 1 inbound). net_ring names its rings ETH_RXTX<queue>_<device>, one per queue for both RX and TX."""
    return "net_ring0" if direction == "outbound" else "net_ring1"


class Case:
    """One cell of the matrix: direction, inner packet size, algorithm, SA pairs and flows (bench_topology.py)."""

    def __init__(self, direction, size, alg, sas, flows, secgw_max_sas):
        self.dir, self.size, self.alg, self.sas, self.flows = direction, size, alg, sas, flows
        # ipsec-secgw (DPDK 22.11) was still creating 100k SAs after 4 minutes here: beyond --secgw-max-sas
        # only dpvpn runs (its target there is a share of its own 1-SA rate).
        self.secgw = sas <= secgw_max_sas
        big = sas > 1000 or flows > 100000
        # Start-up: dpvpn parses N SAs of YAML (~20 s for 100k), ipsec-secgw builds its ACLs and N sessions.
        self.startup_s = 300.0 if big else 20.0
        # dpvpn's connections are created by its writer thread as flows arrive (one event per new flow): with
        # 1M flows the table fills in ~4 s (the writer shares its CPU with the feed); the window starts after that.
        self.warmup_s = 10.0 if flows > 100000 else 0.5 if big else 0.1
        self.eal_mb = 2048 if big else 512

    def label(self):
        return f"{self.dir} {self.size} B: {self.alg}, {self.sas} SA{'s' if self.sas > 1 else ''}, {self.flows} flows, 1 lcore"


def feed_traffic_args(direction, case):
    """dpvpn-bench-feed's traffic options for a case (the same for its ring mode and --dump)."""
    args = ["--flows", str(gen_traffic.N_FLOWS), "--dir", direction, "--alg", case.alg,
            "--key", topo.cipher_key("inbound", 0, case.alg).hex(), "--sas", str(case.sas), "--conns", str(case.flows),
            "--remote-base", topo.ip_str(topo.MULTI_REMOTE_BASE), "--peer-base", topo.ip_str(topo.MULTI_PEER_BASE),
            "--spi-base", str(topo.spi_in(0, 2))]
    if topo.auth_key("inbound", case.alg):
        args += ["--auth-key", topo.auth_key("inbound", case.alg).hex()]
    return args


class Feed:
    """dpvpn-bench-feed (bench/ring_feed.cpp) attached to a running gateway as a DPDK secondary process, on
    FEED_CPU: fills the gateway's net_ring RX ring with mbufs of the gateway's own pool until stop()."""

    def __init__(self, a, prefix, app, direction, templates, case):
        port = 0 if direction == "outbound" else 1
        cmd = a.feed_sched + [a.feed_bin, "--proc-type=secondary", "--file-prefix", prefix, "--lcores", f"2@{FEED_CPU}",
                        "--no-pci", "--no-telemetry", "--log-level", "lib.eal:error", "--",
                        "--ring", f"ETH_RXTX0_{ring_device(direction)}", "--pool", POOLS[app], "--port", str(port),
                        "--templates", templates, *feed_traffic_args(direction, case),
                        "--wait-ms", str(int(case.startup_s * 1000)), "--full-sleep-us", str(a.feed_sleep_us)]
        # Its messages go to one log for the whole bench run (a retry rewrites the gateway's log).
        self.log_path = os.path.join(a.work, "feed.log")
        with open(self.log_path, "a") as log:
            log.write(f"== {time.strftime('%H:%M:%S')} {app} {case.dir} {case.size} B {case.alg} {case.sas} SAs\n")
            log.flush()
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
        self.result = None

    def mark(self):
        self.proc.send_signal(signal.SIGUSR1)

    def stop(self):
        """Stops the feed; returns its JSON report with `window`: the counters between the first two marks."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise RuntimeError("the feed did not stop")
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if self.proc.returncode != 0 or not lines:
            raise RuntimeError(f"the feed failed ({self.proc.returncode}): see {self.log_path}")
        self.result = json.loads(lines[-1])
        m = self.result["marks"]
        if len(m) >= 2:
            self.result["window"] = {k: m[1][k] - m[0][k] for k in m[0]}
        return self.result

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def check_feed(app, feed, window_mpps):
    """The gateway, not the feed, must be the bottleneck in the measuring window. The feed sleeps while the
    ring is full and wakes ~15-60 us late on this VM (the host may also stop its vCPU), so now and then it finds
    the ring empty: it adds up how long the ring can have been empty at most (starved_s, see ring_feed.cpp).
    Runs where that exceeds 1 % of the window are refused, and so are runs where the gateway's pool ran dry."""
    w = feed.get("window")
    if w is None:
        raise RuntimeError(f"{app}: the feed saw no measuring window (marks {feed['marks']})")
    if w["starved_s"] > 0.01 * w["t"]:
        raise RuntimeError(f"{app}: the feed could not keep the ring full in the window ({w}; gateway "
                           f"{window_mpps:.3f} Mpps)")
    if w["pool_empty_polls"]:
        raise RuntimeError(f"{app}: the gateway's mbuf pool ran dry in the window ({w})")


class Bench:
    def __init__(self, a):
        self.a = a
        self.seq = 0
        self.case = None    # the Case being measured
        self.pinned = None  # the inbound case's PinnedFile
        self.scaling_counts = None  # bench/scaling.py, inbound: frames in each worker's pcap

    def eal_mem(self):
        # The ring feed attaches to the gateway's hugepages through their files (no --huge-unlink): cleanup()
        # removes them after each run.
        mb = str(self.case.eal_mb)
        return (["-m", mb] if self.a.feed == "ring" else ["--huge-unlink", "-m", mb]) if self.a.hugepages \
            else ["--no-huge", "-m", str(max(1024, self.case.eal_mb))]

    def prefix(self):
        self.seq += 1
        return f"dpvpn-bench-{os.getpid()}-{self.seq}"

    @staticmethod
    def cleanup(prefix):
        """What a gateway run leaves behind under its file prefix: hugepage files (kept without --huge-unlink)
        and its runtime directory."""
        with open("/proc/mounts") as f:
            mounts = [line.split()[1] for line in f if line.split()[2] == "hugetlbfs"]
        for m in mounts:
            for path in glob.glob(os.path.join(m, f"{prefix}map_*")):
                try:
                    os.unlink(path)
                except OSError:
                    pass
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)

    def reap(self, proc, fed, log, prefix):
        """After a gateway run, however it ended: the feed and the process killed if still there, the log closed,
        the run's files removed."""
        if fed:
            fed.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        self.cleanup(prefix)

    # ---- traffic -------------------------------------------------------------------------------
    def pcaps(self, direction, size, alg="aes128gcm", force_traffic=False):
        """(traffic pcap, its packets, gate pcap, ARP pcap) of the one-SA traffic. The ring feed needs no traffic
        pcap (None) unless force_traffic: it takes its templates from the gate pcap."""
        count = OUTBOUND_LOOP if direction == "outbound" else self.a.inbound_count(size)
        path = os.path.join(self.a.pcaps, gen_traffic.traffic_name(direction, size, count, alg))
        gate = os.path.join(self.a.pcaps, gen_traffic.traffic_name(direction, size, GATE_COUNT, alg))
        if self.a.feed == "ring" and not force_traffic:
            path = count = None
        for p, n in ((path, count), (gate, GATE_COUNT)):
            if p is None:
                continue
            if not os.path.exists(p):
                print(f"  generating {os.path.basename(p)} ({n} packets) ...", flush=True)
                subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "gen_traffic.py"),
                                "--out", self.a.pcaps, "--dir", direction, "--size", str(size), "--count", str(n),
                                "--alg", alg], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["sync"])
        garp = os.path.join(self.a.pcaps, f"garp-{direction}.pcap")
        return path, count, gate, garp

    def devices(self, direction, traffic, garp, infinite, tx_pcap=None, ring=False):
        """(lan device, wan device); the traffic's port reads the pcap (or is the ring feed's net_ring port).
        The other port: for the correctness gate (tx_pcap) a net_pcap that writes TX to tx_pcap and receives
        nothing (no ARP either: the gate thus also checks that the static neighbours suffice); with the ring
        feed a net_null that receives nothing and drops TX (null_device); with the pcap feed a net_pcap reading
        the gratuitous ARP (as before static neighbours; redundant now, and TX dropped)."""
        if ring:
            other = null_device(direction)
            return (ring_device(direction), other) if direction == "outbound" else (other, ring_device(direction))
        if direction == "outbound":
            lan = f"net_pcap0,rx_pcap={traffic}" + (",infinite_rx=1" if infinite else "")
            wan = f"net_pcap1,tx_pcap={tx_pcap}" if tx_pcap else f"net_pcap1,rx_pcap={garp}"
        else:
            lan = f"net_pcap0,tx_pcap={tx_pcap}" if tx_pcap else f"net_pcap0,rx_pcap={garp}"
            wan = f"net_pcap1,rx_pcap={traffic}"
        return lan, wan

    # ---- dpvpn ---------------------------------------------------------------------------------
    def run_dpvpn(self, direction, traffic, garp, infinite, duration_ms=None, exit_idle_ms=None, tx_pcap=None,
                  sample=None, wrapper=(), forward_only=False, feed=None, devices=None, workers=1):
        """feed: the ring feed's template pcap (None: traffic from pcaps). duration_ms None with `sample`: the run
        is stopped (SIGINT) once sampled (cases whose start-up and feed attach take seconds). devices: (lan, wan)
        instead of those of traffic/garp; workers > 1: that many worker lcores, one RX queue each on the traffic
        port (bench/scaling.py). Returns (stats, sampled, feed report)."""
        lan, wan = devices or self.devices(direction, traffic, garp, infinite, tx_pcap, ring=feed is not None)
        if self.pinned:
            self.pinned.warm()
        work = self.a.work
        cfg = os.path.join(work, "dpvpn.yaml")
        c = self.case
        with open(cfg, "w") as f:
            if forward_only:
                f.write(topo.dpvpn_forward_yaml(lan, wan, self.a.mbufs, os.path.join(work, "agent.sock"), c.alg, c.sas,
                                                c.flows))
            else:
                f.write(topo.dpvpn_yaml(lan, wan, self.a.mbufs, os.path.join(work, "agent.sock"), c.alg, c.sas,
                                        c.flows, workers, "lan" if direction == "outbound" else "wan"))
        stats = os.path.join(work, "dpvpn-stats.json")
        if os.path.exists(stats):
            os.unlink(stats)
        prefix = self.prefix()
        # (With 2 CPUs the second worker shares CPU 0 with the main lcore's thread, which sleeps between its
        # housekeeping rounds.)
        cmd = list(wrapper) + self.a.nice + [self.a.dpvpn, *lcore_args(workers, True), "--file-prefix", prefix, "--no-pci", "--log-level",
                               "lib.eal:error", *self.eal_mem(), "--", "--config", cfg, "--stats-json", stats]
        if duration_ms:
            cmd += ["--duration-ms", str(duration_ms)]
        stop_after_sample = sample is not None and duration_ms is None
        if exit_idle_ms:
            cmd += ["--exit-idle-ms", str(exit_idle_ms)]
        log = open(os.path.join(work, "dpvpn.log"), "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        sampled = fed = report = None
        try:
            if sample or feed:
                tel = Telemetry(prefix, proc, timeout=c.startup_s)
                if feed:
                    fed = Feed(self.a, prefix, "dpvpn", direction, feed, c)
                if sample:
                    out_port, in_port = (1, 0) if direction == "outbound" else (0, 1)
                    sampled = tel.sample_rate(out_port, in_port, *sample, worker_task(proc.pid, "rte-worker-1"),
                                              timeout=c.startup_s, mark=fed.mark if fed else None)
                    if stop_after_sample:
                        if fed:  # first: a feed still writing into the pool of an exiting gateway can crash
                            report = fed.stop()
                        proc.send_signal(signal.SIGINT)
                tel.close()
            proc.wait(timeout=300 + c.startup_s)
            if fed and report is None:
                report = fed.stop()
        finally:
            self.reap(proc, fed, log, prefix)
        if proc.returncode != 0 or not os.path.exists(stats):
            raise RuntimeError(f"dpvpn-dataplane failed ({proc.returncode}): see {log.name}")
        with open(stats) as f:
            return json.load(f), sampled, report

    def dpvpn_rate(self, direction, size, traffic, count, garp, templates=None):
        """templates: the ring feed's template pcap (None: the pcap feed). Cases with many SAs or flows skip the
        D1 run (the cross-check; their start-up takes seconds)."""
        d1, d2 = self.a.durations(self.case)
        key = "encrypted" if direction == "outbound" else "decrypted"
        s1 = None if d1 is None else self.run_dpvpn(direction, traffic, garp, direction == "outbound", duration_ms=d1,
                                                    feed=templates)[0]
        s2, sampled, feed = self.run_dpvpn(direction, traffic, garp, direction == "outbound", duration_ms=d2,
                                           sample=self.a.window(self.case), feed=templates)
        if feed:
            check_feed("dpvpn", feed, sampled[1])
        for s in (s1, s2):
            if s is None:
                continue
            lc = s["lcores"][0]
            want = "outbound" if direction == "outbound" else "inbound"
            sa = {k: sum(x[k] for x in s["sas"] if x["direction"] == want)
                  for k in ("replay_drops", "auth_failures", "other_drops")}
            # (With the ring feed the worker polls an empty ring until the feed has attached: the feed's
            # window counters judge starvation instead, the same way for both gateways.)
            if not templates and (lc["idle_polls"] > 1000 or (direction == "inbound" and lc["rx"] >= count)):
                raise RuntimeError(f"dpvpn: the pcap ran dry (idle_polls {lc['idle_polls']}, rx {lc['rx']} of {count})"
                                   ": use a larger inbound pcap or shorter durations")
            if sa["replay_drops"] or sa["auth_failures"] or sa["other_drops"]:
                raise RuntimeError(f"dpvpn: SA drops in a measured run: {sa}")
            # The next hops are static neighbours (bench_topology.py): nothing may wait for or miss a MAC.
            unresolved = {k: s["drops"].get(k, 0) for k in ("neighbor_pending", "neighbor_hold_full")}
            unresolved.update({k: s.get(k, 0) for k in ("held", "hold_drops")})
            if any(unresolved.values()):
                raise RuntimeError(f"dpvpn: packets without a next-hop MAC in a measured run: {unresolved}")
        lc = s2["lcores"][0]
        # What was encrypted/decrypted was transmitted (the next hops' MACs are static: none is held or lost
        # for want of one, checked above).
        lost = s2[key] - lc["tx"]
        if lost > 1024 or lost < -16:
            raise RuntimeError(f"dpvpn: transmitted {lc['tx']} but {key} {s2[key]}")
        if abs(sampled[0] - sampled[1]) > 0.05 * sampled[1]:  # the two reads are not atomic
            raise RuntimeError(f"dpvpn: output {sampled[0]:.3f} Mpps != input {sampled[1]:.3f} Mpps (drops?)")
        # The flows of the case must all have become `connections` entries (the writer creates them as they come).
        if s2.get("connections_created", 0) < 0.95 * self.case.flows:
            raise RuntimeError(f"dpvpn: only {s2.get('connections_created')} connections created for "
                               f"{self.case.flows} flows")
        diff = None if s1 is None else (s2[key] - s1[key]) / ((d2 - d1) / 1000) / 1e6
        used = [x for x in s2["sas"] if x["packets"]]
        r = {"mpps": sampled[0], "in_mpps": sampled[1], "cpu_share": sampled[3], "stats_json_diff_mpps": diff,
             "counter": key, "d1_ms": d1, "d2_ms": d2, "count_d1": None if s1 is None else s1[key],
             "count_d2": s2[key], "tx_d2": lc["tx"], "drops_d2": s2["drops"],
             "connections_created_d2": s2.get("connections_created"), "sas_used_d2": len(used),
             "sa_d2": used if len(used) <= 4 else used[:4]}
        if feed:
            r["feed"] = {k: v for k, v in feed.items() if k != "marks"}
        return r

    # ---- ipsec-secgw ---------------------------------------------------------------------------
    def run_secgw(self, direction, traffic, garp, infinite, tx_pcap=None, sample=None, run_s=None, forward_only=False,
                  feed=None, devices=None, workers=1):
        """feed, devices, workers: as run_dpvpn's. Returns (sampled, final output port stats, feed report)."""
        lan, wan = devices or self.devices(direction, traffic, garp, infinite, tx_pcap, ring=feed is not None)
        if self.pinned:
            self.pinned.warm()
        cfg = os.path.join(self.a.work, "secgw.cfg")
        c = self.case
        with open(cfg, "w") as f:
            f.write(topo.secgw_forward_cfg(c.alg, c.sas) if forward_only else topo.secgw_cfg(c.alg, c.sas))
        prefix = self.prefix()
        # EAL's main lcore is the (first) worker; the alarm and telemetry threads are not lcores. Queue w of the
        # traffic port on lcore w + 1 (and queue w of the other port, which receives nothing: ipsec-secgw gives
        # each port the queues it names).
        queues = ",".join(f"({p},{q},{q + 1})" for p in (0, 1) for q in range(workers))
        cmd = self.a.nice + [self.a.secgw, *lcore_args(workers, False), "--file-prefix", prefix, "--no-pci", *self.eal_mem(),
               "--vdev", lan, "--vdev", wan, "--vdev", "crypto_aesni_mb0", "--",
               "-p", "0x3", "-P", "-u", "0x2", "--config", queues, "-f", cfg, "-s", str(self.a.mbufs + 1)]
        log = open(os.path.join(self.a.work, "secgw.log"), "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        sampled = fed = report = None
        try:
            tel = Telemetry(prefix, proc, timeout=c.startup_s)
            if feed:
                fed = Feed(self.a, prefix, "secgw", direction, feed, c)
            out_port, in_port = (1, 0) if direction == "outbound" else (0, 1)
            if sample:
                sampled = tel.sample_rate(out_port, in_port, *sample, worker_task(proc.pid), timeout=c.startup_s,
                                          mark=fed.mark if fed else None)
            else:
                wait_ready(tel, c.startup_s)
                time.sleep(run_s)
            final = tel.port_stats(out_port)[1]
            tel.close()
            if fed:
                report = fed.stop()
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        finally:
            self.reap(proc, fed, log, prefix)
        return sampled, final, report

    def secgw_rate(self, direction, size, traffic, count, garp, templates=None):
        (out_mpps, in_mpps, in_total, share), _, feed = self.run_secgw(
            direction, traffic, garp, direction == "outbound", sample=self.a.window(self.case), feed=templates)
        if feed:
            check_feed("secgw", feed, in_mpps)
        elif direction == "inbound" and in_total >= count:
            raise RuntimeError("secgw: the pcap ran dry during the window: use a larger inbound pcap")
        if abs(out_mpps - in_mpps) > 0.05 * in_mpps:  # the two reads are not atomic
            raise RuntimeError(f"secgw: output {out_mpps:.3f} Mpps != input {in_mpps:.3f} Mpps (drops?)")
        r = {"mpps": out_mpps, "in_mpps": in_mpps, "cpu_share": share}
        if feed:
            r["feed"] = {k: v for k, v in feed.items() if k != "marks"}
        return r

    # ---- forward-only baseline (outbound pcap, clear) ------------------------------------------
    def forward_rate(self, size, traffic, garp, templates=None):
        """Both gateways forwarding the outbound traffic in clear: what RX (net_pcap's copy, or the ring feed's
        ring dequeue), routing and TX cost each of them before any IPsec; with the ring feed also the harness
        floor (floor_rate). Returns {dpvpn, secgw, floor: Mpps (floor None without the ring feed or testpmd);
        *_share: worker on-CPU shares; feed_limited}. At 64 B the gateways forward about as fast as the ring
        feed can fill the ring (~20-27 Mpps here): a run where the feed could not keep the ring full is kept but
        flagged (feed-limited: the rate is then a lower bound, the baseline's cycles/packet an upper bound)."""
        limited = False

        def feed_ok(app, feed, mpps):
            nonlocal limited
            try:
                check_feed(app, feed, mpps)
            except RuntimeError:
                limited = True
        window = self.a.window(self.case)
        s, (d_out, d_in, _, d_share), feed = self.run_dpvpn("outbound", traffic, garp, True,
                                                            duration_ms=self.a.durations(self.case)[1],
                                                            sample=window, forward_only=True, feed=templates)
        if feed:
            feed_ok("dpvpn forward-only", feed, d_in)
        if s["forwarded_clear"] == 0 or s["encrypted"] != 0 or abs(d_out - d_in) > 0.05 * d_in:
            raise RuntimeError(f"dpvpn forward-only: {d_out:.3f} Mpps out, {d_in:.3f} in, "
                               f"forwarded_clear {s['forwarded_clear']}")
        (g_out, g_in, _, g_share), _, feed = self.run_secgw("outbound", traffic, garp, True, sample=window,
                                                            forward_only=True, feed=templates)
        if feed:
            feed_ok("secgw forward-only", feed, g_in)
        if abs(g_out - g_in) > 0.05 * g_in:
            raise RuntimeError(f"secgw forward-only: {g_out:.3f} Mpps out, {g_in:.3f} in")
        r = {"dpvpn": d_out, "secgw": g_out, "dpvpn_share": d_share, "secgw_share": g_share, "floor": None,
             "floor_share": None}
        if templates and self.a.testpmd:
            try:  # a reference point only: its failure must not cost the case
                (f_out, f_in, _, f_share), feed = self.floor_rate(templates)
                feed_ok("testpmd io", feed, f_in)
                if abs(f_out - f_in) > 0.05 * f_in:
                    raise RuntimeError(f"{f_out:.3f} Mpps out, {f_in:.3f} in")
                r["floor"], r["floor_share"] = f_out, f_share
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                print(f"  (harness floor not measured in this run: testpmd: {e})", flush=True)
        r["feed_limited"] = limited
        return r

    # ---- harness floor: testpmd io forwarding (ring feed) ---------------------------------------
    def floor_rate(self, templates):
        """DPDK's testpmd in io mode (each received burst sent on as it is: no packet byte read or written) between
        the same two ports, fed by the same ring feed, its forwarding lcore on the workers' CPU, a pool of the same
        size: the cycles/packet of the harness itself (the ring dequeue, the mbuf lines the feed's CPU wrote,
        net_null's free back into the pool), which every gateway pays before doing anything. Returns ((Mpps out,
        Mpps in, in packets, forwarding lcore's on-CPU share), feed report)."""
        lan, wan = self.devices("outbound", None, None, True, ring=True)
        c = self.case
        prefix = self.prefix()
        # -l 0,1: EAL's main lcore (CPU 0) only waits on stdin; lcore 1 (the workers' CPU) forwards.
        cmd = self.a.nice + [self.a.testpmd, *lcore_args(1, True), "--file-prefix", prefix, "--no-pci", *self.eal_mem(),
                             "--log-level", "lib.eal:error", "--vdev", lan, "--vdev", wan, "--",
                             "--forward-mode=io", "--nb-cores=1", "--burst=32", f"--total-num-mbufs={self.a.mbufs}",
                             "--mbcache=256", "--auto-start"]
        log = open(os.path.join(self.a.work, "testpmd.log"), "w")
        # Without -i it forwards until a line (or EOF) arrives on its stdin.
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
        fed = None
        try:
            tel = Telemetry(prefix, proc, timeout=c.startup_s)
            fed = Feed(self.a, prefix, "testpmd", "outbound", templates, c)
            sampled = tel.sample_rate(1, 0, *self.a.window(c), worker_task(proc.pid, "rte-worker-1"),
                                      timeout=c.startup_s, mark=fed.mark)
            tel.close()
            report = fed.stop()
            proc.stdin.close()
            proc.wait(timeout=30)
        finally:
            self.reap(proc, fed, log, prefix)
        return sampled, report

    # ---- correctness gate ----------------------------------------------------------------------
    def gate(self, gate_pcap, garp, expected_inner):
        """Both gateways process the gate pcap's packets into a pcap; scapy checks what came out (decrypting
        outbound ESP with the SA its SPI names): every checked packet must be one of `expected_inner` (the inner
        packets sent), TTL decremented or not, with a valid header checksum, and outbound to the SA's peer."""
        from scapy.all import IP, rdpcap
        c = self.case
        direction = c.dir
        expected = {bytes(IP(p))[20:]: p for p in expected_inner}  # by IP payload (UDP ports differ per flow)
        out = {}
        for app in ("dpvpn", "secgw") if c.secgw else ("dpvpn",):
            tx = os.path.join(self.a.work, f"gate-{app}.pcap")
            if os.path.exists(tx):
                os.unlink(tx)
            if app == "dpvpn":
                self.run_dpvpn(direction, gate_pcap, garp, False, exit_idle_ms=300 + int(c.startup_s * 1000), tx_pcap=tx)
            else:
                self.run_secgw(direction, gate_pcap, garp, False, tx_pcap=tx, run_s=1.0)
            pkts = [p for p in rdpcap(tx) if IP in p]
            good = 0
            for p in pkts[:: max(1, len(pkts) // 256)]:  # scapy is slow: check up to ~256 spread packets
                ip = p[IP]
                if direction == "outbound":
                    raw = bytes(ip)
                    spi = int.from_bytes(raw[20:24], "big")
                    sa_index = spi - topo.SPI_OUT
                    if ip.proto != 50 or ip.src != topo.WAN_IP or not 0 <= sa_index < c.sas or \
                            ip.dst != topo.peer_ip(sa_index, c.sas):
                        continue
                    try:
                        ip = gen_traffic.scapy_sa("outbound", c.alg, spi, IP(src=topo.WAN_IP, dst=ip.dst),
                                                  sa_index).decrypt(ip)
                    except Exception:  # an ICV that does not verify, a bad pad
                        continue
                    if ip.dst != topo.remote_host(sa_index, c.sas):
                        continue
                inner = bytes(ip)
                ref = expected.get(inner[20:])
                if ref is None or len(inner) != c.size or inner[8] not in (ref[8], ref[8] - 1):
                    continue
                hdr = IP(inner)
                sent_sum = hdr.chksum
                del hdr.chksum
                if IP(bytes(hdr)).chksum == sent_sum:  # a valid header checksum after the TTL change
                    good += 1
            checked = len(pkts[:: max(1, len(pkts) // 256)])
            # Both gateways know the next hops' MACs from their config and the gate's TX port delivers no ARP,
            # so a next hop missing from dpvpn's static neighbours leaves it nothing to send (it would solicit
            # and hold). Normally every packet arrives; at least a quarter must (the bound from when dpvpn
            # learnt the MAC from a gratuitous ARP and lost the first packets, kept lest a few drops on a
            # loaded machine abort a long matrix run: `delivered` shows the count).
            ok = len(pkts) >= GATE_COUNT // 4 and checked > 0 and good == checked
            out[app] = {"delivered": len(pkts), "of": GATE_COUNT, "checked": checked, "good": good, "ok": ok}
            if not ok:
                raise RuntimeError(f"correctness gate failed for {app} {c.label()}: {out[app]}")
        return out

    # ---- the ring feed's traffic -----------------------------------------------------------------
    def check_feed_frames(self, gate_pcap):
        """The ring feed builds the traffic: its first GATE_COUNT frames (dpvpn-bench-feed --dump, the same code
        path as its ring mode). One SA, 8 flows: against the gate pcap from gen_traffic.py (scapy-built). Inbound:
        byte for byte (sequence numbers 1.., IV, ciphertext, ICV). Outbound: the feed writes only the
        Ethernet/IPv4/UDP headers into a recycled mbuf, so those must match (UDP checksum 0: none), the payload
        is whatever the buffer holds. Several SAs or flows: each frame is checked against the scheme of
        bench_topology.py (addresses, ports, SPI, per-SA sequence numbers, header checksum), inbound ones
        decrypted by scapy with their SA's keys (the ICV must verify).
        Returns (summary, the dumped pcap, the inner packets it carries)."""
        from scapy.all import IP, rdpcap
        c = self.case
        out = os.path.join(self.a.work, f"feed-{c.dir}.pcap")
        subprocess.run([self.a.feed_bin, "--dump", out, "--count", str(GATE_COUNT), "--templates", gate_pcap,
                        *feed_traffic_args(c.dir, c)], check=True)
        mine = [bytes(p) for p in rdpcap(out)]
        if c.sas == 1 and c.flows == gen_traffic.N_FLOWS:
            ref = [bytes(p) for p in rdpcap(gate_pcap)]
            if c.dir == "inbound":
                bad = sum(a != b for a, b in zip(mine, ref))
            else:
                bad = sum(len(a) != len(b) or a[:40] != b[:40] or a[40:42] != b"\0\0" for a, b in zip(mine, ref))
            if len(mine) != len(ref) or bad:
                raise RuntimeError(f"the ring feed's {c.dir} frames differ from gen_traffic.py's ({bad} of {len(ref)})")
            return ({"frames": len(mine), "compared": "bytes" if c.dir == "inbound" else "headers"}, out,
                    gen_traffic.inner_packets(c.dir, c.size))
        inners, bad, seqs = [], 0, {}
        for k, frame in enumerate(mine, start=1):
            f = (k - 1) % c.flows if c.dir == "outbound" else k % c.flows
            sa_index = f % c.sas
            ip = IP(frame[14:])
            if c.dir == "inbound":
                seqs[sa_index] = seqs.get(sa_index, 0) + 1
                spi, seq = int.from_bytes(frame[34:38], "big"), int.from_bytes(frame[38:42], "big")
                if spi != topo.spi_in(sa_index, c.sas) or seq != seqs[sa_index] or \
                        ip.src != topo.peer_ip(sa_index, c.sas) or ip.dst != topo.WAN_IP:
                    bad += 1
                    continue
                try:
                    ip = gen_traffic.scapy_sa("inbound", c.alg, spi, IP(src=ip.src, dst=ip.dst), sa_index).decrypt(ip)
                except Exception:
                    bad += 1
                    continue
            src, dst = (topo.remote_host(sa_index, c.sas), topo.HOST_IP) if c.dir == "inbound" else \
                (topo.HOST_IP, topo.remote_host(sa_index, c.sas))
            inner = bytes(ip)
            hdr = IP(inner)
            sent_sum = hdr.chksum
            del hdr.chksum
            if hdr.src != src or hdr.dst != dst or hdr.sport != 10000 + f % 50000 or hdr.dport != 5001 + f // 50000 \
                    or len(inner) != c.size or IP(bytes(hdr)).chksum != sent_sum:
                bad += 1
                continue
            inners.append(inner)
        if bad:
            raise RuntimeError(f"the ring feed's {c.dir} frames for {c.sas} SAs / {c.flows} flows: {bad} of "
                               f"{len(mine)} wrong")
        return {"frames": len(mine), "compared": "scheme" + (" + scapy decrypt" if c.dir == "inbound" else "")}, \
            out, inners

    # ---- crypto ceiling ------------------------------------------------------------------------
    def crypto(self, sizes, alg):
        r = subprocess.run(self.a.nice + ["taskset", "-c", "1", self.a.crypto, "--sizes", ",".join(map(str, sizes)),
                                          "--alg", alg], check=True, capture_output=True, text=True)
        return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


class PinnedFile:
    """Keeps a file's pages in RAM (mmap + mlock) while the gateways read it. The single-pass inbound pcaps are
    0.6-1.8 GB and the page cache does not keep them (the kernel's DAMON reclaim evicts cold pages even with free
    memory): the gateway measured first then read from disk and warmed the cache for the one after it (dpvpn ran
    first, secgw read the same packets from memory). Pinned, both read the same cached bytes."""

    def __init__(self, path):
        import ctypes
        import mmap
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.mmap.restype = ctypes.c_void_p
        self.libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                   ctypes.c_long]
        self.libc.mlock.argtypes = self.libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        self.path = path
        self.size = os.path.getsize(path)
        fd = os.open(path, os.O_RDONLY)
        try:
            self.addr = self.libc.mmap(None, self.size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        finally:
            os.close(fd)
        if self.addr in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), f"mmap {path}")
        self.locked = self.libc.mlock(self.addr, self.size) == 0  # faults every page in, then keeps it
        if not self.locked:
            print(f"  note: could not mlock {os.path.basename(path)} (errno {ctypes.get_errno()}): reading it "
                  "before each run instead", flush=True)

    def warm(self):
        """Without the lock: read the file through once more right before a run (cheap when cached)."""
        if not self.locked:
            with open(self.path, "rb", buffering=0) as f:
                while f.read(1 << 24):
                    pass

    def close(self):
        self.libc.munmap(self.addr, self.size)


def on_cpu_cycles(tsc_hz, run):
    """Cycles/packet counting only the time the worker thread was on a CPU: the wall-clock figure includes the
    time slices other processes take from the worker's core on a shared machine (the gateways are measured one
    after the other, so load that comes and goes hits one more than the other). Same for both gateways."""
    return tsc_hz / (run["mpps"] * 1e6) * run["cpu_share"]


def retry(measure):
    """One retry: on a loaded machine a run can start so late that the sampling outlives it."""
    try:
        return measure()
    except RuntimeError as e:
        print(f"  (retrying once: {e})", flush=True)
        return measure()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dpvpn", required=True)
    ap.add_argument("--secgw", required=True)
    ap.add_argument("--crypto", required=True)
    ap.add_argument("--testpmd", help="dpdk-testpmd, for the harness floor (ring feed only; none: not measured)")
    ap.add_argument("--feed-bin", dest="feed_bin", help="dpvpn-bench-feed (for --feed ring)")
    ap.add_argument("--feed", choices=("ring", "pcap"), default="ring",
                    help="traffic feed: ring = dpvpn-bench-feed into a net_ring port (default; needs hugepages), "
                         "pcap = net_pcap from pcaps (the method until 2026-11)")
    ap.add_argument("--pcaps", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--nice", type=int, default=-10,
                    help="nice level of the measured processes (as root; 0 = leave as is): on a shared machine "
                         "a compile job on the worker's core otherwise steals whole time slices")
    ap.add_argument("--mbufs", type=int, help=f"mbufs in each gateway's pool (default {MBUFS_RING_FEED} with the ring "
                                               f"feed, {MBUFS} with the pcap feed)")
    ap.add_argument("--feed-sleep-us", dest="feed_sleep_us", type=int, default=100,
                    help="longest sleep of the ring feed when the ring is full (0: it spins; see ring_feed.cpp)")
    ap.add_argument("--hugepages", action="store_true")
    ap.add_argument("--sizes", default="64,256,512,1420")
    ap.add_argument("--dirs", default="outbound,inbound")
    ap.add_argument("--algs", default="aes128gcm,aes128cbc-sha256", help=f"of {','.join(topo.ALGS)}")
    ap.add_argument("--window", dest="window_s", type=float, default=0.6,
                    help="ring feed: seconds of each sampled window (longer to profile a run with perf)")
    ap.add_argument("--secgw-max-sas", dest="secgw_max_sas", type=int, default=1000,
                    help="run ipsec-secgw only in cases with at most this many SA pairs (its start-up with 100k SAs "
                         "took more than 4 minutes)")
    ap.add_argument("--scales", default="1,1000,100000:1000000",
                    help="SA pairs[:flows] per case (flows default: max(8, SA pairs)); 100000:1000000 = 100k SA "
                         "pairs and 1M flows (dpvpn's `connections` entries)")
    ap.add_argument("--lcores", default="1,2",
                    help="worker lcores: 1 = the matrix; 2 = the 1- vs 2-lcore scaling of dpvpn, ipsec-secgw and "
                         "testpmd (bench/scaling.py: AES-GCM, 1 SA outbound / 2 SAs inbound, --dirs x --sizes, pcap "
                         "traffic read by the workers)")
    ap.add_argument("--no-gate", action="store_true")
    a = ap.parse_args()
    if a.feed == "ring":
        if not a.hugepages:
            ap.error("--feed ring needs --hugepages (a DPDK secondary process shares the gateway's hugepage memory)")
        if not a.feed_bin:
            ap.error("--feed ring needs --feed-bin")
    # The ring feed takes mbufs first-in first-out from the pool's ring, so the whole pool circulates, where a
    # NIC's RX refills from the worker's lcore cache (last-in first-out: the RX ring's 1-4k buffers in use).
    # 4095 mbufs (~9 MB; the ring holds 1023, the worker's cache up to 384, the feed 64) circulate about as many
    # buffers as a NIC would; with 32767 (~72 MB) each packet's second mbuf line and 1420 B payload came from
    # DRAM in both gateways (outbound 1420 B: ~2.3 Mpps with 8191, ~4.0 with 4095, both gateways alike).
    # A run where the pool ran dry is refused (check_feed).
    if a.mbufs is None:
        a.mbufs = MBUFS_RING_FEED if a.feed == "ring" else MBUFS
    if a.quick:
        a.sizes, a.algs, a.scales, a.lcores = "64,1420", "aes128gcm", "1", "1"
    lcores = {int(x) for x in a.lcores.split(",")}
    if not lcores <= {1, 2}:
        ap.error("--lcores: 1, 2 or 1,2")
    os.makedirs(a.results, exist_ok=True)
    a.work = os.path.join(a.pcaps, "work")
    os.makedirs(a.work, exist_ok=True)
    open(os.path.join(a.work, "feed.log"), "w").close()  # this run's feed messages only
    # Inbound pcaps are single-pass: big enough for ~0.5 s at up to ~8 Mpps (64 B) / ~2.5 Mpps (1420 B).
    a.inbound_count = lambda size: 4_000_000 if size <= 256 else 1_200_000
    # dpvpn D1, D2 (ms; D1 None: no cross-check run); telemetry warm-up and window (s). Pcap feed: inbound is
    # bounded by its single-pass pcap. Ring feed: no bound (sequence numbers are made on the fly); D1/D2 leave
    # room for the feed's attach (a secondary process's EAL start, ~0.1-0.3 s, before the first packet) and
    # the case's warm-up.
    if a.feed == "ring":
        # (D2 >= warm-up + window + 0.8 s for the feed's attach: 1500 ms with the default window)
        a.durations = lambda c: ((400, max(1500, int((c.warmup_s + a.window_s) * 1000) + 800)) if c.warmup_s <= 0.1
                                 else (None, None))  # None: stopped once sampled
        a.window = lambda c: (c.warmup_s, a.window_s)
    else:
        a.durations = lambda c: (200, 900) if c.dir == "outbound" else (100, 600) if c.size <= 256 else (100, 450)
        a.window = lambda c: (0.1, 0.6) if c.dir == "outbound" else (0.1, 0.3) if c.size <= 256 else (0.05, 0.2)
    a.nice = ["nice", "-n", str(a.nice)] if a.nice != 0 and os.geteuid() == 0 else []
    # The ring feed at a real-time priority (as root): on a shared machine a compile job on the feed's CPU
    # otherwise takes time slices of milliseconds, the ring (1023 packets, ~0.1-0.4 ms of traffic) runs dry and
    # the gateway waits. It sleeps whenever the ring is full (--feed-sleep-us), so it takes only the CPU time
    # its packets need and is never throttled.
    a.feed_sched = ["chrt", "-f", "1"] if os.geteuid() == 0 else a.nice
    sizes = [int(x) for x in a.sizes.split(",")]
    dirs = a.dirs.split(",")
    algs = a.algs.split(",")
    scales = []  # (SA pairs, flows)
    for item in a.scales.split(","):
        n, _, f = item.partition(":")
        scales.append((int(n), int(f) if f else max(gen_traffic.N_FLOWS, int(n))))
    for alg in algs:
        topo.check(alg, 1)
    if a.feed == "pcap" and (algs != ["aes128gcm"] or scales != [(1, gen_traffic.N_FLOWS)]):
        ap.error("--feed pcap measures AES-GCM with 1 SA only (--algs aes128gcm --scales 1)")
    b = Bench(a)

    ceiling, tsc_hz, arch = {}, None, None
    for alg in algs:
        for c in b.crypto(sizes, alg):
            keep_fastest(ceiling, c, alg)
            tsc_hz, arch = c["tsc_hz"], c["arch"]
    # Two worker lcores and the ring feed need three CPUs: the scaling runs (bench/scaling.py) let the workers read
    # their traffic from pcaps instead (dpvpn, ipsec-secgw, and testpmd for the harness alone).
    if 2 not in lcores:
        lcores_note = "2 lcores: not run (--lcores 1)"
    elif (os.cpu_count() or 1) < 2:
        lcores_note = f"2 lcores: not measured: this machine has {os.cpu_count()} CPU"
    else:
        lcores_note = ("2 lcores: each worker reading its traffic from a pcap (the ring feed would need a third CPU); "
                       "scaling = 2-lcore rate / 1-lcore rate, same traffic and method (bench/scaling.py)")
    results = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "tsc_hz": tsc_hz, "runs": a.runs,
               "loadavg_start": os.getloadavg(), "nice": a.nice, "cpu": cpu_model(), "cpus": os.cpu_count(),
               "crypto_arch": arch, "feed": a.feed, "method": __doc__, "lcores_note": lcores_note, "cases": [],
               "failed": []}
    forward = {}  # (size, SA pairs, flows) -> the forward-only baseline (measured once, with the first algorithm)
    for alg in (algs if 1 in lcores else []):
        for sas, flows in scales:
            for direction in dirs:
                for size in sizes:
                    b.case = Case(direction, size, alg, sas, flows, a.secgw_max_sas)
                    for c in b.crypto([size], alg):  # again before each case: the run keeps the fastest
                        keep_fastest(ceiling, c, alg)
                    try:
                        results["cases"].append(measure_case(a, b, ceiling, tsc_hz, forward))
                    except RuntimeError as e:  # after its retry: one case must not cost the whole matrix
                        print(f"  case failed: {e}", flush=True)
                        results["failed"].append({"dir": direction, "alg": alg, "size": size, "sas": sas,
                                                  "flows": flows, "error": str(e)})
                    with open(os.path.join(a.work, "partial-results.json"), "w") as f:
                        json.dump(results, f, indent=2)

    results["scaling"] = []
    if 2 in lcores and (os.cpu_count() or 1) >= 2:
        for direction in dirs:
            for size in sizes:
                print(f"scaling: {direction} {size} B, {scaling.ALG}, 1 and 2 worker lcores", flush=True)
                try:
                    results["scaling"].append(scaling.measure(b, sys.modules[__name__], direction, size, a.runs))
                except RuntimeError as e:
                    print(f"  scaling failed: {e}", flush=True)
                    results["failed"].append({"dir": direction, "alg": scaling.ALG, "size": size, "sas": None,
                                              "flows": None, "lcores": 2, "error": str(e)})

    results["loadavg_end"] = os.getloadavg()
    for case in results["cases"]:  # every case against the run's fastest ceiling, not the one of its minute
        apply_ceiling(case, ceiling)
    results["crypto_ceiling"] = [dict(c, alg=alg) for (_, _, alg), c in sorted(ceiling.items())]
    report(a, results, tsc_hz, dirs, algs)


def keep_fastest(ceiling, c, alg):
    """The crypto-only ceiling is timed at the run's start and again before each case; each (size, direction,
    algorithm) keeps its fastest time. The call on hot buffers has no slow path of its own: a slower time is another
    process's load (one full run's start-up timing read 131 cycles at 64 B GCM against ~90 in every other run), and a
    ceiling timed in such a minute overstated every efficiency of the run."""
    key = (c["size"], c["dir"], alg)
    old = ceiling.get(key)
    timings = (old["timings"] if old else 0) + 1
    if old is None or c["cycles_per_packet"] < old["cycles_per_packet"]:
        ceiling[key] = dict(c)
    ceiling[key]["timings"] = timings


def apply_ceiling(case, ceiling):
    cc = ceiling[(case["size"], "encrypt" if case["dir"] == "outbound" else "decrypt", case["alg"])]
    case.update({
        "crypto_cycles_per_packet": cc["cycles_per_packet"], "crypto_mpps": cc["mpps"],
        "efficiency": cc["cycles_per_packet"] / case["dpvpn_cycles_per_packet"],
    })


def measure_case(a, b, ceiling, tsc_hz, forward):
    c = b.case
    direction, size = c.dir, c.size
    print(f"== {c.label()}", flush=True)
    traffic, count, gate_pcap, garp = b.pcaps(direction, size, c.alg)
    templates = gate_pcap if a.feed == "ring" else None  # the ring feed's first N_FLOWS frames
    case = {"dir": direction, "alg": c.alg, "size": size, "sas": c.sas, "flows": c.flows, "lcores": 1, "feed": a.feed,
            "traffic": os.path.basename(traffic or gate_pcap), "dpvpn_runs": [], "secgw_runs": []}
    gate_in, expected = gate_pcap, gen_traffic.inner_packets(direction, size)
    if templates:
        case["feed_frames"], dump, inners = b.check_feed_frames(gate_pcap)
        print(f"  ring feed: its first {case['feed_frames']['frames']} frames are right "
              f"({case['feed_frames']['compared']})", flush=True)
        if c.sas > 1 or c.flows > gen_traffic.N_FLOWS:
            gate_in, expected = dump, inners  # the gate then runs the feed's own frames
    if not a.no_gate:
        case["gate"] = b.gate(gate_in, garp, expected)
        print(f"  correctness gate: {case['gate']}", flush=True)
    b.pinned = PinnedFile(traffic) if direction == "inbound" and not templates else None  # see PinnedFile
    try:
        for r in range(a.runs):  # alternate the two gateways so slow phases of the machine hit both
            d = retry(lambda: b.dpvpn_rate(direction, size, traffic, count, garp, templates))
            s = retry(lambda: b.secgw_rate(direction, size, traffic, count, garp, templates)) if c.secgw else None
            case["dpvpn_runs"].append(d)
            if s:
                case["secgw_runs"].append(s)

            def empty(app, x):
                w = x["feed"]["window"]
                return f"{app} {w['ring_empty_seen']}x {w['starved_s'] / w['t'] * 100:.2f} %"
            fw = (f"  [ring empty in window (feed's bound): {empty('dpvpn', d)}"
                  + (f", {empty('secgw', s)}" if s else "") + "]") if templates else ""
            cross = "" if d["stats_json_diff_mpps"] is None else f" (--stats-json difference {d['stats_json_diff_mpps']:.3f})"
            other = f"secgw {s['mpps']:.3f} Mpps" if s else "secgw not run"
            print(f"  run {r + 1}: dpvpn {d['mpps']:.3f} Mpps{cross}  {other}{fw}", flush=True)
    finally:
        if b.pinned:
            b.pinned.close()
        b.pinned = None
    key = (size, c.sas, c.flows)
    if direction == "outbound" and key not in forward:  # the forward-only baseline (see forward_rate)
        fw = [retry(lambda: b.forward_rate(size, traffic, garp, templates)) for _ in range(min(a.runs, 3))]
        base = {"forward_runs": [{"dpvpn_mpps": x["dpvpn"], "secgw_mpps": x["secgw"], "floor_mpps": x["floor"],
                                  "dpvpn_cpu_share": x["dpvpn_share"], "secgw_cpu_share": x["secgw_share"],
                                  "floor_cpu_share": x["floor_share"], "feed_limited": x["feed_limited"]} for x in fw]}
        base["forward_feed_limited_runs"] = sum(x["feed_limited"] for x in fw)
        for app in ("dpvpn", "secgw", "floor"):
            ok = [x for x in fw if x[app] is not None]  # (the floor may be missing from some runs)
            if not ok:
                base[f"{app}_forward_mpps"] = base[f"{app}_forward_oncpu_cycles"] = None
                continue
            # The floor is a lower bound on cost: its fastest run (noise only slows a run); the gateways' medians.
            base[f"{app}_forward_mpps"] = (max if app == "floor" else statistics.median)(x[app] for x in ok)
            # On-CPU cycles/packet (see on_cpu_cycles): the baseline without time lost to other processes.
            base[f"{app}_forward_oncpu_cycles"] = statistics.median(tsc_hz / (x[app] * 1e6) * x[f"{app}_share"]
                                                                    for x in ok)
        forward[key] = base
        lim = base["forward_feed_limited_runs"]
        floor = "" if base["floor_forward_mpps"] is None else f"  testpmd io (harness floor) {base['floor_forward_mpps']:.3f} Mpps"
        print(f"  forward-only baseline: dpvpn {base['dpvpn_forward_mpps']:.3f} Mpps  "
              f"secgw {base['secgw_forward_mpps']:.3f} Mpps{floor}"
              + (f"  ({lim} of {len(fw)} runs feed-limited: lower bounds)" if lim else ""), flush=True)
    if direction == "outbound":
        case.update(forward[key])
    dm = statistics.median(x["mpps"] for x in case["dpvpn_runs"])
    case.update({
        "dpvpn_mpps": dm, "dpvpn_gbps": dm * size * 8 / 1000, "dpvpn_cycles_per_packet": tsc_hz / (dm * 1e6),
        "dpvpn_mpps_min_max": [min(x["mpps"] for x in case["dpvpn_runs"]), max(x["mpps"] for x in case["dpvpn_runs"])],
        "dpvpn_oncpu_cycles_per_packet": statistics.median(on_cpu_cycles(tsc_hz, x) for x in case["dpvpn_runs"]),
    })
    apply_ceiling(case, ceiling)  # for partial-results.json; main() applies the run's fastest after the last case
    if case["secgw_runs"]:
        sm = statistics.median(x["mpps"] for x in case["secgw_runs"])
        case.update({
            "secgw_mpps": sm, "ratio": dm / sm, "secgw_gbps": sm * size * 8 / 1000,
            "secgw_cycles_per_packet": tsc_hz / (sm * 1e6),
            "paired_ratio_median": statistics.median(d["mpps"] / s["mpps"] for d, s in
                                                     zip(case["dpvpn_runs"], case["secgw_runs"])),
            "secgw_mpps_min_max": [min(x["mpps"] for x in case["secgw_runs"]), max(x["mpps"] for x in case["secgw_runs"])],
            "secgw_oncpu_cycles_per_packet": statistics.median(on_cpu_cycles(tsc_hz, x) for x in case["secgw_runs"]),
        })
        case["oncpu_ratio"] = case["secgw_oncpu_cycles_per_packet"] / case["dpvpn_oncpu_cycles_per_packet"]
    else:
        case["secgw_note"] = f"not run: more than --secgw-max-sas {a.secgw_max_sas} SAs"
        for k in ("secgw_mpps", "ratio", "secgw_gbps", "secgw_cycles_per_packet", "paired_ratio_median",
                  "secgw_oncpu_cycles_per_packet", "oncpu_ratio"):
            case[k] = None
        case["secgw_mpps_min_max"] = [None, None]
    diffs = [x["stats_json_diff_mpps"] for x in case["dpvpn_runs"] if x["stats_json_diff_mpps"] is not None]
    case["dpvpn_stats_json_diff_mpps"] = statistics.median(diffs) if diffs else None
    return case


def num(v, spec):
    """Formats a number, or n/a for a gateway that did not run."""
    return "n/a" if v is None else format(v, spec)


def report(a, results, tsc_hz, dirs, algs):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    json_path = os.path.join(a.results, f"bench-{stamp}.json")
    cases = results["cases"]
    print()
    print(f"{results['cpu']}, TSC {tsc_hz / 1e9:.3f} GHz, ipsec-mb {results['crypto_arch']}; median of {a.runs} runs; "
          f"load average {results['loadavg_start'][0]:.1f} at start, {results['loadavg_end'][0]:.1f} at end")
    print("Gbps = inner IP packet bytes x rate; cycles/packet = TSC Hz / rate (the worker polls at 100 %); "
          "efficiency = crypto-only cycles/packet / dpvpn cycles/packet")
    hdr = (f"{'dir':<9}{'alg':<17}{'SAs':>7}{'flows':>8}{'size':>5} {'dpvpn Mpps':>10} {'secgw Mpps':>10} "
           f"{'dpvpn Gbps':>10} {'secgw Gbps':>10} {'dpvpn cyc/p':>11} {'secgw cyc/p':>11} {'crypto cyc/p':>12} "
           f"{'dpvpn/secgw':>11} {'efficiency':>10}")

    def head(c):
        return f"{c['dir']:<9}{c['alg']:<17}{c['sas']:>7}{c['flows']:>8}{c['size']:>5}"
    print(hdr)
    for c in cases:
        print(f"{head(c)} {c['dpvpn_mpps']:>10.3f} {num(c['secgw_mpps'], '>10.3f')} {c['dpvpn_gbps']:>10.2f} "
              f"{num(c['secgw_gbps'], '>10.2f')} {c['dpvpn_cycles_per_packet']:>11.0f} "
              f"{num(c['secgw_cycles_per_packet'], '>11.0f')} "
              f"{c['crypto_cycles_per_packet']:>12.0f} {num(c['ratio'], '>11.2f')} {c['efficiency'] * 100:>9.1f}%"
              f"   (paired ratio {num(c['paired_ratio_median'], '.2f')}; runs: dpvpn {c['dpvpn_mpps_min_max'][0]:.2f}.."
              f"{c['dpvpn_mpps_min_max'][1]:.2f}, "
              f"secgw {num(c['secgw_mpps_min_max'][0], '.2f')}..{num(c['secgw_mpps_min_max'][1], '.2f')})")
    print("\non-CPU view (worker thread's CPU time instead of wall time: no time slices lost to other processes; "
          "ratio = secgw/dpvpn on-CPU cycles)")
    print(f"{'dir':<9}{'alg':<17}{'SAs':>7}{'flows':>8}{'size':>5} {'dpvpn on-CPU cyc/p':>18} {'secgw on-CPU cyc/p':>18} "
          f"{'ratio':>6}  worker CPU share dpvpn / secgw (medians)")
    for c in cases:
        sshare = statistics.median(x['cpu_share'] for x in c['secgw_runs']) if c['secgw_runs'] else None
        print(f"{head(c)} {c['dpvpn_oncpu_cycles_per_packet']:>18.0f} "
              f"{num(c['secgw_oncpu_cycles_per_packet'], '>18.0f')} {num(c['oncpu_ratio'], '>6.2f')}  "
              f"{statistics.median(x['cpu_share'] for x in c['dpvpn_runs']):.2f} / {num(sshare, '.2f')}")
    fwd = [c for c in cases if "dpvpn_forward_mpps" in c]
    if fwd:
        print("\nforward-only baseline (same traffic, ports and feed, clear forwarding, no IPsec): what the harness's RX/TX and "
              "routing cost each gateway; floor = DPDK's testpmd in io mode\n(packets passed from RX to TX untouched: the "
              "harness alone). IPsec cycles/packet = gateway cycles/packet - its forward-only cycles/packet. Bounds, from "
              "the lowest forward-only cycles/packet F\n(normally the floor) and the crypto C: eff. bound = C / (C + F), "
              "ratio bound = secgw cycles/packet / (C + F): the efficiency and the dpvpn/secgw ratio of a gateway\n"
              "whose forwarding and IPsec cost nothing beyond the harness and the crypto call, i.e. the most this harness "
              "lets any gateway show")
        print(f"{'dir':<9}{'alg':<17}{'SAs':>7}{'flows':>8}{'size':>5} {'dpvpn fwd Mpps':>14} {'secgw fwd Mpps':>14} "
              f"{'floor Mpps':>10} {'dpvpn IPsec cyc/p':>17} {'secgw IPsec cyc/p':>17} {'secgw/dpvpn':>11} "
              f"{'eff. bound':>10} {'ratio bound':>11}   on-CPU: fwd cyc/p dpvpn, secgw, floor; IPsec cyc/p dpvpn, "
              f"secgw, secgw/dpvpn")
        for c in fwd:
            if c["secgw_mpps"] is None:
                continue
            di = c["dpvpn_cycles_per_packet"] - tsc_hz / (c["dpvpn_forward_mpps"] * 1e6)
            si = c["secgw_cycles_per_packet"] - tsc_hz / (c["secgw_forward_mpps"] * 1e6)
            c["dpvpn_ipsec_cycles_per_packet"], c["secgw_ipsec_cycles_per_packet"] = di, si
            dio = c["dpvpn_oncpu_cycles_per_packet"] - c["dpvpn_forward_oncpu_cycles"]
            sio = c["secgw_oncpu_cycles_per_packet"] - c["secgw_forward_oncpu_cycles"]
            rates = [c[f"{app}_forward_mpps"] for app in ("dpvpn", "secgw", "floor") if c[f"{app}_forward_mpps"]]
            lowest = tsc_hz / (max(rates) * 1e6)
            crypto = c["crypto_cycles_per_packet"]
            c["efficiency_bound"] = crypto / (crypto + lowest)
            c["ratio_bound"] = c["secgw_cycles_per_packet"] / (crypto + lowest)
            floor_oncpu = num(c["floor_forward_oncpu_cycles"], ".0f")
            print(f"{head(c)} {c['dpvpn_forward_mpps']:>14.3f} {c['secgw_forward_mpps']:>14.3f} "
                  f"{num(c['floor_forward_mpps'], '>10.3f')} "
                  f"{di:>17.0f} {si:>17.0f} {si / di if di > 0 else float('nan'):>11.2f} "
                  f"{c['efficiency_bound'] * 100:>9.1f}% {c['ratio_bound']:>11.2f}   "
                  f"{c['dpvpn_forward_oncpu_cycles']:.0f}, {c['secgw_forward_oncpu_cycles']:.0f}, {floor_oncpu}; "
                  f"{dio:.0f}, {sio:.0f}, {sio / dio if dio > 0 else float('nan'):.2f}")
    one = {(c["dir"], c["alg"], c["size"]): c for c in cases if c["sas"] == 1 and c["flows"] == gen_traffic.N_FLOWS}
    scaled = [c for c in cases if (c["dir"], c["alg"], c["size"]) in one and (c["sas"] > 1 or c["flows"] > gen_traffic.N_FLOWS)]
    if scaled:
        print("\nscale: each gateway's rate with many SAs / flows as a share of its own 1-SA, 8-flow rate (same run)")
        print(f"{'dir':<9}{'alg':<17}{'SAs':>7}{'flows':>8}{'size':>5} {'dpvpn':>8} {'secgw':>8}")
        for c in scaled:
            o = one[(c["dir"], c["alg"], c["size"])]
            c["dpvpn_share_of_1sa"] = c["dpvpn_mpps"] / o["dpvpn_mpps"]
            c["secgw_share_of_1sa"] = None if c["secgw_mpps"] is None else c["secgw_mpps"] / o["secgw_mpps"]
            print(f"{head(c)} {c['dpvpn_share_of_1sa'] * 100:>7.1f}% "
                  f"{num(None if c['secgw_share_of_1sa'] is None else c['secgw_share_of_1sa'] * 100, '>7.1f')}%")
    print(f"\n{results['lcores_note']}")
    if results.get("scaling"):
        print("harness = DPDK's testpmd in io mode on the same pcaps, devices and lcores (the pcap feed's own copy "
              "and the machine's memory, with no application work); ratio = dpvpn / ipsec-secgw")
        print(f"{'dir':<9}{'alg':<17}{'SAs':>7}{'flows':>8}{'size':>5} {'dpvpn 1 / 2 lcores':>19} {'scaling':>7} "
              f"{'secgw 1 / 2 lcores':>19} {'scaling':>7} {'harness 1 / 2':>15} {'scaling':>7} {'ratio 1 / 2':>11}"
              "   dpvpn paired (2/1 per run)")
        for c in results["scaling"]:
            harness = f"{c['testpmd_1']:.2f} / {c['testpmd_2']:.2f}" if c["testpmd_1"] else "n/a"
            print(f"{head(c)} {c['dpvpn_1']:>8.3f} / {c['dpvpn_2']:<8.3f} {c['dpvpn_scaling']:>7.2f} "
                  f"{c['secgw_1']:>8.3f} / {c['secgw_2']:<8.3f} {c['secgw_scaling']:>7.2f} {harness:>15} "
                  f"{num(c['testpmd_scaling'], '>7.2f')} {c['ratio_1']:>5.2f} / {c['ratio_2']:<5.2f}   "
                  + " ".join(f"{x:.2f}" for x in c["dpvpn_paired"]))
    targets.print_table(cases, results.get("scaling", []))
    results["targets"] = targets.rows(cases, results.get("scaling", []))
    with open(json_path, "w") as f:
        json.dump(results, f, indent=2)
    print()
    def bench_head(c):
        return f"bench: dir={c['dir']} alg={c['alg']} size={c['size']} sas={c['sas']} flows={c['flows']} lcores={c.get('lcores', 1)}"
    for c in cases:
        print(f"{bench_head(c)} dpvpn_mpps={c['dpvpn_mpps']:.3f} secgw_mpps={num(c['secgw_mpps'], '.3f')} "
              f"ratio={num(c['ratio'], '.2f')} efficiency={c['efficiency']:.2f} oncpu_ratio={num(c['oncpu_ratio'], '.2f')}")
    for c in results.get("scaling", []):
        print(f"bench: dir={c['dir']} alg={c['alg']} size={c['size']} sas={c['sas']} flows={c['flows']} lcores=2 "
              f"dpvpn_mpps={c['dpvpn_2']:.3f} secgw_mpps={c['secgw_2']:.3f} ratio={c['ratio_2']:.2f} "
              f"dpvpn_1lcore_mpps={c['dpvpn_1']:.3f} scaling={c['dpvpn_scaling']:.2f} "
              f"secgw_scaling={c['secgw_scaling']:.2f} harness_scaling={num(c['testpmd_scaling'], '.2f')}")
    for c in results["failed"]:
        print(f"{bench_head(c)} FAILED: {c['error']}")
    print(f"\nJSON: {json_path}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        if results.get("scaling"):
            png = os.path.join(a.results, f"bench-{stamp}-lcores.png")
            scaling.plot(plt, results["scaling"], png)
            print(f"plot: {png}")
        if not cases:
            return
        panels = [(d, al) for al in algs for d in dirs]
        fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
        for ax, (direction, alg) in zip(axes[0], panels):
            for sas, flows in sorted({(c["sas"], c["flows"]) for c in cases}):
                cs = [c for c in cases if c["dir"] == direction and c["alg"] == alg and c["sas"] == sas and
                      c["flows"] == flows]
                if not cs:
                    continue
                tag = "" if sas == 1 and flows == gen_traffic.N_FLOWS else f" {sas} SAs/{flows} flows"
                xs = [c["size"] for c in cs]
                ax.plot(xs, [c["dpvpn_mpps"] for c in cs], "o-", label="dpvpn" + tag)
                if all(c["secgw_mpps"] is not None for c in cs):
                    ax.plot(xs, [c["secgw_mpps"] for c in cs], "s-", label="ipsec-secgw" + tag)
                if not tag:
                    ax.plot(xs, [c["crypto_mpps"] for c in cs], "^--", label="crypto only (ipsec-mb)")
            ax.set_xscale("log")
            xs = sorted({c["size"] for c in cases})
            ax.set_xticks(xs, [str(x) for x in xs])
            ax.set_xlabel("inner packet size (bytes)")
            ax.set_ylabel("Mpps, 1 lcore")
            ax.set_title(f"{direction}, {alg}")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        png = os.path.join(a.results, f"bench-{stamp}.png")
        fig.savefig(png, dpi=100)
        print(f"plot: {png}")
    except ImportError:
        print("plot: skipped (python3-matplotlib is not installed)")

if __name__ == "__main__":
    main()
