#include "daemon/udp_transport.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/ike_udp.hpp"
#include "core/socket_address.hpp"

namespace dpvpn::controld {

namespace {

constexpr unsigned kBatch = 16;
constexpr size_t kDatagramBytes = 65536;

}  // namespace

UdpTransport::UdpTransport(TransportEvents events, std::shared_ptr<spdlog::logger> log)
    : events_(std::move(events)), log_(std::move(log)), buffers_(new uint8_t[kBatch * kDatagramBytes]) {}

Status UdpTransport::adopt(const std::vector<int>& fds, TransportEvents events, std::shared_ptr<spdlog::logger> log,
                           std::unique_ptr<UdpTransport>* out) {
  std::unique_ptr<UdpTransport> t(new UdpTransport(std::move(events), std::move(log)));
  for (int fd : fds) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
      return {StatusCode::kInvalidArgument, "UDP socket " + std::to_string(fd) + ": " + strerror(errno)};
    }
    t->sockets_.push_back({fd, from_sockaddr(local)});
    t->log_->info("UDP {}:{}", t->sockets_.back().local.address.to_string(), t->sockets_.back().local.port);
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
  batching_ = true;
  struct Flush {
    UdpTransport* t;
    ~Flush() {
      t->batching_ = false;
      t->flush();
    }
  } flush_when_done{this};
  mmsghdr messages[kBatch];
  iovec iov[kBatch];
  sockaddr_storage from[kBatch];
  for (;;) {
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = {buffers_.get() + i * kDatagramBytes, kDatagramBytes};
      messages[i] = {};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &from[i];
      messages[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    const int n = recvmmsg(fd, messages, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained
    }
    for (int i = 0; i < n; ++i) {
      const std::span<const uint8_t> payload(static_cast<const uint8_t*>(iov[i].iov_base), messages[i].msg_len);
      auto message = ike_from_udp(socket->local.port, payload);
      if (!message) continue;  // keepalive, ESP, runt
      ike::Datagram d;
      d.local = socket->local;
      d.remote = from_sockaddr(from[i]);
      d.bytes = std::move(*message);
      events_.datagram(d);
    }
    if (static_cast<unsigned>(n) < kBatch) return;  // the socket had no more
  }
}

void UdpTransport::send(const ike::Datagram& d) {
  for (const Socket& s : sockets_) {
    if (!(s.local == d.local)) continue;
    outbox_.push_back({s.fd, d.remote, udp_for_ike(d.local.port, d.bytes)});
    if (!batching_) flush();
    return;
  }
  log_->warn("no socket on {}:{} to send to {} from", d.local.address.to_string(), d.local.port,
             d.remote.address.to_string());
}

void UdpTransport::flush() {
  while (!outbox_.empty()) {
    // One sendmmsg per run of datagrams on the same socket, at most kBatch at a time.
    mmsghdr messages[kBatch];
    iovec iov[kBatch];
    sockaddr_storage to[kBatch];
    const int fd = outbox_.front().fd;
    unsigned n = 0;
    while (n < kBatch && n < outbox_.size() && outbox_[n].fd == fd) {
      iov[n] = {outbox_[n].payload.data(), outbox_[n].payload.size()};
      messages[n] = {};
      messages[n].msg_hdr.msg_iov = &iov[n];
      messages[n].msg_hdr.msg_iovlen = 1;
      messages[n].msg_hdr.msg_name = &to[n];
      messages[n].msg_hdr.msg_namelen = to_sockaddr(outbox_[n].remote, &to[n]);
      ++n;
    }
    const int sent = sendmmsg(fd, messages, n, 0);
    if (sent > 0) {  // a failure after the first is reported when the rest is tried again
      outbox_.erase(outbox_.begin(), outbox_.begin() + sent);
      continue;
    }
    if (errno == EINTR) continue;
    // A datagram the kernel refuses (unreachable, no buffer) is lost like one lost on the wire: the
    // exchange's retransmission covers it. Skip it and go on with the rest.
    log_->warn("send to {}:{}: {}", outbox_.front().remote.address.to_string(), outbox_.front().remote.port,
               strerror(errno));
    outbox_.erase(outbox_.begin());
  }
}

}  // namespace dpvpn::controld
