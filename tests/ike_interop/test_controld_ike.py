#!/usr/bin/python3
"""ctest ike_interop_controld: dpvpn-controld (--no-dataplane: IKE over kernel UDP, child SAs
recorded, not installed) against strongSwan 5.9.8 in network namespaces. Each suite checks that
both sides agree: IKE SA ESTABLISHED with the same SPIs, child SA SPIs mirrored.

  1. strongSwan initiates, dpvpn responds (PSK, aes128gcm16-prfsha256-ecp256 / aes128gcm16); the
     peer rekeys the child, then the IKE SA; the peer deletes.
  2. dpvpn initiates (start_action: start; PSK, aes256-sha256-modp2048 / aes256-sha256); dpvpn
     rekeys the child (short rekey_time) and the IKE SA; `dpvpnctl tu delete` deletes.
  3. dpvpn initiates with ECDSA certificates and FQDN IDs, x25519 / aes128gcm16-x25519 (PFS).
  4. DPD: dpvpn (dpd_delay 2 s) declares a killed strongSwan dead and forgets the tunnel.
  5. fragments: RSA-3072 certificates make IKE_AUTH larger than 1280 bytes, so both sides send it
     in RFC 7383 fragments (strongSwan's log shows it split and reassembled ours).
  6. cookies: dpvpn demands a COOKIE for every IKE_SA_INIT (threshold 0); strongSwan returns it.
  7. chacha20: ChaCha20-Poly1305 for IKE and ESP, PRF SHA-384, ECP-384.

usage: test_controld_ike.py BUILD_DIR [suite ...]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from suites import check, run_suites, step  # noqa: E402
from dpvpn_gateway import DpvpnControld, connection_yaml  # noqa: E402
from strongswan import LEFT, RIGHT, Certs, Psk, TestCA, make_certs  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
def agree(dp, sw):
    """dpvpn and strongSwan see one IKE SA and one child with mirrored SPIs; returns the child's SPIs."""
    def both():
        sas = sw.list_sas()
        kids = [c for sa in sas if sa.state == "ESTABLISHED" for c in sa.children if c.state == "INSTALLED"]
        ours = dp.child_spis()
        if len(kids) != 1 or len(ours) != 1:
            return None
        return (kids[0], ours[0]) if (kids[0].spi_out, kids[0].spi_in) == ours[0] else None
    kid, ours = dp.wait("the tunnel on both sides with mirrored SPIs", both)
    ike = sw.ike_sa()
    check(dp.ike_spis() == [(ike.spi_i, ike.spi_r)], f"IKE SPIs: dpvpn {dp.ike_spis()}, strongSwan {ike.spis}")
    step(f"  agreed: IKE {ike.spi_i:016x}/{ike.spi_r:016x}, child in {ours[0]:08x} out {ours[1]:08x}")
    return ours


def suite_peer_initiates(topo):
    dp = DpvpnControld(topo, BUILD, connection_yaml())
    sw = topo.strongswan("right", role="initiator", auth=Psk("interop-secret-123"),
                         proposals="aes128gcm16-prfsha256-ecp256", esp_proposals="aes128gcm16")
    sw.initiate("net")
    first = agree(dp, sw)
    check(dp.established()[0]["ike_suite"] == "aes128gcm16-prfsha256-ecp256", "suite as negotiated")
    sw.rekey_child("net")
    step("  strongSwan rekeyed the child")
    second = agree(dp, sw)
    check(second != first, "new child SPIs after the rekey")
    old_ike = sw.ike_sa().spis
    sw.rekey_ike()
    dp.wait("the rekeyed IKE SA", lambda: sw.ike_sa() is not None and sw.ike_sa().spis != old_ike)
    check(agree(dp, sw) == second, "the child survives the IKE rekey")
    step("  strongSwan rekeyed the IKE SA")
    sw.terminate_ike()
    dp.wait("dpvpn to forget the tunnel", lambda: dp.tunnels() == [])
    step("  strongSwan deleted: dpvpn has no tunnel")


def suite_dpvpn_initiates(topo):
    sw = topo.strongswan("right", role="responder", auth=Psk("interop-secret-123"),
                         proposals="aes256-sha256-modp2048", esp_proposals="aes256-sha256")
    dp = DpvpnControld(topo, BUILD, connection_yaml(proposals="aes256-sha256-modp2048", esp="aes256-sha256",
                                                    start_action="start", child_rekey_time=6, rekey_time=12))
    first = agree(dp, sw)
    dp.wait("dpvpn's child rekey", lambda: dp.child_spis() and dp.child_spis()[0] != first and
            sw.child_sa() is not None and (sw.child_sa().spi_out, sw.child_sa().spi_in) == dp.child_spis()[0], timeout=15)
    step("  dpvpn rekeyed the child")
    old_ike = sw.ike_sa().spis
    dp.wait("dpvpn's IKE rekey", lambda: sw.ike_sa() is not None and sw.ike_sa().spis != old_ike, timeout=15)
    agree(dp, sw)
    step("  dpvpn rekeyed the IKE SA")
    dp.delete_tunnel(RIGHT.wan, sw)
    step("  dpvpnctl tu delete: strongSwan has no SA")


def suite_certificates(topo):
    _, left, right = make_certs(topo.workdir, "ecdsa")
    sw = topo.strongswan("right", role="responder", auth=right, local_id="right.dpvpn.test",
                         remote_id="left.dpvpn.test", proposals="aes128gcm16-prfsha256-x25519",
                         esp_proposals="aes128gcm16-x25519")
    dp = DpvpnControld(topo, BUILD, connection_yaml(auth="pubkey", certs=Certs(left.cert, left.key, left.ca),
                                                    local_id="left.dpvpn.test", remote_id="right.dpvpn.test",
                                                    proposals="aes128gcm16-prfsha256-x25519",
                                                    esp="aes128gcm16-x25519", start_action="start"))
    agree(dp, sw)
    check(sw.ike_sa().remote_id == "left.dpvpn.test", f"strongSwan saw our FQDN ID ({sw.ike_sa().remote_id})")


def suite_dpd(topo):
    sw = topo.strongswan("right", role="responder", auth=Psk("interop-secret-123"))
    dp = DpvpnControld(topo, BUILD, connection_yaml(start_action="start", dpd_delay=2))
    agree(dp, sw)
    sw.kill()
    step("  strongSwan killed")
    dp.wait("dpvpn to declare the peer dead", lambda: dp.tunnels() == [], timeout=20)
    step("  dpvpn forgot the dead peer")


def suite_fragments(topo):
    ca = TestCA(os.path.join(topo.workdir, "pki-rsa3072"), "rsa", rsa_bits=3072)
    left = ca.issue("left", [LEFT.wan, "left.dpvpn.test"])
    right = ca.issue("right", [RIGHT.wan, "right.dpvpn.test"])
    dp = DpvpnControld(topo, BUILD, connection_yaml(auth="pubkey", certs=Certs(left.cert, left.key, left.ca),
                                                    local_id="left.dpvpn.test", remote_id="right.dpvpn.test"))
    sw = topo.strongswan("right", role="initiator", auth=right, local_id="right.dpvpn.test",
                         remote_id="left.dpvpn.test", log_levels={"enc": 2, "net": 2})
    sw.initiate("net")
    agree(dp, sw)
    check(sw.log_contains(r"splitting IKE message .* into \d+ fragments"), "strongSwan fragmented its IKE_AUTH")
    check(sw.log_contains(r"received fragment #\d+ of \d+"), "strongSwan reassembled our fragmented IKE_AUTH")
    step("  IKE_AUTH fragmented both ways (RFC 7383)")


def suite_cookies(topo):
    dp = DpvpnControld(topo, BUILD, connection_yaml(), extra="  cookie_threshold: 0\n")
    sw = topo.strongswan("right", role="initiator", auth=Psk("interop-secret-123"), log_levels={"ike": 2})
    sw.initiate("net")
    agree(dp, sw)
    check(sw.log_contains(r"received COOKIE|COOKIE"), "strongSwan saw our COOKIE")
    step("  established through a COOKIE round trip")


def suite_chacha20(topo):
    dp = DpvpnControld(topo, BUILD, connection_yaml(proposals="chacha20poly1305-prfsha384-ecp384", esp="chacha20poly1305"))
    sw = topo.strongswan("right", role="initiator", auth=Psk("interop-secret-123"),
                         proposals="chacha20poly1305-prfsha384-ecp384", esp_proposals="chacha20poly1305")
    sw.initiate("net")
    agree(dp, sw)
    check(dp.established()[0]["ike_suite"] == "chacha20poly1305-prfsha384-ecp384", "the suite as negotiated")


SUITES = {"peer-initiates": suite_peer_initiates, "dpvpn-initiates": suite_dpvpn_initiates,
          "certificates": suite_certificates, "dpd": suite_dpd, "fragments": suite_fragments,
          "cookies": suite_cookies, "chacha20": suite_chacha20}


def main():
    return run_suites(SUITES, sys.argv[2:], topology=dict(hosts=False))


if __name__ == "__main__":
    sys.exit(main())
