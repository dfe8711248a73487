#pragma once
// Random bytes from OpenSSL's CSPRNG (RAND_bytes) for nonces, SPIs and IVs; small requests are served
// from a per-thread pool of its output (random.cpp).
#include <cstdint>
#include <span>

#include "util/status.hpp"

namespace dpvpn::ike {

Status random_bytes(std::span<uint8_t> out);

// A non-zero 64-bit IKE SA SPI (zero means "not yet known" in the IKE header, RFC 7296 3.1).
Status random_ike_spi(uint64_t* out);

}  // namespace dpvpn::ike
