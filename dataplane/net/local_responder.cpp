#include "net/local_responder.hpp"

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>

namespace dpvpn::dataplane {

namespace {

constexpr uint8_t kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129;
constexpr uint8_t kIcmp6NeighborSolicit = 135, kIcmp6NeighborAdvert = 136;
constexpr uint8_t kNdOptSourceLinkAddr = 1, kNdOptTargetLinkAddr = 2;

uint8_t* l3_of(rte_mbuf* m, const PacketView& v) { return rte_pktmbuf_mtod_offset(m, uint8_t*, v.l2_len); }
const uint8_t* l3_of(const rte_mbuf* m, const PacketView& v) {
  return rte_pktmbuf_mtod_offset(m, const uint8_t*, v.l2_len);
}

// Swaps source and destination MACs: the reply goes back where the request came from.
void bounce_ethernet(rte_mbuf* m, const std::array<uint8_t, 6>& our_mac) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = eth->src_addr;
  std::memcpy(eth->src_addr.addr_bytes, our_mac.data(), 6);
}

IpAddr v6_addr(const uint8_t* bytes) {
  std::array<uint8_t, 16> a;
  std::memcpy(a.data(), bytes, 16);
  return IpAddr::v6(a);
}

// Sets a 16-byte ICMPv6 checksum over the whole IPv6 payload (pseudo-header included).
void set_icmp6_checksum(rte_ipv6_hdr* ip) {
  auto* icmp = reinterpret_cast<uint8_t*>(ip + 1);
  icmp[2] = icmp[3] = 0;
  const uint16_t sum = rte_ipv6_udptcp_cksum(ip, icmp);
  std::memcpy(icmp + 2, &sum, 2);
}

void write_solicited_node(uint8_t out[16], const IpAddr& target) {
  static constexpr uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
  std::memcpy(out, kPrefix, 13);
  std::memcpy(out + 13, target.bytes.data() + 13, 3);
}

}  // namespace

ArpKind classify_arp(const rte_mbuf* m, const PacketView& v, const PortInfo& port) {
  const auto* arp = reinterpret_cast<const rte_arp_hdr*>(l3_of(m, v));
  if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 || arp->arp_plen != 4) {
    return ArpKind::kMalformed;
  }
  const uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
  if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) return ArpKind::kMalformed;
  if (op == RTE_ARP_OP_REQUEST && port.owns(IpAddr::v4(rte_be_to_cpu_32(arp->arp_data.arp_tip)))) {
    return ArpKind::kRequestForUs;
  }
  return ArpKind::kLearnOnly;
}

void make_arp_reply(rte_mbuf* m, const PacketView& v, const PortInfo& port) {
  auto* arp = reinterpret_cast<rte_arp_hdr*>(l3_of(m, v));
  bounce_ethernet(m, port.mac);
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_tha = arp->arp_data.arp_sha;
  const uint32_t sender = arp->arp_data.arp_sip;  // packed fields: no references
  arp->arp_data.arp_sip = arp->arp_data.arp_tip;
  arp->arp_data.arp_tip = sender;
  std::memcpy(arp->arp_data.arp_sha.addr_bytes, port.mac.data(), 6);
}

bool answer_neighbor_solicitation(rte_mbuf* m, const PacketView& v, const PortInfo& port) {
  if (v.l3 != L3::kIpv6 || v.proto != IPPROTO_ICMPV6 || (v.sport >> 8) != kIcmp6NeighborSolicit) return false;
  if (v.l4_len < 24) return false;
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(l3_of(m, v));
  uint8_t* icmp = reinterpret_cast<uint8_t*>(ip + 1);
  const IpAddr target = v6_addr(icmp + 8);
  if (!port.owns(target) || ip->hop_limits != 255) return false;
  // The advertisement (32 bytes of ICMPv6) can be longer than the solicitation (24 without an
  // option, as in duplicate address detection): make sure the frame has room before writing.
  const uint32_t frame_len = v.l2_len + 40u + 32u;
  if (m->nb_segs != 1) return false;
  if (rte_pktmbuf_data_len(m) < frame_len &&
      rte_pktmbuf_append(m, static_cast<uint16_t>(frame_len - rte_pktmbuf_data_len(m))) == nullptr) {
    return false;
  }
  // Reply: NA with Solicited+Override and our link-layer address; 32 bytes of ICMPv6.
  static constexpr uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr uint8_t kUnspecified[16] = {};
  const bool from_unspecified = std::memcmp(ip->src_addr, kUnspecified, 16) == 0;
  std::memcpy(ip->dst_addr, from_unspecified ? kAllNodes : ip->src_addr, 16);
  std::memcpy(ip->src_addr, target.bytes.data(), 16);
  ip->hop_limits = 255;
  ip->payload_len = rte_cpu_to_be_16(32);
  icmp[0] = kIcmp6NeighborAdvert;
  icmp[1] = 0;
  icmp[4] = from_unspecified ? 0x20 : 0x60;  // (S)olicited only when answering a real address, (O)verride
  icmp[5] = icmp[6] = icmp[7] = 0;
  icmp[24] = kNdOptTargetLinkAddr;
  icmp[25] = 1;
  std::memcpy(icmp + 26, port.mac.data(), 6);
  set_icmp6_checksum(ip);
  rte_pktmbuf_data_len(m) = static_cast<uint16_t>(frame_len);
  rte_pktmbuf_pkt_len(m) = frame_len;
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  if (from_unspecified) {
    const uint8_t mcast[6] = {0x33, 0x33, 0, 0, 0, 1};
    std::memcpy(eth->dst_addr.addr_bytes, mcast, 6);
  } else {
    eth->dst_addr = eth->src_addr;
  }
  std::memcpy(eth->src_addr.addr_bytes, port.mac.data(), 6);
  return true;
}

bool answer_echo(rte_mbuf* m, const PacketView& v) {
  uint8_t* l3 = l3_of(m, v);
  if (v.l3 == L3::kIpv4 && v.proto == IPPROTO_ICMP && (v.sport >> 8) == RTE_IP_ICMP_ECHO_REQUEST) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(l3);
    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(l3 + v.l3_len);
    const uint32_t src = ip->src_addr;  // packed fields: no references
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = src;
    ip->time_to_live = 64;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
    icmp->icmp_cksum = 0;
    icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, v.l4_len));
  } else if (v.l3 == L3::kIpv6 && v.proto == IPPROTO_ICMPV6 && (v.sport >> 8) == kIcmp6EchoRequest) {
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(l3);
    uint8_t tmp[16];
    std::memcpy(tmp, ip->src_addr, 16);
    std::memcpy(ip->src_addr, ip->dst_addr, 16);
    std::memcpy(ip->dst_addr, tmp, 16);
    ip->hop_limits = 64;
    reinterpret_cast<uint8_t*>(ip + 1)[0] = kIcmp6EchoReply;
    set_icmp6_checksum(ip);
  } else {
    return false;
  }
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  std::swap(eth->src_addr, eth->dst_addr);
  return true;
}

bool push_ethernet(rte_mbuf* m, const PortInfo& port, const std::array<uint8_t, 6>& dst_mac, bool ipv6) {
  const uint16_t l2_len = port.vlan != 0 ? RTE_ETHER_HDR_LEN + 4 : RTE_ETHER_HDR_LEN;
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, l2_len));
  if (p == nullptr) return false;
  write_ethernet(p, port, dst_mac, ipv6);
  return true;
}

uint8_t write_ethernet(uint8_t* p, const PortInfo& port, const std::array<uint8_t, 6>& dst_mac, bool ipv6) {
  std::memcpy(p, dst_mac.data(), 6);
  std::memcpy(p + 6, port.mac.data(), 6);
  const uint16_t inner_type = ipv6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4;
  if (port.vlan != 0) {
    p[12] = 0x81;
    p[13] = 0x00;
    p[14] = static_cast<uint8_t>(port.vlan >> 8);
    p[15] = static_cast<uint8_t>(port.vlan);
    p[16] = static_cast<uint8_t>(inner_type >> 8);
    p[17] = static_cast<uint8_t>(inner_type);
    return RTE_ETHER_HDR_LEN + 4;
  }
  p[12] = static_cast<uint8_t>(inner_type >> 8);
  p[13] = static_cast<uint8_t>(inner_type);
  return RTE_ETHER_HDR_LEN;
}

bool build_arp_request(rte_mbuf* m, const PortInfo& port, const IpAddr& target) {
  const IpAddr* src = port.first_address(true);
  if (src == nullptr) return false;
  auto* arp = reinterpret_cast<rte_arp_hdr*>(rte_pktmbuf_append(m, sizeof(rte_arp_hdr)));
  if (arp == nullptr) return false;
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = 6;
  arp->arp_plen = 4;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
  std::memcpy(arp->arp_data.arp_sha.addr_bytes, port.mac.data(), 6);
  arp->arp_data.arp_sip = rte_cpu_to_be_32(src->v4_host_order());
  std::memset(arp->arp_data.arp_tha.addr_bytes, 0, 6);
  arp->arp_data.arp_tip = rte_cpu_to_be_32(target.v4_host_order());
  const std::array<uint8_t, 6> broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  if (!push_ethernet(m, port, broadcast, false)) return false;
  // push_ethernet wrote an IPv4 ethertype; ARP has its own.
  uint8_t* type = rte_pktmbuf_mtod_offset(m, uint8_t*, port.vlan != 0 ? 16 : 12);
  type[0] = 0x08;
  type[1] = 0x06;
  return true;
}

bool build_neighbor_solicitation(rte_mbuf* m, const PortInfo& port, const IpAddr& target) {
  const IpAddr* src = port.first_address(false);
  if (src == nullptr) return false;
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(rte_pktmbuf_append(m, 40 + 32));
  if (ip == nullptr) return false;
  ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip->payload_len = rte_cpu_to_be_16(32);
  ip->proto = IPPROTO_ICMPV6;
  ip->hop_limits = 255;
  std::memcpy(ip->src_addr, src->bytes.data(), 16);
  write_solicited_node(ip->dst_addr, target);
  uint8_t* icmp = reinterpret_cast<uint8_t*>(ip + 1);
  std::memset(icmp, 0, 32);
  icmp[0] = kIcmp6NeighborSolicit;
  std::memcpy(icmp + 8, target.bytes.data(), 16);
  icmp[24] = kNdOptSourceLinkAddr;
  icmp[25] = 1;
  std::memcpy(icmp + 26, port.mac.data(), 6);
  set_icmp6_checksum(ip);
  const std::array<uint8_t, 6> mcast = {0x33, 0x33, 0xff, target.bytes[13], target.bytes[14], target.bytes[15]};
  return push_ethernet(m, port, mcast, true);
}

bool neighbor_from_packet(const rte_mbuf* m, const PacketView& v, IpAddr* addr, std::array<uint8_t, 6>* mac) {
  const uint8_t* l3 = l3_of(m, v);
  if (v.l3 == L3::kArp) {
    const auto* arp = reinterpret_cast<const rte_arp_hdr*>(l3);
    *addr = IpAddr::v4(rte_be_to_cpu_32(arp->arp_data.arp_sip));
    std::memcpy(mac->data(), arp->arp_data.arp_sha.addr_bytes, 6);
    return addr->v4_host_order() != 0;
  }
  if (v.l3 != L3::kIpv6 || v.proto != IPPROTO_ICMPV6 || v.l4_len < 32) return false;
  const uint8_t* icmp = l3 + 40;
  const uint8_t type = icmp[0];
  if (type == kIcmp6NeighborAdvert && icmp[24] == kNdOptTargetLinkAddr && icmp[25] == 1) {
    *addr = v6_addr(icmp + 8);
  } else if (type == kIcmp6NeighborSolicit && icmp[24] == kNdOptSourceLinkAddr && icmp[25] == 1) {
    *addr = v6_addr(l3 + 8);  // the soliciting host's own address
    static constexpr uint8_t kUnspecified[16] = {};
    if (std::memcmp(addr->bytes.data(), kUnspecified, 16) == 0) return false;
  } else {
    return false;
  }
  std::memcpy(mac->data(), icmp + 26, 6);
  return true;
}

}  // namespace dpvpn::dataplane
