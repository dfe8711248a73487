#include "ike/engine/credentials.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ike/engine/wire_convert.hpp"

namespace dpvpn::ike {

namespace {

std::vector<uint8_t> spki_sha1(const Certificate& ca) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(ca.x509()), &der);
  if (len <= 0) return {};
  std::vector<uint8_t> hash(20);
  unsigned int out_len = 0;
  EVP_Digest(der, static_cast<size_t>(len), hash.data(), &out_len, EVP_sha1(), nullptr);
  OPENSSL_free(der);
  return hash;
}

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// "C=CH, O=strongSwan, CN=moon" -> DER, entries in the order written; nullopt if not a DN.
std::optional<std::vector<uint8_t>> dn_der(std::string_view text) {
  X509_NAME* name = X509_NAME_new();
  bool ok = name != nullptr;
  size_t start = 0;
  while (ok && start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string rdn = trim(text.substr(start, comma - start));
    const size_t eq = rdn.find('=');
    ok = eq != std::string::npos && eq > 0 &&
         X509_NAME_add_entry_by_txt(name, trim(rdn.substr(0, eq)).c_str(), MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(rdn.c_str() + eq + 1), -1, -1, 0) == 1;
    start = comma + 1;
  }
  std::optional<std::vector<uint8_t>> out;
  unsigned char* der = nullptr;
  const int len = ok ? i2d_X509_NAME(name, &der) : -1;
  if (len > 0) out = std::vector<uint8_t>(der, der + len);
  OPENSSL_free(der);
  X509_NAME_free(name);
  return out;
}

bool same_name(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  const unsigned char *pa = a.data(), *pb = b.data();
  X509_NAME* na = d2i_X509_NAME(nullptr, &pa, static_cast<long>(a.size()));
  X509_NAME* nb = d2i_X509_NAME(nullptr, &pb, static_cast<long>(b.size()));
  const bool same = na != nullptr && nb != nullptr && X509_NAME_cmp(na, nb) == 0;
  X509_NAME_free(na);
  X509_NAME_free(nb);
  return same;
}

}  // namespace

Status load_credentials(const controld::ConnectionConfig& conn, std::unique_ptr<Credentials>* out) {
  auto c = std::make_unique<Credentials>();
  if (Status s = PrivateKey::load_pem_file(conn.key, &c->key); !s) return s;
  if (Status s = Certificate::load_pem_file(conn.cert, &c->chain); !s) return s;
  if (Status s = TrustStore::create(&c->trust); !s) return s;
  for (const std::string& path : conn.cacerts) {
    std::vector<Certificate> cas;
    if (Status s = Certificate::load_pem_file(path, &cas); !s) return s;
    for (const Certificate& ca : cas) {
      if (Status s = c->trust->add_ca(ca); !s) return s;
      const std::vector<uint8_t> hash = spki_sha1(ca);
      c->certreq_authorities.insert(c->certreq_authorities.end(), hash.begin(), hash.end());
    }
  }
  *out = std::move(c);
  return Status::ok();
}

IdPayload local_id_payload(const controld::ConnectionConfig& conn, const Credentials* credentials) {
  if (conn.local_id.type == controld::IkeIdentity::Type::kDn && credentials != nullptr) {
    return IdPayload{IdType::kDerAsn1Dn, credentials->chain.front().subject_der()};
  }
  return to_id_payload(conn.local_id);
}

bool peer_id_matches(const controld::IkeIdentity& configured, const IdPayload& received) {
  if (configured.type != controld::IkeIdentity::Type::kDn) return id_matches(configured, received);
  const std::optional<std::vector<uint8_t>> want = dn_der(configured.value);
  return received.type == IdType::kDerAsn1Dn && want && same_name(*want, received.data);
}

}  // namespace dpvpn::ike
