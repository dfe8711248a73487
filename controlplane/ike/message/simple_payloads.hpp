#pragma once
// The payloads whose body is at most a small fixed part and then opaque data (RFC 7296 §3.4-3.9,
// §3.12, §3.16), and the payload of a type this code does not know.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "constants.hpp"

namespace dpvpn::ike {

struct KePayload {
  static constexpr PayloadType kType = PayloadType::kKe;
  uint16_t group = 0;  // Diffie-Hellman group (transform type 4 ID)
  std::vector<uint8_t> data;
  friend bool operator==(const KePayload&, const KePayload&) = default;
};

struct IdPayload {
  IdType type{};
  std::vector<uint8_t> data;
  friend bool operator==(const IdPayload&, const IdPayload&) = default;
};
struct IdiPayload : IdPayload {
  static constexpr PayloadType kType = PayloadType::kIdi;
};
struct IdrPayload : IdPayload {
  static constexpr PayloadType kType = PayloadType::kIdr;
};

struct CertPayload {
  static constexpr PayloadType kType = PayloadType::kCert;
  CertEncoding encoding = CertEncoding::kX509Signature;
  std::vector<uint8_t> data;
  friend bool operator==(const CertPayload&, const CertPayload&) = default;
};

struct CertReqPayload {
  static constexpr PayloadType kType = PayloadType::kCertReq;
  CertEncoding encoding = CertEncoding::kX509Signature;
  std::vector<uint8_t> authorities;  // X.509: concatenated SHA-1 hashes of trusted CA public keys
  friend bool operator==(const CertReqPayload&, const CertReqPayload&) = default;
};

struct AuthPayload {
  static constexpr PayloadType kType = PayloadType::kAuth;
  AuthMethod method{};
  std::vector<uint8_t> data;
  friend bool operator==(const AuthPayload&, const AuthPayload&) = default;
};

inline constexpr size_t kMinNonceSize = 16, kMaxNonceSize = 256;  // RFC 7296 §3.9
struct NoncePayload {
  static constexpr PayloadType kType = PayloadType::kNonce;
  std::vector<uint8_t> data;
  friend bool operator==(const NoncePayload&, const NoncePayload&) = default;
};

struct VendorIdPayload {
  static constexpr PayloadType kType = PayloadType::kVendorId;
  std::vector<uint8_t> data;
  friend bool operator==(const VendorIdPayload&, const VendorIdPayload&) = default;
};

struct EapPayload {
  static constexpr PayloadType kType = PayloadType::kEap;
  std::vector<uint8_t> message;  // the whole EAP message (RFC 3748)
  friend bool operator==(const EapPayload&, const EapPayload&) = default;
};

// A payload of a type not listed in PayloadType. Parsing keeps it only when its critical bit is
// clear (RFC 7296 §2.5); a critical one fails the parse with UNSUPPORTED_CRITICAL_PAYLOAD.
struct UnknownPayload {
  PayloadType type{};
  bool critical = false;
  std::vector<uint8_t> body;
  friend bool operator==(const UnknownPayload&, const UnknownPayload&) = default;
};

}  // namespace dpvpn::ike
