#pragma once
// IKEv2 messages (RFC 7296 §3): parse a datagram into a Message, encode a Message into a datagram,
// and the same for the payload chain inside an SK payload. Parsing never throws and never reads
// outside its input; what is wrong with an input comes back as a ParseResult that names the error
// notification to answer with.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "header.hpp"
#include "payload.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

struct Message {
  Header header;
  std::vector<Payload> payloads;  // in wire order; an SK or SKF payload can only be the last
  friend bool operator==(const Message&, const Message&) = default;
};

enum class ParseError : uint8_t {
  kNone,
  kInvalidSyntax,               // any malformation: answer INVALID_SYNTAX
  kUnsupportedCriticalPayload,  // unknown payload with the critical bit: answer with its type
  kInvalidMajorVersion,         // major version not 2: answer INVALID_MAJOR_VERSION
};
std::string_view parse_error_name(ParseError error);

struct [[nodiscard]] ParseResult {
  ParseError error = ParseError::kNone;
  // The payload at fault (kNone for the header). For kUnsupportedCriticalPayload this is the
  // one-octet type the UNSUPPORTED_CRITICAL_PAYLOAD notification carries as its data.
  PayloadType payload_type = PayloadType::kNone;
  size_t offset = 0;        // where the faulty header or payload starts in the input
  const char* reason = "";  // static text, for logs

  bool ok() const { return error == ParseError::kNone; }
  NotifyType notify_type() const;  // the error notification for a failed parse
  std::string to_string() const;
};

// A whole datagram (for UDP 4500, after strip_non_esp_marker()). The header length must equal the
// datagram's size. Unknown payloads without the critical bit are kept as UnknownPayload.
// `out` is only meaningful when the result is ok().
ParseResult parse_message(std::span<const uint8_t> datagram, Message* out);

// The decrypted content of an SK payload (or the reassembled SKF fragments): a chain starting with
// `first_type`. An SK or SKF payload inside it is a syntax error.
ParseResult parse_payload_chain(PayloadType first_type, std::span<const uint8_t> chain, std::vector<Payload>* out);

// Encodes `message`, computing the header's Next Payload and Length and every payload's Next
// Payload and Length (the values in message.header are ignored). Fails, with nothing useful in
// `out`, on what parse_message() would refuse: a field too large for its length field, an SK/SKF
// payload that is not last, an UnknownPayload with a known type, sizes the RFC fixes...
Status encode_message(const Message& message, std::vector<uint8_t>* out);

struct EncodedChain {
  PayloadType first_type = PayloadType::kNone;  // goes into the SK payload's Next Payload field
  std::vector<uint8_t> bytes;                   // the plaintext to encrypt
};
// The content of an SK payload: `payloads` chained, no SK or SKF among them.
Status encode_payload_chain(const std::vector<Payload>& payloads, EncodedChain* out);

}  // namespace dpvpn::ike
