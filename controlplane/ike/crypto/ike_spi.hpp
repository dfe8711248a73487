#pragma once
// IKE SA SPIs are handled as uint64_t whose value is the 8 octets of the IKE header read big-endian;
// everything that hashes or derives from SPIs uses the octets in header order.
#include <array>
#include <cstdint>

namespace dpvpn::ike {

inline std::array<uint8_t, 8> spi_octets(uint64_t spi) {
  std::array<uint8_t, 8> out{};
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(spi);
    spi >>= 8;
  }
  return out;
}

}  // namespace dpvpn::ike
