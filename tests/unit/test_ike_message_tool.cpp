// ike_message_tool: dpvpn_ike_message's side of the scapy interop test (tests/ike/test_ike_scapy.py).
//   ike_message_tool describe FILE...  parse each file (one raw IKE message) and print, one line each,
//                                      the message as JSON, or {"error": NAME, "payload_type": N}
//   ike_message_tool encode            encode sample messages built here and print, one line each,
//                                      {"name", "hex", "message"}: the bytes and, for comparison
//                                      with scapy's dissection, the struct that was encoded
// The JSON shape is the one the script builds from scapy's packets.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "message/message.hpp"
#include "message/sk_layout.hpp"

using namespace dpvpn::ike;
using Bytes = std::vector<uint8_t>;

namespace {

std::string hex(const std::vector<uint8_t>& b) {
  std::string out;
  for (uint8_t x : b) out += fmt::format("{:02x}", x);
  return out;
}
std::string hex(const IkeSpi& spi) { return hex(Bytes(spi.begin(), spi.end())); }

unsigned num(auto e) { return static_cast<unsigned>(e); }

template <class T, class F>
std::string list(const std::vector<T>& items, F&& describe) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + describe(items[i]);
  return out + "]";
}

std::string describe_transform(const SaTransform& t) {
  std::string out = fmt::format(R"({{"type": {}, "id": {})", num(t.type), t.id);
  if (t.key_length) out += fmt::format(R"(, "key_length": {})", *t.key_length);
  if (!t.other_attributes.empty()) {
    out += R"(, "other_attributes": )" + list(t.other_attributes, [](const SaTransformAttribute& a) {
             return fmt::format(R"({{"type": {}, "tv": {}, "value": "{}"}})", a.type, a.tv_format, hex(a.value));
           });
  }
  return out + "}";
}

std::string describe_selector(const TrafficSelector& s) {
  return fmt::format(
      R"({{"ts_type": {}, "ip_protocol": {}, "start_port": {}, "end_port": {}, "start": "{}", "end": "{}"}})",
      num(s.type), s.ip_protocol, s.start_port, s.end_port, hex(s.start_address), hex(s.end_address));
}

// The fields of one payload, after its "type".
struct PayloadFields {
  std::string operator()(const SaPayload& p) const {
    return R"("proposals": )" + list(p.proposals, [](const SaProposal& pr) {
             return fmt::format(R"({{"number": {}, "protocol": {}, "spi": "{}", "transforms": {}}})", pr.number,
                                num(pr.protocol), hex(pr.spi), list(pr.transforms, describe_transform));
           });
  }
  std::string operator()(const KePayload& p) const {
    return fmt::format(R"("group": {}, "data": "{}")", p.group, hex(p.data));
  }
  std::string operator()(const IdPayload& p) const {
    return fmt::format(R"("id_type": {}, "data": "{}")", num(p.type), hex(p.data));
  }
  std::string operator()(const CertPayload& p) const {
    return fmt::format(R"("encoding": {}, "data": "{}")", num(p.encoding), hex(p.data));
  }
  std::string operator()(const CertReqPayload& p) const {
    return fmt::format(R"("encoding": {}, "data": "{}")", num(p.encoding), hex(p.authorities));
  }
  std::string operator()(const AuthPayload& p) const {
    return fmt::format(R"("method": {}, "data": "{}")", num(p.method), hex(p.data));
  }
  std::string operator()(const NoncePayload& p) const { return fmt::format(R"("data": "{}")", hex(p.data)); }
  std::string operator()(const NotifyPayload& p) const {
    return fmt::format(R"("protocol": {}, "spi": "{}", "notify_type": {}, "data": "{}")", num(p.protocol), hex(p.spi),
                       num(p.type), hex(p.data));
  }
  std::string operator()(const DeletePayload& p) const {
    return fmt::format(R"("protocol": {}, "spis": [{}])", num(p.protocol), fmt::join(p.spis, ", "));
  }
  std::string operator()(const VendorIdPayload& p) const { return fmt::format(R"("data": "{}")", hex(p.data)); }
  std::string operator()(const TsPayload& p) const { return R"("selectors": )" + list(p.selectors, describe_selector); }
  std::string operator()(const SkPayload& p) const {
    return fmt::format(R"("first_inner": {}, "body": "{}")", num(p.first_inner_type), hex(p.body));
  }
  std::string operator()(const CpPayload& p) const {
    return fmt::format(R"("cfg_type": {}, "attributes": )", num(p.type)) + list(p.attributes, [](const CpAttribute& a) {
             return fmt::format(R"({{"type": {}, "value": "{}"}})", num(a.type), hex(a.value));
           });
  }
  std::string operator()(const EapPayload& p) const { return fmt::format(R"("data": "{}")", hex(p.message)); }
  std::string operator()(const SkfPayload& p) const {
    return fmt::format(R"("first_inner": {}, "fragment": {}, "total": {}, "body": "{}")", num(p.first_inner_type),
                       p.fragment_number, p.total_fragments, hex(p.body));
  }
  std::string operator()(const UnknownPayload& p) const {
    return fmt::format(R"("critical": {}, "body": "{}")", p.critical, hex(p.body));
  }
};

std::string describe(const Message& m) {
  const Header& h = m.header;
  const std::string header =
      fmt::format(R"({{"ispi": "{}", "rspi": "{}", "next": {}, "major": {}, "minor": {}, "exchange": {}, "flags": {}, )"
                  R"("message_id": {}, "length": {}}})",
                  hex(h.initiator_spi), hex(h.responder_spi), num(h.next_payload), h.major_version, h.minor_version,
                  num(h.exchange_type), h.flags, h.message_id, h.length);
  const std::string payloads = list(m.payloads, [](const Payload& p) {
    return fmt::format(R"({{"type": {}, {}}})", num(payload_type(p)), std::visit(PayloadFields{}, p));
  });
  return fmt::format(R"({{"header": {}, "payloads": {}}})", header, payloads);
}

int describe_files(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "ike_message_tool: cannot read %s\n", argv[i]);
      return 1;
    }
    const Bytes datagram((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Message m;
    const ParseResult r = parse_message(datagram, &m);
    if (r.ok()) {
      std::puts(describe(m).c_str());
    } else {
      std::puts(fmt::format(R"({{"error": "{}", "payload_type": {}, "reason": "{}"}})", parse_error_name(r.error),
                            num(r.payload_type), r.reason)
                    .c_str());
    }
  }
  return 0;
}

Bytes pattern(size_t n, uint8_t seed) {
  Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i * 7);
  return out;
}

Bytes text(std::string_view s) { return {s.begin(), s.end()}; }

Header header(ExchangeType exchange, uint8_t flags, uint32_t message_id) {
  Header h;
  h.initiator_spi = {0x5a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  h.responder_spi = {0x9e, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  h.exchange_type = exchange;
  h.flags = flags;
  h.message_id = message_id;
  return h;
}

struct Sample {
  const char* name;
  Message message;
};

std::vector<Sample> samples() {
  const TrafficSelector v4{TsType::kIpv4AddrRange, 0, 0, 65535, {10, 1, 0, 0}, {10, 1, 0, 255}};
  const TrafficSelector v6{TsType::kIpv6AddrRange, 17, 500, 4500, pattern(16, 0xfd), pattern(16, 0xfe)};
  Message init_response{header(ExchangeType::kIkeSaInit, kFlagResponse, 0), {}};
  init_response.header.responder_spi = {};
  init_response.payloads = {
      SaPayload{{SaProposal{1,
                            ProtocolId::kIke,
                            {},
                            {{TransformType::kEncr, 20, 256, {}},
                             {TransformType::kPrf, 7, {}, {}},
                             {TransformType::kDh, 31, {}, {}}}},
                 SaProposal{2,
                            ProtocolId::kIke,
                            {},
                            {{TransformType::kEncr, 12, 128, {}},
                             {TransformType::kPrf, 5, {}, {}},
                             {TransformType::kInteg, 12, {}, {}},
                             {TransformType::kDh, 14, {}, {}}}}}},
      KePayload{31, pattern(32, 1)},
      NoncePayload{pattern(48, 2)},
      NotifyPayload{ProtocolId::kNone, {}, NotifyType::kNatDetectionSourceIp, pattern(20, 3)},
      NotifyPayload{ProtocolId::kNone, {}, NotifyType::kNatDetectionDestinationIp, pattern(20, 4)},
      CertReqPayload{CertEncoding::kX509Signature, pattern(40, 5)},
      NotifyPayload{ProtocolId::kNone, {}, NotifyType::kIkev2FragmentationSupported, {}},
      VendorIdPayload{text("dpvpn ike")},
  };

  Bytes hash_and_url = pattern(20, 7);  // SHA-1 of the certificate, then where to fetch it
  for (char c : std::string_view("http://ca.example.net/gw-a.der")) hash_and_url.push_back(static_cast<uint8_t>(c));
  Message auth_content{header(ExchangeType::kIkeAuth, kFlagInitiator, 1), {}};
  auth_content.payloads = {
      IdiPayload{{IdType::kIpv4Addr, {192, 0, 2, 1}}},
      CertPayload{CertEncoding::kHashUrlX509Cert, hash_and_url},
      AuthPayload{AuthMethod::kDigitalSignature, pattern(64, 6)},
      CpPayload{CfgType::kRequest,
                {{CfgAttributeType::kInternalIp4Address, {}},
                 {CfgAttributeType::kInternalIp4Dns, {}},
                 {CfgAttributeType::kApplicationVersion, text("dpvpn 0.1")}}},
      SaPayload{{SaProposal{1,
                            ProtocolId::kEsp,
                            {0xc0, 0x00, 0x00, 0x01},
                            {{TransformType::kEncr, 20, 128, {}}, {TransformType::kEsn, 1, {}, {}}}}}},
      TsiPayload{{{v4, v6}}},
      TsrPayload{{{v4}}},
      IdrPayload{{IdType::kFqdn, text("gw-b.example.net")}},
      EapPayload{{2, 1, 0, 5, 1}},
      UnknownPayload{static_cast<PayloadType>(200), false, text("not for you")},
  };

  Message deletes{header(ExchangeType::kInformational, kFlagInitiator, 7), {}};
  deletes.payloads = {DeletePayload{ProtocolId::kEsp, {0xc0000001, 0xc0000002}}, DeletePayload{ProtocolId::kIke, {}}};

  // Through the SK layout, with the body written in place as the crypto library will.
  SkMessageLayout sk;
  if (!build_sk_message(header(ExchangeType::kInformational, kFlagResponse, 7), {}, PayloadType::kDelete, 44, &sk)) {
    std::abort();
  }
  const Bytes sealed = pattern(44, 8);
  std::copy(sealed.begin(), sealed.end(), sk.body().begin());
  Message sk_message;
  if (!parse_message(sk.bytes, &sk_message).ok()) std::abort();

  Message fragment{header(ExchangeType::kIkeAuth, kFlagInitiator, 1),
                   {SkfPayload{PayloadType::kIdi, 1, 2, pattern(100, 9)}}};

  return {{"ike_sa_init_response", init_response},
          {"ike_auth_content", auth_content},
          {"informational_deletes", deletes},
          {"sk_from_layout", sk_message},
          {"skf_first_fragment", fragment}};
}

int encode_samples() {
  for (Sample& s : samples()) {
    Bytes bytes;
    if (const dpvpn::Status st = encode_message(s.message, &bytes); !st) {
      std::fprintf(stderr, "ike_message_tool: %s: %s\n", s.name, st.to_string().c_str());
      return 1;
    }
    // The description carries the header fields encoding computed.
    s.message.header.next_payload = payload_type(s.message.payloads.front());
    s.message.header.length = static_cast<uint32_t>(bytes.size());
    std::puts(
        fmt::format(R"({{"name": "{}", "hex": "{}", "message": {}}})", s.name, hex(bytes), describe(s.message)).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "describe") return describe_files(argc, argv);
  if (command == "encode" && argc == 2) return encode_samples();
  std::fprintf(stderr, "usage: ike_message_tool describe FILE... | ike_message_tool encode\n");
  return 2;
}
