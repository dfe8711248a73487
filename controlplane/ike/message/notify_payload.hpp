#pragma once
// Notify payload (RFC 7296 §3.10).
#include <cstdint>
#include <vector>

#include "constants.hpp"

namespace dpvpn::ike {

struct NotifyPayload {
  static constexpr PayloadType kType = PayloadType::kNotify;
  ProtocolId protocol = ProtocolId::kNone;
  std::vector<uint8_t> spi;  // empty, or the 4-octet SPI of the AH/ESP SA concerned
  NotifyType type{};
  std::vector<uint8_t> data;
  friend bool operator==(const NotifyPayload&, const NotifyPayload&) = default;
};

}  // namespace dpvpn::ike
