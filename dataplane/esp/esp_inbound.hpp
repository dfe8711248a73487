#pragma once
// ESP inbound, tunnel mode (RFC 4303), ESP directly over IP (protocol 50) or UDP-encapsulated
// (RFC 3948; either is accepted whatever the SA's natt flag, since a NAT may appear mid-life).
//
// Input:  pkts[i]'s data starts at the OUTER IP header (IPv4 or IPv6 without extension headers),
//         one segment; sas[i] is the inbound SA the caller found by SPI. The caller has already
//         told IKE / NAT-keepalives on UDP 4500 apart (a zero non-ESP marker is rejected here).
// Steps:  lengths -> anti-replay check (before crypto) -> decrypt + ICV check (the window does
//         not move on failure) -> anti-replay accept -> padding (1,2,3,...) -> next header (4/41,
//         matching the inner IP version; 59 = dummy packet) -> strip outer IP/UDP/ESP/IV and
//         trailer (and any TFC padding after the inner packet) -> traffic selectors (inner source
//         in remote_ts, destination in local_ts; an empty list is "any"; ports are checked for
//         TCP/UDP/SCTP when the IP header is followed directly by them, else port 0).
// Output: results[i] == EspResult::kOk: the data starts at the INNER IP header. Any other result:
//         drop the packet (the caller frees it; it may be partly rewritten).
// Lifetime bytes count inner IP bytes.
//
// esp_offsets (optional): esp_offsets[i] != 0 says the caller has already checked pkts[i]'s outer
// headers as this function would (IP lengths, packet trimmed to the IP total length, no fragment,
// protocol ESP, or UDP whose length field matches and whose payload is not IKE's zero marker) and
// that its ESP header starts esp_offsets[i] bytes after the outer IP header; 0 (or no array): they
// are checked here. The worker's parser has done that work for every packet it hands over.
//
// Data path: no allocation, locks or syscalls; any n, handled in chunks of 64. An SA's replay
// window is not concurrent: one lcore at a time per inbound SA.
#include <cstdint>

#include "esp/crypto_engine.hpp"
#include "esp/esp_result.hpp"
#include "esp/esp_sa.hpp"

struct rte_mbuf;

namespace dpvpn::dataplane {

void esp_inbound_burst(CryptoEngine& engine, rte_mbuf* const* pkts, EspSa* const* sas, uint32_t n,
                       EspResult* results, const uint16_t* esp_offsets = nullptr);

}  // namespace dpvpn::dataplane
