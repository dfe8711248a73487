// Delete body: Protocol ID, SPI Size, Num of SPIs, SPIs (RFC 7296 §3.11).
#include "delete_payload.hpp"

#include "payload_codec.hpp"

namespace dpvpn::ike::codec {
namespace {
constexpr size_t kChildSpiSize = 4;
}  // namespace

CodecError decode_body(std::span<const uint8_t> body, DeletePayload* out) {
  wire::Reader r(body);
  out->protocol = static_cast<ProtocolId>(r.u8());
  const uint8_t spi_size = r.u8();
  const uint16_t count = r.u16();
  if (!r.ok()) return "Delete payload shorter than its fixed part";
  switch (out->protocol) {
    case ProtocolId::kIke:
      // The IKE SA is the one in the header. Num of SPIs is not checked: with SPI Size 0 it
      // describes no octets (strongSwan does not check it either).
      if (spi_size != 0) return "Delete SPI size not 0 for IKE";
      break;
    case ProtocolId::kAh:
    case ProtocolId::kEsp:
      if (spi_size != kChildSpiSize) return "Delete SPI size not 4 for AH/ESP";
      for (unsigned i = 0; i < count; ++i) out->spis.push_back(r.u32());
      if (!r.ok()) return "fewer SPIs than Num of SPIs";
      break;
    default: return "Delete protocol not IKE, AH or ESP";
  }
  if (r.remaining() != 0) return "bytes after the last SPI";
  return nullptr;
}

CodecError encode_body(const DeletePayload& p, Writer& w) {
  switch (p.protocol) {
    case ProtocolId::kIke:
      if (!p.spis.empty()) return "Delete for IKE with SPIs";
      break;
    case ProtocolId::kAh:
    case ProtocolId::kEsp:
      if (p.spis.size() > UINT16_MAX) return "Delete with more than 65535 SPIs";
      break;
    default: return "Delete protocol not IKE, AH or ESP";
  }
  w.u8(static_cast<uint8_t>(p.protocol));
  w.u8(p.protocol == ProtocolId::kIke ? 0 : kChildSpiSize);
  w.u16(static_cast<uint16_t>(p.spis.size()));
  for (uint32_t spi : p.spis) w.u32(spi);
  return nullptr;
}

}  // namespace dpvpn::ike::codec
