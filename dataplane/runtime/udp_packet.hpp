#pragma once
// An IPv4 or IPv6 packet carrying one UDP datagram, checksums filled in (RFC 768 / RFC 8200 §8.1:
// over the pseudo-header), for what the dataplane sends on the control plane's behalf (routed
// Inject: IKE). IPv4 gets DF set (IKE fragments itself, RFC 7383) and TTL 64; IPv6 hop limit 64.
#include <cstdint>
#include <span>
#include <vector>

#include "net/ip_addr.hpp"

namespace dpvpn::dataplane {

// src and dst of one family; the payload must fit the 16-bit length fields (checked by the caller).
std::vector<uint8_t> build_udp_packet(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport,
                                      std::span<const uint8_t> payload);

}  // namespace dpvpn::dataplane
