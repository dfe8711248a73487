#pragma once
// The instance's SaInstaller over the dataplane's gRPC API: AllocateSpi; a child SA pair as one
// all-or-nothing SaBatches batch, then its policies (AddPolicy replaces the route of an existing
// remote prefix, so a rekey simply points the policy at the new outbound SPI); on removal both
// SAs go, and each policy too unless a newer pair has taken it over.
#include <map>
#include <memory>
#include <string>

#include "dpvpn/v1/dataplane.grpc.pb.h"
#include "engine/engine_io.hpp"

namespace spdlog {
class logger;
}

namespace dpvpn::controld {

class GrpcSaInstaller final : public ike::SaInstaller {
 public:
  GrpcSaInstaller(std::shared_ptr<v1::Dataplane::StubInterface> stub, std::shared_ptr<spdlog::logger> log);

  Status allocate_spi(const IpAddr& local, uint32_t* spi) override;
  Status install(const ike::ChildSaPair& pair) override;
  Status remove(const ike::ChildSaPair& pair) override;
  Status install_trap(const std::string& connection, const std::string& child, const ike::ChildSaHalf& outbound) override;
  void ike_sa_changed(const ike::IkeSaRecord& record) override;

  // Which outbound SPI each installed policy (by remote prefix) sends through.
  const std::map<std::string, uint32_t>& policy_owners() const { return owners_; }

 private:
  Status apply_batch(const v1::SaBatch& batch);

  std::shared_ptr<v1::Dataplane::StubInterface> stub_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, uint32_t> owners_;
  // Policies waiting for their owner's removal (ChildSaPair::policy_later), by policy key.
  std::map<std::string, ike::ChildSaHalf> standby_;
  Status add_policy(const v1::Policy& policy, uint32_t spi);
};

// Turns a gRPC status into a Status with the same message (codes mapped as closely as they go).
Status from_grpc(const grpc::Status& status, const std::string& what);

}  // namespace dpvpn::controld
