"""Worker-lcore scaling (#5: "2 lcores >= 1.9x 1 lcore"): the same traffic through 1 and through 2 worker
lcores, in alternating runs, AES-GCM-128, for dpvpn, DPDK's ipsec-secgw (the same traffic, SAs and lcores) and
DPDK's testpmd in io mode (bursts passed on untouched: what the harness and the machine allow any application).

The ring feed needs a CPU of its own, so on a 2-CPU machine it leaves one worker. Here each worker reads its
own traffic from a pcap instead (net_pcap, one RX queue per worker; the other port is net_null, which receives
nothing and frees what it is sent): the feed's cost is then inside each worker's cycles, equally for 1 and 2
workers, and the two workers get the two CPUs (dpvpn's second worker shares CPU 0 with its main lcore's
thread, which sleeps between housekeeping rounds; ipsec-secgw's main lcore is its first worker).

  outbound: one SA pair, shared by both workers (site-to-site: one tunnel, one sequence counter that the
    workers reserve numbers from per burst); each RX queue replays the 1-SA pcap (8 flows, infinite_rx).
  inbound: two SA pairs (bench_topology.py's remote-access pairs 0 and 1), worker w receives SA w's traffic:
    an inbound SA's replay window belongs to one worker (on a NIC, RSS on the outer addresses and SPI gives
    that). Each queue reads its SA's single-pass pcap, sequence numbers 1..N (dpvpn-bench-feed --dump of the
    2-SA traffic, split by SPI). The 1-worker runs read SA 0's pcap only, with both SAs installed.

Rates are the output port's packets over the sampling window (telemetry), as in run_bench.py; a run counts
only if every packet it took in went out (no drops) and, for dpvpn, no SA dropped anything (replay, ICV).
"""
import os
import statistics
import struct
import subprocess

import bench_topology as topo
import gen_traffic

ALG = "aes128gcm"
PCAP_HEADER = 24
RECORD_HEADER = 16
ESP_SPI_OFFSET = 14 + 20  # Ethernet, outer IPv4 (no options), then the ESP header's SPI
INBOUND_FLOWS = 16        # 8 per SA


def inbound_count(size):
    """Frames in each worker's single-pass pcap: enough for a run of ~0.7 s (start-up, warm-up, window) at one
    worker's rate with the pcap read (64 B ~5.4 Mpps, 256 B ~3.6, 512 B ~3, 1420 B ~1.5)."""
    return 4_000_000 if size <= 256 else 2_500_000 if size <= 512 else 1_200_000


def split_by_spi(path, outputs):
    """Writes the frames of pcap `path` whose ESP SPI is k to outputs[k] (a dict SPI -> path), in order.
    Returns the frames written to each."""
    counts = {spi: 0 for spi in outputs}
    files = {spi: open(p, "wb") for spi, p in outputs.items()}
    try:
        with open(path, "rb") as f:
            header = f.read(PCAP_HEADER)
            for out in files.values():
                out.write(header)
            while True:
                rec = f.read(RECORD_HEADER)
                if len(rec) < RECORD_HEADER:
                    break
                caplen = struct.unpack_from("<I", rec, 8)[0]
                frame = f.read(caplen)
                spi = struct.unpack_from(">I", frame, ESP_SPI_OFFSET)[0]
                if spi not in files:
                    raise RuntimeError(f"{path}: a frame with SPI {spi:#x}, none of {list(outputs)}")
                files[spi].write(rec + frame)
                counts[spi] += 1
    finally:
        for out in files.values():
            out.close()
    return counts


def inbound_pcaps(b, rb, size, count):
    """Per worker, the single-pass pcap of SA w (w = 0, 1) of the 2-SA topology, `count` frames each."""
    a = b.a
    paths = [os.path.join(a.pcaps, f"scaling-inbound-{size}-sa{w}-{count}.pcap") for w in range(2)]
    if all(os.path.exists(p) for p in paths):
        return paths
    gate = b.pcaps("inbound", size, ALG)[2]  # the feed's templates: gen_traffic.py's (scapy-checked) frames
    both = os.path.join(a.work, "scaling-inbound-both.pcap")
    print(f"  generating {os.path.basename(paths[0])} and sa1 ({count} packets each) ...", flush=True)
    subprocess.run([a.feed_bin, "--dump", both, "--count", str(2 * count), "--templates", gate,
                    *rb.feed_traffic_args("inbound", b.case)], check=True)
    # Written under temporary names and renamed once whole: a split cut short must not pass for the cache.
    partial = [p + ".partial" for p in paths]
    try:
        counts = split_by_spi(both, {topo.spi_in(w, 2): p for w, p in enumerate(partial)})
        if any(n != count for n in counts.values()):
            raise RuntimeError(f"scaling: the 2-SA dump split into {counts}, not {count} frames per SA")
        for tmp, p in zip(partial, paths):
            os.replace(tmp, p)
    finally:
        os.unlink(both)
        for tmp in partial:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return paths


def devices(direction, workers, pcaps):
    """(lan vdev, wan vdev, output port, input port): the traffic port reads pcaps[w] on its RX queue w."""
    streams = ",".join(f"rx_pcap={p}" for p in pcaps[:workers])
    if direction == "outbound":
        return f"net_pcap0,{streams},infinite_rx=1", "net_null1,no-rx=1", 1, 0
    return "net_null0,no-rx=1", f"net_pcap1,{streams}", 0, 1


def dpvpn_run(b, rb, direction, workers, pcaps, window):
    """dpvpn's output rate (Mpps) with `workers` worker lcores, worker w reading pcaps[w]."""
    lan, wan, _, _ = devices(direction, workers, pcaps)
    # The run's length (ms): start-up, warm-up and window, and inbound shorter than its pcap lasts.
    duration_ms = int((sum(window) + 0.15) * 1000) if direction == "inbound" else 1200
    stats, sampled, _ = b.run_dpvpn(direction, None, None, False, duration_ms=duration_ms, sample=window,
                                    devices=(lan, wan), workers=workers)
    key = "encrypted" if direction == "outbound" else "decrypted"
    lcores = stats["lcores"]
    if len(lcores) != workers or any(lc["rx"] == 0 for lc in lcores):
        raise RuntimeError(f"scaling: {workers} workers but lcores {[(lc.get('lcore'), lc['rx']) for lc in lcores]}")
    if b.scaling_counts and any(lc["rx"] >= n for lc, n in zip(lcores, b.scaling_counts)):
        raise RuntimeError("scaling: an inbound pcap ran dry (use shorter durations)")
    sa_drops = sum(x[k] for x in stats["sas"] for k in ("replay_drops", "auth_failures", "other_drops"))
    if sa_drops:
        raise RuntimeError(f"scaling: SA drops in a measured run ({sa_drops})")
    if stats[key] == 0:
        raise RuntimeError(f"scaling: nothing {key}")
    return check_sampled("dpvpn", b, workers, sampled)


def secgw_run(b, rb, direction, workers, pcaps, window):
    """ipsec-secgw's output rate (Mpps), the same devices and traffic, lcore w + 1 polling queue w."""
    lan, wan, _, _ = devices(direction, workers, pcaps)
    sampled, _, _ = b.run_secgw(direction, None, None, False, sample=window, devices=(lan, wan), workers=workers)
    return check_sampled("secgw", b, workers, sampled)


def testpmd_run(b, rb, direction, workers, pcaps, window):
    """The harness's own scaling: DPDK's testpmd in io mode (bursts passed from RX to TX untouched) with the
    same devices and lcores; its output rate (Mpps)."""
    a = b.a
    lan, wan, out_port, in_port = devices(direction, workers, pcaps)
    prefix = b.prefix()
    cmd = a.nice + [a.testpmd, *rb.lcore_args(workers, True), "--file-prefix", prefix, "--no-pci", *b.eal_mem(),
                    "--log-level", "lib.eal:error", "--vdev", lan, "--vdev", wan, "--", "--forward-mode=io",
                    f"--nb-cores={workers}", f"--rxq={workers}", f"--txq={workers}", "--burst=32",
                    f"--total-num-mbufs={a.mbufs}", "--mbcache=256", "--auto-start"]
    log = open(os.path.join(a.work, "testpmd-scaling.log"), "w")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
    try:
        tel = rb.Telemetry(prefix, proc, timeout=20)
        sampled = tel.sample_rate(out_port, in_port, *window, rb.worker_task(proc.pid, "rte-worker-1"), timeout=20)
        tel.close()
        proc.stdin.close()
        proc.wait(timeout=30)
    finally:
        b.reap(proc, None, log, prefix)
    return check_sampled("testpmd", b, workers, sampled)


def check_sampled(app, b, workers, sampled):
    """The output rate of a sampled window (run_bench's Telemetry.sample_rate): all input went out, and an
    inbound pcap did not run out before the window ended."""
    out_mpps, in_mpps, in_total, _ = sampled
    if b.scaling_counts and in_total >= sum(b.scaling_counts[:workers]):
        raise RuntimeError(f"scaling: {app} read the inbound pcaps to their end (shorter window)")
    if abs(out_mpps - in_mpps) > 0.05 * in_mpps:  # the two reads are not atomic
        raise RuntimeError(f"scaling: {app} output {out_mpps:.3f} Mpps != input {in_mpps:.3f} Mpps (drops?)")
    return out_mpps


APPS = (("dpvpn", dpvpn_run), ("secgw", secgw_run), ("testpmd", testpmd_run))


def measure(b, rb, direction, size, runs):
    """For dpvpn, ipsec-secgw and testpmd (io mode: the harness alone) their rates with 1 and 2 worker lcores,
    medians of `runs` alternating runs each: {dir, size, sas, flows, <app>_1, <app>_2, <app>_scaling,
    <app>_runs_1, <app>_runs_2, dpvpn_paired, ratio_1, ratio_2 (dpvpn / secgw)}; an app that is not there
    (no testpmd) is None. b: run_bench's Bench; rb: the run_bench module (Case, feed_traffic_args, retry,
    Telemetry, worker_task, PinnedFile)."""
    a = b.a
    sas = 1 if direction == "outbound" else 2
    flows = gen_traffic.N_FLOWS if direction == "outbound" else INBOUND_FLOWS
    b.case = rb.Case(direction, size, ALG, sas, flows, 0)
    # Warm-ups of 0.2-0.3 s: dpvpn's main thread, which shares CPU 0 with its second worker, polls every 200 us
    # while it has work (the flows' `connections` entries at the start) and backs off to 20 ms once idle
    # (Dataplane::run_main_loop); with 0.05 s the 2-worker window fell in that phase (inbound 1420 B 1.56x).
    if direction == "outbound":
        path = b.pcaps("outbound", size, ALG, force_traffic=True)[0]
        pcaps = [path, path]
        b.scaling_counts = None
        window = (0.3, 0.6)
    else:
        count = inbound_count(size)
        pcaps = inbound_pcaps(b, rb, size, count)
        b.scaling_counts = [count, count]
        window = (0.2, 0.3) if size <= 256 else (0.25, 0.3)
    mbufs = a.mbufs
    a.mbufs = max(mbufs, 32767)  # net_pcap's infinite_rx holds each queue's pcap in mbufs of the pool
    # The single-pass pcaps in RAM for every run (the first run read them from disk otherwise).
    pinned = [rb.PinnedFile(p) for p in pcaps] if direction == "inbound" else []
    out = {"dir": direction, "alg": ALG, "size": size, "sas": sas, "flows": flows}
    apps = [(app, run) for app, run in APPS if app != "testpmd" or a.testpmd]
    if not a.testpmd:
        out.update({"testpmd_1": None, "testpmd_2": None, "testpmd_scaling": None})
    try:
        # Run r starts with the (r mod apps)-th app (and alternates 1 / 2 lcores): whatever disturbs the first run after the
        # pcaps are pinned (the kernel still settling 1-4 GB of newly locked pages) falls on each app in turn.
        # (With each app's runs back to back, dpvpn always went first: inbound 512 / 1420 B read 0.34-0.75 Mpps
        # there, 1.5-2.9 in the runs after.)
        rates = {app: {1: [], 2: []} for app, _ in apps}
        if pinned:
            # Not counted: a run of each lcore count first. The first runs after pinning were still slow (the
            # first app's 1- and 2-lcore runs at 1420 B: 0.51 Mpps against 1.2-1.4 in its later runs).
            first_app, first_run = apps[0]
            for w in (1, 2):
                rb.retry(lambda: first_run(b, rb, direction, w, pcaps, window))
            print(f"  (warm-up: {first_app} at 1 and 2 lcores, not counted)", flush=True)
        for r in range(runs):
            for app, run in apps[r % len(apps):] + apps[:r % len(apps)]:
                # testpmd reads a single-pass pcap several times faster than a gateway: a shorter window.
                w_app = (0.05, 0.1) if app == "testpmd" and direction == "inbound" else window
                for w in ((1, 2) if r % 2 == 0 else (2, 1)):
                    for p in pinned:
                        p.warm()
                    rates[app][w].append(rb.retry(lambda: run(b, rb, direction, w, pcaps, w_app)))
        for app, _ in apps:
            r1, r2 = rates[app][1], rates[app][2]
            m1, m2 = statistics.median(r1), statistics.median(r2)
            out.update({f"{app}_1": m1, f"{app}_2": m2, f"{app}_scaling": m2 / m1, f"{app}_runs_1": r1,
                        f"{app}_runs_2": r2})
            print(f"  {app}: 1 lcore {m1:.3f} Mpps, 2 lcores {m2:.3f} Mpps ({m2 / m1:.2f}x; runs 1: "
                  + " ".join(f"{x:.2f}" for x in r1) + ", 2: " + " ".join(f"{x:.2f}" for x in r2) + ")", flush=True)
    finally:
        a.mbufs = mbufs
        for p in pinned:
            p.close()
    out["dpvpn_paired"] = [y / x for x, y in zip(out["dpvpn_runs_1"], out["dpvpn_runs_2"])]
    out["ratio_1"] = out["dpvpn_1"] / out["secgw_1"]
    out["ratio_2"] = out["dpvpn_2"] / out["secgw_2"]
    return out

def plot(plt, results, png):
    """Mpps with 1 and 2 workers per case (grouped bars), the scaling above each pair."""
    fig, ax = plt.subplots(figsize=(max(4, 1.6 * len(results)), 4))
    xs = range(len(results))
    bars = (("dpvpn", 1, -0.3), ("dpvpn", 2, -0.1), ("secgw", 1, 0.1), ("secgw", 2, 0.3))
    for app, w, dx in bars:
        ax.bar([x + dx for x in xs], [c[f"{app}_{w}"] for c in results], 0.2,
               label=f"{'dpvpn' if app == 'dpvpn' else 'ipsec-secgw'}, {w} lcore{'s' if w > 1 else ''}")
    for x, c in zip(xs, results):
        ax.annotate(f"{c['dpvpn_scaling']:.2f}x", (x - 0.2, c["dpvpn_2"]), ha="center", va="bottom", fontsize=7)
        ax.annotate(f"{c['secgw_scaling']:.2f}x", (x + 0.2, c["secgw_2"]), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(xs), [f"{c['dir']}\n{c['size']} B, {c['sas']} SA{'s' if c['sas'] > 1 else ''}" for c in results])
    ax.set_ylabel("Mpps (pcap traffic read by the workers)")
    ax.set_title(f"1 vs 2 worker lcores, {ALG} (x: 2-lcore / 1-lcore)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
