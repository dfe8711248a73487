#include "net/next_hops.hpp"

#include <algorithm>

namespace dpvpn::dataplane {

namespace {
bool matches(const IpAddr& addr, const IpAddr& prefix, uint8_t bits) {
  const unsigned full = bits / 8, rest = bits % 8;
  for (unsigned i = 0; i < full; ++i) {
    if (addr.bytes[i] != prefix.bytes[i]) return false;
  }
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (addr.bytes[full] & mask) == (prefix.bytes[full] & mask);
}
}  // namespace

void NextHops::add(const IpAddr& prefix, uint8_t prefix_len, const NextHop& hop) {
  const uint8_t bits = static_cast<uint8_t>(prefix.is_v4() ? 96 + prefix_len : prefix_len);
  routes_.push_back({prefix, bits, hop});
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) { return a.bits > b.bits; });
}

const NextHop* NextHops::lookup(const IpAddr& dst) const {
  for (const Route& r : routes_) {
    // An IPv4 default route (96 bits of the mapped prefix) never matches an IPv6 address.
    if (r.prefix.is_v4() != dst.is_v4()) continue;
    if (matches(dst, r.prefix, r.bits)) return &r.hop;
  }
  return nullptr;
}

}  // namespace dpvpn::dataplane
