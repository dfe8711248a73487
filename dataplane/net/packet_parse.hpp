#pragma once
// parse_packet's body (net/packet_view.hpp), for callers on the per-packet path.
#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "net/ip_checksum.hpp"
#include "net/packet_view.hpp"

namespace dpvpn::dataplane {

namespace packet_view_internal {

inline constexpr uint16_t kIpv4MinHeader = 20;
inline constexpr uint16_t kIpv6Header = 40;

[[gnu::always_inline]] inline DropReason parse_l4(const uint8_t* l4, PacketView* v) {
  switch (v->proto) {
    case IPPROTO_UDP:
    case IPPROTO_TCP: {
      const uint16_t need = v->proto == IPPROTO_UDP ? 8 : 20;
      if (v->l4_len < need) return DropReason::kL4Truncated;
      v->sport = static_cast<uint16_t>(l4[0] << 8 | l4[1]);
      v->dport = static_cast<uint16_t>(l4[2] << 8 | l4[3]);
      return DropReason::kNone;
    }
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      if (v->l4_len < 8) return DropReason::kL4Truncated;
      v->sport = static_cast<uint16_t>(l4[0] << 8 | l4[1]);  // type, code
      v->dport = static_cast<uint16_t>(l4[4] << 8 | l4[5]);  // echo identifier
      return DropReason::kNone;
    case IPPROTO_ESP:
      if (v->l4_len < 8) return DropReason::kL4Truncated;  // SPI + sequence number
      return DropReason::kNone;
    default:
      return DropReason::kNone;
  }
}

}  // namespace packet_view_internal

// The parser, inline: the worker calls it for every received packet, and inlined its PacketView stays
// in registers instead of being stored and read back.
[[gnu::always_inline]] inline DropReason parse_packet_inline(const rte_mbuf* m, PacketView* v) {
  using namespace packet_view_internal;
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (len < RTE_ETHER_HDR_LEN) return DropReason::kRunt;
  uint16_t ether_type = static_cast<uint16_t>(p[12] << 8 | p[13]);
  v->l2_len = RTE_ETHER_HDR_LEN;
  if (ether_type == RTE_ETHER_TYPE_VLAN) {
    if (len < RTE_ETHER_HDR_LEN + 4) return DropReason::kRunt;
    v->vlan = static_cast<uint16_t>((p[14] << 8 | p[15]) & 0x0fff);
    ether_type = static_cast<uint16_t>(p[16] << 8 | p[17]);
    v->l2_len += 4;
  }
  const uint8_t* l3 = p + v->l2_len;
  const uint32_t l3_avail = len - v->l2_len;
  switch (ether_type) {
    case RTE_ETHER_TYPE_ARP:
      v->l3 = L3::kArp;
      return l3_avail >= 28 ? DropReason::kNone : DropReason::kArpMalformed;
    case RTE_ETHER_TYPE_IPV4: {
      v->l3 = L3::kIpv4;
      if (l3_avail < kIpv4MinHeader) return DropReason::kIpTruncated;
      if ((l3[0] >> 4) != 4) return DropReason::kIpBadVersion;
      const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(l3);
      v->l3_len = static_cast<uint16_t>((l3[0] & 0x0f) * 4);
      v->ip_total = rte_be_to_cpu_16(ip->total_length);
      if (v->l3_len < kIpv4MinHeader || v->ip_total < v->l3_len || v->ip_total > l3_avail) {
        return DropReason::kIpTruncated;
      }
      if (v->l3_len != kIpv4MinHeader) return DropReason::kIpv4Options;  // not forwarded, not ours
      if (!ipv4_header_checksum_ok20(ip)) return DropReason::kIpv4BadChecksum;
      const uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
      v->df = (frag & RTE_IPV4_HDR_DF_FLAG) != 0;
      if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) return DropReason::kIpFragment;
      v->proto = ip->next_proto_id;
      v->ttl = ip->time_to_live;
      v->l4_len = static_cast<uint16_t>(v->ip_total - v->l3_len);
      return parse_l4(l3 + v->l3_len, v);
    }
    case RTE_ETHER_TYPE_IPV6: {
      v->l3 = L3::kIpv6;
      if (l3_avail < kIpv6Header) return DropReason::kIpTruncated;
      if ((l3[0] >> 4) != 6) return DropReason::kIpBadVersion;
      const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(l3);
      v->l3_len = kIpv6Header;
      v->l4_len = rte_be_to_cpu_16(ip->payload_len);
      v->ip_total = static_cast<uint16_t>(kIpv6Header + v->l4_len);
      if (uint32_t{kIpv6Header} + v->l4_len > l3_avail) return DropReason::kIpTruncated;
      v->proto = ip->proto;
      v->ttl = ip->hop_limits;
      v->df = true;  // IPv6 routers never fragment
      switch (v->proto) {  // extension headers are not walked: counted, not forwarded
        case IPPROTO_HOPOPTS: case IPPROTO_ROUTING: case IPPROTO_DSTOPTS: return DropReason::kIpv6ExtHeader;
        case IPPROTO_FRAGMENT: return DropReason::kIpFragment;
        default: break;
      }
      return parse_l4(l3 + v->l3_len, v);
    }
    default:
      return DropReason::kUnknownEthertype;
  }
}

}  // namespace dpvpn::dataplane
