#pragma once
// AgentServer: the dataplane's gRPC endpoint. A unix socket (mode 0600: the file system is the
// access control) by default, and optionally TCP with mutual TLS (a client without a certificate
// from the configured CA is refused by the TLS handshake). gRPC health checking and server
// reflection are on. The service runs on gRPC's threads; every table change goes through the
// backend to the writer thread.
#include <memory>
#include <string>

#include "agent/dataplane_backend.hpp"
#include "config/dataplane_config.hpp"
#include "util/status.hpp"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace dpvpn::dataplane {

struct AgentOptions {
  std::string unix_socket = "/run/dpvpn/dataplane.sock";  // empty: no unix socket
  std::string tcp_address;                                // "host:port"; empty: no TCP
  std::string tls_cert, tls_key, tls_ca;                  // PEM files, required with TCP
};

// The options the config file's `agent:` section gives.
inline AgentOptions agent_options_from(const AgentConfig& config) {
  return {config.socket, config.tcp, config.tls_cert, config.tls_key, config.tls_ca};
}

class AgentServer {
 public:
  static Status start(const AgentOptions& options, DataplaneBackend& backend, std::unique_ptr<AgentServer>* out);
  ~AgentServer();
  void shutdown();
  const std::string& unix_socket() const { return unix_socket_; }

 private:
  AgentServer() = default;
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string unix_socket_;
};

}  // namespace dpvpn::dataplane
