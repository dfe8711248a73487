// The instance's SaInstaller over the Dataplane API, against a fake Dataplane service in-process:
// a pair goes in as one batch (inbound, outbound) with its policies; a rekey moves the policies to
// the new outbound SPI (AddPolicy replaces a prefix's route) and removing the old pair leaves them;
// removing the last pair deletes them; a failed batch installs nothing; no key reaches a log.
#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>

#include "core/grpc_sa_installer.hpp"
#include "core/sa_convert.hpp"
#include "dpvpn/v1/dataplane.grpc.pb.h"
#include "ike/crypto/transforms.hpp"

using namespace dpvpn;
using namespace dpvpn::controld;

namespace {

class FakeDataplane final : public v1::Dataplane::Service {
 public:
  grpc::Status AllocateSpi(grpc::ServerContext*, const v1::AllocateSpiRequest*, v1::AllocateSpiReply* r) override {
    r->set_spi(next_spi++);
    return grpc::Status::OK;
  }
  grpc::Status SaBatches(grpc::ServerContext*, grpc::ServerReaderWriter<v1::BatchReply, v1::SaBatch>* stream) override {
    v1::SaBatch batch;
    while (stream->Read(&batch)) {
      std::lock_guard lock(mu);
      v1::BatchReply reply;
      if (refuse_batches) {
        reply.set_code(static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
        reply.set_message("add[1]: SPI 0x0000b002 is already installed");
      } else {
        batches.push_back(batch);
        for (const auto& add : batch.add()) sas[key(add.sa().direction(), add.sa().spi())] = add.sa();
        for (const auto& del : batch.del()) sas.erase(key(del.direction(), del.spi()));
      }
      stream->Write(reply);
    }
    return grpc::Status::OK;
  }
  grpc::Status DeleteSa(grpc::ServerContext*, const v1::SaId* id, v1::SaReply*) override {
    std::lock_guard lock(mu);
    calls.push_back("DeleteSa " + key(id->direction(), id->spi()));
    if (sas.erase(key(id->direction(), id->spi())) == 0) return {grpc::StatusCode::NOT_FOUND, "no SA"};
    return grpc::Status::OK;
  }
  grpc::Status AddPolicy(grpc::ServerContext*, const v1::Policy* p, v1::PolicyReply*) override {
    std::lock_guard lock(mu);
    policies[policy_key(*p)] = p->spi();  // vpn_routing: upsert by remote prefix
    calls.push_back("AddPolicy " + policy_key(*p) + " " + std::to_string(p->spi()));
    return grpc::Status::OK;
  }
  grpc::Status DeletePolicy(grpc::ServerContext*, const v1::Policy* p, v1::PolicyReply*) override {
    std::lock_guard lock(mu);
    if (policies.erase(policy_key(*p)) == 0) return {grpc::StatusCode::NOT_FOUND, "no policy"};
    return grpc::Status::OK;
  }
  static std::string key(v1::SaDirection d, uint32_t spi) { return (d == v1::INBOUND ? "in:" : "out:") + std::to_string(spi); }

  std::mutex mu;
  uint32_t next_spi = 0xc1000001;
  bool refuse_batches = false;
  std::vector<v1::SaBatch> batches;
  std::map<std::string, v1::Sa> sas;
  std::map<std::string, uint32_t> policies;
  std::vector<std::string> calls;  // DeleteSa and AddPolicy, in order
};

// Where `call` is in `calls` (calls.size() if absent).
size_t position(const std::vector<std::string>& calls, const std::string& call) {
  return static_cast<size_t>(std::find(calls.begin(), calls.end(), call) - calls.begin());
}

ike::ChildSaPair pair(uint32_t spi_in, uint32_t spi_out) {
  ike::ChildSaPair p;
  p.connection = "site-b";
  p.child = "net";
  for (ike::ChildSaHalf* h : {&p.inbound, &p.outbound}) {
    h->local = *IpAddr::parse("192.0.2.1");
    h->remote = *IpAddr::parse("192.0.2.2");
    h->suite.encr = ike::encr::kAesCbc;
    h->suite.encr_key_bits = 256;
    h->suite.integ = ike::integ::kHmacSha256_128;
    h->keys.encr_key.assign(32, 0xab);
    h->keys.integ_key.assign(32, 0xcd);
    h->local_ts = {{*IpAddr::parse("10.1.0.0"), *IpAddr::parse("10.1.255.255"), 0, 0, 65535}};
    h->remote_ts = {{*IpAddr::parse("10.2.0.0"), *IpAddr::parse("10.2.255.255"), 0, 0, 65535}};
  }
  p.inbound.inbound = true;
  p.inbound.spi = spi_in;
  p.outbound.spi = spi_out;
  return p;
}

struct Rig {
  FakeDataplane service;
  std::unique_ptr<grpc::Server> server;
  std::ostringstream log_text;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<GrpcSaInstaller> installer;
  Rig() {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text));
    log->set_level(spdlog::level::trace);
    installer = std::make_unique<GrpcSaInstaller>(
        v1::Dataplane::NewStub(server->InProcessChannel(grpc::ChannelArguments())), log);
  }
  ~Rig() { server->Shutdown(); }
};

}  // namespace

TEST_CASE("GrpcSaInstaller: a rekey we answered keeps the policy on the old SA until the old one goes") {
  Rig rig;
  REQUIRE(rig.installer->install(pair(0x1001, 0xb001)).is_ok());
  ike::ChildSaPair answered = pair(0x1002, 0xb002);
  answered.policy_later = true;
  REQUIRE(rig.installer->install(answered).is_ok());
  CHECK(rig.service.policies.at("10.2.0.0/16") == 0xb001);  // the peer cannot decrypt 0xb002 yet
  CHECK(rig.service.sas.count("out:45058") == 1);           // but the SA is there
  REQUIRE(rig.installer->remove(pair(0x1001, 0xb001)).is_ok());
  CHECK(rig.service.policies.at("10.2.0.0/16") == 0xb002);  // moved, not deleted
  // ... before the old outbound SA goes: in between, traffic would meet a policy without an SA.
  const auto& calls = rig.service.calls;
  CHECK(position(calls, "AddPolicy 10.2.0.0/16 45058") < position(calls, "DeleteSa out:45057"));
  CHECK(position(calls, "DeleteSa out:45057") < calls.size());
  REQUIRE(rig.installer->remove(answered).is_ok());
  CHECK(rig.service.policies.empty());
  // Nothing to wait for (no current owner): the policy is installed at once.
  ike::ChildSaPair first = pair(0x1003, 0xb003);
  first.policy_later = true;
  REQUIRE(rig.installer->install(first).is_ok());
  CHECK(rig.service.policies.at("10.2.0.0/16") == 0xb003);
}

TEST_CASE("GrpcSaInstaller: SPIs, one batch per pair, policies follow rekeys, removal") {
  Rig rig;
  uint32_t spi = 0;
  REQUIRE(rig.installer->allocate_spi(*IpAddr::parse("192.0.2.1"), &spi).is_ok());
  CHECK(spi == 0xc1000001);

  REQUIRE(rig.installer->install(pair(0x1001, 0xb001)).is_ok());
  REQUIRE(rig.service.batches.size() == 1);
  const v1::SaBatch& batch = rig.service.batches[0];
  REQUIRE(batch.add_size() == 2);
  CHECK(batch.add(0).sa().direction() == v1::INBOUND);
  CHECK(batch.add(0).sa().spi() == 0x1001);
  CHECK(batch.add(1).sa().direction() == v1::OUTBOUND);
  CHECK(batch.add(1).sa().algorithm() == v1::AES256_CBC_SHA256);
  CHECK(batch.add(1).sa().key() == std::string(32, '\xab'));
  CHECK(batch.add(1).sa().auth_key() == std::string(32, '\xcd'));
  CHECK(batch.add(1).sa().name() == "site-b/net");
  CHECK(rig.service.policies == std::map<std::string, uint32_t>{{"10.2.0.0/16", 0xb001}});

  // Rekey: the new pair takes the policy over; deleting the old pair leaves it with the new one.
  REQUIRE(rig.installer->install(pair(0x1002, 0xb002)).is_ok());
  CHECK(rig.service.policies.at("10.2.0.0/16") == 0xb002);
  REQUIRE(rig.installer->remove(pair(0x1001, 0xb001)).is_ok());
  CHECK(rig.service.policies.at("10.2.0.0/16") == 0xb002);
  CHECK(rig.service.sas.size() == 2);
  CHECK(rig.service.sas.count("in:4098") == 1);

  // The last pair goes: its policy too.
  REQUIRE(rig.installer->remove(pair(0x1002, 0xb002)).is_ok());
  CHECK(rig.service.policies.empty());
  CHECK(rig.service.sas.empty());

  // A batch the dataplane refuses: nothing installed, the dataplane's reason reported.
  rig.service.refuse_batches = true;
  const Status s = rig.installer->install(pair(0x1003, 0xb003));
  CHECK(s.code() == StatusCode::kAlreadyExists);
  CHECK(s.message().find("already installed") != std::string::npos);
  CHECK(rig.service.policies.empty());

  // Keys never reach the log (0xab / 0xcd repeated would show as "abab" / "cdcd" or raw bytes).
  const std::string text = rig.log_text.str();
  CHECK(text.find("installed child SA site-b/net") != std::string::npos);
  CHECK(text.find("abab") == std::string::npos);
  CHECK(text.find("\xab\xab") == std::string::npos);
  CHECK(text.find("cdcd") == std::string::npos);
}
