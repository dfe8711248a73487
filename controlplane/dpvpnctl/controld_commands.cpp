// The dpvpnctl commands over dpvpn-controld's Management stub: tu tlist / delete / up, ike
// instances / debug, config reload.
#include <cstdio>

#include "dpvpnctl.hpp"
#include "text.hpp"

namespace dpvpn::ctl {

namespace v1 = dpvpn::v1;

namespace {

void prepare(grpc::ClientContext& context, const CallOptions& call) {
  context.set_deadline(std::chrono::system_clock::now() + call.timeout);
}

grpc::Status invalid(std::string message) { return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message)); }

std::string ike_spi_text(const std::string& bytes) { return bytes.empty() ? std::string(16, '0') : to_hex(bytes); }

std::string selectors_text(const google::protobuf::RepeatedPtrField<v1::TrafficSelector>& list) {
  if (list.empty()) return "-";
  std::string out;
  for (const v1::TrafficSelector& ts : list) {
    if (!out.empty()) out += ",";
    out += selector_text(ts);
  }
  return out;
}

std::string endpoint_text(const v1::IpAddress& address, uint32_t port) {
  const std::string a = address_text(address);
  return (address.addr().size() == 16 ? "[" + a + "]" : a) + ":" + std::to_string(port);
}

void tunnel_block(const v1::Tunnel& t, std::ostream& out) {
  out << address_text(t.peer()) << "  " << (t.connection().empty() ? "-" : t.connection()) << "  iked "
      << t.ike_instance() << "  " << t.ike_state();
  if (t.established_seconds() != 0 || t.ike_state() == "ESTABLISHED") out << " " << age_text(t.established_seconds());
  out << "  " << (t.initiator() ? "initiator" : "responder") << "\n";
  out << "  IKE SA  " << ike_spi_text(t.ike_initiator_spi()) << "_i " << ike_spi_text(t.ike_responder_spi()) << "_r  "
      << (t.ike_suite().empty() ? "-" : t.ike_suite()) << "  " << endpoint_text(t.local(), t.local_port()) << " <-> "
      << endpoint_text(t.peer(), t.remote_port()) << "\n";
  if (t.children().empty()) {
    out << "  no child SAs\n";
    return;
  }
  // Counters as in/out pairs: the dataplane's, so "-" without one.
  TextTable table({"CHILD", "SPI_IN", "SPI_OUT", "SUITE", "LOCAL_TS", "REMOTE_TS", "PACKETS_IN/OUT", "BYTES_IN/OUT",
                   "AGE"},
                  {false, false, false, false, false, false, true, true, true});
  auto pair = [](const v1::ChildTunnel& c, uint64_t in, uint64_t out) {
    return c.counters() ? std::to_string(in) + "/" + std::to_string(out) : "-";
  };
  for (const v1::ChildTunnel& c : t.children()) {
    table.add({c.name(), spi_hex(c.spi_in()), spi_hex(c.spi_out()), c.suite().empty() ? "-" : c.suite(),
               selectors_text(c.local_ts()), selectors_text(c.remote_ts()), pair(c, c.packets_in(), c.packets_out()),
               pair(c, c.bytes_in(), c.bytes_out()), age_text(c.established_seconds())});
  }
  out << table.render("  ");
}

}  // namespace

std::string age_text(uint64_t s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llud%02lluh", static_cast<unsigned long long>(s / 86400),
                  static_cast<unsigned long long>(s % 86400 / 3600));
  }
  return buf;
}

grpc::Status cmd_tu_tlist(ManagementStub& stub, const TlistArgs& args, const CallOptions& call, std::ostream& out) {
  v1::ListTunnelsRequest request;
  if (!args.peer.empty()) {
    std::optional<v1::IpAddress> peer = parse_address(args.peer);
    if (!peer) return invalid("--peer: not an IP address");
    *request.mutable_peer() = *peer;
  }
  grpc::ClientContext context;
  prepare(context, call);
  v1::ListTunnelsReply reply;
  grpc::Status status = stub.ListTunnels(&context, request, &reply);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(reply) << "\n";
    return grpc::Status::OK;
  }
  if (reply.tunnels().empty()) {
    out << "no tunnels\n";
    return grpc::Status::OK;
  }
  for (int i = 0; i < reply.tunnels_size(); ++i) {
    if (i) out << "\n";
    tunnel_block(reply.tunnels(i), out);
  }
  return grpc::Status::OK;
}

grpc::Status cmd_tu_delete(ManagementStub& stub, const std::string& peer, const CallOptions& call, std::ostream& out) {
  std::optional<v1::IpAddress> addr = parse_address(peer);
  if (!addr) return invalid("PEER: not an IP address");
  v1::DeleteTunnelRequest request;
  *request.mutable_peer() = *addr;
  grpc::ClientContext context;
  prepare(context, call);
  v1::DeleteTunnelReply reply;
  grpc::Status status = stub.DeleteTunnel(&context, request, &reply);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(reply) << "\n";
  } else {
    out << "deleting the IKE SAs with " << address_text(*addr) << " (iked " << reply.ike_instance() << ")\n";
  }
  return grpc::Status::OK;
}

grpc::Status cmd_tu_up(ManagementStub& stub, const std::string& connection, const std::string& child,
                       const CallOptions& call, std::ostream& out) {
  v1::InitiateTunnelRequest request;
  request.set_connection(connection);
  request.set_child(child);
  grpc::ClientContext context;
  prepare(context, call);
  v1::InitiateTunnelReply reply;
  grpc::Status status = stub.InitiateTunnel(&context, request, &reply);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(reply) << "\n";
  } else {
    out << "initiating " << connection << (child.empty() ? " (every child)" : "/" + child) << " (iked "
        << reply.ike_instance() << ")\n";
  }
  return grpc::Status::OK;
}

grpc::Status cmd_ike_instances(ManagementStub& stub, const CallOptions& call, std::ostream& out) {
  grpc::ClientContext context;
  prepare(context, call);
  v1::ListIkeInstancesReply reply;
  grpc::Status status = stub.ListIkeInstances(&context, v1::ListIkeInstancesRequest(), &reply);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(reply) << "\n";
    return grpc::Status::OK;
  }
  TextTable table({"INSTANCE", "PID", "STATE", "RESTARTS", "CONNECTIONS", "PEERS", "IKE_SAS", "HALF_OPEN", "LOG_LEVEL",
                   "LOG_FILE"},
                  {true, true, false, true, true, true, true, true, false, false});
  auto n = [](uint64_t v) { return std::to_string(v); };
  for (const v1::IkeInstance& i : reply.instances()) {
    if (!i.up()) {
      table.add({n(i.index()), i.pid() ? n(i.pid()) : "-", "down", n(i.restarts()), "-", "-", "-", "-", "-", "-"});
      continue;
    }
    table.add({n(i.index()), n(i.pid()), "up", n(i.restarts()), n(i.connections()), n(i.peers()), n(i.ike_sas()),
               n(i.half_open()), i.log_level(), i.log_file().empty() ? "-" : i.log_file()});
  }
  out << table.render();
  return grpc::Status::OK;
}

grpc::Status cmd_ike_debug(ManagementStub& stub, const IkeDebugArgs& args, const CallOptions& call, std::ostream& out) {
  if (args.level.empty()) return invalid("--level: required (trace, debug, info, warn, error, critical, off)");
  v1::SetIkeDebugRequest request;
  request.set_instance(args.instance);
  request.set_level(args.level);
  request.set_truncate(args.truncate);
  grpc::ClientContext context;
  prepare(context, call);
  v1::SetIkeDebugReply reply;
  grpc::Status status = stub.SetIkeDebug(&context, request, &reply);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(reply) << "\n";
  } else {
    out << "iked " << args.instance << ": log level " << reply.previous_level() << " -> " << args.level << " ("
        << reply.debug_file() << ")\n";
  }
  return grpc::Status::OK;
}

grpc::Status cmd_config_reload(ManagementStub& stub, const CallOptions& call, std::ostream& out) {
  grpc::ClientContext context;
  prepare(context, call);
  v1::ReloadConfigReply reply;
  grpc::Status status = stub.ReloadConfig(&context, v1::ReloadConfigRequest(), &reply);
  if (!status.ok()) return status;
  out << (call.json ? to_json(reply) : "reloaded: " + reply.summary()) << "\n";
  return grpc::Status::OK;
}

}  // namespace dpvpn::ctl
