#!/usr/bin/python3
"""dpvpn-controld's process model, against the real daemon (--no-dataplane on 127.0.0.21):
three iked instances; kill -9 of one is logged and it is restarted (restarts=1, a new pid, its
connections again) while the others keep running with their state (pid, log level); the Management
API answers throughout; config reload (dpvpnctl, SIGHUP) reaches every instance; SIGTERM stops everything.

usage: test_supervisor.py DPVPN_CONTROLD DPVPNCTL"""
import os
import signal
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from controld_harness import Controld, alive  # noqa: E402

CONNECTION = """  - name: peer{n}
    local: 127.0.0.21
    remote: 127.0.9.{n}
    auth: psk
    psk: "supervisor test secret"
    proposals: [aes128gcm16-prfsha256-x25519]
    children:
      - name: net
        esp_proposals: [aes128gcm16]
        start_action: none
"""


def config(peers):
    return ("controld:\n  ike_instances: 3\n  management_socket: @DIR@/controld.sock\n"
            "  listen: [127.0.0.21]\n  log_dir: @DIR@\nconnections:\n" +
            "".join(CONNECTION.format(n=n) for n in range(1, peers + 1)))


def main():
    controld, dpvpnctl = sys.argv[1], sys.argv[2]
    d = Controld(controld, dpvpnctl, config(12), "supervisor")
    ok = False
    try:
        d.wait_up(3)
        assert stat.S_IMODE(os.stat(d.socket).st_mode) == 0o600, oct(os.stat(d.socket).st_mode)
        before = {i["index"]: i for i in d.instances()}
        assert sum(i["connections"] for i in before.values()) == 12, before
        assert all(i["restarts"] == 0 and i["pid"] > 0 for i in before.values()), before

        # State the survivors must keep: a raised log level.
        for n in (0, 2):
            out = d.ctl("ike", "debug", "-i", str(n), "--level", "trace").stdout
            assert "-> trace" in out, out
        victim = before[1]["pid"]
        os.kill(victim, 9)
        after = d.wait("iked 1 restarted", lambda: (
            lambda i: i if i[1]["up"] and i[1]["restarts"] == 1 and i[1]["pid"] != victim else None)(
                {i["index"]: i for i in d.instances()}))
        assert not alive(victim), "the killed instance was not reaped"
        for n in (0, 2):
            assert after[n]["pid"] == before[n]["pid"], (n, before[n], after[n])
            assert after[n]["restarts"] == 0, after[n]
            assert after[n]["log_level"] == "trace", after[n]
        assert after[1]["log_level"] == "debug", after[1]  # a fresh process: the daemon's --log-level
        assert after[1]["connections"] == before[1]["connections"], (before[1], after[1])
        assert "iked 1 (pid %d) killed by signal 9" % victim in d.log(), d.log()
        assert os.path.exists(os.path.join(d.dir, "iked1.log"))

        # Reload: one connection more, one less; every instance gets its share.
        d.write_config(config(13).replace("remote: 127.0.9.1\n", "remote: 127.0.8.1\n"))
        out = d.ctl("config", "reload").stdout
        assert out.startswith("reloaded: 13 connections (1 added, 1 changed, 0 removed) on 3 instances"), out
        assert sum(i["connections"] for i in d.instances()) == 13
        # A broken file is refused with its file:line, and the running config stays.
        d.write_config(config(13).replace("aes128gcm16-prfsha256-x25519", "des-md5"))
        r = d.ctl("config", "reload", check=False)
        assert r.returncode == 1 and "controld.yaml:" in r.stderr, r.stderr
        assert sum(i["connections"] for i in d.instances()) == 13
        # SIGHUP reloads too.
        d.write_config(config(14))
        d.proc.send_signal(signal.SIGHUP)
        d.wait("SIGHUP reload", lambda: sum(i["connections"] for i in d.instances()) == 14)

        # Initiate / delete go to the owning instance; unknown names are NOT_FOUND.
        r = d.ctl("tu", "up", "peer3", "net")
        assert "initiating peer3/net" in r.stdout, r.stdout
        r = d.ctl("tu", "up", "nope", check=False)
        assert r.returncode == 1 and "NOT_FOUND" in r.stderr, r.stderr
        d.ctl("tu", "delete", "127.0.9.3")
        assert d.ctl("tu", "tlist").returncode == 0

        pids = [i["pid"] for i in d.instances()]
        rc = d.stop()
        assert rc == 0, rc
        time.sleep(0.2)
        assert not any(alive(p) for p in pids), "instances outlived the daemon"
        assert not os.path.exists(d.socket)
        ok = True
    finally:
        if not ok:
            print(d.log())
        d.stop()
    print("supervisor: ok")


if __name__ == "__main__":
    main()
