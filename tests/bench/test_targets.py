#!/usr/bin/python3
"""bench/targets.py: issue #5's targets judged on a run's results. Each threshold is met exactly at its value
and not just below it; cases the targets do not name (CBC, 1000 SAs, other sizes) give no row; a run without
ipsec-secgw gives the efficiency row but no ratio row; the scale and 2-lcore rows come from their own cases."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import targets  # noqa: E402


def case(direction, size, ratio, efficiency, alg="aes128gcm", sas=1, flows=8, **extra):
    c = {"dir": direction, "alg": alg, "size": size, "sas": sas, "flows": flows, "ratio": ratio,
         "efficiency": efficiency, "paired_ratio_median": ratio, "ratio_bound": 2.0, "efficiency_bound": 0.5}
    c.update(extra)
    return c


def verdicts(rows):
    return {r[0]: r[3] for r in rows}


def main():
    failures = []

    def expect(got, want, what):
        if got != want:
            failures.append(f"{what}: got {got!r}, want {want!r}")

    cases = [
        case("outbound", 64, 1.5, 0.6),          # both exactly at the threshold: met
        case("outbound", 1420, 1.29, 0.849),     # just below: not met
        case("inbound", 64, None, 0.7),          # no ipsec-secgw in this run: no ratio row
        case("inbound", 1420, 1.31, 0.86),
        case("outbound", 64, 1.9, 0.9, alg="aes128cbc-sha256"),  # not a target
        case("outbound", 64, 1.9, 0.9, sas=1000, flows=1000),     # not a target
        case("outbound", 256, 1.9, 0.9),                          # not a target size
        case("outbound", 64, None, 0.2, sas=100000, flows=1000000, dpvpn_share_of_1sa=0.849),
        case("inbound", 64, None, 0.2, sas=100000, flows=1000000, dpvpn_share_of_1sa=0.85),
    ]
    scaling = [{"dir": "outbound", "size": 64, "dpvpn_scaling": 1.9, "secgw_scaling": 1.95},
               {"dir": "inbound", "size": 1420, "dpvpn_scaling": 1.89, "secgw_scaling": 2.0}]
    rows = targets.rows(cases, scaling)
    v = verdicts(rows)
    expect(len(rows), 11, "row count (3 ratios + 4 efficiencies + 2 scale + 2 lcores)")
    expect(v.get("outbound   64 B dpvpn/secgw"), "met", "ratio at 1.5")
    expect(v.get("outbound   64 B efficiency"), "met", "efficiency at 60 %")
    expect(v.get("outbound 1420 B dpvpn/secgw"), "not met", "ratio at 1.29")
    expect(v.get("outbound 1420 B efficiency"), "not met", "efficiency at 84.9 %")
    expect(v.get("inbound    64 B dpvpn/secgw"), None, "ratio row without ipsec-secgw")
    expect(v.get("inbound    64 B efficiency"), "met", "efficiency at 70 %")
    expect(v.get("inbound  1420 B dpvpn/secgw"), "met", "ratio at 1.31")
    expect(v.get("outbound   64 B aes128gcm 100000 SAs / 1000000 flows"), "not met", "share 84.9 %")
    expect(v.get("inbound    64 B aes128gcm 100000 SAs / 1000000 flows"), "met", "share 85 %")
    expect(v.get("outbound   64 B 2 lcores"), "met", "scaling 1.9")
    expect(v.get("inbound  1420 B 2 lcores"), "not met", "scaling 1.89")
    for r in rows:
        if "256 B" in r[0] or "aes128cbc" in r[0] or "1000 SAs" in r[0]:
            failures.append(f"row for a case no target names: {r}")
    if failures:
        print("\n".join(failures))
        return 1
    print(f"OK: {len(rows)} target rows judged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
