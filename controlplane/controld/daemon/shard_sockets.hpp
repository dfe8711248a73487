#pragma once
// --no-dataplane: the kernel UDP sockets of all instances, made by the parent. For each listen
// address and port (500, 4500) one SO_REUSEPORT group with one socket per instance, bound in
// instance order and steered by shard_bpf_program(), so each instance receives exactly its own
// peers' datagrams and sends from the same address and port. The parent keeps every socket open
// and hands each instance its own at (re)start: the group never reshuffles, and datagrams that
// arrive while an instance restarts wait in its socket.
#include <cstdint>
#include <vector>

#include "net/ip_addr.hpp"
#include "util/status.hpp"

namespace dpvpn::controld {

class ShardSockets {
 public:
  // kUnavailable with "bind ADDR:PORT: ..." when the address is taken (also by another controld:
  // a plain bind is tried first, since a second reuseport group member would silently take a share).
  static Status open(const std::vector<IpAddr>& listen, uint32_t instances, ShardSockets* out);
  ShardSockets() = default;
  ShardSockets(ShardSockets&& other) noexcept : per_instance_(std::move(other.per_instance_)) {}
  ShardSockets& operator=(ShardSockets&& other) noexcept;
  ShardSockets(const ShardSockets&) = delete;
  ShardSockets& operator=(const ShardSockets&) = delete;
  ~ShardSockets();

  // Instance i's sockets, one per listen address and port; empty when none were opened.
  const std::vector<int>& of(uint32_t instance) const;

 private:
  void close_all();
  std::vector<std::vector<int>> per_instance_;
};

}  // namespace dpvpn::controld
