#pragma once
// Proposal: the algorithms of one SA proposal, independent of the wire format (the message codec
// converts to and from Proposal substructures), and the strongSwan-style strings that configure them:
//   IKE  aes128gcm16-prfsha256-x25519   aes256-sha256-modp2048   aes128-sha256-prfsha256-ecp256
//   ESP  aes128gcm16   aes256-sha256   aes128gcm16-x25519 (PFS group)   aes256-sha512-esn
// Keywords: aes128 aes256 (AES-CBC), aes128gcm16 aes256gcm16 (alias ...gcm128), chacha20poly1305,
// sha256 sha384 sha512 (HMAC-SHA2 integrity), prfsha256 prfsha384 prfsha512, modp2048 modp3072
// ecp256 ecp384 x25519 (alias curve25519), esn noesn. Several keywords of one type in a string are
// alternatives, in preference order ("aes256-aes128-sha256-x25519-ecp256").
// Differences from strongSwan: an AEAD cipher with an integrity keyword is an error (strongSwan
// silently turns "aes256gcm16-sha384" into prfsha384), so is a PRF keyword in an ESP proposal.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ike/crypto/transforms.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

struct Transform {
  TransformType type = TransformType::kEncr;
  uint16_t id = 0;
  uint16_t key_bits = 0;  // Key Length attribute; 0 = not sent (fixed-key algorithms)
  friend bool operator==(const Transform&, const Transform&) = default;
};

struct Proposal {
  Protocol protocol = Protocol::kIke;
  std::vector<Transform> transforms;  // grouped by type (encr, prf, integ, dh, esn), preferred first
  friend bool operator==(const Proposal&, const Proposal&) = default;
};

// For IKE, integrity keywords without a prf keyword also give the matching PRFs (strongSwan's rule:
// "aes256-sha256-modp2048" = integrity HMAC_SHA2_256_128 + PRF_HMAC_SHA2_256). For ESP without
// esn/noesn, "noesn" is implied. Unknown keywords and inconsistent sets are kInvalidArgument.
Status parse_proposal(Protocol protocol, std::string_view text, Proposal* out);
Status parse_proposals(Protocol protocol, std::span<const std::string> texts, std::vector<Proposal>* out);

// The keyword of a transform ("aes256gcm16"), or "<type>:<id>[/<key bits>]" for one without a keyword.
std::string transform_keyword(const Transform& transform);
// The proposal as a keyword string, every transform spelled out ("aes256-prfsha256-sha256-modp2048").
std::string proposal_to_string(const Proposal& proposal);

}  // namespace dpvpn::ike
