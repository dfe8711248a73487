#pragma once
// Traffic Selector payloads TSi and TSr (RFC 7296 §3.13).
#include <cstdint>
#include <vector>

#include "constants.hpp"

namespace dpvpn::ike {

// One address range with an IP protocol and a port range. Only the two RFC 7296 types exist here:
// another TS type fails the parse (as in strongSwan), since its layout is unknown.
struct TrafficSelector {
  TsType type = TsType::kIpv4AddrRange;
  uint8_t ip_protocol = 0;  // 0: any
  uint16_t start_port = 0;
  uint16_t end_port = 65535;           // start 65535, end 0: OPAQUE ports
  std::vector<uint8_t> start_address;  // 4 octets for IPv4, 16 for IPv6
  std::vector<uint8_t> end_address;
  friend bool operator==(const TrafficSelector&, const TrafficSelector&) = default;
};

struct TsPayload {
  std::vector<TrafficSelector> selectors;
  friend bool operator==(const TsPayload&, const TsPayload&) = default;
};
struct TsiPayload : TsPayload {
  static constexpr PayloadType kType = PayloadType::kTsi;
};
struct TsrPayload : TsPayload {
  static constexpr PayloadType kType = PayloadType::kTsr;
};

}  // namespace dpvpn::ike
