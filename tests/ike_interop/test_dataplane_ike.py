#!/usr/bin/python3
"""ctest ike_interop_dataplane: dpvpn (dpvpn-controld + dpvpn-dataplane on net_af_packet veth
ports) against strongSwan 5.9.8, hosts behind both gateways, traffic through the tunnel:

  1. peer-initiates: strongSwan initiates (PSK, aes128gcm16-prfsha256-ecp256 / aes128gcm16); pings
     both ways; an 8 MiB TCP transfer (sha256); strongSwan rekeys the child, then the IKE SA, each
     under pings both ways with 0 lost; strongSwan deletes: traffic stops.
  2. dpvpn-initiates (start_action start; aes256-sha256-modp2048 / aes256-sha256): pings both ways;
     dpvpn rekeys the child and the IKE SA (short lifetimes) under pings, 0 lost; `dpvpnctl tu
     delete` removes the tunnel on both sides.
  3. x25519-certs: ECDSA certificates and FQDN IDs, aes128gcm16-prfsha256-x25519 / ESP with PFS.
  4. on-demand: no tunnel until a host sends; the first packets raise an acquire in the dataplane,
     controld negotiates, and pings then flow.

usage: test_dataplane_ike.py BUILD_DIR [suite ...]
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from suites import check, run_suites, step  # noqa: E402
from dpvpn_gateway import DpvpnControld, DpvpnDataplane, connection_yaml  # noqa: E402
from strongswan import (LEFT, RIGHT, Certs, Pinger, Psk,  # noqa: E402
                        make_certs, ping, tcp_transfer)

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
NETS = {"local_ts": f"{LEFT.net}", "remote_ts": f"{RIGHT.net}"}



def up(topo, sw, dp):
    """Both sides agree on one child; pings both ways through the dataplane."""
    def agreed():
        kid = sw.child_sa()
        ours = dp.child_spis()
        return kid is not None and len(ours) == 1 and (kid.spi_out, kid.spi_in) == ours[0]
    dp.wait("the tunnel on both sides", agreed, timeout=20)
    check(ping(topo.left_host, RIGHT.host, count=5, timeout=2) == 5, "pings left -> right")
    check(ping(topo.right_host, LEFT.host, count=5, timeout=2) == 5, "pings right -> left")
    step("  pings both ways through dpvpn-dataplane")


def no_loss_during(topo, what, action):
    with Pinger(topo.left_host, RIGHT.host, interval=0.02) as p1, Pinger(topo.right_host, LEFT.host, interval=0.02) as p2:
        time.sleep(0.5)
        action()
        time.sleep(1.0)
    for p in (p1, p2):
        check(not p.lost and p.received > 40, f"{what}: {p} (lost {p.lost[:10]})")
    step(f"  {what}: {p1.received}+{p2.received} pings, 0 lost")


def gateway(topo, **kwargs):
    dpl = DpvpnDataplane(topo, BUILD)
    ctl = DpvpnControld(topo, BUILD, connection_yaml(**NETS, **kwargs), dataplane_socket=dpl.socket)
    return dpl, ctl


def ike_sa_in_table(dpl, ctl, sw):
    """The dataplane's IKE_SA_table holds the IKE SA (its SPIs) that controld negotiated."""
    ike = sw.ike_sa()
    r = subprocess.run([ctl.dpvpnctl, "--socket", dpl.socket, "tab", "-t", "IKE_SA_table", "-u"], capture_output=True, text=True)
    check(f"{ike.spi_i:016x}, {ike.spi_r:016x}" in r.stdout, f"IKE SA {ike.spi_i:016x}/{ike.spi_r:016x} in IKE_SA_table:\n{r.stdout}")


def suite_peer_initiates(topo):
    _, dp = gateway(topo)
    sw = topo.strongswan("right", role="initiator", auth=Psk("interop-secret-123"),
                         proposals="aes128gcm16-prfsha256-ecp256", esp_proposals="aes128gcm16")
    sw.initiate("net")
    up(topo, sw, dp)
    t = tcp_transfer(topo.left_host, topo.right_host, RIGHT.host, mib=8)
    check(t.ok, f"8 MiB TCP transfer: {t}")
    step(f"  8 MiB TCP left -> right: sha256 ok, {t.mbit_s:.0f} Mbit/s")
    old = dp.child_spis()[0]
    no_loss_during(topo, "strongSwan's child rekey", lambda: sw.rekey_child("net"))
    dp.wait("the new child on both sides", lambda: dp.child_spis() and dp.child_spis()[0] != old and
            (sw.child_sa().spi_out, sw.child_sa().spi_in) == dp.child_spis()[0])
    old_ike = sw.ike_sa().spis
    no_loss_during(topo, "strongSwan's IKE rekey", lambda: sw.rekey_ike())
    check(sw.ike_sa().spis != old_ike, "a new IKE SA")
    sw.terminate_ike()
    dp.wait("dpvpn to forget the tunnel", lambda: dp.tunnels() == [])
    check(ping(topo.left_host, RIGHT.host, count=2, timeout=1) == 0, "no traffic after the delete")
    step("  strongSwan deleted: no tunnel, no traffic")


def suite_dpvpn_initiates(topo):
    sw = topo.strongswan("right", role="responder", auth=Psk("interop-secret-123"),
                         proposals="aes256-sha256-modp2048", esp_proposals="aes256-sha256")
    dpl, dp = gateway(topo, proposals="aes256-sha256-modp2048", esp="aes256-sha256", start_action="start",
                      child_rekey_time=8, rekey_time=16)
    up(topo, sw, dp)
    ike_sa_in_table(dpl, dp, sw)
    first = dp.child_spis()[0]
    no_loss_during(topo, "dpvpn's child rekey",
                   lambda: dp.wait("dpvpn's child rekey", lambda: dp.child_spis() and dp.child_spis()[0] != first, 15))
    old_ike = sw.ike_sa().spis
    no_loss_during(topo, "dpvpn's IKE rekey",
                   lambda: dp.wait("dpvpn's IKE rekey", lambda: sw.ike_sa() is not None and sw.ike_sa().spis != old_ike, 15))
    dp.delete_tunnel(RIGHT.wan, sw)
    step("  dpvpnctl tu delete: no SA on either side")


def suite_x25519_certs(topo):
    _, left, right = make_certs(topo.workdir, "ecdsa")
    sw = topo.strongswan("right", role="responder", auth=right, local_id="right.dpvpn.test", remote_id="left.dpvpn.test",
                         proposals="aes128gcm16-prfsha256-x25519", esp_proposals="aes128gcm16-x25519")
    _, dp = gateway(topo, auth="pubkey", certs=Certs(left.cert, left.key, left.ca), local_id="left.dpvpn.test",
                    remote_id="right.dpvpn.test", proposals="aes128gcm16-prfsha256-x25519", esp="aes128gcm16-x25519",
                    start_action="start")
    up(topo, sw, dp)


def suite_on_demand(topo):
    sw = topo.strongswan("right", role="responder", auth=Psk("interop-secret-123"))
    _, dp = gateway(topo, start_action="on-demand")
    time.sleep(1)
    check(dp.tunnels() == [] and sw.list_sas() == [], "no tunnel before traffic")
    got = 0
    deadline = time.time() + 15
    while got == 0 and time.time() < deadline:
        got = ping(topo.left_host, RIGHT.host, count=1, timeout=1)
    check(got == 1, "the first packets bring the tunnel up")
    up(topo, sw, dp)
    step("  on-demand: the acquire started the tunnel")


SUITES = {"peer-initiates": suite_peer_initiates, "dpvpn-initiates": suite_dpvpn_initiates,
          "x25519-certs": suite_x25519_certs, "on-demand": suite_on_demand}


def main():
    return run_suites(SUITES, sys.argv[2:], topology=dict(hosts=True, left_bare=True))


if __name__ == "__main__":
    sys.exit(main())
