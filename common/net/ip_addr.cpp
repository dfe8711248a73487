#include "net/ip_addr.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace dpvpn {

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  const std::string s(text);
  in_addr v4addr{};
  if (inet_pton(AF_INET, s.c_str(), &v4addr) == 1) return v4(ntohl(v4addr.s_addr));
  in6_addr v6addr{};
  if (inet_pton(AF_INET6, s.c_str(), &v6addr) == 1) {
    IpAddr a;
    std::memcpy(a.bytes.data(), &v6addr, 16);
    return a;
  }
  return std::nullopt;
}

std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  }
  return buf;
}

std::string IpAddr::to_hex() const {
  const size_t first = is_v4() ? 12 : 0;
  std::string out;
  out.reserve(32);
  char two[3];
  for (size_t i = first; i < 16; ++i) {
    std::snprintf(two, sizeof two, "%02x", bytes[i]);
    out += two;
  }
  return out;
}

}  // namespace dpvpn
