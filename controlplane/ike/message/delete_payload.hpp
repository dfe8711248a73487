#pragma once
// Delete payload (RFC 7296 §3.11).
#include <cstdint>
#include <vector>

#include "constants.hpp"

namespace dpvpn::ike {

// The SPI size is implied by the protocol: 0 for IKE (the SA is the one in the header, so `spis`
// is empty), 4 for AH and ESP.
struct DeletePayload {
  static constexpr PayloadType kType = PayloadType::kDelete;
  ProtocolId protocol = ProtocolId::kEsp;
  std::vector<uint32_t> spis;
  friend bool operator==(const DeletePayload&, const DeletePayload&) = default;
};

}  // namespace dpvpn::ike
