// dpvpn-dataplane's YAML config: a complete file parses into exactly the expected struct; each
// kind of mistake is reported as the exact "file:line: what" message; key material never appears
// in a message; the shipped example (dataplane/config/example.yaml) stays valid.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/dataplane_config.hpp"

using namespace dpvpn;
using namespace dpvpn::dataplane;

namespace {

// Line numbers in the expected messages below refer to this text (line 1 is the comment).
const std::string kValid = R"(# dpvpn-dataplane configuration
dataplane:
  workers:
    - lcore: 1
      rx: [inside:0, outside:0]
  idle: sleep
  idle_sleep_us: 100
  mbufs: 8191
  replay_window: 1024
  crypto: ipsec-mb
  crypto_device: crypto_aesni_mb0
  tables:
    connections: 65536
  punt_ring: 1024
  hold_queue: 64
ports:
  - name: inside
    device: "net_af_packet0,iface=veth0"
    role: inside
    addresses: [10.1.0.1/24, "fd00:1::1/64"]
    mac: "02:00:00:00:00:01"
    mtu: 1500
    vlan: 0
    rx_queues: 1
  - name: outside
    device: "0000:03:00.0"
    role: outside
    addresses: [192.0.2.1/24]
    mtu: 9000
    vlan: 100
    rx_queues: 1
routes:
  - prefix: 0.0.0.0/0
    via: 192.0.2.254
    port: outside
sas:
  - name: b-out
    direction: outbound
    spi: 0x00001001
    algorithm: aes128gcm
    key: 0x0102030405060708090a0b0c0d0e0f1011121314
    local: 192.0.2.1
    remote: 192.0.2.2
    esn: false
    natt: {local_port: 4500, remote_port: 4501}
    lifetime: {soft_bytes: 0, hard_bytes: 0, soft_packets: 0, hard_packets: 0, soft_seconds: 0, hard_seconds: 0}
    tunnel_id: 1
  - name: b-in
    direction: inbound
    spi: 4098
    algorithm: aes256cbc-sha256
    key: 0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
    auth_key: 0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
    local: 192.0.2.1
    remote: 192.0.2.2
    esn: true
    replay_window: 2048
    lifetime: {soft_bytes: 1000000, hard_bytes: 2000000}
    tunnel_id: 1
  - name: c-in
    direction: inbound
    spi: 0xffffffff
    algorithm: chacha20poly1305
    key: 0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283
    local: 192.0.2.1
    remote: 192.0.2.3
policies:
  - local: 10.1.0.0/16
    remote: 10.2.0.0/16
    action: protect
    outbound_sa: b-out
    inbound_sa: b-in
  - local: 10.1.0.0/16
    remote: 10.9.0.0/16
    action: bypass
neighbors:
  - port: outside
    address: 192.0.2.2
    mac: "02:00:00:00:02:02"
  - port: inside
    address: "fd00:1::2"
    mac: "02:00:00:00:01:aB"
)";

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

std::vector<uint8_t> bytes_from(uint8_t first, size_t count) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < count; ++i) out.push_back(static_cast<uint8_t>(first + i));
  return out;
}

// kValid with `from` (which must occur exactly once) replaced by `to`.
std::string edit(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(from, at + 1) == std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string error_of(const std::string& text) {
  DataplaneConfig cfg;
  const Status s = parse_dataplane_config(text, "dp.yaml", &cfg);
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  return s.message();
}

struct BadConfig {
  std::string_view from, to;
  std::string_view expected;
};

// One mistake each, applied to kValid.
const BadConfig kBadConfigs[] = {
    // unknown keys, everywhere
    {"  workers:\n", "  workerz:\n",
     "dp.yaml:3: unknown key 'workerz' in dataplane (known: workers, idle, idle_sleep_us, mbufs, "
     "replay_window, crypto, crypto_device, tables, punt_ring, hold_queue)"},
    {"routes:\n", "route:\n",
     "dp.yaml:32: unknown key 'route' at the top level (known: dataplane, ports, routes, neighbors, sas, policies, "
     "agent)"},
    {"    esn: false\n", "    esm: false\n",
     "dp.yaml:44: unknown key 'esm' in sas[0] (known: name, direction, spi, algorithm, key, auth_key, "
     "local, remote, esn, replay_window, natt, lifetime, tunnel_id)"},
    {"remote_port: 4501", "remote_prot: 4501",
     "dp.yaml:45: unknown key 'remote_prot' in sas[0].natt (known: local_port, remote_port)"},
    {"    vlan: 0\n", "    vlan: 0\n    vlan: 5\n", "dp.yaml:24: ports[0].vlan: given twice (first on line 23)"},
    // YAML itself
    {"      rx: [inside:0, outside:0]\n", "      rx: [inside:0, outside:0]\n     idle_x: 1\n",
     "dp.yaml:6: YAML syntax error: end of sequence not found"},
    // dataplane
    {"lcore: 1", "lcore: 0", "dp.yaml:4: dataplane.workers[0].lcore: 0 is out of range 1..127"},
    {"  workers:\n    - lcore: 1\n      rx: [inside:0, outside:0]\n", "  workers: []\n",
     "dp.yaml:3: dataplane.workers: no workers (at least one lcore must poll the rx queues)"},
    {"      rx: [inside:0, outside:0]\n", "      rx: [inside:0, outside:0]\n    - lcore: 1\n      rx: [inside:0]\n",
     "dp.yaml:6: dataplane.workers[1].lcore: lcore 1 is already a worker (dataplane.workers[0])"},
    {"rx: [inside:0, outside:0]", "rx: [inside, outside:0]",
     "dp.yaml:5: dataplane.workers[0].rx[0]: 'inside' is not port:queue (e.g. inside:0)"},
    {"rx: [inside:0, outside:0]", "rx: [inside:0, outsde:0]",
     "dp.yaml:5: dataplane.workers[0].rx[1]: no port named 'outsde'"},
    {"rx: [inside:0, outside:0]", "rx: [inside:0, outside:1]",
     "dp.yaml:5: dataplane.workers[0].rx[1]: no queue 1 on port 'outside' (it has 1 rx queue: 0..0)"},
    {"      rx: [inside:0, outside:0]\n", "      rx: [inside:0, outside:0]\n    - lcore: 2\n      rx: [inside:0]\n",
     "dp.yaml:7: dataplane.workers[1].rx[0]: inside:0 is already polled by lcore 1"},
    {"    rx_queues: 1\n  - name: outside", "    rx_queues: 2\n  - name: outside",
     "dp.yaml:24: ports[0].rx_queues: rx queue inside:1 is polled by no worker"},
    {"idle: sleep", "idle: slep", "dp.yaml:6: dataplane.idle: 'slep' is not one of poll, pause, sleep"},
    {"idle: sleep", "idle:", "dp.yaml:6: dataplane.idle: no value"},
    {"  mbufs: 8191\n", "  mbufs: 100\n", "dp.yaml:8: dataplane.mbufs: 100 is out of range 1023..1048575"},
    {"  replay_window: 1024\n", "  replay_window: 1000\n",
     "dp.yaml:9: dataplane.replay_window: 1000 is not a multiple of 64"},
    {"  crypto: ipsec-mb\n  crypto_device: crypto_aesni_mb0\n", "  crypto: cryptodev\n",
     "dp.yaml:3: dataplane: missing required key 'crypto_device' (crypto: cryptodev)"},
    {"connections: 65536", "connections: 0", "dp.yaml:13: dataplane.tables.connections: 0 is out of range 1..67108864"},
    {"punt_ring: 1024", "punt_ring: 1000", "dp.yaml:14: dataplane.punt_ring: 1000 is not a power of two"},
    {"hold_queue: 64", "hold_queue: 1025", "dp.yaml:15: dataplane.hold_queue: 1025 is out of range 0..1024"},
    // ports
    {"  - name: outside\n", "  - name: inside\n", "dp.yaml:25: ports[1].name: duplicate port name 'inside' (ports[0])"},
    {"  - name: outside\n", "  - name: Outside\n",
     "dp.yaml:25: ports[1].name: 'Outside' is not a port name ([a-z0-9_-]{1,15})"},
    {"    device: \"0000:03:00.0\"\n", "",
     "dp.yaml:25: ports[1]: missing required key 'device'"},
    {"\"0000:03:00.0\"", "eth0",
     "dp.yaml:26: ports[1].device: 'eth0' is neither a PCI address (0000:03:00.0) nor a vdev spec (net_...,key=value)"},
    {"    role: outside\n", "    role: inside\n",
     "dp.yaml:17: ports: no outside port (need at least one inside and one outside port)"},
    {"[192.0.2.1/24]", "[192.0.2.300/24]", "dp.yaml:28: ports[1].addresses[0]: '192.0.2.300' is not an IP address"},
    {"[192.0.2.1/24]", "[192.0.2.1]",
     "dp.yaml:28: ports[1].addresses[0]: '192.0.2.1' needs a prefix length (address/length)"},
    {"[192.0.2.1/24]", "[192.0.2.1/33]",
     "dp.yaml:28: ports[1].addresses[0]: '192.0.2.1/33': prefix length must be 0..32"},
    {"[192.0.2.1/24]", "[10.1.0.1/24]",
     "dp.yaml:28: ports[1].addresses[0]: 10.1.0.1 is already an address of port 'inside'"},
    {"addresses: [192.0.2.1/24]", "addresses: 192.0.2.1/24",
     "dp.yaml:28: ports[1].addresses: expected a list, got a single value"},
    {"mtu: 9000", "mtu: 9601", "dp.yaml:29: ports[1].mtu: 9601 is out of range 576..9600"},
    {"    mtu: 1500\n", "    mtu: 1000\n",
     "dp.yaml:22: ports[0].mtu: 1000 is below 1280, the IPv6 minimum (the port has address fd00:1::1/64)"},
    {"vlan: 100", "vlan: 4095", "dp.yaml:30: ports[1].vlan: 4095 is out of range 0..4094"},
    {"\"02:00:00:00:00:01\"", "\"01:00:5e:00:00:01\"", "dp.yaml:21: ports[0].mac: 01:00:5e:00:00:01 is a multicast address"},
    // routes
    {"prefix: 0.0.0.0/0", "prefix: 10.0.0.1/8",
     "dp.yaml:33: routes[0].prefix: 10.0.0.1/8 has host bits set (the network is 10.0.0.0/8)"},
    {"via: 192.0.2.254", "via: 192.0.3.254",
     "dp.yaml:34: routes[0].via: 192.0.3.254 is not on a connected subnet of port 'outside' (192.0.2.1/24)"},
    {"    port: outside\n", "    port: inside\n",
     "dp.yaml:34: routes[0].via: 192.0.2.254 is not on a connected subnet of port 'inside' (10.1.0.1/24)"},
    {"    port: outside\n", "    port: outsid\n", "dp.yaml:35: routes[0].port: no port named 'outsid'"},
    {"    port: outside\nsas:\n", "    port: outside\n  - prefix: 0.0.0.0/0\n    via: 192.0.2.253\n    port: outside\nsas:\n",
     "dp.yaml:36: routes[1].prefix: 0.0.0.0/0 is already routed (routes[0])"},
    // sas
    {"  - name: b-in\n", "  - name: b-out\n", "dp.yaml:48: sas[1].name: duplicate SA name 'b-out' (sas[0])"},
    {"spi: 0xffffffff", "spi: 0x1002",
     "dp.yaml:62: sas[2].spi: SPI 0x00001002 is already used by SA 'b-in' (same direction and local address)"},
    {"spi: 4098", "spi: 0", "dp.yaml:50: sas[1].spi: SPI 0 is reserved (use 1..0xffffffff)"},
    {"spi: 0xffffffff", "spi: 0x100000000", "dp.yaml:62: sas[2].spi: 0x100000000 is out of range 1..0xffffffff"},
    {"spi: 4098", "spi: 40x98", "dp.yaml:50: sas[1].spi: '40x98' is not a number"},
    {"algorithm: aes128gcm", "algorithm: aes128-gcm",
     "dp.yaml:40: sas[0].algorithm: 'aes128-gcm' is not one of aes128gcm, aes256gcm, aes128cbc-sha256, "
     "aes256cbc-sha256, chacha20poly1305"},
    {"key: 0x0102030405060708090a0b0c0d0e0f1011121314", "key: 0x0102030405060708090a0b0c0d0e0f10",
     "dp.yaml:41: sas[0].key: aes128gcm needs 20 bytes (16-byte key + 4-byte salt), got 16"},
    {"key: 0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
     "key: 0x202122232425262728292a2b2c2d2e2f", "dp.yaml:52: sas[1].key: aes256cbc-sha256 needs 32 bytes, got 16"},
    {"auth_key: 0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f", "auth_key: 0x4041",
     "dp.yaml:53: sas[1].auth_key: aes256cbc-sha256 needs 32 bytes, got 2"},
    {"    auth_key: 0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n", "",
     "dp.yaml:48: sas[1]: missing required key 'auth_key' (aes256cbc-sha256 needs a 32-byte HMAC key)"},
    {"    key: 0x0102030405060708090a0b0c0d0e0f1011121314\n",
     "    key: 0x0102030405060708090a0b0c0d0e0f1011121314\n    auth_key: 0x00\n",
     "dp.yaml:42: sas[0].auth_key: aes128gcm is an AEAD: it takes no auth_key"},
    {"0x0102030405060708090a0b0c0d0e0f1011121314", "0x0102030405060708090a0b0c0d0e0f10111213zz",
     "dp.yaml:41: sas[0].key: not hex (expected 0x and hex digits)"},
    {"    local: 192.0.2.1\n    remote: 192.0.2.2\n    esn: false\n",
     "    local: 192.0.2.9\n    remote: 192.0.2.2\n    esn: false\n",
     "dp.yaml:42: sas[0].local: 192.0.2.9 is not one of our port addresses"},
    {"remote: 192.0.2.3", "remote: \"2001:db8::3\"",
     "dp.yaml:66: sas[2].remote: 2001:db8::3 and local 192.0.2.1 are of different address families"},
    {"esn: true", "esn: yes", "dp.yaml:56: sas[1].esn: 'yes' is not one of true, false"},
    {"    tunnel_id: 1\n  - name: b-in\n", "    replay_window: 128\n    tunnel_id: 1\n  - name: b-in\n",
     "dp.yaml:47: sas[0].replay_window: only inbound SAs have a replay window"},
    {"replay_window: 2048", "replay_window: 8192", "dp.yaml:57: sas[1].replay_window: 8192 is out of range 64..4096"},
    {"{soft_bytes: 1000000, hard_bytes: 2000000}", "{soft_bytes: 3000000, hard_bytes: 2000000}",
     "dp.yaml:58: sas[1].lifetime.soft_bytes: 3000000 exceeds hard_bytes 2000000"},
    {"local_port: 4500", "local_port: 0", "dp.yaml:45: sas[0].natt.local_port: 0 is out of range 1..65535"},
    // policies
    {"outbound_sa: b-out", "outbound_sa: b-otu", "dp.yaml:71: policies[0].outbound_sa: no SA named 'b-otu'"},
    {"inbound_sa: b-in", "inbound_sa: b-out", "dp.yaml:72: policies[0].inbound_sa: SA 'b-out' is outbound"},
    {"    outbound_sa: b-out\n", "",
     "dp.yaml:68: policies[0]: missing required key 'outbound_sa' (action: protect)"},
    {"    action: bypass\n", "    action: bypass\n    inbound_sa: c-in\n",
     "dp.yaml:76: policies[1].inbound_sa: a bypass policy uses no SA"},
    {"  - local: 10.1.0.0/16\n    remote: 10.2.0.0/16\n", "  - local: 10.1.0.1/16\n    remote: 10.2.0.0/16\n",
     "dp.yaml:68: policies[0].local: 10.1.0.1/16 has host bits set (the network is 10.1.0.0/16)"},
    {"remote: 10.9.0.0/16", "remote: \"fd00:9::/32\"",
     "dp.yaml:74: policies[1].remote: fd00:9::/32 and local 10.1.0.0/16 are of different address families"},
    {"remote: 10.9.0.0/16", "remote: 10.2.0.0/16", "dp.yaml:73: policies[1]: same local and remote as policies[0]"},
    {"action: bypass", "action: drop", "dp.yaml:75: policies[1].action: 'drop' is not one of protect, bypass"},
    // neighbors
    {"    mac: \"02:00:00:00:02:02\"\n", "    macc: \"02:00:00:00:02:02\"\n",
     "dp.yaml:79: unknown key 'macc' in neighbors[0] (known: port, address, mac)"},
    {"    mac: \"02:00:00:00:02:02\"\n", "", "dp.yaml:77: neighbors[0]: missing required key 'mac'"},
    {"  - port: outside\n", "  - port: outsid\n", "dp.yaml:77: neighbors[0].port: no port named 'outsid'"},
    {"address: 192.0.2.2", "address: 192.0.2.300", "dp.yaml:78: neighbors[0].address: '192.0.2.300' is not an IP address"},
    {"address: 192.0.2.2", "address: 192.0.2.2/24",
     "dp.yaml:78: neighbors[0].address: '192.0.2.2/24' is not an IP address"},
    {"address: 192.0.2.2", "address: 192.0.3.2",
     "dp.yaml:78: neighbors[0].address: 192.0.3.2 is not on a connected subnet of port 'outside' (192.0.2.1/24)"},
    {"address: 192.0.2.2", "address: \"2001:db8::2\"",
     "dp.yaml:78: neighbors[0].address: 2001:db8::2 is not on a connected subnet of port 'outside' (it has no "
     "address of that family)"},
    {"address: 192.0.2.2", "address: 192.0.2.1",
     "dp.yaml:78: neighbors[0].address: 192.0.2.1 is an address of port 'outside' itself"},
    {"address: \"fd00:1::2\"", "address: \"fd00:1::1\"",
     "dp.yaml:81: neighbors[1].address: fd00:1::1 is an address of port 'inside' itself"},
    {"  - port: inside\n    address: \"fd00:1::2\"\n", "  - port: outside\n    address: 192.0.2.2\n",
     "dp.yaml:81: neighbors[1].address: 192.0.2.2 on port 'outside' is already a neighbor (neighbors[0])"},
    {"\"02:00:00:00:02:02\"", "\"01:00:5e:00:00:01\"",
     "dp.yaml:79: neighbors[0].mac: 01:00:5e:00:00:01 is a multicast address"},
    {"\"02:00:00:00:02:02\"", "\"00:00:00:00:00:00\"",
     "dp.yaml:79: neighbors[0].mac: 00:00:00:00:00:00 is not a usable address"},
    {"\"02:00:00:00:02:02\"", "\"02:00:00:00:02\"",
     "dp.yaml:79: neighbors[0].mac: '02:00:00:00:02' is not a MAC address (02:00:00:00:00:01)"},
    {"  - port: outside\n    address: 192.0.2.2\n", "  - port: outside\n    address: [192.0.2.2]\n",
     "dp.yaml:78: neighbors[0].address: expected a single value, got a list"},
};

}  // namespace

TEST_CASE("a complete config parses into exactly the expected struct") {
  DataplaneConfig cfg;
  const Status s = parse_dataplane_config(kValid, "dp.yaml", &cfg);
  INFO(s.message());
  REQUIRE(s.is_ok());

  REQUIRE(cfg.workers.size() == 1);
  CHECK(cfg.workers[0].lcore == 1);
  CHECK(cfg.workers[0].rx == std::vector<RxQueueRef>{{0, 0}, {1, 0}});
  CHECK(cfg.idle == IdleMode::kSleep);
  CHECK(cfg.idle_sleep_us == 100);
  CHECK(cfg.mbufs == 8191);
  CHECK(cfg.replay_window == 1024);
  CHECK(cfg.crypto == CryptoKind::kIpsecMb);
  CHECK(cfg.crypto_device == "crypto_aesni_mb0");
  CHECK(cfg.tables == std::map<std::string, uint32_t>{{"connections", 65536}});
  CHECK(cfg.punt_ring == 1024);
  CHECK(cfg.hold_queue == 64);

  REQUIRE(cfg.ports.size() == 2);
  const PortConfig& inside = cfg.ports[0];
  CHECK(inside.name == "inside");
  CHECK(inside.device == "net_af_packet0,iface=veth0");
  CHECK_FALSE(inside.is_pci);
  CHECK(inside.role == PortRole::kInside);
  CHECK(inside.addresses == std::vector<IpPrefix>{{ip("10.1.0.1"), 24}, {ip("fd00:1::1"), 64}});
  CHECK(inside.mac == std::array<uint8_t, 6>{0x02, 0, 0, 0, 0, 0x01});
  CHECK(inside.mtu == 1500);
  CHECK(inside.vlan == 0);
  CHECK(inside.rx_queues == 1);
  const PortConfig& outside = cfg.ports[1];
  CHECK(outside.name == "outside");
  CHECK(outside.device == "0000:03:00.0");
  CHECK(outside.is_pci);
  CHECK(outside.role == PortRole::kOutside);
  CHECK(outside.addresses == std::vector<IpPrefix>{{ip("192.0.2.1"), 24}});
  CHECK_FALSE(outside.mac.has_value());
  CHECK(outside.mtu == 9000);
  CHECK(outside.vlan == 100);

  REQUIRE(cfg.routes.size() == 1);
  CHECK(cfg.routes[0].prefix == IpPrefix{ip("0.0.0.0"), 0});
  CHECK(cfg.routes[0].via == ip("192.0.2.254"));
  CHECK(cfg.routes[0].port == 1);

  REQUIRE(cfg.sas.size() == 3);
  const SaParams& out = cfg.sas[0];
  CHECK(out.name == "b-out");
  CHECK(out.spi == 0x1001);  // hex
  CHECK(out.direction == SaDirection::kOutbound);
  CHECK(out.algorithm == EspAlgorithm::kAesGcm128);
  CHECK(out.key == bytes_from(0x01, 20));
  CHECK(out.auth_key.empty());
  CHECK(out.local == ip("192.0.2.1"));
  CHECK(out.remote == ip("192.0.2.2"));
  CHECK_FALSE(out.esn);
  CHECK(out.replay_window == 1024);  // dataplane default (unused outbound)
  CHECK(out.natt);
  CHECK(out.natt_local_port == 4500);
  CHECK(out.natt_remote_port == 4501);
  CHECK(out.lifetime.hard_bytes == 0);
  CHECK(out.lifetime.hard_seconds == 0);
  CHECK(out.tunnel_id == 1);
  // Selectors come from the protect policy that names the SA.
  REQUIRE(out.local_ts.size() == 1);
  CHECK(out.local_ts[0].start == ip("10.1.0.0"));
  CHECK(out.local_ts[0].end == ip("10.1.255.255"));
  CHECK(out.local_ts[0].protocol == 0);
  CHECK(out.local_ts[0].port_lo == 0);
  CHECK(out.local_ts[0].port_hi == 65535);
  REQUIRE(out.remote_ts.size() == 1);
  CHECK(out.remote_ts[0].start == ip("10.2.0.0"));
  CHECK(out.remote_ts[0].end == ip("10.2.255.255"));

  const SaParams& in = cfg.sas[1];
  CHECK(in.name == "b-in");
  CHECK(in.spi == 4098);  // decimal
  CHECK(in.direction == SaDirection::kInbound);
  CHECK(in.algorithm == EspAlgorithm::kAesCbc256HmacSha256);
  CHECK(in.key == bytes_from(0x20, 32));
  CHECK(in.auth_key == bytes_from(0x40, 32));
  CHECK(in.esn);
  CHECK(in.replay_window == 2048);
  CHECK_FALSE(in.natt);
  CHECK(in.lifetime.soft_bytes == 1000000);
  CHECK(in.lifetime.hard_bytes == 2000000);
  CHECK(in.lifetime.soft_packets == 0);
  REQUIRE(in.local_ts.size() == 1);
  CHECK(in.local_ts[0].start == ip("10.1.0.0"));
  REQUIRE(in.remote_ts.size() == 1);
  CHECK(in.remote_ts[0].end == ip("10.2.255.255"));

  const SaParams& one_way = cfg.sas[2];
  CHECK(one_way.spi == 0xffffffffu);
  CHECK(one_way.algorithm == EspAlgorithm::kChaCha20Poly1305);
  CHECK(one_way.key == bytes_from(0x60, 36));
  CHECK(one_way.replay_window == 1024);  // from dataplane.replay_window
  CHECK(one_way.tunnel_id == 0);
  CHECK(one_way.local_ts.empty());  // no policy names it
  CHECK(one_way.remote_ts.empty());

  REQUIRE(cfg.policies.size() == 2);
  CHECK(cfg.policies[0].local == IpPrefix{ip("10.1.0.0"), 16});
  CHECK(cfg.policies[0].remote == IpPrefix{ip("10.2.0.0"), 16});
  CHECK(cfg.policies[0].action == PolicyAction::kProtect);
  CHECK(cfg.policies[0].outbound_sa == 0);
  CHECK(cfg.policies[0].inbound_sa == 1);
  CHECK(cfg.policies[1].remote == IpPrefix{ip("10.9.0.0"), 16});
  CHECK(cfg.policies[1].action == PolicyAction::kBypass);
  CHECK(cfg.policies[1].outbound_sa == -1);
  CHECK(cfg.policies[1].inbound_sa == -1);

  REQUIRE(cfg.neighbors.size() == 2);
  CHECK(cfg.neighbors[0].port == 1);
  CHECK(cfg.neighbors[0].address == ip("192.0.2.2"));
  CHECK(cfg.neighbors[0].mac == std::array<uint8_t, 6>{0x02, 0, 0, 0, 0x02, 0x02});
  CHECK(cfg.neighbors[1].port == 0);
  CHECK(cfg.neighbors[1].address == ip("fd00:1::2"));
  CHECK(cfg.neighbors[1].mac == std::array<uint8_t, 6>{0x02, 0, 0, 0, 0x01, 0xab});
}

TEST_CASE("defaults: only the required keys") {
  DataplaneConfig cfg;
  const Status s = parse_dataplane_config(R"(dataplane:
  workers: [{lcore: 3, rx: ["in:0", "out:0"]}]
ports:
  - {name: in, device: net_null0, role: inside, addresses: ["fd00::1/64"]}
  - {name: out, device: net_null1, role: outside, addresses: [198.51.100.1/30]}
)",
                                          "min.yaml", &cfg);
  INFO(s.message());
  REQUIRE(s.is_ok());
  CHECK(cfg.idle == IdleMode::kPoll);
  CHECK(cfg.idle_sleep_us == 100);
  CHECK(cfg.mbufs == 8191);
  CHECK(cfg.replay_window == 1024);
  CHECK(cfg.crypto == CryptoKind::kIpsecMb);
  CHECK(cfg.crypto_device.empty());
  CHECK(cfg.tables.empty());
  CHECK(cfg.punt_ring == 1024);
  CHECK(cfg.hold_queue == 64);
  CHECK(cfg.ports[0].mtu == 1500);
  CHECK(cfg.ports[0].vlan == 0);
  CHECK(cfg.ports[0].rx_queues == 1);
  CHECK_FALSE(cfg.ports[0].mac.has_value());
  CHECK(cfg.routes.empty());
  CHECK(cfg.sas.empty());
  CHECK(cfg.policies.empty());
  CHECK(cfg.neighbors.empty());
}

TEST_CASE("each bad config is reported as file:line: what is wrong") {
  for (const BadConfig& bad : kBadConfigs) {
    INFO("expected: " << bad.expected);
    CHECK(error_of(edit(kValid, bad.from, bad.to)) == bad.expected);
  }
}

TEST_CASE("whole-document problems") {
  CHECK(error_of("") == "dp.yaml:1: empty config (expected the sections dataplane and ports)");
  CHECK(error_of("- a\n- b\n") == "dp.yaml:1: expected a map of sections (dataplane, ports, ...)");
  CHECK(error_of("dataplane:\n  workers: [{lcore: 1, rx: [a:0]}]\n") ==
        "dp.yaml:1: missing required key 'ports'");
  CHECK(error_of("dataplane:\n  workers: [{lcore: 1, rx: [a:0]}]\nports: []\n") ==
        "dp.yaml:3: ports: no ports (need at least one inside and one outside port)");
  CHECK(error_of("dataplane: {workers: [}\n") == "dp.yaml:1: YAML syntax error: illegal flow end");
}

TEST_CASE("the first error in the file wins; cross-references are checked after every section") {
  // Two standalone mistakes: the earlier line is reported.
  std::string text = edit(edit(kValid, "idle: sleep", "idle: slep"), "mtu: 9000", "mtu: 1");
  CHECK(error_of(text) == "dp.yaml:6: dataplane.idle: 'slep' is not one of poll, pause, sleep");
  // A dangling name (line 5) is only known to dangle once ports are read; the value error wins.
  text = edit(edit(kValid, "outside:0]", "outsde:0]"), "mtu: 9000", "mtu: 1");
  CHECK(error_of(text) == "dp.yaml:29: ports[1].mtu: 1 is out of range 576..9600");
}

TEST_CASE("key material never appears in an error message") {
  const std::string secret = "deadbeefcafef00d1337c0ffee";  // 13 bytes: wrong for every algorithm
  const std::vector<std::pair<std::string, std::string>> leaks = {
      {"0x0102030405060708090a0b0c0d0e0f1011121314", "0x" + secret},              // wrong length
      {"0x0102030405060708090a0b0c0d0e0f1011121314", "0x" + secret + "zz"},       // not hex
      {"0x0102030405060708090a0b0c0d0e0f1011121314", "0x" + secret + "f"},        // odd digits
      {"0x0102030405060708090a0b0c0d0e0f1011121314", "[0x" + secret + "]"},       // not a scalar
      {"0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f", "0x" + secret},  // auth_key
  };
  for (const auto& [from, to] : leaks) {
    const std::string message = error_of(edit(kValid, from, to));
    INFO(message);
    CHECK(message.find("deadbeef") == std::string::npos);
    CHECK(message.find("c0ffee") == std::string::npos);
    CHECK(message.find("1337") == std::string::npos);
  }
  // Nor the valid keys of the file, whatever else is wrong with it.
  for (const BadConfig& bad : kBadConfigs) {
    const std::string message = error_of(edit(kValid, bad.from, bad.to));
    CHECK(message.find("0102030405") == std::string::npos);
    CHECK(message.find("2021222324") == std::string::npos);
    CHECK(message.find("4041424344") == std::string::npos);
  }
}

TEST_CASE("unknown kernel-table names list the catalog") {
  const std::string message = error_of(edit(kValid, "connections: 65536", "connectionz: 65536"));
  CHECK_THAT(message, Catch::StartsWith("dp.yaml:13: dataplane.tables: unknown table 'connectionz' (known: "
                                        "connections, IKE_SA_table, inbound_SPI, "));
  CHECK_THAT(message, !Catch::Contains("decryption_pending"));  // obsolete
}

TEST_CASE("the shipped example file loads") {
  DataplaneConfig cfg;
  const Status s = load_dataplane_config(DPVPN_EXAMPLE_CONFIG, &cfg);
  INFO(s.message());
  REQUIRE(s.is_ok());
  CHECK(cfg.workers.size() == 2);
  CHECK(cfg.ports.size() == 2);
  CHECK(cfg.routes.size() == 2);
  REQUIRE(cfg.neighbors.size() == 2);
  CHECK(cfg.neighbors[0].address == *IpAddr::parse("192.0.2.254"));
  CHECK(cfg.neighbors[1].port == 1);
  CHECK(cfg.neighbors[1].mac == std::array<uint8_t, 6>{0x02, 0, 0, 0, 0x02, 0xfe});
  REQUIRE(cfg.sas.size() == 2);
  CHECK(cfg.sas[0].local_ts.size() == 2);  // an IPv4 and an IPv6 protect policy
  CHECK(cfg.sas[1].local_ts.size() == 2);
  CHECK(cfg.policies.size() == 3);
}

TEST_CASE("the README shows the example file as it is") {
  const auto read = [](const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::filesystem::path example = DPVPN_EXAMPLE_CONFIG;
  const std::string readme = read(example.parent_path() / "README.md");
  const std::string marker = "## Full example\n\n```yaml\n";
  const size_t start = readme.find(marker);
  REQUIRE(start != std::string::npos);
  const size_t end = readme.find("```", start + marker.size());
  REQUIRE(end != std::string::npos);
  CHECK(readme.substr(start + marker.size(), end - start - marker.size()) == read(example));
}

TEST_CASE("agent: the socket, TCP with mutual-TLS files resolved against the config's directory") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("dpvpn-agent-cfg-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "pki");
  for (const char* f : {"pki/server.pem", "pki/server.key"}) std::ofstream(dir / f) << "PEM\n";
  const std::string ca = (dir / "pki/ca.pem").string();
  std::ofstream(ca) << "PEM\n";
  const std::string base = std::string(kValid);
  const auto load = [&](const std::string& agent, DataplaneConfig* cfg) {
    std::ofstream(dir / "dp.yaml") << base << agent;
    return load_dataplane_config((dir / "dp.yaml").string(), cfg);
  };
  // The line `agent:` lands on when appended to the file.
  const int agent_line = static_cast<int>(std::count(base.begin(), base.end(), '\n')) + (base.back() == '\n' ? 1 : 2);
  const auto at = [&](int offset, const std::string& what) {
    return (dir / "dp.yaml").string() + ":" + std::to_string(agent_line + offset) + ": " + what;
  };

  DataplaneConfig cfg;
  REQUIRE(load("", &cfg).is_ok());
  CHECK(cfg.agent.socket == "/run/dpvpn/dataplane.sock");  // the default
  CHECK(cfg.agent.tcp.empty());

  const std::string tls = "  tls:\n    cert: pki/server.pem\n    key: pki/server.key\n    ca: " + ca + "\n";
  const Status ok = load("agent:\n  socket:\n  tcp: 0.0.0.0:50051\n" + tls, &cfg);
  INFO(ok.to_string());
  REQUIRE(ok.is_ok());
  CHECK(cfg.agent.socket.empty());  // no unix socket
  CHECK(cfg.agent.tcp == "0.0.0.0:50051");
  CHECK(cfg.agent.tls_cert == (dir / "pki/server.pem").string());
  CHECK(cfg.agent.tls_key == (dir / "pki/server.key").string());
  CHECK(cfg.agent.tls_ca == ca);

  CHECK(load("agent:\n  tcp: 0.0.0.0:50051\n", &cfg).message() ==
        at(1, "agent: missing required key 'tls' (agent.tcp is served only with mutual TLS)"));
  CHECK(load("agent:\n  tcp: 0.0.0.0\n" + tls, &cfg).message() ==
        at(1, "agent.tcp: '0.0.0.0' is not HOST:PORT (e.g. 0.0.0.0:50051 or [::]:50051)"));
  CHECK(load("agent:\n  tcp: \"[::]:50051\"\n  tls:\n    cert: pki/nope.pem\n    key: pki/server.key\n    ca: " + ca + "\n", &cfg)
            .message() == at(3, "agent.tls.cert: cannot read " + (dir / "pki/nope.pem").string()));
  CHECK(load("agent:\n  socket: /tmp/a.sock\n" + tls, &cfg).message() == at(3, "agent.tls: only used with agent.tcp"));
  CHECK(load("agent:\n  sokcet: /tmp/a.sock\n", &cfg).message() ==
        at(1, "unknown key 'sokcet' in agent (known: socket, tcp, tls)"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a missing file is NOT_FOUND with its path") {
  DataplaneConfig cfg;
  const Status s = load_dataplane_config("/nonexistent/dp.yaml", &cfg);
  CHECK(s.code() == StatusCode::kNotFound);
  CHECK(s.message() == "/nonexistent/dp.yaml: cannot read: No such file or directory");
}
