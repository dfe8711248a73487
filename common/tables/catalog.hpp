#pragma once
// Every kernel table of dpvpn, in one place: ID, name, key and value layout, expiry, sync.
// To add a table: add its key/value structs, field lists, spec and Layout<> here, and list the
// spec in kCatalog at the bottom. IDs are stable: never renumber or reuse one.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/ip_addr.hpp"
#include "tables/table_spec.hpp"

namespace dpvpn::tables {

enum class TableId : uint32_t {
  connections = 1,
  IKE_SA_table = 2,
  inbound_SPI = 3,
  outbound_SPI = 4,
  encryption_requests = 5,
  vpn_routing = 6,
  peers_count = 7,
  resolved_link = 8,
  crypt_resolver_db = 9,
  SEP_my_IKE_packet = 10,
  MSPI_cluster_map = 11,
  MSPI_cluster_update = 12,
  decryption_pending = 13,  // obsolete: kept so its name and ID are never reused
  neighbors = 14,
};

template <TableId> struct Layout;  // Layout<id>::Key, ::Value, ::spec

template <class Key, class Value>
consteval bool layout_ok() {
  static_assert(HashableKey<Key>, "table keys must have no padding (rte_hash compares bytes)");
  static_assert(TableValue<Value>);
  return true;
}

// Connection direction as seen by the gateway.
enum : uint8_t { kDirInbound = 0, kDirOutbound = 1 };

// ---- connections (1): a flow through the gateway --------------------------------------------
struct ConnectionsKey {
  IpAddr src;
  IpAddr dst;
  uint16_t sport;
  uint16_t dport;
  uint8_t proto;
  uint8_t direction;  // kDirInbound / kDirOutbound
  uint16_t reserved;  // zero
};
struct ConnectionsValue {
  uint32_t state;
  uint32_t inbound_sa;   // SA handle (the dataplane's sa_index + 1), 0 = clear
  uint32_t outbound_sa;  // SA handle (the dataplane's sa_index + 1), 0 = clear
  uint32_t flags;
  uint64_t packets;
  uint64_t bytes;
};
inline constexpr FieldSpec kConnectionsKeyFields[] = {
    DPVPN_FIELD(ConnectionsKey, direction, kHex), DPVPN_FIELD(ConnectionsKey, src, kAddr),
    DPVPN_FIELD(ConnectionsKey, sport, kHex),     DPVPN_FIELD(ConnectionsKey, dst, kAddr),
    DPVPN_FIELD(ConnectionsKey, dport, kHex),     DPVPN_FIELD(ConnectionsKey, proto, kHex),
};
inline constexpr FieldSpec kConnectionsValueFields[] = {
    DPVPN_FIELD(ConnectionsValue, state, kHex),       DPVPN_FIELD(ConnectionsValue, inbound_sa, kHex),
    DPVPN_FIELD(ConnectionsValue, outbound_sa, kHex), DPVPN_FIELD(ConnectionsValue, flags, kHex),
    DPVPN_FIELD(ConnectionsValue, packets, kHex),     DPVPN_FIELD(ConnectionsValue, bytes, kHex),
};
template <> struct Layout<TableId::connections> {
  using Key = ConnectionsKey;
  using Value = ConnectionsValue;
  static_assert(layout_ok<Key, Value>());
  // Per-protocol idle timeouts are chosen by the caller per entry; 3600 s is the TCP default.
  static constexpr TableSpec spec{1, "connections", "flows: 5-tuple + direction -> state and SA handles",
                                  sizeof(Key), sizeof(Value), kConnectionsKeyFields,
                                  kConnectionsValueFields, 3600, 262144, true, false};
};

// ---- IKE_SA_table (2): IKE SAs by SPI pair ---------------------------------------------------
struct IkeSaKey {
  std::array<uint8_t, 8> initiator_spi;  // wire order
  std::array<uint8_t, 8> responder_spi;  // wire order, zero until IKE_SA_INIT answered
};
struct IkeSaValue {
  IpAddr peer;
  IpAddr local;
  uint32_t owner_member;  // cluster member that negotiated it
  uint32_t instance;      // iked instance (peer shard)
  uint32_t state;
  uint32_t next_send_msgid;
  uint32_t next_recv_msgid;
  uint32_t keys_handle;   // keys stay in the control plane; this names them
};
inline constexpr FieldSpec kIkeSaKeyFields[] = {
    DPVPN_FIELD(IkeSaKey, initiator_spi, kBytes), DPVPN_FIELD(IkeSaKey, responder_spi, kBytes)};
inline constexpr FieldSpec kIkeSaValueFields[] = {
    DPVPN_FIELD(IkeSaValue, peer, kAddr),           DPVPN_FIELD(IkeSaValue, local, kAddr),
    DPVPN_FIELD(IkeSaValue, owner_member, kHex),    DPVPN_FIELD(IkeSaValue, instance, kHex),
    DPVPN_FIELD(IkeSaValue, state, kHex),           DPVPN_FIELD(IkeSaValue, next_send_msgid, kHex),
    DPVPN_FIELD(IkeSaValue, next_recv_msgid, kHex), DPVPN_FIELD(IkeSaValue, keys_handle, kHex),
};
template <> struct Layout<TableId::IKE_SA_table> {
  using Key = IkeSaKey;
  using Value = IkeSaValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{2, "IKE_SA_table", "IKE SAs: SPI pair -> peer, owner, msg-id windows",
                                  sizeof(Key), sizeof(Value), kIkeSaKeyFields, kIkeSaValueFields,
                                  86400, 16384, true, false};
};

// ---- inbound_SPI (3): inbound IPsec SAs --------------------------------------------------------
struct InboundSpiKey {
  uint32_t spi;  // host order
  uint8_t proto; // 50 = ESP
  std::array<uint8_t, 3> reserved;  // zero
  IpAddr dst;    // our address the SA is for
};
struct InboundSpiValue {
  uint32_t sa_index;  // slot in the dataplane SA store
  uint32_t tunnel_id;
  uint32_t member;    // allocating cluster member
  uint32_t flags;
  IpAddr peer;
};
inline constexpr FieldSpec kInboundSpiKeyFields[] = {DPVPN_FIELD(InboundSpiKey, spi, kHex),
                                                     DPVPN_FIELD(InboundSpiKey, proto, kHex),
                                                     DPVPN_FIELD(InboundSpiKey, dst, kAddr)};
inline constexpr FieldSpec kInboundSpiValueFields[] = {
    DPVPN_FIELD(InboundSpiValue, sa_index, kHex), DPVPN_FIELD(InboundSpiValue, tunnel_id, kHex),
    DPVPN_FIELD(InboundSpiValue, member, kHex), DPVPN_FIELD(InboundSpiValue, flags, kHex),
    DPVPN_FIELD(InboundSpiValue, peer, kAddr)};
template <> struct Layout<TableId::inbound_SPI> {
  using Key = InboundSpiKey;
  using Value = InboundSpiValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{3, "inbound_SPI", "inbound IPsec SAs: (SPI, dst, proto) -> SA",
                                  sizeof(Key), sizeof(Value), kInboundSpiKeyFields,
                                  kInboundSpiValueFields, 3600, 65536, true, false};
};

// ---- outbound_SPI (4): outbound IPsec SAs --------------------------------------------------------
struct OutboundSpiKey {
  IpAddr peer;
  uint32_t spi;  // host order
};
struct OutboundSpiValue {
  uint32_t sa_index;
  uint32_t tunnel_id;
  uint32_t member;  // the member that encrypts with it (MSPI)
  uint32_t flags;
};
inline constexpr FieldSpec kOutboundSpiKeyFields[] = {DPVPN_FIELD(OutboundSpiKey, peer, kAddr),
                                                      DPVPN_FIELD(OutboundSpiKey, spi, kHex)};
inline constexpr FieldSpec kOutboundSpiValueFields[] = {
    DPVPN_FIELD(OutboundSpiValue, sa_index, kHex), DPVPN_FIELD(OutboundSpiValue, tunnel_id, kHex),
    DPVPN_FIELD(OutboundSpiValue, member, kHex), DPVPN_FIELD(OutboundSpiValue, flags, kHex)};
template <> struct Layout<TableId::outbound_SPI> {
  using Key = OutboundSpiKey;
  using Value = OutboundSpiValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{4, "outbound_SPI", "outbound IPsec SAs: (peer, SPI) -> SA",
                                  sizeof(Key), sizeof(Value), kOutboundSpiKeyFields,
                                  kOutboundSpiValueFields, 3600, 65536, true, false};
};

// ---- encryption_requests (5): flows waiting for an SA -------------------------------------------
struct FiveTupleKey {
  IpAddr src;
  IpAddr dst;
  uint16_t sport;
  uint16_t dport;
  uint8_t proto;
  std::array<uint8_t, 3> reserved;  // zero
};
struct EncryptionRequestValue {
  IpAddr peer;          // the gateway that must protect it
  uint32_t state;       // 1 = acquire sent
  uint32_t held_packets;
  uint32_t requests_sent;
  uint32_t reserved;
};
inline constexpr FieldSpec kFiveTupleKeyFields[] = {
    DPVPN_FIELD(FiveTupleKey, src, kAddr), DPVPN_FIELD(FiveTupleKey, sport, kHex),
    DPVPN_FIELD(FiveTupleKey, dst, kAddr), DPVPN_FIELD(FiveTupleKey, dport, kHex),
    DPVPN_FIELD(FiveTupleKey, proto, kHex)};
inline constexpr FieldSpec kEncryptionRequestValueFields[] = {
    DPVPN_FIELD(EncryptionRequestValue, peer, kAddr), DPVPN_FIELD(EncryptionRequestValue, state, kHex),
    DPVPN_FIELD(EncryptionRequestValue, held_packets, kHex),
    DPVPN_FIELD(EncryptionRequestValue, requests_sent, kHex)};
template <> struct Layout<TableId::encryption_requests> {
  using Key = FiveTupleKey;
  using Value = EncryptionRequestValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{5, "encryption_requests", "flows that need encryption but have no SA yet",
                                  sizeof(Key), sizeof(Value), kFiveTupleKeyFields,
                                  kEncryptionRequestValueFields, 90, 65536, false, false};
};

// ---- vpn_routing (6): which peer gateway protects an address range (also an LPM) -------------
struct VpnRoutingKey {
  IpAddr prefix;        // host bits zero
  uint8_t prefix_len;   // 0..32 for IPv4, 0..128 for IPv6
  std::array<uint8_t, 3> reserved;  // zero
};
enum : uint32_t { kRouteEncrypt = 1 };  // VpnRoutingValue::flags: 0 = clear (bypass)
struct VpnRoutingValue {
  IpAddr gateway;
  uint32_t tunnel_id;
  uint32_t flags;
  uint32_t outbound_spi;  // the SA protecting it now (outbound_SPI key with gateway); 0 = none yet
  // A hint: that SA's slot in the dataplane, so a worker can skip the outbound_SPI lookup. Workers
  // trust it only while the slot holds a live outbound SA with this gateway and SPI, and look the
  // SA up otherwise (a stale or absent hint costs the lookup, never a wrong SA). kNoSaIndex: none.
  uint32_t sa_index;
};
inline constexpr uint32_t kNoSaIndex = UINT32_MAX;
inline constexpr FieldSpec kVpnRoutingKeyFields[] = {DPVPN_FIELD(VpnRoutingKey, prefix, kAddr),
                                                     DPVPN_FIELD(VpnRoutingKey, prefix_len, kHex)};
inline constexpr FieldSpec kVpnRoutingValueFields[] = {DPVPN_FIELD(VpnRoutingValue, gateway, kAddr),
                                                       DPVPN_FIELD(VpnRoutingValue, tunnel_id, kHex),
                                                       DPVPN_FIELD(VpnRoutingValue, flags, kHex),
                                                       DPVPN_FIELD(VpnRoutingValue, outbound_spi, kHex)};
template <> struct Layout<TableId::vpn_routing> {
  using Key = VpnRoutingKey;
  using Value = VpnRoutingValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{6, "vpn_routing", "address ranges -> the peer gateway protecting them",
                                  sizeof(Key), sizeof(Value), kVpnRoutingKeyFields,
                                  kVpnRoutingValueFields, 0, 16384, true, false};
};

// ---- peers_count (7) ----------------------------------------------------------------------------
struct PeerKey {
  IpAddr peer;
};
struct PeersCountValue {
  uint32_t active_tunnels;
  uint32_t ike_sas;
};
inline constexpr FieldSpec kPeerKeyFields[] = {DPVPN_FIELD(PeerKey, peer, kAddr)};
inline constexpr FieldSpec kPeersCountValueFields[] = {DPVPN_FIELD(PeersCountValue, active_tunnels, kHex),
                                                       DPVPN_FIELD(PeersCountValue, ike_sas, kHex)};
template <> struct Layout<TableId::peers_count> {
  using Key = PeerKey;
  using Value = PeersCountValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{7, "peers_count", "peer gateway -> active tunnel count",
                                  sizeof(Key), sizeof(Value), kPeerKeyFields, kPeersCountValueFields,
                                  0, 16384, false, false};
};

// ---- resolved_link (8) --------------------------------------------------------------------------
enum : uint32_t { kLinkUnknown = 0, kLinkUp = 1, kLinkDown = 2 };
struct ResolvedLinkValue {
  IpAddr local;
  IpAddr remote;
  uint32_t status;  // kLink*
  uint32_t reserved;
};
inline constexpr FieldSpec kResolvedLinkValueFields[] = {DPVPN_FIELD(ResolvedLinkValue, local, kAddr),
                                                         DPVPN_FIELD(ResolvedLinkValue, remote, kAddr),
                                                         DPVPN_FIELD(ResolvedLinkValue, status, kHex)};
template <> struct Layout<TableId::resolved_link> {
  using Key = PeerKey;
  using Value = ResolvedLinkValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{8, "resolved_link", "peer -> chosen local/remote addresses and status",
                                  sizeof(Key), sizeof(Value), kPeerKeyFields, kResolvedLinkValueFields,
                                  600, 16384, false, false};
};

// ---- crypt_resolver_db (9): link probing results -------------------------------------------------
struct LinkKey {
  IpAddr local;
  IpAddr remote;
};
struct LinkProbeValue {
  uint32_t status;  // kLink*
  uint32_t rtt_us;
  uint32_t probes_sent;
  uint32_t probes_answered;
};
inline constexpr FieldSpec kLinkKeyFields[] = {DPVPN_FIELD(LinkKey, local, kAddr),
                                               DPVPN_FIELD(LinkKey, remote, kAddr)};
inline constexpr FieldSpec kLinkProbeValueFields[] = {
    DPVPN_FIELD(LinkProbeValue, status, kHex), DPVPN_FIELD(LinkProbeValue, rtt_us, kHex),
    DPVPN_FIELD(LinkProbeValue, probes_sent, kHex), DPVPN_FIELD(LinkProbeValue, probes_answered, kHex)};
template <> struct Layout<TableId::crypt_resolver_db> {
  using Key = LinkKey;
  using Value = LinkProbeValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{9, "crypt_resolver_db", "peer link -> status from link probing",
                                  sizeof(Key), sizeof(Value), kLinkKeyFields, kLinkProbeValueFields,
                                  300, 16384, false, false};
};

// ---- SEP_my_IKE_packet (10): which member owns an IKE exchange ------------------------------------
struct IkeExchangeKey {
  std::array<uint8_t, 8> initiator_spi;  // the IKE "cookie", wire order
  uint32_t msg_id;                       // 0 = IKE_SA_INIT (phase 1)
};
struct IkeOwnerValue {
  IpAddr owner;     // owning member's unique (sync network) IP
  uint32_t member;  // owning member's number
  uint32_t reserved;
};
inline constexpr FieldSpec kIkeExchangeKeyFields[] = {DPVPN_FIELD(IkeExchangeKey, initiator_spi, kBytes),
                                                      DPVPN_FIELD(IkeExchangeKey, msg_id, kHex)};
inline constexpr FieldSpec kIkeOwnerValueFields[] = {DPVPN_FIELD(IkeOwnerValue, owner, kAddr),
                                                     DPVPN_FIELD(IkeOwnerValue, member, kHex)};
template <> struct Layout<TableId::SEP_my_IKE_packet> {
  using Key = IkeExchangeKey;
  using Value = IkeOwnerValue;
  static_assert(layout_ok<Key, Value>());
  // Local table; ownership decisions are made cluster-wide through the Cluster service.
  static constexpr TableSpec spec{10, "SEP_my_IKE_packet", "(IKE SPI, msg id) -> owning cluster member",
                                  sizeof(Key), sizeof(Value), kIkeExchangeKeyFields,
                                  kIkeOwnerValueFields, 120, 65536, false, false};
};

// ---- MSPI_cluster_map (11): each member's own outbound SPI per tunnel ------------------------------
struct TunnelMemberKey {
  uint32_t tunnel_id;
  uint32_t member;
};
struct MspiValue {
  uint32_t spi;
  uint32_t mspi;
};
inline constexpr FieldSpec kTunnelMemberKeyFields[] = {DPVPN_FIELD(TunnelMemberKey, tunnel_id, kHex),
                                                       DPVPN_FIELD(TunnelMemberKey, member, kHex)};
inline constexpr FieldSpec kMspiValueFields[] = {DPVPN_FIELD(MspiValue, spi, kHex),
                                                 DPVPN_FIELD(MspiValue, mspi, kHex)};
template <> struct Layout<TableId::MSPI_cluster_map> {
  using Key = TunnelMemberKey;
  using Value = MspiValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{11, "MSPI_cluster_map", "(tunnel, member) -> that member's outbound SPI",
                                  sizeof(Key), sizeof(Value), kTunnelMemberKeyFields, kMspiValueFields,
                                  3600, 65536, true, false};
};

// ---- MSPI_cluster_update (12): MSPI number updates between members ---------------------------------
struct MspiUpdateKey {
  uint32_t mspi;
  uint32_t member;
};
struct MspiUpdateValue {
  uint32_t spi;
  uint32_t sequence;
};
inline constexpr FieldSpec kMspiUpdateKeyFields[] = {DPVPN_FIELD(MspiUpdateKey, mspi, kHex),
                                                     DPVPN_FIELD(MspiUpdateKey, member, kHex)};
inline constexpr FieldSpec kMspiUpdateValueFields[] = {DPVPN_FIELD(MspiUpdateValue, spi, kHex),
                                                       DPVPN_FIELD(MspiUpdateValue, sequence, kHex)};
template <> struct Layout<TableId::MSPI_cluster_update> {
  using Key = MspiUpdateKey;
  using Value = MspiUpdateValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{12, "MSPI_cluster_update", "MSPI number updates between members",
                                  sizeof(Key), sizeof(Value), kMspiUpdateKeyFields,
                                  kMspiUpdateValueFields, 600, 16384, true, false};
};

// ---- decryption_pending (13): obsolete ------------------------------------------------------------
struct DecryptionPendingValue {
  uint32_t status;
};
inline constexpr FieldSpec kDecryptionPendingValueFields[] = {
    DPVPN_FIELD(DecryptionPendingValue, status, kHex)};
template <> struct Layout<TableId::decryption_pending> {
  using Key = PeerKey;
  using Value = DecryptionPendingValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{13, "decryption_pending",
                                  "obsolete (RDP negotiation status); never created",
                                  sizeof(Key), sizeof(Value), kPeerKeyFields,
                                  kDecryptionPendingValueFields, 0, 0, false, true};
};

// ---- neighbors (14): ARP / IPv6 ND cache for next hops on our ports -------------------------------
struct NeighborKey {
  IpAddr addr;
  uint16_t port;      // DPDK port id
  uint16_t reserved;  // zero
};
enum : uint16_t { kNeighborIncomplete = 0, kNeighborReachable = 1 };
struct NeighborValue {
  std::array<uint8_t, 6> mac;
  uint16_t state;  // kNeighbor*
};
inline constexpr FieldSpec kNeighborKeyFields[] = {DPVPN_FIELD(NeighborKey, addr, kAddr),
                                                   DPVPN_FIELD(NeighborKey, port, kHex)};
inline constexpr FieldSpec kNeighborValueFields[] = {DPVPN_FIELD(NeighborValue, mac, kBytes),
                                                     DPVPN_FIELD(NeighborValue, state, kHex)};
template <> struct Layout<TableId::neighbors> {
  using Key = NeighborKey;
  using Value = NeighborValue;
  static_assert(layout_ok<Key, Value>());
  static constexpr TableSpec spec{14, "neighbors", "next hop address on a port -> MAC (ARP / ND)",
                                  sizeof(Key), sizeof(Value), kNeighborKeyFields, kNeighborValueFields,
                                  300, 4096, false, false};
};

// ---- the catalog ------------------------------------------------------------------------------------
inline constexpr std::array<const TableSpec*, 14> kCatalog = {
    &Layout<TableId::connections>::spec,         &Layout<TableId::IKE_SA_table>::spec,
    &Layout<TableId::inbound_SPI>::spec,         &Layout<TableId::outbound_SPI>::spec,
    &Layout<TableId::encryption_requests>::spec, &Layout<TableId::vpn_routing>::spec,
    &Layout<TableId::peers_count>::spec,         &Layout<TableId::resolved_link>::spec,
    &Layout<TableId::crypt_resolver_db>::spec,   &Layout<TableId::SEP_my_IKE_packet>::spec,
    &Layout<TableId::MSPI_cluster_map>::spec,    &Layout<TableId::MSPI_cluster_update>::spec,
    &Layout<TableId::decryption_pending>::spec,  &Layout<TableId::neighbors>::spec,
};

// A table by name (exact) or numeric ID ("3"). nullptr when unknown.
const TableSpec* find_spec(std::string_view name_or_id);
// "unknown table 'x'; tables: connections (1), IKE_SA_table (2), ..."
std::string unknown_table_message(std::string_view name_or_id);

}  // namespace dpvpn::tables
