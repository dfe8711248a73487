#pragma once
// Configuration payload (RFC 7296 §3.15).
#include <cstdint>
#include <vector>

#include "constants.hpp"

namespace dpvpn::ike {

struct CpAttribute {
  CfgAttributeType type{};     // 15 bits
  std::vector<uint8_t> value;  // may be empty (a request for a value)
  friend bool operator==(const CpAttribute&, const CpAttribute&) = default;
};

struct CpPayload {
  static constexpr PayloadType kType = PayloadType::kCp;
  CfgType type = CfgType::kRequest;
  std::vector<CpAttribute> attributes;
  friend bool operator==(const CpPayload&, const CpPayload&) = default;
};

}  // namespace dpvpn::ike
