#pragma once
// The IKE header (RFC 7296 §3.1) and the two things done to a datagram before a full parse: reading
// just its header (to find the IKE SA by SPI) and removing the non-ESP marker on UDP 4500.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "constants.hpp"

namespace dpvpn::ike {

using IkeSpi = std::array<uint8_t, 8>;  // wire order, like the tables' IKE "cookie"

inline constexpr size_t kHeaderSize = 28;

struct Header {
  IkeSpi initiator_spi{};
  IkeSpi responder_spi{};
  PayloadType next_payload = PayloadType::kNone;  // set by parsing; encoding computes it
  uint8_t major_version = kIkeMajorVersion;
  uint8_t minor_version = 0;
  ExchangeType exchange_type{};
  uint8_t flags = 0;  // kFlagInitiator | kFlagVersion | kFlagResponse; reserved bits are kept as received
  uint32_t message_id = 0;
  uint32_t length = 0;  // the whole message; set by parsing, encoding computes it

  bool initiator() const { return (flags & kFlagInitiator) != 0; }
  bool response() const { return (flags & kFlagResponse) != 0; }
  friend bool operator==(const Header&, const Header&) = default;
};

// The header fields of a datagram, nothing checked beyond its 28 bytes being there (dispatch by
// SPI and message ID before the full parse); nullopt when it is shorter than a header.
std::optional<Header> peek_header(std::span<const uint8_t> datagram);

// UDP 4500 carries ESP and IKE side by side; IKE starts with four zero octets (RFC 3948 §2.2).
inline constexpr size_t kNonEspMarkerSize = 4;
// The IKE message in a UDP 4500 payload; nullopt when the payload has no non-ESP marker (it is
// ESP or a NAT keepalive).
std::optional<std::span<const uint8_t>> strip_non_esp_marker(std::span<const uint8_t> udp_payload);
// Prefixes an encoded (and already encrypted) message with the marker: the marker is not part of
// the IKE message, so it is neither in the AEAD associated data nor under the ICV.
void add_non_esp_marker(std::vector<uint8_t>* message);

}  // namespace dpvpn::ike
