#!/usr/bin/python3
"""Two dpvpn-controld processes (--no-dataplane) on 127.0.0.1 and 127.0.0.2, each bound to UDP
500/4500 of its own address, with a PSK connection to each other. A initiates (start_action:
start); `dpvpnctl tu tlist --json` on both shows the IKE SA ESTABLISHED with the same IKE SPIs and
the child SA's SPIs crossed (A's inbound = B's outbound and back). Then `tu delete` on A takes the
tunnel down on both sides, and `tu up` brings it back; once more after B's instance for A was
killed and restarted (it gets the same sockets back).

usage: test_two_gateways.py DPVPN_CONTROLD DPVPNCTL"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from controld_harness import Controld  # noqa: E402

CONFIG = """controld:
  ike_instances: {instances}
  management_socket: @DIR@/controld.sock
  listen: [{local}]
  log_dir: @DIR@
  retransmit_timeout_ms: 500
connections:
  - name: to-{peer_name}
    local: {local}
    remote: {remote}
    auth: psk
    psk: "two gateways on one loopback"
    proposals: [aes128gcm16-prfsha256-x25519]
    children:
      - name: net
        local_ts: [{local_net}]
        remote_ts: [{remote_net}]
        esp_proposals: [aes128gcm16]
        start_action: {start}
"""


def established(d):
    tunnels = d.json("tu", "tlist").get("tunnels", [])
    up = [t for t in tunnels if t.get("ike_state") == "ESTABLISHED" and t.get("children")]
    return up[0] if len(up) == 1 else None


def main():
    controld, dpvpnctl = sys.argv[1], sys.argv[2]
    a = Controld(controld, dpvpnctl, CONFIG.format(instances=2, local="127.0.0.1", remote="127.0.0.2",
                                                   peer_name="b", local_net="10.1.0.0/16",
                                                   remote_net="10.2.0.0/16", start="none"), "gw-a")
    b = Controld(controld, dpvpnctl, CONFIG.format(instances=3, local="127.0.0.2", remote="127.0.0.1",
                                                   peer_name="a", local_net="10.2.0.0/16",
                                                   remote_net="10.1.0.0/16", start="none"), "gw-b")
    ok = False
    try:
        a.wait_up(2)
        b.wait_up(3)
        # A initiates (as start_action: start would; a reload brings the changed child up).
        a.write_config(CONFIG.format(instances=2, local="127.0.0.1", remote="127.0.0.2", peer_name="b",
                                     local_net="10.1.0.0/16", remote_net="10.2.0.0/16", start="start"))
        assert "1 changed" in a.ctl("config", "reload").stdout
        ta = a.wait("A: tunnel ESTABLISHED", lambda: established(a))
        tb = b.wait("B: tunnel ESTABLISHED", lambda: established(b))
        print(a.ctl("tu", "tlist").stdout)
        print(b.ctl("tu", "tlist").stdout)
        assert ta["initiator"] and not tb["initiator"], (ta, tb)
        assert ta["connection"] == "to-b" and tb["connection"] == "to-a"
        assert ta["ike_initiator_spi"] == tb["ike_initiator_spi"], (ta, tb)
        assert ta["ike_responder_spi"] == tb["ike_responder_spi"], (ta, tb)
        assert ta["ike_responder_spi"] != "AAAAAAAAAAA=", ta  # not zero (base64 of 8 zero bytes)
        ca, cb = ta["children"][0], tb["children"][0]
        assert ca["name"] == cb["name"] == "net"
        assert ca["spi_in"] == cb["spi_out"] and ca["spi_out"] == cb["spi_in"], (ca, cb)
        assert ca["spi_in"] != 0 and ca["spi_out"] != 0
        assert ca["suite"] == cb["suite"], (ca, cb)
        # The instance that owns the peer reports it, on both sides.
        assert [i for i in a.instances() if i["index"] == ta["ike_instance"]][0]["ike_sas"] == 1
        assert [i for i in b.instances() if i["index"] == tb["ike_instance"]][0]["ike_sas"] == 1

        # Down from A: both sides lose it. Up again by name.
        a.ctl("tu", "delete", "127.0.0.2")
        a.wait("A: no tunnel", lambda: not a.json("tu", "tlist").get("tunnels"))
        b.wait("B: no tunnel", lambda: not b.json("tu", "tlist").get("tunnels"))
        a.ctl("tu", "up", "to-b", "net")
        ta2 = a.wait("A: tunnel back", lambda: established(a))
        tb2 = b.wait("B: tunnel back", lambda: established(b))
        assert ta2["ike_initiator_spi"] != ta["ike_initiator_spi"]
        assert ta2["children"][0]["spi_in"] == tb2["children"][0]["spi_out"]

        # B's instance for A dies. Restarted, it is handed the same UDP sockets (the kernel steers
        # A's datagrams to them by A's address), so it negotiates again.
        owner = tb2["ike_instance"]
        victim = [i for i in b.instances() if i["index"] == owner][0]["pid"]
        os.kill(victim, 9)
        b.wait("B: instance restarted", lambda: any(i["index"] == owner and i["up"] and i.get("restarts") == 1
                                                   and i["pid"] != victim for i in b.instances()))
        a.ctl("tu", "delete", "127.0.0.2")
        a.wait("A: no tunnel", lambda: not a.json("tu", "tlist").get("tunnels"))
        a.ctl("tu", "up", "to-b", "net")
        ta3 = a.wait("A: tunnel after B's restart", lambda: established(a))
        tb3 = b.wait("B: tunnel after its restart", lambda: established(b))
        assert tb3["ike_instance"] == owner and ta3["ike_initiator_spi"] == tb3["ike_initiator_spi"], (ta3, tb3)
        ok = True
    finally:
        if not ok:
            print("---- A ----\n" + a.log())
            print("---- B ----\n" + b.log())
        ra, rb = a.stop(), b.stop()
    assert (ra, rb) == (0, 0), (ra, rb)
    print("two gateways: ok")


if __name__ == "__main__":
    main()
