#pragma once
// DataplaneService: the dpvpn.v1.Dataplane gRPC service over a DataplaneBackend. Thin (Katran's
// shape): each RPC validates and converts its request (proto_convert), calls one backend function
// and maps the backend's Status to a grpc::Status with the same message. A request that fails
// validation never reaches the backend.
#include <grpcpp/grpcpp.h>

#include <chrono>

#include "agent/dataplane_backend.hpp"
#include "dpvpn/v1/dataplane.grpc.pb.h"

namespace dpvpn::dataplane {

// kInvalidArgument -> INVALID_ARGUMENT, kAlreadyExists -> ALREADY_EXISTS, kNotFound -> NOT_FOUND,
// kResourceExhausted -> RESOURCE_EXHAUSTED, kUnavailable -> UNAVAILABLE, anything else -> INTERNAL.
grpc::Status to_grpc_status(const Status& status);

class DataplaneService final : public v1::Dataplane::Service {
 public:
  // How long Events waits on the backend between two checks for a cancelled client.
  static constexpr std::chrono::milliseconds kEventPoll{100};

  explicit DataplaneService(dataplane::DataplaneBackend& backend) : backend_(backend) {}

  grpc::Status AllocateSpi(grpc::ServerContext* context, const v1::AllocateSpiRequest* request,
                           v1::AllocateSpiReply* reply) override;
  grpc::Status AddSa(grpc::ServerContext* context, const v1::AddSaRequest* request, v1::SaReply* reply) override;
  grpc::Status UpdateSa(grpc::ServerContext* context, const v1::UpdateSaRequest* request, v1::SaReply* reply) override;
  grpc::Status QuerySa(grpc::ServerContext* context, const v1::SaId* request, v1::SaState* reply) override;
  grpc::Status DeleteSa(grpc::ServerContext* context, const v1::SaId* request, v1::SaReply* reply) override;
  grpc::Status SaBatches(grpc::ServerContext* context,
                         grpc::ServerReaderWriter<v1::BatchReply, v1::SaBatch>* stream) override;
  grpc::Status AddPolicy(grpc::ServerContext* context, const v1::Policy* request, v1::PolicyReply* reply) override;
  grpc::Status DeletePolicy(grpc::ServerContext* context, const v1::Policy* request, v1::PolicyReply* reply) override;
  grpc::Status ReadTable(grpc::ServerContext* context, const v1::TableReadRequest* request,
                         v1::TableReadReply* reply) override;
  grpc::Status Stats(grpc::ServerContext* context, const v1::StatsRequest* request, v1::StatsReply* reply) override;
  grpc::Status Events(grpc::ServerContext* context, const v1::EventsRequest* request,
                      grpc::ServerWriter<v1::Event>* writer) override;
  grpc::Status Inject(grpc::ServerContext* context, const v1::InjectRequest* request, v1::InjectReply* reply) override;
  grpc::Status SyncIkeSa(grpc::ServerContext* context, const v1::IkeSaEntry* request, v1::IkeSaReply* reply) override;

 private:
  dataplane::DataplaneBackend& backend_;
};

}  // namespace dpvpn::dataplane
