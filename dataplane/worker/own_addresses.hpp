#pragma once
// OwnAddresses: the ports' own addresses, for the per-packet test "is this packet for the gateway
// itself?" (IKE, ESP to us, ARP/ND answers) that every received packet makes. A packet compares with
// at most one entry: the last 8 bytes of its destination hash to one of 64 places, each holding the
// index of the one own address there, none, or "shared" (then the few entries are scanned). Transit
// traffic, whose place is empty, costs one multiply and one load. Up to kMax addresses; a gateway with
// more falls back to walking its ports (Worker::is_own).
#include <cstdint>
#include <cstring>

#include "net/ip_addr.hpp"

namespace dpvpn::dataplane {

class OwnAddresses {
 public:
  static constexpr uint32_t kMax = 16;
  static constexpr uint32_t kPlaces = 64;

  OwnAddresses() { std::memset(at_, kNone, sizeof at_); }

  // False when kMax addresses are held already (the address is not added).
  bool add(const IpAddr& addr) {
    if (size_ == kMax) return false;
    addrs_[size_] = addr;
    uint8_t& at = at_[place_of(addr)];
    at = at == kNone ? static_cast<uint8_t>(size_) : kShared;
    ++size_;
    return true;
  }

  [[gnu::always_inline]] bool contains(const IpAddr& addr) const {
    const uint8_t at = at_[place_of(addr)];
    if (at < kMax) return addrs_[at] == addr;
    if (at == kNone) return false;
    for (uint32_t i = 0; i < size_; ++i) {
      if (addrs_[i] == addr) return true;
    }
    return false;
  }

  uint32_t size() const { return size_; }

  // The place of an address whose last 8 bytes (as loaded, host order) are low_word; public so that
  // tests can make addresses share one.
  static uint32_t place(uint64_t low_word) { return static_cast<uint32_t>((low_word * 0x9e3779b97f4a7c15ull) >> 58); }

 private:
  static constexpr uint8_t kNone = 0xff, kShared = 0xfe;
  static_assert(kMax < kShared && kPlaces == 64);
  static uint32_t place_of(const IpAddr& addr) {
    uint64_t low;
    std::memcpy(&low, addr.bytes.data() + 8, 8);
    return place(low);
  }

  IpAddr addrs_[kMax];
  uint8_t at_[kPlaces];
  uint32_t size_ = 0;
};

}  // namespace dpvpn::dataplane
