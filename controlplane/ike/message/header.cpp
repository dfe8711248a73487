#include "header.hpp"

#include <algorithm>

#include "wire.hpp"

namespace dpvpn::ike {

std::optional<Header> peek_header(std::span<const uint8_t> datagram) {
  if (datagram.size() < kHeaderSize) return std::nullopt;
  wire::Reader r(datagram.first(kHeaderSize));
  Header h;
  std::ranges::copy(r.bytes(8), h.initiator_spi.begin());
  std::ranges::copy(r.bytes(8), h.responder_spi.begin());
  h.next_payload = static_cast<PayloadType>(r.u8());
  const uint8_t version = r.u8();
  h.major_version = version >> 4;
  h.minor_version = version & 0x0f;
  h.exchange_type = static_cast<ExchangeType>(r.u8());
  h.flags = r.u8();
  h.message_id = r.u32();
  h.length = r.u32();
  return h;
}

std::optional<std::span<const uint8_t>> strip_non_esp_marker(std::span<const uint8_t> udp_payload) {
  if (udp_payload.size() < kNonEspMarkerSize) return std::nullopt;
  const auto marker = udp_payload.first(kNonEspMarkerSize);
  if (std::ranges::any_of(marker, [](uint8_t b) { return b != 0; })) return std::nullopt;
  return udp_payload.subspan(kNonEspMarkerSize);
}

void add_non_esp_marker(std::vector<uint8_t>* message) { message->insert(message->begin(), kNonEspMarkerSize, 0); }

}  // namespace dpvpn::ike
