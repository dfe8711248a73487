#pragma once
// PacketView: what the classifier learned about one received frame, by offsets into its mbuf.
// Parsing never writes to the packet and never trusts a length field it has not checked.
#include <cstdint>

#include "net/drop_reason.hpp"

struct rte_mbuf;

namespace dpvpn::dataplane {

enum class L3 : uint8_t { kNone, kArp, kIpv4, kIpv6 };

struct PacketView {
  uint16_t l2_len = 0;       // 14, or 18 with an 802.1Q tag
  uint16_t vlan = 0;         // VLAN id, 0 if untagged
  L3 l3 = L3::kNone;
  uint16_t l3_len = 0;       // IP header length (IPv6: the fixed 40 bytes)
  uint16_t ip_total = 0;     // IP packet length from its header (IPv4 total length / 40 + payload)
  uint8_t proto = 0;         // IPv4 protocol / IPv6 next header
  uint8_t ttl = 0;
  bool df = false;           // IPv4 don't-fragment
  uint16_t l4_len = 0;       // bytes after the IP header
  uint16_t sport = 0, dport = 0;  // UDP/TCP ports, ICMP: type/code as sport, id as dport
};

// Fills `view` or returns the reason the frame is dropped. Frames longer than the IP packet
// (Ethernet padding) are accepted; the IP length wins.
DropReason parse_packet(const rte_mbuf* m, PacketView* view);

}  // namespace dpvpn::dataplane
