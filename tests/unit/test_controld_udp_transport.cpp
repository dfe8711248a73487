// UdpTransport (--no-dataplane instances): the replies the engine makes while a received batch is
// handled leave together after it, in order; one the kernel refuses is skipped, not the rest.
// Sockets on 127.0.0.1 with kernel-chosen ports (not 500: the NAT-T marker is on the wire).
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "core/socket_address.hpp"
#include "daemon/udp_transport.hpp"

using namespace dpvpn;
using namespace dpvpn::controld;

namespace {

constexpr size_t kMarker = 4;   // non-ESP marker on a port other than 500
constexpr size_t kMessage = 28;  // an IKE header's worth: the smallest message the transport passes on

// A UDP socket on 127.0.0.1, kernel-chosen port.
int loopback_socket(ike::Endpoint* bound) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_storage local;
  const socklen_t len = to_sockaddr({*IpAddr::parse("127.0.0.1"), 0}, &local);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&local), len) == 0);
  socklen_t got = sizeof local;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&local), &got) == 0);
  *bound = from_sockaddr(local);
  return fd;
}

// A message whose every octet is `tag`, as it travels (marker first).
std::vector<uint8_t> wire(uint8_t tag) {
  std::vector<uint8_t> out(kMarker + kMessage, tag);
  std::fill(out.begin(), out.begin() + kMarker, 0);
  return out;
}

void send_to(int fd, const ike::Endpoint& to, const std::vector<uint8_t>& payload) {
  sockaddr_storage dst;
  const socklen_t len = to_sockaddr(to, &dst);
  REQUIRE(sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&dst), len) ==
          static_cast<ssize_t>(payload.size()));
}

// The tags of the datagrams waiting on `fd` (each checked to be a whole wire(tag)).
std::vector<uint8_t> received_tags(int fd) {
  std::vector<uint8_t> tags;
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, tags.empty() ? 1000 : 100) == 1) {
    uint8_t buffer[256];
    const ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    REQUIRE(n == static_cast<ssize_t>(kMarker + kMessage));
    CHECK(std::vector<uint8_t>(buffer, buffer + n) == wire(buffer[kMarker]));
    tags.push_back(buffer[kMarker]);
  }
  return tags;
}

bool nothing_waiting(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

struct Fixture {
  ike::Endpoint ours, peer;
  int our_fd = loopback_socket(&ours);
  int peer_fd = loopback_socket(&peer);
  std::unique_ptr<UdpTransport> transport;
  // What the "engine" does with each received datagram; set by the test.
  std::function<void(const ike::Datagram&)> on_datagram;

  Fixture() {
    TransportEvents events;
    events.datagram = [this](const ike::Datagram& d) { on_datagram(d); };
    auto log = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    REQUIRE(UdpTransport::adopt({our_fd}, events, log, &transport).is_ok());
  }
  ~Fixture() { close(peer_fd); }  // our_fd belongs to the transport

  void reply(const ike::Datagram& to, uint8_t tag, const ike::Endpoint& remote) {
    transport->send({to.local, remote, std::vector<uint8_t>(kMessage, tag)});
  }
};

}  // namespace

TEST_CASE("udp transport: replies made during a batch leave after it, all of them, in order") {
  Fixture f;
  for (uint8_t tag = 1; tag <= 3; ++tag) send_to(f.peer_fd, f.ours, wire(tag));
  std::vector<uint8_t> seen;
  bool sent_early = false;
  f.on_datagram = [&](const ike::Datagram& d) {
    REQUIRE(d.bytes.size() == kMessage);
    CHECK(d.remote == f.peer);
    seen.push_back(d.bytes[0]);
    f.reply(d, static_cast<uint8_t>(0x10 + d.bytes[0]), d.remote);
    sent_early |= !nothing_waiting(f.peer_fd);
  };
  f.transport->on_readable(f.our_fd);
  CHECK(seen == std::vector<uint8_t>{1, 2, 3});
  CHECK_FALSE(sent_early);
  CHECK(received_tags(f.peer_fd) == std::vector<uint8_t>{0x11, 0x12, 0x13});

  // Outside a batch (a timer's retransmission) a send leaves at once.
  f.transport->send({f.ours, f.peer, std::vector<uint8_t>(kMessage, 0x20)});
  CHECK(received_tags(f.peer_fd) == std::vector<uint8_t>{0x20});
}

TEST_CASE("udp transport: a reply the kernel refuses is skipped, the ones around it still leave") {
  Fixture f;
  send_to(f.peer_fd, f.ours, wire(1));
  // An IPv6 destination from an IPv4 socket: sendmmsg fails on that message only.
  const ike::Endpoint unreachable{*IpAddr::parse("::1"), f.peer.port};
  f.on_datagram = [&](const ike::Datagram& d) {
    f.reply(d, 0x31, d.remote);
    f.reply(d, 0x32, unreachable);
    f.reply(d, 0x33, d.remote);
  };
  f.transport->on_readable(f.our_fd);
  CHECK(received_tags(f.peer_fd) == std::vector<uint8_t>{0x31, 0x33});
}
