"""Runs dpvpn-dataplane on net_pcap ports: packets in from pcap files, packets out to pcap files,
final counters as JSON. Shared by the dataplane pcap tests (Debian's /usr/bin/python3 + scapy)."""
import hashlib
import hmac
import json
import os
import subprocess
import tempfile

from scapy.all import IP, IPv6, UDP, Ether, rdpcap, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

INSIDE_MAC = "02:00:00:00:00:01"
OUTSIDE_MAC = "02:00:00:00:00:02"
HOST_MAC = "02:00:00:00:01:05"     # 10.1.0.5 / fd01::5 on the inside
PEER_MAC = "02:00:00:00:02:02"     # the peer gateway on the outside

ALGORITHMS = {
    # name: (scapy crypt algo, key bytes incl. salt, scapy auth algo, auth key bytes)
    "aes128gcm": ("AES-GCM", 20, None, 0),
    "aes256gcm": ("AES-GCM", 36, None, 0),
    "aes128cbc-sha256": ("AES-CBC", 16, "SHA2-256-128", 32),
    "aes256cbc-sha256": ("AES-CBC", 32, "SHA2-256-128", 32),
    "chacha20poly1305": ("CHACHA20-POLY1305", 36, None, 0),
}


def key_bytes(n, seed):
    return bytes((seed * 31 + i * 7 + 1) & 0xFF for i in range(n))


class Sa:
    """One SA as both dpvpn's config and scapy see it."""

    def __init__(self, name, direction, spi, alg, local, remote, esn=False, natt=False, replay_window=None):
        self.name, self.direction, self.spi, self.alg = name, direction, spi, alg
        self.local, self.remote, self.esn, self.natt = local, remote, esn, natt
        self.replay_window = replay_window
        crypt, klen, auth, alen = ALGORITHMS[alg]
        self.key = key_bytes(klen, spi)
        self.auth_key = key_bytes(alen, spi + 1000) if alen else b""

    def yaml(self):
        lines = [f"  - name: {self.name}", f"    direction: {self.direction}", f"    spi: {self.spi:#x}",
                 f"    algorithm: {self.alg}", f"    key: 0x{self.key.hex()}",
                 f'    local: "{self.local}"', f'    remote: "{self.remote}"', f"    esn: {str(self.esn).lower()}"]
        if self.auth_key:
            lines.append(f"    auth_key: 0x{self.auth_key.hex()}")
        if self.natt:
            lines.append("    natt: {local_port: 4500, remote_port: 4500}")
        if self.replay_window and self.direction == "inbound":
            lines.append(f"    replay_window: {self.replay_window}")
        return "\n".join(lines)

    def scapy(self, src, dst):
        """The scapy SA for traffic from src to dst (outer addresses)."""
        crypt, _, auth, _ = ALGORITHMS[self.alg]
        outer = IP(src=src, dst=dst) if ":" not in src else IPv6(src=src, dst=dst)
        return SecurityAssociation(
            ESP, spi=self.spi, crypt_algo=crypt, crypt_key=self.key,
            auth_algo=auth, auth_key=self.auth_key or None, tunnel_header=outer,
            nat_t_header=UDP(sport=4500, dport=4500) if self.natt else None,
            esn_en=self.esn, esn=0)

    def cbc_esn(self):
        return self.esn and self.auth_key

    def esn_icv(self, esp_bytes_without_icv, seq_hi=0):
        """RFC 4303 2.2.1: with ESN the ICV also covers the high 32 bits (scapy leaves them out)."""
        return hmac.new(self.auth_key, esp_bytes_without_icv + seq_hi.to_bytes(4, "big"), hashlib.sha256).digest()[:16]


def esp_layer_bytes(pkt):
    """The ESP header .. ICV bytes of an outer packet (after IP, or after IP/UDP for NAT-T)."""
    ip = pkt[IP] if IP in pkt else pkt[IPv6]
    payload = bytes(ip.payload)
    return payload[8:] if UDP in ip and ip[UDP].dport == 4500 else payload


def encrypt_from_peer(sa, inner, src, dst, seq):
    """The peer's ESP packet for `inner` (Ether included), correct for CBC+ESN as well."""
    sa_scapy = sa.scapy(src, dst)
    pkt = sa_scapy.encrypt(inner, seq_num=seq)
    if sa.natt:
        # scapy 2.5 leaves the NAT-T UDP length at 8 for IPv4 outer headers: recompute it
        # (and the checksum: 0 for IPv4 as RFC 3948 allows, computed for IPv6).
        del pkt[UDP].len
        if IP in pkt:
            pkt[UDP].chksum = 0
        else:
            del pkt[UDP].chksum
        pkt = pkt.__class__(bytes(pkt))
    if sa.cbc_esn():
        raw = bytearray(bytes(pkt))
        esp = esp_layer_bytes(pkt)
        icv = sa.esn_icv(esp[:-16])
        raw[-16:] = icv
        pkt = pkt.__class__(bytes(raw))
    return pkt


def decrypt_from_dpvpn(sa, outer):
    """Decrypts dpvpn's packet with scapy; verifies the ICV itself for CBC+ESN."""
    sa_scapy = sa.scapy(sa.local, sa.remote)
    ip = outer[IP] if IP in outer else outer[IPv6]
    if sa.cbc_esn():
        esp = esp_layer_bytes(outer)
        if sa.esn_icv(esp[:-16]) != esp[-16:]:
            raise ValueError("bad ICV (ESN)")
        return sa_scapy.decrypt(ip, verify=False)
    return sa_scapy.decrypt(ip)


def run_dataplane(binary, config_text, inside_in, outside_in, timeout=60, extra_ports=""):
    """Writes the pcaps and config, runs dpvpn-dataplane until idle; returns (out_inside, out_outside, stats)."""
    work = tempfile.mkdtemp(prefix="dpvpn-pcap-")
    paths = {n: os.path.join(work, n + ".pcap") for n in ("in_inside", "in_outside", "out_inside", "out_outside")}
    wrpcap(paths["in_inside"], inside_in or [Ether(dst=INSIDE_MAC) / IP(dst="10.1.0.1")])
    wrpcap(paths["in_outside"], outside_in or [Ether(dst=OUTSIDE_MAC) / IP(dst="192.0.2.1")])
    config = config_text
    for name, path in paths.items():
        config = config.replace("@" + name + "@", path)
    config_path = os.path.join(work, "dp.yaml")
    with open(config_path, "w") as f:
        f.write(config)
    stats_path = os.path.join(work, "stats.json")
    cmd = [binary, "--no-huge", "-m", "512", "--no-shconf", "--no-pci", "--no-telemetry",
           "--file-prefix", f"dpvpn-pcap-{os.getpid()}", "-l", "0,1", "--log-level", "lib.eal:error",
           "--", "--config", config_path, "--exit-idle-ms", "700", "--stats-json", stats_path,
           "--grpc-socket", os.path.join(work, "agent.sock")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"dpvpn-dataplane failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    with open(stats_path) as f:
        stats = json.load(f)
    return rdpcap(paths["out_inside"]), rdpcap(paths["out_outside"]), stats, proc.stdout


def base_config(sas, policies, replay_window=1024, outside_mtu=1500, crypto=None, inside_vlan=0):
    """crypto: None (the default engine), "ipsec-mb", or ("cryptodev", "crypto_aesni_mb0")."""
    crypto_lines = ""
    if isinstance(crypto, str):
        crypto_lines = f"\n  crypto: {crypto}"
    elif crypto is not None:
        crypto_lines = f"\n  crypto: {crypto[0]}\n  crypto_device: {crypto[1]}"
    return f"""
dataplane:
  workers:
    - lcore: 1
      rx: [inside:0, outside:0]
  idle: sleep
  idle_sleep_us: 200
  mbufs: 4095
  replay_window: {replay_window}
  hold_queue: 1024{crypto_lines}
ports:
  - name: inside
    device: "net_pcap0,rx_pcap=@in_inside@,tx_pcap=@out_inside@"
    role: inside
    addresses: [10.1.0.1/24, "fd01::1/64"]
    mac: "{INSIDE_MAC}"
    vlan: {inside_vlan}
  - name: outside
    device: "net_pcap1,rx_pcap=@in_outside@,tx_pcap=@out_outside@"
    role: outside
    addresses: [192.0.2.1/24, "2001:db8::1/64"]
    mac: "{OUTSIDE_MAC}"
    mtu: {outside_mtu}
sas:
{chr(10).join(sa.yaml() for sa in sas)}
policies:
{policies}
"""


def garp(mac, ip):
    """An unsolicited ARP reply (or IPv6 NA) that teaches dpvpn a neighbour."""
    from scapy.all import ARP, ICMPv6NDOptDstLLAddr, ICMPv6ND_NA
    if ":" in ip:
        return (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=ip, dst="ff02::1", hlim=255) /
                ICMPv6ND_NA(tgt=ip, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=mac))
    return Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=mac, psrc=ip, hwdst=mac, pdst=ip)


def finish(failures, log, ok):
    """A test's end: the dataplane's log and the failures (exit status 1), or the `ok` line (0)."""
    if failures:
        print(log)
        print("\n".join(failures))
        return 1
    print(ok)
    return 0
