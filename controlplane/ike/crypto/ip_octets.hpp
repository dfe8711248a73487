#pragma once
// An address as IKEv2 hashes it (NAT detection, cookies): 4 octets for IPv4, 16 for IPv6.
#include <cstdint>
#include <span>

#include "net/ip_addr.hpp"

namespace dpvpn::ike {

inline std::span<const uint8_t> ip_octets(const IpAddr& addr) {
  const std::span<const uint8_t> all(addr.bytes);
  return addr.is_v4() ? all.subspan(12) : all;  // IPv4 is stored IPv4-mapped
}

}  // namespace dpvpn::ike
