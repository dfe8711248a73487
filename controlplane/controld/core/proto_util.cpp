#include "core/proto_util.hpp"

#include <cstring>

namespace dpvpn::controld {

namespace {

// 128-bit arithmetic over the 16-byte form, for the range split.
using U128 = unsigned __int128;

U128 to_u128(const IpAddr& a) {
  U128 v = 0;
  for (uint8_t b : a.bytes) v = v << 8 | b;
  return v;
}

IpAddr from_u128(U128 v) {
  IpAddr a;
  for (int i = 15; i >= 0; --i) {
    a.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  return a;
}

}  // namespace

void to_proto(const IpAddr& in, v1::IpAddress* out) {
  if (in.is_v4()) {
    out->set_addr(reinterpret_cast<const char*>(in.bytes.data()) + 12, 4);
  } else {
    out->set_addr(reinterpret_cast<const char*>(in.bytes.data()), 16);
  }
}

std::optional<IpAddr> from_proto(const v1::IpAddress& in) {
  const std::string& b = in.addr();
  if (b.size() == 4) {
    return IpAddr::v4(uint32_t{uint8_t(b[0])} << 24 | uint32_t{uint8_t(b[1])} << 16 | uint32_t{uint8_t(b[2])} << 8 |
                      uint8_t(b[3]));
  }
  if (b.size() == 16) {
    std::array<uint8_t, 16> a{};
    std::memcpy(a.data(), b.data(), 16);
    IpAddr addr = IpAddr::v6(a);
    if (addr.is_v4()) return std::nullopt;  // IPv4-mapped: ambiguous (the dataplane refuses it too)
    return addr;
  }
  return std::nullopt;
}

void to_proto(const IpPrefix& in, v1::IpPrefix* out) {
  to_proto(in.addr, out->mutable_addr());
  out->set_length(in.len);
}

void to_proto(const ike::SelectorRange& in, v1::TrafficSelector* out) {
  to_proto(in.start, out->mutable_start());
  to_proto(in.end, out->mutable_end());
  out->set_protocol(in.protocol);
  out->set_port_lo(in.port_lo);
  out->set_port_hi(in.port_hi);
}

std::vector<IpPrefix> range_to_prefixes(const IpAddr& start, const IpAddr& end) {
  std::vector<IpPrefix> out;
  const bool v4 = start.is_v4();
  const unsigned offset = v4 ? 96 : 0;  // IPv4 lengths count from bit 96 of the mapped form
  U128 lo = to_u128(start);
  const U128 hi = to_u128(end);
  if (v4 != end.is_v4() || lo > hi) return out;
  if (!v4 && lo == 0 && hi == ~U128{0}) return {IpPrefix{start, 0}};  // ::/0 (a 128-bit shift would overflow)
  for (;;) {
    // The largest aligned block that starts at lo and does not pass hi.
    unsigned host_bits = 0;
    while (host_bits < 128 - offset && host_bits < 127) {
      const U128 size = U128{1} << (host_bits + 1);
      if ((lo & (size - 1)) != 0 || lo + (size - 1) > hi || lo + (size - 1) < lo) break;
      ++host_bits;
    }
    out.push_back({from_u128(lo), static_cast<uint8_t>(128 - offset - host_bits)});
    const U128 last = lo + ((U128{1} << host_bits) - 1);
    if (last >= hi) break;
    lo = last + 1;
  }
  return out;
}

}  // namespace dpvpn::controld
