#pragma once
// Body codecs, one overload per payload struct: a body is what follows the 4-octet generic payload
// header. Internal to dpvpn_ike_message (message.cpp chains them).
//
// Each decoder checks everything its body says about itself (lengths, counts, sizes implied by a
// type) and never reads outside `body`. Each encoder refuses what the decoder would refuse, so
// whatever encodes also parses back to the same struct.
#include <span>
#include <vector>

#include "header.hpp"
#include "payload.hpp"
#include "util/status.hpp"
#include "wire.hpp"

namespace dpvpn::ike::codec {

using wire::CodecError;
using wire::Writer;

CodecError decode_body(std::span<const uint8_t> body, SaPayload* out);
CodecError decode_body(std::span<const uint8_t> body, KePayload* out);
CodecError decode_body(std::span<const uint8_t> body, IdPayload* out);
CodecError decode_body(std::span<const uint8_t> body, CertPayload* out);
CodecError decode_body(std::span<const uint8_t> body, CertReqPayload* out);
CodecError decode_body(std::span<const uint8_t> body, AuthPayload* out);
CodecError decode_body(std::span<const uint8_t> body, NoncePayload* out);
CodecError decode_body(std::span<const uint8_t> body, NotifyPayload* out);
CodecError decode_body(std::span<const uint8_t> body, DeletePayload* out);
CodecError decode_body(std::span<const uint8_t> body, VendorIdPayload* out);
CodecError decode_body(std::span<const uint8_t> body, TsPayload* out);
CodecError decode_body(std::span<const uint8_t> body, CpPayload* out);
CodecError decode_body(std::span<const uint8_t> body, EapPayload* out);
// SK/SKF: the first inner payload type comes from the generic header; the chain sets it.
CodecError decode_body(std::span<const uint8_t> body, SkPayload* out);
CodecError decode_body(std::span<const uint8_t> body, SkfPayload* out);

CodecError encode_body(const SaPayload& p, Writer& w);
CodecError encode_body(const KePayload& p, Writer& w);
CodecError encode_body(const IdPayload& p, Writer& w);
CodecError encode_body(const CertPayload& p, Writer& w);
CodecError encode_body(const CertReqPayload& p, Writer& w);
CodecError encode_body(const AuthPayload& p, Writer& w);
CodecError encode_body(const NoncePayload& p, Writer& w);
CodecError encode_body(const NotifyPayload& p, Writer& w);
CodecError encode_body(const DeletePayload& p, Writer& w);
CodecError encode_body(const VendorIdPayload& p, Writer& w);
CodecError encode_body(const TsPayload& p, Writer& w);
CodecError encode_body(const CpPayload& p, Writer& w);
CodecError encode_body(const EapPayload& p, Writer& w);
CodecError encode_body(const SkPayload& p, Writer& w);
CodecError encode_body(const SkfPayload& p, Writer& w);
CodecError encode_body(const UnknownPayload& p, Writer& w);

// A message from its parts (message.cpp): what encode_message() does, for payloads that are not
// all in one vector (build_sk_message() appends an SK payload to the caller's).
Status encode_message_parts(const Header& header, std::span<const Payload* const> payloads, std::vector<uint8_t>* out);

}  // namespace dpvpn::ike::codec
