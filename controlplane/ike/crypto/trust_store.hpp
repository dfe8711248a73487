#pragma once
// TrustStore: the CA certificates a peer's certificate must chain to (X509_STORE), at the current
// time. Revocation (CRL, OCSP) is not checked.
#include <openssl/types.h>

#include <memory>
#include <span>
#include <string>

#include "ike/crypto/certificate.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

class TrustStore {
 public:
  static Status create(std::unique_ptr<TrustStore>* out);
  ~TrustStore();
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

  Status add_ca(const Certificate& ca);
  Status add_ca_file(const std::string& path);  // every certificate in a PEM file

  // kInvalidArgument with OpenSSL's reason unless `end_entity` chains to one of the CAs;
  // `intermediates` (the peer's further CERT payloads) may fill the gap but are not trusted.
  Status verify(const Certificate& end_entity, std::span<const Certificate> intermediates) const;

 private:
  explicit TrustStore(X509_STORE* store) : store_(store) {}
  X509_STORE* store_;  // owned
};

}  // namespace dpvpn::ike
