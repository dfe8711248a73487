// SA payload body: proposal and transform substructures (RFC 7296 §3.3.1-3.3.5).
#include "sa_payload.hpp"

#include "payload_codec.hpp"

namespace dpvpn::ike::codec {
namespace {

using wire::Reader;

constexpr uint8_t kLastSubstruc = 0, kMoreProposals = 2, kMoreTransforms = 3;
constexpr size_t kSubstrucHeaderSize = 4;  // Last Substruc, RESERVED, Length
constexpr size_t kMinProposalSize = 8, kMinTransformSize = 8;
constexpr uint16_t kTvFormatBit = 0x8000;
constexpr size_t kMaxCount = 255;  // SPI Size and Num Transforms are one octet

// The SPI sizes RFC 7296 §3.3.1 allows; a protocol it does not define is left to the proposal logic.
bool spi_size_fits_protocol(ProtocolId protocol, size_t size) {
  switch (protocol) {
    case ProtocolId::kIke: return size == 0 || size == 8;
    case ProtocolId::kAh:
    case ProtocolId::kEsp: return size == 4;
    default: return size <= kMaxCount;
  }
}

// `followed`: whether another substructure comes after this one in its parent.
CodecError check_last_substruc(uint8_t field, uint8_t more_value, bool followed) {
  if (field != kLastSubstruc && field != more_value) return "Last Substruc field neither 0 nor 'more'";
  if ((field == more_value) != followed) return "Last Substruc field disagrees with what follows";
  return nullptr;
}

CodecError decode_attributes(Reader& r, SaTransform* t) {
  while (r.remaining() > 0) {
    const uint16_t type_field = r.u16();
    const uint16_t length_or_value = r.u16();
    if (!r.ok()) return "truncated transform attribute";
    const bool tv = (type_field & kTvFormatBit) != 0;
    const uint16_t type = type_field & ~kTvFormatBit;
    if (type == kAttributeKeyLength) {
      if (!tv) return "Key Length attribute not in TV format";
      if (t->key_length) return "transform with two Key Length attributes";
      t->key_length = length_or_value;
      continue;
    }
    SaTransformAttribute a{type, tv, {}};
    if (tv) {
      a.value = {static_cast<uint8_t>(length_or_value >> 8), static_cast<uint8_t>(length_or_value)};
    } else {
      const std::span<const uint8_t> value = r.bytes(length_or_value);
      if (!r.ok()) return "transform attribute longer than its transform";
      a.value.assign(value.begin(), value.end());
    }
    t->other_attributes.push_back(std::move(a));
  }
  return nullptr;
}

CodecError decode_transforms(Reader& r, uint8_t announced, SaProposal* p) {
  while (r.remaining() > 0) {
    const uint8_t last = r.u8();
    r.u8();
    const uint16_t length = r.u16();
    if (!r.ok()) return "truncated transform header";
    if (length < kMinTransformSize) return "transform length below 8";
    Reader body(r.bytes(length - kSubstrucHeaderSize));
    if (!r.ok()) return "transform longer than its proposal";
    if (CodecError e = check_last_substruc(last, kMoreTransforms, r.remaining() > 0)) return e;
    SaTransform t;
    t.type = static_cast<TransformType>(body.u8());
    body.u8();
    t.id = body.u16();
    if (CodecError e = decode_attributes(body, &t)) return e;
    p->transforms.push_back(std::move(t));
  }
  if (p->transforms.size() != announced) return "Num Transforms disagrees with the transforms present";
  return nullptr;
}

CodecError decode_proposal(Reader& r, SaProposal* p) {
  p->number = r.u8();
  p->protocol = static_cast<ProtocolId>(r.u8());
  const uint8_t spi_size = r.u8();
  const uint8_t num_transforms = r.u8();
  const std::span<const uint8_t> spi = r.bytes(spi_size);
  if (!r.ok()) return "proposal SPI longer than its proposal";
  if (!spi_size_fits_protocol(p->protocol, spi_size)) return "proposal SPI size wrong for its protocol";
  p->spi.assign(spi.begin(), spi.end());
  return decode_transforms(r, num_transforms, p);
}

CodecError encode_transform(const SaTransform& t, bool last, Writer& w) {
  const size_t start = w.position();
  w.u8(last ? kLastSubstruc : kMoreTransforms);
  w.u8(0);
  w.u16(0);  // length, patched below
  w.u8(static_cast<uint8_t>(t.type));
  w.u8(0);
  w.u16(t.id);
  if (t.key_length) {
    w.u16(kTvFormatBit | kAttributeKeyLength);
    w.u16(*t.key_length);
  }
  for (const SaTransformAttribute& a : t.other_attributes) {
    if (a.type & kTvFormatBit) return "transform attribute type above 15 bits";
    if (a.type == kAttributeKeyLength) return "Key Length attribute outside SaTransform::key_length";
    if (a.tv_format) {
      if (a.value.size() != 2) return "TV transform attribute value not 2 octets";
      w.u16(kTvFormatBit | a.type);
    } else {
      if (a.value.size() > UINT16_MAX) return "transform attribute value over 65535 octets";
      w.u16(a.type);
      w.u16(static_cast<uint16_t>(a.value.size()));
    }
    w.bytes(a.value);
  }
  const size_t length = w.position() - start;
  if (length > UINT16_MAX) return "transform over 65535 octets";
  w.patch_u16(start + 2, static_cast<uint16_t>(length));
  return nullptr;
}

CodecError encode_proposal(const SaProposal& p, bool last, Writer& w) {
  if (!spi_size_fits_protocol(p.protocol, p.spi.size())) return "proposal SPI size wrong for its protocol";
  if (p.transforms.size() > kMaxCount) return "proposal with more than 255 transforms";
  const size_t start = w.position();
  w.u8(last ? kLastSubstruc : kMoreProposals);
  w.u8(0);
  w.u16(0);  // length, patched below
  w.u8(p.number);
  w.u8(static_cast<uint8_t>(p.protocol));
  w.u8(static_cast<uint8_t>(p.spi.size()));
  w.u8(static_cast<uint8_t>(p.transforms.size()));
  w.bytes(p.spi);
  for (size_t i = 0; i < p.transforms.size(); ++i) {
    if (CodecError e = encode_transform(p.transforms[i], i + 1 == p.transforms.size(), w)) return e;
  }
  const size_t length = w.position() - start;
  if (length > UINT16_MAX) return "proposal over 65535 octets";
  w.patch_u16(start + 2, static_cast<uint16_t>(length));
  return nullptr;
}

}  // namespace

CodecError decode_body(std::span<const uint8_t> body, SaPayload* out) {
  Reader r(body);
  while (r.remaining() > 0) {
    const uint8_t last = r.u8();
    r.u8();
    const uint16_t length = r.u16();
    if (!r.ok()) return "truncated proposal header";
    if (length < kMinProposalSize) return "proposal length below 8";
    Reader proposal(r.bytes(length - kSubstrucHeaderSize));
    if (!r.ok()) return "proposal longer than its SA payload";
    if (CodecError e = check_last_substruc(last, kMoreProposals, r.remaining() > 0)) return e;
    SaProposal p;
    if (CodecError e = decode_proposal(proposal, &p)) return e;
    out->proposals.push_back(std::move(p));
  }
  return nullptr;
}

CodecError encode_body(const SaPayload& p, Writer& w) {
  for (size_t i = 0; i < p.proposals.size(); ++i) {
    if (CodecError e = encode_proposal(p.proposals[i], i + 1 == p.proposals.size(), w)) return e;
  }
  return nullptr;
}

}  // namespace dpvpn::ike::codec
