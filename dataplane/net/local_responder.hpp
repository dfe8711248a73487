#pragma once
// Answers, in place, what a host answers for its own addresses: ARP requests, IPv6 neighbour
// solicitations, ICMP/ICMPv6 echo requests. Each returns true when `m` now holds the reply,
// ready to go back out of the port it came in on.
#include "net/packet_view.hpp"
#include "port/port_info.hpp"

struct rte_mbuf;

namespace dpvpn::dataplane {

enum class ArpKind : uint8_t { kRequestForUs, kLearnOnly, kMalformed };

// Classifies an ARP frame: a request for one of our addresses, or something to learn from.
ArpKind classify_arp(const rte_mbuf* m, const PacketView& v, const PortInfo& port);
void make_arp_reply(rte_mbuf* m, const PacketView& v, const PortInfo& port);

// ICMPv6 neighbour solicitation whose target is ours -> neighbour advertisement.
bool answer_neighbor_solicitation(rte_mbuf* m, const PacketView& v, const PortInfo& port);
// ICMP echo request (v4 or v6) to `port`'s address -> echo reply.
bool answer_echo(rte_mbuf* m, const PacketView& v);

// Builders for the main thread (neighbour resolution): fill an empty mbuf.
bool build_arp_request(rte_mbuf* m, const PortInfo& port, const IpAddr& target);
bool build_neighbor_solicitation(rte_mbuf* m, const PortInfo& port, const IpAddr& target);
// Learns (addr, mac) from an ARP frame or an ICMPv6 NA/NS with a link-layer option.
bool neighbor_from_packet(const rte_mbuf* m, const PacketView& v, IpAddr* addr, std::array<uint8_t, 6>* mac);

// Writes the Ethernet (and VLAN) header in front of an IP packet that starts at the mbuf's data.
bool push_ethernet(rte_mbuf* m, const PortInfo& port, const std::array<uint8_t, 6>& dst_mac, bool ipv6);
// The same header written at p (14 bytes, 18 with a VLAN); returns its length.
uint8_t write_ethernet(uint8_t* p, const PortInfo& port, const std::array<uint8_t, 6>& dst_mac, bool ipv6);

}  // namespace dpvpn::dataplane
