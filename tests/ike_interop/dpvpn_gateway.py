"""dpvpn on the left gateway of a strongswan.Topology: dpvpn-controld (IKE over kernel UDP with
--no-dataplane, or over dpvpn-dataplane's agent), and dpvpnctl to ask it questions."""
import base64
import json
import os
import subprocess
import time

from strongswan import LEFT, RIGHT, HarnessError


def connection_yaml(name="right", *, proposals="aes128gcm16-prfsha256-ecp256", esp="aes128gcm16", auth="psk",
                    psk="interop-secret-123", certs=None, local_id=None, remote_id=None, start_action="none",
                    rekey_time=None, child_rekey_time=None, dpd_delay=None, local_ts=None, remote_ts=None):
    """One `connections:` entry to RIGHT, YAML text."""
    lines = [f"  - name: {name}", f"    local: {LEFT.wan}", f"    remote: {RIGHT.wan}"]
    if local_id:
        lines.append(f"    local_id: \"{local_id}\"")
    if remote_id:
        lines.append(f"    remote_id: \"{remote_id}\"")
    if auth == "psk":
        lines += ["    auth: psk", f"    psk: \"{psk}\""]
    else:
        lines += ["    auth: pubkey", f"    cert: {certs.cert}", f"    key: {certs.key}", f"    cacerts: [{certs.ca}]"]
    lines.append(f"    proposals: [{proposals}]")
    if rekey_time is not None:
        lines.append(f"    rekey_time: {rekey_time}")
    if dpd_delay is not None:
        lines.append(f"    dpd_delay: {dpd_delay}")
    lines += ["    children:", "      - name: net", f"        local_ts: [{local_ts or LEFT.net}]",
              f"        remote_ts: [{remote_ts or RIGHT.net}]", f"        esp_proposals: [{esp}]",
              f"        start_action: {start_action}"]
    if child_rekey_time is not None:
        lines.append(f"        rekey_time: {child_rekey_time}")
    return "\n".join(lines) + "\n"


class DpvpnControld:
    """dpvpn-controld in topo.left. `dataplane_socket` None: --no-dataplane (IKE only)."""

    def __init__(self, topo, build, connections, *, instances=2, dataplane_socket=None, extra=""):
        self.topo = topo
        self.dpvpnctl = os.path.join(build, "controlplane", "dpvpnctl")
        self.dir = os.path.join(topo.workdir, "controld")
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "controld.sock")
        self.config = os.path.join(self.dir, "controld.yaml")
        settings = [f"  ike_instances: {instances}", f"  management_socket: {self.socket}", f"  log_dir: {self.dir}",
                    "  retransmit_timeout_ms: 500", "  retransmit_tries: 4"]
        settings.append(f"  dataplane: {dataplane_socket}" if dataplane_socket else f"  listen: [{LEFT.wan}]")
        with open(self.config, "w") as f:
            f.write("controld:\n" + "\n".join(settings) + "\n" + extra + "connections:\n" + connections)
        argv = [os.path.join(build, "controlplane", "controld", "dpvpn-controld"), "--config", self.config,
                "--log-level", "debug"]
        if dataplane_socket is None:
            argv.append("--no-dataplane")
        self.log_path = os.path.join(self.dir, "controld.out")
        self.proc = topo.popen("left", argv, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        self.wait("the management socket", lambda: os.path.exists(self.socket) and self.tunnels() is not None)

    def ctl(self, *args, check=True):
        r = subprocess.run([self.dpvpnctl, "--controld-socket", self.socket] + list(args), capture_output=True,
                           text=True, timeout=30)
        if check and r.returncode != 0:
            raise HarnessError(f"dpvpnctl {' '.join(args)}: exit {r.returncode}: {r.stderr}\n{self.log()}")
        return r

    def tunnels(self):
        r = self.ctl("--json", "tu", "tlist", check=False)
        return json.loads(r.stdout).get("tunnels", []) if r.returncode == 0 else None

    def established(self):
        return [t for t in self.tunnels() or [] if t.get("ike_state") == "ESTABLISHED"]

    def child_spis(self):
        """(spi_in, spi_out) of every child of every established tunnel."""
        return [(c.get("spi_in", 0), c.get("spi_out", 0)) for t in self.established() for c in t.get("children", [])]

    def ike_spis(self):
        """(SPIi, SPIr) as integers of every established tunnel."""
        def spi(b64):
            return int.from_bytes(base64.b64decode(b64), "big")
        return [(spi(t["ike_initiator_spi"]), spi(t["ike_responder_spi"])) for t in self.established()]

    def wait(self, what, predicate, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"dpvpn-controld exited ({self.proc.returncode}) waiting for {what}\n{self.log()}")
            got = predicate()
            if got:
                return got
            time.sleep(0.2)
        raise HarnessError(f"timed out waiting for {what}\n{self.log()}")

    def delete_tunnel(self, peer, sw):
        """`dpvpnctl tu delete PEER`; then neither strongSwan `sw` nor we may keep an SA."""
        self.ctl("tu", "delete", peer)
        sw.wait_no_sas(timeout=10)
        self.wait("dpvpn to forget the tunnel", lambda: self.tunnels() == [])

    def log(self, lines=60):
        text = ""
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log") or name.endswith(".out"):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text += f"--- {name}\n" + "".join(f.readlines()[-lines:])
        return text


class DpvpnDataplane:
    """dpvpn-dataplane in topo.left (Topology(left_bare=True)) on net_af_packet ports over the bare
    veth ends: outside = wan (LEFT.wan), inside = lan (LEFT.lan). No static SAs: controld installs
    them through the agent socket (`self.socket`)."""

    def __init__(self, topo, build):
        self.dir = os.path.join(topo.workdir, "dataplane")
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "agent.sock")
        self.config = os.path.join(self.dir, "dp.yaml")
        with open(self.config, "w") as f:
            f.write(f"""dataplane:
  workers:
    - lcore: 1
      rx: [inside:0, outside:0]
  idle: sleep                    # the peer, the hosts and controld share 2 CPUs
  idle_sleep_us: 20
  mbufs: 8191
ports:
  - name: inside
    device: "net_af_packet0,iface=lan,framecnt=4096"
    role: inside
    addresses: [{LEFT.lan}/24]
  - name: outside
    device: "net_af_packet1,iface=wan,framecnt=4096"
    role: outside
    addresses: [{LEFT.wan}/24]
agent:
  socket: {self.socket}
""")
        self.log_path = os.path.join(self.dir, "dataplane.out")
        argv = [os.path.join(build, "dataplane", "dpvpn-dataplane"), "--no-huge", "-m", "512", "--no-shconf", "--no-pci",
                "--no-telemetry", "--file-prefix", f"dpvpn-interop-{os.getpid()}-{id(self)}", "-l", "0,1",
                "--log-level", "lib.eal:error", "--log-level", "pmd.net.af_packet:warning", "--", "--config", self.config]
        self.proc = topo.popen("left", argv, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.time() > deadline:
                raise HarnessError(f"dpvpn-dataplane did not start:\n{open(self.log_path).read()[-3000:]}")
            time.sleep(0.1)
