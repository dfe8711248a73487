#!/usr/bin/python3
"""scripts/bench-ike.sh's runner: IKEv2 tunnel setups per responder CPU time, dpvpn-controld vs
strongSwan's charon, same machine, same run, same suite (PSK, X25519, AES-GCM-128).

Topology (tests/ike_interop/strongswan.py): namespace `left` is the load generator, dpvpn's own IKE
engine as initiator (bench/ike_load.cpp): tunnel i comes from 10.100.0.1+i (an AnyIP route) and
asks for 172.16.0.1+i/32 <-> 10.2.0.0/24, at most 128 setups in flight. Namespace `right` holds the
responder: dpvpn-controld --no-dataplane (ike_instances 2, every tunnel a configured connection, DPD
on) or charon (one connection for remote_addrs 10.100.0.0/16, tuned for rate: dos_protection no,
32 threads, a large IKE SA table, no routes, logging off; kernel-libipsec installs its child SAs).

On 2 cores the generator competes with the responder, so the figure that compares them is the
responder's CPU time per tunnel: on-CPU nanoseconds (/proc/PID/task/*/schedstat) of every thread of every
responder process (controld and its iked instances; charon), read before and after the N setups. Wall-clock setups/s
is printed too. The crypto floor of a setup for the responder is two X25519 operations (keygen + shared
secret) plus its PRF and AEAD work: 14 HMAC-SHA256 (SKEYSEED, 5 blocks of prf+ for the IKE keys, 3 for
each AUTH, 2 blocks for the child keys; 12 of them on <= 64 octets, 2 on ~256) and two AES-128-GCM
operations on ~256 octets (the IKE_AUTH request and response), all timed with `openssl speed` in the
same run (its HMAC reuses the key schedule, its GCM skips key setup: a floor, not an estimate). It is
measured twice: alone, and pinned to CPU 0 while CPU 1 computes X25519 as the generator does during
the run (vCPUs that share a core slow each other's X25519); the table shows dpvpn's cost over both.
dpvpn computes X25519 with libsodium (faster than OpenSSL 3.0's key generation), so its own floor is
printed too: its DhGroup's keygen + shared secret, timed by `dpvpn-ike-load --x25519-speed` (process
CPU time, like `openssl speed`), plus the same PRF and AEAD work (own_floor_ratio). Because the
machine's speed drifts over minutes, each dpvpn run also gets the X25519 floor timed right before it;
paired_floor_ratio is the median of the runs' ratios to their own minute's floor.
Memory: the responder's RSS (all its processes) after N tunnels minus before (config loaded, no
tunnel), per tunnel; and its whole RSS per tunnel (with the N configured connections).

Holding: the largest dpvpn N is then kept for --hold-s seconds (default 25) with DPD every 10 s
(the generator answers); the responder's CPU over the hold, its RSS, and both sides' count of
tunnels still up are printed as `bench-ike-hold: ...`.

usage: run_bench_ike.py BUILD_DIR [--tunnels 1000,10000] [--strongswan-tunnels 1000] [--hold-s 25] [--repeat 1] [--out DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "ike_interop"))
from strongswan import LEFT, RIGHT, Conn, Child, Psk, StrongSwan, Topology  # noqa: E402

PSK = "bench-ike-secret"
PROPOSAL, ESP = "aes128gcm16-prfsha256-x25519", "aes128gcm16"
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(pid):
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in os.listdir(f"/proc/{p}/task") if os.path.exists(f"/proc/{p}/task") else []:
            try:
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
    return out


def cpu_seconds(pids):
    """CPU time of every thread of `pids`, from /proc/PID/task/TID/schedstat (nanoseconds on the
    CPU): utime + stime from /proc/PID/stat count 10 ms ticks, too coarse for 1000 setups of ~0.1 ms
    over three processes. (Threads that exit in between are lost; the responders' pools do not.)"""
    total = 0
    for p in pids:
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/schedstat") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
    return total / 1e9


def rss_bytes(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return total


def wait_idle(pid, timeout=120):
    """The responder's processes once they stop using CPU (start-up done: under 5 ms of CPU in
    half a second); their pids."""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        pids = tree(pid)
        now = (len(pids), cpu_seconds(pids))
        if last is not None and now[0] == last[0] and now[1] - last[1] < 0.005:
            return pids
        last = now
        time.sleep(0.5)
    raise RuntimeError("the responder never went idle")


def openssl_speed(args, label, busy_other_cpu=False):
    """One `openssl speed` row. busy_other_cpu: pinned to CPU 0 while CPU 1 computes X25519 too,
    as the load generator does beside the responder during the run (if the vCPUs share a physical
    core, that slows the responder's X25519; on a quiet machine here the two floors came out equal,
    with another load on the machine up to 20 % apart)."""
    cmd = ["openssl", "speed", "-seconds", "1"] + args
    busy = None
    if busy_other_cpu and os.cpu_count() >= 2:
        busy = subprocess.Popen(["taskset", "-c", "1", "openssl", "speed", "-seconds", "3", "ecdhx25519"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        cmd = ["taskset", "-c", "0"] + cmd
    try:
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
    finally:
        if busy:
            busy.kill()
            busy.wait()
    for line in out.splitlines():
        if line.startswith(label):
            return line
    raise RuntimeError(f"cannot parse openssl speed {' '.join(args)}:\n{out}")


def x25519_s(busy_other_cpu=False):
    """One X25519 operation, in seconds, from `openssl speed` on this machine now."""
    m = re.search(r"253 bits ecdh \(X25519\)\s+([\d.]+)s\s+([\d.]+)",
                  openssl_speed(["ecdhx25519"], " 253 bits", busy_other_cpu))
    return 1 / float(m.group(2))


def crypto_floor_ms(busy_other_cpu=False):
    """The responder's crypto per setup, in ms, from `openssl speed` on this machine now."""
    x25519 = x25519_s(busy_other_cpu)

    def per_op(args, label, size):
        kbytes = float(openssl_speed(args + ["-bytes", str(size)], label, busy_other_cpu).split()[-1].rstrip("k"))
        return size / (kbytes * 1000)

    hmac64 = per_op(["-hmac", "sha256"], "hmac(sha256)", 64)
    hmac256 = per_op(["-hmac", "sha256"], "hmac(sha256)", 256)
    gcm256 = per_op(["-evp", "aes-128-gcm"], "AES-128-GCM", 256)
    parts = {"x25519_ms": 2 * x25519 * 1000, "prf_ms": (12 * hmac64 + 2 * hmac256) * 1000, "aead_ms": 2 * gcm256 * 1000}
    return sum(parts.values()), parts


def median_run(runs):
    """The run with the median CPU per tunnel, with every run's figure (cpu_ms_runs) and the hold's
    figures from whichever run held."""
    ordered = sorted(runs, key=lambda r: r["cpu_ms_per_tunnel"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["cpu_ms_runs"] = [round(r["cpu_ms_per_tunnel"], 4) for r in runs]
    for r in runs:
        if r.get("hold_s"):
            chosen.update({k: v for k, v in r.items() if k.startswith("hold") or k.startswith("held")})
    return chosen


def paired(run, parts):
    """One dpvpn run with the X25519 floor timed by `openssl speed` just before it (PRF and AEAD from
    the start): this machine's speed drifts by 20-30 % over minutes with its neighbours' load, so a
    run is compared with a floor of the same minute (paired_floor_ratio; the median is reported)."""
    floor_now = 2 * x25519_s() * 1000 + parts["prf_ms"] + parts["aead_ms"]
    result = run()
    result.update(paired_floor_ms=floor_now, paired_floor_ratio=result["cpu_ms_per_tunnel"] / floor_now)
    return result


def own_x25519_ms(build):
    """X25519 per setup (keygen + shared secret) through dpvpn's DhGroup, in ms of CPU time."""
    out = subprocess.run([os.path.join(build, "bench", "dpvpn-ike-load"), "--x25519-speed", "3"],
                         capture_output=True, text=True, check=True).stdout
    return float(fields_of(out.strip())["us_per_setup"]) / 1000


def fields_of(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


def generate_load(topo, build, tunnels, hold_s=0, after_setup=None):
    """N setups from the generator; then, with hold_s, it keeps the tunnels that long (answering the
    responder's DPD). after_setup() runs between the two. Returns (seconds, established, held)."""
    topo.run("left", ["ip", "route", "replace", "local", "10.100.0.0/16", "dev", "lo"])
    topo.run("right", ["ip", "route", "replace", "10.100.0.0/16", "via", LEFT.wan])
    p = subprocess.Popen(["ip", "netns", "exec", topo.left, os.path.join(build, "bench", "dpvpn-ike-load"),
                          "--responder", RIGHT.wan, "--tunnels", str(tunnels), "--psk", PSK, "--proposal", PROPOSAL,
                          "--esp", ESP, "--timeout-s", "300", "--hold-s", str(hold_s)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    fields = fields_of(line)
    if after_setup and "established" in fields:
        after_setup()
    rest, err = p.communicate()
    if "established" not in fields or int(fields["established"]) == 0:
        raise RuntimeError(f"load generator: {line} {err}")
    if int(fields["established"]) < tunnels:  # the responder gave some up: report what it did
        print(f"  note: only {fields['established']} of {tunnels} tunnels came up in {fields['seconds']} s", flush=True)
    held = fields_of(rest.strip().splitlines()[-1]).get("held") if hold_s and rest.strip() else None
    return float(fields["seconds"]), int(fields["established"]), int(held) if held is not None else None


def measure(topo, build, responder_pid, tunnels, hold_s=0, responder_count=None):
    """The responder's CPU time and RSS (all its processes) around N setups from the generator; with
    hold_s, also over the hold that follows (DPD), and how many tunnels both sides still have."""
    pids = wait_idle(responder_pid)  # start-up done: config parsed, every instance has its connections
    cpu0, rss0 = cpu_seconds(pids), rss_bytes(pids)
    after = {}

    def after_setup():
        ps = tree(responder_pid)
        after.update(cpu=cpu_seconds(ps), rss=rss_bytes(ps), pids=ps)

    seconds, up, held = generate_load(topo, build, tunnels, hold_s, after_setup)
    if not after:
        after_setup()
    cpu1, rss1, pids = after["cpu"], after["rss"], after["pids"]
    result = {"cpu_ms_per_tunnel": (cpu1 - cpu0) * 1000 / up, "setups_per_s": up / seconds,
              "rss_per_tunnel": (rss1 - rss0) / up, "rss_total_per_tunnel": rss1 / up, "processes": len(pids)}
    if hold_s:
        pids = tree(responder_pid)
        cpu2, rss2 = cpu_seconds(pids), rss_bytes(pids)
        result.update(hold_s=hold_s, held_by_generator=held,
                      held_by_responder=responder_count() if responder_count else None,
                      hold_cpu_ms_per_tunnel_per_min=(cpu2 - cpu1) * 1000 / up * 60 / hold_s,
                      hold_rss_total_per_tunnel=rss2 / up)
    return result


def run_dpvpn(build, tunnels, workdir, hold_s=0):
    with Topology(hosts=False) as topo:
        d = os.path.join(topo.workdir, "controld")
        os.makedirs(d)
        conns = []
        for i in range(tunnels):
            a = 0x0A640001 + i
            peer = f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"
            conns.append(f"  - name: t{i}\n    local: {RIGHT.wan}\n    remote: {peer}\n    auth: psk\n"
                         f"    psk: {PSK}\n    proposals: [{PROPOSAL}]\n    dpd_delay: 10s\n    children:\n"
                         f"      - name: net\n        local_ts: [10.2.0.0/24]\n        remote_ts: [172.16.0.0/16]\n"
                         f"        esp_proposals: [{ESP}]\n")
        with open(os.path.join(d, "c.yaml"), "w") as f:
            f.write(f"controld:\n  ike_instances: 2\n  listen: [{RIGHT.wan}]\n  management_socket: {d}/c.sock\n"
                    f"  log_dir: {d}\n  cookie_threshold: 100000\nconnections:\n" + "".join(conns))
        proc = topo.popen("right", [os.path.join(build, "controlplane", "controld", "dpvpn-controld"), "--config",
                                    os.path.join(d, "c.yaml"), "--no-dataplane", "--log-level", "warn"],
                          stdout=open(os.path.join(d, "out"), "w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(d, "c.sock")) and time.time() < deadline:
            time.sleep(0.1)

        def ike_sas():
            out = subprocess.run([os.path.join(build, "controlplane", "dpvpnctl"), "--controld-socket",
                                  os.path.join(d, "c.sock"), "--json", "ike", "instances"],
                                 capture_output=True, text=True).stdout
            return sum(int(i.get("ike_sas", 0)) for i in json.loads(out).get("instances", []))

        return measure(topo, build, proc.pid, tunnels, hold_s, ike_sas)


def run_strongswan(build, tunnels):
    with Topology(hosts=False) as topo:
        conn = Conn(name="bench", local_addrs=RIGHT.wan, remote_addrs="10.100.0.0/16", auth=Psk(PSK),
                    local_id=RIGHT.wan, remote_id="%any", proposals=PROPOSAL,
                    children=[Child(name="net", local_ts="10.2.0.0/24", remote_ts="172.16.0.0/16", esp_proposals=ESP)])
        sw = StrongSwan(topo.right, os.path.join(topo.workdir, "sw"), [conn], label="charon",
                        log_levels={"default": -1, "ike": -1, "knl": -1, "cfg": -1, "net": -1, "enc": -1},
                        charon_options={"dos_protection": "no", "threads": 32, "ikesa_table_size": 32768,
                                        "ikesa_table_segments": 32, "init_limit_half_open": 0,
                                        "install_routes": "no", "retransmit_tries": 6}).start()
        try:
            return measure(topo, build, sw.proc.pid, tunnels)
        finally:
            sw.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--tunnels", default="1000,10000")
    ap.add_argument("--strongswan-tunnels", default="1000")
    ap.add_argument("--hold-s", type=int, default=25,
                    help="after the largest dpvpn N is up, hold it this long (DPD every 10 s) and measure again")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each case this many times and report the median CPU per tunnel (single runs on "
                         "a shared machine swing +-10 %%)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-results"))
    args = ap.parse_args()
    floor, parts = crypto_floor_ms()
    busy_floor, busy_parts = crypto_floor_ms(busy_other_cpu=True)
    print(f"crypto floor (openssl speed): {floor:.3f} ms per setup = 2 x X25519 {parts['x25519_ms']:.3f} + "
          f"PRF {parts['prf_ms']:.4f} + AEAD {parts['aead_ms']:.4f}; with the other CPU busy "
          f"(as during the run): {busy_floor:.3f}", flush=True)
    own_x25519 = own_x25519_ms(args.build)
    own_floor = own_x25519 + parts["prf_ms"] + parts["aead_ms"]
    print(f"dpvpn's own X25519 per setup (libsodium keygen + shared secret): {own_x25519:.3f} ms; "
          f"own floor {own_floor:.3f} ms", flush=True)
    results = {"floor_ms": floor, "floor_parts": parts, "busy_floor_ms": busy_floor, "busy_floor_parts": busy_parts,
               "own_floor_ms": own_floor, "own_x25519_ms": own_x25519, "dpvpn": {}, "strongswan": {}}
    sw_counts = [int(n) for n in args.strongswan_tunnels.split(",") if n]
    for n in sorted({int(x) for x in args.tunnels.split(",")} | set(sw_counts)):
        if n in [int(x) for x in args.tunnels.split(",")]:
            largest = n == max(int(x) for x in args.tunnels.split(","))
            # The hold (if any) follows the last run only; its figures join the median run's.
            runs = [paired(lambda: run_dpvpn(args.build, n, args.out, args.hold_s if largest and r == args.repeat - 1 else 0),
                           parts) for r in range(args.repeat)]
            results["dpvpn"][n] = median_run(runs)
            ratios = sorted(r["paired_floor_ratio"] for r in runs)
            results["dpvpn"][n]["paired_floor_ratios"] = [round(r["paired_floor_ratio"], 3) for r in runs]
            results["dpvpn"][n]["paired_floor_ratio"] = ratios[(len(ratios) - 1) // 2]
            print(f"dpvpn      N={n:6d}: {results['dpvpn'][n]}", flush=True)
        if n in sw_counts:
            results["strongswan"][n] = median_run([run_strongswan(args.build, n) for _ in range(args.repeat)])
            print(f"strongswan N={n:6d}: {results['strongswan'][n]}", flush=True)
    print(f"\n{'tunnels':>8} {'dpvpn ms/t':>11} {'swan ms/t':>10} {'ratio':>6} {'dpvpn/s':>8} {'swan/s':>7} "
          f"{'floor x':>8} {'busy x':>7} {'dpvpn KiB/t':>12} {'total':>8}")
    for n, d in results["dpvpn"].items():
        s = results["strongswan"].get(n)
        ratio = s["cpu_ms_per_tunnel"] / d["cpu_ms_per_tunnel"] if s else float("nan")
        print(f"{n:8d} {d['cpu_ms_per_tunnel']:11.3f} {s['cpu_ms_per_tunnel'] if s else float('nan'):10.3f} "
              f"{ratio:6.2f} {d['setups_per_s']:8.0f} {s['setups_per_s'] if s else float('nan'):7.0f} "
              f"{d['cpu_ms_per_tunnel'] / floor:8.2f} {d['cpu_ms_per_tunnel'] / busy_floor:7.2f} "
              f"{d['rss_per_tunnel'] / 1024:12.1f} "
              f"{d['rss_total_per_tunnel'] / 1024:8.1f}")
    for n, d in results["dpvpn"].items():
        s = results["strongswan"].get(n)
        print(f"bench-ike: tunnels={n} dpvpn_cpu_ms_per_tunnel={d['cpu_ms_per_tunnel']:.3f} "
              f"strongswan_cpu_ms_per_tunnel={s['cpu_ms_per_tunnel'] if s else float('nan'):.3f} "
              f"ratio={(s['cpu_ms_per_tunnel'] / d['cpu_ms_per_tunnel']) if s else float('nan'):.2f} "
              f"dpvpn_setups_per_s={d['setups_per_s']:.0f} "
              f"strongswan_setups_per_s={s['setups_per_s'] if s else float('nan'):.0f} "
              f"floor_ratio={d['cpu_ms_per_tunnel'] / floor:.2f} busy_floor_ratio={d['cpu_ms_per_tunnel'] / busy_floor:.2f} "
              f"own_floor_ratio={d['cpu_ms_per_tunnel'] / own_floor:.2f} "
              f"paired_floor_ratio={d['paired_floor_ratio']:.2f}")
    for n, d in results["dpvpn"].items():
        if d.get("hold_s"):
            print(f"bench-ike-hold: tunnels={n} hold_s={d['hold_s']} dpd_delay_s=10 "
                  f"held_by_responder={d['held_by_responder']} held_by_generator={d['held_by_generator']} "
                  f"controld_kib_per_tunnel={d['hold_rss_total_per_tunnel'] / 1024:.1f} "
                  f"controld_kib_per_tunnel_marginal={d['rss_per_tunnel'] / 1024:.1f} "
                  f"hold_cpu_ms_per_tunnel_per_min={d['hold_cpu_ms_per_tunnel_per_min']:.3f}")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, time.strftime("bench-ike-%Y%m%d-%H%M%S.json"))
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
