// The kernel steers each datagram to the instance that owns its source address: SO_REUSEPORT
// groups with shard_bpf_program() attached must agree with shard_of() for every source, IPv4 and
// IPv6, on both ports, and the sockets must say where they are bound (instances learn their
// local endpoints with getsockname()).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "core/shard.hpp"
#include "core/socket_address.hpp"
#include "daemon/shard_sockets.hpp"

using namespace dpvpn;
using namespace dpvpn::controld;

namespace {

// Sends one datagram from `from` (any port) to `to`; the payload names the source.
void send_from(const IpAddr& from, const ike::Endpoint& to) {
  const int fd = socket(from.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_storage local;
  const socklen_t local_len = to_sockaddr({from, 0}, &local);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&local), local_len) == 0);
  sockaddr_storage dst;
  const socklen_t dst_len = to_sockaddr(to, &dst);
  const std::string payload = from.to_string();
  REQUIRE(sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&dst), dst_len) ==
          static_cast<ssize_t>(payload.size()));
  close(fd);
}

// The payload waiting on `fd` ("" if none within 1 s).
std::string receive(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 1000) != 1) return "";
  char buffer[128];
  const ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

bool nothing_waiting(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

}  // namespace

TEST_CASE("shard sockets: every IPv4 source lands on shard_of()'s instance, on 500 and 4500") {
  const uint32_t instances = 3;
  const IpAddr listen = *IpAddr::parse("127.0.0.71");
  ShardSockets sockets;
  const Status opened = ShardSockets::open({listen}, instances, &sockets);
  INFO(opened.to_string());
  REQUIRE(opened.is_ok());
  for (uint32_t i = 0; i < instances; ++i) {
    REQUIRE(sockets.of(i).size() == 2);  // 500 and 4500
    for (size_t k = 0; k < 2; ++k) {
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      REQUIRE(getsockname(sockets.of(i)[k], reinterpret_cast<sockaddr*>(&bound), &len) == 0);
      CHECK(from_sockaddr(bound) == ike::Endpoint{listen, static_cast<uint16_t>(k == 0 ? 500 : 4500)});
    }
  }
  uint32_t per_instance[instances] = {};
  for (uint32_t host = 1; host <= 60; ++host) {
    const IpAddr source = IpAddr::v4(0x7f000000u | (5u << 16) | host);  // 127.5.0.host
    const uint32_t owner = shard_of(source, instances);
    ++per_instance[owner];
    for (size_t k = 0; k < 2; ++k) {
      send_from(source, {listen, static_cast<uint16_t>(k == 0 ? 500 : 4500)});
      INFO("source " << source.to_string() << " port index " << k << " owner " << owner);
      CHECK(receive(sockets.of(owner)[k]) == source.to_string());
      for (uint32_t other = 0; other < instances; ++other) CHECK(nothing_waiting(sockets.of(other)[k]));
    }
  }
  for (uint32_t i = 0; i < instances; ++i) CHECK(per_instance[i] > 0);  // the test covers every socket
}

TEST_CASE("shard sockets: IPv6 goes to shard_of()'s instance too") {
  const IpAddr listen = *IpAddr::parse("::1");
  const IpAddr source = listen;
  for (uint32_t instances : {2u, 3u, 5u}) {
    ShardSockets sockets;
    REQUIRE(ShardSockets::open({listen}, instances, &sockets).is_ok());
    const uint32_t owner = shard_of(source, instances);
    send_from(source, {listen, 500});
    INFO("instances " << instances << " owner " << owner);
    CHECK(receive(sockets.of(owner)[0]) == source.to_string());
    for (uint32_t other = 0; other < instances; ++other) CHECK(nothing_waiting(sockets.of(other)[0]));
  }
}

TEST_CASE("shard sockets: a taken address is refused with its name; nothing is left bound") {
  const IpAddr listen = *IpAddr::parse("127.0.0.72");
  ShardSockets first;
  REQUIRE(ShardSockets::open({listen}, 2, &first).is_ok());
  ShardSockets second;
  const Status s = ShardSockets::open({listen}, 2, &second);
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(s.message().find("bind 127.0.0.72:500") != std::string::npos);
  CHECK(second.of(0).empty());
  first = ShardSockets();  // closed: the address is free again
  REQUIRE(ShardSockets::open({listen}, 2, &second).is_ok());
  CHECK(ShardSockets::open({}, 2, &first).code() == StatusCode::kInvalidArgument);
}
