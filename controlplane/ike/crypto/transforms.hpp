#pragma once
// IANA "Internet Key Exchange Version 2 (IKEv2) Parameters": the numbers of the transforms dpvpn
// negotiates. Values as registered by RFC 7296 3.3.2 (types, AES-CBC), RFC 5282 (AES-GCM), RFC 7634
// (ChaCha20-Poly1305), RFC 4868 (HMAC-SHA2 PRFs and integrity), RFC 3526 (MODP), RFC 5903 (ECP),
// RFC 8031 (Curve25519).
#include <cstdint>
#include <string_view>

#include "ike/message/constants.hpp"

namespace dpvpn::ike {

// Protocol ID of a Proposal substructure (RFC 7296 3.3.1).
enum class Protocol : uint8_t { kIke = 1, kAh = 2, kEsp = 3 };

// TransformType (the transform type numbers) is the wire format's: ike/message/constants.hpp.

namespace encr {
inline constexpr uint16_t kAesCbc = 12;
inline constexpr uint16_t kAesGcm16 = 20;  // 16-octet ICV
inline constexpr uint16_t kChaCha20Poly1305 = 28;
}  // namespace encr

namespace prf {
inline constexpr uint16_t kHmacSha1 = 2;  // RFC 8247 MUST-: only for the NIST CAVP KDF vectors and old peers
inline constexpr uint16_t kHmacSha256 = 5;
inline constexpr uint16_t kHmacSha384 = 6;
inline constexpr uint16_t kHmacSha512 = 7;
}  // namespace prf

namespace integ {
inline constexpr uint16_t kNone = 0;
inline constexpr uint16_t kHmacSha256_128 = 12;
inline constexpr uint16_t kHmacSha384_192 = 13;
inline constexpr uint16_t kHmacSha512_256 = 14;
}  // namespace integ

namespace dh {
inline constexpr uint16_t kNone = 0;
inline constexpr uint16_t kModp2048 = 14;
inline constexpr uint16_t kModp3072 = 15;
inline constexpr uint16_t kEcp256 = 19;
inline constexpr uint16_t kEcp384 = 20;
inline constexpr uint16_t kCurve25519 = 31;
}  // namespace dh

namespace esn {
inline constexpr uint16_t kNo = 0;
inline constexpr uint16_t kYes = 1;
}  // namespace esn

// Transform attribute type of the key length in bits (RFC 7296 3.3.5), sent as TV.
inline constexpr uint16_t kKeyLengthAttribute = 14;

std::string_view transform_type_name(TransformType type);

}  // namespace dpvpn::ike
