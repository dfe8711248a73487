#pragma once
// IpAddr: one 16-byte form for IPv4 and IPv6 in table keys and values.
// IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so one key layout serves both families.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dpvpn {

struct IpAddr {
  std::array<uint8_t, 16> bytes{};

  static IpAddr v4(uint32_t host_order);
  static IpAddr v6(const std::array<uint8_t, 16>& network_order);
  static std::optional<IpAddr> parse(std::string_view text);

  bool is_v4() const;
  uint32_t v4_host_order() const;  // only meaningful when is_v4()
  std::string to_string() const;   // dotted for IPv4, RFC 5952 for IPv6
  std::string to_hex() const;      // 8 hex digits for IPv4, 32 for IPv6

  friend bool operator==(const IpAddr&, const IpAddr&) = default;
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};
static_assert(sizeof(IpAddr) == 16);

}  // namespace dpvpn
