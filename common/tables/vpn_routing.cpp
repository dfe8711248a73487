#include "tables/vpn_routing.hpp"

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>

#include <fmt/format.h>

#include <algorithm>

namespace dpvpn::tables {

namespace {
std::atomic<uint32_t> g_lpm_seq{0};
}  // namespace

Status VpnRouting::create(KernelTable& table, RcuDomain& rcu, std::unique_ptr<VpnRouting>* out) {
  if (table.spec().id != static_cast<uint32_t>(TableId::vpn_routing)) {
    return {StatusCode::kInvalidArgument, "VpnRouting needs the vpn_routing table"};
  }
  std::unique_ptr<VpnRouting> routing(new VpnRouting(table, rcu));
  if (Status s = routing->init(); !s) return s;
  table.set_index_hook([r = routing.get()](const void* key, uint32_t slot) {
    return r->on_index_change(*static_cast<const VpnRoutingKey*>(key), slot);
  });
  *out = std::move(routing);
  return Status::ok();
}

Status VpnRouting::init() {
  const std::string name = fmt::format("vpnr4_{}", g_lpm_seq.fetch_add(1));
  rte_lpm_config config{};
  config.max_rules = table_.capacity();
  config.number_tbl8s = std::clamp<uint32_t>(table_.capacity(), 256, 1u << 16);
  lpm4_ = rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &config);
  if (lpm4_ == nullptr) {
    return {StatusCode::kResourceExhausted, fmt::format("rte_lpm_create failed: {}", rte_strerror(rte_errno))};
  }
  rte_lpm_rcu_config rcu_config{};
  rcu_config.v = rcu_.qsbr();
  rcu_config.mode = RTE_LPM_QSBR_MODE_DQ;
  if (rte_lpm_rcu_qsbr_add(lpm4_, &rcu_config) != 0) {
    return {StatusCode::kInternal, fmt::format("rte_lpm_rcu_qsbr_add failed: {}", rte_strerror(rte_errno))};
  }
  return rebuild_v6({});
}

VpnRouting::~VpnRouting() {
  table_.set_index_hook(nullptr);
  rte_lpm_free(lpm4_);
  rte_lpm6_free(lpm6_.load());
  for (auto& [token, lpm] : old_lpm6_) rte_lpm6_free(lpm);
}

Status VpnRouting::validate(const VpnRoutingKey& key) {
  if (key.reserved != std::array<uint8_t, 3>{}) return {StatusCode::kInvalidArgument, "reserved bytes must be zero"};
  const bool v4 = key.prefix.is_v4();
  const unsigned max_len = v4 ? 32 : 128;
  if (key.prefix_len > max_len) {
    return {StatusCode::kInvalidArgument,
            fmt::format("prefix length {} is longer than {} for {}", key.prefix_len, max_len, key.prefix.to_string())};
  }
  const unsigned first_bit = (v4 ? 96 : 0) + key.prefix_len;  // bits after the prefix must be zero
  for (unsigned bit = first_bit; bit < 128; ++bit) {
    if (key.prefix.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return {StatusCode::kInvalidArgument,
              fmt::format("{}/{} has host bits set", key.prefix.to_string(), key.prefix_len)};
    }
  }
  return Status::ok();
}

Status VpnRouting::add(const VpnRoutingKey& key, const VpnRoutingValue& value) {
  if (Status s = validate(key); !s) return s;
  return table_.upsert(&key, &value);
}

Status VpnRouting::remove(const VpnRoutingKey& key) { return table_.remove(&key); }

Status VpnRouting::on_index_change(const VpnRoutingKey& key, uint32_t slot) {
  if (key.prefix.is_v4()) {
    const uint32_t ip = key.prefix.v4_host_order();
    if (key.prefix_len == 0) {  // rte_lpm depths are 1..32: the default route is kept beside it
      default_v4_.store(slot, std::memory_order_release);
      return Status::ok();
    }
    const int rc = slot == kNoSlot ? rte_lpm_delete(lpm4_, ip, key.prefix_len)
                                   : rte_lpm_add(lpm4_, ip, key.prefix_len, slot);
    if (rc < 0) {
      return {StatusCode::kResourceExhausted,
              fmt::format("IPv4 LPM refused {}/{}: {}", key.prefix.to_string(), key.prefix_len, rte_strerror(-rc))};
    }
    return Status::ok();
  }
  if (key.prefix_len == 0) {
    default_v6_.store(slot, std::memory_order_release);
    return Status::ok();
  }
  std::map<V6Prefix, uint32_t> next = v6_routes_;
  const V6Prefix prefix{key.prefix.bytes, key.prefix_len};
  if (slot == kNoSlot) next.erase(prefix);
  else next[prefix] = slot;
  if (Status s = rebuild_v6(next); !s) return s;
  v6_routes_ = std::move(next);
  return Status::ok();
}

Status VpnRouting::rebuild_v6(const std::map<V6Prefix, uint32_t>& routes) {
  reclaim();
  const std::string name = fmt::format("vpnr6_{}", g_lpm_seq.fetch_add(1));
  rte_lpm6_config config{};
  config.max_rules = table_.capacity();
  config.number_tbl8s = std::clamp<uint32_t>(static_cast<uint32_t>(routes.size()) * 14, 256, 1u << 16);
  rte_lpm6* fresh = rte_lpm6_create(name.c_str(), SOCKET_ID_ANY, &config);
  if (fresh == nullptr) {
    return {StatusCode::kResourceExhausted, fmt::format("rte_lpm6_create failed: {}", rte_strerror(rte_errno))};
  }
  for (const auto& [prefix, slot] : routes) {
    if (const int rc = rte_lpm6_add(fresh, prefix.first.data(), prefix.second, slot); rc < 0) {
      rte_lpm6_free(fresh);
      return {StatusCode::kResourceExhausted,
              fmt::format("IPv6 LPM refused a /{} route: {}", prefix.second, rte_strerror(-rc))};
    }
  }
  rte_lpm6* old = lpm6_.exchange(fresh, std::memory_order_acq_rel);
  if (old != nullptr) old_lpm6_.emplace_back(rte_rcu_qsbr_start(rcu_.qsbr()), old);
  return Status::ok();
}

void VpnRouting::reclaim() {
  std::erase_if(old_lpm6_, [&](const std::pair<uint64_t, rte_lpm6*>& retired) {
    if (rte_rcu_qsbr_check(rcu_.qsbr(), retired.first, false) != 1) return false;
    rte_lpm6_free(retired.second);
    return true;
  });
}

const VpnRoutingValue* VpnRouting::value_or_null(uint32_t slot) const {
  return slot == kNoSlot ? nullptr : static_cast<const VpnRoutingValue*>(table_.value_at(slot));
}

const VpnRoutingValue* VpnRouting::route_v4(uint32_t dst) const {
  uint32_t slot = 0;
  if (rte_lpm_lookup(lpm4_, dst, &slot) != 0) return value_or_null(default_v4_.load(std::memory_order_acquire));
  return static_cast<const VpnRoutingValue*>(table_.value_at(slot));
}

uint32_t VpnRouting::route_v4_bulk(const uint32_t* dst, uint32_t n, const VpnRoutingValue** out) const {
  uint32_t next_hops[kMaxBulk];
  n = std::min(n, kMaxBulk);
  rte_lpm_lookup_bulk(lpm4_, dst, next_hops, n);
  const VpnRoutingValue* fallback = value_or_null(default_v4_.load(std::memory_order_acquire));
  uint32_t hits = 0;
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = (next_hops[i] & RTE_LPM_LOOKUP_SUCCESS)
                 ? static_cast<const VpnRoutingValue*>(table_.value_at(next_hops[i] & 0x00ffffff))
                 : fallback;
    hits += out[i] != nullptr;
  }
  return hits;
}

const VpnRoutingValue* VpnRouting::route_v6(const std::array<uint8_t, 16>& dst) const {
  uint32_t slot = 0;
  const rte_lpm6* lpm = lpm6_.load(std::memory_order_acquire);
  if (rte_lpm6_lookup(lpm, dst.data(), &slot) != 0) return value_or_null(default_v6_.load(std::memory_order_acquire));
  return static_cast<const VpnRoutingValue*>(table_.value_at(slot));
}

const VpnRoutingValue* VpnRouting::route(const IpAddr& dst) const {
  return dst.is_v4() ? route_v4(dst.v4_host_order()) : route_v6(dst.bytes);
}

}  // namespace dpvpn::tables
