#pragma once
// IpPrefix: an address with a prefix length — a port's address on its subnet, a route, one side of
// a policy. IPv4 lives IPv4-mapped in IpAddr, so the length counts from bit 96 for IPv4.
#include <cstdint>
#include <string>

#include "net/ip_addr.hpp"

namespace dpvpn {

struct IpPrefix {
  IpAddr addr;
  uint8_t len = 0;  // 0..32 for IPv4, 0..128 for IPv6

  uint8_t max_len() const { return addr.is_v4() ? 32 : 128; }
  IpPrefix network() const;  // the same prefix with its host bits cleared
  bool has_host_bits() const { return network().addr != addr; }
  bool contains(const IpAddr& a) const;  // same family and inside the prefix
  std::string to_string() const;         // "10.1.0.0/16", "fd00:1::/64"

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

}  // namespace dpvpn
