#pragma once
// ManagementBackend: what the Management gRPC service calls. The real one (ControldManagement)
// asks the iked instances over their socketpairs; tests use fakes. Replies are the API's own
// messages (they are the data model: tunnels and instances as the instances report them).
#include <optional>
#include <string>

#include "dpvpn/v1/management.pb.h"
#include "net/ip_addr.hpp"
#include "util/status.hpp"

namespace dpvpn::controld {

class ManagementBackend {
 public:
  virtual ~ManagementBackend() = default;
  virtual Status list_tunnels(const std::optional<IpAddr>& peer, v1::ListTunnelsReply* out) = 0;
  virtual Status list_instances(v1::ListIkeInstancesReply* out) = 0;
  virtual Status set_debug(uint32_t instance, const std::string& level, bool truncate, v1::SetIkeDebugReply* out) = 0;
  virtual Status read_table(const v1::TableReadRequest& request, v1::TableReadReply* out) = 0;
  virtual Status reload(std::string* summary) = 0;
  virtual Status delete_peer(const IpAddr& peer, uint32_t* instance) = 0;
  virtual Status initiate(const std::string& connection, const std::string& child, uint32_t* instance) = 0;
};

}  // namespace dpvpn::controld
