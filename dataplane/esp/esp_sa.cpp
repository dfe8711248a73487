#include "esp/esp_sa.hpp"

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "esp/replay_window.hpp"
#include "net/ip_checksum.hpp"

namespace dpvpn::dataplane {

void secure_zero(void* p, size_t n) {
  if (n != 0) explicit_bzero(p, n);  // an empty vector's data() may be null
}

namespace {

Status invalid(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// Outer IP (+ UDP) header with every per-packet field (lengths, id, checksums) zero.
Addr128 addr128(const IpAddr& a) {
  Addr128 v = 0;
  for (uint8_t b : a.bytes) v = v << 8 | b;
  return v;
}

SelectorRange selector_range(const TrafficSelector& ts) {
  return {addr128(ts.start), addr128(ts.end), ts.port_lo, ts.port_hi, ts.protocol};
}

// One side's ranges: a single selector in the object's own slot, several in `more`.
std::span<const SelectorRange> side_ranges(const std::vector<TrafficSelector>& list, SelectorRange* inline_slot,
                                           std::vector<SelectorRange>* more) {
  if (list.size() == 1) {
    *inline_slot = selector_range(list[0]);
    return {inline_slot, 1};
  }
  more->reserve(list.size());
  for (const TrafficSelector& ts : list) more->push_back(selector_range(ts));
  return *more;
}

// One side as an IPv4 window (EspSaSelectors::v4_windows): no selector (any address), or one of any
// protocol and port whose range holds IPv4 addresses (::ffff:0.0.0.0/96, clamped to it).
bool v4_window(std::span<const SelectorRange> ranges, uint32_t* start, uint32_t* span) {
  if (ranges.empty()) {
    *start = 0;
    *span = UINT32_MAX;
    return true;
  }
  if (ranges.size() != 1) return false;
  const SelectorRange& r = ranges[0];
  if (r.protocol != 0 || r.port_lo != 0 || r.port_hi != 65535) return false;
  constexpr Addr128 kV4First = Addr128{0xffff} << 32;
  constexpr Addr128 kV4Last = kV4First | 0xffffffffu;
  const Addr128 first = std::max(r.start, kV4First);
  const Addr128 last = std::min(r.end, kV4Last);
  if (first > last) return false;  // no IPv4 address: the ranges say so
  *start = static_cast<uint32_t>(first);
  *span = static_cast<uint32_t>(last - first);
  return true;
}

uint8_t build_outer_template(const SaParams& p, uint8_t* t) {
  const bool v6 = !p.local.is_v4();
  const uint8_t proto = p.natt ? 17 : 50;
  uint8_t len;
  if (!v6) {
    t[0] = 0x45;  // version 4, IHL 5
    t[8] = 64;    // TTL
    t[9] = proto;
    std::memcpy(t + 12, p.local.bytes.data() + 12, 4);
    std::memcpy(t + 16, p.remote.bytes.data() + 12, 4);
    len = 20;
  } else {
    t[0] = 0x60;
    t[6] = proto;
    t[7] = 64;  // hop limit
    std::memcpy(t + 8, p.local.bytes.data(), 16);
    std::memcpy(t + 24, p.remote.bytes.data(), 16);
    len = 40;
  }
  if (p.natt) {
    put16(t + len, p.natt_local_port);
    put16(t + len + 2, p.natt_remote_port);
    len += 8;
  }
  return len;
}

}  // namespace

Status validate_lifetime(const SaLifetime& lt) {
  if (lt.soft_bytes && lt.hard_bytes && lt.soft_bytes > lt.hard_bytes) {
    return invalid("lifetime.soft_bytes: above lifetime.hard_bytes");
  }
  if (lt.soft_packets && lt.hard_packets && lt.soft_packets > lt.hard_packets) {
    return invalid("lifetime.soft_packets: above lifetime.hard_packets");
  }
  if (lt.soft_seconds && lt.hard_seconds && lt.soft_seconds > lt.hard_seconds) {
    return invalid("lifetime.soft_seconds: above lifetime.hard_seconds");
  }
  return Status::ok();
}

Status create_esp_sa(const SaParams& params, const CryptoEngine& engine, const EspSaOptions& options,
                     std::unique_ptr<EspSa>* out) {
  if (params.spi == 0) return invalid("spi: must not be 0");
  if (params.key.size() != expected_key_size(params.algorithm)) {
    return invalid("key: " + std::string(algorithm_name(params.algorithm)) + " needs " +
                   std::to_string(expected_key_size(params.algorithm)) + " bytes, got " +
                   std::to_string(params.key.size()));
  }
  if (params.auth_key.size() != expected_auth_key_size(params.algorithm)) {
    return invalid("auth_key: " + std::string(algorithm_name(params.algorithm)) + " needs " +
                   std::to_string(expected_auth_key_size(params.algorithm)) + " bytes, got " +
                   std::to_string(params.auth_key.size()));
  }
  if (params.local.is_v4() != params.remote.is_v4()) {
    return invalid("local/remote: tunnel endpoints must be the same address family");
  }
  const bool inbound = params.direction == SaDirection::kInbound;
  if (inbound && (params.replay_window < 64 || params.replay_window > 4096 ||
                  params.replay_window % 64 != 0)) {
    return invalid("replay_window: must be 64..4096 and a multiple of 64, got " +
                   std::to_string(params.replay_window));
  }
  if (params.natt && (params.natt_local_port == 0 || params.natt_remote_port == 0)) {
    return invalid("natt_local_port/natt_remote_port: must not be 0 with natt");
  }
  const uint64_t max_seq = params.esn ? kMaxSeqEsn : kMaxSeq32;
  if (!inbound && (options.first_seq == 0 || options.first_seq > max_seq)) {
    return invalid("first_seq: must be 1.." + std::to_string(max_seq));
  }
  if (Status s = validate_lifetime(params.lifetime); !s) return s;

  std::unique_ptr<EspSa> sa(new (std::nothrow) EspSa());
  if (!sa) return {StatusCode::kResourceExhausted, "esp sa: out of memory"};
  if (options.key_storage != nullptr) {
    sa->keys_ = options.key_storage;
  } else {
    sa->keys_ = new (std::nothrow) EspKeyBlock;
    if (sa->keys_ == nullptr) return {StatusCode::kResourceExhausted, "esp sa: out of memory"};
    sa->owns_keys_ = true;
  }
  secure_zero(sa->keys_, sizeof(EspKeyBlock));
  if (Status s = engine.prepare_keys(params, sa->keys_); !s.is_ok()) return s;
  sa->engine_ = &engine;  // from here on, destroying the SA releases what the engine prepared
  sa->hot_.key_lines = engine.hot_key_lines(params) & ((1ull << (sizeof(EspKeyBlock) / 64)) - 1);

  // The cold copy keeps no key bytes.
  sa->params_ = params;
  secure_zero(sa->params_.key.data(), sa->params_.key.size());
  secure_zero(sa->params_.auth_key.data(), sa->params_.auth_key.size());
  sa->params_.key.clear();
  sa->params_.key.shrink_to_fit();
  sa->params_.auth_key.clear();
  sa->params_.auth_key.shrink_to_fit();

  const bool cbc = !is_aead(params.algorithm);
  EspSaHot& hot = sa->hot_;
  hot.spi = params.spi;
  hot.algorithm = params.algorithm;
  hot.flags = static_cast<uint8_t>((params.esn ? esp_flags::kEsn : 0) |
                                   (params.natt ? esp_flags::kNatt : 0) |
                                   (params.local.is_v4() ? 0 : esp_flags::kOuterV6) |
                                   (inbound ? esp_flags::kInbound : 0) | (cbc ? esp_flags::kCbc : 0));
  hot.iv_len = cbc ? 16 : 8;
  hot.block_size = cbc ? 16 : 4;
  hot.keys = sa->keys_;
  sa->usage_.next_seq.store(inbound ? 0 : options.first_seq, std::memory_order_relaxed);
  if (inbound) {
    sa->replay_.reset(new (std::nothrow) ReplayWindow(params.replay_window, params.esn));
    if (!sa->replay_) return {StatusCode::kResourceExhausted, "esp sa: out of memory"};
    hot.replay = sa->replay_.get();
    hot.outer_template = nullptr;
  } else {
    hot.replay = nullptr;
    hot.outer_len = build_outer_template(params, sa->outer_template_);
    hot.outer_template = sa->outer_template_;
    hot.outer_sum = ipv4_header_sum20(sa->outer_template_);  // meaningful for an IPv4 outer header only
  }
  sa->created_seconds_ = options.now_seconds;
  std::unique_ptr<const EspSaSelectors> unused;
  if (Status s = sa->update(params.lifetime, params.local_ts, params.remote_ts, &unused); !s) return s;
  *out = std::move(sa);
  return Status::ok();
}

EspSaSelectors::EspSaSelectors(std::vector<TrafficSelector> local_ts, std::vector<TrafficSelector> remote_ts)
    : local(std::move(local_ts)), remote(std::move(remote_ts)) {
  remote_ranges = side_ranges(remote, &remote_inline, &remote_more);
  local_ranges = side_ranges(local, &local_inline, &local_more);
  v4_windows = v4_window(remote_ranges, &remote_v4_start, &remote_v4_span) &&
               v4_window(local_ranges, &local_v4_start, &local_v4_span);
}

Status EspSa::update(const SaLifetime& lt, std::vector<TrafficSelector> local_ts,
                     std::vector<TrafficSelector> remote_ts, std::unique_ptr<const EspSaSelectors>* retired) {
  if (Status s = validate_lifetime(lt); !s) return s;
  std::unique_ptr<EspSaSelectors> next(new (std::nothrow) EspSaSelectors(local_ts, remote_ts));
  if (!next) return {StatusCode::kResourceExhausted, "esp sa: out of memory"};
  usage_.limits.soft_packets.store(lt.soft_packets, std::memory_order_relaxed);
  usage_.limits.hard_packets.store(lt.hard_packets, std::memory_order_relaxed);
  usage_.limits.soft_bytes.store(lt.soft_bytes, std::memory_order_relaxed);
  usage_.limits.hard_bytes.store(lt.hard_bytes, std::memory_order_relaxed);
  soft_seconds_ = lt.soft_seconds;
  hard_seconds_ = lt.hard_seconds;
  params_.lifetime = lt;
  params_.local_ts = std::move(local_ts);
  params_.remote_ts = std::move(remote_ts);
  hot_.selectors.store(next.get(), std::memory_order_release);
  *retired = std::move(selectors_owner_);
  selectors_owner_ = std::move(next);
  return Status::ok();
}

EspSa::~EspSa() {
  if (keys_ != nullptr && engine_ != nullptr) engine_->release_keys(keys_);
  if (keys_ != nullptr) {
    secure_zero(keys_, sizeof(EspKeyBlock));
    if (owns_keys_) delete keys_;
  }
  hot_.keys = nullptr;
}

void EspSa::raise_once(uint32_t flag, uint32_t event) {
  const uint32_t before = hot_.state.fetch_or(flag, std::memory_order_relaxed);
  if (!(before & flag)) hot_.state.fetch_or(event, std::memory_order_relaxed);
}

EspSaCounters EspSa::counters() const {
  EspSaCounters c;
  c.packets = usage_.packets.load(std::memory_order_relaxed);
  c.bytes = usage_.bytes.load(std::memory_order_relaxed);
  c.replay_drops = drops_.replay.load(std::memory_order_relaxed);
  c.auth_failures = drops_.auth.load(std::memory_order_relaxed);
  c.ts_drops = drops_.ts.load(std::memory_order_relaxed);
  c.other_drops = drops_.other.load(std::memory_order_relaxed);
  return c;
}

bool EspSa::soft_expired() const {
  return (hot_.state.load(std::memory_order_relaxed) & esp_state::kSoftExpired) != 0;
}

void EspSa::check_time(uint64_t now_seconds) {
  const uint64_t age = now_seconds > created_seconds_ ? now_seconds - created_seconds_ : 0;
  if (soft_seconds_ != 0 && age >= soft_seconds_) raise_once(esp_state::kSoftExpired, esp_state::kSoftEvent);
  if (hard_seconds_ != 0 && age >= hard_seconds_) raise_once(esp_state::kHardExpired, esp_state::kHardEvent);
}

uint32_t EspSa::take_expiry_events() {
  constexpr uint32_t kEvents = esp_state::kSoftEvent | esp_state::kHardEvent;
  // Read first: housekeeping asks every SA each second, and a locked write would take the hot line
  // away from the workers reading it.
  if ((hot_.state.load(std::memory_order_relaxed) & kEvents) == 0) return 0;
  return hot_.state.fetch_and(~kEvents, std::memory_order_relaxed) & kEvents;
}

uint64_t EspSa::packet_budget() const {
  const uint64_t limit = usage_.limits.hard_packets.load(std::memory_order_relaxed);
  if (limit == 0) return ~0ull;
  const uint64_t used = usage_.packets.load(std::memory_order_relaxed);
  return used >= limit ? 0 : limit - used;
}

uint64_t EspSa::byte_budget() const {
  const uint64_t limit = usage_.limits.hard_bytes.load(std::memory_order_relaxed);
  if (limit == 0) return ~0ull;
  const uint64_t used = usage_.bytes.load(std::memory_order_relaxed);
  return used >= limit ? 0 : limit - used;
}

void EspSa::account(uint64_t packets, uint64_t bytes) {
  if (packets == 0) return;
  uint64_t p, b;
  if (hot_.inbound()) {
    // One writer, the lcore whose queue the SA's packets arrive on (its replay window relies on that
    // too): a plain add, stored whole for readers, without a locked instruction, which would wait for
    // every earlier store, most of them to lines still missing with many SAs.
    p = usage_.packets.load(std::memory_order_relaxed) + packets;
    b = usage_.bytes.load(std::memory_order_relaxed) + bytes;
    usage_.packets.store(p, std::memory_order_relaxed);
    usage_.bytes.store(b, std::memory_order_relaxed);
  } else {
    // Outbound SAs may be shared by lcores (like next_seq).
    p = usage_.packets.fetch_add(packets, std::memory_order_relaxed) + packets;
    b = usage_.bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  }
  const uint32_t state = hot_.state.load(std::memory_order_relaxed);
  const auto reached = [](const std::atomic<uint64_t>& limit, uint64_t used) {
    const uint64_t l = limit.load(std::memory_order_relaxed);
    return l != 0 && used >= l;
  };
  if (!(state & esp_state::kSoftExpired) && (reached(usage_.limits.soft_packets, p) || reached(usage_.limits.soft_bytes, b))) {
    raise_once(esp_state::kSoftExpired, esp_state::kSoftEvent);
  }
  if (!(state & esp_state::kHardExpired) && (reached(usage_.limits.hard_packets, p) || reached(usage_.limits.hard_bytes, b))) {
    raise_once(esp_state::kHardExpired, esp_state::kHardEvent);
  }
}

void EspSa::add_drops(uint32_t replay, uint32_t auth, uint32_t ts, uint32_t other) {
  if (replay) drops_.replay.fetch_add(replay, std::memory_order_relaxed);
  if (auth) drops_.auth.fetch_add(auth, std::memory_order_relaxed);
  if (ts) drops_.ts.fetch_add(ts, std::memory_order_relaxed);
  if (other) drops_.other.fetch_add(other, std::memory_order_relaxed);
}

}  // namespace dpvpn::dataplane
