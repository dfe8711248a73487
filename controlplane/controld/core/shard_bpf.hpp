#pragma once
// shard_of() as a classic BPF program for an SO_REUSEPORT group (SO_ATTACH_REUSEPORT_CBPF): the
// kernel hands each datagram straight to the socket of the instance that owns its source address,
// so IKE packets never pass through the parent. The program returns the socket's index in the
// group (the order the sockets were bound); it reads the source address from the IP header
// (SKF_NET_OFF), one byte at a time, and runs the same FNV-1a as shard_of().
#include <linux/filter.h>

#include <cstdint>
#include <vector>

namespace dpvpn::controld {

// For a group of IPv4 (v6 = false) or IPv6 sockets, `instances` (>= 1) of them.
std::vector<sock_filter> shard_bpf_program(bool v6, uint32_t instances);

}  // namespace dpvpn::controld
