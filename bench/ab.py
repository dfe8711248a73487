#!/usr/bin/python3
"""Interleaved A/B of two dpvpn builds on one benchmark case: the way to see a change of 5-20 % on a shared,
noisy machine, where one gateway's single runs spread by +-20-40 % from minute to minute.

  bench/ab.py snapshot DIR [--build build]          copy a build's three bench binaries to DIR (a frozen "A")
  bench/ab.py run DIR_A DIR_B [--dir outbound] [--size 64] [--scale 1] [--alg aes128gcm] [--pairs 8]

Each pair runs A then B, the next pair B then A (drift in the machine's load hits both alike), one
`scripts/bench.sh --no-gate --runs 1` each (dpvpn only: --secgw-max-sas 0), under /tmp/dpvpn-bench.lock like
every benchmark here. Prints each pair's rates and B/A, then the median B/A, how many pairs B won, and the
two-sided sign-test p-value of that count (under "no difference" each pair is a coin toss). Pairs are
independent only if the machine's slow phases are shorter than a pair (about a minute): read p < 0.05 over
10+ pairs as a real difference, a median within +-5 % as none.
"""
import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARIES = ("dataplane/dpvpn-dataplane", "bench/dpvpn-bench-crypto", "bench/dpvpn-bench-feed")


def snapshot(a):
    for rel in BINARIES:
        dst = os.path.join(a.dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(a.build, rel), dst)
    print(f"ab: {a.build} -> {a.dest}")


def one_run(build, a):
    env = dict(os.environ, BUILD_DIR=build, BENCH_SKIP_SETUP="1")
    cmd = ["flock", "/tmp/dpvpn-bench.lock", os.path.join(ROOT, "scripts", "bench.sh"), "--no-gate", "--runs", "1",
           "--sizes", str(a.size), "--dirs", a.dir, "--algs", a.alg, "--scales", a.scale, "--secgw-max-sas", "0",
           "--lcores", "1"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True).stdout
    m = re.search(r"^bench: dir=.* dpvpn_mpps=([0-9.]+)", out, re.M)
    return float(m.group(1)) if m else None


def sign_test_p(wins, n):
    """Two-sided p-value of `wins` of n under Binomial(n, 1/2)."""
    k = min(wins, n - wins)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def run(a):
    for d in (a.build_a, a.build_b):
        for rel in BINARIES:
            if not os.access(os.path.join(d, rel), os.X_OK):
                sys.exit(f"ab: {os.path.join(d, rel)} is missing (bench/ab.py snapshot {d})")
    ratios = []
    for p in range(a.pairs):
        order = (("A", a.build_a), ("B", a.build_b)) if p % 2 == 0 else (("B", a.build_b), ("A", a.build_a))
        rate = {}
        for name, build in order:
            rate[name] = one_run(build, a)
        if rate["A"] is None or rate["B"] is None:
            print(f"pair {p + 1}: a run failed (A {rate['A']}, B {rate['B']}): skipped", flush=True)
            continue
        ratios.append(rate["B"] / rate["A"])
        print(f"pair {p + 1}: A {rate['A']:.3f}  B {rate['B']:.3f} Mpps  B/A {ratios[-1]:.3f}", flush=True)
    if not ratios:
        sys.exit("ab: no pair completed")
    wins = sum(r > 1 for r in ratios)
    print(f"ab: {a.dir} {a.size} B {a.alg} scale {a.scale}: median B/A {statistics.median(ratios):.3f} over "
          f"{len(ratios)} pairs, B faster in {wins}, sign test p = {sign_test_p(wins, len(ratios)):.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("dest")
    s.add_argument("--build", default=os.path.join(ROOT, "build"))
    r = sub.add_parser("run")
    r.add_argument("build_a")
    r.add_argument("build_b")
    r.add_argument("--dir", default="outbound", choices=("outbound", "inbound"))
    r.add_argument("--size", type=int, default=64)
    r.add_argument("--scale", default="1", help="SA pairs[:flows], as scripts/bench.sh --scales")
    r.add_argument("--alg", default="aes128gcm")
    r.add_argument("--pairs", type=int, default=8)
    a = ap.parse_args()
    snapshot(a) if a.cmd == "snapshot" else run(a)


if __name__ == "__main__":
    main()
