#pragma once
// Where the crypto goes in a protected message. An SK (or SKF) payload is always the last payload,
// so its body — IV | encrypted content | ICV — is the tail of the message, and everything before
// it (IKE header, unencrypted payloads, the SK header; for SKF also its fragment numbers) is:
//   - AEAD (RFC 5282 §5.1): the associated data, exactly;
//   - CBC + HMAC (RFC 7296 §3.14): the start of what the ICV covers (the ICV covers the whole
//     message up to the ICV itself).
// Sending: build_sk_message() encodes the message with every length already final and the body
// left as zeros; the crypto library writes IV, ciphertext and ICV into body() in place.
// Receiving: after parse_message(), locate_sk_body() gives the same split of the datagram.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "message.hpp"

namespace dpvpn::ike {

struct SkBodyLocation {
  size_t offset = 0;  // = the length of the associated data / authenticated prefix
  size_t length = 0;
};

struct SkMessageLayout {
  std::vector<uint8_t> bytes;  // the complete message, body zero-filled
  SkBodyLocation body_location;

  std::span<const uint8_t> associated_data() const { return {bytes.data(), body_location.offset}; }
  std::span<uint8_t> body() { return {bytes.data() + body_location.offset, body_location.length}; }
};

// `header` with `outer_payloads` (usually none) and then an SK payload whose Next Payload is
// `first_inner_type` (EncodedChain::first_type) and whose body is `body_length` octets.
Status build_sk_message(const Header& header, const std::vector<Payload>& outer_payloads, PayloadType first_inner_type,
                        size_t body_length, SkMessageLayout* out);

// The same for one fragment (RFC 7383): `first_inner_type` for fragment 1, kNone for the others.
Status build_skf_message(const Header& header, const std::vector<Payload>& outer_payloads, PayloadType first_inner_type,
                         uint16_t fragment_number, uint16_t total_fragments, size_t body_length, SkMessageLayout* out);

// For a message parse_message() accepted from a datagram of `datagram_size` octets: where its SK
// or SKF body lies in that datagram; nullopt when the message has neither.
std::optional<SkBodyLocation> locate_sk_body(const Message& parsed, size_t datagram_size);

}  // namespace dpvpn::ike
