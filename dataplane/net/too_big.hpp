#pragma once
// What a router does with a packet larger than the next link allows (RFC 1191, RFC 8201, RFC 4459):
// fragment an IPv4 packet without DF, or answer the sender with ICMP "fragmentation needed" /
// ICMPv6 "packet too big". For the tunnel, the limit is the outer MTU minus the SA's overhead, so
// fragmenting happens to the inner packet before encryption (RFC 4459 section 3, option 2).
#include <cstdint>

#include "net/ip_addr.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace dpvpn::dataplane {

// Splits the IPv4 packet at m's data (no options) into fragments of at most `mtu` bytes each, in
// new single-segment mbufs from `pool`. On success frees `m` and returns the count; returns 0 and
// leaves `m` alone when it cannot (pool empty, more than `max_out` fragments, mtu too small).
uint16_t fragment_ipv4(rte_mbuf* m, uint16_t mtu, rte_mempool* pool, rte_mbuf** out, uint16_t max_out);

// A new packet (data at its IP header) telling the sender of `orig` (data at its IP header) that
// `mtu` is the largest packet that fits: ICMP type 3 code 4, or ICMPv6 type 2. nullptr if `pool`
// is empty. `src` is our address on the link back to the sender.
rte_mbuf* build_too_big(const rte_mbuf* orig, const IpAddr& src, uint16_t mtu, rte_mempool* pool);

}  // namespace dpvpn::dataplane
