// dpvpn_ike_message: IKEv2 wire format. A byte-exact IKE_SA_INIT written out from RFC 7296's
// diagrams, round trips of every payload type, the SK layout the crypto library fills, and every
// class of malformed input with the error it must produce.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "message/message.hpp"
#include "message/sk_layout.hpp"

using namespace dpvpn::ike;
using Bytes = std::vector<uint8_t>;

namespace Catch {
template <>
struct StringMaker<ParseResult> {
  static std::string convert(const ParseResult& r) { return r.to_string(); }
};
template <>
struct StringMaker<ParseError> {
  static std::string convert(ParseError e) { return std::string(parse_error_name(e)); }
};
}  // namespace Catch

namespace {

// "01 02 0a" -> {1, 2, 10}; spaces are for the reader.
Bytes hex(std::string_view text) {
  Bytes out;
  int high = -1;
  for (char c : text) {
    if (c == ' ') continue;
    const int nibble = (c >= '0' && c <= '9') ? c - '0' : (c | 0x20) - 'a' + 10;
    if (high < 0) {
      high = nibble;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | nibble));
      high = -1;
    }
  }
  return out;
}

// n octets seed, seed+1, ... (stand-ins for key shares, nonces, hashes).
Bytes pattern(size_t n, uint8_t seed) {
  Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i);
  return out;
}

Bytes text(std::string_view s) { return {s.begin(), s.end()}; }

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

uint8_t u8(PayloadType t) { return static_cast<uint8_t>(t); }

// A generic payload header (RFC 7296 §3.2) and body; the length is the real one unless given.
Bytes raw_payload(PayloadType next, const Bytes& body, uint8_t flags = 0, std::optional<uint16_t> length = {}) {
  const uint16_t len = length.value_or(static_cast<uint16_t>(body.size() + 4));
  return cat({{u8(next), flags, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)}, body});
}

// An IKE header (initiator SPI 01..08, IKE_SA_INIT, Initiator flag) before `chain`; the Length
// field is the real one unless given.
Bytes raw_message(PayloadType first, const Bytes& chain, uint8_t version = 0x20, std::optional<uint32_t> length = {}) {
  const uint32_t len = length.value_or(static_cast<uint32_t>(28 + chain.size()));
  Bytes out = cat({hex("01 02 03 04 05 06 07 08  00 00 00 00 00 00 00 00"),
                   {u8(first), version, 34, kFlagInitiator, 0, 0, 0, 0},
                   {static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16), static_cast<uint8_t>(len >> 8),
                    static_cast<uint8_t>(len)}});
  return cat({out, chain});
}

Header init_header() {
  Header h;
  h.initiator_spi = {1, 2, 3, 4, 5, 6, 7, 8};
  h.exchange_type = ExchangeType::kIkeSaInit;
  h.flags = kFlagInitiator;
  return h;
}

Bytes encode_ok(const Message& m) {
  Bytes out;
  const dpvpn::Status s = encode_message(m, &out);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return out;
}

Message parse_ok(const Bytes& datagram) {
  Message m;
  const ParseResult r = parse_message(datagram, &m);
  INFO(r.to_string());
  REQUIRE(r.ok());
  return m;
}

ParseResult parse(const Bytes& datagram) {
  Message m;
  return parse_message(datagram, &m);
}

// The message round-tripped: encoding it and parsing the bytes gives it back, lengths included.
void check_round_trip(Message m) {
  const Bytes bytes = encode_ok(m);
  const Message back = parse_ok(bytes);
  m.header.next_payload = m.payloads.empty() ? PayloadType::kNone : payload_type(m.payloads.front());
  m.header.length = static_cast<uint32_t>(bytes.size());
  CHECK(back == m);
  CHECK(encode_ok(back) == bytes);
}

TrafficSelector ipv4_range(const char* start, const char* end) {
  return {TsType::kIpv4AddrRange, 0, 0, 65535, hex(start), hex(end)};
}

// One of every payload type, with the variations their codecs have (several proposals, a Key
// Length and unknown TV/TLV attributes, IPv4 and IPv6 selectors, an SPI in a Notify, ...).
std::vector<Payload> every_payload() {
  SaTransform aes_cbc{TransformType::kEncr, 12, 256, {}};
  SaTransform with_unknown_attributes{TransformType::kPrf, 5, std::nullopt,
                                      {{0x0123, true, {0xab, 0xcd}}, {0x0042, false, {1, 2, 3}}, {7, false, {}}}};
  SaPayload sa{{SaProposal{1, ProtocolId::kIke, {}, {aes_cbc, with_unknown_attributes}},
                SaProposal{2, ProtocolId::kEsp, {0xc0, 0x01, 0x02, 0x03}, {{TransformType::kEsn, 0, {}, {}}}},
                SaProposal{3, ProtocolId::kIke, pattern(8, 0x90), {}}}};
  TrafficSelector v6{TsType::kIpv6AddrRange, 6, 443, 443, pattern(16, 0xf0), pattern(16, 0xe0)};
  return {
      sa,
      KePayload{19, pattern(64, 0x40)},
      IdiPayload{{IdType::kFqdn, text("gw-a.example.net")}},
      IdrPayload{{IdType::kIpv4Addr, hex("c0 00 02 01")}},
      CertPayload{CertEncoding::kX509Signature, pattern(300, 0x30)},
      CertReqPayload{CertEncoding::kX509Signature, pattern(40, 0x11)},
      AuthPayload{AuthMethod::kSharedKeyMic, pattern(32, 0xa0)},
      NoncePayload{pattern(32, 0x20)},
      NotifyPayload{ProtocolId::kEsp, hex("00 00 a0 01"), NotifyType::kRekeySa, {}},
      NotifyPayload{ProtocolId::kNone, {}, NotifyType::kNatDetectionSourceIp, pattern(20, 0x50)},
      DeletePayload{ProtocolId::kEsp, {0xa001, 0xdeadbeef}},
      DeletePayload{ProtocolId::kIke, {}},
      VendorIdPayload{text("dpvpn")},
      TsiPayload{{{ipv4_range("0a 01 00 00", "0a 01 00 ff"), v6}}},
      TsrPayload{{{ipv4_range("0a 02 00 00", "0a 02 00 ff")}}},
      CpPayload{CfgType::kRequest,
                {{CfgAttributeType::kInternalIp4Address, {}}, {CfgAttributeType::kInternalIp4Dns, hex("08 08 08 08")}}},
      EapPayload{hex("02 07 00 05 01")},
      UnknownPayload{static_cast<PayloadType>(200), false, text("opaque")},
      SkPayload{PayloadType::kIdi, pattern(96, 0x70)},
      SkfPayload{PayloadType::kNone, 2, 3, pattern(48, 0x60)},
  };
}

}  // namespace

TEST_CASE("IKE_SA_INIT request encodes byte for byte as RFC 7296's diagrams say", "[ike_message]") {
  Message m;
  m.header = init_header();
  m.payloads = {
      SaPayload{{SaProposal{1,
                            ProtocolId::kIke,
                            {},
                            {{TransformType::kEncr, 12, 256, {}},   // ENCR_AES_CBC, 256-bit key
                             {TransformType::kPrf, 5, {}, {}},      // PRF_HMAC_SHA2_256
                             {TransformType::kInteg, 12, {}, {}},   // AUTH_HMAC_SHA2_256_128
                             {TransformType::kDh, 19, {}, {}}}}}},  // 256-bit random ECP group
      KePayload{19, pattern(64, 0x40)},
      NoncePayload{pattern(32, 0x20)},
      NotifyPayload{ProtocolId::kNone, {}, NotifyType::kNatDetectionSourceIp, pattern(20, 0x50)},
      NotifyPayload{ProtocolId::kNone, {}, NotifyType::kNatDetectionDestinationIp, pattern(20, 0x70)},
  };
  const Bytes expected = cat({
      // IKE header (§3.1): SPIs, Next Payload SA (33), version 2.0, IKE_SA_INIT (34), I flag,
      // Message ID 0, Length 240.
      hex("01 02 03 04 05 06 07 08  00 00 00 00 00 00 00 00  21 20 22 08  00 00 00 00  00 00 00 f0"),
      // SA (§3.3): next KE (34), length 48; one proposal (last, length 44, #1, IKE, no SPI, 4 transforms).
      hex("22 00 00 30  00 00 00 2c  01 01 00 04"),
      hex("03 00 00 0c  01 00 00 0c  80 0e 01 00"),  // ENCR 12, Key Length attribute (TV, 14) = 256
      hex("03 00 00 08  02 00 00 05"),               // PRF 5
      hex("03 00 00 08  03 00 00 0c"),               // INTEG 12
      hex("00 00 00 08  04 00 00 13"),               // D-H 19, last transform
      // KE (§3.4): next Nonce (40), length 72, group 19, reserved.
      hex("28 00 00 48  00 13 00 00"), pattern(64, 0x40),
      // Nonce (§3.9): next Notify (41), length 36.
      hex("29 00 00 24"), pattern(32, 0x20),
      // Notify (§3.10): next Notify, length 28, no protocol, no SPI, NAT_DETECTION_SOURCE_IP (16388).
      hex("29 00 00 1c  00 00 40 04"), pattern(20, 0x50),
      // Notify: last payload, NAT_DETECTION_DESTINATION_IP (16389).
      hex("00 00 00 1c  00 00 40 05"), pattern(20, 0x70),
  });
  REQUIRE(expected.size() == 240);
  CHECK(encode_ok(m) == expected);

  m.header.next_payload = PayloadType::kSa;
  m.header.length = 240;
  CHECK(parse_ok(expected) == m);
}

TEST_CASE("every payload type round-trips, alone and all in one message", "[ike_message]") {
  const std::vector<Payload> payloads = every_payload();
  for (const Payload& p : payloads) {
    INFO(payload_type_name(payload_type(p)));
    check_round_trip(Message{init_header(), {p}});
  }
  // SKF last: SK may not precede it.
  std::vector<Payload> all;
  for (const Payload& p : payloads) {
    if (!std::holds_alternative<SkPayload>(p)) all.push_back(p);
  }
  check_round_trip(Message{init_header(), all});
}

TEST_CASE("header fields survive: SPIs, version, exchange, reserved flag bits, message ID", "[ike_message]") {
  Header h;
  h.initiator_spi = {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88};
  h.responder_spi = {1, 0, 0, 0, 0, 0, 0, 2};
  h.minor_version = 7;  // a higher minor version must be accepted (RFC 7296 §2.5)
  h.exchange_type = ExchangeType::kInformational;
  h.flags = kFlagResponse | kFlagVersion | 0x01;
  h.message_id = 0x89abcdef;
  check_round_trip(Message{h, {}});

  const Bytes bytes = encode_ok(Message{h, {}});
  const std::optional<Header> peeked = peek_header(bytes);
  REQUIRE(peeked);
  CHECK(peeked->initiator_spi == h.initiator_spi);
  CHECK(peeked->responder_spi == h.responder_spi);
  CHECK(peeked->message_id == 0x89abcdef);
  CHECK(peeked->response());
  CHECK_FALSE(peeked->initiator());
  CHECK(peeked->length == 28);
  CHECK_FALSE(peek_header(Bytes(bytes.begin(), bytes.end() - 1)));
}

TEST_CASE("SK content: the inner chain encodes and parses on its own", "[ike_message]") {
  const std::vector<Payload> inner = {
      IdiPayload{{IdType::kRfc822Addr, text("ops@example.net")}},
      AuthPayload{AuthMethod::kDigitalSignature, pattern(72, 1)},
      SaPayload{{SaProposal{1, ProtocolId::kEsp, hex("12 34 56 78"), {{TransformType::kEncr, 20, 256, {}}}}}},
      TsiPayload{{{ipv4_range("0a 01 00 00", "0a 01 00 ff")}}},
      TsrPayload{{{ipv4_range("0a 02 00 00", "0a 02 00 ff")}}},
  };
  EncodedChain chain;
  REQUIRE(encode_payload_chain(inner, &chain).is_ok());
  CHECK(chain.first_type == PayloadType::kIdi);
  CHECK(chain.bytes[0] == u8(PayloadType::kAuth));  // IDi's Next Payload names the AUTH after it

  std::vector<Payload> back;
  const ParseResult r = parse_payload_chain(chain.first_type, chain.bytes, &back);
  REQUIRE(r.ok());
  CHECK(back == inner);

  EncodedChain empty;
  REQUIRE(encode_payload_chain({}, &empty).is_ok());
  CHECK(empty.first_type == PayloadType::kNone);
  CHECK(empty.bytes.empty());
  CHECK(parse_payload_chain(PayloadType::kNone, {}, &back).ok());
  CHECK(back.empty());
}

TEST_CASE("SK layout: associated data is header + SK header with final lengths, body in place", "[ike_message]") {
  Header h = init_header();
  h.exchange_type = ExchangeType::kIkeAuth;
  h.message_id = 1;
  SkMessageLayout layout;
  REQUIRE(build_sk_message(h, {}, PayloadType::kIdi, 60, &layout).is_ok());
  REQUIRE(layout.bytes.size() == 28 + 4 + 60);
  CHECK(layout.body_location.offset == 32);
  CHECK(layout.body_location.length == 60);
  const Bytes expected_prefix = cat({
      hex("01 02 03 04 05 06 07 08  00 00 00 00 00 00 00 00  2e 20 23 08  00 00 00 01  00 00 00 5c"),
      hex("23 00 00 40"),  // SK: Next Payload IDi (the first inner payload), length 4 + 60
  });
  const auto aad = layout.associated_data();
  CHECK(Bytes(aad.begin(), aad.end()) == expected_prefix);

  // What the crypto library does: write IV | ciphertext | ICV into the body.
  const Bytes sealed = pattern(60, 0x33);
  std::copy(sealed.begin(), sealed.end(), layout.body().begin());
  const Message m = parse_ok(layout.bytes);
  REQUIRE(m.payloads.size() == 1);
  const auto* sk = std::get_if<SkPayload>(&m.payloads[0]);
  REQUIRE(sk);
  CHECK(sk->first_inner_type == PayloadType::kIdi);
  CHECK(sk->body == sealed);

  // The receiving side finds the same split in the datagram.
  const std::optional<SkBodyLocation> where = locate_sk_body(m, layout.bytes.size());
  REQUIRE(where);
  CHECK(where->offset == layout.body_location.offset);
  CHECK(where->length == layout.body_location.length);
}

TEST_CASE("SK layout with unencrypted payloads before SK, and for an SKF fragment", "[ike_message]") {
  const Header h = init_header();
  const std::vector<Payload> outer = {NotifyPayload{ProtocolId::kNone, {}, NotifyType::kCookie, pattern(16, 9)}};
  SkMessageLayout layout;
  REQUIRE(build_sk_message(h, outer, PayloadType::kNotify, 20, &layout).is_ok());
  CHECK(layout.body_location.offset == 28 + 24 + 4);
  const Message m = parse_ok(layout.bytes);
  REQUIRE(m.payloads.size() == 2);
  CHECK(m.payloads[0] == outer[0]);
  CHECK(locate_sk_body(m, layout.bytes.size())->offset == layout.body_location.offset);

  // RFC 7383 §2.5: the fragment numbers are authenticated too: they are in the associated data.
  SkMessageLayout fragment;
  REQUIRE(build_skf_message(h, {}, PayloadType::kNone, 2, 5, 33, &fragment).is_ok());
  CHECK(fragment.body_location.offset == 28 + 8);
  CHECK(fragment.bytes.size() == 28 + 8 + 33);
  const auto aad = fragment.associated_data();
  CHECK(Bytes(aad.end() - 8, aad.end()) == hex("00 00 00 29  00 02 00 05"));
  const Message f = parse_ok(fragment.bytes);
  const auto* skf = std::get_if<SkfPayload>(&f.payloads.at(0));
  REQUIRE(skf);
  CHECK(skf->fragment_number == 2);
  CHECK(skf->total_fragments == 5);
  CHECK(locate_sk_body(f, fragment.bytes.size())->offset == 36);

  CHECK_FALSE(locate_sk_body(Message{h, outer}, 100));
  CHECK_FALSE(build_skf_message(h, {}, PayloadType::kNone, 6, 5, 10, &fragment).is_ok());
}

TEST_CASE("non-ESP marker on UDP 4500", "[ike_message]") {
  const Bytes ike = cat({hex("00 00 00 00"), raw_message(PayloadType::kNone, {})});
  const auto stripped = strip_non_esp_marker(ike);
  REQUIRE(stripped);
  CHECK(stripped->size() == 28);
  CHECK(parse(Bytes(stripped->begin(), stripped->end())).ok());

  CHECK_FALSE(strip_non_esp_marker(hex("00 00 a0 01  00 00 00 01")));  // ESP: an SPI, never 0
  CHECK_FALSE(strip_non_esp_marker(hex("ff")));                        // NAT keepalive
  CHECK_FALSE(strip_non_esp_marker(hex("00 00 00")));

  Bytes message = hex("aa bb");
  add_non_esp_marker(&message);
  CHECK(message == hex("00 00 00 00 aa bb"));
}

TEST_CASE("unknown payloads: kept without the critical bit, rejected with it", "[ike_message]") {
  const auto unknown = static_cast<PayloadType>(49);
  // Unknown non-critical payload, then a Nonce: the chain continues past it.
  const Message m = parse_ok(raw_message(
      unknown,
      cat({raw_payload(PayloadType::kNonce, text("skip me")), raw_payload(PayloadType::kNone, pattern(16, 0))})));
  REQUIRE(m.payloads.size() == 2);
  CHECK(m.payloads[0] == Payload(UnknownPayload{unknown, false, text("skip me")}));
  CHECK(m.payloads[1] == Payload(NoncePayload{pattern(16, 0)}));

  // The same with the critical bit, after a valid payload: the error names its type and offset.
  const Bytes critical = raw_message(
      PayloadType::kNonce,
      cat({raw_payload(unknown, pattern(16, 0)), raw_payload(PayloadType::kNone, text("must understand"), 0x80)}));
  const ParseResult r = parse(critical);
  CHECK(r.error == ParseError::kUnsupportedCriticalPayload);
  CHECK(r.payload_type == unknown);
  CHECK(r.offset == 28 + 20);
  CHECK(r.notify_type() == NotifyType::kUnsupportedCriticalPayload);

  // The critical bit of a payload we know is ignored (§2.5), and so are reserved bits.
  CHECK(parse(raw_message(PayloadType::kNonce, raw_payload(PayloadType::kNone, pattern(16, 0), 0xff))).ok());

  // Our encoder sets the bit where the parser looks for it.
  Bytes encoded = encode_ok(Message{init_header(), {UnknownPayload{unknown, true, {}}}});
  CHECK(parse(encoded).error == ParseError::kUnsupportedCriticalPayload);

  // Inside SK content the same rule holds.
  std::vector<Payload> inner;
  CHECK(parse_payload_chain(unknown, raw_payload(PayloadType::kNone, {}, 0x80), &inner).error ==
        ParseError::kUnsupportedCriticalPayload);
}

TEST_CASE("major version: anything but 2 is INVALID_MAJOR_VERSION, checked before lengths", "[ike_message]") {
  for (uint8_t version : {0x10, 0x30, 0xf0, 0x00}) {
    INFO("version byte " << int(version));
    const ParseResult r = parse(raw_message(PayloadType::kNone, {}, version, 999));
    CHECK(r.error == ParseError::kInvalidMajorVersion);
    CHECK(r.notify_type() == NotifyType::kInvalidMajorVersion);
  }
  CHECK(parse(raw_message(PayloadType::kNone, {}, 0x2f)).ok());
}

namespace {

struct BadInput {
  const char* what;
  Bytes datagram;
  PayloadType at;          // the payload the error must name
  const char* reason_has;  // a piece of the reason, so that the intended check is the one that fired
};

// A message whose only payload is `type` with `body`.
Bytes single(PayloadType type, const Bytes& body) { return raw_message(type, raw_payload(PayloadType::kNone, body)); }

const Bytes kTransform = hex("00 00 00 08  01 00 00 0c");  // last; ENCR_AES_CBC
const Bytes kIpv4Selector = hex("07 00 00 10  00 00 ff ff  0a 00 00 00  0a 00 00 ff");

std::vector<BadInput> bad_inputs() {
  const auto sa = PayloadType::kSa;
  const auto ts = PayloadType::kTsi;
  const auto n = PayloadType::kNotify;
  const auto d = PayloadType::kDelete;
  const Bytes proposal = cat({hex("00 00 00 10  01 01 00 01"), kTransform});  // last, 16, #1, IKE, 1 transform
  return {
      // The header and the chain.
      {"shorter than a header", Bytes(27, 0), PayloadType::kNone, "shorter than the IKE header"},
      {"Length one more than the datagram", raw_message(PayloadType::kNone, {}, 0x20, 29), PayloadType::kNone,
       "differs from the datagram"},
      {"a byte after the message", cat({raw_message(PayloadType::kNone, {}), hex("00")}), PayloadType::kNone,
       "differs from the datagram"},
      {"payload length below 4", raw_message(PayloadType::kNonce, raw_payload(PayloadType::kNone, {}, 0, 3)),
       PayloadType::kNonce, "below 4"},
      {"payload longer than the message",
       raw_message(PayloadType::kNonce, raw_payload(PayloadType::kNone, pattern(16, 0), 0, 21)), PayloadType::kNonce,
       "longer than"},
      {"a Next Payload with nothing after it", raw_message(PayloadType::kNonce, raw_payload(n, pattern(16, 0))), n,
       "truncated generic payload header"},
      {"half a generic header", raw_message(PayloadType::kNonce, hex("00 00")), PayloadType::kNonce,
       "truncated generic payload header"},
      {"bytes after the last payload",
       raw_message(PayloadType::kNonce, cat({raw_payload(PayloadType::kNone, pattern(16, 0)), hex("29 00 00")})),
       PayloadType::kNone, "bytes after the last payload"},
      {"a payload after SK",
       raw_message(PayloadType::kSk, cat({raw_payload(PayloadType::kIdi, pattern(32, 0)),
                                          raw_payload(PayloadType::kNone, pattern(16, 0))})),
       PayloadType::kSk, "not the last payload"},
      {"a payload after SKF",
       raw_message(PayloadType::kSkf, cat({raw_payload(PayloadType::kNone, hex("00 01 00 02  aa")),
                                           raw_payload(PayloadType::kNone, {})})),
       PayloadType::kSkf, "not the last payload"},
      // SA substructures.
      {"SA: half a proposal header", single(sa, hex("00 00")), sa, "truncated proposal header"},
      {"SA: proposal length below 8", single(sa, cat({hex("00 00 00 07  01 01 00 01"), kTransform})), sa,
       "proposal length below 8"},
      {"SA: proposal longer than the SA", single(sa, cat({hex("00 00 00 30  01 01 00 01"), kTransform})), sa,
       "proposal longer than its SA payload"},
      {"SA: only proposal says more follow", single(sa, cat({hex("02 00 00 10  01 01 00 01"), kTransform})), sa,
       "disagrees with what follows"},
      {"SA: proposal says last, another follows", single(sa, cat({proposal, proposal})), sa,
       "disagrees with what follows"},
      {"SA: Last Substruc 1", single(sa, cat({hex("01 00 00 10  01 01 00 01"), kTransform})), sa,
       "neither 0 nor"},
      {"SA: Num Transforms 2, one present", single(sa, cat({hex("00 00 00 10  01 01 00 02"), kTransform})), sa,
       "Num Transforms"},
      {"SA: transform length below 8", single(sa, hex("00 00 00 10  01 01 00 01  00 00 00 07  01 00 00 0c")), sa,
       "transform length below 8"},
      {"SA: transform longer than the proposal",
       single(sa, hex("00 00 00 10  01 01 00 01  00 00 00 0c  01 00 00 0c")), sa, "transform longer than its proposal"},
      {"SA: only transform says more follow", single(sa, hex("00 00 00 10  01 01 00 01  03 00 00 08  01 00 00 0c")),
       sa, "disagrees with what follows"},
      {"SA: half an attribute", single(sa, hex("00 00 00 12  01 01 00 01  00 00 00 0a  01 00 00 0c  80 0e")), sa,
       "truncated transform attribute"},
      {"SA: TLV attribute longer than its transform",
       single(sa, hex("00 00 00 14  01 01 00 01  00 00 00 0c  01 00 00 0c  00 05 00 08")), sa,
       "attribute longer than its transform"},
      {"SA: Key Length in TLV format",
       single(sa, hex("00 00 00 16  01 01 00 01  00 00 00 0e  01 00 00 0c  00 0e 00 02 01 00")), sa, "TV format"},
      {"SA: two Key Lengths",
       single(sa, hex("00 00 00 18  01 01 00 01  00 00 00 10  01 00 00 0c  80 0e 00 80  80 0e 01 00")), sa,
       "two Key Length"},
      {"SA: IKE proposal with a 4-octet SPI",
       single(sa, cat({hex("00 00 00 14  01 01 04 01  aa bb cc dd"), kTransform})), sa, "SPI size wrong"},
      {"SA: ESP proposal without SPI", single(sa, cat({hex("00 00 00 10  01 03 00 01"), kTransform})), sa,
       "SPI size wrong"},
      {"SA: ESP proposal with an 8-octet SPI",
       single(sa, cat({hex("00 00 00 18  01 03 08 01"), pattern(8, 1), kTransform})), sa, "SPI size wrong"},
      {"SA: SPI longer than the proposal", single(sa, hex("00 00 00 08  01 03 04 00")), sa,
       "SPI longer than its proposal"},
      // Traffic selectors.
      {"TS: fixed part cut", single(ts, hex("01 00 00")), ts, "shorter than its fixed part"},
      {"TS: two announced, one present", single(ts, cat({hex("02 00 00 00"), kIpv4Selector})), ts,
       "fewer traffic selectors"},
      {"TS: IPv4 selector of length 40", single(ts, cat({hex("01 00 00 00  07 00 00 28"), pattern(36, 0)})), ts,
       "length wrong for its TS type"},
      {"TS: IPv6 selector of length 16", single(ts, cat({hex("01 00 00 00  08 00 00 10"), pattern(12, 0)})), ts,
       "length wrong for its TS type"},
      {"TS: unsupported type 9", single(ts, cat({hex("01 00 00 00  09 00 00 10"), pattern(12, 0)})), ts,
       "unsupported TS type"},
      {"TS: selector cut short", single(ts, hex("01 00 00 00  07 00 00 10  00 00 ff ff  0a 00")), ts,
       "longer than its TS payload"},
      {"TS: a byte after the selectors", single(ts, cat({hex("01 00 00 00"), kIpv4Selector, hex("00")})), ts,
       "bytes after the last traffic selector"},
      // Notify and Delete SPIs.
      {"N: fixed part cut", single(n, hex("00 00 40")), n, "shorter than its fixed part"},
      {"N: IKE notify with an SPI", single(n, hex("01 04 40 00  aa bb cc dd")), n, "SPI size"},
      {"N: ESP notify with an 8-octet SPI", single(n, cat({hex("03 08 40 09"), pattern(8, 0)})), n, "SPI size"},
      {"N: SPI longer than the payload", single(n, hex("03 04 40 09  aa bb")), n, "SPI longer"},
      {"D: fixed part cut", single(d, hex("03 04")), d, "shorter than its fixed part"},
      {"D: ESP with SPI size 8", single(d, cat({hex("03 08 00 01"), pattern(8, 0)})), d, "not 4 for AH/ESP"},
      {"D: two SPIs announced, one present", single(d, hex("03 04 00 02  00 00 a0 01")), d, "fewer SPIs"},
      {"D: a byte after the SPIs", single(d, hex("03 04 00 01  00 00 a0 01  ff")), d, "bytes after the last SPI"},
      {"D: IKE with SPI size 4", single(d, hex("01 04 00 00")), d, "not 0 for IKE"},
      {"D: IKE with SPI bytes", single(d, hex("01 00 00 00  aa")), d, "bytes after the last SPI"},
      {"D: protocol 0", single(d, hex("00 00 00 00")), d, "not IKE, AH or ESP"},
      // Fixed parts and sizes of the simple payloads.
      {"KE: fixed part cut", single(PayloadType::kKe, hex("00 13 00")), PayloadType::kKe,
       "shorter than its fixed part"},
      {"IDi: fixed part cut", single(PayloadType::kIdi, hex("02 00")), PayloadType::kIdi,
       "shorter than its fixed part"},
      {"IDi: IPv4 address of 3 octets", single(PayloadType::kIdi, hex("01 00 00 00  0a 00 00")), PayloadType::kIdi,
       "ID data size"},
      {"IDr: IPv6 address of 4 octets", single(PayloadType::kIdr, hex("05 00 00 00  0a 00 00 01")), PayloadType::kIdr,
       "ID data size"},
      {"CERT: no encoding", single(PayloadType::kCert, {}), PayloadType::kCert, "without its encoding"},
      {"CERTREQ: no encoding", single(PayloadType::kCertReq, {}), PayloadType::kCertReq, "without its encoding"},
      {"CERTREQ: X.509 hashes of 19 octets", single(PayloadType::kCertReq, cat({hex("04"), pattern(19, 0)})),
       PayloadType::kCertReq, "20-octet"},
      {"AUTH: fixed part cut", single(PayloadType::kAuth, hex("02 00 00")), PayloadType::kAuth,
       "shorter than its fixed part"},
      {"Nonce of 15 octets", single(PayloadType::kNonce, pattern(15, 0)), PayloadType::kNonce, "16..256"},
      {"Nonce of 257 octets", single(PayloadType::kNonce, pattern(257, 0)), PayloadType::kNonce, "16..256"},
      {"CP: fixed part cut", single(PayloadType::kCp, hex("01 00")), PayloadType::kCp, "shorter than its fixed part"},
      {"CP: attribute longer than the payload", single(PayloadType::kCp, hex("01 00 00 00  00 01 00 04  0a 00")),
       PayloadType::kCp, "longer than its CP payload"},
      {"CP: half an attribute header", single(PayloadType::kCp, hex("01 00 00 00  00 01")), PayloadType::kCp,
       "longer than its CP payload"},
      {"SKF: fragment numbers cut", raw_message(PayloadType::kSkf, raw_payload(PayloadType::kIdi, hex("00 01"))),
       PayloadType::kSkf, "shorter than its fragment numbers"},
      {"SKF: Fragment Number 0", raw_message(PayloadType::kSkf, raw_payload(PayloadType::kIdi, hex("00 00 00 01"))),
       PayloadType::kSkf, "Fragment Number 0 or above"},
      {"SKF: Fragment Number above Total",
       raw_message(PayloadType::kSkf, raw_payload(PayloadType::kNone, hex("00 03 00 02"))), PayloadType::kSkf,
       "Fragment Number 0 or above"},
  };
}

}  // namespace

TEST_CASE("malformed input: INVALID_SYNTAX, naming the payload and the broken rule", "[ike_message]") {
  for (const BadInput& bad : bad_inputs()) {
    INFO(bad.what);
    const ParseResult r = parse(bad.datagram);
    INFO(r.to_string());
    CHECK(r.error == ParseError::kInvalidSyntax);
    CHECK(r.notify_type() == NotifyType::kInvalidSyntax);
    CHECK(r.payload_type == bad.at);
    CHECK(std::string_view(r.reason).find(bad.reason_has) != std::string_view::npos);
  }
}

TEST_CASE("malformed input: every truncation of a valid message is refused", "[ike_message]") {
  Message m{init_header(), every_payload()};
  m.payloads.erase(m.payloads.end() - 2);  // SK may not precede SKF
  const Bytes full = encode_ok(m);
  for (size_t size = 0; size < full.size(); ++size) {
    // Fix up the header Length so that the chain, not the header check, meets the cut.
    Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(size));
    if (size >= 28) {
      cut[24] = static_cast<uint8_t>(size >> 24);
      cut[25] = static_cast<uint8_t>(size >> 16);
      cut[26] = static_cast<uint8_t>(size >> 8);
      cut[27] = static_cast<uint8_t>(size);
    }
    INFO("cut at " << size);
    CHECK(parse(cut).error == ParseError::kInvalidSyntax);
  }
}

TEST_CASE("encrypted payloads never nest", "[ike_message]") {
  std::vector<Payload> inner;
  const ParseResult r = parse_payload_chain(PayloadType::kSk, raw_payload(PayloadType::kNone, pattern(8, 0)), &inner);
  CHECK(r.error == ParseError::kInvalidSyntax);
  CHECK(std::string_view(r.reason).find("inside encrypted content") != std::string_view::npos);
  EncodedChain chain;
  CHECK_FALSE(encode_payload_chain({SkfPayload{PayloadType::kNone, 1, 1, {}}}, &chain).is_ok());
}

TEST_CASE("encoding refuses what parsing would refuse", "[ike_message]") {
  const auto refused = [](std::vector<Payload> payloads, Header h = init_header()) {
    Bytes out;
    const dpvpn::Status s = encode_message(Message{h, std::move(payloads)}, &out);
    INFO(s.to_string());
    return !s.is_ok() && s.code() == dpvpn::StatusCode::kInvalidArgument;
  };
  const auto ike_sa = [](std::vector<SaTransform> transforms) {
    return SaPayload{{SaProposal{1, ProtocolId::kIke, {}, std::move(transforms)}}};
  };
  const SaTransform aes{TransformType::kEncr, 12, {}, {}};
  CHECK(refused({SkPayload{PayloadType::kNone, {}}, NoncePayload{pattern(16, 0)}}));
  CHECK(refused({UnknownPayload{PayloadType::kSa, false, {}}}));
  CHECK(refused({UnknownPayload{PayloadType::kNone, false, {}}}));
  CHECK(refused({NoncePayload{pattern(15, 0)}}));
  CHECK(refused({IdiPayload{{IdType::kIpv6Addr, pattern(4, 0)}}}));
  CHECK(refused({CertReqPayload{CertEncoding::kX509Signature, pattern(21, 0)}}));
  CHECK(refused({TsiPayload{{{TrafficSelector{TsType::kIpv4AddrRange, 0, 0, 0, pattern(16, 0), pattern(16, 0)}}}}}));
  CHECK(refused({TsiPayload{{{TrafficSelector{static_cast<TsType>(9), 0, 0, 0, {}, {}}}}}}));
  CHECK(refused({TsiPayload{{std::vector<TrafficSelector>(256, ipv4_range("00000000", "ffffffff"))}}}));
  CHECK(refused({ike_sa(std::vector<SaTransform>(256, aes))}));
  CHECK(refused({SaPayload{{SaProposal{1, ProtocolId::kEsp, {}, {aes}}}}}));       // ESP without SPI
  CHECK(refused({ike_sa({{TransformType::kPrf, 5, {}, {{14, true, {1, 0}}}}})}));  // Key Length elsewhere
  CHECK(refused({ike_sa({{TransformType::kPrf, 5, {}, {{3, true, {1}}}}})}));      // TV value of 1 octet
  CHECK(refused({ike_sa({{TransformType::kPrf, 5, {}, {{0x8001, false, {}}}}})}));  // type over 15 bits
  CHECK(refused({NotifyPayload{ProtocolId::kIke, pattern(8, 0), NotifyType::kRekeySa, {}}}));
  CHECK(refused({DeletePayload{ProtocolId::kIke, {1}}}));
  CHECK(refused({DeletePayload{ProtocolId::kNone, {}}}));
  CHECK(refused({CpPayload{CfgType::kReply, {{static_cast<CfgAttributeType>(0x8001), {}}}}}));
  CHECK(refused({SkfPayload{PayloadType::kNone, 0, 1, {}}}));
  CHECK(refused({VendorIdPayload{Bytes(65532, 0)}}));  // one over what a 16-bit payload length holds
  CHECK_FALSE(refused({VendorIdPayload{Bytes(65531, 0)}}));
  Header h = init_header();
  h.major_version = 16;
  CHECK(refused({}, h));
}

TEST_CASE("ParseResult says which notification to answer with", "[ike_message]") {
  const ParseResult ok;
  CHECK(ok.ok());
  CHECK(ok.to_string() == "ok");
  const ParseResult syntax = parse(Bytes(3, 0));
  CHECK(syntax.to_string() == "INVALID_SYNTAX at offset 0 (none): shorter than the IKE header");
  CHECK(payload_type_name(PayloadType::kCertReq) == "CERTREQ");
  CHECK(payload_type_name(static_cast<PayloadType>(99)) == "payload 99");
}
