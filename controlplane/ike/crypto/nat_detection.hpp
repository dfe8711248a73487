#pragma once
// NAT_DETECTION_SOURCE_IP / _DESTINATION_IP notify data (RFC 7296 2.23):
// SHA-1(SPIi | SPIr | IP address | port), address as 4 or 16 octets, port in network order.
// SPIr is 0 in an IKE_SA_INIT request. SPIs: see ike_spi.hpp.
#include <array>
#include <cstdint>

#include "net/ip_addr.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

using NatDetectionHash = std::array<uint8_t, 20>;

Status nat_detection_hash(uint64_t spi_i, uint64_t spi_r, const IpAddr& addr, uint16_t port, NatDetectionHash* out);

}  // namespace dpvpn::ike
