#pragma once
// VpnRouting: the vpn_routing kernel table plus the LPMs the data path looks destinations up in.
//
// The LPM next hop is the value's pool slot in the vpn_routing table, so a lookup is
// LPM -> slot -> value with no second hash. The table's index hook keeps the LPMs in step before
// a replaced value is retired, so a reader that got a slot from the LPM holds a live value until
// its next quiescent report.
// IPv4: rte_lpm with its RCU reclamation attached to the tables' QSBR variable.
// IPv6: rte_lpm6 has no RCU support in DPDK 22.11 (a delete may recycle a tbl8 group under a
// reader), so every IPv6 change builds a fresh rte_lpm6 and swaps it in; the old one is freed
// after a grace period. vpn_routing changes at configuration rate, so this is cheap enough.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "tables/catalog.hpp"
#include "tables/kernel_table.hpp"

struct rte_lpm;
struct rte_lpm6;

namespace dpvpn::tables {

class VpnRouting {
 public:
  // `table` must be the vpn_routing table; VpnRouting installs itself as its index hook.
  static Status create(KernelTable& table, RcuDomain& rcu, std::unique_ptr<VpnRouting>* out);
  ~VpnRouting();
  VpnRouting(const VpnRouting&) = delete;
  VpnRouting& operator=(const VpnRouting&) = delete;

  // ---- writer ----
  // Validates the prefix (length fits the family, host bits zero) and adds or replaces the route.
  Status add(const VpnRoutingKey& key, const VpnRoutingValue& value);
  Status remove(const VpnRoutingKey& key);
  void reclaim();  // frees IPv6 LPMs whose grace period is over

  // ---- readers ----
  const VpnRoutingValue* route(const IpAddr& dst) const;
  const VpnRoutingValue* route_v4(uint32_t dst_host_order) const;
  // Up to kMaxBulk addresses; out[i] nullptr where no route covers it. Returns the hit count.
  uint32_t route_v4_bulk(const uint32_t* dst_host_order, uint32_t n, const VpnRoutingValue** out) const;
  const VpnRoutingValue* route_v6(const std::array<uint8_t, 16>& dst) const;

  static Status validate(const VpnRoutingKey& key);

 private:
  using V6Prefix = std::pair<std::array<uint8_t, 16>, uint8_t>;
  VpnRouting(KernelTable& table, RcuDomain& rcu) : table_(table), rcu_(rcu) {}
  Status init();
  Status on_index_change(const VpnRoutingKey& key, uint32_t slot);
  Status rebuild_v6(const std::map<V6Prefix, uint32_t>& routes);
  const VpnRoutingValue* value_or_null(uint32_t slot) const;

  KernelTable& table_;
  RcuDomain& rcu_;
  rte_lpm* lpm4_ = nullptr;
  std::atomic<rte_lpm6*> lpm6_{nullptr};
  std::atomic<uint32_t> default_v4_{kNoSlot};  // ::/0 and 0.0.0.0/0: LPM depths start at 1
  std::atomic<uint32_t> default_v6_{kNoSlot};
  std::map<V6Prefix, uint32_t> v6_routes_;               // prefix -> slot (writer's copy)
  std::vector<std::pair<uint64_t, rte_lpm6*>> old_lpm6_;  // (RCU token, retired LPM)
};

// Every IPv4 prefix is stored IPv4-mapped; its LPM depth is prefix_len.
inline VpnRoutingKey vpn_route_key(const IpAddr& prefix, uint8_t prefix_len) {
  VpnRoutingKey key{};
  key.prefix = prefix;
  key.prefix_len = prefix_len;
  return key;
}

}  // namespace dpvpn::tables
