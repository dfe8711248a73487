// SK and SKF bodies (RFC 7296 §3.14, RFC 7383 §2.5): opaque, SKF after its fragment numbers.
#include "encrypted_payload.hpp"

#include "payload_codec.hpp"

namespace dpvpn::ike::codec {
namespace {

// RFC 7383 §2.5: Fragment Number starts at 1 and is at most Total Fragments.
bool fragment_numbers_valid(uint16_t number, uint16_t total) { return number >= 1 && number <= total; }

}  // namespace

CodecError decode_body(std::span<const uint8_t> body, SkPayload* out) {
  out->body.assign(body.begin(), body.end());
  return nullptr;
}

CodecError decode_body(std::span<const uint8_t> body, SkfPayload* out) {
  wire::Reader r(body);
  out->fragment_number = r.u16();
  out->total_fragments = r.u16();
  if (!r.ok()) return "SKF payload shorter than its fragment numbers";
  if (!fragment_numbers_valid(out->fragment_number, out->total_fragments)) {
    return "SKF Fragment Number 0 or above Total Fragments";
  }
  const std::span<const uint8_t> rest = r.rest();
  out->body.assign(rest.begin(), rest.end());
  return nullptr;
}

CodecError encode_body(const SkPayload& p, Writer& w) {
  w.bytes(p.body);
  return nullptr;
}

CodecError encode_body(const SkfPayload& p, Writer& w) {
  if (!fragment_numbers_valid(p.fragment_number, p.total_fragments)) {
    return "SKF Fragment Number 0 or above Total Fragments";
  }
  w.u16(p.fragment_number);
  w.u16(p.total_fragments);
  w.bytes(p.body);
  return nullptr;
}

}  // namespace dpvpn::ike::codec
