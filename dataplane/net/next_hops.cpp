#include "net/next_hops.hpp"

#include <algorithm>
#include <cstring>

namespace dpvpn::dataplane {

void NextHops::add(const IpAddr& prefix, uint8_t prefix_len, const NextHop& hop) {
  const bool v4 = prefix.is_v4();
  const unsigned bits = v4 ? 96u + prefix_len : prefix_len;
  std::array<uint8_t, 16> mask{};
  for (unsigned bit = 0; bit < bits && bit < 128; ++bit) mask[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
  Route r{};
  std::memcpy(r.mask, mask.data(), 16);
  std::memcpy(r.value, prefix.bytes.data(), 16);
  r.value[0] &= r.mask[0];
  r.value[1] &= r.mask[1];
  r.bits = static_cast<uint8_t>(std::min(bits, 128u));
  r.v4 = v4;
  r.hop = hop;
  routes_.push_back(r);
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) { return a.bits > b.bits; });
}

const NextHop* NextHops::lookup(const IpAddr& dst) const {
  uint64_t a[2];
  std::memcpy(a, dst.bytes.data(), 16);
  const bool v4 = dst.is_v4();
  for (const Route& r : routes_) {
    // An IPv4 default route (96 bits of the mapped prefix) never matches an IPv6 address.
    if (r.v4 != v4) continue;
    if ((a[0] & r.mask[0]) == r.value[0] && (a[1] & r.mask[1]) == r.value[1]) return &r.hop;
  }
  return nullptr;
}

}  // namespace dpvpn::dataplane
