#pragma once
// IPv4 header checksum helpers for the data path: a fixed 20-byte header summed as five 32-bit
// words (RFC 1071: the one's-complement sum does not depend on byte order as long as it is stored
// the way it was loaded), and the RFC 1624 incremental update for a TTL decrement.
#include <cstdint>
#include <cstring>

namespace dpvpn::dataplane {

// One's-complement sum (folded to 16 bits, not inverted) of a 20-byte IPv4 header, in the
// header's own byte order: 0xffff for a header whose checksum is right.
inline uint16_t ipv4_header_sum20(const void* header) {
  uint32_t w[5];
  std::memcpy(w, header, 20);
  uint64_t s = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  uint32_t t = static_cast<uint32_t>(s);
  t = (t & 0xffffu) + (t >> 16);
  t = (t & 0xffffu) + (t >> 16);
  return static_cast<uint16_t>(t);
}

// True when a 20-byte IPv4 header's checksum is right. Sums of 16-bit words modulo 0xffff are what
// one's-complement folding computes (2^16 = 1 mod 0xffff), and a right header folds to 0xffff, i.e.
// a nonzero multiple of 0xffff: the five 32-bit words are summed and the remainder taken once (a
// multiply by the reciprocal), instead of four folds.
inline bool ipv4_header_checksum_ok20(const void* header) {
  uint32_t w[5];
  std::memcpy(w, header, 20);
  const uint64_t s = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];
  return s % 0xffff == 0 && s != 0;
}

// Fills bytes 10..11 of a 20-byte IPv4 header with its checksum.
inline void ipv4_set_checksum20(uint8_t* header) {
  header[10] = 0;
  header[11] = 0;
  const uint16_t sum = static_cast<uint16_t>(~ipv4_header_sum20(header));
  std::memcpy(header + 10, &sum, 2);
}

// TTL - 1 with the checksum updated incrementally (RFC 1624, as Linux's ip_decrease_ttl): the
// 16-bit word holding the TTL drops by 0x0100, so the stored checksum (big-endian) rises by it.
inline void ipv4_decrement_ttl(uint8_t* header) {
  uint16_t stored;
  std::memcpy(&stored, header + 10, 2);
  uint32_t check = stored;
  check += __builtin_bswap16(0x0100);  // htons(0x0100) on this little-endian host
  stored = static_cast<uint16_t>(check + (check >= 0xffff));
  std::memcpy(header + 10, &stored, 2);
  --header[8];
}

}  // namespace dpvpn::dataplane
