#pragma once
// NextHops: where a (clear or encrypted) packet leaves: connected subnets of our ports plus the
// configured routes. Static once the dataplane runs; longest prefix wins. Route counts are small
// (a gateway's own routing, not the VPN ranges — those are vpn_routing's LPM), so a scan over a
// list sorted by prefix length is enough.
#include <cstdint>
#include <vector>

#include "net/ip_addr.hpp"

namespace dpvpn::dataplane {

struct NextHop {
  uint16_t port_index = 0;  // index into the dataplane's ports
  bool connected = false;   // deliver to the destination itself
  IpAddr via;               // gateway when not connected
};

class NextHops {
 public:
  void add(const IpAddr& prefix, uint8_t prefix_len, const NextHop& hop);
  // nullptr when nothing covers dst.
  const NextHop* lookup(const IpAddr& dst) const;
  // The address to resolve for dst through `hop`.
  static const IpAddr& neighbor_for(const NextHop& hop, const IpAddr& dst) { return hop.connected ? dst : hop.via; }

 private:
  struct Route {
    // The prefix and its mask over the 128-bit (IPv4-mapped) form, as two raw 8-byte halves: a
    // match is two AND+compare pairs, no byte loop.
    uint64_t mask[2];
    uint64_t value[2];  // prefix & mask
    uint8_t bits;
    bool v4;
    NextHop hop;
  };
  std::vector<Route> routes_;  // longest prefix first
};

}  // namespace dpvpn::dataplane
