// ConfirmedFlows: the worker's per-second cache of flows already found in `connections`.
// Exact behaviour (same second only, every key word matters, eviction never yields a false hit),
// then the miss rate with the flows of remote-access clients, whose addresses and ports are
// sequential: the cache is only worth its line if such flows stop missing after their first packet.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "worker/confirmed_flows.hpp"

using dpvpn::dataplane::ConfirmedFlows;

namespace {

struct Key {
  uint64_t w[5];
};

// The five words of a ConnectionsKey as the worker builds them (flow_key in worker.cpp): IPv4 addresses as
// ::ffff:a.b.c.d (network byte order in memory), then ports, protocol and direction.
Key v4_key(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto, uint8_t direction) {
  const auto mapped = [](uint32_t host_order) {
    const uint8_t b[4] = {static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
                          static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order)};
    uint32_t in_memory;
    std::memcpy(&in_memory, b, 4);
    return uint64_t{0xffff0000u} | uint64_t{in_memory} << 32;
  };
  return {{0, mapped(src), 0, mapped(dst),
           uint64_t{sport} | uint64_t{dport} << 16 | uint64_t{proto} << 32 | uint64_t{direction} << 40}};
}

Key v6_key(uint64_t src_hi, uint64_t src_lo, uint64_t dst_hi, uint64_t dst_lo, uint16_t sport, uint8_t direction) {
  return {{src_hi, src_lo, dst_hi, dst_lo, uint64_t{sport} | uint64_t{443} << 16 | uint64_t{6} << 32 |
                                               uint64_t{direction} << 40}};
}

// The worker's use: a packet whose flow is not confirmed this second is looked up and inserted.
// Returns the fraction of packets that missed over `rounds` round-robin passes after a first one.
double steady_miss_rate(ConfirmedFlows& cache, const std::vector<Key>& flows, int rounds, uint64_t now) {
  for (const Key& k : flows) {
    if (!cache.contains(k.w, ConfirmedFlows::hash(k.w), now)) cache.insert(k.w, ConfirmedFlows::hash(k.w), now);
  }
  uint64_t misses = 0;
  for (int r = 0; r < rounds; ++r) {
    for (const Key& k : flows) {
      const uint64_t h = ConfirmedFlows::hash(k.w);
      if (cache.contains(k.w, h, now)) continue;
      ++misses;
      cache.insert(k.w, h, now);
    }
  }
  return static_cast<double>(misses) / static_cast<double>(flows.size() * static_cast<size_t>(rounds));
}

constexpr uint32_t kClients = 0x0A800000;  // 10.128.0.0: client s is this + s
constexpr uint32_t kServer = 0x0A010002;   // 10.1.0.2

}  // namespace

TEST_CASE("a confirmed flow is confirmed for the rest of its second only") {
  auto cache = std::make_unique<ConfirmedFlows>();
  const Key k = v4_key(kServer, kClients + 7, 10007, 5001, 17, 1);
  const uint64_t h = ConfirmedFlows::hash(k.w);
  CHECK_FALSE(cache->contains(k.w, h, 100));
  cache->insert(k.w, h, 100);
  CHECK(cache->contains(k.w, h, 100));
  CHECK_FALSE(cache->contains(k.w, h, 101));  // the clock moved on: touch the entry again
  CHECK_FALSE(cache->contains(k.w, h, 99));
}

TEST_CASE("every word of the key tells flows apart") {
  auto cache = std::make_unique<ConfirmedFlows>();
  const Key k = v6_key(0x20010db800000000ull, 1, 0x20010db800010000ull, 2, 40000, 1);
  cache->insert(k.w, ConfirmedFlows::hash(k.w), 5);
  for (int word = 0; word < 5; ++word) {
    Key other = k;
    other.w[word] ^= uint64_t{1} << (word * 11);
    INFO("word " << word);
    // The same places (the hash of k) too: only the key compare can tell them apart.
    CHECK_FALSE(cache->contains(other.w, ConfirmedFlows::hash(k.w), 5));
    CHECK_FALSE(cache->contains(other.w, ConfirmedFlows::hash(other.w), 5));
  }
  CHECK(cache->contains(k.w, ConfirmedFlows::hash(k.w), 5));
}

TEST_CASE("a flow pushed out of both places misses: no false hit") {
  auto cache = std::make_unique<ConfirmedFlows>();
  const Key a = v4_key(kServer, kClients + 1, 1, 2, 17, 1);
  const Key b = v4_key(kServer, kClients + 2, 1, 2, 17, 1);
  const Key c = v4_key(kServer, kClients + 3, 1, 2, 17, 1);
  const uint64_t h = ConfirmedFlows::hash(a.w);  // all three forced into a's two places
  cache->insert(a.w, h, 9);
  cache->insert(b.w, h, 9);  // a's first place is taken this second: b goes to the second
  CHECK(cache->contains(a.w, h, 9));
  CHECK(cache->contains(b.w, h, 9));
  cache->insert(c.w, h, 9);  // both taken: c replaces the first (a)
  CHECK_FALSE(cache->contains(a.w, h, 9));
  CHECK(cache->contains(b.w, h, 9));
  CHECK(cache->contains(c.w, h, 9));
  // A new second: stale places are free again, the first one first.
  cache->insert(a.w, h, 10);
  CHECK(cache->contains(a.w, h, 10));
  CHECK_FALSE(cache->contains(c.w, h, 10));
}

TEST_CASE("remote-access flows stop missing after their first packet") {
  // 1000 clients with sequential addresses and ports (how an address pool and the bench assign
  // them), in both directions: a one-multiply direct-mapped cache missed 76 % of such packets.
  std::vector<Key> outbound, inbound, v6;
  for (uint32_t s = 0; s < 1000; ++s) {
    outbound.push_back(v4_key(kServer, kClients + s, static_cast<uint16_t>(10000 + s), 5001, 17, 1));
    inbound.push_back(v4_key(kClients + s, kServer, static_cast<uint16_t>(10000 + s), 5001, 17, 0));
    v6.push_back(v6_key(0x20010db800000000ull, 0x10, 0x20010db8ffff0000ull, 0x1000 + s, 443, 1));
  }
  SECTION("outbound") { CHECK(steady_miss_rate(*std::make_unique<ConfirmedFlows>(), outbound, 4, 1) < 0.03); }
  SECTION("inbound") { CHECK(steady_miss_rate(*std::make_unique<ConfirmedFlows>(), inbound, 4, 1) < 0.03); }
  SECTION("IPv6") { CHECK(steady_miss_rate(*std::make_unique<ConfirmedFlows>(), v6, 4, 1) < 0.03); }
  SECTION("random five-tuples") {
    std::mt19937_64 rng(42);
    std::vector<Key> random;
    for (int i = 0; i < 1000; ++i) {
      random.push_back(v4_key(static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()), static_cast<uint16_t>(rng()),
                              static_cast<uint16_t>(rng()), 6, static_cast<uint8_t>(rng() & 1)));
    }
    CHECK(steady_miss_rate(*std::make_unique<ConfirmedFlows>(), random, 4, 1) < 0.03);
  }
}
