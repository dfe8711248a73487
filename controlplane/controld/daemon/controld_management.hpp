#pragma once
// The Management API's backend in controld's parent: every question goes to the iked instance(s)
// that know the answer over their socketpairs; child SA counters and tables come from the dataplane
// when one is connected. Also owns the running configuration (ReloadConfig re-reads the file).
#include <memory>
#include <mutex>
#include <string>

#include "controld_config.hpp"
#include "daemon/management_backend.hpp"
#include "daemon/supervisor.hpp"
#include "dpvpn/v1/dataplane.grpc.pb.h"

namespace spdlog {
class logger;
}

namespace dpvpn::controld {

// The file as loaded: its text goes to the instances, the parsed form stays here.
struct LoadedConfig {
  std::string file;
  std::string text;
  ControldConfig config;
};
// Reads and checks the file (proposals through the IKE crypto library).
Status load_config_file(const std::string& path, LoadedConfig* out);

class ControldManagement final : public ManagementBackend {
 public:
  // `dataplane` may be null (--no-dataplane).
  ControldManagement(Supervisor& supervisor, LoadedConfig config,
                     std::shared_ptr<v1::Dataplane::StubInterface> dataplane, std::shared_ptr<spdlog::logger> log);

  Status list_tunnels(const std::optional<IpAddr>& peer, v1::ListTunnelsReply* out) override;
  Status list_instances(v1::ListIkeInstancesReply* out) override;
  Status set_debug(uint32_t instance, const std::string& level, bool truncate, v1::SetIkeDebugReply* out) override;
  Status read_table(const v1::TableReadRequest& request, v1::TableReadReply* out) override;
  Status reload(std::string* summary) override;
  Status delete_peer(const IpAddr& peer, uint32_t* instance) override;
  Status initiate(const std::string& connection, const std::string& child, uint32_t* instance) override;

 private:
  Status status_of(uint32_t instance, v1::IkeInstance* info, v1::ListTunnelsReply* tunnels);
  Status result_of(uint32_t instance, ipc::Type type, std::vector<uint8_t> body, std::string* message);
  void add_counters(v1::ListTunnelsReply* tunnels);

  Supervisor& supervisor_;
  std::shared_ptr<v1::Dataplane::StubInterface> dataplane_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mutex_;  // config_ and reloads
  LoadedConfig config_;
};

}  // namespace dpvpn::controld
