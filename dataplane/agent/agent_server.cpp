#include "agent/agent_server.hpp"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/dataplane_service.hpp"

namespace dpvpn::dataplane {

namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

// True when something accepts connections on the socket: another dataplane owns it.
bool socket_in_use(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  const bool in_use = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return in_use;
}

}  // namespace

Status AgentServer::start(const AgentOptions& options, DataplaneBackend& backend, std::unique_ptr<AgentServer>* out) {
  std::unique_ptr<AgentServer> agent(new AgentServer());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!options.unix_socket.empty()) {
    const std::filesystem::path path(options.unix_socket);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (socket_in_use(options.unix_socket)) {
      return {StatusCode::kAlreadyExists,
              fmt::format("agent: {} is in use by another process (another dataplane?)", options.unix_socket)};
    }
    std::filesystem::remove(path, ec);  // a stale socket from a dataplane that died
    builder.AddListeningPort("unix:" + options.unix_socket, grpc::InsecureServerCredentials());
    agent->unix_socket_ = options.unix_socket;
  }
  if (!options.tcp_address.empty()) {
    grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    if (!read_file(options.tls_cert, &pair.cert_chain) || !read_file(options.tls_key, &pair.private_key) ||
        !read_file(options.tls_ca, &tls.pem_root_certs)) {
      return {StatusCode::kInvalidArgument,
              fmt::format("agent: TCP needs readable --tls-cert, --tls-key and --tls-ca PEM files ({}, {}, {})",
                          options.tls_cert, options.tls_key, options.tls_ca)};
    }
    tls.pem_key_cert_pairs.push_back(std::move(pair));
    builder.AddListeningPort(options.tcp_address, grpc::SslServerCredentials(tls));
  }
  agent->service_ = std::make_unique<DataplaneService>(backend);
  builder.RegisterService(agent->service_.get());
  agent->server_ = builder.BuildAndStart();
  if (agent->server_ == nullptr) {
    return {StatusCode::kUnavailable, fmt::format("agent: could not listen on {}{}{}", options.unix_socket,
                                                  options.tcp_address.empty() ? "" : " / ", options.tcp_address)};
  }
  if (!agent->unix_socket_.empty()) ::chmod(agent->unix_socket_.c_str(), 0600);
  *out = std::move(agent);
  return Status::ok();
}

void AgentServer::shutdown() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    server_.reset();
  }
  if (!unix_socket_.empty()) {
    std::error_code ec;
    std::filesystem::remove(unix_socket_, ec);
  }
}

AgentServer::~AgentServer() { shutdown(); }

}  // namespace dpvpn::dataplane
