#pragma once
// EspStage: the worker's view of ESP — a burst in, a result per packet out. The implementation
// (dataplane/esp on intel-ipsec-mb, or a fake in tests) is injected.
#include <cstdint>
#include <string_view>

#include "net/ip_addr.hpp"

struct rte_mbuf;

namespace dpvpn::dataplane {

struct NextHop;

// What the worker needs to know about an installed SA, indexed by sa_index. One line each (at
// 48 or 56 bytes, every other slot straddled two).
struct alignas(64) SaSlot {
  void* esp = nullptr;     // the ESP library's SA object; nullptr = free slot
  IpAddr local, remote;    // tunnel endpoints (outer source / destination when outbound)
  uint32_t spi = 0;
  uint16_t max_overhead = 0;  // outer headers + ESP + IV + max padding + ICV: for the MTU check
  bool outbound = false;
  // Outbound: where its ESP packets leave (NextHops is static while workers run, so it is looked up
  // once, when the SA is installed); nullptr: no route to the peer.
  const NextHop* outer_hop = nullptr;
};
static_assert(sizeof(SaSlot) == 64, "a slot is one cache line");

inline constexpr uint8_t kEspOk = 0;

class EspStage {
 public:
  static constexpr uint16_t kMaxBurst = 64;  // n of encrypt / decrypt is at most this
  virtual ~EspStage() = default;
  // pkts' data is exactly the inner IP packet, its header checked by the worker's parser; on success
  // it starts at the outer IP header.
  virtual void encrypt(const SaSlot* const* sas, rte_mbuf** pkts, uint16_t n, uint8_t* results) = 0;
  // pkts' data starts at the outer IP header; on success at the inner IP header. esp_offsets[i]:
  // where packet i's ESP header starts after the outer IP header, its outer headers checked by the
  // worker's parser (0: not checked; the stage checks them).
  virtual void decrypt(const SaSlot* const* sas, rte_mbuf** pkts, const uint16_t* esp_offsets, uint16_t n,
                       uint8_t* results) = 0;
  virtual std::string_view result_name(uint8_t result) const = 0;
  virtual uint8_t result_count() const = 0;
};

}  // namespace dpvpn::dataplane
