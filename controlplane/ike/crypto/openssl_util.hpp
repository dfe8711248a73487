#pragma once
// Owning pointers for OpenSSL objects and the conversion of OpenSSL's error queue into a Status.
// Internal to the crypto library.
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string_view>

#include "util/status.hpp"

namespace dpvpn::ike {

template <auto Free>
struct OsslDeleter {
  template <class T>
  void operator()(T* p) const { Free(p); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslDeleter<EVP_PKEY_CTX_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OsslDeleter<EVP_CIPHER_CTX_free>>;
using EvpCipherPtr = std::unique_ptr<EVP_CIPHER, OsslDeleter<EVP_CIPHER_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslDeleter<EVP_MD_CTX_free>>;
using EvpMdPtr = std::unique_ptr<EVP_MD, OsslDeleter<EVP_MD_free>>;
using EvpMacPtr = std::unique_ptr<EVP_MAC, OsslDeleter<EVP_MAC_free>>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OsslDeleter<EVP_MAC_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OsslDeleter<BN_clear_free>>;  // may hold private exponents
using BnCtxPtr = std::unique_ptr<BN_CTX, OsslDeleter<BN_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509_free>>;

// `what` and the oldest queued OpenSSL error as a Status (kInternal unless the caller knows the
// failure comes from bad input); clears the queue so later calls start clean.
Status openssl_error(std::string_view what, StatusCode code = StatusCode::kInternal);

// A digest or cipher fetched by name once per thread and kept: an implicit fetch (EVP_sha1(),
// EVP_CIPHER_fetch per use) is a locked name lookup that costs more than hashing or encrypting a
// short IKE message. nullptr when the provider lacks it.
const EVP_MD* fetched_digest(const char* name);
const EVP_CIPHER* fetched_cipher(const char* name);

}  // namespace dpvpn::ike
