#!/usr/bin/python3
"""scripts/demo.sh: dpvpn against strongSwan, for real. The left gateway is dpvpn (dpvpn-controld +
dpvpn-dataplane on net_af_packet veth ports), the right one strongSwan 5.9.8; a host namespace sits
behind each. dpvpn initiates (PSK, aes128gcm16-prfsha256-x25519 / aes128gcm16); the demo shows
`dpvpnctl tu tlist`, strongSwan's view of the same SAs, pings both ways and a TCP transfer through
the tunnel, that only ESP-in-UDP crosses the link between the gateways, a child SA rekey by dpvpn
under pings, and the dataplane's kernel tables; then removes every namespace and process.

usage: demo.py BUILD_DIR
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dpvpn_gateway import DpvpnControld, DpvpnDataplane, connection_yaml  # noqa: E402
from strongswan import LEFT, RIGHT, WAN_IF, Capture, Pinger, Psk, Topology, check_installed, ping, tcp_transfer  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"


def say(text):
    print(f"\n== {text}", flush=True)


def show(cmd):
    print("$ " + " ".join(cmd[1:] if cmd[0].endswith("dpvpnctl") else cmd).replace(BUILD + "/", ""), flush=True)


def main():
    check_installed()
    with Topology(hosts=True, left_bare=True, verbose=False) as topo:
        say(f"network: lhost {LEFT.host} -- [dpvpn {LEFT.wan}] ==== [strongSwan {RIGHT.wan}] -- rhost {RIGHT.host}")
        sw = topo.strongswan("right", role="responder", auth=Psk("dpvpn-demo-secret"),
                             proposals="aes128gcm16-prfsha256-x25519", esp_proposals="aes128gcm16")
        dp = DpvpnDataplane(topo, BUILD)
        ctl = DpvpnControld(topo, BUILD, connection_yaml(psk="dpvpn-demo-secret", proposals="aes128gcm16-prfsha256-x25519",
                                                         local_ts=LEFT.net, remote_ts=RIGHT.net, start_action="start",
                                                         child_rekey_time=20), dataplane_socket=dp.socket)
        ctl.wait("the tunnel", lambda: ctl.child_spis(), timeout=20)
        say("dpvpn initiated; dpvpnctl tu tlist:")
        print("$ dpvpnctl tu tlist\n" + ctl.ctl("tu", "tlist").stdout, end="")
        say("strongSwan's view (swanctl --list-sas):")
        print(sw.swanctl("--list-sas").stdout, end="")
        say(f"ping {LEFT.host} -> {RIGHT.host} and back, through the tunnel")
        with Capture(topo.left, WAN_IF) as cap:
            print(f"left -> right: {ping(topo.left_host, RIGHT.host, count=5, timeout=2)}/5 replies")
            print(f"right -> left: {ping(topo.right_host, LEFT.host, count=5, timeout=2)}/5 replies")
            t = tcp_transfer(topo.left_host, topo.right_host, RIGHT.host, mib=8)
            print(f"TCP 8 MiB left -> right: sha256 {'matches' if t.ok else 'DIFFERS'} ({t.mbit_s:.0f} Mbit/s)")
        frames = cap.ip()
        clear = [f for f in frames if f[2] not in (17,)]  # anything that is not UDP (ESP-in-UDP / IKE)
        spis = sorted({f"{s:08x}" for s in cap.esp_spis()})
        print(f"on the wire between the gateways: {len(frames)} IP packets, ESP-in-UDP SPIs {', '.join(spis)}, "
              f"{len(clear)} not UDP-encapsulated")
        say("dpvpn rekeys the child SA (rekey_time 20 s) under pings both ways")
        before = ctl.child_spis()[0]
        with Pinger(topo.left_host, RIGHT.host, interval=0.05) as p1, Pinger(topo.right_host, LEFT.host, interval=0.05) as p2:
            ctl.wait("the rekey", lambda: ctl.child_spis() and ctl.child_spis()[0] != before, timeout=30)
            time.sleep(1)
        print(f"child SPIs in/out {before[0]:08x}/{before[1]:08x} -> {ctl.child_spis()[0][0]:08x}/{ctl.child_spis()[0][1]:08x}; "
              f"pings {p1.received}/{len(p1.sent)} and {p2.received}/{len(p2.sent)}, {len(p1.lost) + len(p2.lost)} lost")
        say("the dataplane's kernel tables over its agent:")
        for args in (["tab", "-t", "IKE_SA_table", "-r"], ["tab", "-t", "inbound_SPI", "-r"], ["tab", "-t", "vpn_routing", "-r"]):
            r = subprocess.run([ctl.dpvpnctl, "--socket", dp.socket] + args, capture_output=True, text=True)
            print("$ dpvpnctl " + " ".join(args) + "\n" + r.stdout + r.stderr, end="")
        say("removing everything")
    print("done")


if __name__ == "__main__":
    main()
