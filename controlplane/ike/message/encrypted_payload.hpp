#pragma once
// Encrypted and Authenticated payload SK (RFC 7296 §3.14) and its fragment form SKF (RFC 7383).
// Both are opaque here: the crypto library makes and opens the body (sk_layout.hpp says where it
// lies in a datagram); parse_payload_chain() parses the decrypted content.
#include <cstdint>
#include <vector>

#include "constants.hpp"

namespace dpvpn::ike {

struct SkPayload {
  static constexpr PayloadType kType = PayloadType::kSk;
  PayloadType first_inner_type = PayloadType::kNone;  // the SK header's Next Payload field
  std::vector<uint8_t> body;                          // IV | encrypted content (with padding) | ICV
  friend bool operator==(const SkPayload&, const SkPayload&) = default;
};

struct SkfPayload {
  static constexpr PayloadType kType = PayloadType::kSkf;
  PayloadType first_inner_type = PayloadType::kNone;  // fragment 1 only; 0 in the others
  uint16_t fragment_number = 1;                       // 1..total_fragments
  uint16_t total_fragments = 1;
  std::vector<uint8_t> body;  // IV | encrypted fragment (with padding) | ICV
  friend bool operator==(const SkfPayload&, const SkfPayload&) = default;
};

}  // namespace dpvpn::ike
