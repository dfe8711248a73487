// IkeEngine: dispatch of received messages to their IKE SA and exchange, the timers (rekeys, DPD,
// retransmissions, half-open expiry), operator actions and status.
#include "ike/engine/ike_engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <tuple>

#include "ike/engine/engine_state.hpp"
#include "ike/engine/wire_convert.hpp"

namespace dpvpn::ike {

using namespace engine_internal;

namespace {
constexpr uint64_t kCookieRotationMs = 120'000;

std::vector<SharedConnection> shared(std::vector<ConnectionConfig> connections, spdlog::logger& log) {
  std::vector<SharedConnection> out;
  out.reserve(connections.size());
  for (ConnectionConfig& c : connections) out.push_back(std::make_shared<const Connection>(std::move(c), log));
  return out;
}

// Proposals as configured; controld validated them when it loaded the file, so an error here is a bug
// to log (the exchange then finds no proposal), not a reason to refuse the config.
std::vector<Proposal> parsed(Protocol protocol, const std::vector<std::string>& text, const std::string& what,
                             spdlog::logger& log) {
  std::vector<Proposal> out;
  if (Status s = parse_proposals(protocol, text, &out); !s) log.error("{}: {}", what, s.message());
  return out;
}
}  // namespace

namespace engine_internal {

Connection::Connection(ConnectionConfig config, spdlog::logger& log) : ConnectionConfig(std::move(config)) {
  ike_proposals = parsed(Protocol::kIke, proposals, "connection '" + name + "'", log);
  for (const ChildConfig& child : children) {
    ChildPlan plan;
    plan.esp = parsed(Protocol::kEsp, child.esp_proposals, "child '" + child.name + "'", log);
    plan.esp_no_dh = without_dh(plan.esp);
    plan.local_ts = config_selectors(child.local_ts, local);
    plan.remote_ts = config_selectors(child.remote_ts, remote);
    child_plans.push_back(std::move(plan));
  }
}

const ChildPlan& Connection::plan(const ChildConfig& child) const {
  for (size_t i = 0; i < children.size(); ++i) {  // a connection has a handful of children
    if (&children[i] == &child) return child_plans[i];
  }
  static const ChildPlan kNone;  // not ours: no proposal, no selector (the exchange refuses)
  return kNone;
}

EngineState::EngineState(EngineOptions options, std::vector<ConnectionConfig> connections, PacketSender& sender,
                         SaInstaller& installer, std::shared_ptr<spdlog::logger> log)
    : options_(options), sender_(sender), installer_(installer), log_(std::move(log)) {
  connections_ = shared(std::move(connections), *log_);
  if (Status s = CookieGenerator::create(&cookies_); !s) log_->error("cookies unavailable: {}", s.message());
  index_connections();
  for (const auto& shared_conn : connections_) {
    const Connection& conn = *shared_conn;
    for (const ChildConfig& child : conn.children) {
      if (child.start_action == controld::StartAction::kOnDemand) trap(conn, child);
    }
  }
}

void EngineState::trap(const Connection& conn, const ChildConfig& child) {
  ChildSaHalf outbound;
  outbound.local = conn.local;
  outbound.remote = conn.remote;
  outbound.local_ts = conn.plan(child).local_ts;
  outbound.remote_ts = conn.plan(child).remote_ts;
  if (Status s = installer_.install_trap(conn.name, child.name, outbound); !s) {
    log_->warn("connection '{}' child '{}': no trap policy for on-demand start: {}", conn.name, child.name, s.message());
  }
}

void EngineState::index_connections() {
  connection_by_addresses_.clear();
  connection_by_name_.clear();
  for (size_t i = 0; i < connections_.size(); ++i) {
    connection_by_addresses_.emplace(std::pair{connections_[i]->local, connections_[i]->remote}, i);
    connection_by_name_.emplace(connections_[i]->name, i);
  }
}

void EngineState::receive(const Datagram& d, uint64_t now) {
  Message m;
  const ParseResult parsed = parse_message(d.bytes, &m);
  if (!parsed.ok()) {
    IKE_LOG(log_, debug, "malformed IKE message from {}: {}", d.remote.address.to_string(), parsed.to_string());
    // RFC 7296 §2.21.1: an IKE_SA_INIT request gets the error unprotected; anything else is dropped
    // (without keys nothing else can be answered, and an unauthenticated error must not kill an SA).
    const std::optional<Header> h = peek_header(d.bytes);
    if (h && h->exchange_type == ExchangeType::kIkeSaInit && !h->response() && h->initiator() && h->message_id == 0) {
      Message reply;
      reply.header = *h;
      reply.header.major_version = kIkeMajorVersion;
      reply.header.minor_version = 0;
      reply.header.flags = kFlagResponse;
      std::vector<uint8_t> data;
      if (parsed.error == ParseError::kUnsupportedCriticalPayload) data = {static_cast<uint8_t>(parsed.payload_type)};
      reply.payloads = {notify(parsed.notify_type(), std::move(data))};
      send_plain(d.local, d.remote, reply);
    }
    return;
  }
  const Header& h = m.header;
  if (h.exchange_type == ExchangeType::kIkeSaInit) {
    if (!h.response() && h.initiator() && h.message_id == 0 && spi_value(h.responder_spi) == 0) {
      return on_init_request(d, m, now);
    }
    IkeSa* sa = h.response() ? find_sa(spi_value(h.initiator_spi)) : nullptr;
    if (sa != nullptr && sa->initiator && sa->state == IkeState::kInitSent) {
      on_init_response(*sa, d, m, now);
      reschedule(*sa);
    }
    return;
  }
  // The I flag says the sender is the original initiator: then our SPI is the responder's.
  IkeSa* sa = find_sa(h.initiator() ? spi_value(h.responder_spi) : spi_value(h.initiator_spi));
  if (sa == nullptr || sa->spi_i != spi_value(h.initiator_spi) || sa->spi_r != spi_value(h.responder_spi) ||
      h.initiator() == sa->initiator) {
    IKE_LOG(log_, debug, "message for an unknown IKE SA from {} dropped", d.remote.address.to_string());
    return;
  }
  if (h.response()) {
    if (!sa->pending || sa->pending->message_id != h.message_id) return;
    const std::optional<std::vector<Payload>> inner = unprotect(*sa, d, m);
    if (!inner) return;
    sa->last_heard_ms = now;
    switch (sa->pending->kind) {
      case RequestKind::kAuth: on_auth_response(*sa, *inner, now); break;
      case RequestKind::kNewChild:
      case RequestKind::kRekeyChild:
      case RequestKind::kRekeyIke: on_create_child_response(*sa, *inner, now); break;
      case RequestKind::kDeleteChild:
      case RequestKind::kDeleteIke:
      case RequestKind::kDpd: on_informational_response(*sa, *inner, now); break;
      case RequestKind::kInit: break;
    }
    if (sa->state != IkeState::kDead) window_freed(*sa, now);
    reschedule(*sa);
    return;
  }
  if (sa->last_response_id && h.message_id == *sa->last_response_id) {
    for (const auto& bytes : sa->last_response) sender_.send({sa->local, sa->remote, bytes});  // a retransmission
    return;
  }
  if (h.message_id != sa->next_peer_request_id) return;
  std::optional<ParseResult> syntax_error;
  const std::optional<std::vector<Payload>> inner = unprotect(*sa, d, m, &syntax_error);
  if (syntax_error) {
    // §2.21.2: an authentic request that does not parse is answered with the error; before the
    // IKE SA is established that ends it.
    ++sa->next_peer_request_id;
    std::vector<uint8_t> data;
    if (syntax_error->error == ParseError::kUnsupportedCriticalPayload) data = {static_cast<uint8_t>(syntax_error->payload_type)};
    send_response(*sa, h.exchange_type, h.message_id, {notify(syntax_error->notify_type(), std::move(data))});
    if (sa->state != IkeState::kEstablished) forget(*sa, "syntax error in a protected request");
    reschedule(*sa);
    return;
  }
  if (!inner) return;
  ++sa->next_peer_request_id;
  sa->last_heard_ms = now;
  if (d.local.port == 4500 || sa->natt()) {  // follow the peer's NAT mapping (RFC 7296 §2.23)
    sa->local = d.local;
    sa->remote = d.remote;
  }
  switch (h.exchange_type) {
    case ExchangeType::kIkeAuth: on_auth_request(*sa, h.message_id, *inner, now); break;
    case ExchangeType::kCreateChildSa: on_create_child_request(*sa, h.message_id, *inner, now); break;
    case ExchangeType::kInformational: on_informational_request(*sa, h.message_id, *inner, now); break;
    default: break;
  }
  reschedule(*sa);
}

void EngineState::tick(uint64_t now) {
  if (cookies_ && now >= cookie_rotated_ms_ + kCookieRotationMs) {
    (void)cookies_->rotate();
    cookie_rotated_ms_ = now;
  }
  while (!timers_.empty() && timers_.top().first <= now) {
    const auto [deadline, spi] = timers_.top();
    timers_.pop();
    auto it = sas_.find(spi);
    if (it == sas_.end() || it->second->scheduled_ms != deadline) continue;  // stale
    IkeSa& sa = *it->second;
    sa.scheduled_ms = 0;
    run_timers(sa, now);
    if (sa.state == IkeState::kDead) {
      erase_sa(spi);
    } else {
      reschedule(sa);
    }
  }
}

// Behind a NAT, the mapping must not expire between our packets (RFC 3948 §4); 0 = none due.
uint64_t EngineState::keepalive_due(const IkeSa& sa) const {
  if (options_.nat_keepalive_ms == 0 || !sa.nat_here || sa.state != IkeState::kEstablished) return 0;
  return std::max(sa.established_ms, sa.last_keepalive_ms) + options_.nat_keepalive_ms;
}

void EngineState::run_timers(IkeSa& sa, uint64_t now) {
  if (const uint64_t due = keepalive_due(sa); due != 0 && now >= due) {
    sender_.send({sa.local, sa.remote, {kNatKeepalive}});
    sa.last_keepalive_ms = now;
  }
  retransmit_due(sa, now);
  if (sa.state == IkeState::kHalfOpen && now >= sa.created_ms + kHalfOpenTimeoutMs) forget(sa, "half-open too long");
  if (sa.delete_at_ms != 0 && now >= sa.delete_at_ms) forget(sa, "deletion timed out");
  if (sa.state != IkeState::kEstablished) return;
  for (auto c = sa.children.begin(); c != sa.children.end();) {
    if (c->delete_at_ms != 0 && now >= c->delete_at_ms) {
      remove_child_sas(sa, *c);
      c = sa.children.erase(c);
      continue;
    }
    if (c->rekey_at_ms != 0 && now >= c->rekey_at_ms && !c->rekeying && c->delete_at_ms == 0) {
      c->rekey_at_ms = 0;
      const uint32_t spi = c->pair.inbound.spi;
      when_window_free(sa, [this, &sa, spi](uint64_t t) { rekey_child(sa, spi, t); }, now);
      break;  // the vector may have grown; the next tick sees the rest
    }
    ++c;
  }
  if (sa.rekey_at_ms != 0 && now >= sa.rekey_at_ms) {
    sa.rekey_at_ms = 0;
    when_window_free(sa, [this, &sa](uint64_t t) { rekey_ike(sa, t); }, now);
  }
  if (sa.conn->dpd_delay != 0 && !sa.pending && sa.queued.empty() && now >= sa.last_heard_ms + sa.conn->dpd_delay * 1000) {
    sa.last_heard_ms = now;  // one check per period; retransmissions decide
    send_dpd(sa, now);
  }
}

uint64_t EngineState::next_timer() const {
  const uint64_t cookie = cookie_rotated_ms_ + kCookieRotationMs;
  return timers_.empty() ? cookie : std::min(cookie, timers_.top().first);
}

uint64_t EngineState::deadline_of(const IkeSa& sa) const {
  if (sa.state == IkeState::kDead) return 1;  // erased at the next tick
  uint64_t next = UINT64_MAX;
  const auto consider = [&](uint64_t t) {
    if (t != 0) next = std::min(next, t);
  };
  if (sa.pending) consider(sa.pending->next_send_ms);
  if (sa.state == IkeState::kHalfOpen) consider(sa.created_ms + kHalfOpenTimeoutMs);
  consider(sa.delete_at_ms);
  if (sa.state == IkeState::kEstablished) {
    consider(keepalive_due(sa));
    consider(sa.rekey_at_ms);
    if (sa.conn->dpd_delay != 0) consider(sa.last_heard_ms + sa.conn->dpd_delay * 1000);
    for (const ChildSa& c : sa.children) {
      consider(c.rekey_at_ms);
      consider(c.delete_at_ms);
    }
  }
  return next == UINT64_MAX ? 0 : next;
}

void EngineState::reschedule(IkeSa& sa) {
  const uint64_t deadline = deadline_of(sa);
  if (deadline == 0 || (sa.scheduled_ms != 0 && sa.scheduled_ms <= deadline)) return;  // the entry we have fires first
  timers_.push({deadline, sa.our_spi()});
  sa.scheduled_ms = deadline;
  if (timers_.size() > 2 * sas_.size() + 1024) compact_timers();
}

void EngineState::compact_timers() {
  std::vector<TimerEntry> current;
  current.reserve(sas_.size());
  for (const auto& [spi, sa] : sas_) {
    if (sa->scheduled_ms != 0) current.push_back({sa->scheduled_ms, spi});
  }
  timers_ = decltype(timers_)(std::greater<>(), std::move(current));
}

IkeSa& EngineState::add_sa(std::unique_ptr<IkeSa> sa) {
  const uint64_t spi = sa->our_spi();
  IkeSa& ref = *sa;
  if (!ref.initiator) responder_by_initiator_[{ref.remote.address, ref.spi_i}] = spi;
  sas_by_connection_.emplace(ref.conn->name, spi);
  sas_[spi] = std::move(sa);
  reschedule(ref);
  return ref;
}

void EngineState::erase_sa(uint64_t spi) {
  auto it = sas_.find(spi);
  if (it == sas_.end()) return;
  IkeSa& sa = *it->second;
  if (!sa.initiator) {
    auto r = responder_by_initiator_.find({sa.remote.address, sa.spi_i});
    if (r != responder_by_initiator_.end() && r->second == spi) responder_by_initiator_.erase(r);
  }
  for (auto [c, end] = sas_by_connection_.equal_range(sa.conn->name); c != end; ++c) {
    if (c->second == spi) {
      sas_by_connection_.erase(c);
      break;
    }
  }
  sas_.erase(it);
}

Status EngineState::initiate(const std::string& connection, const std::string& child, uint64_t now) {
  const SharedConnection conn = find_connection(connection);
  if (conn == nullptr) return {StatusCode::kNotFound, "no connection '" + connection + "'"};
  if (!child.empty() && child_config(*conn, child) == nullptr) {
    return {StatusCode::kNotFound, "connection '" + connection + "' has no child '" + child + "'"};
  }
  for (auto [it, end] = sas_by_connection_.equal_range(connection); it != end; ++it) {
    IkeSa* sa = find_sa(it->second);
    if (sa == nullptr || sa->state == IkeState::kDeleting) continue;
    if (sa->state != IkeState::kEstablished) return Status::ok();  // being set up: its children come with it
    for (const ChildConfig& c : conn->children) {
      if (!child.empty() && c.name != child) continue;
      const bool up = std::any_of(sa->children.begin(), sa->children.end(),
                                  [&](const ChildSa& x) { return x.config->name == c.name && x.delete_at_ms == 0; });
      if (!up) {
        IkeSa* target = sa;
        const std::string name = c.name;
        when_window_free(*target, [this, target, name](uint64_t t) { create_child(*target, name, t); }, now);
      }
    }
    return Status::ok();
  }
  return start_ike_sa(conn, child, now);
}

void EngineState::acquire(const IpAddr& src, const IpAddr& dst, uint64_t now) {
  for (const auto& shared_conn : connections_) {
    const Connection& conn = *shared_conn;
    for (const ChildConfig& c : conn.children) {
      if (c.start_action != controld::StartAction::kOnDemand) continue;
      const std::vector<SelectorRange>& local = conn.plan(c).local_ts;
      const std::vector<SelectorRange>& remote = conn.plan(c).remote_ts;
      const auto covers = [](const std::vector<SelectorRange>& ranges, const IpAddr& a) {
        return std::any_of(ranges.begin(), ranges.end(), [&](const SelectorRange& r) { return !(a < r.start) && !(r.end < a); });
      };
      if (covers(local, src) && covers(remote, dst)) {
        IKE_LOG(log_, info, "acquire {} -> {}: starting '{}' child '{}'", src.to_string(), dst.to_string(), conn.name, c.name);
        (void)initiate(conn.name, c.name, now);
        return;
      }
    }
  }
}

void EngineState::child_expired(uint32_t spi, bool hard, uint64_t now) {
  for (auto& [our, sa] : sas_) {
    for (ChildSa& c : sa->children) {
      if (c.pair.inbound.spi != spi && c.pair.outbound.spi != spi) continue;
      if (hard) {
        const uint32_t inbound = c.pair.inbound.spi;
        IkeSa* target = sa.get();
        when_window_free(*target, [this, target, inbound](uint64_t t) { delete_child(*target, inbound, t); }, now);
      } else if (!c.rekeying && c.delete_at_ms == 0) {
        c.rekey_at_ms = now;  // tick() starts it
      }
      reschedule(*sa);
      return;
    }
  }
}

Status EngineState::delete_peer(const IpAddr& peer, uint64_t now) {
  bool any = false;
  for (auto& [spi, sa] : sas_) {
    if (sa->remote.address != peer || sa->state == IkeState::kDead) continue;
    any = true;
    delete_ike(*sa, now);
  }
  return any ? Status::ok() : Status{StatusCode::kNotFound, "no IKE SA with " + peer.to_string()};
}

void EngineState::reload(std::vector<ConnectionConfig> connections, uint64_t now) {
  std::vector<std::string> changed;
  for (auto& [spi, sa] : sas_) {
    reschedule(*sa);
    const auto same = std::find(connections.begin(), connections.end(), *sa->conn);
    if (same == connections.end()) {
      changed.push_back(sa->conn->name);
      delete_ike(*sa, now);
    }
  }
  std::vector<SharedConnection> old = std::move(connections_);
  connections_ = shared(std::move(connections), *log_);
  index_connections();
  credentials_.clear();
  for (const auto& shared_conn : connections_) {
    const Connection& conn = *shared_conn;
    const bool unchanged =
        std::any_of(old.begin(), old.end(), [&](const auto& o) { return *o == conn; });
    if (unchanged) continue;
    for (const ChildConfig& c : conn.children) {
      if (c.start_action == controld::StartAction::kStart) (void)initiate(conn.name, c.name, now);
      if (c.start_action == controld::StartAction::kOnDemand) trap(conn, c);
    }
  }
}

std::vector<TunnelStatus> EngineState::tunnels() const {
  std::vector<TunnelStatus> out;
  for (const auto& [spi, sa] : sas_) {
    if (sa->state == IkeState::kDead) continue;
    TunnelStatus t;
    t.connection = sa->conn->name;
    t.local = sa->local;
    t.remote = sa->remote;
    t.spi_i = sa->spi_i;
    t.spi_r = sa->spi_r;
    t.initiator = sa->initiator;
    t.state = state_name(sa->state);
    t.instance = options_.instance;
    t.established_ms = sa->established_ms;
    if (sa->suite.encr != 0) t.suite = suite_name(sa->suite);
    for (const ChildSa& c : sa->children) {
      if (c.delete_at_ms != 0) continue;
      ChildStatus cs;
      cs.name = c.config->name;
      cs.spi_in = c.pair.inbound.spi;
      cs.spi_out = c.pair.outbound.spi;
      cs.local_ts = c.local_ts;
      cs.remote_ts = c.remote_ts;
      cs.established_ms = c.established_ms;
      cs.suite = c.suite;
      t.children.push_back(std::move(cs));
    }
    out.push_back(std::move(t));
  }
  // sas_ is hashed: list in a stable order (by connection, then initiator SPI).
  std::sort(out.begin(), out.end(), [](const TunnelStatus& a, const TunnelStatus& b) {
    return std::tie(a.connection, a.spi_i) < std::tie(b.connection, b.spi_i);
  });
  return out;
}

SharedConnection EngineState::find_connection(const IpAddr& local, const IpAddr& remote) const {
  const auto it = connection_by_addresses_.find({local, remote});
  return it == connection_by_addresses_.end() ? nullptr : connections_[it->second];
}

SharedConnection EngineState::find_connection(const std::string& name) const {
  const auto it = connection_by_name_.find(name);
  return it == connection_by_name_.end() ? nullptr : connections_[it->second];
}

IkeSa* EngineState::find_sa(uint64_t our_spi) {
  auto it = sas_.find(our_spi);
  return it == sas_.end() || it->second->state == IkeState::kDead ? nullptr : it->second.get();
}

const ChildConfig* EngineState::child_config(const ConnectionConfig& conn, const std::string& name) const {
  for (const ChildConfig& c : conn.children) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace engine_internal

// ---- the public face -------------------------------------------------------------------------

IkeEngine::IkeEngine(EngineOptions options, std::vector<controld::ConnectionConfig> connections, PacketSender& sender,
                     SaInstaller& installer, std::shared_ptr<spdlog::logger> log)
    : state_(std::make_unique<EngineState>(options, std::move(connections), sender, installer, std::move(log))) {}
IkeEngine::~IkeEngine() = default;

void IkeEngine::receive(const Datagram& datagram, uint64_t now_ms) {
  state_->receive(datagram, now_ms);
}
void IkeEngine::tick(uint64_t now_ms) { state_->tick(now_ms); }
uint64_t IkeEngine::next_timer_ms() const { return state_->next_timer(); }
Status IkeEngine::initiate(const std::string& connection, const std::string& child, uint64_t now_ms) {
  return state_->initiate(connection, child, now_ms);
}
void IkeEngine::acquire(const IpAddr& src, const IpAddr& dst, uint64_t now_ms) {
  state_->acquire(src, dst, now_ms);
}
void IkeEngine::child_expired(uint32_t spi, bool hard, uint64_t now_ms) {
  state_->child_expired(spi, hard, now_ms);
}
Status IkeEngine::delete_peer(const IpAddr& peer, uint64_t now_ms) {
  return state_->delete_peer(peer, now_ms);
}
void IkeEngine::reload(std::vector<controld::ConnectionConfig> connections, uint64_t now_ms) {
  state_->reload(std::move(connections), now_ms);
}
std::vector<TunnelStatus> IkeEngine::tunnels() const { return state_->tunnels(); }
size_t IkeEngine::ike_sa_count() const { return state_->ike_sa_count(); }
size_t IkeEngine::half_open_count() const { return state_->half_open_count(); }

}  // namespace dpvpn::ike
