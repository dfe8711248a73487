// The `agent:` section: where the gRPC agent listens, and the mutual-TLS files for TCP.
#include "config/config_draft.hpp"
#include "config/value_parsers.hpp"

namespace dpvpn::dataplane::config_internal {

namespace {
bool is_host_port(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  const std::optional<uint64_t> port = parse_uint(text.substr(colon + 1));
  return port && *port >= 1 && *port <= 65535;
}
}  // namespace

void read_agent_section(const Field& section, ConfigDraft* draft) {
  const MapFields agent(section, {"socket", "tcp", "tls"});
  AgentConfig& cfg = draft->cfg.agent;
  if (auto f = agent.get("socket")) {
    cfg.socket = f->node.IsNull() ? std::string() : scalar(*f);
    if (!cfg.socket.empty() && cfg.socket.size() >= 108) fail(*f, "longer than a unix socket path may be (107)");
  }
  const std::optional<Field> tcp = agent.get("tcp");
  if (!tcp) {
    if (auto tls = agent.get("tls")) fail(*tls, "only used with agent.tcp");
    return;
  }
  cfg.tcp = scalar(*tcp);
  if (!is_host_port(cfg.tcp)) fail(*tcp, "'" + cfg.tcp + "' is not HOST:PORT (e.g. 0.0.0.0:50051 or [::]:50051)");
  const MapFields tls(agent.require("tls", "agent.tcp is served only with mutual TLS"), {"cert", "key", "ca"});
  cfg.tls_cert = readable_file(tls.require("cert"), draft->base_dir);
  cfg.tls_key = readable_file(tls.require("key"), draft->base_dir);
  cfg.tls_ca = readable_file(tls.require("ca", "client certificates must chain to it"), draft->base_dir);
}

}  // namespace dpvpn::dataplane::config_internal
