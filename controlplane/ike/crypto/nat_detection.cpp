#include "ike/crypto/nat_detection.hpp"

#include <openssl/evp.h>

#include "ike/crypto/ike_spi.hpp"
#include "ike/crypto/ip_octets.hpp"
#include "ike/crypto/openssl_util.hpp"

namespace dpvpn::ike {

Status nat_detection_hash(uint64_t spi_i, uint64_t spi_r, const IpAddr& addr, uint16_t port, NatDetectionHash* out) {
  const auto spi_i_octets = spi_octets(spi_i);
  const auto spi_r_octets = spi_octets(spi_r);
  const uint8_t port_octets[2] = {static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
  const auto ip = ip_octets(addr);
  thread_local EvpMdCtxPtr ctx(EVP_MD_CTX_new());  // reset by each init
  const EVP_MD* sha1 = fetched_digest("SHA1");
  unsigned int len = 0;
  if (!ctx || sha1 == nullptr || EVP_DigestInit_ex2(ctx.get(), sha1, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), spi_i_octets.data(), spi_i_octets.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), spi_r_octets.data(), spi_r_octets.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), ip.data(), ip.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), port_octets, sizeof(port_octets)) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out->data(), &len) != 1 || len != out->size()) {
    return openssl_error("NAT detection hash");
  }
  return Status::ok();
}

}  // namespace dpvpn::ike
