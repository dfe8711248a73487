// Bodies of KE, ID, CERT, CERTREQ, AUTH, Nonce, Vendor ID, EAP and unknown payloads.
#include "simple_payloads.hpp"

#include "payload_codec.hpp"

namespace dpvpn::ike::codec {
namespace {

using wire::Reader;

constexpr size_t kSha1Size = 20;

void assign_rest(Reader& r, std::vector<uint8_t>* out) {
  const std::span<const uint8_t> rest = r.rest();
  out->assign(rest.begin(), rest.end());
}

// ID_IPV4_ADDR and ID_IPV6_ADDR are one address each; the other ID types have any length.
bool id_size_fits_type(IdType type, size_t size) {
  switch (type) {
    case IdType::kIpv4Addr: return size == 4;
    case IdType::kIpv6Addr: return size == 16;
    default: return true;
  }
}

// An X.509 CERTREQ lists CAs by the SHA-1 hash of their public key (RFC 7296 §3.7).
bool authorities_fit_encoding(CertEncoding encoding, size_t size) {
  return encoding != CertEncoding::kX509Signature || size % kSha1Size == 0;
}

bool nonce_size_valid(size_t size) { return size >= kMinNonceSize && size <= kMaxNonceSize; }

}  // namespace

CodecError decode_body(std::span<const uint8_t> body, KePayload* out) {
  Reader r(body);
  out->group = r.u16();
  r.u16();
  if (!r.ok()) return "KE payload shorter than its fixed part";
  assign_rest(r, &out->data);
  return nullptr;
}

CodecError encode_body(const KePayload& p, Writer& w) {
  w.u16(p.group);
  w.u16(0);
  w.bytes(p.data);
  return nullptr;
}

CodecError decode_body(std::span<const uint8_t> body, IdPayload* out) {
  Reader r(body);
  out->type = static_cast<IdType>(r.u8());
  r.bytes(3);
  if (!r.ok()) return "ID payload shorter than its fixed part";
  assign_rest(r, &out->data);
  if (!id_size_fits_type(out->type, out->data.size())) return "ID data size wrong for its ID type";
  return nullptr;
}

CodecError encode_body(const IdPayload& p, Writer& w) {
  if (!id_size_fits_type(p.type, p.data.size())) return "ID data size wrong for its ID type";
  w.u8(static_cast<uint8_t>(p.type));
  w.zeros(3);
  w.bytes(p.data);
  return nullptr;
}

CodecError decode_body(std::span<const uint8_t> body, CertPayload* out) {
  Reader r(body);
  out->encoding = static_cast<CertEncoding>(r.u8());
  if (!r.ok()) return "CERT payload without its encoding";
  assign_rest(r, &out->data);
  return nullptr;
}

CodecError encode_body(const CertPayload& p, Writer& w) {
  w.u8(static_cast<uint8_t>(p.encoding));
  w.bytes(p.data);
  return nullptr;
}

CodecError decode_body(std::span<const uint8_t> body, CertReqPayload* out) {
  Reader r(body);
  out->encoding = static_cast<CertEncoding>(r.u8());
  if (!r.ok()) return "CERTREQ payload without its encoding";
  assign_rest(r, &out->authorities);
  if (!authorities_fit_encoding(out->encoding, out->authorities.size())) {
    return "X.509 CERTREQ not a list of 20-octet hashes";
  }
  return nullptr;
}

CodecError encode_body(const CertReqPayload& p, Writer& w) {
  if (!authorities_fit_encoding(p.encoding, p.authorities.size())) {
    return "X.509 CERTREQ not a list of 20-octet hashes";
  }
  w.u8(static_cast<uint8_t>(p.encoding));
  w.bytes(p.authorities);
  return nullptr;
}

CodecError decode_body(std::span<const uint8_t> body, AuthPayload* out) {
  Reader r(body);
  out->method = static_cast<AuthMethod>(r.u8());
  r.bytes(3);
  if (!r.ok()) return "AUTH payload shorter than its fixed part";
  assign_rest(r, &out->data);
  return nullptr;
}

CodecError encode_body(const AuthPayload& p, Writer& w) {
  w.u8(static_cast<uint8_t>(p.method));
  w.zeros(3);
  w.bytes(p.data);
  return nullptr;
}

CodecError decode_body(std::span<const uint8_t> body, NoncePayload* out) {
  if (!nonce_size_valid(body.size())) return "nonce not 16..256 octets";
  out->data.assign(body.begin(), body.end());
  return nullptr;
}

CodecError encode_body(const NoncePayload& p, Writer& w) {
  if (!nonce_size_valid(p.data.size())) return "nonce not 16..256 octets";
  w.bytes(p.data);
  return nullptr;
}

CodecError decode_body(std::span<const uint8_t> body, VendorIdPayload* out) {
  out->data.assign(body.begin(), body.end());
  return nullptr;
}

CodecError encode_body(const VendorIdPayload& p, Writer& w) {
  w.bytes(p.data);
  return nullptr;
}

CodecError decode_body(std::span<const uint8_t> body, EapPayload* out) {
  out->message.assign(body.begin(), body.end());
  return nullptr;
}

CodecError encode_body(const EapPayload& p, Writer& w) {
  w.bytes(p.message);
  return nullptr;
}

CodecError encode_body(const UnknownPayload& p, Writer& w) {
  w.bytes(p.body);
  return nullptr;
}

}  // namespace dpvpn::ike::codec
