#include "daemon/shard_sockets.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/ike_udp.hpp"
#include "core/shard_bpf.hpp"
#include "core/socket_address.hpp"

namespace dpvpn::controld {

namespace {

Status bind_error(const ike::Endpoint& local, int err) {
  return {StatusCode::kUnavailable,
          "bind " + local.address.to_string() + ":" + std::to_string(local.port) + ": " + strerror(err)};
}

// One socket of a group; -1 and `error` set on failure.
int bound_socket(const ike::Endpoint& local, bool reuseport, Status* error) {
  const bool v6 = !local.address.is_v4();
  const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = {StatusCode::kInternal, std::string("socket: ") + strerror(errno)};
    return -1;
  }
  const int one = 1;
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    *error = {StatusCode::kInternal, std::string("SO_REUSEPORT: ") + strerror(errno)};
    close(fd);
    return -1;
  }
  sockaddr_storage sa;
  const socklen_t len = to_sockaddr(local, &sa);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    *error = bind_error(local, errno);
    close(fd);
    return -1;
  }
  // Above the low numbers an instance's fixed fds use (its socketpair is dup2'ed onto 3).
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  if (high < 0) *error = {StatusCode::kInternal, std::string("fcntl: ") + strerror(errno)};
  return high;
}

}  // namespace

ShardSockets& ShardSockets::operator=(ShardSockets&& other) noexcept {
  if (this != &other) {
    close_all();
    per_instance_ = std::move(other.per_instance_);
  }
  return *this;
}

ShardSockets::~ShardSockets() { close_all(); }

void ShardSockets::close_all() {
  for (const auto& fds : per_instance_) {
    for (int fd : fds) close(fd);
  }
  per_instance_.clear();
}

const std::vector<int>& ShardSockets::of(uint32_t instance) const {
  static const std::vector<int> none;
  return instance < per_instance_.size() ? per_instance_[instance] : none;
}

Status ShardSockets::open(const std::vector<IpAddr>& listen, uint32_t instances, ShardSockets* out) {
  if (listen.empty()) return {StatusCode::kInvalidArgument, "controld.listen: no address to bind (--no-dataplane)"};
  if (instances < 1) instances = 1;
  ShardSockets sockets;
  sockets.per_instance_.resize(instances);
  for (const IpAddr& addr : listen) {
    for (uint16_t port : {kIkePort, kNatTPort}) {
      const ike::Endpoint local{addr, port};
      Status error;
      // Someone else on this address and port? (Bound without SO_REUSEPORT, it would block the group;
      // bound with it by the same user, it would join the group and take some of our peers.)
      const int probe = bound_socket(local, false, &error);
      if (probe < 0) return error;
      close(probe);
      for (uint32_t i = 0; i < instances; ++i) {
        const int fd = bound_socket(local, true, &error);
        if (fd < 0) return error;
        sockets.per_instance_[i].push_back(fd);
      }
      const std::vector<sock_filter> program = shard_bpf_program(!addr.is_v4(), instances);
      const sock_fprog fprog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
      if (setsockopt(sockets.per_instance_[0].back(), SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog, sizeof fprog) != 0) {
        return {StatusCode::kInternal, std::string("SO_ATTACH_REUSEPORT_CBPF: ") + strerror(errno)};
      }
    }
  }
  *out = std::move(sockets);
  return Status::ok();
}

}  // namespace dpvpn::controld
