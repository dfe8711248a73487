// OwnAddresses: the worker's "is this packet for us?" set. Every held address is found and nothing
// else is, whatever the addresses (IPv4, IPv6, sequential, sharing one of the 64 places), checked
// against a std::set; a full set refuses more.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "worker/own_addresses.hpp"

using dpvpn::IpAddr;
using dpvpn::dataplane::OwnAddresses;

namespace {

uint32_t place_of(const IpAddr& a) {
  uint64_t low;
  std::memcpy(&low, a.bytes.data() + 8, 8);
  return OwnAddresses::place(low);
}

IpAddr v6(uint64_t hi, uint64_t lo) {
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    b[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  return IpAddr::v6(b);
}

// Checks `own` against the reference for the held addresses, their neighbours and random others.
void check_against(const OwnAddresses& own, const std::vector<IpAddr>& held, std::mt19937_64& rng) {
  std::set<std::array<uint8_t, 16>> ref;
  for (const IpAddr& a : held) ref.insert(a.bytes);
  const auto agrees = [&](const IpAddr& a) {
    INFO(a.to_hex());
    CHECK(own.contains(a) == (ref.count(a.bytes) != 0));
  };
  for (const IpAddr& a : held) {
    agrees(a);
    for (int byte : {0, 7, 8, 11, 15}) {  // one bit off, in either half and in the IPv4-mapped marker
      IpAddr b = a;
      b.bytes[byte] ^= 1;
      agrees(b);
    }
  }
  for (int i = 0; i < 20000; ++i) {
    agrees(i % 2 ? IpAddr::v4(static_cast<uint32_t>(rng())) : v6(rng(), rng()));
    agrees(IpAddr::v4(0x0a000000u + static_cast<uint32_t>(rng() % 4096)));  // near the sequential ones
  }
}

}  // namespace

TEST_CASE("own addresses: each held one found, nothing else", "[own]") {
  std::mt19937_64 rng(7);
  OwnAddresses own;
  std::vector<IpAddr> held;
  CHECK_FALSE(own.contains(IpAddr::v4(0x0a010001)));  // empty
  for (uint32_t a : {0x0a010001u, 0xc0000201u}) {     // the bench's two ports
    REQUIRE(own.add(IpAddr::v4(a)));
    held.push_back(IpAddr::v4(a));
  }
  check_against(own, held, rng);
  REQUIRE(own.add(v6(0x20010db800000000ull, 1)));
  held.push_back(v6(0x20010db800000000ull, 1));
  check_against(own, held, rng);
}

TEST_CASE("own addresses: addresses sharing a place, and a full set", "[own]") {
  std::mt19937_64 rng(11);
  OwnAddresses own;
  std::vector<IpAddr> held;
  // Sequential IPv4 addresses (one port's pool), then IPv6 ones chosen to land where held ones are.
  for (uint32_t i = 0; i < 10; ++i) {
    REQUIRE(own.add(IpAddr::v4(0x0a000001u + i)));
    held.push_back(IpAddr::v4(0x0a000001u + i));
  }
  std::set<uint32_t> places;
  for (const IpAddr& a : held) places.insert(place_of(a));
  while (held.size() < OwnAddresses::kMax) {
    const IpAddr a = v6(rng(), rng());
    if (places.count(place_of(a)) == 0) continue;  // only ones that share a place
    REQUIRE(own.add(a));
    held.push_back(a);
  }
  uint32_t shared = 0;
  std::set<uint32_t> seen;
  for (const IpAddr& a : held) shared += !seen.insert(place_of(a)).second;
  REQUIRE(shared >= 6);  // the scan path is exercised
  check_against(own, held, rng);
  // Full: refused, and what it holds is unchanged.
  CHECK(own.size() == OwnAddresses::kMax);
  CHECK_FALSE(own.add(IpAddr::v4(0x0b000001)));
  CHECK_FALSE(own.contains(IpAddr::v4(0x0b000001)));
  check_against(own, held, rng);
}
