#pragma once
// Which iked instance owns a peer: a stable hash of the peer's address, so a peer's packets,
// acquires and management requests always reach the same instance, across restarts and reloads.
#include <cstdint>
#include <vector>

#include "controld_config.hpp"
#include "net/ip_addr.hpp"

namespace dpvpn::controld {

// FNV-1a (32 bit) over the address's 16 bytes (IPv4 as IPv4-mapped), mod `instances` (>= 1).
uint32_t shard_of(const IpAddr& peer, uint32_t instances);

// The connections whose `remote` belongs to instance `index` of `instances`, in config order.
std::vector<ConnectionConfig> connections_of_shard(const std::vector<ConnectionConfig>& all, uint32_t index,
                                                   uint32_t instances);

}  // namespace dpvpn::controld
