#pragma once
// IpAddr: one 16-byte form for IPv4 and IPv6 in table keys and values.
// IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so one key layout serves both families.
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dpvpn {

struct IpAddr {
  std::array<uint8_t, 16> bytes{};

  // Inline: the data path builds and tests addresses per packet.
  static IpAddr v4(uint32_t host_order) {
    IpAddr a;
    const uint64_t lo = uint64_t{0xffff0000u} | (uint64_t{__builtin_bswap32(host_order)} << 32);  // ::ffff:a.b.c.d
    std::memcpy(a.bytes.data() + 8, &lo, 8);
    return a;
  }
  static IpAddr v6(const std::array<uint8_t, 16>& network_order) {
    IpAddr a;
    a.bytes = network_order;
    return a;
  }
  static std::optional<IpAddr> parse(std::string_view text);

  bool is_v4() const {  // the first 12 bytes are 0...0 ff ff
    uint64_t hi;
    uint32_t mid;
    std::memcpy(&hi, bytes.data(), 8);
    std::memcpy(&mid, bytes.data() + 8, 4);
    return hi == 0 && mid == 0xffff0000u;  // bytes 8..11 = 00 00 ff ff, little-endian load
  }
  uint32_t v4_host_order() const {  // only meaningful when is_v4()
    uint32_t a;
    std::memcpy(&a, bytes.data() + 12, 4);
    return __builtin_bswap32(a);
  }
  std::string to_string() const;   // dotted for IPv4, RFC 5952 for IPv6
  std::string to_hex() const;      // 8 hex digits for IPv4, 32 for IPv6

  // Two 8-byte compares, inline (a defaulted == on the array is an out-of-line memcmp call).
  friend bool operator==(const IpAddr& a, const IpAddr& b) {
    uint64_t x[2], y[2];
    std::memcpy(x, a.bytes.data(), 16);
    std::memcpy(y, b.bytes.data(), 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
  }
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};
static_assert(sizeof(IpAddr) == 16);
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "IpAddr's inline accessors assume a little-endian host");

// For unordered containers on the control plane (the dataplane hashes with rte_hash).
struct IpAddrHash {
  size_t operator()(const IpAddr& a) const {
    uint64_t w[2];
    std::memcpy(w, a.bytes.data(), 16);
    return std::hash<uint64_t>{}(w[0] * 0x9e3779b97f4a7c15ull ^ w[1]);
  }
};

}  // namespace dpvpn
