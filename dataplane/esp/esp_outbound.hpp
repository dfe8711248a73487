#pragma once
// ESP outbound, tunnel mode (RFC 4303), optionally UDP-encapsulated (RFC 3948).
//
// Input:  pkts[i]'s data starts at the INNER IP header (IPv4 or IPv6, L2 already stripped), one
//         segment; sas[i] is its outbound SA. Bytes after the inner IP total length (L2 padding)
//         are trimmed.
// Output: results[i] == EspResult::kOk: the data starts at the OUTER IP header:
//           outer IPv4 (TTL 64, id = low 16 bits of the ESP sequence number, DF copied from an
//           IPv4 inner header and set for an IPv6 inner one, DSCP/ECN copied from the inner
//           header, checksum computed) or IPv6 (hop limit 64, traffic class copied, flow label 0)
//           per the SA's endpoints;
//           [UDP local_port -> remote_port: checksum 0 over IPv4 (RFC 3948), computed over IPv6];
//           ESP header (SPI, low 32 bits of seq); IV (8 bytes AEAD = the sequence number;
//           16 bytes CBC = AES(per-SA random key, seq)); payload; padding 1,2,3,... to the block
//           (16 CBC, 4 AEAD); pad length; next header (4 or 41); 16-byte ICV.
//         Any other result: drop the packet (the caller frees it; it may be partly rewritten).
//         Nothing else is done to the mbuf (no offload flags set).
// Headroom: outer IPv6 + UDP + ESP + IV = 40 + 8 + 8 + 16 = 72 bytes, so RTE_PKTMBUF_HEADROOM
// (128) is enough even after the caller stripped L2. Tailroom: up to 15 + 2 + 16 = 33 bytes.
//
// Data path: no allocation, locks or syscalls. Any n; handled in chunks of 64. Sequence numbers
// are reserved with one atomic fetch_add per SA per chunk, so any lcore may use any outbound SA.
#include <cstdint>

#include "esp/crypto_engine.hpp"
#include "esp/esp_result.hpp"
#include "esp/esp_sa.hpp"

struct rte_mbuf;

namespace dpvpn::dataplane {

// Bytes the outbound path prepends for this SA (outer IP, UDP, ESP header, IV).
inline uint32_t esp_outbound_overhead(const EspSaHot& sa) { return sa.outer_len + kEspHeaderLen + sa.iv_len; }

// inner_checked: the caller vouches that every packet is exactly one IP packet, its header checked
// (IPv4: version 4, total length = the data length; IPv6: version 6, 40 + payload length = the data
// length), as a gateway's parser has done before routing it here: the library then reads only the
// fields ESP copies (version, DSCP/ECN, DF) instead of checking them again.
void esp_outbound_burst(CryptoEngine& engine, rte_mbuf* const* pkts, EspSa* const* sas, uint32_t n,
                        EspResult* results, bool inner_checked = false);

}  // namespace dpvpn::dataplane
