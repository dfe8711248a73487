#include "core/shard.hpp"

namespace dpvpn::controld {

uint32_t shard_of(const IpAddr& peer, uint32_t instances) {
  uint32_t hash = 2166136261u;  // FNV-1a offset basis
  for (uint8_t b : peer.bytes) {
    hash ^= b;
    hash *= 16777619u;  // FNV prime
  }
  return instances <= 1 ? 0 : hash % instances;
}

std::vector<ConnectionConfig> connections_of_shard(const std::vector<ConnectionConfig>& all, uint32_t index,
                                                   uint32_t instances) {
  std::vector<ConnectionConfig> out;
  for (const ConnectionConfig& c : all) {
    if (shard_of(c.remote, instances) == index) out.push_back(c);
  }
  return out;
}

}  // namespace dpvpn::controld
