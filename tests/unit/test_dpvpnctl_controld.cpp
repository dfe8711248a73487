// dpvpnctl's controld commands (tu, ike, config) against a fake Management service in-process:
// golden outputs of `tu tlist` and `ike instances`, the requests each command sends, --json parsed
// back, errors as one line with exit 1.
#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "dpvpn/v1/management.grpc.pb.h"
#include "dpvpnctl.hpp"
#include "text.hpp"

namespace v1 = dpvpn::v1;
using dpvpn::ctl::parse_address;

namespace {

// tests/golden/controld.txt: sections "== ARGS" followed by the exact output.
std::map<std::string, std::string> golden() {
  std::ifstream in(std::string(DPVPN_GOLDEN_DIR) + "/controld.txt");
  std::map<std::string, std::string> sections;
  std::string line, current;
  while (std::getline(in, line)) {
    if (line.rfind("== ", 0) == 0) {
      current = line.substr(3);
      sections[current];
    } else if (!current.empty()) {
      sections[current] += line + "\n";
    }
  }
  return sections;
}

v1::TrafficSelector range(const char* start, const char* end) {
  v1::TrafficSelector ts;
  *ts.mutable_start() = *parse_address(start);
  *ts.mutable_end() = *parse_address(end);
  ts.set_port_hi(65535);
  return ts;
}

std::string spi8(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

std::vector<v1::Tunnel> canned_tunnels() {
  std::vector<v1::Tunnel> out(2);
  {
    v1::Tunnel& t = out[0];
    *t.mutable_peer() = *parse_address("192.0.2.2");
    *t.mutable_local() = *parse_address("192.0.2.1");
    t.set_local_port(500);
    t.set_remote_port(500);
    t.set_ike_instance(1);
    t.set_connection("site-b");
    t.set_ike_initiator_spi(spi8(0x0123456789abcdefULL));
    t.set_ike_responder_spi(spi8(0xfedcba9876543210ULL));
    t.set_ike_state("ESTABLISHED");
    t.set_initiator(true);
    t.set_ike_suite("aes128gcm16-prfsha256-x25519");
    t.set_established_seconds(3723);
    v1::ChildTunnel& net = *t.add_children();
    net.set_name("net");
    net.set_spi_in(0xc1000001);
    net.set_spi_out(0x0000b001);
    net.set_suite("aes128gcm16");
    *net.add_local_ts() = range("10.1.0.0", "10.1.255.255");
    *net.add_remote_ts() = range("10.2.0.0", "10.2.255.255");
    net.set_established_seconds(302);
    net.set_counters(true);
    net.set_packets_in(631);
    net.set_bytes_in(33892);
    net.set_packets_out(1585);
    net.set_bytes_out(2180588);
    v1::ChildTunnel& web = *t.add_children();
    web.set_name("web");
    web.set_spi_in(0xc1000002);
    web.set_spi_out(0x0000b002);
    web.set_suite("aes256-sha256");
    *web.add_local_ts() = range("10.1.0.10", "10.1.0.10");
    *web.add_local_ts() = range("10.1.0.20", "10.1.0.29");
    v1::TrafficSelector https = range("10.3.0.0", "10.3.0.255");
    https.set_protocol(6);
    https.set_port_lo(443);
    https.set_port_hi(443);
    *web.add_remote_ts() = https;
    web.set_established_seconds(42);
  }
  {
    v1::Tunnel& t = out[1];
    *t.mutable_peer() = *parse_address("2001:db8:ffff::7");
    *t.mutable_local() = *parse_address("2001:db8:ffff::1");
    t.set_local_port(4500);
    t.set_remote_port(31000);
    t.set_ike_instance(0);
    t.set_connection("branch-7");
    t.set_ike_initiator_spi(spi8(0x1111222233334444ULL));
    t.set_ike_state("CONNECTING");
  }
  return out;
}

class FakeManagement final : public v1::Management::Service {
 public:
  grpc::Status ListTunnels(grpc::ServerContext*, const v1::ListTunnelsRequest* request,
                           v1::ListTunnelsReply* reply) override {
    std::lock_guard lock(mu);
    last_tlist = *request;
    if (empty) return grpc::Status::OK;
    for (const v1::Tunnel& t : canned_tunnels()) {
      if (!request->has_peer() || request->peer().addr() == t.peer().addr()) *reply->add_tunnels() = t;
    }
    return grpc::Status::OK;
  }
  grpc::Status ListIkeInstances(grpc::ServerContext*, const v1::ListIkeInstancesRequest*,
                                v1::ListIkeInstancesReply* reply) override {
    for (uint32_t i = 0; i < 3; ++i) {
      v1::IkeInstance& in = *reply->add_instances();
      in.set_index(i);
      in.set_pid(4100 + i);
      in.set_up(i != 2);
      if (i == 2) {
        in.set_pid(0);
        in.set_restarts(3);
        continue;
      }
      in.set_restarts(i);
      in.set_connections(2 + i);
      in.set_peers(1);
      in.set_ike_sas(1 + i);
      in.set_half_open(i);
      in.set_log_level(i == 1 ? "debug" : "info");
      in.set_log_file("/var/log/dpvpn/iked" + std::to_string(i) + ".log");
    }
    return grpc::Status::OK;
  }
  grpc::Status SetIkeDebug(grpc::ServerContext*, const v1::SetIkeDebugRequest* request,
                           v1::SetIkeDebugReply* reply) override {
    std::lock_guard lock(mu);
    last_debug = *request;
    if (request->instance() > 2) return {grpc::StatusCode::NOT_FOUND, "instance: no iked 7 (there are 3)"};
    reply->set_previous_level("info");
    reply->set_debug_file("/var/log/dpvpn/iked" + std::to_string(request->instance()) + ".log");
    return grpc::Status::OK;
  }
  grpc::Status ReloadConfig(grpc::ServerContext*, const v1::ReloadConfigRequest*, v1::ReloadConfigReply* reply) override {
    reply->set_summary("3 connections (1 added, 1 changed, 0 removed) on 3 instances");
    return grpc::Status::OK;
  }
  grpc::Status DeleteTunnel(grpc::ServerContext*, const v1::DeleteTunnelRequest* request,
                            v1::DeleteTunnelReply* reply) override {
    std::lock_guard lock(mu);
    last_delete = *request;
    reply->set_ike_instance(1);
    return grpc::Status::OK;
  }
  grpc::Status InitiateTunnel(grpc::ServerContext*, const v1::InitiateTunnelRequest* request,
                              v1::InitiateTunnelReply* reply) override {
    std::lock_guard lock(mu);
    last_up = *request;
    if (request->connection() != "site-b") return {grpc::StatusCode::NOT_FOUND, "connection: no connection named 'x'"};
    reply->set_ike_instance(1);
    return grpc::Status::OK;
  }

  std::mutex mu;
  bool empty = false;
  v1::ListTunnelsRequest last_tlist;
  v1::SetIkeDebugRequest last_debug;
  v1::DeleteTunnelRequest last_delete;
  v1::InitiateTunnelRequest last_up;
};

struct Server {
  Server() {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~Server() { server->Shutdown(); }
  FakeManagement service;
  std::unique_ptr<grpc::Server> server;
};

Server& fake() {
  static Server* server = new Server();  // never destroyed: outlives gRPC's statics
  return *server;
}

struct Result {
  int code = -1;
  std::string out, err;
  dpvpn::ctl::Connection connection;
};

Result ctl(std::vector<std::string> args) {
  args.insert(args.begin(), "dpvpnctl");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  Result r;
  r.code = dpvpn::ctl::run(static_cast<int>(argv.size()), argv.data(), out, err,
                           [&r](const dpvpn::ctl::Connection& c, std::string*) {
                             r.connection = c;
                             return fake().server->InProcessChannel(grpc::ChannelArguments());
                           });
  r.out = out.str();
  r.err = err.str();
  return r;
}

template <typename M>
M parse_json(const std::string& json) {
  M message;
  INFO(json);
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &message).ok());
  return message;
}

}  // namespace

TEST_CASE("tu tlist: one block per IKE SA with its child SAs (golden)") {
  const auto sections = golden();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"tu", "tlist"}, std::vector<std::string>{"tu", "tlist", "--peer", "192.0.2.2"}}) {
    std::string name;
    for (const std::string& a : args) name += (name.empty() ? "" : " ") + a;
    Result r = ctl(args);
    INFO(name << "\n" << r.out << r.err);
    REQUIRE(r.code == 0);
    REQUIRE(sections.count(name) == 1);
    CHECK(r.out == sections.at(name));
    CHECK(r.connection.controld);
    CHECK(r.connection.socket == "/run/dpvpn/controld.sock");
  }
  CHECK(fake().service.last_tlist.peer().addr() == std::string("\xc0\x00\x02\x02", 4));
  fake().service.empty = true;
  CHECK(ctl({"tu", "tlist"}).out == "no tunnels\n");
  fake().service.empty = false;
}

TEST_CASE("tu tlist --json parses back into the reply; --controld-socket picks the socket") {
  Result r = ctl({"--controld-socket", "/tmp/x.sock", "--json", "tu", "tlist"});
  REQUIRE(r.code == 0);
  CHECK(r.connection.socket == "/tmp/x.sock");
  const auto reply = parse_json<v1::ListTunnelsReply>(r.out);
  REQUIRE(reply.tunnels_size() == 2);
  CHECK(reply.tunnels(0).children(0).spi_in() == 0xc1000001);
  CHECK(reply.tunnels(0).ike_state() == "ESTABLISHED");
}

TEST_CASE("ike instances: a row per instance, down ones marked (golden); --json") {
  Result r = ctl({"ike", "instances"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == golden().at("ike instances"));
  const auto reply = parse_json<v1::ListIkeInstancesReply>(ctl({"--json", "ike", "instances"}).out);
  REQUIRE(reply.instances_size() == 3);
  CHECK(reply.instances(2).restarts() == 3);
}

TEST_CASE("ike debug, tu delete, tu up, config reload: requests and one-line answers") {
  Result r = ctl({"ike", "debug", "-i", "1", "--level", "debug", "--truncate"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "iked 1: log level info -> debug (/var/log/dpvpn/iked1.log)\n");
  CHECK(fake().service.last_debug.instance() == 1);
  CHECK(fake().service.last_debug.level() == "debug");
  CHECK(fake().service.last_debug.truncate());

  r = ctl({"tu", "delete", "192.0.2.2"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "deleting the IKE SAs with 192.0.2.2 (iked 1)\n");
  CHECK(fake().service.last_delete.peer().addr() == std::string("\xc0\x00\x02\x02", 4));

  r = ctl({"tu", "up", "site-b", "net"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "initiating site-b/net (iked 1)\n");
  CHECK(fake().service.last_up.child() == "net");
  r = ctl({"tu", "up", "site-b"});
  CHECK(r.out == "initiating site-b (every child) (iked 1)\n");
  CHECK(fake().service.last_up.child().empty());

  r = ctl({"config", "reload"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "reloaded: 3 connections (1 added, 1 changed, 0 removed) on 3 instances\n");
  CHECK(parse_json<v1::ReloadConfigReply>(ctl({"config", "reload", "--json"}).out).summary().find("3 instances") !=
        std::string::npos);
}

TEST_CASE("controld commands: errors are exit 1 and one line on stderr") {
  Result r = ctl({"ike", "debug", "-i", "7", "--level", "debug"});
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: NOT_FOUND: instance: no iked 7 (there are 3)\n");
  r = ctl({"tu", "up", "x"});
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: NOT_FOUND: connection: no connection named 'x'\n");
  r = ctl({"tu", "delete", "not-an-address"});
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: PEER: not an IP address\n");
  r = ctl({"ike", "debug", "-i", "1"});  // --level missing: CLI11 says so
  CHECK(r.code == 1);
  CHECK(r.err.rfind("dpvpnctl: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

  // Nobody listening: the plain message names controld and its socket.
  const char* argv[] = {"dpvpnctl", "--controld-socket", "/nonexistent/controld.sock", "--timeout", "0.5", "ike",
                        "instances"};
  std::ostringstream out, err;
  CHECK(dpvpn::ctl::run(7, argv, out, err) == 1);
  CHECK(err.str() == "dpvpnctl: UNAVAILABLE: cannot reach dpvpn-controld at unix:/nonexistent/controld.sock\n");
}

TEST_CASE("age_text") {
  CHECK(dpvpn::ctl::age_text(0) == "0s");
  CHECK(dpvpn::ctl::age_text(59) == "59s");
  CHECK(dpvpn::ctl::age_text(62) == "1m02s");
  CHECK(dpvpn::ctl::age_text(3723) == "1h02m");
  CHECK(dpvpn::ctl::age_text(2 * 86400 + 3 * 3600 + 5) == "2d03h");
}
