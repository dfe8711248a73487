#pragma once
// Routers never forward these (RFC 1812 4.2.2.11 / 5.3.7, RFC 4291 2.5.6 / 2.7): a link-layer
// broadcast or multicast frame, multicast or limited broadcast destinations, unspecified,
// loopback, multicast or link-local sources or destinations. Inline: asked for every transit packet.
#include <array>
#include <cstdint>
#include <cstring>

namespace dpvpn::dataplane {

namespace forwardable_internal {

// IPv4 first octets no router forwards to or from: 0/8 (this network), 127/8 (loopback), 224/4 and up
// (multicast, reserved, limited broadcast).
inline constexpr std::array<bool, 256> kUnroutableFirstOctet = [] {
  std::array<bool, 256> t{};
  t[0] = t[127] = true;
  for (int i = 224; i < 256; ++i) t[i] = true;
  return t;
}();

}  // namespace forwardable_internal

// frame: the Ethernet header; l3: the IP header (v6: IPv6, else IPv4), at least its fixed part.
[[gnu::always_inline]] inline bool forwardable(const uint8_t* frame, const uint8_t* l3, bool v6) {
  if ((frame[0] & 1) != 0) return false;  // group MAC address
  if (v6) {
    const uint8_t* src = l3 + 8;
    const uint8_t* dst = l3 + 24;
    static constexpr uint8_t kZero[16] = {};
    const auto link_local = [](const uint8_t* a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; };
    return dst[0] != 0xff && src[0] != 0xff && !link_local(src) && !link_local(dst) &&
           std::memcmp(src, kZero, 16) != 0;
  }
  using forwardable_internal::kUnroutableFirstOctet;
  // 169.254/16 (link-local) as the first two bytes, loaded as one 16-bit word (0xfea9 little-endian).
  uint16_t s01, d01;
  std::memcpy(&s01, l3 + 12, 2);
  std::memcpy(&d01, l3 + 16, 2);
  return !(kUnroutableFirstOctet[l3[12]] | kUnroutableFirstOctet[l3[16]] | (s01 == 0xfea9) | (d01 == 0xfea9));
}

}  // namespace dpvpn::dataplane
