// TSi/TSr body: Number of TSs, then that many selectors (RFC 7296 §3.13.1).
#include "ts_payload.hpp"

#include "payload_codec.hpp"

namespace dpvpn::ike::codec {
namespace {

using wire::Reader;

constexpr size_t kSelectorFixedSize = 8;  // type, protocol, length, start and end port
constexpr size_t kMaxSelectors = 255;     // Number of TSs is one octet

// Address size for a TS type; 0 for a type whose layout this code does not know.
size_t address_size(TsType type) {
  switch (type) {
    case TsType::kIpv4AddrRange: return 4;
    case TsType::kIpv6AddrRange: return 16;
  }
  return 0;
}

}  // namespace

CodecError decode_body(std::span<const uint8_t> body, TsPayload* out) {
  Reader r(body);
  const uint8_t count = r.u8();
  r.bytes(3);
  if (!r.ok()) return "TS payload shorter than its fixed part";
  for (unsigned i = 0; i < count; ++i) {
    TrafficSelector ts;
    ts.type = static_cast<TsType>(r.u8());
    ts.ip_protocol = r.u8();
    const uint16_t length = r.u16();
    if (!r.ok()) return "fewer traffic selectors than Number of TSs";
    const size_t addr_size = address_size(ts.type);
    if (addr_size == 0) return "traffic selector of an unsupported TS type";
    if (length != kSelectorFixedSize + 2 * addr_size) return "traffic selector length wrong for its TS type";
    ts.start_port = r.u16();
    ts.end_port = r.u16();
    const std::span<const uint8_t> start = r.bytes(addr_size);
    const std::span<const uint8_t> end = r.bytes(addr_size);
    if (!r.ok()) return "traffic selector longer than its TS payload";
    ts.start_address.assign(start.begin(), start.end());
    ts.end_address.assign(end.begin(), end.end());
    out->selectors.push_back(std::move(ts));
  }
  if (r.remaining() != 0) return "bytes after the last traffic selector";
  return nullptr;
}

CodecError encode_body(const TsPayload& p, Writer& w) {
  if (p.selectors.size() > kMaxSelectors) return "more than 255 traffic selectors";
  w.u8(static_cast<uint8_t>(p.selectors.size()));
  w.zeros(3);
  for (const TrafficSelector& ts : p.selectors) {
    const size_t addr_size = address_size(ts.type);
    if (addr_size == 0) return "traffic selector of an unsupported TS type";
    if (ts.start_address.size() != addr_size || ts.end_address.size() != addr_size) {
      return "traffic selector address size wrong for its TS type";
    }
    w.u8(static_cast<uint8_t>(ts.type));
    w.u8(ts.ip_protocol);
    w.u16(static_cast<uint16_t>(kSelectorFixedSize + 2 * addr_size));
    w.u16(ts.start_port);
    w.u16(ts.end_port);
    w.bytes(ts.start_address);
    w.bytes(ts.end_address);
  }
  return nullptr;
}

}  // namespace dpvpn::ike::codec
