#include "esp/esp_inbound.hpp"

#include <rte_mbuf.h>

#include <cstring>

#include "esp/esp_burst.hpp"
#include "esp/inner_selectors.hpp"
#include "esp/replay_window.hpp"

namespace dpvpn::dataplane {

using namespace esp_internal;

namespace {

struct InboundPacket {
  uint32_t group;
  uint32_t esp_offset;  // from the outer IP header to the ESP header
  uint32_t cipher_len;
  uint64_t seq_full;
};

// Outer IP (+ UDP) header: checks lengths, trims L2 padding, finds the ESP header.
EspResult parse_outer(rte_mbuf* m, InboundPacket* p) {
  const auto* ip = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = m->data_len;
  if (len < 1) return EspResult::kBadOuterPacket;
  uint32_t total, hdr_len;
  uint8_t proto;
  switch (ip[0] >> 4) {
    case 4:
      if (len < 20) return EspResult::kTruncated;
      hdr_len = (ip[0] & 0x0fu) * 4;
      total = load16(ip + 2);
      if (hdr_len < 20 || total < hdr_len) return EspResult::kBadOuterPacket;
      if (total > len) return EspResult::kTruncated;
      if ((load16(ip + 6) & 0x3fff) != 0) return EspResult::kOuterFragment;  // MF or offset
      proto = ip[9];
      break;
    case 6:
      if (len < 40) return EspResult::kTruncated;
      hdr_len = 40;
      total = 40u + load16(ip + 4);
      if (total > len) return EspResult::kTruncated;
      proto = ip[6];
      if (proto == 44) return EspResult::kOuterFragment;
      break;
    default:
      return EspResult::kBadOuterPacket;
  }
  if (proto == 17) {
    if (total < hdr_len + 8) return EspResult::kTruncated;
    if (load16(ip + hdr_len + 4) != total - hdr_len) return EspResult::kBadOuterPacket;  // UDP length
    hdr_len += 8;
    if (total >= hdr_len + 4 && load32(ip + hdr_len) == 0) return EspResult::kBadOuterPacket;  // IKE
  } else if (proto != 50) {
    return EspResult::kBadOuterPacket;
  }
  if (total < len) rte_pktmbuf_trim(m, static_cast<uint16_t>(len - total));
  p->esp_offset = hdr_len;
  return EspResult::kOk;
}

// Inner IP total length if the header is sane and fits in `len`; 0 otherwise.
uint32_t inner_total_length(const uint8_t* ip, uint32_t len, uint8_t next_header) {
  if (next_header == 4) {
    if (len < 20 || (ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5) return 0;
    const uint32_t total = load16(ip + 2);
    return total >= (ip[0] & 0x0fu) * 4 && total <= len ? total : 0;
  }
  if (len < 40 || (ip[0] >> 4) != 6) return 0;
  const uint32_t total = 40u + load16(ip + 4);
  return total <= len ? total : 0;
}

// RFC 4303 2.4: the padding bytes are 1, 2, 3, ... The usual AEAD padding (at most 3 bytes, at most
// 8 here) is checked with one 8-byte load and a mask instead of a byte loop. `end` is the end of
// the padding; the 8 bytes before it are inside the packet (ESP header and IV precede the payload).
bool padding_ok(const uint8_t* end, uint32_t pad_len) {
  if (pad_len == 0) return true;
  if (pad_len <= 8) {
    // Byte 8 - pad_len + j of the word (little-endian) must be j + 1.
    static constexpr uint64_t kPattern = 0x0807060504030201ull;  // bytes 1..8
    uint64_t word;
    std::memcpy(&word, end - 8, 8);
    const unsigned shift = 8 * (8 - pad_len);
    return (word >> shift) == (kPattern & (~0ull >> shift));
  }
  const uint8_t* pad = end - pad_len;
  for (uint32_t j = 0; j < pad_len; ++j) {
    if (pad[j] != static_cast<uint8_t>(j + 1)) return false;
  }
  return true;
}

template <class Groups>
void inbound_chunk(Groups& groups, CryptoEngine& engine, rte_mbuf* const* pkts, EspSa* const* sas, uint32_t n,
                   EspResult* results, const uint16_t* esp_offsets) {
  InboundPacket info[kEspChunk];
  CryptoOp ops[kEspChunk];
  uint32_t op_index[kEspChunk];
  uint32_t nops = 0;

  // 1. Lengths, SPI, anti-replay check (cheap, before crypto), lifetime; one op per packet.
  for (uint32_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    EspSa* sa = sas[i];
    InboundPacket& p = info[i];
    if (sa == nullptr || !sa->inbound()) {
      results[i] = EspResult::kWrongDirection;
      continue;
    }
    p.group = groups.group_of(sa);
    SaBurstGroup& grp = groups[p.group];
    const EspSaHot& hot = sa->hot();
    EspResult r = EspResult::kOk;
    if (m->nb_segs != 1) {
      r = EspResult::kMultiSegment;
    } else if (esp_offsets != nullptr && esp_offsets[i] != 0 && esp_offsets[i] < m->data_len) {
      p.esp_offset = esp_offsets[i];  // outer headers checked by the caller
    } else {
      r = parse_outer(m, &p);
    }
    if (r == EspResult::kOk) {
      uint8_t* esp = rte_pktmbuf_mtod_offset(m, uint8_t*, p.esp_offset);
      const uint32_t esp_len = m->data_len - p.esp_offset;
      const uint32_t overhead = kEspHeaderLen + hot.iv_len + kEspIcvLen;
      const uint32_t min_cipher = hot.cbc() ? 16 : 4;  // at least pad length + next header
      if (esp_len < overhead + min_cipher) {
        r = EspResult::kTruncated;
      } else if (((esp_len - overhead) & (hot.block_size - 1u)) != 0) {  // a power of two: no division
        r = EspResult::kBadCipherLength;
      } else if (load32(esp) != hot.spi) {
        r = EspResult::kSpiMismatch;
      } else if (hot.hard_expired()) {
        r = EspResult::kSaExpired;
      } else {
        p.cipher_len = esp_len - overhead;
        switch (hot.replay->check(load32(esp + 4), &p.seq_full)) {
          case ReplayVerdict::kOk: break;
          case ReplayVerdict::kDuplicate: r = EspResult::kReplayDuplicate; break;
          case ReplayVerdict::kTooOld: r = EspResult::kReplayTooOld; break;
        }
        // Bytes are checked after decryption, when the inner length is known.
        if (r == EspResult::kOk && !grp.admit(0)) r = EspResult::kSaExpired;
        if (r == EspResult::kOk) hot.replay->prefetch_for_accept(p.seq_full);
      }
      if (r == EspResult::kOk) {
        CryptoOp& op = ops[nops];
        op.keys = hot.keys;
        op.mbuf = m;
        op.algorithm = hot.algorithm;
        op.direction = CryptoDirection::kDecrypt;
        op.esp = esp;
        op.iv = esp + kEspHeaderLen;
        op.cipher = op.iv + hot.iv_len;
        op.cipher_len = p.cipher_len;
        op.icv = nullptr;
        op.seq = p.seq_full;
        uint8_t* icv = op.cipher + p.cipher_len;
        std::memcpy(op.received_icv, icv, kEspIcvLen);
        if (hot.cbc()) {
          op.aad_len = 0;
          op.auth_len = kEspHeaderLen + hot.iv_len + p.cipher_len;
          if (hot.esn()) {
            // RFC 4303 2.2.1: seq_hi is under the ICV but not on the wire; borrow the ICV's place.
            store32(icv, static_cast<uint32_t>(p.seq_full >> 32));
            op.auth_len += 4;
          }
        } else {
          op.aad_len = build_aead_aad(op.aad, hot.spi, p.seq_full, hot.esn());
          op.auth_len = 0;
        }
        op_index[nops++] = i;
      }
    }
    results[i] = r;
    if (r != EspResult::kOk) grp.count_drop(r);
  }

  // 2. Decrypt and verify the whole chunk.
  engine.process_burst(ops, nops);

  // 3. In packet order: replay accept, trailer, strip, selectors.
  for (uint32_t k = 0; k < nops; ++k) {
    const uint32_t i = op_index[k];
    rte_mbuf* m = pkts[i];
    const InboundPacket& p = info[i];
    SaBurstGroup& grp = groups[p.group];
    EspSa& sa = *grp.sa;
    const EspSaHot& hot = sa.hot();
    EspResult r = EspResult::kOk;
    if (ops[k].status == CryptoStatus::kAuthFailed) {
      r = EspResult::kAuthFailed;
    } else if (ops[k].status != CryptoStatus::kOk) {
      r = EspResult::kCryptoError;
    } else {
      // Re-check and accept: an earlier packet of this chunk may have had the same number or moved
      // the window.
      switch (hot.replay->recheck_accept(p.seq_full)) {
        case ReplayVerdict::kOk: break;
        case ReplayVerdict::kDuplicate: r = EspResult::kReplayDuplicate; break;
        case ReplayVerdict::kTooOld: r = EspResult::kReplayTooOld; break;
      }
    }
    if (r == EspResult::kOk) {
      const uint8_t* plain = ops[k].cipher;
      const uint8_t* end = plain + p.cipher_len;
      const uint8_t next_header = end[-1];
      const uint32_t pad_len = end[-2];
      if (pad_len + 2 > p.cipher_len || !padding_ok(end - 2, pad_len)) r = EspResult::kBadPadding;
      uint32_t inner_len = 0;
      if (r == EspResult::kOk) {
        const uint32_t payload_len = p.cipher_len - 2 - pad_len;
        if (next_header == 59) {
          r = EspResult::kDummyPacket;
        } else if (next_header != 4 && next_header != 41) {
          r = EspResult::kBadNextHeader;
        } else if (payload_len == 0 || (plain[0] >> 4) != (next_header == 4 ? 4 : 6)) {
          r = EspResult::kBadNextHeader;
        } else if ((inner_len = inner_total_length(plain, payload_len, next_header)) == 0) {
          r = EspResult::kBadInnerPacket;
        } else if (grp.admitted_bytes + inner_len > grp.byte_budget) {
          grp.expire = true;
          r = EspResult::kSaExpired;
        }
      }
      if (r == EspResult::kOk) {
        grp.admitted_bytes += inner_len;
        // One segment (step 1); the inner packet lies within the decrypted payload (checked above).
        keep_only(m, static_cast<uint16_t>(p.esp_offset + kEspHeaderLen + hot.iv_len), static_cast<uint16_t>(inner_len));
        if (!inner_matches_selectors(sa.selectors(), rte_pktmbuf_mtod(m, const uint8_t*), inner_len)) {
          r = EspResult::kTsMismatch;
        } else {
          ++grp.ok_packets;
          grp.ok_bytes += inner_len;
        }
      }
    }
    results[i] = r;
    if (r != EspResult::kOk) grp.count_drop(r);
  }
  groups.finish();
}

}  // namespace

void esp_inbound_burst(CryptoEngine& engine, rte_mbuf* const* pkts, EspSa* const* sas, uint32_t n,
                       EspResult* results, const uint16_t* esp_offsets) {
  for_each_chunk(n, [&](uint32_t first, uint32_t count) {
    with_sa_groups(sas + first, count, [&](auto& groups) {
      inbound_chunk(groups, engine, pkts + first, sas + first, count, results + first,
                    esp_offsets != nullptr ? esp_offsets + first : nullptr);
    });
  });
}

}  // namespace dpvpn::dataplane
