#include "esp/esp_outbound.hpp"

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <algorithm>
#include <cstring>

#include "esp/esp_burst.hpp"
#include "net/ip_checksum.hpp"

namespace dpvpn::dataplane {

using namespace esp_internal;

namespace {

struct OutboundPacket {
  uint32_t group;
  uint32_t inner_len;
  uint8_t pad_len;
  uint8_t next_header;  // 4 or 41
  uint8_t tos;          // inner DSCP+ECN / traffic class
  bool df;
};

// The inner header's fields ESP copies into the outer one (and the next-header value), for an IPv4
// or an IPv6 header whose version the caller has seen.
[[gnu::always_inline]] inline void copy_inner_fields(const uint8_t* ip, bool v4, OutboundPacket* p) {
  if (v4) {
    p->next_header = 4;
    p->tos = ip[1];
    p->df = (ip[6] & 0x40) != 0;
  } else {
    p->next_header = 41;
    p->tos = static_cast<uint8_t>((ip[0] << 4) | (ip[1] >> 4));
    p->df = true;  // IPv6 is never fragmented on the way
  }
}

// Checks the inner IP header, trims L2 padding. Returns kOk and fills *p. inner_checked: the
// caller vouches for the header and length (esp_outbound_burst), so only the fields ESP copies are read.
[[gnu::always_inline]] inline EspResult parse_inner(rte_mbuf* m, OutboundPacket* p, bool inner_checked) {
  const auto* ip = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = m->data_len;
  if (inner_checked) {
    p->inner_len = len;
    copy_inner_fields(ip, (ip[0] >> 4) == 4, p);
    return EspResult::kOk;
  }
  if (len < 1) return EspResult::kBadInnerPacket;
  uint32_t total;
  switch (ip[0] >> 4) {
    case 4: {
      if (len < 20) return EspResult::kBadInnerPacket;
      total = load16(ip + 2);
      if ((ip[0] & 0x0f) < 5 || total < (ip[0] & 0x0fu) * 4 || total > len) return EspResult::kBadInnerPacket;
      copy_inner_fields(ip, true, p);
      break;
    }
    case 6: {
      if (len < 40) return EspResult::kBadInnerPacket;
      total = 40u + load16(ip + 4);
      if (total > len) return EspResult::kBadInnerPacket;
      copy_inner_fields(ip, false, p);
      break;
    }
    default:
      return EspResult::kBadInnerPacket;
  }
  if (total < len) rte_pktmbuf_trim(m, static_cast<uint16_t>(len - total));
  p->inner_len = total;
  return EspResult::kOk;
}

[[gnu::always_inline]] inline void write_outer(const EspSaHot& hot, uint8_t* outer, uint32_t total_len,
                                              const OutboundPacket& p, uint64_t seq) {
  if (hot.outer_len == 20) {
    // IPv4, no UDP (the usual case): the template's words with the per-packet fields ORed in, in
    // registers, each stored once (no byte stores over a copy).
    uint64_t w0, w1;
    uint32_t w2;
    std::memcpy(&w0, hot.outer_template, 8);
    std::memcpy(&w1, hot.outer_template + 8, 8);
    std::memcpy(&w2, hot.outer_template + 16, 4);
    const uint32_t flags = p.df ? 0x40u : 0u;  // byte 6; fragment offset 0
    // Checksum = the template's sum (its per-packet fields are zero) plus those fields.
    uint32_t sum = uint32_t{hot.outer_sum} + __builtin_bswap16(p.tos) + __builtin_bswap16(static_cast<uint16_t>(total_len)) +
                   __builtin_bswap16(static_cast<uint16_t>(seq)) + flags;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    // Little-endian words: byte k of the header is bits 8k..8k+7. Id = low 16 bits of the sequence
    // number (unique per SA over any reassembly timeout).
    w0 |= uint64_t{p.tos} << 8 | uint64_t{__builtin_bswap16(static_cast<uint16_t>(total_len))} << 16 |
          uint64_t{__builtin_bswap16(static_cast<uint16_t>(seq))} << 32 | uint64_t{flags} << 48;
    w1 |= uint64_t{static_cast<uint16_t>(~sum)} << 16;  // bytes 10-11, already in network order
    std::memcpy(outer, &w0, 8);
    std::memcpy(outer + 8, &w1, 8);
    std::memcpy(outer + 16, &w2, 4);
    return;
  }
  // Fixed-size copies (no libc call): IPv4+UDP / IPv6 / IPv6+UDP.
  switch (hot.outer_len) {
    case 20: std::memcpy(outer, hot.outer_template, 20); break;
    case 28: std::memcpy(outer, hot.outer_template, 28); break;
    case 40: std::memcpy(outer, hot.outer_template, 40); break;
    default: std::memcpy(outer, hot.outer_template, 48); break;
  }
  uint32_t ip_len;
  if (!hot.outer_v6()) {
    ip_len = 20;
    outer[1] = p.tos;
    store16(outer + 2, static_cast<uint16_t>(total_len));
    store16(outer + 4, static_cast<uint16_t>(seq));  // unique per SA over any reassembly timeout
    outer[6] = p.df ? 0x40 : 0;
    outer[7] = 0;
    // Checksum = the template's sum (its per-packet fields are zero) plus those fields, from
    // registers: reading back the bytes just written would stall on store forwarding.
    uint32_t sum = uint32_t{hot.outer_sum} + __builtin_bswap16(p.tos) + __builtin_bswap16(static_cast<uint16_t>(total_len)) +
                   __builtin_bswap16(static_cast<uint16_t>(seq)) + (p.df ? 0x40u : 0u);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    const auto check = static_cast<uint16_t>(~sum);
    std::memcpy(outer + 10, &check, 2);  // the template has no options
  } else {
    ip_len = 40;
    outer[0] = static_cast<uint8_t>(0x60 | (p.tos >> 4));
    outer[1] = static_cast<uint8_t>(p.tos << 4);
    outer[2] = 0;
    outer[3] = 0;
    store16(outer + 4, static_cast<uint16_t>(total_len - 40));
  }
  if (hot.natt()) {
    store16(outer + ip_len + 4, static_cast<uint16_t>(total_len - ip_len));
    store16(outer + ip_len + 6, 0);  // IPv6: filled after encryption
  }
}

template <class Groups>
void outbound_chunk(Groups& groups, CryptoEngine& engine, rte_mbuf* const* pkts, EspSa* const* sas, uint32_t n,
                    EspResult* results, bool inner_checked) {
  OutboundPacket info[kEspChunk];
  CryptoOp ops[kEspChunk];
  uint32_t op_index[kEspChunk];  // packet index of each op
  uint32_t nops = 0;

  // 1. Validate, size, admit under the lifetime.
  for (uint32_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    EspSa* sa = sas[i];
    OutboundPacket& p = info[i];
    EspResult r = EspResult::kOk;
    if (sa == nullptr || sa->inbound()) {
      results[i] = EspResult::kWrongDirection;
      continue;
    }
    p.group = groups.group_of(sa);
    const EspSaHot& hot = sa->hot();
    if (m->nb_segs != 1) {
      r = EspResult::kMultiSegment;
    } else if (hot.hard_expired()) {
      r = EspResult::kSaExpired;
    } else if ((r = parse_inner(m, &p, inner_checked)) == EspResult::kOk) {
      const uint32_t block = hot.block_size;  // 4 or 16: a mask, no division
      p.pad_len = static_cast<uint8_t>((0u - (p.inner_len + 2)) & (block - 1));
      const uint32_t append = p.pad_len + 2u + kEspIcvLen;
      SaBurstGroup& grp = groups[p.group];
      if (rte_pktmbuf_headroom(m) < grp.prepend) {
        r = EspResult::kNoHeadroom;
      } else if (rte_pktmbuf_tailroom(m) < append) {
        r = EspResult::kNoTailroom;
      } else if (!grp.admit(p.inner_len)) {  // (no length check: the packet fits its buffer, at most 64 KB)
        r = EspResult::kSaExpired;
      }
    }
    results[i] = r;
    if (r != EspResult::kOk) groups[p.group].count_drop(r);
  }

  // 2. One fetch_add per SA for the chunk's sequence numbers; stop before the wrap.
  for (uint32_t g = 0; g < groups.size(); ++g) {
    SaBurstGroup& grp = groups[g];
    if (grp.admitted_packets == 0) continue;
    const uint64_t first = grp.sa->reserve_seq(grp.admitted_packets);
    const uint64_t max = grp.sa->hot().max_seq();
    grp.first_seq = first;
    grp.seq_reserved = first > max ? 0 : std::min<uint64_t>(grp.admitted_packets, max - first + 1);
    if (grp.seq_reserved < grp.admitted_packets || first + grp.seq_reserved > max) grp.expire = true;
  }

  // 3. Build headers and trailers, one crypto op per packet.
  for (uint32_t i = 0; i < n; ++i) {
    if (results[i] != EspResult::kOk) continue;
    rte_mbuf* m = pkts[i];
    const OutboundPacket& p = info[i];
    SaBurstGroup& grp = groups[p.group];
    if (grp.seq_used == grp.seq_reserved) {
      results[i] = EspResult::kSeqExhausted;
      grp.count_drop(results[i]);
      continue;
    }
    const uint64_t seq = grp.first_seq + grp.seq_used++;
    const EspSaHot& hot = grp.sa->hot();
    const uint32_t cipher_len = p.inner_len + p.pad_len + 2u;

    // One segment, head- and tailroom checked in step 1.
    uint8_t* trailer = grow_tail(m, static_cast<uint16_t>(p.pad_len + 2u + kEspIcvLen));
    // Padding 1, 2, 3, ... (at most 15 bytes): one 16-byte copy of the pattern instead of a byte loop;
    // what it writes past the padding is overwritten below and by the ICV (all of it appended above).
    static constexpr uint8_t kPadPattern[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    std::memcpy(trailer, kPadPattern, sizeof kPadPattern);
    trailer[p.pad_len] = p.pad_len;
    trailer[p.pad_len + 1] = p.next_header;
    uint8_t* icv = trailer + p.pad_len + 2;

    uint8_t* outer = grow_head(m, static_cast<uint16_t>(grp.prepend));
    write_outer(hot, outer, m->data_len, p, seq);
    uint8_t* esp = outer + hot.outer_len;
    store32(esp, hot.spi);
    store32(esp + 4, static_cast<uint32_t>(seq));

    CryptoOp& op = ops[nops];
    op.keys = hot.keys;
    op.mbuf = m;
    op.algorithm = hot.algorithm;
    op.direction = CryptoDirection::kEncrypt;
    op.esp = esp;
    op.iv = esp + kEspHeaderLen;
    op.cipher = op.iv + hot.iv_len;
    op.cipher_len = cipher_len;
    op.icv = icv;
    op.seq = seq;
    if (hot.cbc()) {
      op.aad_len = 0;
      op.auth_len = kEspHeaderLen + hot.iv_len + cipher_len;
      if (hot.esn()) {
        // RFC 4303 2.2.1: seq_hi is authenticated but not sent; it sits where the ICV will go.
        store32(icv, static_cast<uint32_t>(seq >> 32));
        op.auth_len += 4;
      }
    } else {
      op.aad_len = build_aead_aad(op.aad, hot.spi, seq, hot.esn());
      op.auth_len = 0;
    }
    op_index[nops++] = i;
  }

  // 4. Crypto for the whole chunk.
  engine.process_burst(ops, nops);

  // 5. Results, UDP checksums over IPv6, accounting.
  for (uint32_t k = 0; k < nops; ++k) {
    const uint32_t i = op_index[k];
    SaBurstGroup& grp = groups[info[i].group];
    if (ops[k].status != CryptoStatus::kOk) {
      results[i] = EspResult::kCryptoError;
      grp.count_drop(results[i]);
      continue;
    }
    const EspSaHot& hot = grp.sa->hot();
    if (hot.natt() && hot.outer_v6()) {
      auto* ip6 = rte_pktmbuf_mtod(pkts[i], rte_ipv6_hdr*);
      auto* udp = reinterpret_cast<rte_udp_hdr*>(ip6 + 1);
      udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);
    }
    ++grp.ok_packets;
    grp.ok_bytes += info[i].inner_len;
  }
  groups.finish();
}

}  // namespace

void esp_outbound_burst(CryptoEngine& engine, rte_mbuf* const* pkts, EspSa* const* sas, uint32_t n,
                        EspResult* results, bool inner_checked) {
  for_each_chunk(n, [&](uint32_t first, uint32_t count) {
    with_sa_groups(sas + first, count, [&](auto& groups) {
      outbound_chunk(groups, engine, pkts + first, sas + first, count, results + first, inner_checked);
    });
  });
}

}  // namespace dpvpn::dataplane
