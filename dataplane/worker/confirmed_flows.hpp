#pragma once
// ConfirmedFlows: the flows whose `connections` entry a worker found and touched in the current
// second. Touching again within the same second changes nothing (expiry is in whole seconds), so
// their packets skip the lookup until the clock moves on. Holds keys (the five 8-byte words of a
// ConnectionsKey), never table pointers (those are valid only until the worker's next quiescent
// report). An entry the writer removes within that second is asked for again from the next second.
//
// 4096 entries (192 KB, in L2; 256 thrashed with 1000 flows), two candidate places per flow (a
// 2-choice cache). A direct-mapped cache on a one-multiply hash put 76 % of 1000 remote-access flows
// (sequential client addresses and ports) in shared places, which evicted each other on every
// packet, so most packets paid a connections lookup anyway. The hash mixes every word (the two
// addresses rotated apart, so that equal offsets in source and destination do not cancel) and is
// finished by a second multiply; with two places 1-3 % of such flows miss
// (tests/unit/test_confirmed_flows.cpp).
#include <bit>
#include <cstdint>

namespace dpvpn::dataplane {

// A flow's connections key as five words (stored and read back as words) and their
// ConfirmedFlows::hash.
struct FlowKey {
  uint64_t w[5];
  uint64_t hash;
};

class ConfirmedFlows {
 public:
  static constexpr uint32_t kBits = 12;
  static constexpr uint32_t kSize = 1u << kBits;

  // The flow key's hash; its top bits choose the places (kBits each) and index other small tables.
  [[gnu::always_inline]] static uint64_t hash(const uint64_t w[5]) {
    constexpr uint64_t kMixer = 0x9e3779b97f4a7c15ull;
    uint64_t x = (w[0] ^ w[1] ^ std::rotl(w[2] ^ w[3], 32) ^ w[4]) * kMixer;
    x ^= x >> 32;
    return x * kMixer;
  }

  // Was the flow with key words w (hash h) confirmed in second `now`?
  [[gnu::always_inline]] bool contains(const uint64_t w[5], uint64_t h, uint64_t now) const {
    const Entry& a = entries_[first_place(h)];
    if (a.second == now && a.holds(w)) return true;
    const Entry& b = entries_[second_place(h)];
    return b.second == now && b.holds(w);
  }

  void prefetch(uint64_t h) const { __builtin_prefetch(&entries_[first_place(h)]); }

  // Records the flow as confirmed in second `now`: in its first place unless another flow took
  // that place this second, else in its second place unless taken too, else over the first.
  void insert(const uint64_t w[5], uint64_t h, uint64_t now) {
    Entry* e = &entries_[first_place(h)];
    if (e->second == now) {
      Entry* b = &entries_[second_place(h)];
      if (b->second != now) e = b;
    }
    for (int i = 0; i < 5; ++i) e->key[i] = w[i];
    e->second = now;
  }

 private:
  struct Entry {
    uint64_t key[5] = {};
    uint64_t second = UINT64_MAX;
    // Compared word by word in registers (a copy of the key to the stack and back stalled on
    // store forwarding: ~19 % of the worker's burst loop at 1 SA).
    [[gnu::always_inline]] bool holds(const uint64_t w[5]) const {
      return ((key[0] ^ w[0]) | (key[1] ^ w[1]) | (key[2] ^ w[2]) | (key[3] ^ w[3]) | (key[4] ^ w[4])) == 0;
    }
  };
  static uint32_t first_place(uint64_t h) { return static_cast<uint32_t>(h >> (64 - kBits)); }
  static uint32_t second_place(uint64_t h) { return static_cast<uint32_t>(h >> (64 - 2 * kBits)) & (kSize - 1); }

  Entry entries_[kSize];
};

}  // namespace dpvpn::dataplane
