#pragma once
// What the ESP tests share: packet bytes, mbufs from one test pool, readable EspResult in Catch.
#include <catch2/catch.hpp>
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "esp/esp_result.hpp"
#include "sa/sa_params.hpp"

using Bytes = std::vector<uint8_t>;

namespace Catch {
template <>
struct StringMaker<dpvpn::dataplane::EspResult> {
  static std::string convert(dpvpn::dataplane::EspResult r) {
    return std::string(dpvpn::dataplane::esp_result_name(r));
  }
};
}  // namespace Catch

namespace dpvpn::test {

inline rte_mempool* pool() {
  static rte_mempool* p = rte_pktmbuf_pool_create("esp_test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  REQUIRE(p != nullptr);
  return p;
}

struct MbufDeleter {
  void operator()(rte_mbuf* m) const { rte_pktmbuf_free(m); }
};
using Mbuf = std::unique_ptr<rte_mbuf, MbufDeleter>;

inline Mbuf make_mbuf(const Bytes& data) {
  Mbuf m(rte_pktmbuf_alloc(pool()));
  REQUIRE(m);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m.get(), static_cast<uint16_t>(data.size())));
  REQUIRE(p != nullptr);
  std::memcpy(p, data.data(), data.size());
  return m;
}

inline Bytes bytes_of(const rte_mbuf* m) {
  const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
  return Bytes(p, p + m->data_len);
}

inline void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

// n bytes that differ per seed; used for keys and payloads.
inline Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

// Which SPI and key bytes a test's SAs get (files keep their own so their vectors stay as they were).
struct TestSaSeeds {
  uint32_t spi = 0x11223344;
  uint8_t key = 0x10;
  uint8_t auth_key = 0x80;
};

// A tunnel SA 192.0.2.1 <-> 192.0.2.2 (or 2001:db8::1 <-> ::2) as seen from `dir`'s side.
inline dataplane::SaParams make_test_sa(dataplane::EspAlgorithm alg, dataplane::SaDirection dir, bool esn, bool natt,
                                        bool v6, const TestSaSeeds& seeds) {
  dataplane::SaParams p;
  p.spi = seeds.spi;
  p.direction = dir;
  p.algorithm = alg;
  p.key = pattern(dataplane::expected_key_size(alg), seeds.key);
  p.auth_key = pattern(dataplane::expected_auth_key_size(alg), seeds.auth_key);
  p.local = *IpAddr::parse(v6 ? "2001:db8::1" : "192.0.2.1");
  p.remote = *IpAddr::parse(v6 ? "2001:db8::2" : "192.0.2.2");
  if (dir == dataplane::SaDirection::kInbound) std::swap(p.local, p.remote);
  p.esn = esn;
  p.natt = natt;
  return p;
}

}  // namespace dpvpn::test
