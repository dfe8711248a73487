#!/usr/bin/python3
"""End to end: two dpvpn-dataplane gateways on net_af_packet ports (veth pairs), mirrored static
SAs, a kernel host in a network namespace behind each (tunnel_topology.py draws the picture).
For each configuration (algorithm x NAT-T):
  1. ICMP echo both ways over IPv4 and IPv6 (a raw-socket client; one warm-up for ARP/ND), all replies;
  2. 8 MiB of random bytes over TCP/IPv4 hostA -> hostB, and 1 MiB over TCP/IPv6 hostB -> hostA,
     sha256 equal on both ends;
  3. the capture of the link between the gateways holds only ESP (proto 50, or UDP 4500 with
     NAT-T) with the expected SPI per direction, and no clear packet;
  4. the gateways' final counters (--stats-json): encrypted/decrypted >= what was sent, no
     authentication failure, no replay drop, no unknown SPI, nothing too big, nothing forwarded clear.
Needs root (namespaces), iproute2 and Debian's /usr/bin/python3.
usage: test_tunnel_netns.py path/to/dpvpn-dataplane [alg[+natt] ...]   (default: the CONFIGS below)
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tunnel_topology as tt  # noqa: E402

CONFIGS = [("aes128gcm", False), ("aes128gcm", True), ("aes256cbc-sha256", False)]
PINGS = 10
TCP_V4_BYTES = 8 << 20
TCP_V6_BYTES = 1 << 20
PMTU_BYTES = 1 << 20


def parse_configs(args):
    out = []
    for a in args:
        alg, _, natt = a.partition("+")
        out.append((alg, natt == "natt"))
    return out or CONFIGS


class Checks:
    def __init__(self, label):
        self.label, self.failures = label, []

    def expect(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok


def run_config(binary, alg, natt):
    label = f"{alg}, {'NAT-T (UDP 4500)' if natt else 'ESP (proto 50)'}"
    c = Checks(label)
    t0 = time.monotonic()
    topo = tt.Topology(binary, alg, natt, workdir=tempfile.mkdtemp(prefix="dpvpn-e2e-"))  # kept on failure
    sent_by = {"A": 0, "B": 0}  # inner packets each host's gateway had to encrypt (a lower bound)
    try:
        with topo:
            # 1. ping both ways, IPv4 and IPv6
            for side, peer in (("A", "B"), ("B", "A")):
                for v6 in (False, True):
                    dst = topo.host_addr(peer, v6)
                    topo.ping(side, dst, count=1, timeout=3.0)  # warm-up: ARP / ND on both sides
                    res = topo.ping(side, dst, count=PINGS)
                    print(tt._ping_line(f"host{side} {topo.host_addr(side, v6)}", res))
                    c.expect(res["received"] == res["sent"],
                             f"ping host{side} -> {dst}: {res['received']} of {res['sent']} replies")
                    sent_by[side] += res["received"]
                    sent_by[peer] += res["received"]
            # 2. TCP, sha256 on both ends
            for src, dst, nbytes, v6 in (("A", "B", TCP_V4_BYTES, False), ("B", "A", TCP_V6_BYTES, True)):
                sent, got = topo.tcp_transfer(src, dst, nbytes, port=5001 + v6, v6=v6)
                ok = sent["sha256"] == got["sha256"] == sent["server_sha256"] and got["bytes"] == nbytes
                print(f"  TCP/{'IPv6' if v6 else 'IPv4'} host{src} -> host{dst}: {got['bytes']} of {nbytes} bytes in "
                      f"{sent['seconds']:.2f} s, sha256 {'equal' if ok else 'DIFFERENT'} ({got['sha256'][:16]}...)")
                c.expect(ok, f"TCP host{src} -> host{dst}: sent {sent}, received {got}")
                sent_by[src] += nbytes // 1400  # at least this many data segments crossed
            # 2b. path MTU discovery: hosts at MTU 1500 send segments that no longer fit once
            # encrypted; the gateways answer ICMP too-big and the hosts' TCP adapts.
            for side in ("A", "B"):
                topo.set_host_mtu(side, 1500)
            for src, dst, nbytes, v6 in (("A", "B", PMTU_BYTES, False), ("B", "A", PMTU_BYTES, True)):
                sent, got = topo.tcp_transfer(src, dst, nbytes, port=5003 + v6, v6=v6)
                ok = sent["sha256"] == got["sha256"] and got["bytes"] == nbytes
                print(f"  TCP/{'IPv6' if v6 else 'IPv4'} host{src} -> host{dst} at host MTU 1500 (PMTUD): "
                      f"{got['bytes']} bytes in {sent['seconds']:.2f} s, sha256 {'equal' if ok else 'DIFFERENT'}")
                c.expect(ok, f"PMTUD TCP host{src} -> host{dst}: sent {sent}, received {got}")
            topo.stop_gateways()
            cap = topo.capture.summary()
            stats = {side: gw.stats for side, gw in topo.gateways.items()}
            logs = {side: gw.exit_text() for side, gw in topo.gateways.items()}
    except Exception as e:  # noqa: BLE001 (reported as a failure of this configuration)
        c.failures.append(f"{type(e).__name__}: {e}")
        print(f"FAIL [{label}] ({time.monotonic() - t0:.1f} s): {c.failures[-1]}")
        for gw in topo.gateways.values():
            print(f"--- gateway {gw.side} output:\n" + "\n".join(gw.lines[-40:]))
        return c

    # 3. the wire between the gateways
    encap = "UDP-4500" if natt else "ESP"
    expected_flows = {("A", encap, tt.SPI_A_TO_B), ("B", encap, tt.SPI_B_TO_A)}
    flows = cap["esp_by_flow"]
    print(f"  wire: {cap['esp']} ESP packets ({', '.join(f'{s}: {e} spi 0x{spi:08x} x{n}' for (s, e, spi), n in sorted(flows.items()))}), "
          f"{cap['clear']} clear, {cap['arp']} ARP, {cap['ike']} IKE, capture drops {cap['kernel_drops']}")
    c.expect(set(flows) == expected_flows, f"ESP flows on the wire {sorted(flows)}, want {sorted(expected_flows)}")
    c.expect(cap["clear"] == 0, f"{cap['clear']} clear packets crossed the internet link: {cap['clear_samples']}")
    c.expect(not any(s["inner"] for s in cap["clear_samples"]), "a clear 10.x / fd0x:: packet crossed the link")
    c.expect(cap["kernel_drops"] == 0, f"the capture lost {cap['kernel_drops']} frames: the proof is incomplete")
    c.expect(cap["ike"] == 0 and cap["other"] == 0, f"unexpected frames: {cap['ike']} IKE, {cap['other']} other")

    # 4. the gateways' counters
    for side, peer in (("A", "B"), ("B", "A")):
        s = stats[side]
        if not c.expect(s is not None, f"gateway {side} wrote no --stats-json"):
            continue
        drops = s["drops"]
        crossed = cap["esp_by_sender"].get(side, 0)
        print(f"  gateway {side}: encrypted {s['encrypted']} decrypted {s['decrypted']} forwarded_clear "
              f"{s['forwarded_clear']} icmp_too_big {s['icmp_too_big']}; nonzero drops: "
              f"{ {k: v for k, v in drops.items() if v} }")
        lost = cap["esp_by_sender"].get(peer, 0) - s["ports"]["outside"]["rx"] + cap["arp"] // 2
        if lost > 2:
            print(f"  note: about {lost} ESP frames from gateway {peer} never reached gateway {side}'s dataplane "
                  "(net_af_packet RX ring overflow: not in dpvpn's counters)")
        c.expect(s["encrypted"] >= sent_by[side], f"gateway {side} encrypted {s['encrypted']} < {sent_by[side]} sent")
        c.expect(s["decrypted"] >= sent_by[peer], f"gateway {side} decrypted {s['decrypted']} < {sent_by[peer]} sent")
        c.expect(s["encrypted"] >= crossed, f"gateway {side}: {crossed} ESP packets on the wire, {s['encrypted']} encrypted")
        c.expect(stats[peer] is None or stats[peer]["decrypted"] <= crossed,
                 f"gateway {peer} decrypted {stats[peer] and stats[peer]['decrypted']} > {crossed} ESP packets on the wire")
        # Only the PMTUD step sends too-big packets, and each drop is answered (rate limit: 100/s).
        c.expect(s["icmp_too_big"] >= 1, f"gateway {side} sent no ICMP too-big during the PMTUD step")
        c.expect(drops.get("too_big", 0) <= s["icmp_too_big"] + s["fragmented"],
                 f"gateway {side}: {drops.get('too_big')} too_big drops, {s['icmp_too_big']} ICMP errors")
        for name in ("esp_auth_failed", "esp_replay_duplicate", "esp_replay_too_old", "unknown_spi",
                     "esp_bad_padding", "esp_ts_mismatch", "outbound_ts_mismatch", "no_sa_acquire", "tx_full"):
            c.expect(drops.get(name, 0) == 0, f"gateway {side}: drops.{name} = {drops.get(name)}")
        c.expect(s["forwarded_clear"] == 0, f"gateway {side} forwarded {s['forwarded_clear']} packets in the clear")
        for sa in s["sas"]:
            c.expect(sa["auth_failures"] == 0 and sa["replay_drops"] == 0,
                     f"gateway {side} SA {sa['name']}: {sa}")
            c.expect(sa["packets"] > 0, f"gateway {side} SA {sa['name']} carried no packet")
    status = "ok" if not c.failures else "FAIL"
    print(f"{status} [{label}] ({time.monotonic() - t0:.1f} s)")
    if c.failures:
        for f in c.failures:
            print(f"  - {f}")
        for side, text in logs.items():
            print(f"--- gateway {side} final counters:\n{text}")
        print(f"  (configs, logs and stats kept in {topo.workdir})")
    else:
        shutil.rmtree(topo.workdir, ignore_errors=True)
    return c


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        return 77
    start = time.monotonic()
    results = []
    for alg, natt in parse_configs(sys.argv[2:]):
        print(f"== {alg}, NAT-T {'on' if natt else 'off'}")
        results.append(run_config(binary, alg, natt))
    failed = [r for r in results if r.failures]
    for r in failed:  # again at the end, where a log's tail shows it
        print(f"FAIL [{r.label}]: " + "; ".join(r.failures))
    print(f"{'FAILED' if failed else 'OK'}: {len(results) - len(failed)} of {len(results)} configurations "
          f"passed in {time.monotonic() - start:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
