#pragma once
// Data path: does a decrypted inner packet fall inside its inbound SA's traffic selectors (RFC 4301
// 5.2, the check after decryption)? The usual child SA (one range per side, any protocol and port)
// over IPv4 is two subtractions and compares on the selectors' first line (EspSaSelectors'
// IPv4 windows); everything else walks the ranges. Inline: called once per inbound packet.
#include <cstdint>
#include <cstring>
#include <span>

#include "esp/esp_burst.hpp"
#include "esp/esp_sa.hpp"

namespace dpvpn::dataplane {

namespace inner_selectors_internal {

// An address in the packet as a 128-bit number in host order (SelectorRange's form).
inline Addr128 addr128(const uint8_t* a) {
  uint64_t hi, lo;
  std::memcpy(&hi, a, 8);
  std::memcpy(&lo, a + 8, 8);
  return Addr128{__builtin_bswap64(hi)} << 64 | __builtin_bswap64(lo);
}
// ::ffff:a.b.c.d from the 4 address bytes at a, as IpAddr stores IPv4.
inline Addr128 addr128_v4(const uint8_t* a) { return Addr128{0xffff00000000ull | esp_internal::load32(a)}; }

// TrafficSelector::contains on the precomputed ranges: start <= addr <= end, protocol, port range.
inline bool ts_match(std::span<const SelectorRange> list, Addr128 addr, uint8_t proto, uint16_t port) {
  if (list.empty()) return true;
  for (const SelectorRange& ts : list) {
    if (ts.protocol != 0 && proto != ts.protocol) continue;
    if (port < ts.port_lo || port > ts.port_hi) continue;
    if (ts.start <= addr && addr <= ts.end) return true;
  }
  return false;
}

}  // namespace inner_selectors_internal

// ip: the inner IP header (version 4 or 6, checked), len: its total length (at least the header).
inline bool inner_matches_selectors(const EspSaSelectors& sel, const uint8_t* ip, uint32_t len) {
  using namespace inner_selectors_internal;
  using esp_internal::load16;
  using esp_internal::load32;
  // Version and header length from one 32-bit load: a byte of the header kept across the address
  // loads gets spilled as a byte and reloaded as a word, which cannot be store-forwarded (a stall
  // per packet).
  const uint32_t word0 = load32(ip);
  const bool v4 = (word0 >> 28) == 4;
  if (v4 && sel.v4_windows) {
    return load32(ip + 12) - sel.remote_v4_start <= sel.remote_v4_span &&
           load32(ip + 16) - sel.local_v4_start <= sel.local_v4_span;
  }
  Addr128 src, dst;
  uint8_t proto;
  uint32_t l4;
  bool first_fragment = true;
  if (v4) {
    src = addr128_v4(ip + 12);
    dst = addr128_v4(ip + 16);
    proto = ip[9];
    l4 = ((word0 >> 24) & 0x0fu) * 4;
    first_fragment = (load16(ip + 6) & 0x1fff) == 0;
  } else {
    src = addr128(ip + 8);
    dst = addr128(ip + 24);
    proto = ip[6];
    l4 = 40;
  }
  uint16_t sport = 0, dport = 0;
  if ((proto == 6 || proto == 17 || proto == 132) && first_fragment && l4 + 4 <= len) {
    sport = load16(ip + l4);
    dport = load16(ip + l4 + 2);
  }
  return ts_match(sel.remote_ranges, src, proto, sport) && ts_match(sel.local_ranges, dst, proto, dport);
}

}  // namespace dpvpn::dataplane
