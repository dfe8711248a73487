#include "instance/instance.hpp"

#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <time.h>

#include <algorithm>

#include "core/config_diff.hpp"
#include "core/grpc_sa_installer.hpp"
#include "core/ipc_channel.hpp"
#include "core/proposal_check.hpp"
#include "core/recording_sa_installer.hpp"
#include "core/release_free_memory.hpp"
#include "core/shard.hpp"
#include "core/tunnel_convert.hpp"
#include "daemon/udp_transport.hpp"
#include "dpvpn/v1/management.pb.h"
#include "instance/instance_log.hpp"

namespace dpvpn::controld {

namespace {

constexpr int kMaxPollMs = 1000;
constexpr int kSendTimeoutMs = 100;    // a datagram the parent cannot take is dropped (IKE retransmits)
constexpr int kReplyTimeoutMs = 2000;  // replies are awaited: give them longer

}  // namespace

uint64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// Datagrams the engine sends leave on our own sockets (--no-dataplane) or go to the parent, which
// hands them to the dataplane.
class Instance::Sender final : public ike::PacketSender {
 public:
  Sender(int fd, const std::unique_ptr<Transport>& udp, spdlog::logger& log) : fd_(fd), udp_(udp), log_(log) {}
  void send(const ike::Datagram& datagram) override {
    if (udp_) return udp_->send(datagram);
    const Status s = ipc::send_frame(fd_, {ipc::Type::kDatagram, 0, ipc::encode_datagram(datagram)}, kSendTimeoutMs);
    if (!s) log_.debug("datagram to {} dropped: {}", datagram.remote.address.to_string(), s.message());
  }

 private:
  int fd_;
  const std::unique_ptr<Transport>& udp_;
  spdlog::logger& log_;
};

Instance::Instance(const InstanceOptions& options, std::shared_ptr<spdlog::logger> log)
    : options_(options), log_(std::move(log)), sender_(std::make_unique<Sender>(options.fd, udp_, *log_)) {
  if (options_.udp_fds.empty()) return;
  TransportEvents events;
  events.datagram = [this](const ike::Datagram& d) {
    if (engine_ != nullptr) engine_->receive(d, now_ms_);
  };
  std::unique_ptr<UdpTransport> udp;
  if (Status s = UdpTransport::adopt(options_.udp_fds, std::move(events), log_, &udp); !s) {
    log_->error("{}", s.message());  // the parent's sockets should always be usable: run without them
    return;
  }
  udp_ = std::move(udp);
}

std::vector<int> Instance::udp_fds() const { return udp_ ? udp_->fds() : std::vector<int>{}; }

void Instance::on_udp_readable(int fd, uint64_t now_ms) {
  now_ms_ = now_ms;
  if (udp_) udp_->on_readable(fd);
}

Instance::~Instance() = default;

Status Instance::configure(const ipc::ConfigBody& body, std::string* summary) {
  ControldConfig config;
  if (Status s = parse_controld_config(body.yaml, body.file_name, check_proposal, &config); !s) return s;
  std::vector<ConnectionConfig> mine = connections_of_shard(config.connections, options_.index, body.instances);
  *summary = diff_connections(mine_, mine).text();
  const uint64_t now = monotonic_ms();
  if (engine_ == nullptr) {
    log_file_ = instance_log_file(config.controld.log_dir, options_.index);
    open_instance_log_file(*log_, log_file_, false);
    if (options_.no_dataplane) {
      installer_ = std::make_unique<RecordingSaInstaller>(log_);
    } else {
      auto channel = grpc::CreateChannel("unix:" + config.controld.dataplane, grpc::InsecureChannelCredentials());
      installer_ = std::make_unique<GrpcSaInstaller>(v1::Dataplane::NewStub(channel), log_);
    }
    ike::EngineOptions engine_options;
    engine_options.instance = options_.index;
    engine_options.cookie_threshold = config.controld.cookie_threshold;
    engine_options.retransmit_tries = config.controld.retransmit_tries;
    engine_options.retransmit_timeout_ms = config.controld.retransmit_timeout_ms;
    engine_options.nat_keepalive_ms = static_cast<uint32_t>(config.controld.nat_keepalive * 1000);
    engine_ = std::make_unique<ike::IkeEngine>(engine_options, mine, *sender_, *installer_, log_);
    // Children with start_action: start come up now, as a reload brings up new ones.
    for (const ConnectionConfig& c : mine) {
      for (const ChildConfig& child : c.children) {
        if (child.start_action != StartAction::kStart) continue;
        if (Status s = engine_->initiate(c.name, child.name, now); !s) {
          log_->warn("{}/{}: cannot initiate: {}", c.name, child.name, s.message());
        }
      }
    }
    log_->info("iked {} up: {} of {} connections", options_.index, mine.size(), config.connections.size());
  } else {
    engine_->reload(mine, now);
    log_->info("config reloaded: {}", *summary);
  }
  mine_ = std::move(mine);
  return Status::ok();
}

ipc::Frame Instance::status_reply(uint32_t id, uint64_t now_ms) const {
  v1::IkeInstance instance;
  v1::ListTunnelsReply tunnels;
  instance.set_index(options_.index);
  instance.set_log_level(log_level_name(log_->level()));
  instance.set_connections(static_cast<uint32_t>(mine_.size()));
  instance.set_log_file(log_file_);
  instance.set_up(true);
  if (engine_ != nullptr) {
    const std::vector<ike::TunnelStatus> list = engine_->tunnels();
    instance.set_peers(peer_count(list));
    instance.set_ike_sas(static_cast<uint32_t>(engine_->ike_sa_count()));
    instance.set_half_open(static_cast<uint32_t>(engine_->half_open_count()));
    for (const ike::TunnelStatus& t : list) tunnel_to_proto(t, now_ms, tunnels.add_tunnels());
  }
  ipc::StatusReplyBody body;
  instance.SerializeToString(&body.instance);
  tunnels.SerializeToString(&body.tunnels);
  return {ipc::Type::kStatusReply, id, ipc::encode_status_reply(body)};
}

void Instance::handle(const ipc::Frame& frame, uint64_t now, ipc::Frame* reply, bool* has_reply) {
  *has_reply = false;
  auto result = [&](const Status& s) {
    *reply = {ipc::Type::kResult, frame.id, ipc::encode_result(s)};
    *has_reply = true;
  };
  auto bad = [&] { log_->warn("malformed message of type {} from the parent", static_cast<int>(frame.type)); };
  if (engine_ == nullptr && frame.type != ipc::Type::kConfig && frame.type != ipc::Type::kReload &&
      frame.type != ipc::Type::kStatus && frame.type != ipc::Type::kSetLevel) {
    if (frame.id != 0) result({StatusCode::kUnavailable, "instance not configured yet"});
    return;
  }
  switch (frame.type) {
    case ipc::Type::kConfig:
    case ipc::Type::kReload: {
      ipc::ConfigBody body;
      if (!ipc::decode_config(frame.body, &body)) return bad();
      std::string summary;
      Status s = configure(body, &summary);
      if (!s) log_->error("config: {}", s.message());
      // Parsing a config of 10 000s of connections leaves tens of MB of freed YAML nodes and
      // connections of other instances in the heap: give them back, so RSS is what we hold.
      release_free_memory();
      if (frame.type == ipc::Type::kReload) result(s.is_ok() ? Status(StatusCode::kOk, summary) : s);
      return;
    }
    case ipc::Type::kDatagram: {
      ike::Datagram d;
      if (!ipc::decode_datagram(frame.body, &d)) return bad();
      engine_->receive(d, now);
      return;
    }
    case ipc::Type::kAcquire: {
      ipc::AcquireBody body;
      if (!ipc::decode_acquire(frame.body, &body)) return bad();
      engine_->acquire(body.src, body.dst, now);
      return;
    }
    case ipc::Type::kExpire: {
      ipc::ExpireBody body;
      if (!ipc::decode_expire(frame.body, &body)) return bad();
      engine_->child_expired(body.spi, body.hard, now);
      return;
    }
    case ipc::Type::kStatus:
      *reply = status_reply(frame.id, now);
      *has_reply = true;
      return;
    case ipc::Type::kSetLevel: {
      ipc::SetLevelBody body;
      if (!ipc::decode_set_level(frame.body, &body)) return bad();
      const auto level = parse_log_level(body.level);
      if (!level) return result({StatusCode::kInvalidArgument, "level: unknown level '" + body.level + "'"});
      const std::string previous = log_level_name(log_->level());
      if (body.truncate && !log_file_.empty()) open_instance_log_file(*log_, log_file_, true);
      log_->set_level(*level);
      log_->info("log level {} -> {}", previous, log_level_name(*level));
      return result({StatusCode::kOk, previous});
    }
    case ipc::Type::kInitiate: {
      ipc::InitiateBody body;
      if (!ipc::decode_initiate(frame.body, &body)) return bad();
      return result(engine_->initiate(body.connection, body.child, now));
    }
    case ipc::Type::kDeletePeer: {
      IpAddr peer;
      if (!ipc::decode_peer(frame.body, &peer)) return bad();
      return result(engine_->delete_peer(peer, now));
    }
    case ipc::Type::kStatusReply:
    case ipc::Type::kResult:
      return bad();  // replies only go the other way
  }
}

void Instance::tick(uint64_t now_ms) {
  if (engine_ != nullptr) engine_->tick(now_ms);
}

uint64_t Instance::next_timer_ms() const {
  return engine_ != nullptr ? engine_->next_timer_ms() : UINT64_MAX;
}

int run_instance(const InstanceOptions& options) {
  auto log = make_instance_logger(options.index, options.level);
  ipc::set_nonblocking(options.fd);
  Instance instance(options, log);
  std::vector<pollfd> fds{{options.fd, POLLIN, 0}};
  for (int fd : instance.udp_fds()) fds.push_back({fd, POLLIN, 0});
  for (;;) {
    uint64_t now = monotonic_ms();
    const uint64_t next = instance.next_timer_ms();
    const int timeout = next <= now ? 0 : static_cast<int>(std::min<uint64_t>(next - now, kMaxPollMs));
    if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      log->error("poll: {}", strerror(errno));
      return 1;
    }
    while (fds[0].revents != 0) {
      ipc::Frame frame;
      const ipc::ReadResult r = ipc::read_frame(options.fd, &frame);
      if (r == ipc::ReadResult::kNone) break;
      if (r == ipc::ReadResult::kClosed) {
        log->info("the parent closed our channel: exiting");
        return 0;
      }
      if (r == ipc::ReadResult::kBad) {
        log->warn("unreadable message from the parent");
        continue;
      }
      ipc::Frame reply;
      bool has_reply = false;
      instance.handle(frame, monotonic_ms(), &reply, &has_reply);
      if (has_reply) {
        if (Status s = ipc::send_frame(options.fd, reply, kReplyTimeoutMs); !s) log->warn("reply lost: {}", s.message());
      }
    }
    // After the parent's messages: a restarted instance has its config before the datagrams that
    // waited in its sockets.
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents != 0) instance.on_udp_readable(fds[i].fd, monotonic_ms());
    }
    now = monotonic_ms();
    if (instance.next_timer_ms() <= now) instance.tick(now);
  }
}

}  // namespace dpvpn::controld
