// forwardable(): which transit packets a router may forward (RFC 1812 4.2.2.11 / 5.3.7, RFC 4291). IPv4:
// every first octet and 169.254 against the rule written out, for sources and destinations apart;
// IPv6: the multicast, link-local and unspecified cases; a group MAC address in either family.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>

#include "net/forwardable.hpp"

using dpvpn::dataplane::forwardable;

namespace {

constexpr uint8_t kUnicastMac[6] = {0x02, 0, 0, 0, 1, 5};
constexpr uint8_t kGroupMac[6] = {0x01, 0, 0x5e, 0, 0, 0xfb};

std::array<uint8_t, 20> ipv4(uint8_t s0, uint8_t s1, uint8_t d0, uint8_t d1) {
  std::array<uint8_t, 20> h{};
  h[0] = 0x45;
  h[12] = s0, h[13] = s1, h[14] = 7, h[15] = 9;
  h[16] = d0, h[17] = d1, h[18] = 3, h[19] = 4;
  return h;
}

// The rule as RFC 1812 states it, byte by byte.
bool bad_v4(uint8_t a0, uint8_t a1) { return a0 == 0 || a0 == 127 || a0 >= 224 || (a0 == 169 && a1 == 254); }

}  // namespace

TEST_CASE("forwardable: IPv4, every first octet, 169.254, either side", "[forwardable]") {
  for (int a0 = 0; a0 < 256; ++a0) {
    for (int a1 : {0, 1, 168, 169, 253, 254, 255}) {
      const auto x0 = static_cast<uint8_t>(a0), x1 = static_cast<uint8_t>(a1);
      INFO(a0 << "." << a1);
      const auto as_dst = ipv4(10, 1, x0, x1);
      const auto as_src = ipv4(x0, x1, 10, 2);
      CHECK(forwardable(kUnicastMac, as_dst.data(), false) == !bad_v4(x0, x1));
      CHECK(forwardable(kUnicastMac, as_src.data(), false) == !bad_v4(x0, x1));
      CHECK_FALSE(forwardable(kGroupMac, as_dst.data(), false));
    }
  }
  // 254.169 is not 169.254 (the 16-bit compare's byte order).
  CHECK(forwardable(kUnicastMac, ipv4(10, 1, 254, 169).data(), false) == !bad_v4(254, 169));
  CHECK(forwardable(kUnicastMac, ipv4(169, 254, 10, 1).data(), false) == false);
}

TEST_CASE("forwardable: IPv6", "[forwardable]") {
  const auto packet = [](std::array<uint8_t, 16> src, std::array<uint8_t, 16> dst) {
    std::array<uint8_t, 40> h{};
    h[0] = 0x60;
    for (int i = 0; i < 16; ++i) h[8 + i] = src[i], h[24 + i] = dst[i];
    return h;
  };
  const std::array<uint8_t, 16> global{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::array<uint8_t, 16> global2{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  const std::array<uint8_t, 16> multicast{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::array<uint8_t, 16> link_local{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::array<uint8_t, 16> site_local{0xfe, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};  // not link-local
  const std::array<uint8_t, 16> unspecified{};
  CHECK(forwardable(kUnicastMac, packet(global, global2).data(), true));
  CHECK(forwardable(kUnicastMac, packet(site_local, global2).data(), true));
  CHECK_FALSE(forwardable(kGroupMac, packet(global, global2).data(), true));
  CHECK_FALSE(forwardable(kUnicastMac, packet(global, multicast).data(), true));
  CHECK_FALSE(forwardable(kUnicastMac, packet(multicast, global).data(), true));
  CHECK_FALSE(forwardable(kUnicastMac, packet(link_local, global).data(), true));
  CHECK_FALSE(forwardable(kUnicastMac, packet(global, link_local).data(), true));
  CHECK_FALSE(forwardable(kUnicastMac, packet(unspecified, global).data(), true));
}
