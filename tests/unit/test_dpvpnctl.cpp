// dpvpnctl against a fake Dataplane service served in-process: golden outputs, errors, --json
// parsed back, argument checks (keys never echoed), sa keys --wireshark, health.
#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "dpvpn/v1/dataplane.grpc.pb.h"
#include "dpvpnctl.hpp"
#include "text.hpp"

namespace v1 = dpvpn::v1;
using dpvpn::ctl::parse_address;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// tests/golden/<table>.txt: sections "== tab -t NAME [flags]" followed by the exact output.
std::map<std::string, std::string> golden_sections(const std::string& table) {
  std::map<std::string, std::string> sections;
  std::istringstream in(read_text(std::string(DPVPN_GOLDEN_DIR) + "/" + table + ".txt"));
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

v1::IpAddress addr(const char* text) { return *parse_address(text); }

v1::TrafficSelector prefix(const char* text) {
  std::string why;
  return *dpvpn::ctl::parse_prefix_selector(text, &why);
}

// Canned SAs: an outbound AES-GCM one, an inbound CBC one with ESN and NAT-T, an IPv6 ChaCha20 one.
std::vector<v1::SaState> canned_sas() {
  std::vector<v1::SaState> sas(3);
  {
    v1::SaState& s = sas[0];
    v1::Sa& sa = *s.mutable_sa();
    sa.set_name("a-to-b");
    sa.set_spi(0xa001);
    sa.set_direction(v1::OUTBOUND);
    sa.set_algorithm(v1::AES128_GCM);
    *sa.mutable_local() = addr("192.0.2.1");
    *sa.mutable_remote() = addr("192.0.2.2");
    sa.set_tunnel_id(1);
    *sa.add_local_ts() = prefix("10.1.0.0/16");
    *sa.add_remote_ts() = prefix("10.2.0.0/16");
    sa.mutable_lifetime()->set_soft_seconds(3000);
    sa.mutable_lifetime()->set_hard_seconds(3600);
    s.set_sa_index(1);
    s.set_packets(1585);
    s.set_bytes(2180588);
    s.set_next_seq(1586);
    s.set_age_seconds(42);
  }
  {
    v1::SaState& s = sas[1];
    v1::Sa& sa = *s.mutable_sa();
    sa.set_name("b-to-a");
    sa.set_spi(0x1001);
    sa.set_direction(v1::INBOUND);
    sa.set_algorithm(v1::AES256_CBC_SHA256);
    *sa.mutable_local() = addr("192.0.2.1");
    *sa.mutable_remote() = addr("192.0.2.2");
    sa.set_esn(true);
    sa.set_natt(true);
    sa.set_replay_window(1024);
    sa.set_tunnel_id(1);
    *sa.add_local_ts() = prefix("10.1.0.0/16");
    *sa.add_local_ts() = prefix("fd01::/48");
    v1::TrafficSelector& web = *sa.add_remote_ts();
    *web.mutable_start() = addr("10.2.0.10");
    *web.mutable_end() = addr("10.2.0.20");
    web.set_protocol(6);
    web.set_port_lo(443);
    web.set_port_hi(443);
    s.set_sa_index(2);
    s.set_packets(631);
    s.set_bytes(33892);
    s.set_replay_drops(2);
    s.set_auth_failures(1);
    s.set_replay_top(633);
    s.set_soft_expired(true);
    s.set_age_seconds(7);
  }
  {
    v1::SaState& s = sas[2];
    v1::Sa& sa = *s.mutable_sa();
    sa.set_spi(0xc1000002);
    sa.set_direction(v1::INBOUND);
    sa.set_algorithm(v1::CHACHA20_POLY1305);
    *sa.mutable_local() = addr("2001:db8:ffff::1");
    *sa.mutable_remote() = addr("2001:db8:ffff::7");
    sa.set_replay_window(64);
    s.set_sa_index(3);
  }
  return sas;
}

class FakeDataplane final : public v1::Dataplane::Service {
 public:
  grpc::Status ReadTable(grpc::ServerContext*, const v1::TableReadRequest* request,
                         v1::TableReadReply* reply) override {
    std::lock_guard lock(mu);
    reads.push_back(*request);
    if (request->table().empty()) {
      if (!request->summary()) return {grpc::StatusCode::INVALID_ARGUMENT, "table: empty"};
      reply->set_text(read_text(std::string(DPVPN_GOLDEN_DIR) + "/summary.txt"));
      std::istringstream in(reply->text());
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string host;
        v1::TableSummaryRow row;
        std::string name;
        uint32_t id = 0;
        uint64_t vals = 0, peak = 0, slinks = 0;
        fields >> host >> name >> id >> vals >> peak >> slinks;
        row.set_name(name);
        row.set_id(id);
        row.set_vals(vals);
        row.set_peak(peak);
        row.set_slinks(slinks);
        *reply->add_summary() = row;
      }
      return grpc::Status::OK;
    }
    const std::string name = request->table() == "3" ? "inbound_SPI" : request->table();
    if (name != "inbound_SPI") return {grpc::StatusCode::NOT_FOUND, "no table " + request->table()};
    // The golden section whose flags the request asks for.
    std::string key = "tab -t " + name;
    if (request->summary()) key += " -s";
    if (request->formatted()) key += " -f";
    if (request->unlimited()) key += " -u";
    if (request->max_values() != 0) key += " -m " + std::to_string(request->max_values());
    if (request->resolve()) key += " -r";
    auto sections = golden_sections(name);
    auto it = sections.find(key);
    if (it == sections.end()) return {grpc::StatusCode::UNIMPLEMENTED, "the fake has no " + key};
    reply->set_text(it->second);
    if (request->summary()) {
      v1::TableSummaryRow& row = *reply->add_summary();
      row.set_name("inbound_SPI");
      row.set_id(3);
      row.set_vals(2);
      row.set_peak(2);
    }
    return grpc::Status::OK;
  }

  grpc::Status QuerySa(grpc::ServerContext*, const v1::SaId* id, v1::SaState* reply) override {
    for (const v1::SaState& s : canned_sas()) {
      const v1::Sa& sa = s.sa();
      const v1::IpAddress& key = sa.direction() == v1::INBOUND ? sa.local() : sa.remote();
      if (sa.spi() == id->spi() && sa.direction() == id->direction() && key.addr() == id->address().addr()) {
        *reply = s;
        return grpc::Status::OK;
      }
    }
    return {grpc::StatusCode::NOT_FOUND, "no " + dpvpn::ctl::direction_name(id->direction()) + " SA " +
                                             dpvpn::ctl::spi_hex(id->spi()) + " for " +
                                             dpvpn::ctl::address_text(id->address())};
  }

  grpc::Status AddSa(grpc::ServerContext*, const v1::AddSaRequest* request, v1::SaReply* reply) override {
    std::lock_guard lock(mu);
    added.push_back(*request);
    reply->set_sa_index(7);
    return grpc::Status::OK;
  }

  grpc::Status DeleteSa(grpc::ServerContext*, const v1::SaId* id, v1::SaReply*) override {
    std::lock_guard lock(mu);
    deleted.push_back(*id);
    return grpc::Status::OK;
  }

  grpc::Status Stats(grpc::ServerContext*, const v1::StatsRequest* request, v1::StatsReply* reply) override {
    v1::PortStats& inside = *reply->add_ports();
    inside.set_name("inside");
    inside.set_rx_packets(1600);
    inside.set_tx_packets(640);
    inside.set_rx_bytes(2100000);
    inside.set_tx_bytes(30000);
    v1::PortStats& outside = *reply->add_ports();
    outside.set_name("outside");
    outside.set_rx_packets(640);
    outside.set_tx_packets(1585);
    outside.set_rx_bytes(40000);
    outside.set_tx_bytes(2180588);
    outside.set_imissed(3);
    if (request->per_lcore()) {
      for (uint32_t w = 0; w < 2; ++w) {
        v1::LcoreStats& l = *reply->add_lcores();
        l.set_worker(w);
        l.set_lcore(w + 1);
        l.set_rx_packets(1000 + w);
        l.set_tx_packets(900 + w);
        l.set_encrypted(800 + w);
        l.set_decrypted(300 + w);
        l.set_drops(w);
      }
    }
    for (const v1::SaState& s : canned_sas()) {
      const auto& want = request->spi();
      if (want.empty() || std::find(want.begin(), want.end(), s.sa().spi()) != want.end()) *reply->add_sas() = s;
    }
    (*reply->mutable_drops())["replay"] = 2;
    (*reply->mutable_drops())["auth"] = 1;
    (*reply->mutable_drops())["no_route"] = 0;
    (*reply->mutable_drops())["ip_options"] = 5;
    reply->set_encrypted(1585);
    reply->set_decrypted(631);
    reply->set_forwarded_clear(12);
    reply->set_ike_punted(4);
    reply->set_acquires(1);
    return grpc::Status::OK;
  }

  std::mutex mu;
  std::vector<v1::TableReadRequest> reads;
  std::vector<v1::AddSaRequest> added;
  std::vector<v1::SaId> deleted;
};

struct FakeServer {
  explicit FakeServer(bool health) {
    grpc::EnableDefaultHealthCheckService(health);
    grpc::ServerBuilder builder;
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    grpc::EnableDefaultHealthCheckService(false);
  }
  ~FakeServer() { server->Shutdown(); }
  FakeDataplane service;
  std::unique_ptr<grpc::Server> server;
};

// Never destroyed: it outlives every test, and gRPC's own statics.
FakeServer& fake() {
  static FakeServer* server = new FakeServer(true);
  return *server;
}

struct Result {
  int code = -1;
  std::string out, err;
};

Result ctl_on(FakeServer& server, std::vector<std::string> args) {
  args.insert(args.begin(), "dpvpnctl");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  Result r;
  r.code = dpvpn::ctl::run(static_cast<int>(argv.size()), argv.data(), out, err,
                           [&server](const dpvpn::ctl::Connection&, std::string*) {
                             return server.server->InProcessChannel(grpc::ChannelArguments());
                           });
  r.out = out.str();
  r.err = err.str();
  return r;
}

Result ctl(std::vector<std::string> args) { return ctl_on(fake(), std::move(args)); }

template <typename M>
M parse_json(const std::string& json) {
  M message;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  INFO(json);
  REQUIRE(status.ok());
  return message;
}

}  // namespace

TEST_CASE("tab prints ReadTable's text exactly, with the fw tab flags in the request") {
  const auto golden = golden_sections("inbound_SPI");
  size_t first_read = 0;
  {
    std::lock_guard lock(fake().service.mu);
    first_read = fake().service.reads.size();
  }
  for (const auto& [args, section] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"tab", "-t", "inbound_SPI", "-r"}, "tab -t inbound_SPI -r"},
           {{"tab", "-t", "inbound_SPI", "-m", "1"}, "tab -t inbound_SPI -m 1"},
           {{"tab", "-t", "inbound_SPI", "-f", "-r"}, "tab -t inbound_SPI -f -r"},
           {{"tab", "-t", "3", "-u", "-r"}, "tab -t inbound_SPI -u -r"},
           {{"tab", "-t", "inbound_SPI", "-s"}, "tab -t inbound_SPI -s"},
           {{"tab", "-t", "inbound_SPI"}, "tab -t inbound_SPI"}}) {
    INFO(section);
    const Result r = ctl(args);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    REQUIRE(golden.count(section) == 1);
    CHECK(r.out == golden.at(section));
  }
  std::lock_guard lock(fake().service.mu);
  const v1::TableReadRequest& m1 = fake().service.reads.at(first_read + 1);
  CHECK(m1.table() == "inbound_SPI");
  CHECK(m1.max_values() == 1);
  CHECK_FALSE(m1.resolve());
  CHECK_FALSE(m1.summary());
}

TEST_CASE("tab -s (and tab alone) print every table's summary") {
  const std::string summary = read_text(std::string(DPVPN_GOLDEN_DIR) + "/summary.txt");
  for (const auto& args : {std::vector<std::string>{"tab", "-s"}, std::vector<std::string>{"tab"}}) {
    const Result r = ctl(args);
    CHECK(r.code == 0);
    CHECK(r.out == summary);
  }
  const Result r = ctl({"tab", "-u", "-m", "3", "-t", "inbound_SPI"});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("dpvpnctl: ") == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("tab --json: the reply with its text and summary rows") {
  for (const auto& args : {std::vector<std::string>{"--json", "tab", "-s"}, std::vector<std::string>{"tab", "-s", "--json"}}) {
    const Result r = ctl(args);
    REQUIRE(r.code == 0);
    const auto reply = parse_json<v1::TableReadReply>(r.out);
    CHECK(reply.text() == read_text(std::string(DPVPN_GOLDEN_DIR) + "/summary.txt"));
    REQUIRE(reply.summary_size() == 13);
    CHECK(reply.summary(0).name() == "connections");
    CHECK(reply.summary(0).slinks() == 1);
    CHECK(reply.summary(12).name() == "neighbors");
    CHECK(reply.summary(12).id() == 14);
  }
  const Result r = ctl({"--json", "tab", "-t", "inbound_SPI", "-r"});
  REQUIRE(r.code == 0);
  CHECK(parse_json<v1::TableReadReply>(r.out).text() == golden_sections("inbound_SPI").at("tab -t inbound_SPI -r"));
}

TEST_CASE("sa list: one row per SA from Stats") {
  const Result r = ctl({"sa", "list"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out ==
        "NAME    DIR       SPI         ALGORITHM         LOCAL             REMOTE            PACKETS    BYTES  DROPS\n"
        "a-to-b  outbound  0x0000a001  aes128gcm         192.0.2.1         192.0.2.2            1585  2180588      0\n"
        "b-to-a  inbound   0x00001001  aes256cbc-sha256  192.0.2.1         192.0.2.2             631    33892      3\n"
        "-       inbound   0xc1000002  chacha20poly1305  2001:db8:ffff::1  2001:db8:ffff::7        0        0      0\n");

  const Result j = ctl({"sa", "list", "--json"});
  REQUIRE(j.code == 0);
  const auto reply = parse_json<v1::StatsReply>(j.out);
  REQUIRE(reply.sas_size() == 3);
  CHECK(reply.sas(1).sa().spi() == 0x1001);
  CHECK(reply.sas(1).replay_drops() == 2);
  CHECK(reply.sas(1).sa().algorithm() == v1::AES256_CBC_SHA256);
  CHECK(reply.ports_size() == 0);  // only the SAs
}

TEST_CASE("sa show: QuerySa by SPI and address, or the one SA with that SPI") {
  const std::string expected =
      "SA 0x00001001 inbound \"b-to-a\" (sa_index 2)\n"
      "  algorithm      aes256cbc-sha256\n"
      "  local          192.0.2.1\n"
      "  remote         192.0.2.2\n"
      "  esn            yes\n"
      "  natt           yes (local port 4500, remote port 4500)\n"
      "  replay_window  1024\n"
      "  tunnel_id      1\n"
      "  local_ts       10.1.0.0/16, fd01::/48\n"
      "  remote_ts      10.2.0.10-10.2.0.20 proto 6 ports 443-443\n"
      "  lifetime       none\n"
      "  packets        631\n"
      "  bytes          33892\n"
      "  drops          replay 2, auth 1, ts 0, other 0\n"
      "  replay_top     633\n"
      "  state          soft-expired\n"
      "  age            7 s\n";
  for (const auto& args : {std::vector<std::string>{"sa", "show", "0x1001", "--local", "192.0.2.1"},
                           std::vector<std::string>{"sa", "show", "0x1001"},
                           std::vector<std::string>{"sa", "show", "4097"}}) {
    const Result r = ctl(args);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out == expected);
  }
  const Result out = ctl({"sa", "show", "0xa001", "--remote", "192.0.2.2"});
  CHECK(out.code == 0);
  CHECK(out.out ==
        "SA 0x0000a001 outbound \"a-to-b\" (sa_index 1)\n"
        "  algorithm      aes128gcm\n"
        "  local          192.0.2.1\n"
        "  remote         192.0.2.2\n"
        "  esn            no\n"
        "  natt           no\n"
        "  tunnel_id      1\n"
        "  local_ts       10.1.0.0/16\n"
        "  remote_ts      10.2.0.0/16\n"
        "  lifetime       soft 3000 s; hard 3600 s\n"
        "  packets        1585\n"
        "  bytes          2180588\n"
        "  drops          replay 0, auth 0, ts 0, other 0\n"
        "  next_seq       1586\n"
        "  state          active\n"
        "  age            42 s\n");

  const Result j = ctl({"sa", "show", "0x1001", "--local", "192.0.2.1", "--json"});
  REQUIRE(j.code == 0);
  const auto state = parse_json<v1::SaState>(j.out);
  CHECK(state.sa().name() == "b-to-a");
  CHECK(state.sa().direction() == v1::INBOUND);
  CHECK(state.sa().local().addr() == std::string("\xc0\x00\x02\x01", 4));
  CHECK(state.replay_top() == 633);
  CHECK(state.soft_expired());
  CHECK(state.sa().key().empty());
}

TEST_CASE("errors: exit 1 and one line on stderr, the gRPC code name first") {
  Result r = ctl({"sa", "show", "0x1001", "--local", "192.0.2.9"});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "dpvpnctl: NOT_FOUND: no inbound SA 0x00001001 for 192.0.2.9\n");

  r = ctl({"tab", "-t", "nonexistent"});
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: NOT_FOUND: no table nonexistent\n");

  r = ctl({"sa", "show", "0x999"});
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: NOT_FOUND: no SA with SPI 0x00000999\n");

  r = ctl({"sa", "show", "0"});
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: SPI: not an SPI (1..0xffffffff, decimal or 0x hex)\n");

  r = ctl({"nonsense"});
  CHECK(r.code == 1);
  CHECK(r.err.find("dpvpnctl: ") == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

  // No dataplane behind the socket: the real channel, a plain message.
  const std::string socket = "/nonexistent/dpvpn-test/dataplane.sock";
  const char* argv[] = {"dpvpnctl", "--socket", socket.c_str(), "--timeout", "5", "stats"};
  std::ostringstream out, err;
  CHECK(dpvpn::ctl::run(6, argv, out, err) == 1);
  CHECK(out.str().empty());
  CHECK(err.str() == "dpvpnctl: UNAVAILABLE: cannot reach the dataplane at unix:" + socket + "\n");

  // --target without the TLS files.
  const char* tls_argv[] = {"dpvpnctl", "--target", "127.0.0.1:1", "health"};
  std::ostringstream out2, err2;
  CHECK(dpvpn::ctl::run(4, tls_argv, out2, err2) == 1);
  CHECK(err2.str() == "dpvpnctl: INVALID_ARGUMENT: --target needs --cert, --key and --ca (mutual TLS)\n");
}

TEST_CASE("stats: ports, totals, non-zero drops, lcores, SAs; --json parses back") {
  const Result r = ctl({"stats", "--lcore"});
  CHECK(r.code == 0);
  CHECK(r.out ==
        "ports\n"
        "  NAME     RX_PACKETS  TX_PACKETS  RX_BYTES  TX_BYTES  IMISSED  IERRORS  RX_NOMBUF  OERRORS\n"
        "  inside         1600         640   2100000     30000        0        0          0        0\n"
        "  outside         640        1585     40000   2180588        3        0          0        0\n"
        "totals\n"
        "  encrypted 1585  decrypted 631  forwarded clear 12  IKE punted 4  acquires 1\n"
        "drops\n"
        "  REASON      PACKETS\n"
        "  auth              1\n"
        "  ip_options        5\n"
        "  replay            2\n"
        "lcores\n"
        "  WORKER  LCORE  RX_PACKETS  TX_PACKETS  ENCRYPTED  DECRYPTED  DROPS\n"
        "       0      1        1000         900        800        300      0\n"
        "       1      2        1001         901        801        301      1\n"
        "SAs\n"
        "  NAME    DIR       SPI         ALGORITHM         LOCAL             REMOTE            PACKETS    BYTES  DROPS\n"
        "  a-to-b  outbound  0x0000a001  aes128gcm         192.0.2.1         192.0.2.2            1585  2180588      0\n"
        "  b-to-a  inbound   0x00001001  aes256cbc-sha256  192.0.2.1         192.0.2.2             631    33892      3\n"
        "  -       inbound   0xc1000002  chacha20poly1305  2001:db8:ffff::1  2001:db8:ffff::7        0        0      0\n");

  const Result one = ctl({"stats", "--sa", "0xa001"});
  CHECK(one.code == 0);
  CHECK(one.out.find("lcores") == std::string::npos);
  CHECK(one.out.find("a-to-b") != std::string::npos);
  CHECK(one.out.find("b-to-a") == std::string::npos);

  const Result j = ctl({"--json", "stats", "--lcore", "--sa", "4097"});
  REQUIRE(j.code == 0);
  const auto reply = parse_json<v1::StatsReply>(j.out);
  CHECK(reply.encrypted() == 1585);
  CHECK(reply.drops().at("ip_options") == 5);
  CHECK(reply.drops().at("no_route") == 0);
  REQUIRE(reply.lcores_size() == 2);
  CHECK(reply.lcores(1).lcore() == 2);
  REQUIRE(reply.sas_size() == 1);
  CHECK(reply.sas(0).sa().name() == "b-to-a");
  CHECK(reply.ports(1).imissed() == 3);
}

TEST_CASE("sa add: the request carries every argument") {
  const std::string key(32, 'a'), auth(64, 'b');
  const Result r = ctl({"sa", "add", "--name", "c-in", "--spi", "0x2001", "--direction", "in", "--alg",
                        "aes128cbc-sha256", "--key", key, "--auth-key", "0x" + auth, "--local", "192.0.2.1",
                        "--remote", "192.0.2.2", "--esn", "--natt", "--replay-window", "2048", "--tunnel-id", "9",
                        "--local-ts", "10.1.0.0/16", "--remote-ts", "10.2.0.0/16", "--remote-ts", "fd02::/48"});
  CHECK(r.err.empty());
  CHECK(r.code == 0);
  CHECK(r.out == "added inbound SA 0x00002001 (sa_index 7)\n");
  std::lock_guard lock(fake().service.mu);
  REQUIRE(fake().service.added.size() == 1);
  const v1::Sa& sa = fake().service.added[0].sa();
  CHECK(sa.name() == "c-in");
  CHECK(sa.spi() == 0x2001);
  CHECK(sa.direction() == v1::INBOUND);
  CHECK(sa.algorithm() == v1::AES128_CBC_SHA256);
  CHECK(sa.key() == std::string(16, '\xaa'));
  CHECK(sa.auth_key() == std::string(32, '\xbb'));
  CHECK(sa.local().addr() == std::string("\xc0\x00\x02\x01", 4));
  CHECK(sa.remote().addr() == std::string("\xc0\x00\x02\x02", 4));
  CHECK(sa.esn());
  CHECK(sa.natt());
  CHECK(sa.replay_window() == 2048);
  CHECK(sa.tunnel_id() == 9);
  REQUIRE(sa.local_ts_size() == 1);
  CHECK(dpvpn::ctl::selector_text(sa.local_ts(0)) == "10.1.0.0/16");
  CHECK(sa.local_ts(0).end().addr() == std::string("\x0a\x01\xff\xff", 4));
  REQUIRE(sa.remote_ts_size() == 2);
  CHECK(dpvpn::ctl::selector_text(sa.remote_ts(1)) == "fd02::/48");
}

TEST_CASE("sa add: arguments are checked before any call; key errors name the option, never the key") {
  const std::vector<std::string> base = {"sa", "add", "--spi", "0x3001", "--direction", "out", "--local", "192.0.2.1",
                                         "--remote", "192.0.2.2"};
  auto add = [&base](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return ctl(args);
  };
  const std::string secret = "0x5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e7zz11";  // one bad digit
  Result r = add({"--alg", "aes128gcm", "--key", secret});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: --key: not a hex string (an even number of hex digits, 0x optional)\n");
  CHECK(r.err.find("5ec7e7") == std::string::npos);

  r = add({"--alg", "aes128gcm", "--key", "0x5ec7e75ec7e75ec7e75ec7e75ec7e75e"});  // 16 bytes: no salt
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: --key: aes128gcm takes 20 bytes (16-byte key + 4-byte salt), got 16\n");
  CHECK(r.err.find("5ec7e7") == std::string::npos);

  r = add({"--alg", "aes256cbc-sha256", "--key", std::string(64, '1')});
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: --auth-key: required with aes256cbc-sha256 (32 bytes, HMAC-SHA-256)\n");

  r = add({"--alg", "aes256cbc-sha256", "--key", std::string(64, '1'), "--auth-key", "5ec7e7-"});
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: --auth-key: not a hex string (an even number of hex digits, 0x optional)\n");
  CHECK(r.err.find("5ec7e7") == std::string::npos);

  r = add({"--alg", "aes128gcm", "--key", std::string(40, '1'), "--auth-key", std::string(64, '2')});
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: --auth-key: aes128gcm is an AEAD: no auth key\n");

  r = add({"--alg", "des", "--key", std::string(40, '1')});
  CHECK(r.err.find("dpvpnctl: INVALID_ARGUMENT: --alg: unknown algorithm") == 0);

  r = add({"--alg", "aes128gcm", "--key", std::string(40, '1'), "--replay-window", "128"});
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: --replay-window: inbound SAs only\n");

  r = add({"--alg", "aes128gcm", "--key", std::string(40, '1'), "--local-ts", "10.1.0.5/16"});
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: --local-ts: 10.1.0.5/16: host bits set\n");

  r = ctl({"sa", "add", "--spi", "1", "--direction", "out", "--alg", "aes128gcm", "--key", std::string(40, '1'),
           "--local", "192.0.2.1", "--remote", "2001:db8::2"});
  CHECK(r.err == "dpvpnctl: INVALID_ARGUMENT: --remote: not the same family as --local\n");

  r = add({"--alg", "aes128gcm"});  // CLI11: --key is required
  CHECK(r.code == 1);
  CHECK(r.err.find("--key") != std::string::npos);

  std::lock_guard lock(fake().service.mu);
  for (const v1::AddSaRequest& a : fake().service.added) CHECK(a.sa().spi() != 0x3001);
}

TEST_CASE("sa del: DeleteSa with the SA's id") {
  const Result r = ctl({"sa", "del", "0x1001", "--direction", "in", "--address", "192.0.2.1"});
  CHECK(r.code == 0);
  CHECK(r.out == "deleted inbound SA 0x00001001 (192.0.2.1)\n");
  std::lock_guard lock(fake().service.mu);
  REQUIRE(fake().service.deleted.size() == 1);
  CHECK(fake().service.deleted[0].spi() == 0x1001);
  CHECK(fake().service.deleted[0].direction() == v1::INBOUND);
  CHECK(fake().service.deleted[0].address().addr() == std::string("\xc0\x00\x02\x01", 4));
}

TEST_CASE("sa keys --wireshark: Wireshark's esp_sa line, keys from the config file") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "dpvpnctl-test";
  std::filesystem::create_directories(dir);
  const std::string config = (dir / "dp.yaml").string();
  std::ofstream(config) << R"(dataplane:
  workers:
    - lcore: 1
      rx: [inside:0, outside:0]
ports:
  - name: inside
    device: "net_null0"
    role: inside
    addresses: [10.1.0.1/24]
  - name: outside
    device: "net_null1"
    role: outside
    addresses: [192.0.2.1/24, "2001:db8:1::1/64"]
sas:
  - name: b-out
    direction: outbound
    spi: 0x00001001
    algorithm: aes128gcm
    key: 0x000102030405060708090a0b0c0d0e0f10111213
    local: 192.0.2.1
    remote: 192.0.2.2
  - name: b-in
    direction: inbound
    spi: 4098
    algorithm: aes256cbc-sha256
    key: 0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
    auth_key: 0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
    local: 192.0.2.1
    remote: 192.0.2.2
    esn: true
  - name: v6-in
    direction: inbound
    spi: 0xc1000002
    algorithm: chacha20poly1305
    key: 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223
    local: "2001:db8:1::1"
    remote: "2001:db8:1::7"
)";
  Result r = ctl({"sa", "keys", "0x1001", "--direction", "out", "--address", "192.0.2.2", "--config", config,
                  "--wireshark"});
  CHECK(r.err.empty());
  CHECK(r.code == 0);
  CHECK(r.out ==
        "\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x00001001\",\"AES-GCM with 16 octet ICV [RFC4106]\","
        "\"0x000102030405060708090a0b0c0d0e0f10111213\",\"NULL\",\"\",\"32-bit\",\"0\"\n");

  r = ctl({"sa", "keys", "0x1002", "--direction", "in", "--address", "192.0.2.1", "--config", config, "--wireshark"});
  CHECK(r.code == 0);
  CHECK(r.out ==
        "\"IPv4\",\"192.0.2.2\",\"192.0.2.1\",\"0x00001002\",\"AES-CBC [RFC3602]\","
        "\"0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\",\"HMAC-SHA-256-128 [RFC4868]\","
        "\"0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\",\"64-bit\",\"0\"\n");

  r = ctl({"sa", "keys", "0xc1000002", "--direction", "in", "--address", "2001:db8:1::1", "--config", config,
           "--wireshark"});
  CHECK(r.code == 0);
  CHECK(r.out ==
        "\"IPv6\",\"2001:db8:1::7\",\"2001:db8:1::1\",\"0xc1000002\",\"ChaCha20 with Poly1305 [RFC7634]\","
        "\"0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223\",\"NULL\",\"\",\"32-bit\","
        "\"0\"\n");

  r = ctl({"sa", "keys", "0x1001", "--direction", "in", "--address", "192.0.2.1", "--config", config, "--wireshark"});
  CHECK(r.code == 1);
  CHECK(r.err == "dpvpnctl: NOT_FOUND: no inbound SA 0x00001001 for 192.0.2.1 in " + config + "\n");

  r = ctl({"sa", "keys", "0x1001", "--direction", "out", "--address", "192.0.2.2", "--config", config + ".missing",
           "--wireshark"});
  CHECK(r.code == 1);
  CHECK(r.err.find("dpvpnctl: NOT_FOUND: ") == 0);

  // The help says where keys come from.
  r = ctl({"sa", "keys", "--help"});
  CHECK(r.code == 0);
  CHECK(r.out.find("Keys never travel over the API") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("health: grpc.health.v1 Check, or a Stats call when the server has no health service") {
  Result r = ctl({"health"});
  CHECK(r.err.empty());
  CHECK(r.code == 0);
  CHECK(r.out == "SERVING\n");
  r = ctl({"health", "--json"});
  CHECK(r.out == "{\"status\":\"SERVING\",\"via\":\"grpc.health.v1\"}\n");

  r = ctl({"health", "--service", "no.such.Service"});
  CHECK(r.code == 1);
  CHECK(r.err.find("dpvpnctl: NOT_FOUND: ") == 0);

  FakeServer bare(false);
  r = ctl_on(bare, {"health"});
  CHECK(r.code == 0);
  CHECK(r.out == "SERVING (no health service; a Stats call answered)\n");
}

TEST_CASE("the command functions run on any Dataplane stub") {
  auto stub = v1::Dataplane::NewStub(fake().server->InProcessChannel(grpc::ChannelArguments()));
  std::ostringstream out;
  dpvpn::ctl::TabArgs args;
  args.table = "inbound_SPI";
  args.resolve = true;
  const grpc::Status s = dpvpn::ctl::cmd_tab(*stub, args, {}, out);
  CHECK(s.ok());
  CHECK(out.str() == golden_sections("inbound_SPI").at("tab -t inbound_SPI -r"));
}
