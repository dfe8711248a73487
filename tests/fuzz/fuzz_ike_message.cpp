// libFuzzer target over the IKEv2 wire format (dpvpn_ike_message): parse_message() on the input as a
// datagram, and parse_payload_chain() on the input after its first byte, which names the first
// payload type (the decrypted content of an SK payload).
//
// Oracles, beyond ASan/UBSan and "never throws": whatever parses must encode; the encoding must parse
// back to the same Message (or chain) and encode to the same bytes. For a message with an SK/SKF
// payload, locate_sk_body() must point at exactly that payload's body in the datagram.
//
// Seeds: tests/fuzz/ike_corpus/ (written by tests/ike/make_fuzz_corpus.py).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "message/message.hpp"
#include "message/sk_layout.hpp"

using namespace dpvpn::ike;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_ike_message: %s\n", what);
  std::abort();
}

void check_sk_location(const Message& m, std::span<const uint8_t> datagram) {
  const std::optional<SkBodyLocation> where = locate_sk_body(m, datagram.size());
  if (!where) return;
  const Payload& last = m.payloads.back();
  const std::vector<uint8_t>& body =
      std::holds_alternative<SkPayload>(last) ? std::get<SkPayload>(last).body : std::get<SkfPayload>(last).body;
  if (!std::ranges::equal(datagram.subspan(where->offset, where->length), body)) {
    fail("locate_sk_body() does not point at the SK body");
  }
}

void check_message(std::span<const uint8_t> datagram) {
  Message m;
  if (!parse_message(datagram, &m).ok()) return;
  check_sk_location(m, datagram);
  std::vector<uint8_t> encoded;
  if (!encode_message(m, &encoded).is_ok()) fail("a parsed message does not encode");
  Message again;
  if (!parse_message(encoded, &again).ok()) fail("an encoded message does not parse");
  if (!(again == m)) fail("message round trip changed the message");
  std::vector<uint8_t> re_encoded;
  if (!encode_message(again, &re_encoded).is_ok() || re_encoded != encoded) fail("encoding is not stable");
}

void check_chain(PayloadType first, std::span<const uint8_t> chain) {
  std::vector<Payload> payloads;
  if (!parse_payload_chain(first, chain, &payloads).ok()) return;
  EncodedChain encoded;
  if (!encode_payload_chain(payloads, &encoded).is_ok()) fail("a parsed chain does not encode");
  if (encoded.first_type != first && !payloads.empty()) fail("chain round trip changed the first type");
  std::vector<Payload> again;
  if (!parse_payload_chain(encoded.first_type, encoded.bytes, &again).ok()) fail("an encoded chain does not parse");
  if (again != payloads) fail("chain round trip changed the payloads");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  check_message(input);
  if (size > 0) check_chain(static_cast<PayloadType>(data[0]), input.subspan(1));
  return 0;
}
