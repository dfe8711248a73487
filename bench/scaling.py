"""Worker-lcore scaling of dpvpn (#5: "2 lcores >= 1.9x 1 lcore"): the same traffic through 1 and through 2
worker lcores, in alternating runs, AES-GCM-128.

The ring feed needs a CPU of its own, so on a 2-CPU machine it leaves one worker. Here each worker reads its
own traffic from a pcap instead (net_pcap, one RX queue per worker; the other port is net_null, which receives
nothing and frees what it is sent): the feed's cost is then inside each worker's cycles, equally for 1 and 2
workers, and the two workers get the two CPUs (the second shares CPU 0 with the main lcore's thread, which
sleeps between housekeeping rounds).

  outbound: one SA pair, shared by both workers (site-to-site: one tunnel, one sequence counter that the
    workers reserve numbers from per burst); each RX queue replays the 1-SA pcap (8 flows, infinite_rx).
  inbound: two SA pairs (bench_topology.py's remote-access pairs 0 and 1), worker w receives SA w's traffic:
    an inbound SA's replay window belongs to one worker (on a NIC, RSS on the outer addresses and SPI gives
    that). Each queue reads its SA's single-pass pcap, sequence numbers 1..N (dpvpn-bench-feed --dump of the
    2-SA traffic, split by SPI). The 1-worker runs read SA 0's pcap only, with both SAs installed.

Rates are the output port's packets over the sampling window (telemetry), as in run_bench.py; a run counts
only if every packet it took in went out (no drops) and no SA dropped anything (replay, ICV).
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
    counts = split_by_spi(both, {topo.spi_in(w, 2): p for w, p in enumerate(paths)})
    os.unlink(both)
    if any(n != count for n in counts.values()):
        for p in paths:
            os.unlink(p)
        raise RuntimeError(f"scaling: the 2-SA dump split into {counts}, not {count} frames per SA")
    return paths


def one_run(b, direction, size, workers, pcaps, duration_ms, window):
    """dpvpn's output rate (Mpps) with `workers` worker lcores, worker w reading pcaps[w]."""
    streams = ",".join(f"rx_pcap={p}" for p in pcaps[:workers])
    if direction == "outbound":
        devices = (f"net_pcap0,{streams},infinite_rx=1", "net_null1,no-rx=1")
    else:
        devices = ("net_null0,no-rx=1", f"net_pcap1,{streams}")
    stats, sampled, _ = b.run_dpvpn(direction, None, None, False, duration_ms=duration_ms, sample=window,
                                    devices=devices, workers=workers)
    key = "encrypted" if direction == "outbound" else "decrypted"
    lcores = stats["lcores"]
    if len(lcores) != workers or any(lc["rx"] == 0 for lc in lcores):
        raise RuntimeError(f"scaling: {workers} workers but lcores {[(lc.get('lcore'), lc['rx']) for lc in lcores]}")
    if direction == "inbound" and any(lc["rx"] >= n for lc, n in zip(lcores, b.scaling_counts)):
        raise RuntimeError("scaling: an inbound pcap ran dry (use shorter durations)")
    sa_drops = sum(x[k] for x in stats["sas"] for k in ("replay_drops", "auth_failures", "other_drops"))
    if sa_drops:
        raise RuntimeError(f"scaling: SA drops in a measured run ({sa_drops})")
    if abs(sampled[0] - sampled[1]) > 0.05 * sampled[1]:
        raise RuntimeError(f"scaling: output {sampled[0]:.3f} Mpps != input {sampled[1]:.3f} Mpps (drops?)")
    if stats[key] == 0:
        raise RuntimeError(f"scaling: nothing {key}")
    return sampled[0]


def testpmd_run(b, rb, direction, workers, pcaps, window):
    """The harness's own scaling: DPDK's testpmd in io mode (bursts passed from RX to TX untouched) with the
    same devices and lcores as one_run; its output rate (Mpps)."""
    a = b.a
    streams = ",".join(f"rx_pcap={p}" for p in pcaps[:workers])
    if direction == "outbound":
        lan, wan, out_port, in_port = f"net_pcap0,{streams},infinite_rx=1", "net_null1,no-rx=1", 1, 0
    else:
        lan, wan, out_port, in_port = "net_null0,no-rx=1", f"net_pcap1,{streams}", 0, 1
    lcores = ["-l", "0,1"] if workers == 1 else ["--lcores", "0@0,1@1,2@0"]
    prefix = b.prefix()
    cmd = a.nice + [a.testpmd, *lcores, "--file-prefix", prefix, "--no-pci", *b.eal_mem(),
                    "--log-level", "lib.eal:error", "--vdev", lan, "--vdev", wan, "--", "--forward-mode=io",
                    f"--nb-cores={workers}", f"--rxq={workers}", f"--txq={workers}", "--burst=32",
                    "--total-num-mbufs=32767", "--mbcache=256", "--auto-start"]
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
    if b.scaling_counts and sampled[2] >= workers * b.scaling_counts[0]:
        raise RuntimeError("scaling: testpmd read the inbound pcaps to their end (shorter window)")
    return sampled[0]


def measure(b, rb, direction, size, runs):
    """{dir, size, mpps_1, mpps_2, scaling, runs_1, runs_2, paired, harness_scaling, testpmd_1, testpmd_2}:
    medians of `runs` alternating runs each (b: run_bench's Bench; rb: the run_bench module, for its Case,
    feed_traffic_args, retry, Telemetry, worker_task and PinnedFile). harness_scaling: the same for testpmd
    (None without it): what the pcap feed and the machine allow any application."""
    a = b.a
    sas = 1 if direction == "outbound" else 2
    flows = gen_traffic.N_FLOWS if direction == "outbound" else INBOUND_FLOWS
    b.case = rb.Case(direction, size, ALG, sas, flows, 0)
    if direction == "outbound":
        path = b.pcaps("outbound", size, ALG, force_traffic=True)[0]
        pcaps = [path, path]
        b.scaling_counts = None
        duration_ms, window = 900, (0.1, 0.6)
    else:
        count = a.inbound_count(size)
        pcaps = inbound_pcaps(b, rb, size, count)
        b.scaling_counts = [count, count]
        duration_ms, window = (600, (0.1, 0.3)) if size <= 256 else (450, (0.05, 0.2))
    mbufs = a.mbufs
    a.mbufs = max(mbufs, 32767)  # net_pcap's infinite_rx holds each queue's pcap in mbufs of the pool
    # The single-pass pcaps in RAM for every run (the first run read them from disk otherwise).
    pinned = [rb.PinnedFile(p) for p in pcaps] if direction == "inbound" else []
    try:
        rates = {1: [], 2: []}
        for r in range(runs):
            for w in ((1, 2) if r % 2 == 0 else (2, 1)):
                for p in pinned:
                    p.warm()
                rates[w].append(rb.retry(lambda: one_run(b, direction, size, w, pcaps, duration_ms, window)))
                print(f"  run {r + 1}: {w} worker{'s' if w > 1 else ''} {rates[w][-1]:.3f} Mpps", flush=True)
        tp = {1: [], 2: []}
        if a.testpmd:
            tp_window = window if direction == "outbound" else (0.05, 0.1)  # testpmd reads a pcap faster
            for r in range(runs):
                for w in ((1, 2) if r % 2 == 0 else (2, 1)):
                    for p in pinned:
                        p.warm()
                    tp[w].append(rb.retry(lambda: testpmd_run(b, rb, direction, w, pcaps, tp_window)))
            print(f"  testpmd io (the harness alone): 1 core {statistics.median(tp[1]):.3f} Mpps, 2 cores "
                  f"{statistics.median(tp[2]):.3f} Mpps", flush=True)
    finally:
        a.mbufs = mbufs
        for p in pinned:
            p.close()
    m1, m2 = statistics.median(rates[1]), statistics.median(rates[2])
    t1, t2 = (statistics.median(tp[1]), statistics.median(tp[2])) if tp[1] else (None, None)
    return {"dir": direction, "alg": ALG, "size": size, "sas": sas, "flows": flows, "mpps_1": m1, "mpps_2": m2,
            "scaling": m2 / m1, "runs_1": rates[1], "runs_2": rates[2],
            "paired": [y / x for x, y in zip(rates[1], rates[2])],
            "testpmd_1": t1, "testpmd_2": t2, "harness_scaling": t2 / t1 if t1 else None}


def plot(plt, results, png):
    """Mpps with 1 and 2 workers per case (grouped bars), the scaling above each pair."""
    fig, ax = plt.subplots(figsize=(max(4, 1.6 * len(results)), 4))
    xs = range(len(results))
    ax.bar([x - 0.2 for x in xs], [c["mpps_1"] for c in results], 0.4, label="1 worker lcore")
    ax.bar([x + 0.2 for x in xs], [c["mpps_2"] for c in results], 0.4, label="2 worker lcores")
    for x, c in zip(xs, results):
        ax.annotate(f"{c['scaling']:.2f}x", (x, max(c["mpps_1"], c["mpps_2"])), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs), [f"{c['dir']}\n{c['size']} B, {c['sas']} SA{'s' if c['sas'] > 1 else ''}" for c in results])
    ax.set_ylabel("Mpps (pcap traffic read by the workers)")
    ax.set_title(f"dpvpn worker scaling, {ALG}")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
