#include "net/ip_prefix.hpp"

namespace dpvpn {

IpPrefix IpPrefix::network() const {
  IpPrefix out = *this;
  const unsigned first_host_bit = (addr.is_v4() ? 96u : 0u) + len;
  for (unsigned bit = first_host_bit; bit < 128; ++bit) {
    out.addr.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return out;
}

bool IpPrefix::contains(const IpAddr& a) const {
  if (a.is_v4() != addr.is_v4()) return false;
  return IpPrefix{a, len}.network() == network();
}

std::string IpPrefix::to_string() const { return addr.to_string() + "/" + std::to_string(len); }

}  // namespace dpvpn
