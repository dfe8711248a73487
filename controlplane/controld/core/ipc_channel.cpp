#include "core/ipc_channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>

namespace dpvpn::controld::ipc {

namespace {

constexpr int kBufferBytes = 4 << 20;  // a status reply of a few thousand tunnels is one record

void enlarge(int fd) {
  // SO_*BUFFORCE passes wmem_max when we may (root); otherwise the plain option, capped.
  for (int opt : {SO_SNDBUFFORCE, SO_RCVBUFFORCE}) {
    if (setsockopt(fd, SOL_SOCKET, opt, &kBufferBytes, sizeof kBufferBytes) != 0) {
      const int plain = opt == SO_SNDBUFFORCE ? SO_SNDBUF : SO_RCVBUF;
      setsockopt(fd, SOL_SOCKET, plain, &kBufferBytes, sizeof kBufferBytes);
    }
  }
}

}  // namespace

bool make_socket_pair(int fds[2]) {
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) return false;
  enlarge(fds[0]);
  enlarge(fds[1]);
  return true;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

Status send_frame(int fd, const Frame& frame, int timeout_ms) {
  const std::vector<uint8_t> record = encode(frame);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const ssize_t n = send(fd, record.data(), record.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(record.size())) return Status::ok();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return {StatusCode::kInternal, std::string("send: ") + strerror(errno)};
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {StatusCode::kUnavailable, "the other side is not reading"};
    pollfd p{fd, POLLOUT, 0};
    poll(&p, 1, static_cast<int>(left.count()));
  }
}

ReadResult read_frame(int fd, Frame* out) {
  for (;;) {
    // The record's size first (MSG_TRUNC reports the whole length), then the record.
    char probe;
    const ssize_t size = recv(fd, &probe, 1, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (size < 0 && errno == EINTR) continue;
    if (size < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ReadResult::kNone;
    if (size <= 0) return ReadResult::kClosed;
    std::vector<uint8_t> record(static_cast<size_t>(size));
    const ssize_t n = recv(fd, record.data(), record.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n != size) return ReadResult::kClosed;
    return decode(record, out).is_ok() ? ReadResult::kFrame : ReadResult::kBad;
  }
}

}  // namespace dpvpn::controld::ipc
