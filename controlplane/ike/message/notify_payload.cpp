// Notify body: Protocol ID, SPI Size, Notify Message Type, SPI, data (RFC 7296 §3.10).
#include "notify_payload.hpp"

#include "payload_codec.hpp"

namespace dpvpn::ike::codec {
namespace {

// "For a notification concerning the IKE SA, the SPI Size MUST be zero"; a Child SA's SPI is 4
// octets. An empty SPI is fine with any protocol (the field is then to be ignored).
bool spi_size_fits_protocol(ProtocolId protocol, size_t size) {
  return size == 0 || (size == 4 && (protocol == ProtocolId::kAh || protocol == ProtocolId::kEsp));
}

}  // namespace

CodecError decode_body(std::span<const uint8_t> body, NotifyPayload* out) {
  wire::Reader r(body);
  out->protocol = static_cast<ProtocolId>(r.u8());
  const uint8_t spi_size = r.u8();
  out->type = static_cast<NotifyType>(r.u16());
  if (!r.ok()) return "Notify payload shorter than its fixed part";
  const std::span<const uint8_t> spi = r.bytes(spi_size);
  if (!r.ok()) return "Notify SPI longer than its payload";
  if (!spi_size_fits_protocol(out->protocol, spi_size)) return "Notify SPI size not 0, or 4 for AH/ESP";
  const std::span<const uint8_t> data = r.rest();
  out->spi.assign(spi.begin(), spi.end());
  out->data.assign(data.begin(), data.end());
  return nullptr;
}

CodecError encode_body(const NotifyPayload& p, Writer& w) {
  if (!spi_size_fits_protocol(p.protocol, p.spi.size())) return "Notify SPI size not 0, or 4 for AH/ESP";
  w.u8(static_cast<uint8_t>(p.protocol));
  w.u8(static_cast<uint8_t>(p.spi.size()));
  w.u16(static_cast<uint16_t>(p.type));
  w.bytes(p.spi);
  w.bytes(p.data);
  return nullptr;
}

}  // namespace dpvpn::ike::codec
