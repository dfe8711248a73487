#include "core/ike_udp.hpp"

#include <array>
#include <cstring>

namespace dpvpn::controld {

namespace {

constexpr size_t kIkeHeader = 28;  // the smallest IKE message is its header

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

}  // namespace

std::optional<std::vector<uint8_t>> ike_from_udp(uint16_t local_port, std::span<const uint8_t> payload) {
  if (local_port != kIkePort) {
    if (payload.size() < 4 || payload[0] != 0 || payload[1] != 0 || payload[2] != 0 || payload[3] != 0) {
      return std::nullopt;  // keepalive (0xff), ESP (non-zero SPI), or a runt
    }
    payload = payload.subspan(4);
  }
  if (payload.size() < kIkeHeader) return std::nullopt;
  return std::vector<uint8_t>(payload.begin(), payload.end());
}

std::vector<uint8_t> udp_for_ike(uint16_t local_port, std::span<const uint8_t> message) {
  if (message.size() == 1 && message[0] == ike::kNatKeepalive) return {ike::kNatKeepalive};
  // Sized once and copied into (GCC 12 -O3 misreads insert-after-insert as out of bounds).
  const size_t marker = local_port != kIkePort ? 4 : 0;
  std::vector<uint8_t> out(marker + message.size(), 0);
  std::copy(message.begin(), message.end(), out.begin() + static_cast<std::ptrdiff_t>(marker));
  return out;
}

std::optional<ike::Datagram> datagram_from_frame(std::span<const uint8_t> frame) {
  size_t off = 12;
  if (frame.size() < 14) return std::nullopt;
  uint16_t ethertype = be16(&frame[off]);
  off += 2;
  if (ethertype == 0x8100) {
    if (frame.size() < off + 4) return std::nullopt;
    ethertype = be16(&frame[off + 2]);
    off += 4;
  }
  ike::Datagram d;
  size_t udp_off = 0, ip_end = 0;
  if (ethertype == 0x0800) {
    if (frame.size() < off + 20) return std::nullopt;
    const uint8_t* ip = &frame[off];
    const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
    const size_t total = be16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 17 || (be16(ip + 6) & 0x3fff) != 0) return std::nullopt;
    if (total < ihl + 8 || frame.size() < off + total) return std::nullopt;
    d.remote.address = IpAddr::v4(uint32_t{ip[12]} << 24 | uint32_t{ip[13]} << 16 | uint32_t{ip[14]} << 8 | ip[15]);
    d.local.address = IpAddr::v4(uint32_t{ip[16]} << 24 | uint32_t{ip[17]} << 16 | uint32_t{ip[18]} << 8 | ip[19]);
    udp_off = off + ihl;
    ip_end = off + total;
  } else if (ethertype == 0x86dd) {
    if (frame.size() < off + 40) return std::nullopt;
    const uint8_t* ip = &frame[off];
    if ((ip[0] >> 4) != 6 || ip[6] != 17) return std::nullopt;
    const size_t payload_len = be16(ip + 4);
    if (payload_len < 8 || frame.size() < off + 40 + payload_len) return std::nullopt;
    std::array<uint8_t, 16> a{};
    std::memcpy(a.data(), ip + 8, 16);
    d.remote.address = IpAddr::v6(a);
    std::memcpy(a.data(), ip + 24, 16);
    d.local.address = IpAddr::v6(a);
    udp_off = off + 40;
    ip_end = off + 40 + payload_len;
  } else {
    return std::nullopt;
  }
  const uint8_t* udp = &frame[udp_off];
  const size_t udp_len = be16(udp + 4);
  if (udp_len < 8 || udp_off + udp_len > ip_end) return std::nullopt;
  d.remote.port = be16(udp);
  d.local.port = be16(udp + 2);
  if (d.local.port != kIkePort && d.local.port != kNatTPort) return std::nullopt;
  auto message = ike_from_udp(d.local.port, frame.subspan(udp_off + 8, udp_len - 8));
  if (!message) return std::nullopt;
  d.bytes = std::move(*message);
  return d;
}

}  // namespace dpvpn::controld
