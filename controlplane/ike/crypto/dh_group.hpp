#pragma once
// DhGroup: one side of an IKEv2 Diffie-Hellman exchange (KE payload, RFC 7296 1.2 / 3.4) in
// MODP-2048/3072 (RFC 3526), ECP-256/384 (RFC 5903) or Curve25519 (RFC 8031).
// Wire forms: MODP public values are zero-padded to the prime's length and g^ir likewise (2.14);
// ECP public values are x | y without a point-format octet and g^ir is the x coordinate only;
// X25519 values are the 32 octets of RFC 7748. A peer value that is not a valid group element
// (MODP 0, 1, p-1 or >= p; a point off the curve; an X25519 low-order point) is kInvalidArgument.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ike/crypto/secure_bytes.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

class DhFamily;
class DhKey;

bool is_supported_dh_group(uint16_t group_id);

class DhGroup {
 public:
  // A group without a key yet: generate() (or use_private_key() in known-answer tests) comes next.
  static Status create(uint16_t group_id, std::unique_ptr<DhGroup>* out);
  ~DhGroup();
  DhGroup(const DhGroup&) = delete;
  DhGroup& operator=(const DhGroup&) = delete;

  uint16_t id() const { return id_; }
  // Octets of this group's Key Exchange Data.
  size_t public_size() const;

  Status generate();
  // A fixed private key instead of generate(): the big-endian scalar or exponent (ECP, MODP), or
  // the 32 octets of an X25519 private key. For known-answer tests against published vectors.
  Status use_private_key(ByteView private_key);

  // Empty before generate() / use_private_key().
  const std::vector<uint8_t>& public_value() const;

  // Validates the peer's Key Exchange Data and computes g^ir into shared_secret().
  Status compute_shared(ByteView peer_public);
  const SecureBytes& shared_secret() const { return shared_; }

 private:
  DhGroup(uint16_t id, const DhFamily& family);
  void set_key(std::unique_ptr<DhKey> key);

  uint16_t id_;
  const DhFamily& family_;
  std::unique_ptr<DhKey> key_;  // destroying it wipes the private part
  SecureBytes shared_;
};

}  // namespace dpvpn::ike
