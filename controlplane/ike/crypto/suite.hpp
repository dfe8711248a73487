#pragma once
// Suites: the algorithms of a negotiated IKE SA or ESP Child SA (a chosen Proposal, one transform
// per type) and the sizes of their keys, which fix how key material is cut (RFC 7296 2.14, 2.17).
#include <cstddef>
#include <cstdint>

#include "ike/crypto/proposal.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

// Octets of an encryption key, with the 4-octet salt for AES-GCM (RFC 5282 7.1) and
// ChaCha20-Poly1305 (RFC 7634 4); 0 if the algorithm or key length is not supported.
size_t encr_key_size(uint16_t encr_id, uint16_t key_bits);
bool is_aead(uint16_t encr_id);
// HMAC-SHA2 integrity (RFC 4868): key = hash output length, ICV = half of it. 0 if unsupported.
size_t integ_key_size(uint16_t integ_id);
size_t integ_icv_size(uint16_t integ_id);
// The PRF built on the same HMAC as an integrity algorithm (strongSwan's default PRF for "sha256"
// in an IKE proposal; an HMAC-SHA2 ICV is that PRF's output truncated). 0 if there is none.
uint16_t prf_for_integ(uint16_t integ_id);
// Output (and preferred key) size of a PRF; 0 if unsupported.
size_t prf_output_size(uint16_t prf_id);

struct IkeSuite {
  uint16_t encr = 0;
  uint16_t encr_key_bits = 0;
  uint16_t prf = 0;
  uint16_t integ = integ::kNone;  // kNone with an AEAD cipher
  uint16_t dh = 0;

  size_t encr_key_size() const { return ike::encr_key_size(encr, encr_key_bits); }
  size_t integ_key_size() const { return ike::integ_key_size(integ); }
  size_t prf_key_size() const { return prf_output_size(prf); }
};

struct EspSuite {
  uint16_t encr = 0;
  uint16_t encr_key_bits = 0;
  uint16_t integ = integ::kNone;
  uint16_t dh = dh::kNone;  // PFS group of a CREATE_CHILD_SA exchange
  bool esn = false;

  size_t encr_key_size() const { return ike::encr_key_size(encr, encr_key_bits); }
  size_t integ_key_size() const { return ike::integ_key_size(integ); }
};

// kInvalidArgument unless `chosen` has exactly one transform of each needed type, all supported.
Status ike_suite_from(const Proposal& chosen, IkeSuite* out);
Status esp_suite_from(const Proposal& chosen, EspSuite* out);

}  // namespace dpvpn::ike
