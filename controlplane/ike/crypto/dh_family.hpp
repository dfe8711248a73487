#pragma once
// DhFamily: what differs between the Diffie-Hellman group families behind DhGroup: key creation,
// the wire form of public values, and the validation of a peer's value. Internal to the library.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ike/crypto/openssl_util.hpp"
#include "ike/crypto/secure_bytes.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

class DhFamily {
 public:
  virtual ~DhFamily() = default;
  virtual size_t public_size() const = 0;
  virtual Status generate(EvpPkeyPtr* key) const = 0;
  virtual Status from_private(ByteView private_key, EvpPkeyPtr* key) const = 0;
  virtual Status public_value(EVP_PKEY* key, std::vector<uint8_t>* out) const = 0;
  // `peer_public` has public_size() octets; kInvalidArgument if it is not a valid group element.
  virtual Status peer_key(ByteView peer_public, EvpPkeyPtr* peer) const = 0;
  // Derivation settings (MODP: pad g^ir to the prime's length).
  virtual Status prepare_derive(EVP_PKEY_CTX*) const { return Status::ok(); }
};

// nullptr for a group ID outside the family.
const DhFamily* x25519_family(uint16_t group_id);
const DhFamily* ecp_family(uint16_t group_id);
const DhFamily* modp_family(uint16_t group_id);

}  // namespace dpvpn::ike
