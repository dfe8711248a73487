#include "daemon/udp_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/ike_udp.hpp"

namespace dpvpn::controld {

namespace {

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

}  // namespace

Status UdpTransport::open(const std::vector<IpAddr>& listen, TransportEvents events,
                          std::shared_ptr<spdlog::logger> log, std::unique_ptr<UdpTransport>* out) {
  std::unique_ptr<UdpTransport> t(new UdpTransport(std::move(events), std::move(log)));
  if (listen.empty()) return {StatusCode::kInvalidArgument, "controld.listen: no address to bind (--no-dataplane)"};
  for (const IpAddr& addr : listen) {
    for (uint16_t port : {kIkePort, kNatTPort}) {
      const ike::Endpoint local{addr, port};
      const int fd = socket(addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return {StatusCode::kInternal, std::string("socket: ") + strerror(errno)};
      if (!addr.is_v4()) {
        const int one = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      }
      sockaddr_storage sa;
      const socklen_t len = to_sockaddr(local, &sa);
      if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
        const int err = errno;
        close(fd);
        return {StatusCode::kUnavailable, "bind " + addr.to_string() + ":" + std::to_string(port) + ": " + strerror(err)};
      }
      t->sockets_.push_back({fd, local});
      t->log_->info("listening on {} UDP {}", addr.to_string(), port);
    }
  }
  *out = std::move(t);
  return Status::ok();
}

UdpTransport::~UdpTransport() {
  for (const Socket& s : sockets_) close(s.fd);
}

std::vector<int> UdpTransport::fds() const {
  std::vector<int> out;
  for (const Socket& s : sockets_) out.push_back(s.fd);
  return out;
}

void UdpTransport::on_readable(int fd) {
  const Socket* socket = nullptr;
  for (const Socket& s : sockets_) {
    if (s.fd == fd) socket = &s;
  }
  if (socket == nullptr) return;
  std::vector<uint8_t> buffer(65536);
  for (;;) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = recvfrom(fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained
    }
    auto message = ike_from_udp(socket->local.port, std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)));
    if (!message) continue;  // keepalive, ESP, runt
    ike::Datagram d;
    d.local = socket->local;
    d.remote = from_sockaddr(from);
    d.bytes = std::move(*message);
    events_.datagram(d);
  }
}

void UdpTransport::send(const ike::Datagram& d) {
  for (const Socket& s : sockets_) {
    if (!(s.local == d.local)) continue;
    const std::vector<uint8_t> payload = udp_for_ike(d.local.port, d.bytes);
    sockaddr_storage to;
    const socklen_t len = to_sockaddr(d.remote, &to);
    if (sendto(s.fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), len) < 0) {
      log_->warn("send to {}:{}: {}", d.remote.address.to_string(), d.remote.port, strerror(errno));
    }
    return;
  }
  log_->warn("no socket on {}:{} to send to {} from", d.local.address.to_string(), d.local.port,
             d.remote.address.to_string());
}

}  // namespace dpvpn::controld
