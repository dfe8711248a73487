#include "sk_layout.hpp"

#include "payload_codec.hpp"

namespace dpvpn::ike {
namespace {

// Encodes the outer payloads and `encrypted` (an SK or SKF payload whose body is the placeholder).
Status build(const Header& header, const std::vector<Payload>& outer_payloads, Payload encrypted, size_t body_length,
             SkMessageLayout* out) {
  std::vector<const Payload*> payloads;
  payloads.reserve(outer_payloads.size() + 1);
  for (const Payload& p : outer_payloads) payloads.push_back(&p);
  payloads.push_back(&encrypted);
  if (Status s = codec::encode_message_parts(header, payloads, &out->bytes); !s) return s;
  out->body_location = {out->bytes.size() - body_length, body_length};
  return Status::ok();
}

}  // namespace

Status build_sk_message(const Header& header, const std::vector<Payload>& outer_payloads, PayloadType first_inner_type,
                        size_t body_length, SkMessageLayout* out) {
  return build(header, outer_payloads, SkPayload{first_inner_type, std::vector<uint8_t>(body_length)}, body_length,
               out);
}

Status build_skf_message(const Header& header, const std::vector<Payload>& outer_payloads, PayloadType first_inner_type,
                         uint16_t fragment_number, uint16_t total_fragments, size_t body_length, SkMessageLayout* out) {
  return build(header, outer_payloads,
               SkfPayload{first_inner_type, fragment_number, total_fragments, std::vector<uint8_t>(body_length)},
               body_length, out);
}

std::optional<SkBodyLocation> locate_sk_body(const Message& parsed, size_t datagram_size) {
  if (parsed.payloads.empty()) return std::nullopt;
  const Payload& last = parsed.payloads.back();
  const std::vector<uint8_t>* body = nullptr;
  if (const auto* sk = std::get_if<SkPayload>(&last)) body = &sk->body;
  if (const auto* skf = std::get_if<SkfPayload>(&last)) body = &skf->body;
  if (body == nullptr || body->size() > datagram_size) return std::nullopt;
  return SkBodyLocation{datagram_size - body->size(), body->size()};
}

}  // namespace dpvpn::ike
