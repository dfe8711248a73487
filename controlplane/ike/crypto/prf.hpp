#pragma once
// Prf: an IKEv2 pseudorandom function (HMAC-SHA2, RFC 4868) and prf+ (RFC 7296 2.13).
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>

#include "ike/crypto/secure_bytes.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

class Prf {
 public:
  // nullopt for a PRF transform ID this library does not implement.
  static std::optional<Prf> from_id(uint16_t prf_id);

  uint16_t id() const { return id_; }
  // Also the size of SK_d, SK_pi and SK_pr: HMAC's preferred key size is its output size.
  size_t output_size() const { return size_; }

  // prf(key, data[0] | data[1] | ...). The key must not be empty.
  Status compute(ByteView key, std::initializer_list<ByteView> data, SecureBytes* out) const;

  // prf+(key, seed) = T1 | T2 | ..., Tn = prf(key, Tn-1 | seed | n), cut to `length`
  // (at most 255 blocks, the one-octet counter's range).
  Status plus(ByteView key, ByteView seed, size_t length, SecureBytes* out) const;

 private:
  Prf(uint16_t id, const char* digest, size_t size) : id_(id), digest_(digest), size_(size) {}

  uint16_t id_;
  const char* digest_;  // OpenSSL digest name for HMAC
  size_t size_;
};

}  // namespace dpvpn::ike
