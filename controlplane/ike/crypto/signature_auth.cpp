#include "ike/crypto/signature_auth.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <array>
#include <memory>
#include <string>

#include "ike/crypto/openssl_util.hpp"

namespace dpvpn::ike {

namespace {

struct SchemeInfo {
  SignatureScheme scheme;
  int key_type;        // EVP_PKEY_EC or EVP_PKEY_RSA
  int nid;             // of the AlgorithmIdentifier's OID
  const char* digest;
  std::vector<uint8_t> algorithm_id;  // DER, as listed in RFC 7427 Appendix A
};

const std::array<SchemeInfo, 6>& schemes() {
  static const std::array<SchemeInfo, 6> table = {{
      {SignatureScheme::kEcdsaSha256, EVP_PKEY_EC, NID_ecdsa_with_SHA256, "SHA256",
       {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}},
      {SignatureScheme::kEcdsaSha384, EVP_PKEY_EC, NID_ecdsa_with_SHA384, "SHA384",
       {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}},
      {SignatureScheme::kEcdsaSha512, EVP_PKEY_EC, NID_ecdsa_with_SHA512, "SHA512",
       {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}},
      {SignatureScheme::kRsaPkcs1Sha256, EVP_PKEY_RSA, NID_sha256WithRSAEncryption, "SHA256",
       {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}},
      {SignatureScheme::kRsaPkcs1Sha384, EVP_PKEY_RSA, NID_sha384WithRSAEncryption, "SHA384",
       {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00}},
      {SignatureScheme::kRsaPkcs1Sha512, EVP_PKEY_RSA, NID_sha512WithRSAEncryption, "SHA512",
       {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00}},
  }};
  return table;
}

const SchemeInfo* find_scheme(SignatureScheme scheme) {
  for (const SchemeInfo& s : schemes()) {
    if (s.scheme == scheme) return &s;
  }
  return nullptr;
}

const SchemeInfo* find_nid(int nid) {
  for (const SchemeInfo& s : schemes()) {
    if (s.nid == nid) return &s;
  }
  return nullptr;
}

Status invalid(std::string why) { return Status(StatusCode::kInvalidArgument, "signature AUTH: " + why); }

// The scheme an AlgorithmIdentifier names. Its parameters must be absent or NULL (RFC 7427 A.1
// sends NULL for RSA and nothing for ECDSA; peers differ, so both are accepted).
Status scheme_of(ByteView der, const SchemeInfo** out) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509_ALGOR, OsslDeleter<X509_ALGOR_free>> algor(
      d2i_X509_ALGOR(nullptr, &p, static_cast<long>(der.size())));
  if (!algor || p != der.data() + der.size()) {
    ERR_clear_error();
    return invalid("malformed AlgorithmIdentifier");
  }
  const ASN1_OBJECT* oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  X509_ALGOR_get0(&oid, &param_type, nullptr, algor.get());
  const int nid = OBJ_obj2nid(oid);
  const SchemeInfo* info = find_nid(nid);
  if (info == nullptr) {
    return invalid("unsupported signature algorithm " + std::string(nid == NID_undef ? "(unknown OID)" : OBJ_nid2sn(nid)));
  }
  if (param_type != V_ASN1_UNDEF && param_type != V_ASN1_NULL) return invalid("unexpected algorithm parameters");
  *out = info;
  return Status::ok();
}

}  // namespace

Status default_signature_scheme(const PrivateKey& key, SignatureScheme* out) {
  EVP_PKEY* pkey = key.evp_pkey();
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA: *out = SignatureScheme::kRsaPkcs1Sha256; return Status::ok();
    case EVP_PKEY_EC: {
      const int bits = EVP_PKEY_get_bits(pkey);
      *out = bits <= 256 ? SignatureScheme::kEcdsaSha256
             : bits <= 384 ? SignatureScheme::kEcdsaSha384
                           : SignatureScheme::kEcdsaSha512;
      return Status::ok();
    }
  }
  return invalid("private key is neither EC nor RSA");
}

Status sign_auth_data(const PrivateKey& key, SignatureScheme scheme, ByteView signed_octets,
                      std::vector<uint8_t>* auth_data) {
  const SchemeInfo* info = find_scheme(scheme);
  if (info == nullptr || EVP_PKEY_get_base_id(key.evp_pkey()) != info->key_type) {
    return invalid("scheme does not fit the private key");
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, info->digest, nullptr, nullptr, key.evp_pkey(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, signed_octets.data(), signed_octets.size()) != 1) {
    return openssl_error("signing AUTH");
  }
  std::vector<uint8_t> out;
  out.reserve(1 + info->algorithm_id.size() + sig_len);
  out.push_back(static_cast<uint8_t>(info->algorithm_id.size()));
  out.insert(out.end(), info->algorithm_id.begin(), info->algorithm_id.end());
  const size_t sig_at = out.size();
  out.resize(sig_at + sig_len);
  if (EVP_DigestSign(ctx.get(), out.data() + sig_at, &sig_len, signed_octets.data(), signed_octets.size()) != 1) {
    return openssl_error("signing AUTH");
  }
  out.resize(sig_at + sig_len);  // a DER ECDSA signature may be shorter than the maximum
  *auth_data = std::move(out);
  return Status::ok();
}

Status verify_auth_data(const Certificate& signer, ByteView auth_data, ByteView signed_octets) {
  if (auth_data.empty() || 1u + auth_data[0] >= auth_data.size()) return invalid("AUTH data too short");
  const SchemeInfo* info = nullptr;
  if (Status st = scheme_of(auth_data.subspan(1, auth_data[0]), &info); !st) return st;
  EVP_PKEY* pkey = signer.public_key();
  if (pkey == nullptr || EVP_PKEY_get_base_id(pkey) != info->key_type) {
    return invalid("algorithm does not fit the certificate's key");
  }
  const ByteView signature = auth_data.subspan(1u + auth_data[0]);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, info->digest, nullptr, nullptr, pkey, nullptr) != 1) {
    return openssl_error("verifying AUTH");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), signed_octets.data(), signed_octets.size()) != 1) {
    ERR_clear_error();
    return invalid("signature does not verify with " + signer.subject());
  }
  return Status::ok();
}

}  // namespace dpvpn::ike
