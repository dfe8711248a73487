#pragma once
// DhFamily: what differs between the Diffie-Hellman group families behind DhGroup: key creation,
// the wire form of public values, the validation of a peer's value and the derivation of g^ir.
// Internal to the library.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ike/crypto/openssl_util.hpp"
#include "ike/crypto/secure_bytes.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

// One side's key pair in a group. Destroying it wipes the private part.
class DhKey {
 public:
  virtual ~DhKey() = default;
  // The Key Exchange Data, in the family's wire form.
  virtual const std::vector<uint8_t>& public_value() const = 0;
  // `peer_public` has the family's public_size() octets; kInvalidArgument if it is not a valid group
  // element or gives no shared secret.
  virtual Status derive(ByteView peer_public, SecureBytes* shared) const = 0;
};

class DhFamily {
 public:
  virtual ~DhFamily() = default;
  virtual size_t public_size() const = 0;
  virtual Status generate(std::unique_ptr<DhKey>* key) const = 0;
  virtual Status from_private(ByteView private_key, std::unique_ptr<DhKey>* key) const = 0;
};

// The families whose keys are OpenSSL EVP_PKEYs (ECP, MODP): they say how to make, export and
// import keys; the key pair and the derivation are shared (dh_evp.cpp).
class EvpDhFamily : public DhFamily {
 public:
  Status generate(std::unique_ptr<DhKey>* key) const final;
  Status from_private(ByteView private_key, std::unique_ptr<DhKey>* key) const final;

  virtual Status generate_pkey(EvpPkeyPtr* key) const = 0;
  virtual Status pkey_from_private(ByteView private_key, EvpPkeyPtr* key) const = 0;
  virtual Status public_value(EVP_PKEY* key, std::vector<uint8_t>* out) const = 0;
  // `peer_public` has public_size() octets; kInvalidArgument if it is not a valid group element.
  virtual Status peer_key(ByteView peer_public, EvpPkeyPtr* peer) const = 0;
  // Derivation settings (MODP: pad g^ir to the prime's length).
  virtual Status prepare_derive(EVP_PKEY_CTX*) const { return Status::ok(); }

 private:
  Status wrap(EvpPkeyPtr pkey, std::unique_ptr<DhKey>* key) const;
};

// nullptr for a group ID outside the family.
const DhFamily* x25519_family(uint16_t group_id);
const DhFamily* ecp_family(uint16_t group_id);
const DhFamily* modp_family(uint16_t group_id);

}  // namespace dpvpn::ike
