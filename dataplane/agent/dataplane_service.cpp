#include "agent/dataplane_service.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/proto_convert.hpp"

namespace dpvpn::dataplane {

grpc::Status to_grpc_status(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return grpc::Status::OK;
    case StatusCode::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, status.message()};
    case StatusCode::kAlreadyExists: return {grpc::StatusCode::ALREADY_EXISTS, status.message()};
    case StatusCode::kNotFound: return {grpc::StatusCode::NOT_FOUND, status.message()};
    case StatusCode::kResourceExhausted: return {grpc::StatusCode::RESOURCE_EXHAUSTED, status.message()};
    case StatusCode::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, status.message()};
    case StatusCode::kInternal: break;
  }
  return {grpc::StatusCode::INTERNAL, status.message()};
}

grpc::Status DataplaneService::AllocateSpi(grpc::ServerContext*, const v1::AllocateSpiRequest* request,
                                           v1::AllocateSpiReply* reply) {
  uint32_t member = 0, member_bits = 0;
  if (Status s = allocate_spi_from_proto(*request, &member, &member_bits); !s) return to_grpc_status(s);
  uint32_t spi = 0;
  if (Status s = backend_.allocate_spi(member, member_bits, &spi); !s) return to_grpc_status(s);
  reply->set_spi(spi);
  return grpc::Status::OK;
}

grpc::Status DataplaneService::AddSa(grpc::ServerContext*, const v1::AddSaRequest* request, v1::SaReply* reply) {
  dataplane::SaParams params;
  if (Status s = sa_from_proto(request->sa(), "sa", &params); !s) return to_grpc_status(s);
  uint32_t sa_index = 0;
  if (Status s = backend_.add_sa(params, &sa_index); !s) return to_grpc_status(s);
  reply->set_sa_index(sa_index);
  return grpc::Status::OK;
}

grpc::Status DataplaneService::UpdateSa(grpc::ServerContext*, const v1::UpdateSaRequest* request, v1::SaReply*) {
  SaUpdate update;
  if (Status s = update_from_proto(*request, &update); !s) return to_grpc_status(s);
  // SaReply.sa_index stays 0: the backend's update_sa does not report it.
  return to_grpc_status(backend_.update_sa(update.key, update.lifetime, update.local_ts, update.remote_ts));
}

grpc::Status DataplaneService::QuerySa(grpc::ServerContext*, const v1::SaId* request, v1::SaState* reply) {
  dataplane::SaKey key;
  if (Status s = sa_key_from_proto(*request, "id", &key); !s) return to_grpc_status(s);
  dataplane::SaSnapshot snapshot;
  if (Status s = backend_.query_sa(key, &snapshot); !s) return to_grpc_status(s);
  snapshot_to_proto(snapshot, reply);
  return grpc::Status::OK;
}

grpc::Status DataplaneService::DeleteSa(grpc::ServerContext*, const v1::SaId* request, v1::SaReply*) {
  dataplane::SaKey key;
  if (Status s = sa_key_from_proto(*request, "id", &key); !s) return to_grpc_status(s);
  // SaReply.sa_index stays 0: the backend's delete_sa does not report it.
  return to_grpc_status(backend_.delete_sa(key));
}

grpc::Status DataplaneService::SaBatches(grpc::ServerContext*,
                                         grpc::ServerReaderWriter<v1::BatchReply, v1::SaBatch>* stream) {
  v1::SaBatch batch;
  while (stream->Read(&batch)) {
    v1::BatchReply reply;
    dataplane::SaBatchRequest request;
    Status s = batch_from_proto(batch, &request);
    std::vector<uint32_t> added;
    if (s) s = backend_.apply_batch(request, &added);
    if (s) {
      for (uint32_t index : added) reply.add_sa_index(index);
    } else {
      const grpc::Status g = to_grpc_status(s);
      reply.set_code(static_cast<int32_t>(g.error_code()));  // google.rpc.Code has the same numbers
      reply.set_message(g.error_message());
    }
    if (!stream->Write(reply)) break;  // the client is gone
  }
  return grpc::Status::OK;
}

grpc::Status DataplaneService::AddPolicy(grpc::ServerContext*, const v1::Policy* request, v1::PolicyReply*) {
  dataplane::PolicyRequest policy;
  if (Status s = policy_from_proto(*request, "policy", PolicyUse::kAdd, &policy); !s) return to_grpc_status(s);
  return to_grpc_status(backend_.add_policy(policy));
}

grpc::Status DataplaneService::DeletePolicy(grpc::ServerContext*, const v1::Policy* request, v1::PolicyReply*) {
  dataplane::PolicyRequest policy;
  if (Status s = policy_from_proto(*request, "policy", PolicyUse::kDelete, &policy); !s) return to_grpc_status(s);
  return to_grpc_status(backend_.delete_policy(policy));
}

grpc::Status DataplaneService::ReadTable(grpc::ServerContext*, const v1::TableReadRequest* request,
                                         v1::TableReadReply* reply) {
  tables::DumpOptions options;
  if (Status s = table_read_from_proto(*request, &options); !s) return to_grpc_status(s);
  std::string text;
  if (Status s = backend_.read_table(request->table(), request->summary(), options, &text); !s) {
    return to_grpc_status(s);
  }
  reply->set_text(std::move(text));
  return grpc::Status::OK;
}

grpc::Status DataplaneService::Stats(grpc::ServerContext*, const v1::StatsRequest* request, v1::StatsReply* reply) {
  std::vector<uint32_t> spis;
  if (Status s = stats_request_from_proto(*request, &spis); !s) return to_grpc_status(s);
  dataplane::StatsSnapshot snapshot;
  if (Status s = backend_.stats(request->per_lcore(), spis, &snapshot); !s) return to_grpc_status(s);
  stats_to_proto(snapshot, reply);
  return grpc::Status::OK;
}

grpc::Status DataplaneService::Events(grpc::ServerContext* context, const v1::EventsRequest*,
                                      grpc::ServerWriter<v1::Event>* writer) {
  const std::vector<std::string> port_names = backend_.port_names();
  while (!context->IsCancelled()) {
    std::optional<dataplane::PuntedEvent> event = backend_.next_event(kEventPoll);
    if (!event) continue;
    v1::Event out;
    if (!event_to_proto(*event, port_names, &out)) continue;
    if (!writer->Write(out)) break;  // the client is gone
  }
  return grpc::Status::OK;
}

grpc::Status DataplaneService::Inject(grpc::ServerContext*, const v1::InjectRequest* request, v1::InjectReply*) {
  if (request->has_udp()) {
    dataplane::RoutedUdpRequest udp;
    if (Status s = routed_udp_from_proto(*request, &udp); !s) return to_grpc_status(s);
    return to_grpc_status(backend_.inject_udp(udp));
  }
  std::vector<uint8_t> frame;
  if (Status s = inject_from_proto(*request, &frame); !s) return to_grpc_status(s);
  return to_grpc_status(backend_.inject(request->port(), std::move(frame)));
}

grpc::Status DataplaneService::SyncIkeSa(grpc::ServerContext*, const v1::IkeSaEntry* request, v1::IkeSaReply*) {
  tables::IkeSaKey key{};
  tables::IkeSaValue value{};
  if (Status s = ike_sa_from_proto(*request, &key, &value); !s) return to_grpc_status(s);
  return to_grpc_status(backend_.sync_ike_sa(key, value, request->lifetime_seconds(), request->remove()));
}

}  // namespace dpvpn::dataplane
