#!/usr/bin/python3
"""Instructions per packet of one gateway's worker loop, under callgrind, in steady state: the noise-free
view of scripts/bench.sh's cases (same pcaps, topology and configs as bench/run_bench.py).

  bench/cg_count.py dpvpn outbound 64 [--dpvpn BUILD/dataplane/dpvpn-dataplane] [--warm 2] [--window 4]
  bench/cg_count.py secgw inbound 1420 [--secgw build-bench/secgw/src/ipsec-secgw/build/ipsec-secgw]

The gateway runs under valgrind --tool=callgrind collecting only inside its worker loop (dpvpn:
Worker::poll_once, so RX and TX are included; ipsec-secgw: ipsec_poll_mode_worker). Once packets leave the
output port (telemetry) and after --warm seconds, the counters are zeroed (callgrind_control -z), and
dumped --window seconds later; instructions / packets handled in between (calls of a once-per-packet
function: dpvpn's AES-GCM call into intel-ipsec-mb (its per-packet helpers are inline), ipsec-secgw's
esp_outbound / esp_inbound). Wall-clock time does not matter
(valgrind is ~50x slower), so this needs no lock against other benchmarks; it takes a few minutes per case.
The pcaps must exist (scripts/bench.sh --quick makes them). Valgrind has no AVX-512: intel-ipsec-mb runs
its AVX2 code, so the crypto part is not what the real run executes (and differs between its direct and
JOB APIs); compare the rest. Prints one line; the callgrind file stays in --out for callgrind_annotate.
Valgrind runs one thread at a time; --fair-sched=yes makes it take turns: without it the polling worker
starved dpvpn's main thread, which then never made the flows' `connections` entries, so every burst looked
them up (~120 instructions/packet outbound that a real run does not execute; counts before 2026-11-29 16:40
include them).
"""
import argparse
import collections
import glob
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_topology as topo  # noqa: E402
from run_bench import MBUFS, OUTBOUND_LOOP, Telemetry  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def callgrind_costs(path):
    """(self instructions per object, calls per callee name, self instructions per (object, function)) of one
    callgrind output file."""
    obs, fns = {}, {}
    cur_ob = cur_fn = None
    per_ob = collections.Counter()
    per_fn = collections.Counter()
    calls = collections.Counter()
    callee = None
    after_calls = False
    for line in open(path):
        line = line.rstrip("\n")
        m = re.match(r"^(c?ob|c?fn)=\((\d+)\)(?: (.*))?$", line)
        if m:
            kind, idx, name = m.groups()
            table = obs if kind.endswith("ob") else fns
            if name:
                table[idx] = name
            if kind == "ob":
                cur_ob = obs.get(idx, idx)
            elif kind == "fn":
                cur_fn = fns.get(idx, idx)
            elif kind == "cfn":
                callee = fns.get(idx, idx)
            continue
        if line.startswith("calls="):
            calls[callee] += int(line.split("=")[1].split()[0])
            after_calls = True
            continue
        if line and (line[0].isdigit() or line[0] in "+-*"):
            if after_calls:  # the inclusive cost of the call just named
                after_calls = False
                continue
            parts = line.split()
            if len(parts) >= 2:
                per_ob[os.path.basename(cur_ob)] += int(parts[1])
                per_fn[(os.path.basename(cur_ob), cur_fn)] += int(parts[1])
    return per_ob, calls, per_fn


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gateway", choices=["dpvpn", "secgw"])
    ap.add_argument("dir", choices=["outbound", "inbound"])
    ap.add_argument("size", type=int)
    ap.add_argument("--dpvpn", default=os.path.join(ROOT, "build/dataplane/dpvpn-dataplane"))
    ap.add_argument("--secgw", default=os.path.join(ROOT, "build-bench/secgw/src/ipsec-secgw/build/ipsec-secgw"))
    ap.add_argument("--pcaps", default=os.path.join(ROOT, "build-bench/pcaps"))
    ap.add_argument("--out", default=None, help="work directory (default: PCAPS/cg-GATEWAY-DIR-SIZE)")
    ap.add_argument("--warm", type=float, default=2.0, help="seconds after the first output packet")
    ap.add_argument("--window", type=float, default=4.0, help="seconds counted")
    a = ap.parse_args()

    count = OUTBOUND_LOOP if a.dir == "outbound" else (4_000_000 if a.size <= 256 else 1_200_000)
    traffic = os.path.join(a.pcaps, f"{a.dir}-{a.size}-{count}.pcap")
    garp = os.path.join(a.pcaps, f"garp-{a.dir}.pcap")
    for p in (traffic, garp):
        if not os.path.exists(p):
            sys.exit(f"cg_count: {p} is missing (scripts/bench.sh --quick generates it)")
    if a.dir == "outbound":
        lan, wan = f"net_pcap0,rx_pcap={traffic},infinite_rx=1", f"net_pcap1,rx_pcap={garp}"
    else:
        lan, wan = f"net_pcap0,rx_pcap={garp}", f"net_pcap1,rx_pcap={traffic}"
    work = a.out or os.path.join(a.pcaps, f"cg-{a.gateway}-{a.dir}-{a.size}")
    os.makedirs(work, exist_ok=True)
    for f in glob.glob(os.path.join(work, "callgrind.out*")):
        os.unlink(f)
    prefix = f"dpvpn-cg-{os.getpid()}"
    loop = "*Worker::poll_once*" if a.gateway == "dpvpn" else "ipsec_poll_mode_worker"
    cmd = ["valgrind", "--tool=callgrind", "--fair-sched=yes", "--separate-threads=yes", "--collect-atstart=no",
           f"--toggle-collect={loop}", f"--callgrind-out-file={work}/callgrind.out"]
    if a.gateway == "dpvpn":
        cfg = os.path.join(work, "dpvpn.yaml")
        with open(cfg, "w") as f:
            f.write(topo.dpvpn_yaml(lan, wan, MBUFS, os.path.join(work, "agent.sock")))
        cmd += [a.dpvpn, "-l", "0,1", "--file-prefix", prefix, "--no-pci", "--log-level", "lib.eal:error",
                "--no-huge", "-m", "1024", "--", "--config", cfg, "--duration-ms", "3600000"]
        per_packet_fn = None  # see below: dpvpn's per-packet helpers are all inline
    else:
        cfg = os.path.join(work, "secgw.cfg")
        with open(cfg, "w") as f:
            f.write(topo.secgw_cfg())
        cmd += [a.secgw, "-l", "1", "--file-prefix", prefix, "--no-pci", "--no-huge", "-m", "1024",
                "--vdev", lan, "--vdev", wan, "--vdev", "crypto_aesni_mb0", "--", "-p", "0x3", "-P", "-u", "0x2",
                "--config", "(0,0,1),(1,0,1)", "-f", cfg, "-s", str(MBUFS + 1)]
        per_packet_fn = "esp_outbound" if a.dir == "outbound" else "esp_inbound"
    log = open(os.path.join(work, "log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        tel = Telemetry(prefix, proc, timeout=600)
        out_port = 1 if a.dir == "outbound" else 0
        deadline = time.monotonic() + 900
        while tel.port_stats(out_port)[1]["opackets"] == 0:
            if time.monotonic() > deadline:
                sys.exit(f"cg_count: no output packets (see {log.name})")
            time.sleep(0.1)
        time.sleep(a.warm)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, stdout=subprocess.DEVNULL)
        time.sleep(a.window)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, stdout=subprocess.DEVNULL)
        tel.close()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        log.close()
    # The thread that ran the loop is the one file with counts.
    best, best_total, best_costs = None, 0, None
    for f in glob.glob(os.path.join(work, "callgrind.out*")):
        per_ob, calls, per_fn = callgrind_costs(f)
        total = sum(per_ob.values())
        if total > best_total:
            best, best_total, best_costs = f, total, (per_ob, calls, per_fn)
    if best is None:
        sys.exit("cg_count: no callgrind counts")
    per_ob, calls, per_fn = best_costs
    if per_packet_fn is None:
        # dpvpn makes one AES-GCM call per packet: the intel-ipsec-mb function with the most instructions.
        per_packet_fn = max(((v, fn) for (ob, fn), v in per_fn.items() if "IPSec_MB" in ob), default=(0, None))[1]
    packets = calls[per_packet_fn]
    if packets == 0:
        sys.exit(f"cg_count: no calls of {per_packet_fn} in {best}")
    crypto = sum(v for k, v in per_ob.items() if "IPSec_MB" in k)
    print(f"cg: gateway={a.gateway} dir={a.dir} size={a.size} packets={packets} "
          f"instr_per_packet={best_total / packets:.0f} without_ipsec_mb={(best_total - crypto) / packets:.0f} "
          f"file={best}")


if __name__ == "__main__":
    main()
