#include "daemon/controld_management.hpp"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "core/config_diff.hpp"
#include "core/grpc_sa_installer.hpp"
#include "core/proposal_check.hpp"
#include "core/proto_util.hpp"
#include "core/shard.hpp"
#include "instance/instance_log.hpp"

namespace dpvpn::controld {

namespace {

constexpr std::chrono::milliseconds kRequestTimeout{5000};

}  // namespace

Status load_config_file(const std::string& path, LoadedConfig* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {StatusCode::kNotFound, path + ": cannot read"};
  std::ostringstream text;
  text << in.rdbuf();
  LoadedConfig loaded;
  loaded.file = path;
  loaded.text = text.str();
  if (Status s = parse_controld_config(loaded.text, path, check_proposal, &loaded.config); !s) return s;
  *out = std::move(loaded);
  return Status::ok();
}

ControldManagement::ControldManagement(Supervisor& supervisor, LoadedConfig config,
                                       std::shared_ptr<v1::Dataplane::StubInterface> dataplane,
                                       std::shared_ptr<spdlog::logger> log)
    : supervisor_(supervisor), dataplane_(std::move(dataplane)), log_(std::move(log)), config_(std::move(config)) {}

Status ControldManagement::status_of(uint32_t instance, v1::IkeInstance* info, v1::ListTunnelsReply* tunnels) {
  ipc::Frame reply;
  if (Status s = supervisor_.request(instance, ipc::Type::kStatus, {}, kRequestTimeout, &reply); !s) return s;
  if (reply.type == ipc::Type::kResult) {  // the instance died meanwhile
    Status result;
    if (!ipc::decode_result(reply.body, &result)) return {StatusCode::kInternal, "bad reply"};
    return result.is_ok() ? Status{StatusCode::kInternal, "no status"} : result;
  }
  ipc::StatusReplyBody body;
  if (!ipc::decode_status_reply(reply.body, &body) || !info->ParseFromString(body.instance) ||
      !tunnels->ParseFromString(body.tunnels)) {
    return {StatusCode::kInternal, "iked " + std::to_string(instance) + ": unreadable status"};
  }
  return Status::ok();
}

Status ControldManagement::result_of(uint32_t instance, ipc::Type type, std::vector<uint8_t> body,
                                     std::string* message) {
  ipc::Frame reply;
  if (Status s = supervisor_.request(instance, type, std::move(body), kRequestTimeout, &reply); !s) return s;
  Status result;
  if (reply.type != ipc::Type::kResult || !ipc::decode_result(reply.body, &result)) {
    return {StatusCode::kInternal, "iked " + std::to_string(instance) + ": unexpected reply"};
  }
  if (message != nullptr) *message = result.message();
  return result;
}

void ControldManagement::add_counters(v1::ListTunnelsReply* tunnels) {
  if (!dataplane_ || tunnels->tunnels().empty()) return;
  v1::StatsRequest request;
  for (const v1::Tunnel& t : tunnels->tunnels()) {
    for (const v1::ChildTunnel& c : t.children()) {
      request.add_spi(c.spi_in());
      request.add_spi(c.spi_out());
    }
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRequestTimeout);
  v1::StatsReply stats;
  const grpc::Status g = dataplane_->Stats(&context, request, &stats);
  if (!g.ok()) {
    log_->warn("tunnel counters: dataplane Stats: {}", g.error_message());
    return;
  }
  // SPIs are unique per direction and address only: match all three.
  auto find = [&stats](v1::SaDirection dir, uint32_t spi, const std::string& addr) -> const v1::SaState* {
    for (const v1::SaState& s : stats.sas()) {
      const std::string& a = dir == v1::INBOUND ? s.sa().local().addr() : s.sa().remote().addr();
      if (s.sa().direction() == dir && s.sa().spi() == spi && a == addr) return &s;
    }
    return nullptr;
  };
  for (v1::Tunnel& t : *tunnels->mutable_tunnels()) {
    for (v1::ChildTunnel& c : *t.mutable_children()) {
      const v1::SaState* in = find(v1::INBOUND, c.spi_in(), t.local().addr());
      const v1::SaState* out = find(v1::OUTBOUND, c.spi_out(), t.peer().addr());
      if (in == nullptr && out == nullptr) continue;
      c.set_counters(true);
      if (in != nullptr) {
        c.set_packets_in(in->packets());
        c.set_bytes_in(in->bytes());
        *t.add_child_sas() = *in;
      }
      if (out != nullptr) {
        c.set_packets_out(out->packets());
        c.set_bytes_out(out->bytes());
        *t.add_child_sas() = *out;
      }
    }
  }
}

Status ControldManagement::list_tunnels(const std::optional<IpAddr>& peer, v1::ListTunnelsReply* out) {
  const uint32_t n = supervisor_.count();
  for (uint32_t i = 0; i < n; ++i) {
    if (peer && shard_of(*peer, n) != i) continue;
    v1::IkeInstance info;
    v1::ListTunnelsReply tunnels;
    if (Status s = status_of(i, &info, &tunnels); !s) {
      if (peer) return s;
      log_->warn("tunnels of iked {}: {}", i, s.message());  // a restarting instance has none to show
      continue;
    }
    for (v1::Tunnel& t : *tunnels.mutable_tunnels()) {
      if (peer && from_proto(t.peer()) != peer) continue;
      *out->add_tunnels() = std::move(t);
    }
  }
  add_counters(out);
  return Status::ok();
}

Status ControldManagement::list_instances(v1::ListIkeInstancesReply* out) {
  for (uint32_t i = 0; i < supervisor_.count(); ++i) {
    v1::IkeInstance info;
    v1::ListTunnelsReply tunnels;
    if (Status s = status_of(i, &info, &tunnels); !s) {
      info.Clear();
      info.set_index(i);
      info.set_up(false);
    }
    const Supervisor::Info process = supervisor_.info(i);
    info.set_pid(static_cast<uint32_t>(process.pid));
    info.set_restarts(process.restarts);
    *out->add_instances() = std::move(info);
  }
  return Status::ok();
}

Status ControldManagement::set_debug(uint32_t instance, const std::string& level, bool truncate,
                                     v1::SetIkeDebugReply* out) {
  if (instance >= supervisor_.count()) {
    return {StatusCode::kNotFound, "instance: no iked " + std::to_string(instance) + " (there are " +
                                       std::to_string(supervisor_.count()) + ")"};
  }
  if (!parse_log_level(level)) {
    return {StatusCode::kInvalidArgument,
            "level: unknown level '" + level + "' (trace, debug, info, warn, error, critical, off)"};
  }
  std::string previous;
  if (Status s = result_of(instance, ipc::Type::kSetLevel, ipc::encode_set_level({level, truncate}), &previous); !s) {
    return s;
  }
  std::lock_guard lock(mutex_);
  out->set_debug_file(instance_log_file(config_.config.controld.log_dir, instance));
  out->set_previous_level(previous);
  log_->info("iked {}: log level {} -> {}", instance, previous, level);
  return Status::ok();
}

Status ControldManagement::read_table(const v1::TableReadRequest& request, v1::TableReadReply* out) {
  if (!dataplane_) return {StatusCode::kUnavailable, "no dataplane: controld runs with --no-dataplane"};
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRequestTimeout);
  return from_grpc(dataplane_->ReadTable(&context, request, out), "dataplane");
}

Status ControldManagement::reload(std::string* summary) {
  std::lock_guard lock(mutex_);
  LoadedConfig next;
  if (Status s = load_config_file(config_.file, &next); !s) return s;
  std::string ignored;
  const ControldSettings& before = config_.config.controld;
  const ControldSettings& after = next.config.controld;
  if (before.ike_instances != after.ike_instances) ignored += " ike_instances";
  if (before.listen != after.listen) ignored += " listen";
  if (before.dataplane != after.dataplane) ignored += " dataplane";
  if (before.management_socket != after.management_socket) ignored += " management_socket";
  const uint32_t n = supervisor_.count();
  ipc::ConfigBody body{next.file, next.text, n};
  supervisor_.set_config(body);  // instances restarted from now on get the new file
  std::string failures;
  for (uint32_t i = 0; i < n; ++i) {
    if (Status s = result_of(i, ipc::Type::kReload, ipc::encode_config(body), nullptr); !s) {
      failures += (failures.empty() ? "" : "; ") + std::string("iked ") + std::to_string(i) + ": " + s.message();
    }
  }
  *summary = diff_connections(config_.config.connections, next.config.connections).text() + " on " +
             std::to_string(n) + (n == 1 ? " instance" : " instances");
  if (!ignored.empty()) *summary += "; changed but kept until restart:" + ignored;
  config_ = std::move(next);
  log_->info("config reloaded: {}", *summary);
  if (!failures.empty()) return {StatusCode::kUnavailable, "reloaded, but " + failures};
  return Status::ok();
}

Status ControldManagement::delete_peer(const IpAddr& peer, uint32_t* instance) {
  *instance = shard_of(peer, supervisor_.count());
  return result_of(*instance, ipc::Type::kDeletePeer, ipc::encode_peer(peer), nullptr);
}

Status ControldManagement::initiate(const std::string& connection, const std::string& child, uint32_t* instance) {
  IpAddr remote;
  {
    std::lock_guard lock(mutex_);
    const auto& list = config_.config.connections;
    auto it = std::find_if(list.begin(), list.end(), [&](const ConnectionConfig& c) { return c.name == connection; });
    if (it == list.end()) return {StatusCode::kNotFound, "connection: no connection named '" + connection + "'"};
    if (!child.empty() && std::none_of(it->children.begin(), it->children.end(),
                                       [&](const ChildConfig& c) { return c.name == child; })) {
      return {StatusCode::kNotFound, "child: connection '" + connection + "' has no child '" + child + "'"};
    }
    remote = it->remote;
  }
  *instance = shard_of(remote, supervisor_.count());
  return result_of(*instance, ipc::Type::kInitiate, ipc::encode_initiate({connection, child}), nullptr);
}

}  // namespace dpvpn::controld
