#pragma once
// SkCipher: protection of the Encrypted (SK) payload (RFC 7296 3.14) for one direction of an IKE
// SA, built from that direction's SK_e (and SK_a). The SK body, after the payload's 4-octet
// generic header, is IV | ciphertext(inner payloads | padding | Pad Length) | ICV:
//  - AES-GCM-16 (RFC 5282) and ChaCha20-Poly1305 (RFC 7634): 8-octet IV, nonce = salt (last 4
//    octets of SK_e) | IV, 16-octet ICV, associated data = the message from the IKE header to the
//    end of the SK payload's generic header; no padding (Pad Length 0), as strongSwan sends.
//  - AES-CBC with HMAC-SHA2: 16-octet random IV, zero padding to the 16-octet block, ICV = the
//    truncated HMAC of the message from the IKE header through the ciphertext.
// The codec lays the message out: it reserves sk_body_length(n) octets at the end, fills every
// length field (IKE header, SK payload), then calls seal() on the whole message.
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "ike/crypto/secure_bytes.hpp"
#include "ike/crypto/suite.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

enum class SkOpenResult {
  kOk,
  kMalformed,     // too short, bad length or padding
  kIcvMismatch,   // integrity check failed: drop the message silently (RFC 7296 2.21.2)
};

class SkCipher {
 public:
  // encr_key = SK_ei or SK_er (with the salt for AEADs), integ_key = SK_ai or SK_ar (empty for AEADs).
  static Status create(const IkeSuite& suite, ByteView encr_key, ByteView integ_key, std::unique_ptr<SkCipher>* out);
  virtual ~SkCipher() = default;

  virtual size_t iv_size() const = 0;
  // Octets of the SK body (IV to ICV) that carries `plaintext_len` octets of inner payloads.
  virtual size_t sk_body_length(size_t plaintext_len) const = 0;

  // `message` is the whole message; its SK body starts at `body_offset` (just after the SK
  // payload's generic header) and runs to the end, sk_body_length(plaintext.size()) octets.
  Status seal(std::span<uint8_t> message, size_t body_offset, ByteView plaintext) const;
  // seal() with a given IV instead of a random one: for known-answer tests only (an AEAD IV must
  // never repeat under one key).
  virtual Status seal_with_iv(std::span<uint8_t> message, size_t body_offset, ByteView plaintext,
                              ByteView iv) const = 0;

  // `message` ends where the SK payload ends; on kOk, `plaintext` holds the inner payloads.
  virtual SkOpenResult open(ByteView message, size_t body_offset, std::vector<uint8_t>* plaintext) const = 0;

 protected:
  // The body has the size seal() expects, and there is a header before it.
  static Status check_layout(std::span<uint8_t> message, size_t body_offset, size_t body_length);
};

}  // namespace dpvpn::ike
