#pragma once
// Credentials of a connection with `auth: pubkey`: our key and certificate, the CAs the peer's
// certificate must chain to, and the CERTREQ data naming those CAs. Loaded once per connection.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controld_config.hpp"
#include "ike/crypto/certificate.hpp"
#include "ike/crypto/private_key.hpp"
#include "ike/crypto/trust_store.hpp"
#include "ike/message/simple_payloads.hpp"

namespace dpvpn::ike {

struct Credentials {
  std::unique_ptr<PrivateKey> key;
  std::vector<Certificate> chain;             // ours, end entity first
  std::unique_ptr<TrustStore> trust;
  std::vector<uint8_t> certreq_authorities;   // SHA-1 of each CA's SubjectPublicKeyInfo (RFC 7296 §3.7)
};

Status load_credentials(const controld::ConnectionConfig& conn, std::unique_ptr<Credentials>* out);

// Our ID payload: the configured identity, except that a DN is our certificate's subject in DER.
IdPayload local_id_payload(const controld::ConnectionConfig& conn, const Credentials* credentials);

// Whether the peer's ID payload is the identity configured for it. DNs are compared as X.509
// names (the configured text, "C=CH, O=x, CN=gw", in the order written, against the DER received).
bool peer_id_matches(const controld::IkeIdentity& configured, const IdPayload& received);

}  // namespace dpvpn::ike
