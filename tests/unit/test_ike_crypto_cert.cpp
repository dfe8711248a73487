// Certificates, trust chains and RFC 7427 signature AUTH, with a PKI generated at test time
// (keys and certificates written as PEM into a temporary directory; none are committed).
#include <catch2/catch.hpp>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ike/crypto/certificate.hpp"
#include "ike/crypto/private_key.hpp"
#include "ike/crypto/signature_auth.hpp"
#include "ike/crypto/trust_store.hpp"
#include "ike_crypto/vector_file.hpp"

namespace dpvpn::ike {
namespace {

using test::from_hex;
using test::to_hex;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Key = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Key ec_key(const char* curve) { return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }
Key rsa_key() { return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))); }

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key`, signed by issuer_key (self-signed when issuer is null).
Cert make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca,
               const char* san = nullptr, long valid_from = -60, long valid_to = 3600) {
  static long serial = 1;
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), valid_from);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), valid_to);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("dpvpn test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_ext(cert.get(), signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (ca) add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (san != nullptr) add_ext(cert.get(), signer, NID_subject_alt_name, san);
  REQUIRE(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0);
  return cert;
}

// Test keys and certificates in a temporary directory, made once for all test cases.
struct Pki {
  std::filesystem::path dir;
  Key ca_key = ec_key("P-256");
  Key other_ca_key = ec_key("P-256");
  Key root_key = ec_key("P-384");
  Key inter_key = ec_key("P-256");
  Key ec256 = ec_key("P-256");
  Key ec384 = ec_key("P-384");
  Key rsa = rsa_key();
  Cert ca, other_ca, root, inter, gw_ec256, gw_ec384, gw_rsa, gw_chained, gw_expired;

  Pki() {
    char tmpl[] = "/tmp/dpvpn_ike_crypto_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    ca = make_cert("Test CA", ca_key.get(), nullptr, nullptr, true);
    other_ca = make_cert("Other CA", other_ca_key.get(), nullptr, nullptr, true);
    root = make_cert("Root CA", root_key.get(), nullptr, nullptr, true);
    inter = make_cert("Intermediate CA", inter_key.get(), root.get(), root_key.get(), true);
    gw_ec256 = make_cert("gw-a", ec256.get(), ca.get(), ca_key.get(), false,
                         "DNS:gw-a.example.net,IP:192.0.2.1,IP:2001:db8::1,email:vpn@example.net");
    gw_ec384 = make_cert("gw-b", ec384.get(), ca.get(), ca_key.get(), false, "DNS:gw-b.example.net");
    gw_rsa = make_cert("gw-rsa", rsa.get(), ca.get(), ca_key.get(), false, "IP:198.51.100.4");
    gw_chained = make_cert("gw-c", ec256.get(), inter.get(), inter_key.get(), false, "DNS:gw-c.example.net");
    gw_expired = make_cert("gw-old", ec256.get(), ca.get(), ca_key.get(), false, nullptr, -7200, -3600);
  }
  ~Pki() { std::filesystem::remove_all(dir); }

  std::string write_certs(const std::string& file, std::initializer_list<X509*> certs) const {
    const std::string path = (dir / file).string();
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "w"), BIO_free);
    for (X509* c : certs) REQUIRE(PEM_write_bio_X509(bio.get(), c) == 1);
    return path;
  }
  std::string write_key(const std::string& file, EVP_PKEY* key, const char* passphrase = nullptr) const {
    const std::string path = (dir / file).string();
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "w"), BIO_free);
    const EVP_CIPHER* cipher = passphrase != nullptr ? EVP_aes_256_cbc() : nullptr;
    REQUIRE(PEM_write_bio_PrivateKey(bio.get(), key, cipher, nullptr, 0, nullptr, const_cast<char*>(passphrase)) == 1);
    return path;
  }

  Certificate load(const std::string& file, X509* cert) const {
    std::vector<Certificate> certs;
    REQUIRE(Certificate::load_pem_file(write_certs(file, {cert}), &certs).is_ok());
    REQUIRE(certs.size() == 1);
    return certs[0];
  }
  std::unique_ptr<PrivateKey> load_key(const std::string& file, EVP_PKEY* key) const {
    std::unique_ptr<PrivateKey> out;
    REQUIRE(PrivateKey::load_pem_file(write_key(file, key), &out).is_ok());
    return out;
  }
};

const Pki& pki() {
  static const Pki instance;
  return instance;
}

std::vector<uint8_t> der_of(X509* cert) {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(cert, &buf);
  std::vector<uint8_t> der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

std::unique_ptr<TrustStore> store_with(const Certificate& ca) {
  std::unique_ptr<TrustStore> store;
  REQUIRE(TrustStore::create(&store).is_ok());
  REQUIRE(store->add_ca(ca).is_ok());
  return store;
}

TEST_CASE("Certificates load from PEM and give the CERT payload DER") {
  const Pki& p = pki();
  std::vector<Certificate> certs;
  REQUIRE(Certificate::load_pem_file(p.write_certs("bundle.pem", {p.ca.get(), p.other_ca.get()}), &certs).is_ok());
  REQUIRE(certs.size() == 2);
  CHECK(certs[0].der() == der_of(p.ca.get()));
  CHECK(certs[1].der() == der_of(p.other_ca.get()));

  const auto parsed = Certificate::from_der(der_of(p.gw_ec256.get()));
  REQUIRE(parsed);
  CHECK(parsed->der() == der_of(p.gw_ec256.get()));
  auto trailing = der_of(p.gw_ec256.get());
  trailing.push_back(0);
  CHECK_FALSE(Certificate::from_der(trailing));
  CHECK_FALSE(Certificate::from_der(std::vector<uint8_t>(100, 0x30)));
  CHECK_FALSE(Certificate::from_der(ByteView()));

  CHECK(Certificate::load_pem_file((p.dir / "missing.pem").string(), &certs).code() == StatusCode::kNotFound);
  const std::string not_pem = (p.dir / "not.pem").string();
  std::ofstream(not_pem) << "hello\n";
  CHECK(Certificate::load_pem_file(not_pem, &certs).code() == StatusCode::kInvalidArgument);
  CHECK(certs.size() == 2);
}

TEST_CASE("Certificate names: subject DN and subjectAltNames") {
  const Pki& p = pki();
  const Certificate gw = p.load("gw_ec256.pem", p.gw_ec256.get());
  CHECK(gw.subject() == "CN=gw-a,O=dpvpn test");
  unsigned char* buf = nullptr;
  const int len = i2d_X509_NAME(X509_get_subject_name(p.gw_ec256.get()), &buf);
  CHECK(gw.subject_der() == std::vector<uint8_t>(buf, buf + len));
  OPENSSL_free(buf);

  const SubjectAltNames san = gw.subject_alt_names();
  CHECK(san.dns == std::vector<std::string>{"gw-a.example.net"});
  CHECK(san.emails == std::vector<std::string>{"vpn@example.net"});
  REQUIRE(san.ips.size() == 2);
  CHECK(san.ips[0] == *IpAddr::parse("192.0.2.1"));
  CHECK(san.ips[1] == *IpAddr::parse("2001:db8::1"));
  CHECK(p.load("ca.pem", p.ca.get()).subject_alt_names().dns.empty());
}

TEST_CASE("Certificate matches the peer's ID payload") {
  const Pki& p = pki();
  const Certificate gw = p.load("gw_ec256.pem", p.gw_ec256.get());
  auto bytes = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  CHECK(gw.matches_id(IdType::kIpv4Addr, from_hex("c0000201")));
  CHECK_FALSE(gw.matches_id(IdType::kIpv4Addr, from_hex("c0000202")));
  CHECK_FALSE(gw.matches_id(IdType::kIpv4Addr, from_hex("c00002")));
  CHECK(gw.matches_id(IdType::kIpv6Addr, from_hex("20010db8000000000000000000000001")));
  CHECK_FALSE(gw.matches_id(IdType::kIpv6Addr, from_hex("20010db8000000000000000000000002")));
  CHECK(gw.matches_id(IdType::kFqdn, bytes("gw-a.example.net")));
  CHECK(gw.matches_id(IdType::kFqdn, bytes("GW-A.Example.NET")));
  CHECK_FALSE(gw.matches_id(IdType::kFqdn, bytes("gw-a.example.ne")));
  CHECK_FALSE(gw.matches_id(IdType::kFqdn, bytes("vpn@example.net")));
  CHECK(gw.matches_id(IdType::kRfc822Addr, bytes("vpn@example.net")));
  CHECK_FALSE(gw.matches_id(IdType::kRfc822Addr, bytes("gw-a.example.net")));
  CHECK(gw.matches_id(IdType::kDerAsn1Dn, gw.subject_der()));
  CHECK_FALSE(gw.matches_id(IdType::kDerAsn1Dn, p.load("gw_ec384.pem", p.gw_ec384.get()).subject_der()));
  CHECK_FALSE(gw.matches_id(IdType::kDerAsn1Dn, from_hex("3003020101")));
  CHECK_FALSE(gw.matches_id(IdType::kDerAsn1Dn, std::vector<uint8_t>(5, 0xff)));
  CHECK_FALSE(gw.matches_id(IdType::kKeyId, bytes("gw-a")));
}

TEST_CASE("Trust store: chains to the configured CA only") {
  const Pki& p = pki();
  const Certificate ca = p.load("ca.pem", p.ca.get());
  const Certificate gw = p.load("gw_ec256.pem", p.gw_ec256.get());
  CHECK(store_with(ca)->verify(gw, {}).is_ok());
  const Status other = store_with(p.load("other_ca.pem", p.other_ca.get()))->verify(gw, {});
  CHECK(other.code() == StatusCode::kInvalidArgument);
  CHECK(other.message().find("CN=gw-a") != std::string::npos);

  const Status expired = store_with(ca)->verify(p.load("gw_old.pem", p.gw_expired.get()), {});
  CHECK(expired.code() == StatusCode::kInvalidArgument);
  CHECK(expired.message().find("expired") != std::string::npos);

  // Root -> intermediate (sent by the peer, untrusted) -> gateway.
  std::unique_ptr<TrustStore> roots;
  REQUIRE(TrustStore::create(&roots).is_ok());
  REQUIRE(roots->add_ca_file(p.write_certs("roots.pem", {p.root.get(), p.other_ca.get()})).is_ok());
  const Certificate chained = p.load("gw_chained.pem", p.gw_chained.get());
  const std::vector<Certificate> intermediates = {p.load("inter.pem", p.inter.get())};
  CHECK(roots->verify(chained, intermediates).is_ok());
  CHECK(roots->verify(chained, {}).code() == StatusCode::kInvalidArgument);
  CHECK(store_with(ca)->verify(chained, intermediates).code() == StatusCode::kInvalidArgument);
  CHECK(roots->add_ca_file((p.dir / "missing.pem").string()).code() == StatusCode::kNotFound);
}

TEST_CASE("Private keys load from unencrypted PEM only") {
  const Pki& p = pki();
  std::unique_ptr<PrivateKey> key;
  CHECK(PrivateKey::load_pem_file(p.write_key("ec.pem", p.ec256.get()), &key).is_ok());
  CHECK(PrivateKey::load_pem_file((p.dir / "missing.key").string(), &key).code() == StatusCode::kNotFound);
  CHECK(PrivateKey::load_pem_file(p.write_key("enc.pem", p.ec256.get(), "secret"), &key).code() ==
        StatusCode::kInvalidArgument);
  CHECK(PrivateKey::load_pem_file(p.write_certs("cert_as_key.pem", {p.ca.get()}), &key).code() ==
        StatusCode::kInvalidArgument);
}

// RFC 7427 Appendix A: the AlgorithmIdentifier octets each AUTH payload must start with.
struct SchemeCase {
  const char* what;
  EVP_PKEY* key;
  X509* cert;
  SignatureScheme scheme;
  const char* algorithm_id;
};

TEST_CASE("Signature AUTH (RFC 7427): ECDSA P-256 / P-384 and RSA, sign and verify") {
  const Pki& p = pki();
  const SchemeCase cases[] = {
      {"ecdsa-with-sha256", p.ec256.get(), p.gw_ec256.get(), SignatureScheme::kEcdsaSha256, "300a06082a8648ce3d040302"},
      {"ecdsa-with-sha384", p.ec384.get(), p.gw_ec384.get(), SignatureScheme::kEcdsaSha384, "300a06082a8648ce3d040303"},
      {"ecdsa-with-sha512", p.ec256.get(), p.gw_ec256.get(), SignatureScheme::kEcdsaSha512, "300a06082a8648ce3d040304"},
      {"sha256WithRSAEncryption", p.rsa.get(), p.gw_rsa.get(), SignatureScheme::kRsaPkcs1Sha256,
       "300d06092a864886f70d01010b0500"},
      {"sha384WithRSAEncryption", p.rsa.get(), p.gw_rsa.get(), SignatureScheme::kRsaPkcs1Sha384,
       "300d06092a864886f70d01010c0500"},
      {"sha512WithRSAEncryption", p.rsa.get(), p.gw_rsa.get(), SignatureScheme::kRsaPkcs1Sha512,
       "300d06092a864886f70d01010d0500"},
  };
  const std::vector<uint8_t> octets(500, 0x5a);
  const Certificate unrelated = p.load("gw_rsa.pem", p.gw_rsa.get());
  for (const SchemeCase& c : cases) {
    INFO(c.what);
    const auto key = p.load_key("key.pem", c.key);
    const Certificate cert = p.load("cert.pem", c.cert);
    std::vector<uint8_t> auth;
    REQUIRE(sign_auth_data(*key, c.scheme, octets, &auth).is_ok());
    const auto algorithm_id = from_hex(c.algorithm_id);
    REQUIRE(auth.size() > 1 + algorithm_id.size());
    CHECK(auth[0] == algorithm_id.size());
    CHECK(to_hex(std::vector<uint8_t>(auth.begin() + 1, auth.begin() + 1 + algorithm_id.size())) == c.algorithm_id);
    const std::vector<uint8_t> signature(auth.begin() + 1 + algorithm_id.size(), auth.end());
    if (EVP_PKEY_get_base_id(c.key) == EVP_PKEY_EC) {
      // A DER ECDSA-Sig-Value, nothing after it.
      const unsigned char* q = signature.data();
      ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &q, static_cast<long>(signature.size()));
      CHECK(sig != nullptr);
      CHECK(q == signature.data() + signature.size());
      ECDSA_SIG_free(sig);
    } else {
      CHECK(signature.size() == 256);  // RSA-2048 PKCS#1 v1.5
    }

    CHECK(verify_auth_data(cert, auth, octets).is_ok());
    auto other_octets = octets;
    other_octets[100] ^= 1;
    CHECK(verify_auth_data(cert, auth, other_octets).code() == StatusCode::kInvalidArgument);
    auto bad_sig = auth;
    bad_sig[bad_sig.size() - 2] ^= 1;
    CHECK(verify_auth_data(cert, bad_sig, octets).code() == StatusCode::kInvalidArgument);
    if (c.cert != p.gw_rsa.get()) CHECK(verify_auth_data(unrelated, auth, octets).code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Signature AUTH: default schemes, key mismatches and unsupported algorithms") {
  const Pki& p = pki();
  const auto ec256 = p.load_key("ec256.pem", p.ec256.get());
  const auto ec384 = p.load_key("ec384.pem", p.ec384.get());
  const auto rsa = p.load_key("rsa.pem", p.rsa.get());
  SignatureScheme scheme;
  REQUIRE(default_signature_scheme(*ec256, &scheme).is_ok());
  CHECK(scheme == SignatureScheme::kEcdsaSha256);
  REQUIRE(default_signature_scheme(*ec384, &scheme).is_ok());
  CHECK(scheme == SignatureScheme::kEcdsaSha384);
  REQUIRE(default_signature_scheme(*rsa, &scheme).is_ok());
  CHECK(scheme == SignatureScheme::kRsaPkcs1Sha256);

  const std::vector<uint8_t> octets(64, 1);
  std::vector<uint8_t> auth;
  CHECK(sign_auth_data(*ec256, SignatureScheme::kRsaPkcs1Sha256, octets, &auth).code() == StatusCode::kInvalidArgument);
  CHECK(sign_auth_data(*rsa, SignatureScheme::kEcdsaSha256, octets, &auth).code() == StatusCode::kInvalidArgument);

  // An ECDSA AUTH checked against an RSA certificate.
  REQUIRE(sign_auth_data(*ec256, SignatureScheme::kEcdsaSha256, octets, &auth).is_ok());
  const Certificate rsa_cert = p.load("rsa_cert.pem", p.gw_rsa.get());
  CHECK(verify_auth_data(rsa_cert, auth, octets).message().find("does not fit") != std::string::npos);

  const Certificate ec_cert = p.load("ec_cert.pem", p.gw_ec256.get());
  auto with_algorithm = [&](const std::string& algorithm_hex) {
    std::vector<uint8_t> out = from_hex(algorithm_hex);
    out.insert(out.begin(), static_cast<uint8_t>(out.size()));
    out.insert(out.end(), auth.begin() + 13, auth.end());  // the ECDSA signature
    return out;
  };
  // ECDSA AlgorithmIdentifier with an explicit NULL parameter: accepted.
  CHECK(verify_auth_data(ec_cert, with_algorithm("300c06082a8648ce3d0403020500"), octets).is_ok());
  // RSASSA-PSS (1.2.840.113549.1.1.10) and ecdsa-with-SHA1: not supported.
  CHECK(verify_auth_data(ec_cert, with_algorithm("300b06092a864886f70d01010a"), octets).message().find("unsupported") !=
        std::string::npos);
  CHECK(verify_auth_data(ec_cert, with_algorithm("300906072a8648ce3d0401"), octets).message().find("unsupported") !=
        std::string::npos);
  CHECK(verify_auth_data(ec_cert, with_algorithm("300a06082a8648ce3d0403"), octets).code() ==
        StatusCode::kInvalidArgument);  // malformed DER
  CHECK(verify_auth_data(ec_cert, std::vector<uint8_t>{}, octets).code() == StatusCode::kInvalidArgument);
  CHECK(verify_auth_data(ec_cert, std::vector<uint8_t>{12, 0x30}, octets).code() == StatusCode::kInvalidArgument);
  CHECK(verify_auth_data(ec_cert, std::vector<uint8_t>(auth.begin(), auth.begin() + 13), octets).code() ==
        StatusCode::kInvalidArgument);  // no signature
}

}  // namespace
}  // namespace dpvpn::ike
