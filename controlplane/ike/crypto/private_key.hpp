#pragma once
// PrivateKey: this gateway's signing key (EC or RSA), loaded from an unencrypted PEM file
// (PKCS#8 or the traditional SEC1/PKCS#1 forms). OpenSSL wipes the key when it is freed.
#include <openssl/types.h>

#include <memory>
#include <string>

#include "util/status.hpp"

namespace dpvpn::ike {

class PrivateKey {
 public:
  static Status load_pem_file(const std::string& path, std::unique_ptr<PrivateKey>* out);
  ~PrivateKey();
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;

  EVP_PKEY* evp_pkey() const { return key_; }

 private:
  explicit PrivateKey(EVP_PKEY* key) : key_(key) {}
  EVP_PKEY* key_;  // owned
};

}  // namespace dpvpn::ike
