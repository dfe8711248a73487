#pragma once
// Per-lcore counters: written only by their worker (relaxed stores), summed by readers on demand.
#include <array>
#include <atomic>
#include <cstdint>

#include "net/drop_reason.hpp"

namespace dpvpn::dataplane {

inline constexpr size_t kMaxPorts = 16;
inline constexpr size_t kMaxEspReasons = 32;

struct alignas(64) WorkerCounters {
  std::array<uint64_t, kMaxPorts> rx_packets{}, rx_bytes{}, tx_packets{}, tx_bytes{};
  uint64_t encrypted = 0, decrypted = 0, forwarded_clear = 0, local_replies = 0;
  uint64_t ike_punted = 0, acquires = 0, neighbor_learned = 0, held = 0;
  uint64_t bursts = 0, idle_polls = 0, fragmented = 0, icmp_too_big = 0;
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};
  std::array<uint64_t, kMaxEspReasons> esp_drops{};
};

// One writer: a plain load and store, atomic only so another thread may read while it runs.
inline void bump(uint64_t& counter, uint64_t n = 1) {
  std::atomic_ref<uint64_t> c(counter);
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline uint64_t read_counter(const uint64_t& counter) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(counter)).load(std::memory_order_relaxed);
}

}  // namespace dpvpn::dataplane
