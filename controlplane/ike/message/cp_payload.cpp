// CP body: CFG Type, then configuration attributes (RFC 7296 §3.15.1).
#include "cp_payload.hpp"

#include "payload_codec.hpp"

namespace dpvpn::ike::codec {
namespace {
constexpr uint16_t kReservedBit = 0x8000;  // ignored on receipt
}  // namespace

CodecError decode_body(std::span<const uint8_t> body, CpPayload* out) {
  wire::Reader r(body);
  out->type = static_cast<CfgType>(r.u8());
  r.bytes(3);
  if (!r.ok()) return "CP payload shorter than its fixed part";
  while (r.remaining() > 0) {
    CpAttribute a;
    a.type = static_cast<CfgAttributeType>(r.u16() & ~kReservedBit);
    const uint16_t length = r.u16();
    const std::span<const uint8_t> value = r.bytes(length);
    if (!r.ok()) return "configuration attribute longer than its CP payload";
    a.value.assign(value.begin(), value.end());
    out->attributes.push_back(std::move(a));
  }
  return nullptr;
}

CodecError encode_body(const CpPayload& p, Writer& w) {
  w.u8(static_cast<uint8_t>(p.type));
  w.zeros(3);
  for (const CpAttribute& a : p.attributes) {
    if (static_cast<uint16_t>(a.type) & kReservedBit) return "configuration attribute type above 15 bits";
    if (a.value.size() > UINT16_MAX) return "configuration attribute value over 65535 octets";
    w.u16(static_cast<uint16_t>(a.type));
    w.u16(static_cast<uint16_t>(a.value.size()));
    w.bytes(a.value);
  }
  return nullptr;
}

}  // namespace dpvpn::ike::codec
