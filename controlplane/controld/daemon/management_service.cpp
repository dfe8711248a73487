#include "daemon/management_service.hpp"

#include "core/proto_util.hpp"

namespace dpvpn::controld {

namespace {

grpc::Status invalid(std::string message) { return {grpc::StatusCode::INVALID_ARGUMENT, std::move(message)}; }

}  // namespace

grpc::Status to_grpc(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return grpc::Status::OK;
    case StatusCode::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, status.message()};
    case StatusCode::kNotFound: return {grpc::StatusCode::NOT_FOUND, status.message()};
    case StatusCode::kAlreadyExists: return {grpc::StatusCode::ALREADY_EXISTS, status.message()};
    case StatusCode::kResourceExhausted: return {grpc::StatusCode::RESOURCE_EXHAUSTED, status.message()};
    case StatusCode::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, status.message()};
    case StatusCode::kInternal: break;
  }
  return {grpc::StatusCode::INTERNAL, status.message()};
}

grpc::Status ManagementService::ListTunnels(grpc::ServerContext*, const v1::ListTunnelsRequest* request,
                                            v1::ListTunnelsReply* reply) {
  std::optional<IpAddr> peer;
  if (request->has_peer() && !request->peer().addr().empty()) {
    peer = from_proto(request->peer());
    if (!peer) return invalid("peer: not a 4- or 16-byte address");
  }
  return to_grpc(backend_.list_tunnels(peer, reply));
}

grpc::Status ManagementService::ListIkeInstances(grpc::ServerContext*, const v1::ListIkeInstancesRequest*,
                                                 v1::ListIkeInstancesReply* reply) {
  return to_grpc(backend_.list_instances(reply));
}

grpc::Status ManagementService::SetIkeDebug(grpc::ServerContext*, const v1::SetIkeDebugRequest* request,
                                            v1::SetIkeDebugReply* reply) {
  if (!request->topics().empty()) return invalid("topics: per-topic levels are not supported; use level");
  if (request->level().empty()) return invalid("level: required (trace, debug, info, warn, error, critical, off)");
  return to_grpc(backend_.set_debug(request->instance(), request->level(), request->truncate(), reply));
}

grpc::Status ManagementService::ReadTable(grpc::ServerContext*, const v1::TableReadRequest* request,
                                          v1::TableReadReply* reply) {
  return to_grpc(backend_.read_table(*request, reply));
}

grpc::Status ManagementService::ReloadConfig(grpc::ServerContext*, const v1::ReloadConfigRequest*,
                                             v1::ReloadConfigReply* reply) {
  std::string summary;
  if (Status s = backend_.reload(&summary); !s) return to_grpc(s);
  reply->set_summary(summary);
  return grpc::Status::OK;
}

grpc::Status ManagementService::DeleteTunnel(grpc::ServerContext*, const v1::DeleteTunnelRequest* request,
                                             v1::DeleteTunnelReply* reply) {
  const std::optional<IpAddr> peer = from_proto(request->peer());
  if (!peer) return invalid("peer: not a 4- or 16-byte address");
  uint32_t instance = 0;
  if (Status s = backend_.delete_peer(*peer, &instance); !s) return to_grpc(s);
  reply->set_ike_instance(instance);
  return grpc::Status::OK;
}

grpc::Status ManagementService::InitiateTunnel(grpc::ServerContext*, const v1::InitiateTunnelRequest* request,
                                               v1::InitiateTunnelReply* reply) {
  if (request->connection().empty()) return invalid("connection: required");
  uint32_t instance = 0;
  if (Status s = backend_.initiate(request->connection(), request->child(), &instance); !s) return to_grpc(s);
  reply->set_ike_instance(instance);
  return grpc::Status::OK;
}

}  // namespace dpvpn::controld
