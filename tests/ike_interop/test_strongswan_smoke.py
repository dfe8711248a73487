#!/usr/bin/python3
"""ctest ike_interop_smoke: strongSwan <-> strongSwan through the harness (strongswan.py), to
prove the harness itself before dpvpn-controld takes the left gateway.

  1. PSK, IP IDs, IKE aes128gcm16-prfsha256-ecp256 / ESP aes128gcm16: no clear path before the
     tunnel; initiate; both sides ESTABLISHED/INSTALLED with mirrored SPIs; pings both ways and a
     TCP transfer through the tunnel (child SA counters grow, only ESP-in-UDP with those SPIs on
     the wire); CHILD_SA rekey and IKE SA rekey under continuous pings (0 lost, traffic on the
     new SA); terminate; no clear path again.
  2. ECDSA certificates, FQDN IDs, IKE aes256-sha256-modp2048 / ESP aes256-sha256, IPv6 inside
     too: establish, pings v4 + v6 both ways, counters; the responder terminates.
  3. RSA certificates, IP IDs: establish, ping, terminate.

Needs root and strongSwan (scripts/setup.sh installs it); fails, never skips, without them.
usage: test_strongswan_smoke.py [suite-name ...]
"""
import ipaddress
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from strongswan import (LEFT, RIGHT, WAN_IF, Capture, HarnessError, Pinger, Psk, Topology,  # noqa: E402
                        check_installed, make_certs, ping, tcp_transfer)
from suites import check, step  # noqa: E402


def established_pair(left, right, child="net"):
    """Both sides up, left the initiator, IKE SPIs equal, CHILD_SA SPIs mirrored."""
    l_ike, l_child = left.wait_established(child)
    r_ike, r_child = right.wait_established(child)
    check(l_ike.initiator and not r_ike.initiator, f"roles: left {l_ike.initiator}, right {r_ike.initiator}")
    check(l_ike.spis == r_ike.spis, f"IKE SPIs differ: {l_ike.spis} vs {r_ike.spis}")
    check(l_child.spi_in == r_child.spi_out and l_child.spi_out == r_child.spi_in,
          f"CHILD_SA SPIs not mirrored: left in/out {l_child.spi_in:#x}/{l_child.spi_out:#x}, "
          f"right in/out {r_child.spi_in:#x}/{r_child.spi_out:#x}")
    check(l_child.encap and r_child.encap, "kernel-libipsec CHILD_SAs should be UDP-encapsulated")
    check(l_ike.local_port == 4500 and r_ike.local_port == 4500, "IKE should have moved to port 4500")
    return l_ike, l_child, r_ike, r_child


def no_clear_path(topo):
    got = ping(topo.left_host, RIGHT.host, count=2, timeout=0.5, interval=0.05)
    check(got == 0, f"{got} clear-text echo replies without a tunnel: the test network leaks")


def traffic_through_tunnel(topo, left, right, dsts=((LEFT.host, RIGHT.host),), count=3):
    """Pings both ways; asserts every reply came back, that both CHILD_SAs counted the packets,
    and that the link between the gateways carried only ESP-in-UDP with the SAs' SPIs."""
    l0, r0 = left.child_sa("net"), right.child_sa("net")
    with Capture(topo.right, WAN_IF) as cap:
        for lh, rh in dsts:
            got = ping(topo.left_host, rh, count)
            check(got == count, f"left host -> {rh}: {got}/{count} replies")
            got = ping(topo.right_host, lh, count)
            check(got == count, f"right host -> {lh}: {got}/{count} replies")
    l1, r1 = left.child_sa("net"), right.child_sa("net")
    n = 2 * count * len(dsts)   # requests one way + replies the other, per direction
    for side, a, b in (("left", l0, l1), ("right", r0, r1)):
        check(b.spi_in == a.spi_in, f"{side}: CHILD_SA changed during the pings")
        check(b.packets_out - a.packets_out >= n and b.packets_in - a.packets_in >= n,
              f"{side}: CHILD_SA counters did not grow by {n}: out {a.packets_out}->{b.packets_out}, "
              f"in {a.packets_in}->{b.packets_in}")
    spis = cap.esp_spis()
    check(spis.get(l1.spi_out, 0) >= n and spis.get(l1.spi_in, 0) >= n,
          f"on the wire: ESP SPIs {({hex(k): v for k, v in spis.items()})}, expected >= {n} of "
          f"{l1.spi_out:#x} and {l1.spi_in:#x}")
    check(all(p.udp for p in cap.esp()), "raw ESP (proto 50) on the wire; kernel-libipsec should encapsulate")
    inside = [ipaddress.ip_network(n, strict=False) for n in (LEFT.net, RIGHT.net, LEFT.net6, RIGHT.net6)]
    leaks = [p for p in cap.ip()
             if any(ipaddress.ip_address(p[0]) in net for net in inside if net.version == ipaddress.ip_address(p[0]).version)]
    check(not leaks, f"clear-text inside traffic on the wire: {leaks[:3]}")
    step(f"  pings OK; CHILD_SA packets out/in left {l1.packets_out}/{l1.packets_in}; "
         f"ESP on the wire {({hex(k): v for k, v in spis.items()})}")


def suite_psk_gcm():
    with Topology(hosts=True) as topo:
        no_clear_path(topo)
        step("no clear path between the hosts before the tunnel")
        suite = dict(auth=Psk("dpvpn-smoke-psk"), proposals="aes128gcm16-prfsha256-ecp256",
                     esp_proposals="aes128gcm16")
        # responder: long lifetimes (no rekey collisions); initiator: explicit, far away too
        right = topo.strongswan("right", role="responder", **suite)
        left = topo.strongswan("left", role="initiator", rekey_time=3600, over_time=300,
                               life_time=2400, **{k: v for k, v in suite.items()})
        step("two charons up")
        left.initiate("net")
        l_ike, l_child, r_ike, r_child = established_pair(left, right)
        check((l_ike.encr_alg, l_ike.encr_keysize, l_ike.prf_alg, l_ike.dh_group) ==
              ("AES_GCM_16", 128, "PRF_HMAC_SHA2_256", "ECP_256"), f"IKE algorithms: {l_ike}")
        check((l_child.encr_alg, l_child.encr_keysize) == ("AES_GCM_16", 128), f"ESP algorithms: {l_child}")
        check(l_ike.local_id == LEFT.wan and r_ike.local_id == RIGHT.wan, "IP IDs")
        check(right.log_contains(r"authentication of '192\.0\.2\.1' with pre-shared key successful"),
              "right's log has no PSK authentication of the left")
        step(f"established: IKE {l_ike.spi_i:016x}_i {l_ike.spi_r:016x}_r, "
             f"ESP in {l_child.spi_in:08x} out {l_child.spi_out:08x}")
        traffic_through_tunnel(topo, left, right)
        t = tcp_transfer(topo.left_host, topo.right_host, RIGHT.host, mib=2)
        check(t.ok, f"TCP transfer through the tunnel corrupted: {t}")
        step(f"  2 MiB TCP left host -> right host, sha256 equal, {t.mbit_s:.0f} Mbit/s")

        with Pinger(topo.left_host, RIGHT.host, interval=0.02) as p1, \
                Pinger(topo.right_host, LEFT.host, interval=0.02) as p2:
            time.sleep(0.3)
            new = left.rekey_child("net")
            peer = right.wait_child_spi(spi_in=new.spi_out, spi_out=new.spi_in)
            check(new.spi_in != l_child.spi_in and new.spi_out != l_child.spi_out, "rekey kept the old SPIs")
            time.sleep(0.5)
        for p in (p1, p2):
            check(not p.lost and p.received > 20, f"CHILD_SA rekey: {p} (lost seqs {p.lost[:10]})")
        after_l, after_r = left.child_sa("net"), right.child_sa("net")
        check(after_l.packets_in > 0 and after_l.packets_out > 0 and after_r.packets_in > 0,
              f"no traffic on the new CHILD_SA: {after_l}")
        for side, sw in (("left", left), ("right", right)):
            stale = [c for c in sw.child_sas("net", state=None) if c.spi_in in (l_child.spi_in, r_child.spi_in)]
            check(all(c.state == "DELETED" for c in stale), f"{side}: old CHILD_SA after the rekey: {stale}")
        step(f"CHILD_SA rekeyed under pings: {p1}, {p2}; new SPIs in {new.spi_in:08x} out {new.spi_out:08x}, "
             f"peer {peer.spi_in:08x}/{peer.spi_out:08x}")

        with Pinger(topo.left_host, RIGHT.host, interval=0.02) as p1:
            time.sleep(0.2)
            ike = left.rekey_ike()
            right.wait_for(lambda: right.ike_sa() and right.ike_sa().spis == ike.spis, 10, what="right: new IKE SA")
            time.sleep(0.3)
        check(not p1.lost, f"IKE rekey: {p1}")
        check(ike.spis != l_ike.spis and ike.child("net") and ike.child("net").spi_in == new.spi_in,
              f"IKE rekey: new SA {ike} should carry the CHILD_SA over")
        step(f"IKE SA rekeyed under pings ({p1}): {ike.spi_i:016x}_i {ike.spi_r:016x}_r")

        traffic_through_tunnel(topo, left, right, count=2)
        left.terminate_ike()
        check(not left.list_sas(), f"left still has SAs: {left.list_sas()}")
        right.wait_no_sas()
        no_clear_path(topo)
        step("terminated by the initiator; no SA on either side; no path between the hosts")


def suite_certs(key_type, ipv6, fqdn_ids):
    with Topology(hosts=True, ipv6=ipv6) as topo:
        ca, lcert, rcert = make_certs(topo.workdir, key_type)
        ids = {}
        if fqdn_ids:
            ids = dict(l=dict(local_id="left.dpvpn.test", remote_id="right.dpvpn.test"),
                       r=dict(local_id="right.dpvpn.test", remote_id="left.dpvpn.test"))
        step(f"{key_type} CA + certs made ({ca.cert})")
        suite = dict(proposals="aes256-sha256-modp2048", esp_proposals="aes256-sha256")
        right = topo.strongswan("right", role="responder", auth=rcert, **suite, **ids.get("r", {}))
        left = topo.strongswan("left", auth=lcert, **suite, **ids.get("l", {}))
        left.initiate("net")
        l_ike, l_child, r_ike, r_child = established_pair(left, right)
        check((l_ike.encr_alg, l_ike.encr_keysize, l_ike.integ_alg, l_ike.prf_alg, l_ike.dh_group) ==
              ("AES_CBC", 256, "HMAC_SHA2_256_128", "PRF_HMAC_SHA2_256", "MODP_2048"), f"IKE algorithms: {l_ike}")
        check((l_child.encr_alg, l_child.encr_keysize, l_child.integ_alg) == ("AES_CBC", 256, "HMAC_SHA2_256_128"),
              f"ESP algorithms: {l_child}")
        peer_id = "right.dpvpn.test" if fqdn_ids else RIGHT.wan
        check(l_ike.remote_id == peer_id, f"left sees the right as {l_ike.remote_id!r}, not {peer_id!r}")
        sig = "ECDSA" if key_type == "ecdsa" else "RSA"
        m = left.log_contains(rf"authentication of '{peer_id}' with {sig}\S* successful")
        check(m, f"left's log has no {sig} signature authentication of '{peer_id}'")
        check(right.log_contains(rf"authentication of '{l_ike.local_id}' with {sig}\S* successful"),
              f"right's log has no {sig} authentication of the left")
        step(f"established with {key_type} certificates ({m.group(0)})")
        if ipv6:
            check(set(l_child.local_ts) == {LEFT.net, LEFT.net6}, f"IPv6 traffic selectors: {l_child.local_ts}")
        dsts = [(LEFT.host, RIGHT.host)] + ([(LEFT.host6, RIGHT.host6)] if ipv6 else [])
        traffic_through_tunnel(topo, left, right, dsts=dsts, count=2)
        right.terminate_ike()
        left.wait_no_sas()
        no_clear_path(topo)
        step("terminated by the responder")


SUITES = {
    "psk-aes128gcm16-ecp256": suite_psk_gcm,
    "ecdsa-aes256-sha256-modp2048-ipv6": lambda: suite_certs("ecdsa", ipv6=True, fqdn_ids=True),
    "rsa-aes256-sha256-modp2048": lambda: suite_certs("rsa", ipv6=False, fqdn_ids=False),
}


def main(argv):
    names = argv or list(SUITES)
    if os.geteuid() != 0:
        print("FAIL: needs root (network namespaces)", flush=True)
        print("0 passed, 1 failed", flush=True)
        return 1
    try:
        check_installed()
    except HarnessError as e:
        print(f"FAIL: {e}", flush=True)
        print("0 passed, 1 failed", flush=True)
        return 1
    passed, failed = 0, 0
    for name in names:
        step(f"== {name}")
        try:
            SUITES[name]()
            passed += 1
            step(f"== {name}: PASS")
        except Exception as e:   # noqa: BLE001 - report and go on with the next suite
            failed += 1
            step(f"== {name}: FAIL: {type(e).__name__}: {e}")
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
