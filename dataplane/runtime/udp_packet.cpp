#include "runtime/udp_packet.hpp"

#include <cstring>

namespace dpvpn::dataplane {

namespace {

// One's-complement sum of 16-bit big-endian words (an odd tail byte padded with zero).
uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2 != 0) sum += static_cast<uint32_t>(p[n - 1] << 8);
  return sum;
}

uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace

std::vector<uint8_t> build_udp_packet(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport,
                                      std::span<const uint8_t> payload) {
  const bool v4 = src.is_v4();
  const size_t ip_len = v4 ? 20 : 40;
  const auto udp_len = static_cast<uint16_t>(8 + payload.size());
  std::vector<uint8_t> packet(ip_len + udp_len, 0);
  uint8_t* ip = packet.data();
  uint8_t* udp = ip + ip_len;
  const uint8_t* s = v4 ? src.bytes.data() + 12 : src.bytes.data();
  const uint8_t* d = v4 ? dst.bytes.data() + 12 : dst.bytes.data();
  const size_t addr_len = v4 ? 4 : 16;
  if (v4) {
    ip[0] = 0x45;
    put16(ip + 2, static_cast<uint16_t>(ip_len + udp_len));
    ip[6] = 0x40;  // DF
    ip[8] = 64;
    ip[9] = 17;
    std::memcpy(ip + 12, s, 4);
    std::memcpy(ip + 16, d, 4);
    put16(ip + 10, fold(sum16(ip, 20)));
  } else {
    ip[0] = 0x60;
    put16(ip + 4, udp_len);
    ip[6] = 17;
    ip[7] = 64;
    std::memcpy(ip + 8, s, 16);
    std::memcpy(ip + 24, d, 16);
  }
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, udp_len);
  std::memcpy(udp + 8, payload.data(), payload.size());
  // Pseudo-header: addresses, protocol, UDP length.
  uint32_t sum = sum16(s, addr_len);
  sum = sum16(d, addr_len, sum);
  sum += 17 + udp_len;
  sum = sum16(udp, udp_len, sum);
  uint16_t check = fold(sum);
  if (check == 0) check = 0xffff;  // 0 means "no checksum" (IPv4) and is forbidden (IPv6)
  put16(udp + 6, check);
  return packet;
}

}  // namespace dpvpn::dataplane
