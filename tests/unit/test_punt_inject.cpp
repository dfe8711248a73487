// The dataplane in-process: ports are rte_ring ethdevs the test feeds and drains; workers are
// polled on the test thread. The control-plane API (IKE punted with its frame, frames injected
// out of a port, one acquire per protected flow without an SA), the SA lifecycle (install,
// expiry events, delete after the RCU grace period, a stale route hint), traffic spread over many
// tunnels, and two workers on two RX/TX queues.
#include <catch2/catch.hpp>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "config/dataplane_config.hpp"
#include "ring_dataplane_support.hpp"
#include "runtime/dataplane.hpp"

using namespace dpvpn;
using namespace dpvpn::dataplane;

using namespace dpvpn::test;

namespace {
const auto& config_for = ring_dataplane_config;

// The dataplane of the config `text` (named `file` in errors); a parse or start failure says why.
std::unique_ptr<Dataplane> start_dataplane(const std::string& text, const char* file) {
  DataplaneConfig config;
  const Status parsed = parse_dataplane_config(text, file, &config);
  INFO(parsed.to_string());
  REQUIRE(parsed.is_ok());
  std::unique_ptr<Dataplane> dp;
  const Status created = Dataplane::create(config, &dp);
  INFO(created.to_string());
  REQUIRE(created.is_ok());
  return dp;
}

// A started dataplane (config `text`, errors naming NAME.yaml) and a pool NAME_test_pool for the frames
// a test feeds it; the dataplane is stopped before the pool is freed (it may hold the pool's mbufs).
struct RunningDataplane {
  RunningDataplane(const std::string& text, const std::string& name)
      : dp(start_dataplane(text, (name + ".yaml").c_str())),
        pool(rte_pktmbuf_pool_create((name + "_test_pool").c_str(), 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     SOCKET_ID_ANY)) {
    REQUIRE(pool != nullptr);
  }
  ~RunningDataplane() {
    dp.reset();
    rte_mempool_free(pool);
  }
  RunningDataplane(const RunningDataplane&) = delete;
  RunningDataplane& operator=(const RunningDataplane&) = delete;
  std::unique_ptr<Dataplane> dp;
  rte_mempool* pool;
};

// The tests' peer gateway, on the outside port's subnet, and our address there.
const IpAddr kPeer = *IpAddr::parse("192.0.2.2");
const IpAddr kOutsideAddr = *IpAddr::parse("192.0.2.1");

// An outbound AES-GCM-128 SA to kPeer whose key bytes are all key_byte.
SaParams outbound_sa_to_peer(const std::string& name, uint32_t spi, uint8_t key_byte) {
  SaParams params;
  params.name = name;
  params.spi = spi;
  params.direction = SaDirection::kOutbound;
  params.algorithm = EspAlgorithm::kAesGcm128;
  params.key.assign(20, key_byte);
  params.local = kOutsideAddr;
  params.remote = kPeer;
  return params;
}

// The peer's MAC is known, so ESP to it leaves at once.
void know_peer_mac(Dataplane& dp) {
  REQUIRE(dp.tables()
              .typed<tables::TableId::neighbors>()
              .upsert({kPeer, dp.ports()[1].port_id, 0}, {{0x02, 0, 0, 0, 0x02, 0x02}, tables::kNeighborReachable})
              .is_ok());
}
}  // namespace

TEST_CASE("punt, inject and acquire through the control channel") {
  RingPort inside("pi_in"), outside("pi_out");
  RunningDataplane running(config_for("pi_in", "pi_out"), "pi");
  std::unique_ptr<Dataplane>& dp = running.dp;
  rte_mempool* pool = running.pool;

  // IKE_SA_INIT to our outside address on UDP 500: punted with the whole frame.
  const std::vector<uint8_t> ike(28, 0x21);
  const auto frame = udp_frame(0xc0000202, 0xc0000201, 500, 500, ike);
  receive(pool, outside.rx, frame);
  // IKE on 4500 after the non-ESP marker: punted too.
  std::vector<uint8_t> natt_ike(4, 0);
  natt_ike.insert(natt_ike.end(), 28, 0x22);
  receive(pool, outside.rx, udp_frame(0xc0000202, 0xc0000201, 4500, 4500, natt_ike));
  CHECK(dp->poll_workers_once() == 2);
  dp->housekeeping_once();
  auto first = dp->control().poll();
  REQUIRE(first.has_value());
  CHECK(first->type == ControlEventType::kIkePacket);
  CHECK(first->port_index == 1);
  CHECK(first->frame == frame);
  auto second = dp->control().poll();
  REQUIRE(second.has_value());
  CHECK(second->type == ControlEventType::kIkePacket);
  CHECK_FALSE(dp->control().poll().has_value());

  // The control plane answers: the frame leaves the outside port unchanged.
  const auto reply = udp_frame(0xc0000201, 0xc0000202, 500, 500, std::vector<uint8_t>(40, 0x33));
  dp->control().inject(1, reply);
  dp->housekeeping_once();
  dp->poll_workers_once();
  const auto out = sent(outside.tx);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == reply);

  // A protected range whose route has no SA yet: the first packet raises one acquire.
  REQUIRE(dp->tables()
              .vpn_routing()
              .add(tables::vpn_route_key(*IpAddr::parse("10.2.0.0"), 16),
                   {*IpAddr::parse("192.0.2.2"), 7, tables::kRouteEncrypt, 0, 0})
              .is_ok());
  auto flow = udp_frame(0x0a010005, 0x0a020009, 1234, 80, std::vector<uint8_t>(10, 1));
  flow[0] = 0x02;  // to our inside MAC
  flow[5] = 0x01;
  receive(pool, inside.rx, flow);
  dp->poll_workers_once();
  dp->housekeeping_once();
  receive(pool, inside.rx, flow);  // the same flow again: the entry exists, no second acquire
  dp->poll_workers_once();
  dp->housekeeping_once();
  auto acquire = dp->control().poll();
  REQUIRE(acquire.has_value());
  CHECK(acquire->type == ControlEventType::kAcquire);
  CHECK(acquire->src == *IpAddr::parse("10.1.0.5"));
  CHECK(acquire->dst == *IpAddr::parse("10.2.0.9"));
  CHECK(acquire->gateway == *IpAddr::parse("192.0.2.2"));
  CHECK(acquire->sport == 1234);
  CHECK(acquire->dport == 80);
  CHECK_FALSE(dp->control().poll().has_value());
  CHECK(dp->tables().table(tables::TableId::encryption_requests).count() == 1);
  CHECK(sent(outside.tx).empty());  // nothing left in clear
  const std::string stats = dp->stats_json();
  CHECK(stats.find("\"no_sa_acquire\": 2") != std::string::npos);
  CHECK(stats.find("\"ike_punted\": 2") != std::string::npos);
}

TEST_CASE("SA lifecycle: install, encrypt, soft and hard expiry events, delete after the grace period") {
  RingPort inside("lc_in"), outside("lc_out");
  RunningDataplane running(config_for("lc_in", "lc_out"), "lc");
  std::unique_ptr<Dataplane>& dp = running.dp;
  rte_mempool* pool = running.pool;

  SaParams params = outbound_sa_to_peer("to-b", 0x1000, 0x42);
  params.lifetime.soft_packets = 2;
  params.lifetime.hard_packets = 3;
  uint32_t index = 0;
  REQUIRE(dp->sas().add_sa(params, &index).is_ok());
  CHECK(dp->sas().add_sa(params, &index).code() == StatusCode::kAlreadyExists);
  REQUIRE(dp->sas().add_policy({*IpAddr::parse("10.2.0.0"), 16}, PolicyAction::kProtect, static_cast<int32_t>(index), 1)
              .is_ok());
  know_peer_mac(*dp);

  auto flow = udp_frame(0x0a010005, 0x0a020009, 1234, 80, std::vector<uint8_t>(10, 1));
  flow[5] = 0x01;  // to our inside MAC
  for (int i = 0; i < 4; ++i) receive(pool, inside.rx, flow);
  dp->poll_workers_once();
  const auto esp = sent(outside.tx);
  CHECK(esp.size() == 3);  // the hard limit is 3 packets: the 4th is refused
  for (size_t i = 0; i < esp.size(); ++i) {
    INFO("ESP packet " << i);
    REQUIRE(esp[i].size() > 14 + 20 + 8);
    CHECK(esp[i][14 + 9] == 50);                                     // ESP
    CHECK(esp[i][14 + 20 + 3] == 0x00);                              // SPI 0x00001000
    CHECK(esp[i][14 + 20 + 2] == 0x10);
    CHECK(esp[i][14 + 20 + 7] == static_cast<uint8_t>(i + 1));      // sequence 1, 2, 3
  }
  dp->check_sa_lifetimes();
  auto soft = dp->control().poll();
  auto hard = dp->control().poll();
  REQUIRE(soft.has_value());
  REQUIRE(hard.has_value());
  CHECK(soft->type == ControlEventType::kSaSoftExpire);
  CHECK(hard->type == ControlEventType::kSaHardExpire);
  CHECK(soft->spi == 0x1000);
  dp->check_sa_lifetimes();
  CHECK_FALSE(dp->control().poll().has_value());  // each event once
  CHECK(dp->stats_json().find("\"esp_sa_expired\": 1") != std::string::npos);

  // Delete: unpublished at once, destroyed after the worker's next quiescent state.
  REQUIRE(dp->sas().delete_sa(index).is_ok());
  CHECK(dp->tables().table(tables::TableId::outbound_SPI).count() == 0);
  CHECK(dp->sas().installed() == 0);
  CHECK(dp->sas().pending_deletes() == 1);
  CHECK(dp->sas().delete_sa(index).code() == StatusCode::kNotFound);
  dp->sas().reclaim();
  CHECK(dp->sas().pending_deletes() == 1);  // the worker has not been quiescent since
  dp->poll_workers_once();
  dp->sas().reclaim();
  CHECK(dp->sas().pending_deletes() == 0);
  // The route still names the SPI: its traffic now asks the control plane for a new SA.
  receive(pool, inside.rx, flow);
  dp->poll_workers_once();
  dp->housekeeping_once();
  auto acquire = dp->control().poll();
  REQUIRE(acquire.has_value());
  CHECK(acquire->type == ControlEventType::kAcquire);
  CHECK(acquire->spi == 0x1000);
  CHECK(sent(outside.tx).empty());
  // The index is free again.
  uint32_t again = 99;
  params.lifetime = {};
  REQUIRE(dp->sas().add_sa(params, &again).is_ok());
  CHECK(again == index);
  // The route's SA hint names that index, and the SA there (same peer, same SPI) is the route's again.
  // (Each poll below comes more than the worker's TX drain interval, 100 us, after the one before,
  // so what it sends leaves at once.)
  receive(pool, inside.rx, flow);
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  dp->poll_workers_once();
  const auto esp_again = sent(outside.tx);
  REQUIRE(esp_again.size() == 1);
  CHECK(esp_again[0][14 + 20 + 2] == 0x10);  // SPI 0x00001000
  // Another SA in that slot (same peer, SPI 0x2000) is not the route's: the stale hint must not send
  // the route's traffic under SPI 0x2000; the traffic asks for the SA the route names instead.
  REQUIRE(dp->sas().delete_sa(again).is_ok());
  dp->poll_workers_once();
  dp->sas().reclaim();
  REQUIRE(dp->sas().pending_deletes() == 0);
  params.spi = 0x2000;
  uint32_t other = 99;
  REQUIRE(dp->sas().add_sa(params, &other).is_ok());
  REQUIRE(other == index);
  auto new_flow = udp_frame(0x0a010005, 0x0a020009, 1235, 80, std::vector<uint8_t>(10, 1));
  new_flow[5] = 0x01;
  receive(pool, inside.rx, new_flow);  // a new flow: no encryption request yet, so an acquire
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  dp->poll_workers_once();
  dp->housekeeping_once();
  CHECK(sent(outside.tx).empty());
  auto stale_acquire = dp->control().poll();
  REQUIRE(stale_acquire.has_value());
  CHECK(stale_acquire->type == ControlEventType::kAcquire);
  CHECK(stale_acquire->spi == 0x1000);
}

TEST_CASE("traffic spread over many tunnels: SAs through the routes' hints, or looked up without one") {
  RingPort inside("sp_in"), outside("sp_out");
  RunningDataplane running(config_for("sp_in", "sp_out"), "sp");
  std::unique_ptr<Dataplane>& dp = running.dp;
  rte_mempool* pool = running.pool;
  know_peer_mac(*dp);
  // Clients 10.2.0.1..6, each its own outbound SA (SPI 0x3000 + c). The even ones' policies come
  // with the SA's index (a route hint), the odd ones' routes are written as a policy set before its
  // SA is (no hint: the worker looks the SA up). Client 7's route names an SPI with no SA.
  constexpr int kClients = 7;
  for (int c = 0; c < kClients; ++c) {
    const IpAddr client = IpAddr::v4(0x0a020001u + static_cast<uint32_t>(c));
    const auto spi = static_cast<uint32_t>(0x3000 + c);
    if (c == kClients - 1) {
      tables::VpnRoutingValue route{kPeer, 1, tables::kRouteEncrypt, 0x3999, tables::kNoSaIndex};
      REQUIRE(dp->tables().vpn_routing().add(tables::vpn_route_key(client, 32), route).is_ok());
      continue;
    }
    const SaParams params = outbound_sa_to_peer("c" + std::to_string(c), spi, static_cast<uint8_t>(c));
    uint32_t index = 0;
    REQUIRE(dp->sas().add_sa(params, &index).is_ok());
    if (c % 2 == 0) {
      REQUIRE(dp->sas().add_policy({client, 32}, PolicyAction::kProtect, static_cast<int32_t>(index), 1).is_ok());
    } else {
      tables::VpnRoutingValue route{kPeer, 1, tables::kRouteEncrypt, spi, tables::kNoSaIndex};
      REQUIRE(dp->tables().vpn_routing().add(tables::vpn_route_key(client, 32), route).is_ok());
    }
  }
  // Two bursts of two rounds over the clients: every packet changes tunnel, so the second burst is
  // spread (its SAs found after the loop, encrypt_deferred). Client 7's packets are new flows each
  // (their own source port): each raises an acquire.
  std::vector<int> esp_clients;  // the client of each ESP packet expected, in order
  for (int burst = 0; burst < 2; ++burst) {
    for (int round = 0; round < 2; ++round) {
      for (int c = 0; c < kClients; ++c) {
        const auto sport = static_cast<uint16_t>(1000 + burst * 100 + round * 10 + c);
        auto frame = udp_frame(0x0a010005, 0x0a020001u + static_cast<uint32_t>(c), sport, 80, std::vector<uint8_t>(10, 1));
        frame[5] = 0x01;  // to our inside MAC
        receive(pool, inside.rx, frame);
        if (c != kClients - 1) esp_clients.push_back(c);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // past the TX drain interval: all leaves
    CHECK(dp->poll_workers_once() == 2 * kClients);
  }
  const auto esp = sent(outside.tx);
  REQUIRE(esp.size() == esp_clients.size());
  std::vector<uint32_t> next_seq(kClients, 1);
  for (size_t i = 0; i < esp.size(); ++i) {
    INFO("ESP packet " << i << ", client " << esp_clients[i]);
    REQUIRE(esp[i].size() > 14 + 20 + 8);
    CHECK(esp[i][14 + 9] == 50);
    uint32_t spi = 0, seq = 0;
    for (int b = 0; b < 4; ++b) {
      spi = spi << 8 | esp[i][14 + 20 + b];
      seq = seq << 8 | esp[i][14 + 20 + 4 + b];
    }
    CHECK(spi == static_cast<uint32_t>(0x3000 + esp_clients[i]));
    CHECK(seq == next_seq[static_cast<size_t>(esp_clients[i])]++);
  }
  dp->housekeeping_once();
  int acquires = 0;
  while (auto ev = dp->control().poll()) {
    if (ev->type != ControlEventType::kAcquire) continue;
    CHECK(ev->spi == 0x3999);
    ++acquires;
  }
  CHECK(acquires == 4);
}

TEST_CASE("two workers, two RX queues: each polls its own queue and sends on its own TX queue") {
  // Ring ethdevs with two queues each; worker 0 polls queue 0 of both ports, worker 1 queue 1.
  rte_ring* rx[2][2];
  rte_ring* tx[2][2];
  const char* names[2] = {"mq_in", "mq_out"};
  for (int p = 0; p < 2; ++p) {
    for (int q = 0; q < 2; ++q) {
      const std::string base = std::string(names[p]) + std::to_string(q);
      rx[p][q] = rte_ring_create((base + "_rx").c_str(), 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      tx[p][q] = rte_ring_create((base + "_tx").c_str(), 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    }
    REQUIRE(rte_eth_from_rings(names[p], rx[p], 2, tx[p], 2, SOCKET_ID_ANY) >= 0);
  }
  std::string text = config_for("mq_in", "mq_out");
  text.replace(text.find("    - lcore: 1\n      rx: [inside:0, outside:0]"),
               std::string("    - lcore: 1\n      rx: [inside:0, outside:0]").size(),
               "    - lcore: 1\n      rx: [inside:0, outside:0]\n    - lcore: 2\n      rx: [inside:1, outside:1]");
  for (const char* port : {"    role: inside\n", "    role: outside\n"}) {
    text.insert(text.find(port) + std::strlen(port), "    rx_queues: 2\n");
  }
  RunningDataplane running(text, "mq");
  std::unique_ptr<Dataplane>& dp = running.dp;
  rte_mempool* pool = running.pool;
  // An ICMP echo to our outside address on each queue: each is answered on the same queue index.
  for (int q = 0; q < 2; ++q) {
    auto echo = udp_frame(0xc0000202, 0xc0000201, 0, 0, std::vector<uint8_t>(12, static_cast<uint8_t>(q)));
    echo[14 + 9] = 1;  // ICMP instead of UDP: type 8 code 0, a valid checksum over 20 bytes
    uint8_t* icmp = echo.data() + 14 + 20;
    icmp[0] = 8;
    icmp[1] = 0;
    icmp[2] = icmp[3] = 0;
    uint32_t sum = 0;
    for (size_t i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(icmp[i] << 8 | icmp[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    icmp[2] = static_cast<uint8_t>(~sum >> 8);
    icmp[3] = static_cast<uint8_t>(~sum);
    uint8_t* ip = echo.data() + 14;  // the protocol changed: redo the IPv4 header checksum
    ip[10] = ip[11] = 0;
    sum = 0;
    for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = static_cast<uint8_t>(~sum >> 8);
    ip[11] = static_cast<uint8_t>(~sum);
    receive(pool, rx[1][q], echo);
  }
  CHECK(dp->poll_workers_once() == 2);
  for (int q = 0; q < 2; ++q) {
    INFO("queue " << q);
    const auto replies = sent(tx[1][q]);
    REQUIRE(replies.size() == 1);
    CHECK(replies[0][14 + 20] == 0);  // echo reply
    CHECK(replies[0].back() == q);    // the payload of the request that came in on this queue
  }
  const std::string stats = dp->stats_json();
  CHECK(stats.find("{\"worker\": 0, \"lcore\": 1, \"rx\": 1, \"tx\": 1") != std::string::npos);
  CHECK(stats.find("{\"worker\": 1, \"lcore\": 2, \"rx\": 1, \"tx\": 1") != std::string::npos);
}

TEST_CASE("an unanswered next hop: ARP requests once a second, its held packets dropped after 3 s") {
  RingPort inside("nh_in"), outside("nh_out");
  RunningDataplane running(config_for("nh_in", "nh_out"), "nh");
  std::unique_ptr<Dataplane>& dp = running.dp;
  rte_mempool* pool = running.pool;
  // Clear traffic from the inside to 192.0.2.77, on the outside's subnet, which never answers ARP.
  receive(pool, inside.rx, udp_frame(0x0a010005, 0xc000024d, 1, 2, std::vector<uint8_t>(8, 0), 0x01));
  size_t arp_requests = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(4500)) {
    dp->poll_workers_once();
    dp->housekeeping_once();
    for (const auto& frame : sent(outside.tx)) {
      const bool arp_request = frame.size() >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 1;
      CHECK(arp_request);  // nothing else may leave: the packet waits, then goes
      const bool for_77 = frame.size() >= 42 && frame[38] == 192 && frame[41] == 77;
      CHECK(for_77);
      arp_requests += arp_request ? 1 : 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(arp_requests >= 3);
  CHECK(arp_requests <= 5);
  const std::string stats = dp->stats_json();
  CHECK(stats.find("\"held\": 1") != std::string::npos);
  CHECK(stats.find("\"hold_drops\": 1") != std::string::npos);
}

namespace {
// Ethernet (to our inside MAC 02:00:00:00:00:01) + IPv6 + UDP (checksum left 0: not checked when
// forwarding).
std::vector<uint8_t> udp6_frame(const IpAddr& src, const IpAddr& dst, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> f(14 + 40 + 8 + payload.size(), 0);
  const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0x01, 0x05, 0x86, 0xdd};
  std::memcpy(f.data(), eth, 14);
  uint8_t* ip = f.data() + 14;
  const auto udp_len = static_cast<uint16_t>(8 + payload.size());
  ip[0] = 0x60;
  ip[4] = static_cast<uint8_t>(udp_len >> 8);
  ip[5] = static_cast<uint8_t>(udp_len);
  ip[6] = 17;
  ip[7] = 64;
  std::memcpy(ip + 8, src.bytes.data(), 16);
  std::memcpy(ip + 24, dst.bytes.data(), 16);
  uint8_t* udp = ip + 40;
  udp[1] = 7;
  udp[3] = 9;
  udp[4] = static_cast<uint8_t>(udp_len >> 8);
  udp[5] = static_cast<uint8_t>(udp_len);
  std::memcpy(udp + 8, payload.data(), payload.size());
  return f;
}
}  // namespace

TEST_CASE("static neighbours: sent to the configured MAC at once, no ARP / ND, permanent, not relearned") {
  RingPort inside("sn_in"), outside("sn_out");
  const std::string text = R"(
dataplane:
  workers:
    - lcore: 1
      rx: [inside:0, outside:0]
  mbufs: 2047
ports:
  - name: inside
    device: net_ring_sn_in
    role: inside
    addresses: [10.1.0.1/24, "fd00:1::1/64"]
    mac: "02:00:00:00:00:01"
  - name: outside
    device: net_ring_sn_out
    role: outside
    addresses: [192.0.2.1/24, "2001:db8:1::1/64"]
    mac: "02:00:00:00:00:02"
routes:
  - prefix: 198.51.100.0/24
    via: 192.0.2.254
    port: outside
neighbors:
  - port: outside
    address: 192.0.2.7
    mac: "02:00:00:00:07:07"
  - port: outside
    address: 192.0.2.254
    mac: "02:00:00:00:fe:fe"
  - port: outside
    address: "2001:db8:1::7"
    mac: "02:00:00:00:76:76"
)";
  RunningDataplane running(text, "sn");
  std::unique_ptr<Dataplane>& dp = running.dp;
  rte_mempool* pool = running.pool;

  // The entries are in the neighbours table from the start: permanent, no expiry.
  auto& table = dp->tables().table(tables::TableId::neighbors);
  CHECK(table.count() == 3);
  const tables::NeighborKey key7{*IpAddr::parse("192.0.2.7"), dp->ports()[1].port_id, 0};
  const auto* entry = dp->tables().typed<tables::TableId::neighbors>().lookup(key7);
  REQUIRE(entry != nullptr);
  CHECK(entry->state == kNeighborPermanent);
  CHECK(table.meta_of(entry).expires_at == 0);

  const auto check_sent_to = [](const std::vector<uint8_t>& frame, const std::array<uint8_t, 6>& mac, bool v6) {
    REQUIRE(frame.size() >= 14);
    CHECK(std::vector<uint8_t>(frame.begin(), frame.begin() + 6) == std::vector<uint8_t>(mac.begin(), mac.end()));
    CHECK(std::vector<uint8_t>(frame.begin() + 6, frame.begin() + 12) == std::vector<uint8_t>{2, 0, 0, 0, 0, 2});
    CHECK(frame[12] == (v6 ? 0x86 : 0x08));
    CHECK(frame[13] == (v6 ? 0xdd : 0x00));
  };
  // Clear traffic from the inside: to the neighbour itself (connected), through the route's next
  // hop, and over IPv6. Each leaves on the first poll, nothing held, no ARP / ND.
  receive(pool, inside.rx, udp_frame(0x0a010005, 0xc0000207, 1, 2, std::vector<uint8_t>(8, 0), 0x01));
  receive(pool, inside.rx, udp_frame(0x0a010005, 0xc6336409, 1, 2, std::vector<uint8_t>(8, 0), 0x01));
  receive(pool, inside.rx, udp6_frame(*IpAddr::parse("fd00:1::5"), *IpAddr::parse("2001:db8:1::7"),
                                      std::vector<uint8_t>(8, 0)));
  CHECK(dp->poll_workers_once() == 3);
  auto out = sent(outside.tx);
  REQUIRE(out.size() == 3);
  check_sent_to(out[0], {2, 0, 0, 0, 7, 7}, false);
  CHECK(out[0][14 + 19] == 7);  // 192.0.2.7
  check_sent_to(out[1], {2, 0, 0, 0, 0xfe, 0xfe}, false);
  CHECK(out[1][14 + 19] == 9);  // 198.51.100.9, via 192.0.2.254
  check_sent_to(out[2], {2, 0, 0, 0, 0x76, 0x76}, true);
  CHECK(out[2][14 + 39] == 7);  // 2001:db8:1::7
  dp->housekeeping_once();
  dp->poll_workers_once();
  CHECK(sent(outside.tx).empty());  // no ARP or ND went out
  std::string stats = dp->stats_json();
  CHECK(stats.find("\"held\": 0") != std::string::npos);

  // A (gratuitous) ARP reply claiming 192.0.2.7 for another MAC changes nothing.
  receive(pool, outside.rx, garp(0xc0000207, 0x99));
  dp->poll_workers_once();
  dp->housekeeping_once();
  entry = dp->tables().typed<tables::TableId::neighbors>().lookup(key7);
  REQUIRE(entry != nullptr);
  CHECK(entry->state == kNeighborPermanent);
  CHECK(entry->mac == std::array<uint8_t, 6>{2, 0, 0, 0, 7, 7});
  stats = dp->stats_json();
  CHECK(stats.find("\"neighbors_learned\": 0") != std::string::npos);
  // Aging everything keeps them.
  table.age_all();
  CHECK(table.count() == 3);
  receive(pool, inside.rx, udp_frame(0x0a010005, 0xc0000207, 1, 2, std::vector<uint8_t>(8, 0), 0x01));
  dp->poll_workers_once();
  out = sent(outside.tx);
  REQUIRE(out.size() == 1);
  check_sent_to(out[0], {2, 0, 0, 0, 7, 7}, false);

  // A learned neighbour beside them is still learned as before.
  receive(pool, outside.rx, garp(0xc0000208, 0x08));
  dp->poll_workers_once();
  dp->housekeeping_once();
  const auto* learned = dp->tables().typed<tables::TableId::neighbors>().lookup(
      {*IpAddr::parse("192.0.2.8"), dp->ports()[1].port_id, 0});
  REQUIRE(learned != nullptr);
  CHECK(learned->state == tables::kNeighborReachable);
  CHECK(dp->stats_json().find("\"neighbors_learned\": 1") != std::string::npos);
}
