#pragma once
// Digital Signature authentication (RFC 7427, Auth Method 14). AUTH data = one octet with the
// length of the AlgorithmIdentifier | its DER | the signature over the signed octets (auth.hpp):
// PKCS#1 v1.5 for RSA, a DER ECDSA-Sig-Value for ECDSA. RSASSA-PSS is not supported (strongSwan
// uses PKCS#1 v1.5 for RSA keys unless configured for PSS).
#include <cstdint>
#include <vector>

#include "ike/crypto/certificate.hpp"
#include "ike/crypto/private_key.hpp"
#include "ike/crypto/secure_bytes.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

enum class SignatureScheme : uint8_t {
  kEcdsaSha256,
  kEcdsaSha384,
  kEcdsaSha512,
  kRsaPkcs1Sha256,
  kRsaPkcs1Sha384,
  kRsaPkcs1Sha512,
};

// ECDSA with the hash of the curve's size (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512), RSA
// with SHA-256: what strongSwan signs with for such keys.
Status default_signature_scheme(const PrivateKey& key, SignatureScheme* out);

Status sign_auth_data(const PrivateKey& key, SignatureScheme scheme, ByteView signed_octets,
                      std::vector<uint8_t>* auth_data);

// kInvalidArgument if the AUTH data is malformed, names an unsupported algorithm or one that
// does not fit the certificate's key, or the signature does not verify with that key.
Status verify_auth_data(const Certificate& signer, ByteView auth_data, ByteView signed_octets);

}  // namespace dpvpn::ike
