#pragma once
// For tests that run the dataplane in-process on rte_ring ethdevs: the ports, a two-port config,
// frames in, frames out.
#include <catch2/catch.hpp>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace dpvpn::test {

// An ethdev named "net_ring_" + name (rte_eth_from_rings adds the prefix); the test enqueues what
// the port receives on `rx` and dequeues what it sends from `tx`. Names cannot be reused in a process.
struct RingPort {
  rte_ring* rx = nullptr;
  rte_ring* tx = nullptr;
  explicit RingPort(const std::string& name) {
    rx = rte_ring_create((name + "_rx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx = rte_ring_create((name + "_tx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    REQUIRE(rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY) >= 0);
  }
};

// One worker (lcore 1) polling both ports; inside 10.1.0.1/24 (MAC ..:01), outside 192.0.2.1/24 (..:02).
inline std::string ring_dataplane_config(const std::string& in, const std::string& out) {
  return R"(
dataplane:
  workers:
    - lcore: 1
      rx: [inside:0, outside:0]
  mbufs: 2047
ports:
  - name: inside
    device: net_ring_)" + in + R"(
    role: inside
    addresses: [10.1.0.1/24]
    mac: "02:00:00:00:00:01"
  - name: outside
    device: net_ring_)" + out + R"(
    role: outside
    addresses: [192.0.2.1/24]
    mac: "02:00:00:00:00:02"
)";
}

inline uint16_t ip_checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Ethernet (to 02:00:00:00:00:<dst_mac_last>, ours: 01 inside, 02 outside) + IPv4 + UDP.
inline std::vector<uint8_t> udp_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                      const std::vector<uint8_t>& payload, uint8_t dst_mac_last = 0x02) {
  std::vector<uint8_t> f(14 + 20 + 8 + payload.size(), 0);
  const uint8_t eth[14] = {0x02, 0, 0, 0, 0, dst_mac_last, 0x02, 0, 0, 0, 0x02, 0x02, 0x08, 0x00};
  std::memcpy(f.data(), eth, 14);
  uint8_t* ip = f.data() + 14;
  const auto total = static_cast<uint16_t>(20 + 8 + payload.size());
  ip[0] = 0x45;
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  ip[8] = 64;
  ip[9] = 17;
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = static_cast<uint8_t>(src >> (24 - 8 * i));
    ip[16 + i] = static_cast<uint8_t>(dst >> (24 - 8 * i));
  }
  const uint16_t c = ip_checksum(ip, 20);
  ip[10] = static_cast<uint8_t>(c >> 8);
  ip[11] = static_cast<uint8_t>(c);
  uint8_t* udp = ip + 20;
  udp[0] = static_cast<uint8_t>(sport >> 8);
  udp[1] = static_cast<uint8_t>(sport);
  udp[2] = static_cast<uint8_t>(dport >> 8);
  udp[3] = static_cast<uint8_t>(dport);
  udp[4] = static_cast<uint8_t>((8 + payload.size()) >> 8);
  udp[5] = static_cast<uint8_t>(8 + payload.size());
  std::memcpy(udp + 8, payload.data(), payload.size());
  return f;
}

// A gratuitous ARP reply from `ip` with MAC 02:00:00:00:02:<mac_last>, so the dataplane knows the
// neighbour at once instead of resolving it first.
inline std::vector<uint8_t> garp(uint32_t ip, uint8_t mac_last) {
  const uint8_t a[4] = {static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16), static_cast<uint8_t>(ip >> 8),
                        static_cast<uint8_t>(ip)};
  return {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0x02, mac_last, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2,
          0x02, 0,    0,    0,    0x02, mac_last, a[0], a[1], a[2], a[3], 0x02, 0, 0, 0, 0x02, mac_last, a[0], a[1], a[2], a[3]};
}

inline void receive(rte_mempool* pool, rte_ring* rx, const std::vector<uint8_t>& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  REQUIRE(m != nullptr);
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
  REQUIRE(rte_ring_enqueue(rx, m) == 0);
}

inline std::vector<std::vector<uint8_t>> sent(rte_ring* tx) {
  std::vector<std::vector<uint8_t>> out;
  void* obj = nullptr;
  while (rte_ring_dequeue(tx, &obj) == 0) {
    auto* m = static_cast<rte_mbuf*>(obj);
    const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
    out.emplace_back(d, d + rte_pktmbuf_data_len(m));
    rte_pktmbuf_free(m);
  }
  return out;
}

}  // namespace dpvpn::test
