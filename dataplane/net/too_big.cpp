#include "net/too_big.hpp"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

namespace dpvpn::dataplane {

namespace {
constexpr uint16_t kIpv4Header = 20, kIpv6Header = 40, kIcmpHeader = 8;
constexpr uint16_t kIpv4ErrorMax = 576;   // RFC 1812 4.3.2.3: the whole error fits in 576 bytes
constexpr uint16_t kIpv6ErrorMax = 1280;  // RFC 4443 2.4(c): as much as fits in the minimum MTU
}  // namespace

uint16_t fragment_ipv4(rte_mbuf* m, uint16_t mtu, rte_mempool* pool, rte_mbuf** out, uint16_t max_out) {
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
  const uint16_t total = rte_be_to_cpu_16(ip->total_length);
  const uint16_t payload = static_cast<uint16_t>(total - kIpv4Header);
  const uint16_t chunk = static_cast<uint16_t>((mtu - kIpv4Header) & ~7u);  // offsets count 8-byte units
  if (mtu <= kIpv4Header + 8 || chunk == 0) return 0;
  const uint16_t count = static_cast<uint16_t>((payload + chunk - 1) / chunk);
  if (count > max_out) return 0;
  if (rte_pktmbuf_alloc_bulk(pool, out, count) != 0) return 0;
  const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*) + kIpv4Header;
  for (uint16_t i = 0; i < count; ++i) {
    const uint16_t offset = static_cast<uint16_t>(i * chunk);
    const uint16_t len = std::min<uint16_t>(chunk, static_cast<uint16_t>(payload - offset));
    auto* frag = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(out[i], static_cast<uint16_t>(kIpv4Header + len)));
    std::memcpy(frag, ip, kIpv4Header);
    std::memcpy(frag + kIpv4Header, data + offset, len);
    auto* fh = reinterpret_cast<rte_ipv4_hdr*>(frag);
    const bool more = i + 1 < count;
    fh->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kIpv4Header + len));
    fh->fragment_offset = rte_cpu_to_be_16(static_cast<uint16_t>((offset >> 3) | (more ? RTE_IPV4_HDR_MF_FLAG : 0)));
    fh->hdr_checksum = 0;
    fh->hdr_checksum = rte_ipv4_cksum(fh);
    out[i]->port = m->port;
  }
  rte_pktmbuf_free(m);
  return count;
}

rte_mbuf* build_too_big(const rte_mbuf* orig, const IpAddr& src, uint16_t mtu, rte_mempool* pool) {
  const auto* orig_ip = rte_pktmbuf_mtod(orig, const uint8_t*);
  const uint16_t orig_len = rte_pktmbuf_data_len(orig);
  const bool v6 = (orig_ip[0] >> 4) == 6;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  const uint16_t ip_len = v6 ? kIpv6Header : kIpv4Header;
  const uint16_t max_total = v6 ? kIpv6ErrorMax : kIpv4ErrorMax;
  const uint16_t quoted = std::min<uint16_t>(orig_len, static_cast<uint16_t>(max_total - ip_len - kIcmpHeader));
  const uint16_t icmp_len = static_cast<uint16_t>(kIcmpHeader + quoted);
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(ip_len + icmp_len)));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  uint8_t* icmp = p + ip_len;
  std::memset(icmp, 0, kIcmpHeader);
  std::memcpy(icmp + kIcmpHeader, orig_ip, quoted);
  if (v6) {
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(p);
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(icmp_len);
    ip->proto = IPPROTO_ICMPV6;
    ip->hop_limits = 64;
    std::memcpy(ip->src_addr, src.bytes.data(), 16);
    std::memcpy(ip->dst_addr, orig_ip + 8, 16);  // the original sender
    icmp[0] = 2;                                  // packet too big
    const uint32_t mtu_be = rte_cpu_to_be_32(mtu);
    std::memcpy(icmp + 4, &mtu_be, 4);
    const uint16_t sum = rte_ipv6_udptcp_cksum(ip, icmp);
    std::memcpy(icmp + 2, &sum, 2);
  } else {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p);
    std::memset(ip, 0, kIpv4Header);
    ip->version_ihl = 0x45;
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(kIpv4Header + icmp_len));
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_ICMP;
    ip->src_addr = rte_cpu_to_be_32(src.v4_host_order());
    std::memcpy(&ip->dst_addr, orig_ip + 12, 4);  // the original sender
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    icmp[0] = 3;  // destination unreachable
    icmp[1] = 4;  // fragmentation needed and DF set
    const uint16_t mtu_be = rte_cpu_to_be_16(mtu);
    std::memcpy(icmp + 6, &mtu_be, 2);
    const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(icmp, icmp_len));
    std::memcpy(icmp + 2, &sum, 2);
  }
  return m;
}

}  // namespace dpvpn::dataplane
