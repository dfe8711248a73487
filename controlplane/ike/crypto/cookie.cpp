#include "ike/crypto/cookie.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <string>

#include "ike/crypto/ike_spi.hpp"
#include "ike/crypto/ip_octets.hpp"
#include "ike/crypto/openssl_util.hpp"
#include "ike/crypto/random.hpp"

namespace dpvpn::ike {

Status CookieGenerator::create(std::unique_ptr<CookieGenerator>* out) {
  std::unique_ptr<CookieGenerator> gen(new CookieGenerator());
  gen->current_.bytes.resize(kSecretSize);
  if (Status st = random_bytes(gen->current_.bytes); !st) return st;
  *out = std::move(gen);
  return Status::ok();
}

Status CookieGenerator::rotate() {
  SecureBytes secret(kSecretSize);
  if (Status st = random_bytes(secret); !st) return st;
  return install_secret(static_cast<uint8_t>(current_.version + 1), secret);
}

Status CookieGenerator::install_secret(uint8_t version, ByteView secret) {
  if (secret.size() != kSecretSize) return Status(StatusCode::kInvalidArgument, "cookie secret must be 32 octets");
  if (version == current_.version) {
    return Status(StatusCode::kInvalidArgument, "cookie secret version " + std::to_string(version) + " is in use");
  }
  previous_ = std::move(current_);
  current_ = Secret{version, secure_copy(secret)};
  return Status::ok();
}

Status CookieGenerator::hash(const Secret& secret, ByteView ni, const IpAddr& initiator, uint64_t spi_i,
                             std::vector<uint8_t>* cookie) {
  const auto spi = spi_octets(spi_i);
  const auto ip = ip_octets(initiator);
  std::vector<uint8_t> out(kCookieSize);
  out[0] = secret.version;
  thread_local EvpMdCtxPtr ctx(EVP_MD_CTX_new());  // reset by each init
  const EVP_MD* sha256 = fetched_digest("SHA256");
  unsigned int len = 0;
  if (!ctx || sha256 == nullptr || EVP_DigestInit_ex2(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), ni.data(), ni.size()) != 1 || EVP_DigestUpdate(ctx.get(), ip.data(), ip.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), spi.data(), spi.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), secret.bytes.data(), secret.bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data() + 1, &len) != 1 || len + 1 != kCookieSize) {
    return openssl_error("cookie hash");
  }
  *cookie = std::move(out);
  return Status::ok();
}

Status CookieGenerator::make(ByteView ni, const IpAddr& initiator, uint64_t spi_i, std::vector<uint8_t>* cookie) const {
  return hash(current_, ni, initiator, spi_i, cookie);
}

bool CookieGenerator::check(ByteView cookie, ByteView ni, const IpAddr& initiator, uint64_t spi_i) const {
  if (cookie.size() != kCookieSize) return false;
  const Secret* secret = cookie[0] == current_.version                 ? &current_
                         : previous_ && cookie[0] == previous_->version ? &*previous_
                                                                        : nullptr;
  std::vector<uint8_t> expected;
  if (secret == nullptr || !hash(*secret, ni, initiator, spi_i, &expected)) return false;
  return CRYPTO_memcmp(expected.data(), cookie.data(), kCookieSize) == 0;
}

}  // namespace dpvpn::ike
