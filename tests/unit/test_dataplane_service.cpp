// The Dataplane gRPC service over an in-process channel, in front of a fake DataplaneBackend that
// records every call and answers with scripted statuses and data: every RPC, every validation rule
// (INVALID_ARGUMENT naming the field, and the backend never called), every backend status mapped
// with its message, batches answered in order, the Events stream until the client cancels, and
// key material absent from every error message.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/dataplane_service.hpp"

using namespace dpvpn;
using namespace dpvpn::dataplane;
using namespace std::chrono_literals;

namespace {

// ---- the fake backend ----------------------------------------------------------------------

class FakeBackend final : public DataplaneBackend {
 public:
  // What every call answers (one status for all; `batch_results` scripts apply_batch per call).
  Status result;
  std::deque<Status> batch_results;  // popped per apply_batch call; empty = `result`

  // Scripted data.
  uint32_t spi_to_allocate = 0x80001234;
  uint32_t next_sa_index = 7;
  SaSnapshot snapshot;
  StatsSnapshot stats_snapshot;
  std::string table_text = "-------- inbound_SPI --------\n";
  std::vector<std::string> ports = {"inside0", "outside0"};

  // Recorded calls.
  std::map<std::string, int> calls;
  uint32_t last_member = 0, last_member_bits = 0;
  SaParams last_sa;
  SaKey last_key;
  SaLifetime last_lifetime;
  std::vector<TrafficSelector> last_local_ts, last_remote_ts;
  std::vector<SaBatchRequest> batches;
  PolicyRequest last_policy;
  std::string last_table;
  bool last_summary = false;
  tables::DumpOptions last_options;
  bool last_per_lcore = false;
  std::vector<uint32_t> last_spis;
  std::string last_port;
  std::vector<uint8_t> last_frame;

  int count(const std::string& name) {
    std::lock_guard lock(mutex_);
    return calls[name];
  }
  int total_calls() {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& [name, c] : calls) n += name == "port_names" ? 0 : c;
    return n;
  }
  void push_event(PuntedEvent event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
    cv_.notify_all();
  }
  uint64_t next_event_calls() const { return next_event_calls_.load(); }

  Status allocate_spi(uint32_t member, uint32_t member_bits, uint32_t* spi) override {
    std::lock_guard lock(mutex_);
    ++calls["allocate_spi"];
    last_member = member;
    last_member_bits = member_bits;
    if (result) *spi = spi_to_allocate;
    return result;
  }
  Status add_sa(const SaParams& params, uint32_t* sa_index) override {
    std::lock_guard lock(mutex_);
    ++calls["add_sa"];
    last_sa = params;
    if (result) *sa_index = next_sa_index;
    return result;
  }
  Status update_sa(const SaKey& key, const SaLifetime& lifetime, const std::vector<TrafficSelector>& local_ts,
                   const std::vector<TrafficSelector>& remote_ts) override {
    std::lock_guard lock(mutex_);
    ++calls["update_sa"];
    last_key = key;
    last_lifetime = lifetime;
    last_local_ts = local_ts;
    last_remote_ts = remote_ts;
    return result;
  }
  Status query_sa(const SaKey& key, SaSnapshot* out) override {
    std::lock_guard lock(mutex_);
    ++calls["query_sa"];
    last_key = key;
    if (result) *out = snapshot;
    return result;
  }
  Status delete_sa(const SaKey& key) override {
    std::lock_guard lock(mutex_);
    ++calls["delete_sa"];
    last_key = key;
    return result;
  }
  Status apply_batch(const SaBatchRequest& batch, std::vector<uint32_t>* added) override {
    std::lock_guard lock(mutex_);
    ++calls["apply_batch"];
    batches.push_back(batch);
    Status s = result;
    if (!batch_results.empty()) {
      s = batch_results.front();
      batch_results.pop_front();
    }
    if (s) {
      for (size_t i = 0; i < batch.add.size(); ++i) added->push_back(next_sa_index++);
    }
    return s;
  }
  Status add_policy(const PolicyRequest& policy) override {
    std::lock_guard lock(mutex_);
    ++calls["add_policy"];
    last_policy = policy;
    return result;
  }
  Status delete_policy(const PolicyRequest& policy) override {
    std::lock_guard lock(mutex_);
    ++calls["delete_policy"];
    last_policy = policy;
    return result;
  }
  Status read_table(std::string_view name_or_id, bool summary, const tables::DumpOptions& options,
                    std::string* out) override {
    std::lock_guard lock(mutex_);
    ++calls["read_table"];
    last_table = std::string(name_or_id);
    last_summary = summary;
    last_options = options;
    if (result) *out = table_text;
    return result;
  }
  Status stats(bool per_lcore, const std::vector<uint32_t>& spis, StatsSnapshot* out) override {
    std::lock_guard lock(mutex_);
    ++calls["stats"];
    last_per_lcore = per_lcore;
    last_spis = spis;
    if (result) *out = stats_snapshot;
    return result;
  }
  std::optional<PuntedEvent> next_event(std::chrono::milliseconds wait) override {
    ++next_event_calls_;
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, wait, [&] { return !events_.empty(); })) return std::nullopt;
    PuntedEvent e = std::move(events_.front());
    events_.pop_front();
    return e;
  }
  Status inject(std::string_view port, std::vector<uint8_t> frame) override {
    std::lock_guard lock(mutex_);
    ++calls["inject"];
    last_port = std::string(port);
    last_frame = std::move(frame);
    return result;
  }
  std::vector<std::string> port_names() override {
    std::lock_guard lock(mutex_);
    ++calls["port_names"];
    return ports;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<PuntedEvent> events_;
  std::atomic<uint64_t> next_event_calls_{0};
};

// ---- the in-process server -----------------------------------------------------------------

struct Harness {
  FakeBackend backend;
  DataplaneService service{backend};
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<v1::Dataplane::Stub> stub;

  Harness() {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    REQUIRE(server != nullptr);
    stub = v1::Dataplane::NewStub(server->InProcessChannel({}));
  }
  ~Harness() { server->Shutdown(std::chrono::system_clock::now() + 2s); }
};

// ---- request builders ----------------------------------------------------------------------

// A recognisable key: its hex must never show up in a message.
const std::string kKey = "\xa7\x3c\x91\x5e\xd2\x08\x6b\xf4\x19\xc5\x2e\x80\x77\x4a\xb3\x0d\xe6\x51\x9f\x28";
const std::string kAuthKey(32, '\x5a');

std::string hex(const std::string& bytes) {
  std::string out;
  char buf[3];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// Neither the key (raw, lower- or upper-case hex, or any 4-byte run of its hex) nor the auth key.
void check_no_key_material(const std::string& message) {
  INFO("message: " << message);
  const std::string h = hex(kKey);
  CHECK(message.find(h) == std::string::npos);
  CHECK(message.find(upper(h)) == std::string::npos);
  for (size_t i = 0; i + 8 <= h.size(); i += 2) CHECK(message.find(h.substr(i, 8)) == std::string::npos);
  CHECK(message.find(kKey.substr(0, 4)) == std::string::npos);
  CHECK(message.find(hex(kAuthKey).substr(0, 8)) == std::string::npos);
}

std::string v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return std::string{char(a), char(b), char(c), char(d)}; }
std::string v6_doc(uint8_t last) {  // 2001:db8::last
  std::string s(16, '\0');
  s[0] = '\x20';
  s[1] = '\x01';
  s[2] = '\x0d';
  s[3] = '\xb8';
  s[15] = char(last);
  return s;
}

v1::TrafficSelector ts(const std::string& start, const std::string& end, uint32_t proto = 0, uint32_t lo = 0,
                       uint32_t hi = 0) {
  v1::TrafficSelector t;
  t.mutable_start()->set_addr(start);
  t.mutable_end()->set_addr(end);
  t.set_protocol(proto);
  t.set_port_lo(lo);
  t.set_port_hi(hi);
  return t;
}

v1::Sa good_sa() {
  v1::Sa sa;
  sa.set_name("a-to-b");
  sa.set_spi(0x1001);
  sa.set_direction(v1::INBOUND);
  sa.set_algorithm(v1::AES128_GCM);
  sa.set_key(kKey);
  sa.mutable_local()->set_addr(v4(192, 0, 2, 1));
  sa.mutable_remote()->set_addr(v4(192, 0, 2, 2));
  sa.set_esn(true);
  sa.set_natt(true);
  sa.set_natt_remote_port(31000);
  sa.set_tunnel_id(9);
  *sa.add_local_ts() = ts(v4(10, 1, 0, 0), v4(10, 1, 255, 255));
  *sa.add_remote_ts() = ts(v4(10, 2, 0, 0), v4(10, 2, 255, 255), 6, 80, 443);
  sa.mutable_lifetime()->set_soft_seconds(3000);
  sa.mutable_lifetime()->set_hard_seconds(3600);
  return sa;
}

v1::SaId good_id() {
  v1::SaId id;
  id.set_direction(v1::INBOUND);
  id.set_spi(0x1001);
  id.mutable_address()->set_addr(v4(192, 0, 2, 1));
  return id;
}

v1::Policy good_policy() {
  v1::Policy p;
  p.mutable_local()->mutable_addr()->set_addr(v4(10, 1, 0, 0));
  p.mutable_local()->set_length(16);
  p.mutable_remote()->mutable_addr()->set_addr(v4(10, 2, 0, 0));
  p.mutable_remote()->set_length(16);
  p.set_action(v1::Policy::PROTECT);
  p.mutable_gateway()->set_addr(v4(192, 0, 2, 2));
  p.set_spi(0xa001);
  p.set_tunnel_id(3);
  return p;
}

IpAddr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return IpAddr::v4((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
}

struct Case {
  const char* what;
  std::function<void(v1::Sa&)> mutate;
  std::string message;
};

// Every SA validation rule, with the exact message.
std::vector<Case> sa_cases() {
  return {
      {"spi 0", [](v1::Sa& s) { s.set_spi(0); }, "sa.spi: 0 is reserved"},
      {"direction unspecified", [](v1::Sa& s) { s.set_direction(v1::SA_DIRECTION_UNSPECIFIED); },
       "sa.direction: unspecified"},
      {"direction unknown", [](v1::Sa& s) { s.set_direction(static_cast<v1::SaDirection>(7)); },
       "sa.direction: unknown value 7"},
      {"algorithm unspecified", [](v1::Sa& s) { s.set_algorithm(v1::ESP_ALGORITHM_UNSPECIFIED); },
       "sa.algorithm: unspecified"},
      {"algorithm unknown", [](v1::Sa& s) { s.set_algorithm(static_cast<v1::EspAlgorithm>(42)); },
       "sa.algorithm: unknown value 42"},
      {"GCM key without salt", [](v1::Sa& s) { s.set_key(kKey.substr(0, 16)); },
       "sa.key: aes128gcm needs 20 bytes (16-byte key + 4-byte salt), got 16"},
      {"AES-256-GCM with a 20-byte key", [](v1::Sa& s) { s.set_algorithm(v1::AES256_GCM); },
       "sa.key: aes256gcm needs 36 bytes (32-byte key + 4-byte salt), got 20"},
      {"ChaCha20 with a 20-byte key", [](v1::Sa& s) { s.set_algorithm(v1::CHACHA20_POLY1305); },
       "sa.key: chacha20poly1305 needs 36 bytes (32-byte key + 4-byte salt), got 20"},
      {"CBC key size",
       [](v1::Sa& s) {
         s.set_algorithm(v1::AES128_CBC_SHA256);
         s.set_auth_key(kAuthKey);
       },
       "sa.key: aes128cbc-sha256 needs 16 bytes, got 20"},
      {"CBC without auth key",
       [](v1::Sa& s) {
         s.set_algorithm(v1::AES256_CBC_SHA256);
         s.set_key(kKey + kKey.substr(0, 12));
       },
       "sa.auth_key: aes256cbc-sha256 needs 32 bytes, got 0"},
      {"AEAD with an auth key", [](v1::Sa& s) { s.set_auth_key(kAuthKey); },
       "sa.auth_key: aes128gcm takes none (AEAD), got 32 bytes"},
      {"local 5 bytes", [](v1::Sa& s) { s.mutable_local()->set_addr(std::string("\xc0\x00\x02\x01\x01", 5)); },
       "sa.local: address must be 4 or 16 bytes, got 5"},
      {"local missing", [](v1::Sa& s) { s.clear_local(); }, "sa.local: address must be 4 or 16 bytes, got 0"},
      {"remote IPv4-mapped",
       [](v1::Sa& s) { s.mutable_remote()->set_addr(std::string(10, '\0') + "\xff\xff" + v4(192, 0, 2, 2)); },
       "sa.remote: IPv4-mapped address 192.0.2.2: send IPv4 as 4 bytes"},
      {"remote family", [](v1::Sa& s) { s.mutable_remote()->set_addr(v6_doc(2)); },
       "sa.remote: family differs from sa.local"},
      {"replay window not a multiple of 64", [](v1::Sa& s) { s.set_replay_window(100); },
       "sa.replay_window: 100 is not a multiple of 64"},
      {"replay window too small", [](v1::Sa& s) { s.set_replay_window(32); },
       "sa.replay_window: 32 out of range 64..4096"},
      {"replay window too big", [](v1::Sa& s) { s.set_replay_window(8192); },
       "sa.replay_window: 8192 out of range 64..4096"},
      {"natt local port", [](v1::Sa& s) { s.set_natt_local_port(70000); },
       "sa.natt_local_port: 70000 out of range 0..65535"},
      {"natt remote port", [](v1::Sa& s) { s.set_natt_remote_port(65536); },
       "sa.natt_remote_port: 65536 out of range 0..65535"},
      {"TS ports lo > hi", [](v1::Sa& s) { *s.mutable_remote_ts(0) = ts(v4(10, 2, 0, 0), v4(10, 2, 0, 9), 6, 443, 80); },
       "sa.remote_ts[0]: port_lo 443 above port_hi 80"},
      {"TS port out of range",
       [](v1::Sa& s) { *s.add_local_ts() = ts(v4(10, 1, 0, 0), v4(10, 1, 0, 9), 17, 0, 99999); },
       "sa.local_ts[1].port_hi: 99999 out of range 0..65535"},
      {"TS start above end", [](v1::Sa& s) { *s.mutable_local_ts(0) = ts(v4(10, 1, 0, 9), v4(10, 1, 0, 0)); },
       "sa.local_ts[0]: start 10.1.0.9 above end 10.1.0.0"},
      {"TS families", [](v1::Sa& s) { *s.mutable_local_ts(0) = ts(v4(10, 1, 0, 0), v6_doc(9)); },
       "sa.local_ts[0].end: family differs from sa.local_ts[0].start"},
      {"TS end 3 bytes", [](v1::Sa& s) { *s.mutable_local_ts(0) = ts(v4(10, 1, 0, 0), std::string("\x0a\x01\x00", 3)); },
       "sa.local_ts[0].end: address must be 4 or 16 bytes, got 3"},
      {"TS protocol", [](v1::Sa& s) { *s.mutable_local_ts(0) = ts(v4(10, 1, 0, 0), v4(10, 1, 0, 9), 256); },
       "sa.local_ts[0].protocol: 256 out of range 0..255"},
      {"lifetime soft above hard",
       [](v1::Sa& s) {
         s.mutable_lifetime()->set_soft_bytes(2000);
         s.mutable_lifetime()->set_hard_bytes(1000);
       },
       "sa.lifetime.soft_bytes: 2000 above hard_bytes 1000"},
  };
}

}  // namespace

// ---- status mapping ------------------------------------------------------------------------

TEST_CASE("to_grpc_status maps every backend code and keeps the message") {
  const std::pair<StatusCode, grpc::StatusCode> map[] = {
      {StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {StatusCode::kInternal, grpc::StatusCode::INTERNAL},
  };
  for (const auto& [ours, theirs] : map) {
    const grpc::Status g = to_grpc_status(Status(ours, "what happened"));
    CHECK(g.error_code() == theirs);
    CHECK(g.error_message() == "what happened");
  }
  CHECK(to_grpc_status(Status::ok()).ok());
}

// ---- AllocateSpi ---------------------------------------------------------------------------

TEST_CASE("AllocateSpi: member and bits reach the backend; the SPI comes back") {
  Harness h;
  grpc::ClientContext ctx;
  v1::AllocateSpiRequest req;
  req.set_member(2);
  req.set_member_bits(2);
  v1::AllocateSpiReply reply;
  REQUIRE(h.stub->AllocateSpi(&ctx, req, &reply).ok());
  CHECK(reply.spi() == 0x80001234);
  CHECK(h.backend.last_member == 2);
  CHECK(h.backend.last_member_bits == 2);
}

TEST_CASE("AllocateSpi: bad member / member_bits are refused before the backend; backend errors map") {
  Harness h;
  const struct {
    uint32_t member, bits;
    std::string message;
  } cases[] = {{0, 9, "member_bits: 9 out of range 0..8"}, {4, 2, "member: 4 does not fit in 2 member_bits"},
               {1, 0, "member: 1 does not fit in 0 member_bits"}};
  for (const auto& c : cases) {
    grpc::ClientContext ctx;
    v1::AllocateSpiRequest req;
    req.set_member(c.member);
    req.set_member_bits(c.bits);
    v1::AllocateSpiReply reply;
    const grpc::Status s = h.stub->AllocateSpi(&ctx, req, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == c.message);
  }
  CHECK(h.backend.count("allocate_spi") == 0);

  h.backend.result = Status(StatusCode::kResourceExhausted, "no free SPI with member 1 in 1 bits");
  grpc::ClientContext ctx;
  v1::AllocateSpiRequest req;
  req.set_member(1);
  req.set_member_bits(1);
  v1::AllocateSpiReply reply;
  const grpc::Status s = h.stub->AllocateSpi(&ctx, req, &reply);
  CHECK(s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(s.error_message() == "no free SPI with member 1 in 1 bits");
  CHECK(h.backend.count("allocate_spi") == 1);
}

// ---- AddSa ---------------------------------------------------------------------------------

TEST_CASE("AddSa: every field reaches the backend converted; sa_index comes back") {
  Harness h;
  grpc::ClientContext ctx;
  v1::AddSaRequest req;
  *req.mutable_sa() = good_sa();
  v1::SaReply reply;
  REQUIRE(h.stub->AddSa(&ctx, req, &reply).ok());
  CHECK(reply.sa_index() == 7);
  REQUIRE(h.backend.count("add_sa") == 1);
  const SaParams& p = h.backend.last_sa;
  CHECK(p.name == "a-to-b");
  CHECK(p.spi == 0x1001);
  CHECK(p.direction == SaDirection::kInbound);
  CHECK(p.algorithm == EspAlgorithm::kAesGcm128);
  CHECK(p.key == std::vector<uint8_t>(kKey.begin(), kKey.end()));
  CHECK(p.auth_key.empty());
  CHECK(p.local == ip4(192, 0, 2, 1));
  CHECK(p.remote == ip4(192, 0, 2, 2));
  CHECK(p.esn);
  CHECK(p.replay_window == 0);  // the backend applies the dataplane's default
  CHECK(p.natt);
  CHECK(p.natt_local_port == 4500);  // 0 = 4500
  CHECK(p.natt_remote_port == 31000);
  CHECK(p.tunnel_id == 9);
  REQUIRE(p.local_ts.size() == 1);
  CHECK(p.local_ts[0].start == ip4(10, 1, 0, 0));
  CHECK(p.local_ts[0].end == ip4(10, 1, 255, 255));
  CHECK(p.local_ts[0].protocol == 0);
  CHECK(p.local_ts[0].port_lo == 0);
  CHECK(p.local_ts[0].port_hi == 65535);  // 0 = any
  REQUIRE(p.remote_ts.size() == 1);
  CHECK(p.remote_ts[0].protocol == 6);
  CHECK(p.remote_ts[0].port_lo == 80);
  CHECK(p.remote_ts[0].port_hi == 443);
  CHECK(p.lifetime.soft_seconds == 3000);
  CHECK(p.lifetime.hard_seconds == 3600);
}

TEST_CASE("AddSa: IPv6 endpoints, CBC with auth key, explicit replay window") {
  Harness h;
  grpc::ClientContext ctx;
  v1::AddSaRequest req;
  v1::Sa& sa = *req.mutable_sa() = good_sa();
  sa.set_direction(v1::OUTBOUND);
  sa.set_algorithm(v1::AES128_CBC_SHA256);
  sa.set_key(kKey.substr(0, 16));
  sa.set_auth_key(kAuthKey);
  sa.mutable_local()->set_addr(v6_doc(1));
  sa.mutable_remote()->set_addr(v6_doc(2));
  sa.set_replay_window(4096);
  v1::SaReply reply;
  REQUIRE(h.stub->AddSa(&ctx, req, &reply).ok());
  const SaParams& p = h.backend.last_sa;
  CHECK(p.direction == SaDirection::kOutbound);
  CHECK(p.algorithm == EspAlgorithm::kAesCbc128HmacSha256);
  CHECK(p.auth_key.size() == 32);
  CHECK_FALSE(p.local.is_v4());
  CHECK(p.local.to_string() == "2001:db8::1");
  CHECK(p.remote.to_string() == "2001:db8::2");
  CHECK(p.replay_window == 4096);
}

TEST_CASE("AddSa: each validation rule answers INVALID_ARGUMENT naming the field; the backend never sees it") {
  for (const Case& c : sa_cases()) {
    Harness h;
    INFO(c.what);
    grpc::ClientContext ctx;
    v1::AddSaRequest req;
    *req.mutable_sa() = good_sa();
    c.mutate(*req.mutable_sa());
    v1::SaReply reply;
    const grpc::Status s = h.stub->AddSa(&ctx, req, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == c.message);
    CHECK(h.backend.total_calls() == 0);
    check_no_key_material(s.error_message());
  }
}

TEST_CASE("AddSa: backend statuses map to gRPC codes with their messages, and carry no key") {
  const struct {
    StatusCode code;
    grpc::StatusCode expected;
    std::string message;
  } cases[] = {
      {StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS, "inbound SA 0x00001001 for 192.0.2.1 exists"},
      {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED, "inbound_SPI: table full (65536)"},
      {StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE, "SA slots waiting for the RCU grace period"},
      {StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT, "sa.local: not one of our addresses"},
      {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND, "no port with 192.0.2.1"},
      {StatusCode::kInternal, grpc::StatusCode::INTERNAL, "crypto session: out of memory"},
  };
  for (const auto& c : cases) {
    Harness h;
    h.backend.result = Status(c.code, c.message);
    grpc::ClientContext ctx;
    v1::AddSaRequest req;
    *req.mutable_sa() = good_sa();
    v1::SaReply reply;
    const grpc::Status s = h.stub->AddSa(&ctx, req, &reply);
    CHECK(s.error_code() == c.expected);
    CHECK(s.error_message() == c.message);
    CHECK(h.backend.count("add_sa") == 1);
    check_no_key_material(s.error_message());
  }
}

// ---- UpdateSa / QuerySa / DeleteSa ---------------------------------------------------------

TEST_CASE("UpdateSa: id, lifetime and selectors reach the backend; errors") {
  Harness h;
  {
    grpc::ClientContext ctx;
    v1::UpdateSaRequest req;
    *req.mutable_id() = good_id();
    req.mutable_lifetime()->set_soft_packets(100);
    req.mutable_lifetime()->set_hard_packets(200);
    *req.add_local_ts() = ts(v6_doc(0), v6_doc(255));
    *req.add_remote_ts() = ts(v4(10, 2, 0, 0), v4(10, 2, 0, 255), 17, 500, 500);
    v1::SaReply reply;
    REQUIRE(h.stub->UpdateSa(&ctx, req, &reply).ok());
    CHECK(h.backend.last_key.direction == SaDirection::kInbound);
    CHECK(h.backend.last_key.spi == 0x1001);
    CHECK(h.backend.last_key.address == ip4(192, 0, 2, 1));
    CHECK(h.backend.last_lifetime.soft_packets == 100);
    CHECK(h.backend.last_lifetime.hard_packets == 200);
    REQUIRE(h.backend.last_local_ts.size() == 1);
    CHECK(h.backend.last_local_ts[0].end.to_string() == "2001:db8::ff");
    REQUIRE(h.backend.last_remote_ts.size() == 1);
    CHECK(h.backend.last_remote_ts[0].port_lo == 500);
    CHECK(h.backend.last_remote_ts[0].port_hi == 500);
  }
  const struct {
    std::function<void(v1::UpdateSaRequest&)> mutate;
    std::string message;
  } cases[] = {
      {[](v1::UpdateSaRequest& r) { r.mutable_id()->set_spi(0); }, "id.spi: 0 is reserved"},
      {[](v1::UpdateSaRequest& r) { r.mutable_id()->clear_direction(); }, "id.direction: unspecified"},
      {[](v1::UpdateSaRequest& r) { r.mutable_id()->mutable_address()->set_addr("ab"); },
       "id.address: address must be 4 or 16 bytes, got 2"},
      {[](v1::UpdateSaRequest& r) {
         r.mutable_lifetime()->set_soft_seconds(10);
         r.mutable_lifetime()->set_hard_seconds(5);
       },
       "lifetime.soft_seconds: 10 above hard_seconds 5"},
      {[](v1::UpdateSaRequest& r) { *r.add_remote_ts() = ts(v4(10, 2, 0, 0), v4(10, 2, 0, 0), 0, 9, 8); },
       "remote_ts[0]: port_lo 9 above port_hi 8"},
  };
  for (const auto& c : cases) {
    grpc::ClientContext ctx;
    v1::UpdateSaRequest req;
    *req.mutable_id() = good_id();
    c.mutate(req);
    v1::SaReply reply;
    const grpc::Status s = h.stub->UpdateSa(&ctx, req, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == c.message);
  }
  CHECK(h.backend.count("update_sa") == 1);

  h.backend.result = Status(StatusCode::kNotFound, "no inbound SA 0x00001001 for 192.0.2.1");
  grpc::ClientContext ctx;
  v1::UpdateSaRequest req;
  *req.mutable_id() = good_id();
  v1::SaReply reply;
  const grpc::Status s = h.stub->UpdateSa(&ctx, req, &reply);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "no inbound SA 0x00001001 for 192.0.2.1");
}

TEST_CASE("QuerySa: the state comes back without key material, even if the backend leaves it in") {
  Harness h;
  SaSnapshot& snap = h.backend.snapshot;
  snap.params.name = "b-to-a";
  snap.params.spi = 0xb001;
  snap.params.direction = SaDirection::kOutbound;
  snap.params.algorithm = EspAlgorithm::kChaCha20Poly1305;
  snap.params.key.assign(36, 0x42);  // a careless backend
  snap.params.auth_key.assign(32, 0x43);
  snap.params.local = ip4(192, 0, 2, 1);
  snap.params.remote = ip4(192, 0, 2, 2);
  snap.params.replay_window = 1024;
  snap.params.natt_local_port = 4500;
  snap.params.natt_remote_port = 4501;
  snap.params.local_ts.push_back(TrafficSelector::prefix(ip4(10, 1, 0, 0), 16));
  snap.params.lifetime.hard_bytes = 1 << 30;
  snap.sa_index = 12;
  snap.packets = 1585;
  snap.bytes = 2180588;
  snap.replay_drops = 1;
  snap.auth_failures = 2;
  snap.ts_drops = 3;
  snap.other_drops = 4;
  snap.next_seq = 1586;
  snap.replay_top = 0;
  snap.soft_expired = true;
  snap.age_seconds = 77;

  grpc::ClientContext ctx;
  v1::SaId id = good_id();
  id.set_direction(v1::OUTBOUND);
  id.set_spi(0xb001);
  id.mutable_address()->set_addr(v4(192, 0, 2, 2));
  v1::SaState state;
  REQUIRE(h.stub->QuerySa(&ctx, id, &state).ok());
  CHECK(h.backend.last_key.direction == SaDirection::kOutbound);
  CHECK(h.backend.last_key.address == ip4(192, 0, 2, 2));
  CHECK(state.sa().name() == "b-to-a");
  CHECK(state.sa().spi() == 0xb001);
  CHECK(state.sa().direction() == v1::OUTBOUND);
  CHECK(state.sa().algorithm() == v1::CHACHA20_POLY1305);
  CHECK(state.sa().key().empty());
  CHECK(state.sa().auth_key().empty());
  CHECK(state.sa().local().addr() == v4(192, 0, 2, 1));
  CHECK(state.sa().remote().addr() == v4(192, 0, 2, 2));
  CHECK(state.sa().replay_window() == 1024);
  CHECK(state.sa().natt_remote_port() == 4501);
  REQUIRE(state.sa().local_ts_size() == 1);
  CHECK(state.sa().local_ts(0).start().addr() == v4(10, 1, 0, 0));
  CHECK(state.sa().local_ts(0).end().addr() == v4(10, 1, 255, 255));
  CHECK(state.sa().local_ts(0).port_hi() == 65535);
  CHECK(state.sa().lifetime().hard_bytes() == (1u << 30));
  CHECK(state.sa_index() == 12);
  CHECK(state.packets() == 1585);
  CHECK(state.bytes() == 2180588);
  CHECK(state.replay_drops() == 1);
  CHECK(state.auth_failures() == 2);
  CHECK(state.ts_drops() == 3);
  CHECK(state.other_drops() == 4);
  CHECK(state.next_seq() == 1586);
  CHECK(state.soft_expired());
  CHECK_FALSE(state.hard_expired());
  CHECK(state.age_seconds() == 77);
  std::string wire;
  REQUIRE(state.SerializeToString(&wire));
  CHECK(wire.find(std::string(8, '\x42')) == std::string::npos);
  CHECK(wire.find(std::string(8, '\x43')) == std::string::npos);
}

TEST_CASE("QuerySa / DeleteSa: bad ids refused first; NOT_FOUND and UNAVAILABLE map") {
  Harness h;
  {
    grpc::ClientContext ctx;
    v1::SaId id = good_id();
    id.set_direction(static_cast<v1::SaDirection>(3));
    v1::SaState state;
    const grpc::Status s = h.stub->QuerySa(&ctx, id, &state);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "id.direction: unknown value 3");
  }
  {
    grpc::ClientContext ctx;
    v1::SaId id = good_id();
    id.clear_address();
    v1::SaReply reply;
    const grpc::Status s = h.stub->DeleteSa(&ctx, id, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "id.address: address must be 4 or 16 bytes, got 0");
  }
  CHECK(h.backend.total_calls() == 0);
  {
    grpc::ClientContext ctx;
    v1::SaReply reply;
    REQUIRE(h.stub->DeleteSa(&ctx, good_id(), &reply).ok());
    CHECK(h.backend.count("delete_sa") == 1);
    CHECK(h.backend.last_key.spi == 0x1001);
  }
  h.backend.result = Status(StatusCode::kNotFound, "no inbound SA 0x00001001 for 192.0.2.1");
  {
    grpc::ClientContext ctx;
    v1::SaState state;
    const grpc::Status s = h.stub->QuerySa(&ctx, good_id(), &state);
    CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(s.error_message() == "no inbound SA 0x00001001 for 192.0.2.1");
  }
  h.backend.result = Status(StatusCode::kUnavailable, "SA 0x00001001 is being deleted; retry");
  {
    grpc::ClientContext ctx;
    v1::SaReply reply;
    const grpc::Status s = h.stub->DeleteSa(&ctx, good_id(), &reply);
    CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
    CHECK(s.error_message() == "SA 0x00001001 is being deleted; retry");
  }
}

// ---- policies ------------------------------------------------------------------------------

TEST_CASE("AddPolicy / DeletePolicy: converted; every policy rule refused before the backend") {
  Harness h;
  {
    grpc::ClientContext ctx;
    v1::PolicyReply reply;
    REQUIRE(h.stub->AddPolicy(&ctx, good_policy(), &reply).ok());
    const PolicyRequest& p = h.backend.last_policy;
    CHECK(p.local.to_string() == "10.1.0.0/16");
    CHECK(p.remote.to_string() == "10.2.0.0/16");
    CHECK(p.action == PolicyAction::kProtect);
    CHECK(p.gateway == ip4(192, 0, 2, 2));
    CHECK(p.spi == 0xa001);
    CHECK(p.tunnel_id == 3);
  }
  {
    grpc::ClientContext ctx;
    v1::Policy bypass;
    bypass.mutable_local()->mutable_addr()->set_addr(v6_doc(0));
    bypass.mutable_local()->set_length(64);
    bypass.mutable_remote()->mutable_addr()->set_addr(std::string(16, '\0'));
    bypass.mutable_remote()->set_length(0);
    bypass.set_action(v1::Policy::BYPASS);
    v1::PolicyReply reply;
    REQUIRE(h.stub->DeletePolicy(&ctx, bypass, &reply).ok());
    CHECK(h.backend.count("delete_policy") == 1);
    CHECK(h.backend.last_policy.action == PolicyAction::kBypass);
    CHECK(h.backend.last_policy.local.to_string() == "2001:db8::/64");
    CHECK(h.backend.last_policy.remote.to_string() == "::/0");
  }
  {
    // Deleting a PROTECT policy needs no gateway.
    grpc::ClientContext ctx;
    v1::Policy p = good_policy();
    p.clear_gateway();
    v1::PolicyReply reply;
    REQUIRE(h.stub->DeletePolicy(&ctx, p, &reply).ok());
    CHECK(h.backend.count("delete_policy") == 2);
  }
  const int calls_before = h.backend.total_calls();

  const struct {
    bool add;
    std::function<void(v1::Policy&)> mutate;
    std::string message;
  } cases[] = {
      {true, [](v1::Policy& p) { p.mutable_remote()->mutable_addr()->set_addr(v4(10, 2, 0, 1)); },
       "policy.remote: host bits set in 10.2.0.1/16"},
      {false, [](v1::Policy& p) { p.mutable_local()->mutable_addr()->set_addr(v4(10, 1, 128, 0)); },
       "policy.local: host bits set in 10.1.128.0/16"},
      {true, [](v1::Policy& p) { p.mutable_remote()->set_length(33); }, "policy.remote: prefix length 33 out of range 0..32"},
      {true,
       [](v1::Policy& p) {
         p.mutable_local()->mutable_addr()->set_addr(v6_doc(0));
         p.mutable_local()->set_length(129);
       },
       "policy.local: prefix length 129 out of range 0..128"},
      {true, [](v1::Policy& p) { p.mutable_remote()->mutable_addr()->set_addr("\x0a\x02"); },
       "policy.remote: address must be 4 or 16 bytes, got 2"},
      {true,
       [](v1::Policy& p) {
         p.mutable_remote()->mutable_addr()->set_addr(v6_doc(0));
         p.mutable_remote()->set_length(64);
       },
       "policy.remote: family differs from policy.local"},
      {true, [](v1::Policy& p) { p.set_action(v1::Policy::ACTION_UNSPECIFIED); }, "policy.action: unspecified"},
      {false, [](v1::Policy& p) { p.set_action(static_cast<v1::Policy::Action>(5)); }, "policy.action: unknown value 5"},
      {true, [](v1::Policy& p) { p.clear_gateway(); }, "policy.gateway: address must be 4 or 16 bytes, got 0"},
      {true, [](v1::Policy& p) { p.mutable_gateway()->set_addr(std::string("\xc0\x00\x02\x02\x00\x00", 6)); },
       "policy.gateway: address must be 4 or 16 bytes, got 6"},
      {true,
       [](v1::Policy& p) {
         p.set_action(v1::Policy::BYPASS);
         p.clear_spi();
       },
       "policy.gateway: BYPASS takes none"},
      {false,
       [](v1::Policy& p) {
         p.set_action(v1::Policy::BYPASS);
         p.clear_gateway();
       },
       "policy.spi: BYPASS takes none"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    grpc::ClientContext ctx;
    v1::Policy p = good_policy();
    c.mutate(p);
    v1::PolicyReply reply;
    const grpc::Status s = c.add ? h.stub->AddPolicy(&ctx, p, &reply) : h.stub->DeletePolicy(&ctx, p, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == c.message);
  }
  CHECK(h.backend.total_calls() == calls_before);

  const struct {
    StatusCode code;
    grpc::StatusCode expected;
    std::string message;
  } backend_cases[] = {
      {StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS, "policy 10.1.0.0/16 -> 10.2.0.0/16 exists"},
      {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED, "vpn_routing: table full"},
      {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND, "no policy 10.1.0.0/16 -> 10.2.0.0/16"},
  };
  for (const auto& c : backend_cases) {
    h.backend.result = Status(c.code, c.message);
    grpc::ClientContext ctx;
    v1::PolicyReply reply;
    const grpc::Status s = c.code == StatusCode::kNotFound ? h.stub->DeletePolicy(&ctx, good_policy(), &reply)
                                                           : h.stub->AddPolicy(&ctx, good_policy(), &reply);
    CHECK(s.error_code() == c.expected);
    CHECK(s.error_message() == c.message);
  }
}

// ---- SaBatches -----------------------------------------------------------------------------

TEST_CASE("SaBatches: 3 batches, the 2nd fails: one reply each, in order; each batch one backend call") {
  Harness h;
  h.backend.batch_results = {Status::ok(),
                             Status(StatusCode::kAlreadyExists, "add[1]: inbound SA 0x00002002 for 192.0.2.1 exists"),
                             Status::ok()};
  grpc::ClientContext ctx;
  auto stream = h.stub->SaBatches(&ctx);

  auto batch_of = [](uint32_t first_spi, int adds) {
    v1::SaBatch b;
    for (int i = 0; i < adds; ++i) {
      v1::Sa sa = good_sa();
      sa.set_spi(first_spi + static_cast<uint32_t>(i));
      *b.add_add()->mutable_sa() = sa;
    }
    return b;
  };
  v1::SaBatch b1 = batch_of(0x1001, 2);
  *b1.add_add_policy() = good_policy();
  v1::SaBatch b2 = batch_of(0x2001, 2);
  *b2.add_del() = good_id();
  *b2.add_add_policy() = good_policy();
  *b2.add_del_policy() = good_policy();
  v1::SaBatch b3 = batch_of(0x3001, 1);

  // Written one at a time, each answered before the next is sent: replies come in order.
  std::vector<v1::BatchReply> replies;
  for (const v1::SaBatch* b : {&b1, &b2, &b3}) {
    REQUIRE(stream->Write(*b));
    v1::BatchReply reply;
    REQUIRE(stream->Read(&reply));
    replies.push_back(reply);
  }
  REQUIRE(stream->WritesDone());
  v1::BatchReply extra;
  CHECK_FALSE(stream->Read(&extra));
  REQUIRE(stream->Finish().ok());

  REQUIRE(replies.size() == 3);
  CHECK(replies[0].code() == 0);
  CHECK(replies[0].message().empty());
  CHECK(std::vector<uint32_t>(replies[0].sa_index().begin(), replies[0].sa_index().end()) ==
        std::vector<uint32_t>{7, 8});
  CHECK(replies[1].code() == static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
  CHECK(replies[1].message() == "add[1]: inbound SA 0x00002002 for 192.0.2.1 exists");
  CHECK(replies[1].sa_index_size() == 0);
  CHECK(replies[2].code() == 0);
  CHECK(std::vector<uint32_t>(replies[2].sa_index().begin(), replies[2].sa_index().end()) ==
        std::vector<uint32_t>{9});

  // The backend saw exactly three all-or-nothing calls; the failed one whole.
  REQUIRE(h.backend.count("apply_batch") == 3);
  REQUIRE(h.backend.batches.size() == 3);
  const SaBatchRequest& second = h.backend.batches[1];
  REQUIRE(second.add.size() == 2);
  CHECK(second.add[0].spi == 0x2001);
  CHECK(second.add[1].spi == 0x2002);
  REQUIRE(second.del.size() == 1);
  CHECK(second.del[0].spi == 0x1001);
  CHECK(second.add_policy.size() == 1);
  CHECK(second.del_policy.size() == 1);
  CHECK(h.backend.batches[0].add_policy.size() == 1);
  CHECK(h.backend.total_calls() == 3);  // nothing but apply_batch
}

TEST_CASE("SaBatches: an invalid batch is answered INVALID_ARGUMENT naming the item, never reaches the backend; the stream goes on") {
  Harness h;
  grpc::ClientContext ctx;
  auto stream = h.stub->SaBatches(&ctx);

  const struct {
    std::function<void(v1::SaBatch&)> build;
    std::string message;
  } cases[] = {
      {[](v1::SaBatch& b) {
         *b.add_add()->mutable_sa() = good_sa();
         v1::Sa bad = good_sa();
         bad.set_key(kKey.substr(0, 16));
         *b.add_add()->mutable_sa() = bad;
       },
       "add[1].sa.key: aes128gcm needs 20 bytes (16-byte key + 4-byte salt), got 16"},
      {[](v1::SaBatch& b) {
         *b.add_del() = good_id();
         v1::SaId id = good_id();
         id.set_spi(0);
         *b.add_del() = id;
       },
       "del[1].spi: 0 is reserved"},
      {[](v1::SaBatch& b) {
         v1::Policy p = good_policy();
         p.mutable_remote()->mutable_addr()->set_addr(v4(10, 2, 0, 1));
         *b.add_add_policy() = p;
       },
       "add_policy[0].remote: host bits set in 10.2.0.1/16"},
      {[](v1::SaBatch& b) {
         v1::Policy p = good_policy();
         p.clear_action();
         *b.add_del_policy() = p;
       },
       "del_policy[0].action: unspecified"},
  };
  for (const auto& c : cases) {
    v1::SaBatch b;
    c.build(b);
    REQUIRE(stream->Write(b));
    v1::BatchReply reply;
    REQUIRE(stream->Read(&reply));
    CHECK(reply.code() == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    CHECK(reply.message() == c.message);
    CHECK(reply.sa_index_size() == 0);
    check_no_key_material(reply.message());
  }
  CHECK(h.backend.count("apply_batch") == 0);

  // The stream still works: a good batch after the bad ones.
  v1::SaBatch good;
  *good.add_add()->mutable_sa() = good_sa();
  REQUIRE(stream->Write(good));
  v1::BatchReply reply;
  REQUIRE(stream->Read(&reply));
  CHECK(reply.code() == 0);
  CHECK(reply.sa_index_size() == 1);
  REQUIRE(stream->WritesDone());
  CHECK(stream->Finish().ok());
  CHECK(h.backend.count("apply_batch") == 1);
}

TEST_CASE("SaBatches: RESOURCE_EXHAUSTED and UNAVAILABLE from the backend reach the reply") {
  Harness h;
  h.backend.batch_results = {Status(StatusCode::kResourceExhausted, "add[0]: SA store full (4096)"),
                             Status(StatusCode::kUnavailable, "del[0]: SA slot still in its grace period")};
  grpc::ClientContext ctx;
  auto stream = h.stub->SaBatches(&ctx);
  v1::SaBatch b;
  *b.add_add()->mutable_sa() = good_sa();
  // Pipelined: a writer thread sends both batches while this thread reads (the in-process
  // transport does not buffer: a write completes when the other side reads it).
  std::thread writer([&] {
    stream->Write(b);
    stream->Write(b);
    stream->WritesDone();
  });
  v1::BatchReply r1, r2;
  REQUIRE(stream->Read(&r1));
  REQUIRE(stream->Read(&r2));
  CHECK(r1.code() == static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  CHECK(r1.message() == "add[0]: SA store full (4096)");
  CHECK(r2.code() == static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  CHECK(r2.message() == "del[0]: SA slot still in its grace period");
  writer.join();
  CHECK(stream->Finish().ok());
  CHECK(h.backend.count("apply_batch") == 2);
}

// ---- ReadTable -----------------------------------------------------------------------------

TEST_CASE("ReadTable: flags become DumpOptions; the text comes back") {
  Harness h;
  auto read = [&](const v1::TableReadRequest& req, v1::TableReadReply* reply) {
    grpc::ClientContext ctx;
    return h.stub->ReadTable(&ctx, req, reply);
  };
  {
    v1::TableReadRequest req;
    req.set_table("inbound_SPI");
    v1::TableReadReply reply;
    REQUIRE(read(req, &reply).ok());
    CHECK(reply.text() == "-------- inbound_SPI --------\n");
    CHECK(h.backend.last_table == "inbound_SPI");
    CHECK_FALSE(h.backend.last_summary);
    CHECK_FALSE(h.backend.last_options.formatted);
    CHECK_FALSE(h.backend.last_options.resolve);
    CHECK(h.backend.last_options.limit == std::optional<uint32_t>(tables::kDefaultDumpLimit));
  }
  {
    v1::TableReadRequest req;
    req.set_table("3");
    req.set_formatted(true);
    req.set_resolve(true);
    req.set_max_values(5);
    v1::TableReadReply reply;
    REQUIRE(read(req, &reply).ok());
    CHECK(h.backend.last_table == "3");
    CHECK(h.backend.last_options.formatted);
    CHECK(h.backend.last_options.resolve);
    CHECK(h.backend.last_options.limit == std::optional<uint32_t>(5));
  }
  {
    v1::TableReadRequest req;
    req.set_table("connections");
    req.set_unlimited(true);
    v1::TableReadReply reply;
    REQUIRE(read(req, &reply).ok());
    CHECK_FALSE(h.backend.last_options.limit.has_value());
  }
  {
    v1::TableReadRequest req;
    req.set_summary(true);  // every table
    v1::TableReadReply reply;
    REQUIRE(read(req, &reply).ok());
    CHECK(h.backend.last_table.empty());
    CHECK(h.backend.last_summary);
  }
  CHECK(h.backend.count("read_table") == 4);

  {
    v1::TableReadRequest req;
    v1::TableReadReply reply;
    const grpc::Status s = read(req, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "table: required (or summary for every table)");
  }
  {
    v1::TableReadRequest req;
    req.set_table("inbound_SPI");
    req.set_unlimited(true);
    req.set_max_values(3);
    v1::TableReadReply reply;
    const grpc::Status s = read(req, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "max_values: conflicts with unlimited");
  }
  CHECK(h.backend.count("read_table") == 4);

  h.backend.result = Status(StatusCode::kNotFound, "no table named nosuch");
  v1::TableReadRequest req;
  req.set_table("nosuch");
  v1::TableReadReply reply;
  const grpc::Status s = read(req, &reply);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "no table named nosuch");
}

// ---- Stats ---------------------------------------------------------------------------------

TEST_CASE("Stats: the request reaches the backend; every counter comes back") {
  Harness h;
  StatsSnapshot& st = h.backend.stats_snapshot;
  st.ports.push_back({"outside0", 10, 11, 1000, 1100, 1, 2, 3, 4});
  st.lcores.push_back({0, 2, 20, 21, 5, 6, 7});
  SaSnapshot sa;
  sa.params.spi = 0xa001;
  sa.params.key.assign(20, 0x42);
  sa.params.local = ip4(192, 0, 2, 1);
  sa.params.remote = ip4(192, 0, 2, 2);
  sa.sa_index = 1;
  sa.packets = 1585;
  st.sas.push_back(sa);
  st.drops = {{"no_sa", 5}, {"replay", 0}};
  st.encrypted = 1585;
  st.decrypted = 631;
  st.forwarded_clear = 9;
  st.ike_punted = 4;
  st.acquires = 2;

  grpc::ClientContext ctx;
  v1::StatsRequest req;
  req.set_per_lcore(true);
  req.add_spi(0xa001);
  req.add_spi(0xb001);
  v1::StatsReply reply;
  REQUIRE(h.stub->Stats(&ctx, req, &reply).ok());
  CHECK(h.backend.last_per_lcore);
  CHECK(h.backend.last_spis == std::vector<uint32_t>{0xa001, 0xb001});
  REQUIRE(reply.ports_size() == 1);
  const v1::PortStats& p = reply.ports(0);
  CHECK(p.name() == "outside0");
  CHECK((p.rx_packets() == 10 && p.tx_packets() == 11 && p.rx_bytes() == 1000 && p.tx_bytes() == 1100));
  CHECK((p.imissed() == 1 && p.ierrors() == 2 && p.rx_nombuf() == 3 && p.oerrors() == 4));
  REQUIRE(reply.lcores_size() == 1);
  const v1::LcoreStats& l = reply.lcores(0);
  CHECK((l.worker() == 0 && l.lcore() == 2 && l.rx_packets() == 20 && l.tx_packets() == 21));
  CHECK((l.encrypted() == 5 && l.decrypted() == 6 && l.drops() == 7));
  REQUIRE(reply.sas_size() == 1);
  CHECK(reply.sas(0).sa().spi() == 0xa001);
  CHECK(reply.sas(0).sa().key().empty());
  CHECK(reply.sas(0).sa_index() == 1);
  CHECK(reply.sas(0).packets() == 1585);
  REQUIRE(reply.drops().size() == 2);
  CHECK(reply.drops().at("no_sa") == 5);
  CHECK(reply.drops().at("replay") == 0);
  CHECK(reply.encrypted() == 1585);
  CHECK(reply.decrypted() == 631);
  CHECK(reply.forwarded_clear() == 9);
  CHECK(reply.ike_punted() == 4);
  CHECK(reply.acquires() == 2);
}

TEST_CASE("Stats: SPI 0 refused first; UNAVAILABLE maps") {
  Harness h;
  {
    grpc::ClientContext ctx;
    v1::StatsRequest req;
    req.add_spi(0xa001);
    req.add_spi(0);
    v1::StatsReply reply;
    const grpc::Status s = h.stub->Stats(&ctx, req, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "spi[1]: 0 is reserved");
    CHECK(h.backend.count("stats") == 0);
  }
  h.backend.result = Status(StatusCode::kUnavailable, "the dataplane is stopping");
  grpc::ClientContext ctx;
  v1::StatsReply reply;
  const grpc::Status s = h.stub->Stats(&ctx, v1::StatsRequest(), &reply);
  CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(s.error_message() == "the dataplane is stopping");
}

// ---- Inject --------------------------------------------------------------------------------

TEST_CASE("Inject: port by name and the frame reach the backend; errors") {
  Harness h;
  const std::string frame(60, '\x11');
  {
    grpc::ClientContext ctx;
    v1::InjectRequest req;
    req.set_port("outside0");
    req.set_frame(frame);
    v1::InjectReply reply;
    REQUIRE(h.stub->Inject(&ctx, req, &reply).ok());
    CHECK(h.backend.last_port == "outside0");
    CHECK(h.backend.last_frame == std::vector<uint8_t>(60, 0x11));
  }
  const struct {
    std::string port, frame, message;
  } cases[] = {{"", frame, "port: required"},
               {"outside0", std::string(13, '\x11'), "frame: 13 bytes, shorter than an Ethernet header (14)"}};
  for (const auto& c : cases) {
    grpc::ClientContext ctx;
    v1::InjectRequest req;
    req.set_port(c.port);
    req.set_frame(c.frame);
    v1::InjectReply reply;
    const grpc::Status s = h.stub->Inject(&ctx, req, &reply);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == c.message);
  }
  CHECK(h.backend.count("inject") == 1);

  const struct {
    StatusCode code;
    grpc::StatusCode expected;
    std::string message;
  } backend_cases[] = {
      {StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND, "no port named outside9"},
      {StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED, "inject queue full"},
  };
  for (const auto& c : backend_cases) {
    h.backend.result = Status(c.code, c.message);
    grpc::ClientContext ctx;
    v1::InjectRequest req;
    req.set_port("outside9");
    req.set_frame(frame);
    v1::InjectReply reply;
    const grpc::Status s = h.stub->Inject(&ctx, req, &reply);
    CHECK(s.error_code() == c.expected);
    CHECK(s.error_message() == c.message);
  }
}

// ---- Events --------------------------------------------------------------------------------

TEST_CASE("Events: three events streamed (port named, fields per type), then the client cancels") {
  Harness h;
  PuntedEvent ike{};
  ike.type = ControlEventType::kIkePacket;
  ike.port_index = 1;
  ike.frame = {0xde, 0xad, 0xbe, 0xef};
  ike.src = ip4(192, 0, 2, 2);
  ike.dst = ip4(192, 0, 2, 1);
  ike.proto = 17;
  ike.sport = 4500;
  ike.dport = 4500;
  PuntedEvent neighbour{};  // dataplane-internal: never streamed
  neighbour.type = ControlEventType::kNeighborPacket;
  PuntedEvent acquire{};
  acquire.type = ControlEventType::kAcquire;
  acquire.src = ip4(10, 1, 0, 5);
  acquire.dst = ip4(10, 2, 0, 9);
  acquire.gateway = ip4(192, 0, 2, 2);
  acquire.proto = 6;
  acquire.sport = 40000;
  acquire.dport = 5001;
  acquire.spi = 0;
  PuntedEvent expire{};
  expire.type = ControlEventType::kSaSoftExpire;
  expire.spi = 0xa001;
  expire.sa_index = 4;

  grpc::ClientContext ctx;
  auto reader = h.stub->Events(&ctx, v1::EventsRequest());
  // Pushed after the stream started: the server is already waiting in next_event.
  std::this_thread::sleep_for(50ms);
  h.backend.push_event(ike);
  h.backend.push_event(neighbour);
  h.backend.push_event(acquire);
  h.backend.push_event(expire);

  std::vector<v1::Event> got;
  for (int i = 0; i < 3; ++i) {
    v1::Event e;
    REQUIRE(reader->Read(&e));
    got.push_back(e);
  }
  REQUIRE(got.size() == 3);
  CHECK(got[0].type() == v1::Event::IKE_PACKET);
  CHECK(got[0].port() == "outside0");
  CHECK(got[0].frame() == "\xde\xad\xbe\xef");
  CHECK(got[0].src().addr() == v4(192, 0, 2, 2));
  CHECK(got[0].dst().addr() == v4(192, 0, 2, 1));
  CHECK(got[0].protocol() == 17);
  CHECK(got[0].sport() == 4500);
  CHECK(got[0].dport() == 4500);
  CHECK(got[1].type() == v1::Event::ACQUIRE);
  CHECK(got[1].src().addr() == v4(10, 1, 0, 5));
  CHECK(got[1].dst().addr() == v4(10, 2, 0, 9));
  CHECK(got[1].gateway().addr() == v4(192, 0, 2, 2));
  CHECK(got[1].protocol() == 6);
  CHECK(got[1].sport() == 40000);
  CHECK(got[1].dport() == 5001);
  CHECK(got[1].spi() == 0);
  CHECK(got[2].type() == v1::Event::SA_SOFT_EXPIRE);
  CHECK(got[2].spi() == 0xa001);
  CHECK(got[2].sa_index() == 4);
  CHECK_FALSE(got[2].has_src());

  ctx.TryCancel();
  v1::Event e;
  CHECK_FALSE(reader->Read(&e));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);

  // The server's loop has ended: next_event is no longer called (it polls every 100 ms).
  std::this_thread::sleep_for(300ms);
  const uint64_t calls = h.backend.next_event_calls();
  std::this_thread::sleep_for(300ms);
  CHECK(h.backend.next_event_calls() == calls);
  CHECK(h.backend.count("port_names") == 1);
}

TEST_CASE("Events: hard expiry, and an unknown port index is named by number") {
  Harness h;
  h.backend.ports = {"inside0"};
  PuntedEvent ike{};
  ike.type = ControlEventType::kIkePacket;
  ike.port_index = 5;
  ike.frame = {1, 2, 3};
  PuntedEvent hard{};
  hard.type = ControlEventType::kSaHardExpire;
  hard.spi = 0xb001;
  hard.sa_index = 2;
  h.backend.push_event(ike);
  h.backend.push_event(hard);

  grpc::ClientContext ctx;
  auto reader = h.stub->Events(&ctx, v1::EventsRequest());
  v1::Event a, b;
  REQUIRE(reader->Read(&a));
  REQUIRE(reader->Read(&b));
  CHECK(a.port() == "#5");
  CHECK(b.type() == v1::Event::SA_HARD_EXPIRE);
  CHECK(b.spi() == 0xb001);
  CHECK(b.sa_index() == 2);
  ctx.TryCancel();
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
}
