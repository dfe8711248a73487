#pragma once
// proto_convert: dpvpn.v1 messages <-> the DataplaneBackend's plain structs, with validation.
//
// Every *_from_proto function checks the message completely before the backend sees anything and
// answers kInvalidArgument with a message that starts with the field's path, e.g.
//   "sa.key: aes128gcm needs 20 bytes (16-byte key + 4-byte salt), got 16"
//   "add[2].sa.local: address must be 4 or 16 bytes, got 5"
//   "policy.remote: host bits set in 10.2.0.1/16"
// `field` is the path prefix to use ("sa", "add[2].sa", "policy", "id"). *out may be partly
// written on failure. Key material (Sa.key, Sa.auth_key) never appears in a message: only sizes.
//
// Addresses: 4 bytes = IPv4, 16 bytes = IPv6. A 16-byte IPv4-mapped address (::ffff:a.b.c.d) is
// refused, because the dataplane stores IPv4 that way and could not tell the two apart.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/dataplane_backend.hpp"
#include "dpvpn/v1/dataplane.pb.h"

namespace dpvpn::dataplane {

// ---- shared types --------------------------------------------------------------------------
Status ip_from_proto(const v1::IpAddress& in, std::string_view field, IpAddr* out);
void ip_to_proto(const IpAddr& in, v1::IpAddress* out);  // 4 bytes for IPv4, 16 for IPv6

// Length 0..32 (IPv4) / 0..128 (IPv6); host bits must be clear.
Status prefix_from_proto(const v1::IpPrefix& in, std::string_view field, IpPrefix* out);
void prefix_to_proto(const IpPrefix& in, v1::IpPrefix* out);

// start/end same family, start <= end; protocol 0..255; ports 0..65535, port_hi 0 = 65535,
// port_lo <= port_hi.
Status ts_from_proto(const v1::TrafficSelector& in, std::string_view field, dataplane::TrafficSelector* out);
void ts_to_proto(const dataplane::TrafficSelector& in, v1::TrafficSelector* out);

// A soft limit may not be above its hard limit (0 = no limit).
Status lifetime_from_proto(const v1::SaLifetime& in, std::string_view field, dataplane::SaLifetime* out);
void lifetime_to_proto(const dataplane::SaLifetime& in, v1::SaLifetime* out);

// ---- SAs -----------------------------------------------------------------------------------
// spi != 0; direction and algorithm specified and known; key / auth_key sizes for the algorithm;
// local and remote 4 or 16 bytes, same family; replay_window 0 or 64..4096 and a multiple of 64
// (0 is passed on as 0: the backend applies the dataplane's configured default); NAT-T ports
// 0..65535 (0 = 4500); traffic selectors and lifetime as above.
Status sa_from_proto(const v1::Sa& in, std::string_view field, dataplane::SaParams* out);
// Never copies key or auth_key (QuerySa / Stats report no key material).
void sa_to_proto_without_keys(const dataplane::SaParams& in, v1::Sa* out);

// direction specified, spi != 0, address 4 or 16 bytes.
Status sa_key_from_proto(const v1::SaId& in, std::string_view field, dataplane::SaKey* out);

struct SaUpdate {
  dataplane::SaKey key;
  dataplane::SaLifetime lifetime;
  std::vector<dataplane::TrafficSelector> local_ts, remote_ts;
};
Status update_from_proto(const v1::UpdateSaRequest& in, SaUpdate* out);  // fields "id", "lifetime", ...

void snapshot_to_proto(const dataplane::SaSnapshot& in, v1::SaState* out);

// IKE_SA_table entries: both SPIs 8 bytes ("initiator_spi", "responder_spi"); with `remove` the
// addresses may be left out.
Status ike_sa_from_proto(const v1::IkeSaEntry& in, tables::IkeSaKey* key, tables::IkeSaValue* value);

// ---- policies and batches ------------------------------------------------------------------
enum class PolicyUse { kAdd, kDelete };
// action specified; local and remote valid prefixes of the same family; PROTECT being added needs
// a gateway (4 or 16 bytes); BYPASS takes neither gateway nor spi.
Status policy_from_proto(const v1::Policy& in, std::string_view field, PolicyUse use,
                         dataplane::PolicyRequest* out);

// Items are named by their place in the batch: "add[1].sa.key", "del[0].spi",
// "add_policy[2].remote", "del_policy[0].action".
Status batch_from_proto(const v1::SaBatch& in, dataplane::SaBatchRequest* out);

// ---- other requests and replies ------------------------------------------------------------
// member_bits 0..8; member must fit in member_bits bits.
Status allocate_spi_from_proto(const v1::AllocateSpiRequest& in, uint32_t* member, uint32_t* member_bits);

// A table name or id, or summary (empty table = every table); unlimited excludes max_values.
// max_values 0 = tables::kDefaultDumpLimit, unlimited = no limit (nullopt).
Status table_read_from_proto(const v1::TableReadRequest& in, tables::DumpOptions* out);

// Every listed SPI != 0.
Status stats_request_from_proto(const v1::StatsRequest& in, std::vector<uint32_t>* spis);
void stats_to_proto(const dataplane::StatsSnapshot& in, v1::StatsReply* out);

// port named; frame at least an Ethernet header (14 bytes). Refuses a request that also has udp.
Status inject_from_proto(const v1::InjectRequest& in, std::vector<uint8_t>* frame);
// Inject's routed alternative (neither port nor frame): src and dst addresses of one family, ports
// 1..65535, a payload that fits one IP packet.
Status routed_udp_from_proto(const v1::InjectRequest& in, dataplane::RoutedUdpRequest* out);

// Types the control plane receives (IKE packet, acquire, soft/hard expiry) are converted and true
// is returned; dataplane-internal types (neighbour packets, new connections) return false.
// The port is named through `port_names` (index order); an unknown index is written as "#N".
bool event_to_proto(const dataplane::PuntedEvent& in, const std::vector<std::string>& port_names, v1::Event* out);

}  // namespace dpvpn::dataplane
