#pragma once
// Internal to dataplane/esp: what the outbound and inbound bursts share. Packets are handled in
// chunks of kEspChunk; within a chunk each distinct SA gets one SaBurstGroup, so counters,
// lifetimes and sequence numbers are touched once per SA per chunk, not once per packet.
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

#include "esp/esp_outbound.hpp"  // esp_outbound_overhead
#include "esp/esp_result.hpp"
#include "esp/esp_sa.hpp"

namespace dpvpn::dataplane::esp_internal {

inline constexpr uint32_t kEspChunk = 64;

// Calls chunk_fn(first, count) over [0, n) in consecutive chunks of at most kEspChunk packets.
template <class ChunkFn>
inline void for_each_chunk(uint32_t n, ChunkFn&& chunk_fn) {
  for (uint32_t done = 0; done < n; done += kEspChunk) chunk_fn(done, n - done < kEspChunk ? n - done : kEspChunk);
}

// A chunk spread over many SAs (remote access: each packet another client) finds none of their lines
// in cache; touching them all first lets the misses overlap instead of queuing one behind the other
// (~10 dependent misses per packet otherwise). Consecutive packets of one SA prefetch once: the first
// pass keeps each run's SA, so the second (which reads the lines the first asked for) loops over
// those, not over the packets again. n <= kEspChunk.
inline void prefetch_sas(EspSa* const* sas, uint32_t n) {
  EspSa* runs[kEspChunk];
  uint32_t n_runs = 0;
  const EspSa* previous = nullptr;
  for (uint32_t i = 0; i < n; ++i) {
    EspSa* sa = sas[i];
    if (sa != previous && sa != nullptr) {
      sa->prefetch_own();
      runs[n_runs++] = sa;
    }
    previous = sa;
  }
  for (uint32_t r = 0; r < n_runs; ++r) runs[r]->prefetch_pointed();
}

// Grow a one-segment packet whose room the caller has checked, at its tail / at its head, and return
// the new bytes: rte_pktmbuf_append walks to the last segment and both check the room again.
inline uint8_t* grow_tail(rte_mbuf* m, uint16_t len) {
  uint8_t* tail = rte_pktmbuf_mtod_offset(m, uint8_t*, m->data_len);
  m->data_len = static_cast<uint16_t>(m->data_len + len);
  m->pkt_len += len;
  return tail;
}
inline uint8_t* grow_head(rte_mbuf* m, uint16_t len) {
  m->data_off = static_cast<uint16_t>(m->data_off - len);
  m->data_len = static_cast<uint16_t>(m->data_len + len);
  m->pkt_len += len;
  return rte_pktmbuf_mtod(m, uint8_t*);
}

// Keep only bytes [offset, offset + len) of a one-segment packet whose bounds the caller checked
// (rte_pktmbuf_adj + rte_pktmbuf_trim check again and walk to the last segment).
inline void keep_only(rte_mbuf* m, uint16_t offset, uint16_t len) {
  m->data_off = static_cast<uint16_t>(m->data_off + offset);
  m->data_len = len;
  m->pkt_len = len;
}

// Big-endian loads and stores as one (byte-swapped) access each: byte-wise stores cost an
// instruction per byte, and a wider load of bytes stored one by one cannot be store-forwarded.
inline uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline void store16(uint8_t* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void store32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}

// AAD for the AEADs (RFC 4106 5 / RFC 7634 2.1): SPI || seq (8 bytes), or with ESN
// SPI || seq_hi || seq_lo (12 bytes). Returns its length.
inline uint8_t build_aead_aad(uint8_t* aad, uint32_t spi, uint64_t seq, bool esn) {
  if (!esn) {
    // One 8-byte store: the cipher reads the AAD back as a whole (no store-forwarding stall).
    const uint64_t word = uint64_t{__builtin_bswap32(spi)} | uint64_t{__builtin_bswap32(static_cast<uint32_t>(seq))} << 32;
    std::memcpy(aad, &word, 8);
    return 8;
  }
  store32(aad, spi);
  store32(aad + 4, static_cast<uint32_t>(seq >> 32));
  store32(aad + 8, static_cast<uint32_t>(seq));
  return 12;
}

struct SaBurstGroup {
  EspSa* sa;
  uint64_t packet_budget;  // hard lifetime left when the chunk started
  uint64_t byte_budget;
  uint64_t admitted_packets;
  uint64_t admitted_bytes;
  uint64_t first_seq;      // outbound: first reserved sequence number
  uint64_t seq_reserved;   // outbound: how many of the reserved numbers are usable
  uint64_t seq_used;
  uint64_t ok_packets;
  uint64_t ok_bytes;
  uint32_t drop_replay, drop_auth, drop_ts, drop_other;
  bool expire;             // a packet hit the hard lifetime or sequence limit
  uint32_t prepend;        // outbound: the bytes prepended (outer headers, ESP header, IV), read once per chunk

  // Starts the group of `s` for a chunk: its lifetime budget read once, every count zero. Field by
  // field: a memset of the group compiled to `rep stos`, whose start-up cost (~30 cycles) was paid
  // per packet with traffic spread over many SAs (13 % of outbound_chunk).
  void start(EspSa* s) {
    sa = s;
    packet_budget = s->packet_budget();
    byte_budget = s->byte_budget();
    admitted_packets = admitted_bytes = 0;
    first_seq = seq_reserved = seq_used = 0;
    ok_packets = ok_bytes = 0;
    drop_replay = drop_auth = drop_ts = drop_other = 0;
    expire = false;
    prepend = esp_outbound_overhead(s->hot());
  }

  // Once per SA per chunk: counters, lifetimes, expiry.
  void finish() {
    sa->account(ok_packets, ok_bytes);
    sa->add_drops(drop_replay, drop_auth, drop_ts, drop_other);
    if (expire) sa->mark_hard_expired();
  }

  // Admits one more packet of `bytes` under the hard lifetime; false = over the limit.
  bool admit(uint64_t bytes) {
    if (admitted_packets + 1 > packet_budget || admitted_bytes + bytes > byte_budget) {
      expire = true;
      return false;
    }
    ++admitted_packets;
    admitted_bytes += bytes;
    return true;
  }

  void count_drop(EspResult r) {
    switch (r) {
      case EspResult::kReplayDuplicate:
      case EspResult::kReplayTooOld: ++drop_replay; break;
      case EspResult::kAuthFailed: ++drop_auth; break;
      case EspResult::kTsMismatch: ++drop_ts; break;
      default: ++drop_other; break;
    }
  }
};

class SaBurstGroups {
 public:
  // Index of sa's group, creating it (and reading its lifetime budget once) on first use.
  uint32_t group_of(EspSa* sa) {
    if (count_ > 0 && groups_[last_].sa == sa) return last_;
    // The chunk's SAs in a small open-addressed index: with traffic spread over many SAs, a scan
    // over the groups mispredicted its exit on every packet (15 % of outbound_chunk at 1000 SAs).
    uint32_t h = static_cast<uint32_t>(((reinterpret_cast<uintptr_t>(sa) >> 6) * 0x9e3779b97f4a7c15ull) >>
                                       (64 - kIndexBits));
    for (; index_[h] != 0; h = (h + 1) & (kIndexSize - 1)) {
      const uint32_t g = index_[h] - 1u;
      if (groups_[g].sa == sa) return last_ = g;
    }
    index_[h] = static_cast<uint8_t>(count_ + 1);
    groups_[count_].start(sa);
    return last_ = count_++;
  }
  SaBurstGroup& operator[](uint32_t i) { return groups_[i]; }
  uint32_t size() const { return count_; }

  void finish() {
    for (uint32_t i = 0; i < count_; ++i) groups_[i].finish();
    count_ = 0;
    std::memset(index_, 0, sizeof index_);
  }

 private:
  static constexpr uint32_t kIndexBits = 7;
  static constexpr uint32_t kIndexSize = 1u << kIndexBits;
  static_assert(kIndexSize >= 2 * kEspChunk && kEspChunk < 255);
  SaBurstGroup groups_[kEspChunk];
  uint8_t index_[kIndexSize] = {};  // group + 1; 0 = empty
  uint32_t count_ = 0;
  uint32_t last_ = 0;
};

// The groups of a chunk whose packets all name one SA (site-to-site: a burst is usually one tunnel's):
// the SaBurstGroups interface with the group index a constant 0, so the chunk's loops lose the
// per-packet group lookup and indirection. `sa` must not be null.
class OneSaGroup {
 public:
  explicit OneSaGroup(EspSa* sa) { group_.start(sa); }
  static uint32_t group_of(EspSa*) { return 0; }
  SaBurstGroup& operator[](uint32_t) { return group_; }
  static uint32_t size() { return 1; }
  void finish() { group_.finish(); }

 private:
  SaBurstGroup group_;
};

// The SA all n (> 0) packets name, or nullptr when they name several (or none).
inline EspSa* only_sa(EspSa* const* sas, uint32_t n) {
  EspSa* const sa = sas[0];
  for (uint32_t i = 1; i < n; ++i) {
    if (sas[i] != sa) return nullptr;
  }
  return sa;
}

// Calls chunk_fn(groups) with the groups type that fits the chunk: OneSaGroup when every packet names
// one SA (whose lines its first packet reads anyway), SaBurstGroups otherwise (after prefetching the
// chunk's SAs' lines, so that their misses overlap).
template <class ChunkFn>
inline void with_sa_groups(EspSa* const* sas, uint32_t n, ChunkFn&& chunk_fn) {
  if (EspSa* sa = only_sa(sas, n)) {
    OneSaGroup one(sa);
    chunk_fn(one);
    return;
  }
  prefetch_sas(sas, n);
  SaBurstGroups groups;
  chunk_fn(groups);
}

}  // namespace dpvpn::dataplane::esp_internal
