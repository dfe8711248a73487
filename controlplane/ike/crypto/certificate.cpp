#include "ike/crypto/certificate.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "ike/crypto/openssl_util.hpp"

namespace dpvpn::ike {

namespace {

using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OsslDeleter<X509_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OsslDeleter<GENERAL_NAMES_free>>;

std::string asn1_text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

bool any_iequal(const std::vector<std::string>& names, ByteView id_data) {
  const std::string_view id(reinterpret_cast<const char*>(id_data.data()), id_data.size());
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return iequals(n, id); });
}

std::optional<IpAddr> ip_from_octets(ByteView octets) {
  if (octets.size() == 4) {
    return IpAddr::v4(static_cast<uint32_t>(octets[0]) << 24 | static_cast<uint32_t>(octets[1]) << 16 |
                      static_cast<uint32_t>(octets[2]) << 8 | octets[3]);
  }
  if (octets.size() == 16) {
    std::array<uint8_t, 16> bytes;
    std::copy(octets.begin(), octets.end(), bytes.begin());
    return IpAddr::v6(bytes);
  }
  return std::nullopt;
}

std::vector<uint8_t> i2d_der(X509* x509) {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(x509, &buf);
  if (len <= 0) return {};
  std::vector<uint8_t> der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

}  // namespace

Certificate::Certificate(X509* x509) : x509_(x509, X509_free), der_(i2d_der(x509)) {}

Status Certificate::load_pem_file(const std::string& path, std::vector<Certificate>* out) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return openssl_error("cannot open certificate file " + path, StatusCode::kNotFound);
  std::vector<Certificate> certs;
  while (X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.push_back(Certificate(x509));
  ERR_clear_error();  // the read that ends the loop queues "no start line"
  if (certs.empty()) return Status(StatusCode::kInvalidArgument, "no certificate in " + path);
  *out = std::move(certs);
  return Status::ok();
}

std::optional<Certificate> Certificate::from_der(ByteView der) {
  const unsigned char* p = der.data();
  X509* x509 = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x509 == nullptr) {
    ERR_clear_error();
    return std::nullopt;
  }
  Certificate cert(x509);
  if (p != der.data() + der.size()) return std::nullopt;  // trailing octets: not one certificate
  return cert;
}

std::vector<uint8_t> Certificate::subject_der() const {
  unsigned char* buf = nullptr;
  const int len = i2d_X509_NAME(X509_get_subject_name(x509_.get()), &buf);
  if (len <= 0) return {};
  std::vector<uint8_t> der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

std::string Certificate::subject() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(x509_.get()), 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

SubjectAltNames Certificate::subject_alt_names() const {
  SubjectAltNames out;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    switch (name->type) {
      case GEN_DNS: out.dns.push_back(asn1_text(name->d.dNSName)); break;
      case GEN_EMAIL: out.emails.push_back(asn1_text(name->d.rfc822Name)); break;
      case GEN_IPADD: {
        const ByteView octets(ASN1_STRING_get0_data(name->d.iPAddress),
                              static_cast<size_t>(ASN1_STRING_length(name->d.iPAddress)));
        if (std::optional<IpAddr> ip = ip_from_octets(octets)) out.ips.push_back(*ip);
        break;
      }
      default: break;
    }
  }
  return out;
}

bool Certificate::matches_id(IdType type, ByteView id_data) const {
  switch (type) {
    case IdType::kIpv4Addr:
    case IdType::kIpv6Addr: {
      if (id_data.size() != (type == IdType::kIpv4Addr ? 4u : 16u)) return false;
      const std::optional<IpAddr> ip = ip_from_octets(id_data);
      const std::vector<IpAddr> ips = subject_alt_names().ips;
      return std::find(ips.begin(), ips.end(), *ip) != ips.end();
    }
    case IdType::kFqdn: return any_iequal(subject_alt_names().dns, id_data);
    case IdType::kRfc822Addr: return any_iequal(subject_alt_names().emails, id_data);
    case IdType::kDerAsn1Dn: {
      const unsigned char* p = id_data.data();
      X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(id_data.size())));
      if (!name) {
        ERR_clear_error();
        return false;
      }
      return p == id_data.data() + id_data.size() && X509_NAME_cmp(name.get(), X509_get_subject_name(x509_.get())) == 0;
    }
    case IdType::kDerAsn1Gn:
    case IdType::kKeyId: return false;
  }
  return false;
}

EVP_PKEY* Certificate::public_key() const { return X509_get0_pubkey(x509_.get()); }

}  // namespace dpvpn::ike
