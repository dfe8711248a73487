"""The tunnels scripts/bench.sh measures, as dpvpn's YAML and as ipsec-secgw's config file.

  inside hosts 10.1.0.0/24 --[lan 10.1.0.1 | gateway | wan 192.0.2.1]-- next hop 192.0.2.2 -- peers

One SA (`sas=1`): a site-to-site tunnel, 10.1.0.0/24 <-> 10.2.0.0/24, peer 192.0.2.2.
N SAs (`sas=N` > 1): remote access, N clients: client s (0 <= s < N) is the peer 100.64.0.0 + s
(behind the next hop 192.0.2.2: a route 100.64.0.0/10) with the virtual address 10.128.0.0 + s;
its SA pair protects 10.1.0.0/24 <-> that /32. Outbound SPIs 0xA001 + s, inbound 0x100000 + s (spi_out, spi_in).
Tunnel mode, IPv4 outer and inner, AES-GCM-128 (`aes128gcm`) or AES-CBC-128 + HMAC-SHA-256-128
(`aes128cbc-sha256`). The gateway under test is dpvpn or DPDK's ipsec-secgw; both get the same ports
(the traffic's port a net_ring fed by dpvpn-bench-feed, or net_pcap RX from a pcap; TX dropped by the
PMD), the same SAs and the same traffic.

Next hops: static in both gateways, with the MACs gen_traffic.py's gratuitous ARPs announce: dpvpn's
`neighbors:` (NEIGHBORS: the next hop 192.0.2.2 on wan, which is the peer with one SA and the router to
the clients' 100.64.0.0/10 with several, and the inside host 10.1.0.5 on lan, where inbound traffic
leaves), ipsec-secgw's `neigh` lines (its --eth-dest). So neither needs an ARP to start forwarding, and
the port the traffic leaves through need not deliver one (run_bench.py: a net_null port).

Keys: every SA of a direction has the same AES key (and HMAC key): the traffic generator then needs one
key schedule, not N. Each gateway still expands and stores one key schedule per SA (neither knows the
keys are equal), so their memory and cache footprint is that of N keys. GCM SAs differ in their salt
(the key's last 4 bytes: salt XOR s), so no two SAs ever use the same nonce.
"""

LAN_MAC = "02:00:00:00:00:01"
WAN_MAC = "02:00:00:00:00:02"
HOST_MAC = "02:00:00:00:01:05"
PEER_MAC = "02:00:00:00:02:02"
LAN_IP, HOST_IP = "10.1.0.1", "10.1.0.5"
WAN_IP, PEER_IP = "192.0.2.1", "192.0.2.2"
REMOTE_HOST_IP = "10.2.0.9"
SPI_OUT, SPI_IN = 0xA001, 0xB001
KEY_OUT = bytes((0x11 * i + 3) & 0xFF for i in range(20))  # 16-byte AES key + 4-byte salt
KEY_IN = bytes((0x07 * i + 0x40) & 0xFF for i in range(20))
AUTH_OUT = bytes((0x0D * i + 0x21) & 0xFF for i in range(32))  # HMAC-SHA-256 keys (CBC)
AUTH_IN = bytes((0x05 * i + 0x90) & 0xFF for i in range(32))
ALGS = ("aes128gcm", "aes128cbc-sha256")
MULTI_REMOTE_BASE = 0x0A800000  # 10.128.0.0: client s's virtual address is this + s
MULTI_PEER_BASE = 0x64400000    # 100.64.0.0: client s's public address is this + s
MAX_SAS = 1 << 17
# dpvpn's static neighbours: (port, address, MAC) of every next hop the traffic leaves to.
NEIGHBORS = (("wan", PEER_IP, PEER_MAC), ("lan", HOST_IP, HOST_MAC))


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ip_str(v):
    return f"{v >> 24 & 255}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"


def ip_int(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return a << 24 | b << 16 | c << 8 | d


def spi_out(s):
    return SPI_OUT + s


def spi_in(s, sas):
    # Several SAs: above every outbound SPI, so the two directions' SPIs never coincide.
    return SPI_IN if sas == 1 else 0x100000 + s


def remote_host(s, sas):
    """The inner address on the far side that SA pair s protects."""
    return REMOTE_HOST_IP if sas == 1 else ip_str(MULTI_REMOTE_BASE + s)


def remote_net(s, sas):
    return "10.2.0.0/24" if sas == 1 else f"{remote_host(s, sas)}/32"


def peer_ip(s, sas):
    return PEER_IP if sas == 1 else ip_str(MULTI_PEER_BASE + s)


def cipher_key(direction, s, alg):
    """SA s's cipher key: AES key (+ salt XOR s for GCM)."""
    k = KEY_OUT if direction == "outbound" else KEY_IN
    if alg == "aes128gcm":
        salt = int.from_bytes(k[16:20], "big") ^ s
        return k[:16] + salt.to_bytes(4, "big")
    return k[:16]


def auth_key(direction, alg):
    if alg == "aes128gcm":
        return None
    return AUTH_OUT if direction == "outbound" else AUTH_IN


def check(alg, sas):
    if alg not in ALGS:
        raise ValueError(f"algorithm {alg}: one of {ALGS}")
    if not 1 <= sas <= MAX_SAS:
        raise ValueError(f"sas {sas}: 1..{MAX_SAS}")


def _tables(sas, flows):
    """Kernel-table capacities when the defaults are too small: SA tables, vpn_routing, connections."""
    def cap(n):
        return 1 << max(0, (int(n) - 1).bit_length())
    out = {}
    if 2 * sas > 65536:
        out["inbound_SPI"] = out["outbound_SPI"] = cap(2 * sas)
    if sas + 16 > 16384:
        out["vpn_routing"] = cap(sas + 16)
    if 2 * flows > 262144:  # both directions' entries, at most half full
        out["connections"] = cap(2 * flows)
    if not out:
        return ""
    return "  tables:\n" + "".join(f"    {k}: {v}\n" for k, v in out.items())


def _dpvpn_sa(name, direction, s, alg, sas):
    spi = spi_out(s) if direction == "outbound" else spi_in(s, sas)
    ak = auth_key(direction, alg)
    return (f"  - name: {name}\n    direction: {direction}\n    spi: {spi:#x}\n    algorithm: {alg}\n"
            f"    key: 0x{cipher_key(direction, s, alg).hex()}\n" + (f"    auth_key: 0x{ak.hex()}\n" if ak else "") +
            f"    local: {WAN_IP}\n    remote: {peer_ip(s, sas)}\n")


def _dpvpn_neighbors():
    return "neighbors:\n" + "".join(f'  - port: {port}\n    address: {ip}\n    mac: "{mac}"\n'
                                     for port, ip, mac in NEIGHBORS)


def _workers(workers, traffic_port):
    """The workers section: worker w (lcore w + 1) polls queue w of the traffic port; the first also polls
    queue 0 of the other port."""
    out = "  workers:\n    - lcore: 1\n      rx: [lan:0, wan:0]\n"
    for w in range(1, workers):
        out += f"    - lcore: {w + 1}\n      rx: [{traffic_port}:{w}]\n"
    return out


def dpvpn_yaml(lan_device, wan_device, mbufs, agent_socket, alg="aes128gcm", sas=1, flows=8, workers=1,
               traffic_port="lan"):
    """agent_socket: the gRPC agent's unix socket, private to the run (the default path may be in use by
    another dataplane on the machine, and the run would refuse to start). workers > 1: the traffic port
    (lan or wan) has one RX queue per worker (bench/scaling.py)."""
    check(alg, sas)
    queues = {"lan": 1, "wan": 1}
    queues[traffic_port] = workers
    head = f"""# generated by bench/bench_topology.py
agent:
  socket: {agent_socket}
dataplane:
{_workers(workers, traffic_port)}  idle: poll
  mbufs: {mbufs}
  replay_window: 1024
{_tables(sas, flows)}ports:
  - name: lan
    device: "{lan_device}"
    role: inside
    addresses: [{LAN_IP}/24]
    mac: "{LAN_MAC}"
    rx_queues: {queues["lan"]}
  - name: wan
    device: "{wan_device}"
    role: outside
    addresses: [{WAN_IP}/24]
    mac: "{WAN_MAC}"
    rx_queues: {queues["wan"]}
"""
    routes = "" if sas == 1 else f"routes:\n  - prefix: 100.64.0.0/10\n    via: {PEER_IP}\n    port: wan\n"
    parts = [head, _dpvpn_neighbors(), routes, "sas:\n"]
    for s in range(sas):
        out_name, in_name = ("to-peer", "from-peer") if sas == 1 else (f"o{s}", f"i{s}")
        parts.append(_dpvpn_sa(out_name, "outbound", s, alg, sas))
        parts.append(_dpvpn_sa(in_name, "inbound", s, alg, sas))
    parts.append("policies:\n")
    for s in range(sas):
        out_name, in_name = ("to-peer", "from-peer") if sas == 1 else (f"o{s}", f"i{s}")
        parts.append(f"  - local: 10.1.0.0/24\n    remote: {remote_net(s, sas)}\n    action: protect\n"
                     f"    outbound_sa: {out_name}\n    inbound_sa: {in_name}\n")
    return "".join(parts)


def _colon_hex(b):
    return ":".join(f"{x:02x}" for x in b)


def _secgw_algo(direction, s, alg):
    if alg == "aes128gcm":
        return f"aead_algo aes-128-gcm aead_key {_colon_hex(cipher_key(direction, s, alg))}"
    return (f"cipher_algo aes-128-cbc cipher_key {_colon_hex(cipher_key(direction, s, alg))} "
            f"auth_algo sha256-hmac auth_key {_colon_hex(auth_key(direction, alg))}")


def secgw_cfg(alg="aes128gcm", sas=1):
    """ipsec-secgw's config: port 0 = lan (protected), port 1 = wan (unprotected, -u 0x2).
    No `type` on the SAs: lookaside-none, i.e. a cryptodev (crypto_aesni_mb), its default mode."""
    check(alg, sas)
    lines = ["# generated by bench/bench_topology.py"]
    for s in range(sas):
        # One SA: the inbound SP matches the destination only (as before sas existed); several: the
        # source too, or every SA's SP would be the same rule.
        src = "" if sas == 1 else f"src {remote_host(s, sas)}/32 "
        lines.append(f"sp ipv4 out esp protect {spi_out(s)} pri 1 dst {remote_net(s, sas)} sport 0:65535 dport 0:65535")
        lines.append(f"sp ipv4 in esp protect {spi_in(s, sas)} pri 1 {src}dst 10.1.0.0/24 sport 0:65535 dport 0:65535")
    for s in range(sas):
        lines.append(f"sa out {spi_out(s)} {_secgw_algo('outbound', s, alg)} mode ipv4-tunnel src {WAN_IP} "
                     f"dst {peer_ip(s, sas)}")
        lines.append(f"sa in {spi_in(s, sas)} {_secgw_algo('inbound', s, alg)} mode ipv4-tunnel src {peer_ip(s, sas)} "
                     f"dst {WAN_IP}")
    lines.append(f"rt ipv4 dst {PEER_IP}/32 port 1")
    if sas > 1:
        lines.append("rt ipv4 dst 100.64.0.0/10 port 1")
    lines += ["rt ipv4 dst 10.1.0.0/24 port 0", f"neigh port 0 {HOST_MAC}", f"neigh port 1 {PEER_MAC}"]
    return "\n".join(lines) + "\n"


def dpvpn_forward_yaml(lan_device, wan_device, mbufs, agent_socket, alg="aes128gcm", sas=1, flows=8):
    """The forward-only baseline: the same ports and traffic, no SA or policy; the remote networks are
    routed in clear through the next hop, so the worker does RX, classification, routing, connections and TX."""
    cfg = dpvpn_yaml(lan_device, wan_device, mbufs, agent_socket, alg, 1, flows)
    cfg = cfg[:cfg.index("sas:")]
    return cfg + f"""routes:
  - prefix: {"10.2.0.0/24" if sas == 1 else "10.128.0.0/15"}
    via: {PEER_IP}
    port: wan
"""


def secgw_forward_cfg(alg="aes128gcm", sas=1):
    """ipsec-secgw's forward-only baseline: one outbound SP says bypass for all remote networks (the
    inbound SA and SP stay, unused)."""
    cfg = secgw_cfg(alg, 1)
    net = "10.2.0.0/24" if sas == 1 else "10.128.0.0/15"
    cfg = cfg.replace(f"sp ipv4 out esp protect {SPI_OUT} pri 1 dst 10.2.0.0/24", f"sp ipv4 out esp bypass pri 1 dst {net}")
    return cfg + f"rt ipv4 dst {net} port 1\n"
