// dpvpn-controld with a dataplane, end to end: a real in-process dataplane (ring ethdevs, its gRPC
// agent on a unix socket) is gateway A's; the real dpvpn-controld runs against it; the peer B is an
// ike::IkeEngine in this process, wired to A's outside port (frames A sends are B's datagrams, B's
// datagrams become frames A receives). A initiates: its IKE goes out through routed Injects, the
// peer's answers come back punted through the Events stream, and the child SA pair and its policy
// land in A's dataplane through the SaInstaller; `tu tlist` (Management API) shows the tunnel with
// the dataplane's counters, and ReadTable is forwarded to the dataplane.
#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <rte_mbuf.h>
#include <signal.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/agent_server.hpp"
#include "agent/dataplane_backend_impl.hpp"
#include "core/ike_udp.hpp"
#include "core/recording_sa_installer.hpp"
#include "dpvpn/v1/management.grpc.pb.h"
#include "engine/ike_engine.hpp"
#include "ring_dataplane_support.hpp"
#include "runtime/dataplane.hpp"

using namespace dpvpn;
using namespace dpvpn::dataplane;
using namespace dpvpn::test;

namespace {

constexpr const char* kPsk = "controld with a dataplane";

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

controld::ConnectionConfig peer_b_connection() {
  controld::ConnectionConfig c;
  c.name = "to-a";
  c.local = *IpAddr::parse("192.0.2.2");
  c.remote = *IpAddr::parse("192.0.2.1");
  REQUIRE(controld::parse_identity("192.0.2.2", &c.local_id).empty());
  REQUIRE(controld::parse_identity("192.0.2.1", &c.remote_id).empty());
  c.psk.assign(kPsk, kPsk + std::strlen(kPsk));
  c.proposals = {"aes128gcm16-prfsha256-x25519"};
  controld::ChildConfig child;
  child.name = "net";
  child.local_ts = {{*IpAddr::parse("10.2.0.0"), 16}};
  child.remote_ts = {{*IpAddr::parse("10.1.0.0"), 24}};
  child.esp_proposals = {"aes128gcm16"};
  c.children = {child};
  return c;
}

// B's datagrams become frames on A's outside port (from B's MAC 02:..:02:02 to A's).
struct WireToA final : ike::PacketSender {
  std::vector<std::vector<uint8_t>> frames;
  void send(const ike::Datagram& d) override {
    const std::vector<uint8_t> payload = controld::udp_for_ike(d.local.port, d.bytes);
    frames.push_back(udp_frame(d.local.address.v4_host_order(), d.remote.address.v4_host_order(), d.local.port,
                               d.remote.port, payload, 0x02));
  }
};

}  // namespace

TEST_CASE("dpvpn-controld over a dataplane brings a tunnel up with an in-process peer") {
  RingPort inside("cdp_in"), outside("cdp_out");
  DataplaneConfig cfg;
  REQUIRE(parse_dataplane_config(ring_dataplane_config("cdp_in", "cdp_out"), "cdp.yaml", &cfg).is_ok());
  std::unique_ptr<Dataplane> dp;
  REQUIRE(Dataplane::create(cfg, &dp).is_ok());
  DataplaneBackendImpl backend(*dp);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("dpvpn-cdp-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  AgentOptions agent_options;
  agent_options.unix_socket = (dir / "dataplane.sock").string();
  std::unique_ptr<AgentServer> agent;
  REQUIRE(AgentServer::start(agent_options, backend, &agent).is_ok());
  std::atomic<bool> stop{false};
  std::thread main_loop([&] { dp->run_main_loop({}, stop); });
  rte_mempool* pool = rte_pktmbuf_pool_create("cdp_pool", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  REQUIRE(pool != nullptr);
  // B's MAC is known at once (gratuitous ARP), so A's first IKE message leaves without waiting.
  receive(pool, outside.rx, garp(0xc0000202, 0x02));

  // Gateway A's controld, started before its connection initiates (the config says start).
  const std::string config = "controld:\n  ike_instances: 2\n  dataplane: " + agent_options.unix_socket +
                             "\n  management_socket: " + (dir / "controld.sock").string() + "\n  log_dir: " +
                             dir.string() + "\nconnections:\n  - name: to-b\n    local: 192.0.2.1\n"
                             "    remote: 192.0.2.2\n    auth: psk\n    psk: \"" + kPsk + "\"\n"
                             "    proposals: [aes128gcm16-prfsha256-x25519]\n    children:\n      - name: net\n"
                             "        local_ts: [10.1.0.0/24]\n        remote_ts: [10.2.0.0/16]\n"
                             "        esp_proposals: [aes128gcm16]\n        start_action: start\n";
  std::ofstream((dir / "controld.yaml").string()) << config;
  const std::string config_path = (dir / "controld.yaml").string();
  const pid_t controld = fork();
  REQUIRE(controld >= 0);
  if (controld == 0) {
    execl(DPVPN_CONTROLD, DPVPN_CONTROLD, "--config", config_path.c_str(), "--log-level", "debug", nullptr);
    _exit(127);
  }

  auto log = std::make_shared<spdlog::logger>("peer-b", std::make_shared<spdlog::sinks::null_sink_mt>());
  WireToA wire;
  controld::RecordingSaInstaller b_installer(log);
  ike::IkeEngine b({}, {peer_b_connection()}, wire, b_installer, log);
  auto management = v1::Management::NewStub(
      grpc::CreateChannel("unix:" + (dir / "controld.sock").string(), grpc::InsecureChannelCredentials()));

  v1::ListTunnelsReply tunnels;
  bool up = false;
  const uint64_t deadline = now_ms() + 30000;
  uint64_t next_ask = 0;
  while (!up && now_ms() < deadline) {
    dp->poll_workers_once();
    for (const std::vector<uint8_t>& f : sent(outside.tx)) {
      if (auto d = controld::datagram_from_frame(f)) b.receive(*d, now_ms());
    }
    b.tick(now_ms());
    for (const std::vector<uint8_t>& f : wire.frames) receive(pool, outside.rx, f);
    wire.frames.clear();
    if (now_ms() >= next_ask) {
      next_ask = now_ms() + 200;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      tunnels.Clear();
      if (management->ListTunnels(&context, v1::ListTunnelsRequest(), &tunnels).ok() && tunnels.tunnels_size() == 1 &&
          tunnels.tunnels(0).ike_state() == "ESTABLISHED" && tunnels.tunnels(0).children_size() == 1 &&
          tunnels.tunnels(0).children(0).counters()) {
        up = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  INFO(tunnels.DebugString());
  CHECK(up);
  if (up) {
    const v1::ChildTunnel& child = tunnels.tunnels(0).children(0);
    // B agrees on the SPIs.
    const std::vector<ike::TunnelStatus> b_tunnels = b.tunnels();
    REQUIRE(b_tunnels.size() == 1);
    REQUIRE(b_tunnels[0].children.size() == 1);
    CHECK(b_tunnels[0].children[0].spi_in == child.spi_out());
    CHECK(b_tunnels[0].children[0].spi_out == child.spi_in());
    // The pair is in A's dataplane, as the dataplane reports it.
    CHECK(tunnels.tunnels(0).child_sas_size() == 2);
    StatsSnapshot stats;
    REQUIRE(backend.stats(false, {child.spi_in(), child.spi_out()}, &stats).is_ok());
    CHECK(stats.sas.size() == 2);
    // ReadTable is forwarded: the policy points 10.2.0.0/16 at the outbound SA.
    grpc::ClientContext context;
    v1::TableReadRequest read;
    read.set_table("vpn_routing");
    read.set_resolve(true);
    v1::TableReadReply table;
    REQUIRE(management->ReadTable(&context, read, &table).ok());
    INFO(table.text());
    CHECK(table.text().find("10.2.0.0") != std::string::npos);
  }

  kill(controld, SIGTERM);
  int status = 0;
  waitpid(controld, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  agent->shutdown();
  stop = true;
  main_loop.join();
  dp.reset();
  rte_mempool_free(pool);
  std::filesystem::remove_all(dir);
}
