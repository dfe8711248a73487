#include "ike/crypto/private_key.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ike/crypto/openssl_util.hpp"

namespace dpvpn::ike {

Status PrivateKey::load_pem_file(const std::string& path, std::unique_ptr<PrivateKey>* out) {
  std::unique_ptr<BIO, OsslDeleter<BIO_free>> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return openssl_error("cannot open private key " + path, StatusCode::kNotFound);
  // No passphrase callback: an encrypted key fails here instead of prompting on a terminal.
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(""));
  if (key == nullptr) return openssl_error("no usable private key in " + path, StatusCode::kInvalidArgument);
  out->reset(new PrivateKey(key));
  return Status::ok();
}

PrivateKey::~PrivateKey() { EVP_PKEY_free(key_); }

}  // namespace dpvpn::ike
