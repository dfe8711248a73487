#pragma once
// ManagementService: the dpvpn.v1.Management gRPC service over a ManagementBackend. Thin: checks
// and converts each request, calls the backend, maps its Status to a grpc::Status.
#include <grpcpp/grpcpp.h>

#include "daemon/management_backend.hpp"
#include "dpvpn/v1/management.grpc.pb.h"

namespace dpvpn::controld {

grpc::Status to_grpc(const Status& status);

class ManagementService final : public v1::Management::Service {
 public:
  explicit ManagementService(ManagementBackend& backend) : backend_(backend) {}

  grpc::Status ListTunnels(grpc::ServerContext*, const v1::ListTunnelsRequest*, v1::ListTunnelsReply*) override;
  grpc::Status ListIkeInstances(grpc::ServerContext*, const v1::ListIkeInstancesRequest*,
                                v1::ListIkeInstancesReply*) override;
  grpc::Status SetIkeDebug(grpc::ServerContext*, const v1::SetIkeDebugRequest*, v1::SetIkeDebugReply*) override;
  grpc::Status ReadTable(grpc::ServerContext*, const v1::TableReadRequest*, v1::TableReadReply*) override;
  grpc::Status ReloadConfig(grpc::ServerContext*, const v1::ReloadConfigRequest*, v1::ReloadConfigReply*) override;
  grpc::Status DeleteTunnel(grpc::ServerContext*, const v1::DeleteTunnelRequest*, v1::DeleteTunnelReply*) override;
  grpc::Status InitiateTunnel(grpc::ServerContext*, const v1::InitiateTunnelRequest*,
                              v1::InitiateTunnelReply*) override;

 private:
  ManagementBackend& backend_;
};

}  // namespace dpvpn::controld
