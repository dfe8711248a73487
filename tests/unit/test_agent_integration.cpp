// The gRPC agent against a real in-process dataplane (ring ethdevs, the worker polled by the test,
// the main loop on its own thread as the tables' writer): a pair of SAs and a policy pushed over
// gRPC carry traffic both ways, checked by an independent ESP peer (scapy, tests/unit/
// scapy_esp_peer.py); deleting them turns traffic into acquires; the Events stream sees the acquire
// and a punted IKE packet; Inject sends a frame out; UpdateSa changes a live SA's selectors and
// lifetime; batches are all-or-nothing; and over TCP, mutual TLS refuses a client without a
// certificate and one from another CA.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/agent_server.hpp"
#include "agent/dataplane_backend_impl.hpp"
#include "config/dataplane_config.hpp"
#include "dpvpn/v1/dataplane.grpc.pb.h"
#include "agent_rig.hpp"
#include "runtime/dataplane.hpp"

using namespace dpvpn;
using namespace dpvpn::dataplane;
using namespace dpvpn::test;

namespace {

std::string addr4(uint32_t a) {
  return std::string{static_cast<char>(a >> 24), static_cast<char>(a >> 16), static_cast<char>(a >> 8),
                     static_cast<char>(a)};
}

// The agent rig on the two-port ring config, with the neighbours the tests talk to.
struct Rig : AgentRig {
  Rig(const std::string& in, const std::string& out) : AgentRig(in, out, ring_dataplane_config(in, out)) {}
  std::vector<std::vector<uint8_t>> sent(rte_ring* tx) { return dpvpn::test::sent(tx); }
  // Gratuitous ARP from the peer gateway (192.0.2.2) and the inside host (10.1.0.5), so packets
  // leave at once instead of waiting for address resolution.
  void learn_neighbours() {
    receive(outside.rx, garp(0xc0000202, 0x02));
    receive(inside.rx, garp(0x0a010005, 0x05));
    settle();
  }
};

dpvpn::v1::Sa outbound_sa(uint32_t spi) {
  dpvpn::v1::Sa sa;
  sa.set_name("to-b");
  sa.set_spi(spi);
  sa.set_direction(dpvpn::v1::OUTBOUND);
  sa.set_algorithm(dpvpn::v1::AES128_GCM);
  sa.set_key(std::string(20, '\x42'));
  sa.mutable_local()->set_addr(addr4(0xc0000201));
  sa.mutable_remote()->set_addr(addr4(0xc0000202));
  return sa;
}

// From the peer 192.0.2.2: its 10.2.0.0/16 to our 10.1.0.0/24.
dpvpn::v1::Sa inbound_sa(uint32_t spi) {
  dpvpn::v1::Sa sa = outbound_sa(spi);
  sa.set_name("from-b");
  sa.set_direction(dpvpn::v1::INBOUND);
  sa.set_key(std::string(20, '\x24'));
  dpvpn::v1::TrafficSelector& local = *sa.add_local_ts();
  local.mutable_start()->set_addr(addr4(0x0a010000));
  local.mutable_end()->set_addr(addr4(0x0a0100ff));
  dpvpn::v1::TrafficSelector& remote = *sa.add_remote_ts();
  remote.mutable_start()->set_addr(addr4(0x0a020000));
  remote.mutable_end()->set_addr(addr4(0x0a02ffff));
  return sa;
}

// AddSa over `stub`; the call's status.
grpc::Status add_sa(dpvpn::v1::Dataplane::Stub& stub, const dpvpn::v1::Sa& sa) {
  grpc::ClientContext ctx;
  dpvpn::v1::AddSaRequest req;
  *req.mutable_sa() = sa;
  dpvpn::v1::SaReply reply;
  return stub.AddSa(&ctx, req, &reply);
}

dpvpn::v1::SaId sa_id(dpvpn::v1::SaDirection direction, uint32_t spi, uint32_t address) {
  dpvpn::v1::SaId id;
  id.set_direction(direction);
  id.set_spi(spi);
  id.mutable_address()->set_addr(addr4(address));
  return id;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += fmt::format("{:02x}", p[i]);
  return out;
}
std::string hex(const std::string& s) { return hex(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

std::vector<uint8_t> unhex(const std::string& h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

// Runs the scapy ESP peer; its stdout without the trailing newline ("" if it failed).
std::string scapy_peer(const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " DPVPN_SCAPY_PEER " " + args;
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  if (pclose(pipe) != 0) return "";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Ethernet from the peer's MAC to our outside port around an IP packet.
std::vector<uint8_t> from_peer(const std::vector<uint8_t>& ip) {
  static constexpr uint8_t kEthernet[14] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0x02, 0x02, 0x08, 0x00};
  std::vector<uint8_t> f(sizeof kEthernet + ip.size());
  std::memcpy(f.data(), kEthernet, sizeof kEthernet);
  std::memcpy(f.data() + sizeof kEthernet, ip.data(), ip.size());
  return f;
}

// The peer's ESP packet (sequence number seq) carrying UDP 10.2.0.<host>:80 -> 10.1.0.5:1234.
std::vector<uint8_t> peer_esp(uint32_t spi, uint32_t seq, uint8_t host) {
  const auto inner = udp_frame(0x0a020000u | host, 0x0a010005, 80, 1234, std::vector<uint8_t>(24, 0x6b), 0x01);
  const std::string esp = scapy_peer(fmt::format("encrypt {} {} {} 192.0.2.2 192.0.2.1 {}", spi, hex(std::string(20, '\x24')),
                                                 seq, hex(inner.data() + 14, inner.size() - 14)));
  REQUIRE(!esp.empty());
  return from_peer(unhex(esp));
}

dpvpn::v1::Policy protect_policy(uint32_t spi) {
  dpvpn::v1::Policy p;
  p.mutable_local()->mutable_addr()->set_addr(addr4(0x0a010000));
  p.mutable_local()->set_length(24);
  p.mutable_remote()->mutable_addr()->set_addr(addr4(0x0a020000));
  p.mutable_remote()->set_length(16);
  p.set_action(dpvpn::v1::Policy::PROTECT);
  p.mutable_gateway()->set_addr(addr4(0xc0000202));
  p.set_spi(spi);
  return p;
}

std::string run(const char* cmd) {
  const int rc = std::system(cmd);
  return rc == 0 ? "" : std::string("command failed: ") + cmd;
}

}  // namespace

TEST_CASE("SAs and policies pushed over gRPC carry traffic; deleting them raises acquires") {
  Rig rig("ag_in", "ag_out");
  auto stub = dpvpn::v1::Dataplane::NewStub(grpc::CreateChannel("unix:" + rig.socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext events_ctx;
  auto events = stub->Events(&events_ctx, dpvpn::v1::EventsRequest{});

  {
    const grpc::Status s = add_sa(*stub, outbound_sa(0x1001));
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  {
    grpc::ClientContext ctx;
    dpvpn::v1::PolicyReply reply;
    REQUIRE(stub->AddPolicy(&ctx, protect_policy(0x1001), &reply).ok());
  }
  CHECK(add_sa(*stub, outbound_sa(0x1001)).error_code() == grpc::StatusCode::ALREADY_EXISTS);  // the same SPI again
  rig.learn_neighbours();

  const auto flow = udp_frame(0x0a010005, 0x0a020009, 1234, 80, std::vector<uint8_t>(32, 0x5a), 0x01);
  rig.receive(rig.inside.rx, flow);
  rig.settle();
  const auto esp = rig.sent(rig.outside.tx);
  REQUIRE(esp.size() == 1);
  // The peer decrypts it: the inner packet as sent, TTL one less (we routed it).
  CHECK(scapy_peer(fmt::format("decrypt 0x1001 {} {}", hex(std::string(20, '\x42')), hex(esp[0].data(), esp[0].size()))) ==
        "10.1.0.5 10.2.0.9 17 1234 80 63 " + hex(std::string(32, '\x5a')));

  // The inbound half of the pair: the peer's ESP comes out clear on the inside.
  {
    const grpc::Status s = add_sa(*stub, inbound_sa(0x2001));
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  rig.receive(rig.outside.rx, peer_esp(0x2001, 1, 9));
  rig.settle();
  const auto clear = rig.sent(rig.inside.tx);
  REQUIRE(clear.size() == 1);
  REQUIRE(clear[0].size() == 14 + 20 + 8 + 24);
  CHECK(clear[0][14 + 8] == 63);  // TTL
  CHECK(hex(clear[0].data() + 14 + 12, 8) == "0a0200090a010005");
  CHECK(hex(clear[0].data() + 14 + 28, 24) == hex(std::string(24, '\x6b')));

  {
    grpc::ClientContext ctx;
    dpvpn::v1::SaId id;
    id.set_direction(dpvpn::v1::OUTBOUND);
    id.set_spi(0x1001);
    id.mutable_address()->set_addr(addr4(0xc0000202));
    dpvpn::v1::SaState state;
    REQUIRE(stub->QuerySa(&ctx, id, &state).ok());
    CHECK(state.packets() == 1);
    CHECK(state.next_seq() == 2);
    CHECK(state.sa().key().empty());  // never travels back
    grpc::ClientContext del_ctx;
    dpvpn::v1::SaReply del_reply;
    REQUIRE(stub->DeleteSa(&del_ctx, id, &del_reply).ok());
    grpc::ClientContext again_ctx;
    CHECK(stub->DeleteSa(&again_ctx, id, &del_reply).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  rig.receive(rig.inside.rx, flow);
  rig.settle();
  CHECK(rig.sent(rig.outside.tx).empty());
  {
    grpc::ClientContext ctx;
    dpvpn::v1::TableReadRequest req;
    req.set_table("encryption_requests");
    req.set_summary(true);
    dpvpn::v1::TableReadReply reply;
    REQUIRE(stub->ReadTable(&ctx, req, &reply).ok());
    CHECK(reply.text().find("encryption_requests") != std::string::npos);
    CHECK(reply.text().find("        1        1") != std::string::npos);  // #VALS 1, #PEAK 1
  }
  // IKE to us: punted; the Events stream sees it after the acquire.
  rig.receive(rig.outside.rx, udp_frame(0xc0000202, 0xc0000201, 500, 500, std::vector<uint8_t>(28, 0x5a), 0x02));
  rig.settle();
  dpvpn::v1::Event event;
  REQUIRE(events->Read(&event));
  CHECK(event.type() == dpvpn::v1::Event::ACQUIRE);
  CHECK(event.spi() == 0x1001);
  REQUIRE(events->Read(&event));
  CHECK(event.type() == dpvpn::v1::Event::IKE_PACKET);
  CHECK(event.port() == "outside");
  CHECK(event.sport() == 500);
  events_ctx.TryCancel();

  // Inject: the frame leaves the named port.
  {
    grpc::ClientContext ctx;
    dpvpn::v1::InjectRequest req;
    req.set_port("outside");
    const auto frame = udp_frame(0xc0000201, 0xc0000202, 500, 500, std::vector<uint8_t>(40, 0x5a), 0x09);
    req.set_frame(std::string(frame.begin(), frame.end()));
    dpvpn::v1::InjectReply reply;
    REQUIRE(stub->Inject(&ctx, req, &reply).ok());
    rig.settle();
    const auto out = rig.sent(rig.outside.tx);
    REQUIRE(out.size() == 1);
    CHECK(out[0] == frame);
  }
}

TEST_CASE("UpdateSa changes a live SA's selectors and lifetime") {
  Rig rig("up_in", "up_out");
  auto stub = dpvpn::v1::Dataplane::NewStub(grpc::CreateChannel("unix:" + rig.socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext events_ctx;
  events_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto events = stub->Events(&events_ctx, dpvpn::v1::EventsRequest{});
  REQUIRE(add_sa(*stub, inbound_sa(0x3001)).ok());
  rig.learn_neighbours();
  rig.receive(rig.outside.rx, peer_esp(0x3001, 1, 9));
  rig.settle();
  CHECK(rig.sent(rig.inside.tx).size() == 1);

  // Narrow the peer's side to 10.2.0.100 and give the SA a soft limit of 2 packets.
  const dpvpn::v1::SaId id = sa_id(dpvpn::v1::INBOUND, 0x3001, 0xc0000201);
  dpvpn::v1::UpdateSaRequest update;
  *update.mutable_id() = id;
  *update.mutable_local_ts() = inbound_sa(0x3001).local_ts();
  dpvpn::v1::TrafficSelector& only = *update.add_remote_ts();
  only.mutable_start()->set_addr(addr4(0x0a020064));
  only.mutable_end()->set_addr(addr4(0x0a020064));
  update.mutable_lifetime()->set_soft_packets(2);
  update.mutable_lifetime()->set_hard_packets(10);
  {
    grpc::ClientContext ctx;
    dpvpn::v1::SaReply reply;
    const grpc::Status s = stub->UpdateSa(&ctx, update, &reply);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  rig.receive(rig.outside.rx, peer_esp(0x3001, 2, 9));  // now outside the selectors
  rig.settle();
  CHECK(rig.sent(rig.inside.tx).empty());
  rig.receive(rig.outside.rx, peer_esp(0x3001, 3, 100));
  rig.settle();
  CHECK(rig.sent(rig.inside.tx).size() == 1);
  {
    grpc::ClientContext ctx;
    dpvpn::v1::SaState state;
    REQUIRE(stub->QuerySa(&ctx, id, &state).ok());
    CHECK(state.ts_drops() == 1);
    CHECK(state.packets() == 2);
    CHECK(state.soft_expired());
    CHECK_FALSE(state.hard_expired());
    CHECK(state.sa().lifetime().hard_packets() == 10);
    REQUIRE(state.sa().remote_ts_size() == 1);
    CHECK(state.sa().remote_ts(0).start().addr() == addr4(0x0a020064));
  }
  dpvpn::v1::Event event;  // the second packet reached the new soft limit
  REQUIRE(events->Read(&event));
  CHECK(event.type() == dpvpn::v1::Event::SA_SOFT_EXPIRE);
  CHECK(event.spi() == 0x3001);
  events_ctx.TryCancel();

  // Rejected updates name the field and change nothing.
  {
    dpvpn::v1::UpdateSaRequest bad = update;
    bad.mutable_lifetime()->set_soft_packets(20);
    grpc::ClientContext ctx;
    dpvpn::v1::SaReply reply;
    const grpc::Status s = stub->UpdateSa(&ctx, bad, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message().find("lifetime.soft_packets") != std::string::npos);
    bad = update;
    bad.mutable_id()->set_spi(0x3002);
    grpc::ClientContext ctx2;
    CHECK(stub->UpdateSa(&ctx2, bad, &reply).error_code() == grpc::StatusCode::NOT_FOUND);
    grpc::ClientContext ctx3;
    dpvpn::v1::SaState state;
    REQUIRE(stub->QuerySa(&ctx3, id, &state).ok());
    CHECK(state.sa().lifetime().soft_packets() == 2);
  }
}

TEST_CASE("SyncIkeSa writes and removes IKE_SA_table entries; bad SPIs are refused") {
  Rig rig("ik_in", "ik_out");
  auto stub = dpvpn::v1::Dataplane::NewStub(grpc::CreateChannel("unix:" + rig.socket, grpc::InsecureChannelCredentials()));
  dpvpn::v1::IkeSaEntry entry;
  entry.set_initiator_spi(std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  entry.set_responder_spi(std::string("\x11\x12\x13\x14\x15\x16\x17\x18", 8));
  entry.mutable_peer()->set_addr(addr4(0xc0000202));
  entry.mutable_local()->set_addr(addr4(0xc0000201));
  entry.set_instance(1);
  entry.set_state(1);
  entry.set_lifetime_seconds(600);
  const auto dump = [&] {
    grpc::ClientContext ctx;
    dpvpn::v1::TableReadRequest req;
    req.set_table("IKE_SA_table");
    req.set_resolve(true);
    dpvpn::v1::TableReadReply reply;
    REQUIRE(stub->ReadTable(&ctx, req, &reply).ok());
    return reply.text();
  };
  {
    grpc::ClientContext ctx;
    dpvpn::v1::IkeSaReply reply;
    const grpc::Status s = stub->SyncIkeSa(&ctx, entry, &reply);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  CHECK(dump().find("0102030405060708, 1112131415161718; 192.0.2.2, 192.0.2.1") != std::string::npos);
  {
    dpvpn::v1::IkeSaEntry bad = entry;
    bad.set_responder_spi("short");
    grpc::ClientContext ctx;
    dpvpn::v1::IkeSaReply reply;
    const grpc::Status s = stub->SyncIkeSa(&ctx, bad, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message().find("responder_spi") != std::string::npos);
  }
  entry.set_remove(true);
  {
    grpc::ClientContext ctx;
    dpvpn::v1::IkeSaReply reply;
    REQUIRE(stub->SyncIkeSa(&ctx, entry, &reply).ok());
  }
  CHECK(dump().find("0102030405060708") == std::string::npos);
}

TEST_CASE("a batch is all-or-nothing") {
  Rig rig("bt_in", "bt_out");
  auto stub = dpvpn::v1::Dataplane::NewStub(grpc::CreateChannel("unix:" + rig.socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  auto stream = stub->SaBatches(&ctx);
  dpvpn::v1::SaBatch good;
  *good.add_add()->mutable_sa() = outbound_sa(0x2001);
  *good.add_add()->mutable_sa() = outbound_sa(0x2002);
  dpvpn::v1::SaBatch bad;  // the second SA has a short key: nothing of this batch may land
  *bad.add_add()->mutable_sa() = outbound_sa(0x2003);
  auto* short_key = bad.add_add()->mutable_sa();
  *short_key = outbound_sa(0x2004);
  short_key->set_key(std::string(16, '\x42'));
  REQUIRE(stream->Write(good));
  REQUIRE(stream->Write(bad));
  stream->WritesDone();
  dpvpn::v1::BatchReply reply;
  REQUIRE(stream->Read(&reply));
  CHECK(reply.code() == 0);
  CHECK(reply.sa_index_size() == 2);
  REQUIRE(stream->Read(&reply));
  CHECK(reply.code() == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  CHECK(reply.message().find("key") != std::string::npos);
  CHECK(reply.message().find("4242") == std::string::npos);
  CHECK(stream->Finish().ok());
  CHECK(rig.dp->tables().table(tables::TableId::outbound_SPI).count() == 2);  // 0x2003 did not land
}

TEST_CASE("over TCP, mutual TLS refuses clients without a certificate or from another CA") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("dpvpn-mtls-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string d = dir.string();
  // Two CAs; a server cert and a client cert from CA 1, a client cert from CA 2.
  const std::string make =
      "cd " + d + " && "
      "for ca in ca1 ca2; do openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.pem -days 2 "
      "-subj /CN=$ca >/dev/null 2>&1 || exit 1; done && "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
      "for c in server:ca1 client:ca1 rogue:ca2; do n=${c%%:*}; ca=${c##*:}; "
      "openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj /CN=localhost >/dev/null 2>&1 && "
      "openssl x509 -req -in $n.csr -CA $ca.pem -CAkey $ca.key -CAcreateserial -out $n.pem -days 2 "
      "-extfile san.ext >/dev/null 2>&1 || exit 1; done";
  REQUIRE(run(make.c_str()).empty());
  const auto slurp = [&](const std::string& name) {
    std::ifstream in(d + "/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };

  // The agent's endpoint and TLS files come from the config file (paths relative to it).
  RingPort inside("tl_in"), outside("tl_out");
  std::ofstream(d + "/dp.yaml") << ring_dataplane_config("tl_in", "tl_out")
                                << "agent:\n  socket:\n  tcp: 127.0.0.1:50931\n"
                                   "  tls: {cert: server.pem, key: server.key, ca: ca1.pem}\n";
  DataplaneConfig config;
  const Status loaded = load_dataplane_config(d + "/dp.yaml", &config);
  INFO(loaded.to_string());
  REQUIRE(loaded.is_ok());
  std::unique_ptr<Dataplane> dp;
  REQUIRE(Dataplane::create(config, &dp).is_ok());
  DataplaneBackendImpl backend(*dp);
  const AgentOptions options = agent_options_from(config.agent);
  CHECK(options.unix_socket.empty());
  CHECK(options.tls_ca == d + "/ca1.pem");
  std::unique_ptr<AgentServer> agent;
  const Status started = AgentServer::start(options, backend, &agent);
  INFO(started.to_string());
  REQUIRE(started.is_ok());

  const auto call = [&](const std::string& client) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = slurp("ca1.pem");
    if (!client.empty()) {
      tls.pem_cert_chain = slurp(client + ".pem");
      tls.pem_private_key = slurp(client + ".key");
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto stub = dpvpn::v1::Dataplane::NewStub(
        grpc::CreateCustomChannel(options.tcp_address, grpc::SslCredentials(tls), args));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    dpvpn::v1::TableReadRequest req;
    req.set_summary(true);
    dpvpn::v1::TableReadReply reply;
    return stub->ReadTable(&ctx, req, &reply);
  };
  CHECK(call("client").ok());
  CHECK_FALSE(call("").ok());       // no client certificate
  CHECK_FALSE(call("rogue").ok());  // a certificate from another CA
  agent->shutdown();
  dp.reset();
  std::filesystem::remove_all(dir);
}
