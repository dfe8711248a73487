"""Issue #5's targets, judged on one run's results (run_bench.py prints them after its tables): which the run
met, by how much, and what the harness allows any gateway (the forward-only table's bounds).

  - dpvpn / ipsec-secgw, AES-GCM-128, 1 SA, 1 worker lcore: >= 1.5x at 64 B and >= 1.3x at 1420 B, each
    direction (inbound with dpvpn's anti-replay on);
  - efficiency (crypto-only cycles / dpvpn cycles), same cases: >= 60 % at 64 B, >= 85 % at 1420 B;
  - 100k SAs with 1M `connections` entries: >= 85 % of dpvpn's own 1-SA rate (same direction, algorithm, size);
  - 2 worker lcores: >= 1.9x 1 lcore.

A case the run did not measure is not listed. The verdict uses the medians the tables print (the paired
ratio is shown beside them); on a shared machine one run is one sample: read a verdict near its threshold
as that, not as a property of the code.
"""

GCM = "aes128gcm"
RATIO = {64: 1.5, 1420: 1.3}
EFFICIENCY = {64: 0.60, 1420: 0.85}
SCALE_SAS, SCALE_FLOWS, SCALE_SHARE = 100000, 1000000, 0.85
LCORE_SCALING = 1.9


def _verdict(value, threshold, digits):
    """Judged on the value as printed (rounded to `digits`), so a printed 1.50 never reads "not met"."""
    return "met" if round(value, digits) >= threshold else "not met"


def rows(cases, scaling=()):
    """One row per target the run measured: (what, value text, threshold text, verdict, note)."""
    out = []
    one_sa = [c for c in cases if c["alg"] == GCM and c["sas"] == 1 and c.get("lcores", 1) == 1 and c["size"] in RATIO]
    for c in sorted(one_sa, key=lambda c: (c["dir"] != "outbound", c["size"])):
        what = f"{c['dir']:<8} {c['size']:>4} B"
        if c.get("ratio") is not None:
            paired = c.get("paired_ratio_median")
            note = f"paired {paired:.2f}" if paired is not None else ""
            if c.get("ratio_bound") is not None:
                note += f"{'; ' if note else ''}harness bound {c['ratio_bound']:.2f}"
            out.append((f"{what} dpvpn/secgw", f"{c['ratio']:.2f}", f">= {RATIO[c['size']]:.1f}",
                        _verdict(c["ratio"], RATIO[c["size"]], 2), note))
        note = f"harness bound {c['efficiency_bound'] * 100:.1f} %" if c.get("efficiency_bound") is not None else ""
        out.append((f"{what} efficiency", f"{c['efficiency'] * 100:.1f} %", f">= {EFFICIENCY[c['size']] * 100:.0f} %",
                    _verdict(c["efficiency"], EFFICIENCY[c["size"]], 3), note))
    for c in cases:
        if c["sas"] >= SCALE_SAS and c["flows"] >= SCALE_FLOWS and c.get("dpvpn_share_of_1sa") is not None:
            what = f"{c['dir']:<8} {c['size']:>4} B {c['alg']} {c['sas']} SAs / {c['flows']} flows"
            out.append((what, f"{c['dpvpn_share_of_1sa'] * 100:.1f} % of 1 SA", f">= {SCALE_SHARE * 100:.0f} %",
                        _verdict(c["dpvpn_share_of_1sa"], SCALE_SHARE, 3), ""))
    for c in scaling:
        what = f"{c['dir']:<8} {c['size']:>4} B 2 lcores"
        out.append((what, f"{c['dpvpn_scaling']:.2f}x", f">= {LCORE_SCALING:.1f}x", _verdict(c["dpvpn_scaling"], LCORE_SCALING, 2),
                    f"ipsec-secgw {c['secgw_scaling']:.2f}x"))
    return out


def print_table(cases, scaling=()):
    table = rows(cases, scaling)
    if not table:
        return
    print("\ntargets (issue #5: same run, 1 worker lcore, AES-GCM-128, 1 SA unless named; verdicts on the medians above)")
    width = max(len(r[0]) for r in table)
    for what, value, threshold, verdict, note in table:
        print(f"  {what:<{width}}  {value:>16} {threshold:>9}  {verdict:<8} {note}")
