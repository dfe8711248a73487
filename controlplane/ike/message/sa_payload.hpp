#pragma once
// Security Association payload (RFC 7296 §3.3): proposals, each a protocol, an SPI and transforms.
#include <cstdint>
#include <optional>
#include <vector>

#include "constants.hpp"

namespace dpvpn::ike {

// A transform attribute other than Key Length. Kept rather than dropped: RFC 7296 §3.3.6 makes a
// transform with an attribute the responder does not understand unacceptable, so the proposal
// logic must see it.
struct SaTransformAttribute {
  uint16_t type = 0;       // 15 bits; the format bit is tv_format
  bool tv_format = false;  // TV: value is exactly 2 octets; TLV: any length
  std::vector<uint8_t> value;
  friend bool operator==(const SaTransformAttribute&, const SaTransformAttribute&) = default;
};

struct SaTransform {
  TransformType type{};
  uint16_t id = 0;
  std::optional<uint16_t> key_length;  // Key Length attribute (TV, type 14), in bits
  std::vector<SaTransformAttribute> other_attributes;
  friend bool operator==(const SaTransform&, const SaTransform&) = default;
};

struct SaProposal {
  uint8_t number = 1;
  ProtocolId protocol = ProtocolId::kIke;
  std::vector<uint8_t> spi;  // IKE: empty (IKE_SA_INIT) or 8 octets (rekey); AH/ESP: 4 octets
  std::vector<SaTransform> transforms;
  friend bool operator==(const SaProposal&, const SaProposal&) = default;
};

struct SaPayload {
  static constexpr PayloadType kType = PayloadType::kSa;
  std::vector<SaProposal> proposals;
  friend bool operator==(const SaPayload&, const SaPayload&) = default;
};

}  // namespace dpvpn::ike
