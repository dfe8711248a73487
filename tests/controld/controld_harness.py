"""Runs dpvpn-controld processes for tests (--no-dataplane, loopback addresses only) and asks them
questions with dpvpnctl."""
import json
import os
import signal
import subprocess
import tempfile
import time


class Controld:
    def __init__(self, controld, dpvpnctl, config_text, name="controld"):
        self.dpvpnctl = dpvpnctl
        self.dir = tempfile.mkdtemp(prefix="dpvpn-%s-" % name)
        self.socket = os.path.join(self.dir, "controld.sock")
        self.config = os.path.join(self.dir, "controld.yaml")
        self.write_config(config_text)
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([controld, "--config", self.config, "--no-dataplane", "--log-level", "debug"],
                                     stdout=self.stderr, stderr=subprocess.STDOUT)

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text.replace("@DIR@", self.dir))

    def ctl(self, *args, check=True):
        r = subprocess.run([self.dpvpnctl, "--controld-socket", self.socket, "--timeout", "5"] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError("dpvpnctl %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
        return r

    def json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def instances(self):
        return self.json("ike", "instances")["instances"]

    def wait(self, what, predicate, timeout=20.0):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("dpvpn-controld exited (%d) while waiting for %s:\n%s" %
                                     (self.proc.returncode, what, self.log()))
            try:
                last = predicate()
                if last:
                    return last
            except (AssertionError, json.JSONDecodeError, KeyError) as e:
                last = e
            time.sleep(0.2)
        raise AssertionError("timed out waiting for %s (last: %r)\n%s" % (what, last, self.log()))

    def wait_up(self, count):
        return self.wait("%d instances up" % count,
                         lambda: (os.path.exists(self.socket) and
                                  len([i for i in self.instances() if i.get("up")]) == count))

    def log(self):
        self.stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        return self.proc.returncode


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive: reaped children vanish, unreaped ones show state Z.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
