#pragma once
// CookieGenerator: stateless anti-DoS cookies for IKE_SA_INIT (RFC 7296 2.6):
//   Cookie = <VersionIDofSecret> | SHA-256(Ni | IPi | SPIi | <secret>)
// one version octet and 32 hash octets. Cookies of the current and the previous secret are
// accepted, so rotating every T seconds lets a cookie live between T and 2T. Not thread-safe.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "ike/crypto/secure_bytes.hpp"
#include "net/ip_addr.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

class CookieGenerator {
 public:
  static constexpr size_t kSecretSize = 32;
  static constexpr size_t kCookieSize = 1 + 32;

  // Starts with a random secret of version 0.
  static Status create(std::unique_ptr<CookieGenerator>* out);

  // A fresh random secret with the next version; the current one becomes the previous one.
  Status rotate();
  // A given secret as the current one, for cluster members that must accept each other's cookies.
  Status install_secret(uint8_t version, ByteView secret);

  // The cookie for an initiator: its Nonce Data, source address and SPI from IKE_SA_INIT.
  Status make(ByteView ni, const IpAddr& initiator, uint64_t spi_i, std::vector<uint8_t>* cookie) const;
  // Whether a returned cookie is one of ours for these inputs (constant-time comparison).
  bool check(ByteView cookie, ByteView ni, const IpAddr& initiator, uint64_t spi_i) const;

 private:
  struct Secret {
    uint8_t version = 0;
    SecureBytes bytes;
  };
  CookieGenerator() = default;
  static Status hash(const Secret& secret, ByteView ni, const IpAddr& initiator, uint64_t spi_i,
                     std::vector<uint8_t>* cookie);

  Secret current_;
  std::optional<Secret> previous_;
};

}  // namespace dpvpn::ike
