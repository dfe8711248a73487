#pragma once
// Certificate: an X.509 certificate as IKEv2 uses it: the CERT payload data (DER, encoding 4
// "X.509 Certificate - Signature"), the public key that checks the peer's AUTH, and the names
// that must match the peer's ID payload (RFC 7296 3.5, RFC 4945 3.1): the subject DN for
// ID_DER_ASN1_DN, subjectAltName IP addresses, DNS names and email addresses for ID_IPV4_ADDR /
// ID_IPV6_ADDR, ID_FQDN and ID_RFC822_ADDR.
#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ike/message/constants.hpp"
#include "ike/crypto/secure_bytes.hpp"
#include "net/ip_addr.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

// IdType (the ID payload's type numbers) is the wire format's: ike/message/constants.hpp.

struct SubjectAltNames {
  std::vector<IpAddr> ips;
  std::vector<std::string> dns;
  std::vector<std::string> emails;
};

class Certificate {
 public:
  // Every certificate in a PEM file, in file order (a CA bundle or a chain); an error if none.
  static Status load_pem_file(const std::string& path, std::vector<Certificate>* out);
  // A certificate from a CERT payload; nullopt if the octets are not one DER certificate.
  static std::optional<Certificate> from_der(ByteView der);

  const std::vector<uint8_t>& der() const { return der_; }
  std::vector<uint8_t> subject_der() const;
  std::string subject() const;  // one line, RFC 2253 order, for logs
  SubjectAltNames subject_alt_names() const;

  // Whether the peer's ID (type and identification data) names this certificate. FQDN and
  // email compare case-insensitively; a DN compares as X.509 names, not octet for octet.
  bool matches_id(IdType type, ByteView id_data) const;

  EVP_PKEY* public_key() const;  // owned by the certificate
  X509* x509() const { return x509_.get(); }

 private:
  explicit Certificate(X509* x509);  // takes ownership
  std::shared_ptr<X509> x509_;       // immutable, so copies share it
  std::vector<uint8_t> der_;
};

}  // namespace dpvpn::ike
