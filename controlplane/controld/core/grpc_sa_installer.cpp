#include "core/grpc_sa_installer.hpp"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "core/proto_util.hpp"
#include "core/sa_convert.hpp"

namespace dpvpn::controld {

namespace {

constexpr std::chrono::seconds kCallTimeout{5};

void deadline(grpc::ClientContext& context) { context.set_deadline(std::chrono::system_clock::now() + kCallTimeout); }

std::string pair_name(const ike::ChildSaPair& pair) { return pair.connection + "/" + pair.child; }

}  // namespace

Status from_grpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return Status::ok();
  StatusCode code = StatusCode::kInternal;
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT: code = StatusCode::kInvalidArgument; break;
    case grpc::StatusCode::NOT_FOUND: code = StatusCode::kNotFound; break;
    case grpc::StatusCode::ALREADY_EXISTS: code = StatusCode::kAlreadyExists; break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: code = StatusCode::kResourceExhausted; break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED: code = StatusCode::kUnavailable; break;
    default: break;
  }
  return {code, what + ": " + status.error_message()};
}

GrpcSaInstaller::GrpcSaInstaller(std::shared_ptr<v1::Dataplane::StubInterface> stub,
                                 std::shared_ptr<spdlog::logger> log)
    : stub_(std::move(stub)), log_(std::move(log)) {}

Status GrpcSaInstaller::allocate_spi(const IpAddr&, uint32_t* spi) {
  grpc::ClientContext context;
  deadline(context);
  v1::AllocateSpiReply reply;
  if (Status s = from_grpc(stub_->AllocateSpi(&context, v1::AllocateSpiRequest(), &reply), "AllocateSpi"); !s) {
    return s;
  }
  *spi = reply.spi();
  return Status::ok();
}

Status GrpcSaInstaller::apply_batch(const v1::SaBatch& batch) {
  grpc::ClientContext context;
  deadline(context);
  auto stream = stub_->SaBatches(&context);
  v1::BatchReply reply;
  const bool sent = stream->Write(batch) && stream->WritesDone();
  const bool got = sent && stream->Read(&reply);
  const grpc::Status finished = stream->Finish();
  if (!finished.ok()) return from_grpc(finished, "SaBatches");
  if (!got) return {StatusCode::kUnavailable, "SaBatches: no reply"};
  if (reply.code() != 0) {
    return from_grpc(grpc::Status(static_cast<grpc::StatusCode>(reply.code()), reply.message()), "SaBatches");
  }
  return Status::ok();
}

Status GrpcSaInstaller::add_policy(const v1::Policy& policy, uint32_t spi) {
  grpc::ClientContext context;
  deadline(context);
  v1::PolicyReply reply;
  if (Status s = from_grpc(stub_->AddPolicy(&context, policy, &reply), "AddPolicy " + policy_key(policy)); !s) return s;
  owners_[policy_key(policy)] = spi;
  return Status::ok();
}

Status GrpcSaInstaller::install(const ike::ChildSaPair& pair) {
  v1::SaBatch batch;
  if (Status s = sa_of(pair.inbound, pair_name(pair), batch.add_add()->mutable_sa()); !s) return s;
  if (Status s = sa_of(pair.outbound, pair_name(pair), batch.add_add()->mutable_sa()); !s) return s;
  if (Status s = apply_batch(batch); !s) return s;
  for (const v1::Policy& policy : policies_of(pair.outbound)) {
    const std::string key = policy_key(policy);
    const auto owner = owners_.find(key);
    if (pair.policy_later && owner != owners_.end() && owner->second != 0) {
      standby_[key] = pair.outbound;  // moves when the current owner is removed
      continue;
    }
    // AddPolicy replaces the route of an existing remote prefix: a rekey moves it to the new SPI.
    if (Status s = add_policy(policy, pair.outbound.spi); !s) {
      // The pair without its policy would be dead weight: take the SAs back out.
      v1::SaBatch undo;
      *undo.add_del() = sa_id_of(pair.inbound);
      *undo.add_del() = sa_id_of(pair.outbound);
      if (Status u = apply_batch(undo); !u) log_->warn("{}: removing the SAs again failed: {}", pair_name(pair), u.message());
      return s;
    }
  }
  log_->info("installed child SA {}: in 0x{:08x} out 0x{:08x}, {} policies", pair_name(pair), pair.inbound.spi,
             pair.outbound.spi, policies_of(pair.outbound).size());
  return Status::ok();
}

Status GrpcSaInstaller::install_trap(const std::string& connection, const std::string& child,
                                     const ike::ChildSaHalf& outbound) {
  for (const v1::Policy& policy : policies_of(outbound)) {
    if (Status s = add_policy(policy, 0); !s) return s;  // no SA (owner 0): packets raise acquires
  }
  log_->info("on-demand child {}/{}: {} trap policies", connection, child, policies_of(outbound).size());
  return Status::ok();
}

void GrpcSaInstaller::ike_sa_changed(const ike::IkeSaRecord& r) {
  v1::IkeSaEntry entry;
  const auto spi = [](uint64_t v) {
    std::string b(8, '\0');
    for (int i = 7; i >= 0; --i, v >>= 8) b[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    return b;
  };
  entry.set_initiator_spi(spi(r.spi_i));
  entry.set_responder_spi(spi(r.spi_r));
  if (!r.gone) {
    to_proto(r.remote, entry.mutable_peer());
    to_proto(r.local, entry.mutable_local());
    entry.set_instance(r.instance);
    entry.set_state(1);
    entry.set_next_send_msgid(r.next_send_msgid);
    entry.set_next_recv_msgid(r.next_recv_msgid);
    entry.set_lifetime_seconds(static_cast<uint32_t>(r.lifetime_seconds));
  }
  entry.set_remove(r.gone);
  grpc::ClientContext context;
  deadline(context);
  v1::IkeSaReply reply;
  if (Status s = from_grpc(stub_->SyncIkeSa(&context, entry, &reply), "SyncIkeSa"); !s) {
    log_->warn("IKE_SA_table: {}", s.message());
  }
}

Status GrpcSaInstaller::remove(const ike::ChildSaPair& pair) {
  Status result = Status::ok();
  std::erase_if(standby_, [&](const auto& entry) { return entry.second.spi == pair.outbound.spi; });
  // A rekeyed pair waiting for one of our policies takes it over first, before our SAs go: a packet
  // in between would meet a policy whose SA was just deleted (dropped as no_sa_acquire).
  std::vector<v1::Policy> orphaned;
  for (const v1::Policy& policy : policies_of(pair.outbound)) {
    auto owner = owners_.find(policy_key(policy));
    if (owner == owners_.end() || owner->second != pair.outbound.spi) continue;  // a newer pair owns it
    if (auto next = standby_.find(policy_key(policy)); next != standby_.end()) {
      for (const v1::Policy& moved : policies_of(next->second)) {
        if (policy_key(moved) != next->first) continue;
        if (Status s = add_policy(moved, next->second.spi); !s && result.is_ok()) result = s;
      }
      standby_.erase(next);
      continue;
    }
    orphaned.push_back(policy);
  }
  for (const ike::ChildSaHalf* half : {&pair.inbound, &pair.outbound}) {
    grpc::ClientContext context;
    deadline(context);
    v1::SaReply reply;
    const grpc::Status g = stub_->DeleteSa(&context, sa_id_of(*half), &reply);
    if (!g.ok() && g.error_code() != grpc::StatusCode::NOT_FOUND && result.is_ok()) {
      result = from_grpc(g, "DeleteSa");
    }
  }
  // Policies nobody takes over go after their SA (fail closed: in between, packets are dropped and
  // raise an acquire rather than leave in clear).
  for (const v1::Policy& policy : orphaned) {
    grpc::ClientContext context;
    deadline(context);
    v1::PolicyReply reply;
    const grpc::Status g = stub_->DeletePolicy(&context, policy, &reply);
    if (!g.ok() && g.error_code() != grpc::StatusCode::NOT_FOUND && result.is_ok()) {
      result = from_grpc(g, "DeletePolicy " + policy_key(policy));
    }
    owners_.erase(policy_key(policy));
  }
  log_->info("removed child SA {}: in 0x{:08x} out 0x{:08x}", pair_name(pair), pair.inbound.spi, pair.outbound.spi);
  return result;
}

}  // namespace dpvpn::controld
