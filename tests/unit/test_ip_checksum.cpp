// The data path's IPv4 header checksum helpers (net/ip_checksum.hpp) against RFC 1071's definition
// written out plainly here (16-bit big-endian words, end-around carry): the modulo check accepts
// exactly the headers whose checksum is right, the setter writes what RFC 1071 gives, and the RFC 1624
// TTL update leaves a right checksum right, over random headers and the carry edge cases.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <random>

#include "net/ip_checksum.hpp"

using namespace dpvpn::dataplane;

namespace {

using Header = std::array<uint8_t, 20>;

// RFC 1071 4.1, one 16-bit word at a time.
uint16_t rfc1071_checksum(const Header& h) {
  uint32_t sum = 0;
  for (size_t i = 0; i < h.size(); i += 2) sum += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

bool rfc1071_ok(const Header& h) { return rfc1071_checksum(h) == 0; }

void set_rfc1071(Header& h) {
  h[10] = h[11] = 0;
  const uint16_t c = rfc1071_checksum(h);
  h[10] = static_cast<uint8_t>(c >> 8);
  h[11] = static_cast<uint8_t>(c);
}

Header random_header(std::mt19937& rng) {
  Header h;
  for (auto& b : h) b = static_cast<uint8_t>(rng());
  h[0] = 0x45;
  return h;
}

}  // namespace

TEST_CASE("the checksum check agrees with RFC 1071 on right, wrong and one-bit-flipped headers", "[checksum]") {
  std::mt19937 rng(7);
  for (int n = 0; n < 20000; ++n) {
    Header h = random_header(rng);
    // Random checksum bytes: mostly wrong, and the check must say exactly what RFC 1071 says.
    REQUIRE(ipv4_header_checksum_ok20(h.data()) == rfc1071_ok(h));
    set_rfc1071(h);
    REQUIRE(ipv4_header_checksum_ok20(h.data()));
    Header flipped = h;
    const unsigned bit = rng() % 160;
    flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    REQUIRE_FALSE(ipv4_header_checksum_ok20(flipped.data()));
    REQUIRE(ipv4_header_checksum_ok20(flipped.data()) == rfc1071_ok(flipped));
  }
}

TEST_CASE("the checksum check on the sums' edges: all ones, 0x0000 and 0xffff checksums", "[checksum]") {
  Header ones;
  ones.fill(0xff);  // sums to a multiple of 0xffff: right by RFC 1071 as well
  CHECK(ipv4_header_checksum_ok20(ones.data()) == rfc1071_ok(ones));
  Header zero{};  // sum 0: RFC 1071's complement is 0xffff, not 0: wrong
  CHECK_FALSE(ipv4_header_checksum_ok20(zero.data()));
  CHECK_FALSE(rfc1071_ok(zero));
  // A header whose other words sum to 0xffff needs checksum 0x0000; either representation of zero
  // (0x0000 / 0xffff) in the checksum field then verifies, as RFC 1071's sum says.
  Header h{};
  h[0] = 0x45;
  h[1] = 0x00;
  h[2] = 0xff;
  h[3] = 0xba;  // 0x4500 + 0xffba = 0x144ba -> 0x44bb; complete to 0xffff with 0xbb44
  h[4] = 0xbb;
  h[5] = 0x44;
  for (const uint16_t c : {uint16_t{0x0000}, uint16_t{0xffff}}) {
    h[10] = static_cast<uint8_t>(c >> 8);
    h[11] = static_cast<uint8_t>(c);
    CHECK(ipv4_header_checksum_ok20(h.data()) == rfc1071_ok(h));
    CHECK(ipv4_header_checksum_ok20(h.data()));
  }
}

TEST_CASE("ipv4_set_checksum20 writes RFC 1071's checksum", "[checksum]") {
  std::mt19937 rng(11);
  for (int n = 0; n < 5000; ++n) {
    Header a = random_header(rng);
    Header b = a;
    ipv4_set_checksum20(a.data());
    set_rfc1071(b);
    REQUIRE(a == b);
  }
}

namespace {

// Sets the identification (bytes 4..5) so that the header's RFC 1071 checksum is `checksum`.
void steer_checksum(Header& h, uint16_t checksum) {
  h[4] = h[5] = h[10] = h[11] = 0;
  uint32_t rest = 0;
  for (size_t i = 0; i < h.size(); i += 2) rest += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
  while (rest >> 16) rest = (rest & 0xffff) + (rest >> 16);
  // rest + id must fold to ~checksum: id = ~checksum - rest in one's complement = ~checksum + ~rest.
  uint32_t id = uint32_t{static_cast<uint16_t>(~checksum)} + static_cast<uint16_t>(~rest);
  while (id >> 16) id = (id & 0xffff) + (id >> 16);
  h[4] = static_cast<uint8_t>(id >> 8);
  h[5] = static_cast<uint8_t>(id);
  h[10] = static_cast<uint8_t>(checksum >> 8);
  h[11] = static_cast<uint8_t>(checksum);
}

}  // namespace

TEST_CASE("TTL decrement keeps a right checksum right, through the carry", "[checksum]") {
  std::mt19937 rng(13);
  int near_carry = 0;
  for (int n = 0; n < 20000; ++n) {
    Header h = random_header(rng);
    h[8] = static_cast<uint8_t>(2 + rng() % 254);
    if (n % 2 == 0) {
      // Checksums 0xfeff..0xffff, where adding 0x0100 carries out of 16 bits.
      steer_checksum(h, static_cast<uint16_t>(0xfeff + rng() % 0x101));
      near_carry += (h[10] == 0xff || (h[10] == 0xfe && h[11] == 0xff));
    } else {
      set_rfc1071(h);
    }
    REQUIRE(rfc1071_ok(h));
    const uint8_t ttl = h[8];
    ipv4_decrement_ttl(h.data());
    REQUIRE(h[8] == ttl - 1);
    REQUIRE(rfc1071_ok(h));
    REQUIRE(ipv4_header_checksum_ok20(h.data()));
  }
  CHECK(near_carry == 10000);
}
