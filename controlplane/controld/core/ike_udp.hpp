#pragma once
// IKE over UDP (RFC 7296 §2.23, RFC 3948): port 500 carries IKE messages as they are; port 4500
// carries IKE behind a 4-byte zero non-ESP marker, ESP (a non-zero SPI in the same place) and
// 1-byte NAT-T keepalives (0xff). Both of controld's transports (kernel sockets, dataplane punts)
// go through these, so the engine only ever sees bare IKE messages.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/engine_io.hpp"

namespace dpvpn::controld {

inline constexpr uint16_t kIkePort = 500;
inline constexpr uint16_t kNatTPort = 4500;

// The IKE message in a UDP payload received on our `local_port`; nullopt for a keepalive, ESP,
// or anything too short to be IKE.
std::optional<std::vector<uint8_t>> ike_from_udp(uint16_t local_port, std::span<const uint8_t> payload);

// The UDP payload for an IKE message sent from our `local_port`: the marker is added when that is
// not 500 (the peer's socket for this exchange is then its NAT-T one too). A NAT-T keepalive
// (ike::kNatKeepalive) goes as is.
std::vector<uint8_t> udp_for_ike(uint16_t local_port, std::span<const uint8_t> message);

// An Ethernet frame as the dataplane punts it (optionally 802.1Q tagged; IPv4 without fragments or
// IPv6 without extension headers; UDP to port 500 or 4500) -> the datagram, local = its destination.
// nullopt when the frame is not an IKE message for us.
std::optional<ike::Datagram> datagram_from_frame(std::span<const uint8_t> frame);

}  // namespace dpvpn::controld
