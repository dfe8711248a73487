#pragma once
// PortInfo: one configured port as the data path sees it (read-only once workers run).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "config/dataplane_config.hpp"  // PortRole
#include "net/ip_addr.hpp"

namespace dpvpn::dataplane {

struct PortAddress {
  IpAddr addr;
  uint8_t prefix_len = 0;
};

struct PortInfo {
  uint16_t port_id = 0;   // DPDK port id
  std::string name;
  PortRole role = PortRole::kInside;
  std::array<uint8_t, 6> mac{};
  uint16_t mtu = 1500;
  uint16_t vlan = 0;      // 0 = untagged
  uint16_t rx_queues = 1;
  std::vector<PortAddress> addresses;

  // Is `addr` one of this port's own addresses?
  bool owns(const IpAddr& addr) const {
    for (const PortAddress& a : addresses) {
      if (a.addr == addr) return true;
    }
    return false;
  }
  // First own address of the given family (source for ARP/ND/ICMP errors); nullptr if none.
  const IpAddr* first_address(bool v4) const {
    for (const PortAddress& a : addresses) {
      if (a.addr.is_v4() == v4) return &a.addr;
    }
    return nullptr;
  }
};

}  // namespace dpvpn::dataplane
