#include "ike/crypto/random.hpp"

#include <openssl/rand.h>

#include <climits>
#include <cstring>

#include "ike/crypto/openssl_util.hpp"

namespace dpvpn::ike {

Status random_bytes(std::span<uint8_t> out) {
  // RAND_bytes takes an int length; IKE never asks for more than a few hundred bytes at once.
  if (out.size() > static_cast<size_t>(INT_MAX)) {
    return Status(StatusCode::kInvalidArgument, "random_bytes: request too large");
  }
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) return openssl_error("RAND_bytes");
  return Status::ok();
}

Status random_ike_spi(uint64_t* out) {
  uint64_t spi = 0;
  while (spi == 0) {
    uint8_t bytes[8];
    if (Status st = random_bytes(bytes); !st) return st;
    std::memcpy(&spi, bytes, sizeof(spi));
  }
  *out = spi;
  return Status::ok();
}

}  // namespace dpvpn::ike
