// Two IkeEngines talking to each other through an in-memory network: IKE_SA_INIT + IKE_AUTH with
// PSK, child SAs whose keys match crosswise, child and IKE rekeys, a simultaneous rekey, deletes
// from either side, DPD, INVALID_KE_PAYLOAD, cookies, retransmissions and NAT detection. The
// network can drop or rewrite datagrams, and time is whatever the test says.
#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>

#include "controld_config.hpp"
#include "ike/engine/ike_engine.hpp"
#include "ike/engine/wire_convert.hpp"
#include "ike/message/message.hpp"

using namespace dpvpn;
using namespace dpvpn::ike;

namespace {

const IpAddr kA = *IpAddr::parse("192.0.2.1");
const IpAddr kB = *IpAddr::parse("192.0.2.2");

struct Network;

struct FakeInstaller : SaInstaller {
  uint32_t next_spi;
  std::vector<ChildSaPair> installed, removed;
  explicit FakeInstaller(uint32_t first) : next_spi(first) {}
  Status allocate_spi(const IpAddr&, uint32_t* spi) override {
    *spi = next_spi++;
    return Status::ok();
  }
  Status install(const ChildSaPair& pair) override {
    installed.push_back(pair);
    return Status::ok();
  }
  Status remove(const ChildSaPair& pair) override {
    removed.push_back(pair);
    return Status::ok();
  }
  std::vector<IkeSaRecord> ike_sas;  // as reported, in order
  void ike_sa_changed(const IkeSaRecord& r) override { ike_sas.push_back(r); }
  std::vector<std::string> traps;  // "connection/child"
  Status install_trap(const std::string& connection, const std::string& child, const ChildSaHalf&) override {
    traps.push_back(connection + "/" + child);
    return Status::ok();
  }
  // The pairs installed and not removed, by inbound SPI.
  std::vector<ChildSaPair> live() const {
    std::vector<ChildSaPair> out;
    for (const ChildSaPair& p : installed) {
      const bool gone = std::any_of(removed.begin(), removed.end(), [&](const ChildSaPair& r) { return r.inbound.spi == p.inbound.spi; });
      if (!gone) out.push_back(p);
    }
    return out;
  }
};

struct Sender : PacketSender {
  Network* net;
  void send(const Datagram& d) override;
};

struct Network {
  std::deque<Datagram> in_flight;
  std::function<bool(Datagram&)> filter;  // false: drop; may rewrite
  std::map<IpAddr, IkeEngine*> hosts;
  uint64_t now = 1'000'000;
  size_t delivered = 0;

  void run() {
    for (int guard = 0; guard < 10000 && !in_flight.empty(); ++guard) {
      Datagram d = std::move(in_flight.front());
      in_flight.pop_front();
      if (filter && !filter(d)) continue;
      auto host = hosts.find(d.remote.address);
      if (host == hosts.end()) continue;
      // What the receiver sees: its own address is `local`.
      Datagram rx{d.remote, d.local, d.bytes};
      ++delivered;
      host->second->receive(rx, now);
    }
  }
  // Advances time in steps, ticking every engine and delivering what they send.
  void advance(uint64_t ms, uint64_t step = 100) {
    for (uint64_t t = 0; t < ms; t += step) {
      now += step;
      for (auto& [addr, engine] : hosts) engine->tick(now);
      run();
    }
  }
};

void Sender::send(const Datagram& d) { net->in_flight.push_back(d); }

controld::ConnectionConfig connection(const IpAddr& local, const IpAddr& remote, const char* local_net, const char* remote_net) {
  controld::ControldConfig cfg;
  const std::string text = "connections:\n  - name: gw\n    local: " + local.to_string() + "\n    remote: " + remote.to_string() +
                           "\n    auth: psk\n    psk: sixteen-byte-psk\n    proposals: [aes128gcm16-prfsha256-x25519]\n"
                           "    children:\n      - name: net\n        local_ts: [" + local_net + "]\n        remote_ts: [" +
                           remote_net + "]\n        esp_proposals: [aes128gcm16]\n";
  const Status s = controld::parse_controld_config(text, "t.yaml", {}, &cfg);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return cfg.connections.at(0);
}

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  // DPVPN_IKE_TEST_LOG=1 shows the engines' logs.
  if (std::getenv("DPVPN_IKE_TEST_LOG") != nullptr) {
    auto l = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_level(spdlog::level::debug);
    return l;
  }
  return std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::null_sink_mt>());
}

// Two gateways: A (192.0.2.1, 10.1.0.0/16) and B (192.0.2.2, 10.2.0.0/16).
struct Pair {
  Network net;
  Sender sender_a, sender_b;
  FakeInstaller inst_a{0xa0000001}, inst_b{0xb0000001};
  controld::ConnectionConfig conn_a = connection(kA, kB, "10.1.0.0/16", "10.2.0.0/16");
  controld::ConnectionConfig conn_b = connection(kB, kA, "10.2.0.0/16", "10.1.0.0/16");
  std::unique_ptr<IkeEngine> a, b;

  explicit Pair(std::function<void(Pair&)> tweak = {}) {
    if (tweak) tweak(*this);
    sender_a.net = sender_b.net = &net;
    a = std::make_unique<IkeEngine>(EngineOptions{0, 64, 4, 500}, std::vector{conn_a}, sender_a, inst_a, logger("A"));
    b = std::make_unique<IkeEngine>(EngineOptions{1, options_b_cookie_threshold, 4, 500}, std::vector{conn_b}, sender_b,
                                    inst_b, logger("B"));
    net.hosts[kA] = a.get();
    net.hosts[kB] = b.get();
  }
  uint32_t options_b_cookie_threshold = 64;

  void up() {
    REQUIRE(a->initiate("gw", "", net.now).is_ok());
    net.run();
  }
};

// Both sides see one established IKE SA with the same SPIs and one child whose halves mirror.
void check_tunnel(Pair& p, size_t key_size = 20) {
  const auto ta = p.a->tunnels(), tb = p.b->tunnels();
  REQUIRE(ta.size() == 1);
  REQUIRE(tb.size() == 1);
  CHECK(ta[0].state == "ESTABLISHED");
  CHECK(tb[0].state == "ESTABLISHED");
  CHECK(ta[0].spi_i == tb[0].spi_i);
  CHECK(ta[0].spi_r == tb[0].spi_r);
  const auto la = p.inst_a.live(), lb = p.inst_b.live();
  REQUIRE(la.size() == 1);
  REQUIRE(lb.size() == 1);
  CHECK(la[0].inbound.spi == lb[0].outbound.spi);
  CHECK(la[0].outbound.spi == lb[0].inbound.spi);
  CHECK(la[0].outbound.keys.encr_key == lb[0].inbound.keys.encr_key);
  CHECK(la[0].inbound.keys.encr_key == lb[0].outbound.keys.encr_key);
  CHECK(la[0].inbound.keys.encr_key != la[0].outbound.keys.encr_key);
  CHECK(la[0].inbound.keys.encr_key.size() == key_size);  // AES key + 4-byte salt
}

// Neither side has an IKE SA or an installed child SA left.
void check_no_tunnel(Pair& p) {
  CHECK(p.a->tunnels().empty());
  CHECK(p.b->tunnels().empty());
  CHECK(p.inst_a.live().empty());
  CHECK(p.inst_b.live().empty());
}

}  // namespace

TEST_CASE("IKE_SA_INIT + IKE_AUTH with a PSK bring up an IKE SA and a child SA whose keys mirror") {
  Pair p;
  p.up();
  check_tunnel(p);
  const auto la = p.inst_a.live();
  CHECK(la[0].inbound.local == kA);
  CHECK(la[0].outbound.remote == kB);
  CHECK_FALSE(la[0].outbound.natt);
  REQUIRE(la[0].outbound.local_ts.size() == 1);
  CHECK(to_string(la[0].outbound.local_ts[0]) == "10.1.0.0/16");
  CHECK(to_string(la[0].outbound.remote_ts[0]) == "10.2.0.0/16");
  CHECK(p.b->tunnels()[0].children.at(0).name == "net");
  CHECK(p.b->tunnels()[0].children.at(0).suite == "aes128gcm16");
  CHECK(p.a->tunnels()[0].suite == "aes128gcm16-prfsha256-x25519");
  CHECK(p.net.delivered == 4);  // two exchanges, nothing retransmitted
  // Both report the IKE SA for the IKE_SA_table, with the SPIs and the peer.
  REQUIRE(p.inst_a.ike_sas.size() == 1);
  REQUIRE(p.inst_b.ike_sas.size() == 1);
  CHECK(p.inst_a.ike_sas[0].spi_i == p.a->tunnels()[0].spi_i);
  CHECK(p.inst_b.ike_sas[0].spi_r == p.a->tunnels()[0].spi_r);
  CHECK(p.inst_b.ike_sas[0].remote == kA);
  CHECK_FALSE(p.inst_a.ike_sas[0].gone);
}

TEST_CASE("several child SAs per IKE SA: the first in IKE_AUTH, the next by CREATE_CHILD_SA") {
  const auto second_child = [](controld::ConnectionConfig& c, const char* local, const char* remote) {
    controld::ChildConfig web = c.children[0];
    web.name = "web";
    web.local_ts = {IpPrefix{*IpAddr::parse(local), 24}};
    web.remote_ts = {IpPrefix{*IpAddr::parse(remote), 24}};
    web.esp_proposals = {"aes256-sha256"};
    c.children.push_back(web);
  };
  Pair p([&](Pair& pr) {
    second_child(pr.conn_a, "10.11.0.0", "10.12.0.0");
    second_child(pr.conn_b, "10.12.0.0", "10.11.0.0");
  });
  p.up();
  const auto la = p.inst_a.live(), lb = p.inst_b.live();
  REQUIRE(la.size() == 2);
  REQUIRE(lb.size() == 2);
  REQUIRE(p.a->tunnels().size() == 1);
  const auto children = p.a->tunnels()[0].children;
  REQUIRE(children.size() == 2);
  CHECK(children[1].name == "web");
  CHECK(children[1].suite == "aes256-sha256");
  CHECK(to_string(children[1].remote_ts.at(0)) == "10.12.0.0/24");
  for (const ChildSaPair& a : la) {
    const auto b = std::find_if(lb.begin(), lb.end(), [&](const ChildSaPair& x) { return x.inbound.spi == a.outbound.spi; });
    REQUIRE(b != lb.end());
    CHECK(b->outbound.spi == a.inbound.spi);
    CHECK(b->inbound.keys.encr_key == a.outbound.keys.encr_key);
    CHECK(b->inbound.keys.integ_key == a.outbound.keys.integ_key);
  }
}

TEST_CASE("a wrong PSK fails authentication on both sides and installs nothing") {
  Pair p([](Pair& pr) { pr.conn_b.psk = std::vector<uint8_t>(16, 'x'); });
  p.up();
  p.net.advance(1000);
  CHECK(p.a->tunnels().empty());
  CHECK(p.b->tunnels().empty());
  CHECK(p.inst_a.installed.empty());
  CHECK(p.inst_b.installed.empty());
}

TEST_CASE("narrowing: the responder's smaller selectors win; disjoint ones give TS_UNACCEPTABLE") {
  Pair p([](Pair& pr) { pr.conn_b.children[0].remote_ts = {IpPrefix{*IpAddr::parse("10.1.5.0"), 24}}; });
  p.up();
  const auto la = p.inst_a.live();
  REQUIRE(la.size() == 1);
  CHECK(to_string(la[0].outbound.local_ts.at(0)) == "10.1.5.0/24");

  Pair q([](Pair& pr) { pr.conn_b.children[0].remote_ts = {IpPrefix{*IpAddr::parse("10.9.0.0"), 16}}; });
  q.up();
  CHECK(q.inst_a.installed.empty());
  REQUIRE(q.a->tunnels().size() == 1);  // the IKE SA stands without a child
  CHECK(q.a->tunnels()[0].state == "ESTABLISHED");
}

TEST_CASE("a lost IKE_AUTH request is retransmitted; a repeated request gets the cached response") {
  Pair p;
  int auth_requests = 0;
  p.net.filter = [&](Datagram& d) {
    const auto h = peek_header(d.bytes);
    if (h && h->exchange_type == ExchangeType::kIkeAuth && !h->response() && ++auth_requests == 1) return false;
    return true;
  };
  p.up();
  CHECK(p.a->tunnels()[0].state == "CONNECTING");
  p.net.advance(600);
  check_tunnel(p);
  CHECK(auth_requests == 2);
}

TEST_CASE("child SA rekey: a new pair on both sides, the old one removed on both") {
  Pair p([](Pair& pr) {
    pr.conn_a.children[0].rekey_time = 60;
    pr.conn_b.children[0].rekey_time = 3600;
  });
  p.up();
  const uint32_t first_in = p.inst_a.live().at(0).inbound.spi;
  p.net.advance(65'000, 500);
  check_tunnel(p);
  CHECK(p.inst_a.live()[0].inbound.spi != first_in);
  CHECK(p.inst_a.installed.size() == 2);
  CHECK(p.inst_b.installed.size() == 2);
  CHECK(p.inst_a.removed.size() == 1);
  CHECK(p.inst_b.removed.size() == 1);
}

TEST_CASE("child SA rekey with PFS (a DH group in the ESP proposal)") {
  Pair p([](Pair& pr) {
    pr.conn_a.children[0].esp_proposals = {"aes256gcm16-ecp256"};
    pr.conn_b.children[0].esp_proposals = {"aes256gcm16-ecp256"};
    pr.conn_a.children[0].rekey_time = 60;
  });
  p.up();
  check_tunnel(p, 36);
  const auto before = p.inst_a.live().at(0);
  p.net.advance(65'000, 500);
  check_tunnel(p, 36);
  const auto after = p.inst_a.live().at(0);
  CHECK(after.inbound.spi != before.inbound.spi);
  CHECK(after.inbound.keys.encr_key.size() == 36);
  CHECK(after.inbound.keys.encr_key != before.inbound.keys.encr_key);
}

TEST_CASE("IKE SA rekey: new SPIs, the child SA carries on") {
  Pair p([](Pair& pr) { pr.conn_a.rekey_time = 60; });
  p.up();
  const auto before = p.a->tunnels().at(0);
  const uint32_t child_in = p.inst_a.live().at(0).inbound.spi;
  p.net.advance(65'000, 500);
  check_tunnel(p);
  CHECK(p.a->tunnels()[0].spi_i != before.spi_i);
  CHECK(p.inst_a.live()[0].inbound.spi == child_in);
  // The table sees the new IKE SA and loses the old one.
  CHECK(std::any_of(p.inst_a.ike_sas.begin(), p.inst_a.ike_sas.end(),
                    [&](const IkeSaRecord& r) { return r.spi_i == p.a->tunnels()[0].spi_i && !r.gone; }));
  CHECK(std::any_of(p.inst_b.ike_sas.begin(), p.inst_b.ike_sas.end(),
                    [&](const IkeSaRecord& r) { return r.spi_i == before.spi_i && r.gone; }));
  CHECK(p.inst_a.removed.empty());
  // The new IKE SA works: a child rekey over it succeeds.
  p.a->child_expired(child_in, false, p.net.now);
  p.net.advance(3000);  // the replaced child decrypts for 2 s more
  check_tunnel(p);
  CHECK(p.inst_a.live()[0].inbound.spi != child_in);
}

TEST_CASE("simultaneous child rekeys: one survivor on each side, the redundant SA deleted by its creator") {
  Pair p;
  p.up();
  const uint32_t in_a = p.inst_a.live().at(0).inbound.spi, in_b = p.inst_b.live().at(0).inbound.spi;
  // Both soft-expire at once: each sends a rekey before seeing the other's.
  p.a->child_expired(in_a, false, p.net.now);
  p.b->child_expired(in_b, false, p.net.now);
  p.net.advance(10'000);
  check_tunnel(p);
  CHECK(p.inst_a.installed.size() == 3);  // the first, ours, theirs
  CHECK(p.inst_b.installed.size() == 3);
  CHECK(p.inst_a.removed.size() == 2);
  CHECK(p.inst_b.removed.size() == 2);
}

TEST_CASE("deleting from either side removes everything on both") {
  for (bool from_a : {true, false}) {
    Pair p;
    p.up();
    REQUIRE((from_a ? p.a : p.b)->delete_peer(from_a ? kB : kA, p.net.now).is_ok());
    p.net.advance(1000);
    check_no_tunnel(p);
    REQUIRE(p.inst_a.ike_sas.size() == 2);  // established, then gone
    CHECK(p.inst_a.ike_sas[1].gone);
    CHECK(p.inst_b.ike_sas.back().gone);
  }
}

TEST_CASE("a delete while our DPD is unanswered follows the answer: the peer is told, not left to find out") {
  Pair p([](Pair& pr) { pr.conn_a.dpd_delay = 10; });
  p.up();
  check_tunnel(p);
  p.net.filter = [](Datagram& d) { return d.remote.address != kA; };  // B's answers are lost for now
  p.net.advance(10'200);                                               // A's DPD is out, unanswered
  REQUIRE(p.a->delete_peer(kB, p.net.now).is_ok());
  CHECK(p.a->tunnels().size() == 1);  // still there: its window holds the DPD
  p.net.filter = {};
  p.net.advance(3000);  // A retransmits the DPD, gets the answer, then sends the delete
  check_no_tunnel(p);   // B (no DPD of its own) learnt it from A's delete
}

TEST_CASE("a delete while our IKE rekey is in flight takes the new IKE SA down too") {
  Pair p([](Pair& pr) { pr.conn_a.rekey_time = 60; });
  p.up();
  check_tunnel(p);
  p.net.filter = [](Datagram& d) { return d.remote.address != kA; };
  p.net.advance(60'200);  // A's CREATE_CHILD_SA for the IKE SA is out; B's answer lost
  REQUIRE(p.a->delete_peer(kB, p.net.now).is_ok());
  p.net.filter = {};
  p.net.advance(3000);
  check_no_tunnel(p);
}

TEST_CASE("DPD: a silent peer is declared dead after the retransmissions") {
  Pair p([](Pair& pr) { pr.conn_a.dpd_delay = 10; });
  p.up();
  check_tunnel(p);
  p.net.filter = [](Datagram& d) { return d.remote.address != kB; };  // B is gone
  p.net.advance(30'000, 250);
  CHECK(p.a->tunnels().empty());
  CHECK(p.inst_a.live().empty());
}

TEST_CASE("INVALID_KE_PAYLOAD: the initiator retries with the responder's group") {
  Pair p([](Pair& pr) {
    pr.conn_a.proposals = {"aes128gcm16-prfsha256-x25519-ecp256"};
    pr.conn_b.proposals = {"aes128gcm16-prfsha256-ecp256"};
  });
  p.up();
  check_tunnel(p);
  CHECK(p.net.delivered == 6);
}

TEST_CASE("cookies: above the half-open threshold the responder demands one, and the initiator returns it") {
  Pair p([](Pair& pr) { pr.options_b_cookie_threshold = 0; });
  p.up();
  check_tunnel(p);
  CHECK(p.net.delivered == 6);
}

TEST_CASE("malformed IKE_SA_INIT requests get the error unprotected; other garbage gets nothing") {
  Pair p;
  REQUIRE(p.a->initiate("gw", "", p.net.now).is_ok());
  REQUIRE(p.net.in_flight.size() == 1);
  const Datagram request = p.net.in_flight.front();
  p.net.in_flight.clear();
  const auto answer_to = [&](std::vector<uint8_t> bytes) -> std::optional<Message> {
    p.b->receive({{kB, 500}, {kA, 500}, std::move(bytes)}, p.net.now);
    if (p.net.in_flight.empty()) return std::nullopt;
    Message m;
    REQUIRE(parse_message(p.net.in_flight.back().bytes, &m).ok());
    p.net.in_flight.clear();
    return m;
  };
  // One byte short of what the header says.
  std::vector<uint8_t> short_one(request.bytes.begin(), request.bytes.end() - 1);
  auto reply = answer_to(short_one);
  REQUIRE(reply);
  CHECK(reply->header.response());
  REQUIRE(reply->payloads.size() == 1);
  CHECK(std::get<NotifyPayload>(reply->payloads[0]).type == NotifyType::kInvalidSyntax);
  // An unknown payload with the critical bit.
  Message m;
  REQUIRE(parse_message(request.bytes, &m).ok());
  m.payloads.insert(m.payloads.begin(), UnknownPayload{static_cast<PayloadType>(99), true, {1, 2, 3}});
  std::vector<uint8_t> critical;
  REQUIRE(encode_message(m, &critical).is_ok());
  reply = answer_to(critical);
  REQUIRE(reply);
  CHECK(std::get<NotifyPayload>(reply->payloads[0]).type == NotifyType::kUnsupportedCriticalPayload);
  CHECK(std::get<NotifyPayload>(reply->payloads[0]).data == std::vector<uint8_t>{99});
  // Not IKE at all, and a truncated header: silence.
  CHECK_FALSE(answer_to({0xde, 0xad, 0xbe, 0xef}));
  CHECK_FALSE(answer_to(std::vector<uint8_t>(request.bytes.begin(), request.bytes.begin() + 20)));
  CHECK(p.b->tunnels().empty());
}

TEST_CASE("on-demand: a trap until traffic asks for the child; the acquire brings it up; a delete traps again") {
  Pair p([](Pair& pr) { pr.conn_a.children[0].start_action = controld::StartAction::kOnDemand; });
  CHECK(p.inst_a.traps == std::vector<std::string>{"gw/net"});
  CHECK(p.inst_b.traps.empty());
  p.a->acquire(*IpAddr::parse("10.1.0.5"), *IpAddr::parse("10.9.0.9"), p.net.now);  // not the child's traffic
  p.net.run();
  CHECK(p.a->tunnels().empty());
  p.a->acquire(*IpAddr::parse("10.1.0.5"), *IpAddr::parse("10.2.0.9"), p.net.now);
  p.net.run();
  check_tunnel(p);
  REQUIRE(p.a->delete_peer(kB, p.net.now).is_ok());
  p.net.advance(1000);
  CHECK(p.inst_a.live().empty());
  CHECK(p.inst_a.traps.size() == 2);
}

TEST_CASE("NAT detection: a rewritten source port makes both sides float to 4500 and encapsulate ESP") {
  Pair p;
  // A NAT in front of A: A's port 500 appears as 40500 to B, 4500 as 44500.
  p.net.filter = [](Datagram& d) {
    if (d.local.address == kA) d.local.port = static_cast<uint16_t>(d.local.port + 40000);
    if (d.remote.address == kA) {
      if (d.remote.port < 40000) return false;
      d.remote.port = static_cast<uint16_t>(d.remote.port - 40000);
    }
    return true;
  };
  p.up();
  check_tunnel(p);
  const auto la = p.inst_a.live(), lb = p.inst_b.live();
  CHECK(la[0].outbound.natt);
  CHECK(lb[0].outbound.natt);
  CHECK(lb[0].outbound.remote_port == 44500);
  CHECK(p.b->tunnels()[0].remote.port == 44500);

  // A, behind the NAT, keeps its mapping alive: a keepalive to B's 4500 every 20 s; B sends none.
  int from_a = 0, from_b = 0;
  p.net.filter = [&](Datagram& d) {
    const bool keepalive = d.bytes == std::vector<uint8_t>{kNatKeepalive};
    if (keepalive && d.local.address == kA) {
      ++from_a;
      CHECK(d.local.port == 4500);
      CHECK(d.remote == Endpoint{kB, 4500});
    }
    if (keepalive && d.local.address == kB) ++from_b;
    return !keepalive;  // (a kernel transport drops them before the engine)
  };
  p.net.advance(45'000, 500);
  CHECK(from_a == 2);
  CHECK(from_b == 0);
  check_tunnel(p);
}
