// Message and payload-chain codec: the IKE header, generic payload headers, Next Payload chaining
// and lengths (RFC 7296 §3.1-3.2); the bodies are payload_codec.hpp's.
#include "message.hpp"

#include <fmt/format.h>

#include "payload_codec.hpp"

namespace dpvpn::ike {
namespace {

using codec::CodecError;

constexpr size_t kGenericHeaderSize = 4;
constexpr uint8_t kCriticalBit = 0x80;
constexpr uint8_t kMaxVersionNibble = 0x0f;

template <class T>
CodecError decode_as(std::span<const uint8_t> body, Payload* out) {
  T payload;
  if (CodecError e = codec::decode_body(body, &payload)) return e;
  *out = std::move(payload);
  return nullptr;
}

// The payload types this code understands, with their body decoders; any other type is unknown
// (RFC 7296 §2.5).
struct KnownType {
  PayloadType type;
  CodecError (*decode)(std::span<const uint8_t> body, Payload* out);
};
constexpr KnownType kKnownTypes[] = {
    {PayloadType::kSa, decode_as<SaPayload>},
    {PayloadType::kKe, decode_as<KePayload>},
    {PayloadType::kIdi, decode_as<IdiPayload>},
    {PayloadType::kIdr, decode_as<IdrPayload>},
    {PayloadType::kCert, decode_as<CertPayload>},
    {PayloadType::kCertReq, decode_as<CertReqPayload>},
    {PayloadType::kAuth, decode_as<AuthPayload>},
    {PayloadType::kNonce, decode_as<NoncePayload>},
    {PayloadType::kNotify, decode_as<NotifyPayload>},
    {PayloadType::kDelete, decode_as<DeletePayload>},
    {PayloadType::kVendorId, decode_as<VendorIdPayload>},
    {PayloadType::kTsi, decode_as<TsiPayload>},
    {PayloadType::kTsr, decode_as<TsrPayload>},
    {PayloadType::kSk, decode_as<SkPayload>},
    {PayloadType::kCp, decode_as<CpPayload>},
    {PayloadType::kEap, decode_as<EapPayload>},
    {PayloadType::kSkf, decode_as<SkfPayload>},
};

const KnownType* find_known(PayloadType type) {
  for (const KnownType& k : kKnownTypes) {
    if (k.type == type) return &k;
  }
  return nullptr;
}

bool is_encrypted(PayloadType type) { return type == PayloadType::kSk || type == PayloadType::kSkf; }

// The SK/SKF header's Next Payload field names the first inner payload, not a following one.
void set_first_inner_type(Payload* payload, PayloadType type) {
  if (auto* sk = std::get_if<SkPayload>(payload)) sk->first_inner_type = type;
  if (auto* skf = std::get_if<SkfPayload>(payload)) skf->first_inner_type = type;
}

PayloadType first_inner_type(const Payload& payload) {
  if (const auto* sk = std::get_if<SkPayload>(&payload)) return sk->first_inner_type;
  return std::get<SkfPayload>(payload).first_inner_type;
}

ParseResult syntax_error(PayloadType type, size_t offset, const char* reason) {
  return {ParseError::kInvalidSyntax, type, offset, reason};
}

// Walks the chain that starts with `first` over `bytes`, which begin at `base` in the caller's
// input (for the offsets in errors). The chain must use up `bytes` exactly.
ParseResult parse_chain(PayloadType first, std::span<const uint8_t> bytes, size_t base, bool encrypted_allowed,
                        std::vector<Payload>* out) {
  wire::Reader r(bytes);
  PayloadType type = first;
  while (type != PayloadType::kNone) {
    const size_t offset = base + bytes.size() - r.remaining();
    const auto next = static_cast<PayloadType>(r.u8());
    const bool critical = (r.u8() & kCriticalBit) != 0;
    const uint16_t length = r.u16();
    if (!r.ok()) return syntax_error(type, offset, "truncated generic payload header");
    if (length < kGenericHeaderSize) return syntax_error(type, offset, "payload length below 4");
    const std::span<const uint8_t> body = r.bytes(length - kGenericHeaderSize);
    if (!r.ok()) return syntax_error(type, offset, "payload longer than what contains it");

    const KnownType* known = find_known(type);
    if (known == nullptr) {
      // RFC 7296 §2.5: the critical bit only matters for a payload the recipient does not know.
      if (critical) {
        return {ParseError::kUnsupportedCriticalPayload, type, offset, "unknown payload with the critical bit"};
      }
      out->push_back(UnknownPayload{type, false, {body.begin(), body.end()}});
      type = next;
      continue;
    }
    Payload payload;
    if (CodecError e = known->decode(body, &payload)) return syntax_error(type, offset, e);
    if (is_encrypted(type)) {
      if (!encrypted_allowed) return syntax_error(type, offset, "SK/SKF payload inside encrypted content");
      if (r.remaining() != 0) return syntax_error(type, offset, "SK/SKF payload not the last payload");
      set_first_inner_type(&payload, next);
      out->push_back(std::move(payload));
      return {};
    }
    out->push_back(std::move(payload));
    type = next;
  }
  if (r.remaining() != 0) {
    return syntax_error(PayloadType::kNone, base + bytes.size() - r.remaining(), "bytes after the last payload");
  }
  return {};
}

Status encode_error(PayloadType type, std::string_view what) {
  return Status(StatusCode::kInvalidArgument, fmt::format("{} payload: {}", payload_type_name(type), what));
}

// Appends the chain's payloads, each with its generic header; `*first` gets the chain's first type.
Status encode_chain(std::span<const Payload* const> payloads, bool encrypted_allowed, wire::Writer& w,
                    PayloadType* first) {
  *first = payloads.empty() ? PayloadType::kNone : payload_type(*payloads.front());
  for (size_t i = 0; i < payloads.size(); ++i) {
    const Payload& payload = *payloads[i];
    const PayloadType type = payload_type(payload);
    const bool last = i + 1 == payloads.size();
    PayloadType next = last ? PayloadType::kNone : payload_type(*payloads[i + 1]);
    bool critical = false;
    if (is_encrypted(type)) {
      if (!encrypted_allowed) return encode_error(type, "inside encrypted content");
      if (!last) return encode_error(type, "not the last payload");
      next = first_inner_type(payload);
    }
    if (const auto* unknown = std::get_if<UnknownPayload>(&payload)) {
      // Either would parse back as something else: the end of the chain, or a typed payload.
      if (type == PayloadType::kNone || find_known(type)) return encode_error(type, "UnknownPayload of a known type");
      critical = unknown->critical;
    }
    const size_t start = w.position();
    w.u8(static_cast<uint8_t>(next));
    w.u8(critical ? kCriticalBit : 0);
    w.u16(0);  // length, patched below
    if (CodecError e = std::visit([&w](const auto& p) { return codec::encode_body(p, w); }, payload)) {
      return encode_error(type, e);
    }
    const size_t length = w.position() - start;
    if (length > UINT16_MAX) return encode_error(type, "over 65535 octets");
    w.patch_u16(start + 2, static_cast<uint16_t>(length));
  }
  return Status::ok();
}

std::vector<const Payload*> pointers_to(const std::vector<Payload>& payloads) {
  std::vector<const Payload*> out;
  out.reserve(payloads.size());
  for (const Payload& p : payloads) out.push_back(&p);
  return out;
}

}  // namespace

std::string_view parse_error_name(ParseError error) {
  switch (error) {
    case ParseError::kNone: return "ok";
    case ParseError::kInvalidSyntax: return "INVALID_SYNTAX";
    case ParseError::kUnsupportedCriticalPayload: return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case ParseError::kInvalidMajorVersion: return "INVALID_MAJOR_VERSION";
  }
  return "ParseError(?)";
}

NotifyType ParseResult::notify_type() const {
  switch (error) {
    case ParseError::kUnsupportedCriticalPayload: return NotifyType::kUnsupportedCriticalPayload;
    case ParseError::kInvalidMajorVersion: return NotifyType::kInvalidMajorVersion;
    case ParseError::kNone:
    case ParseError::kInvalidSyntax: break;
  }
  return NotifyType::kInvalidSyntax;
}

std::string ParseResult::to_string() const {
  if (ok()) return "ok";
  return fmt::format("{} at offset {} ({}): {}", parse_error_name(error), offset, payload_type_name(payload_type),
                     reason);
}

ParseResult parse_message(std::span<const uint8_t> datagram, Message* out) {
  *out = Message{};
  const std::optional<Header> header = peek_header(datagram);
  if (!header) return syntax_error(PayloadType::kNone, 0, "shorter than the IKE header");
  // Before any other check: another major version may lay its message out differently.
  if (header->major_version != kIkeMajorVersion) {
    return {ParseError::kInvalidMajorVersion, PayloadType::kNone, 0, "major version not 2"};
  }
  if (header->length != datagram.size()) {
    return syntax_error(PayloadType::kNone, 0, "header Length differs from the datagram size");
  }
  out->header = *header;
  return parse_chain(header->next_payload, datagram.subspan(kHeaderSize), kHeaderSize, true, &out->payloads);
}

ParseResult parse_payload_chain(PayloadType first_type, std::span<const uint8_t> chain, std::vector<Payload>* out) {
  out->clear();
  return parse_chain(first_type, chain, 0, false, out);
}

Status codec::encode_message_parts(const Header& header, std::span<const Payload* const> payloads,
                                   std::vector<uint8_t>* out) {
  out->clear();
  if (header.major_version > kMaxVersionNibble || header.minor_version > kMaxVersionNibble) {
    return Status(StatusCode::kInvalidArgument, "IKE header: version numbers are 4 bits each");
  }
  wire::Writer w(out);
  w.bytes(header.initiator_spi);
  w.bytes(header.responder_spi);
  const size_t next_payload_at = w.position();
  w.u8(0);  // Next Payload, patched below
  w.u8(static_cast<uint8_t>(header.major_version << 4 | header.minor_version));
  w.u8(static_cast<uint8_t>(header.exchange_type));
  w.u8(header.flags);
  w.u32(header.message_id);
  w.u32(0);  // Length, patched below
  PayloadType first = PayloadType::kNone;
  if (Status s = encode_chain(payloads, true, w, &first); !s) return s;
  if (out->size() > UINT32_MAX) return Status(StatusCode::kInvalidArgument, "IKE message over 2^32 octets");
  w.patch_u8(next_payload_at, static_cast<uint8_t>(first));
  w.patch_u32(kHeaderSize - 4, static_cast<uint32_t>(out->size()));
  return Status::ok();
}

Status encode_message(const Message& message, std::vector<uint8_t>* out) {
  return codec::encode_message_parts(message.header, pointers_to(message.payloads), out);
}

Status encode_payload_chain(const std::vector<Payload>& payloads, EncodedChain* out) {
  out->bytes.clear();
  wire::Writer w(&out->bytes);
  return encode_chain(pointers_to(payloads), false, w, &out->first_type);
}

}  // namespace dpvpn::ike
