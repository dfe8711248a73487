#include "core/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

namespace dpvpn::controld {

socklen_t to_sockaddr(const ike::Endpoint& e, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  if (e.address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port);
    sin->sin_addr.s_addr = htonl(e.address.v4_host_order());
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(e.port);
  std::memcpy(&sin6->sin6_addr, e.address.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

ike::Endpoint from_sockaddr(const sockaddr_storage& s) {
  ike::Endpoint e;
  if (s.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&s);
    e.address = IpAddr::v4(ntohl(sin->sin_addr.s_addr));
    e.port = ntohs(sin->sin_port);
  } else {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&s);
    std::array<uint8_t, 16> a{};
    std::memcpy(a.data(), &sin6->sin6_addr, 16);
    e.address = IpAddr::v6(a);
    e.port = ntohs(sin6->sin6_port);
  }
  return e;
}

}  // namespace dpvpn::controld
