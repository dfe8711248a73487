#pragma once
// Why a packet was dropped (or otherwise consumed). Every reason is a per-lcore counter, printed
// by name in the final stats; ESP's own result codes map onto these.
#include <cstdint>
#include <string_view>

namespace dpvpn::dataplane {

#define DPVPN_DROP_REASONS(X)                                                        \
  X(kNone, "none")                                                                   \
  X(kRunt, "runt_frame")                                                             \
  X(kUnknownEthertype, "unknown_ethertype")                                          \
  X(kVlanMismatch, "vlan_mismatch")                                                  \
  X(kArpMalformed, "arp_malformed")                                                  \
  X(kArpNotForUs, "arp_not_for_us")                                                  \
  X(kIpTruncated, "ip_truncated")                                                    \
  X(kIpBadVersion, "ip_bad_version")                                                 \
  X(kIpv4BadChecksum, "ipv4_bad_checksum")                                           \
  X(kIpv4Options, "ipv4_options")                                                    \
  X(kIpFragment, "ip_fragment")                                                      \
  X(kIpv6ExtHeader, "ipv6_ext_header")                                               \
  X(kL4Truncated, "l4_truncated")                                                    \
  X(kTtlExceeded, "ttl_exceeded")                                                    \
  X(kNoRoute, "no_route")                                                            \
  X(kNeighborPending, "neighbor_pending")                                            \
  X(kNeighborHoldFull, "neighbor_hold_full")                                         \
  X(kLocalUnhandled, "local_unhandled")                                              \
  X(kNotForwardable, "not_forwardable") /* broadcast, multicast, link-local, bad source */ \
  X(kNattKeepalive, "natt_keepalive")                                                \
  X(kIkePuntFull, "ike_punt_ring_full")                                              \
  X(kUnknownSpi, "unknown_spi")                                                      \
  X(kNoSa, "no_sa_acquire")                                                          \
  X(kTooBig, "too_big")                                                              \
  X(kPolicyMismatch, "outbound_ts_mismatch")                                         \
  X(kEsp, "esp")  /* ESP's own reason, counted per ESP result */                     \
  X(kTxFull, "tx_full")

enum class DropReason : uint8_t {
#define DPVPN_DROP_ENUM(name, text) name,
  DPVPN_DROP_REASONS(DPVPN_DROP_ENUM)
#undef DPVPN_DROP_ENUM
      kCount
};

std::string_view drop_reason_name(DropReason reason);

}  // namespace dpvpn::dataplane
