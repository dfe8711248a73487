#pragma once
// DataplaneBackend: what the gRPC agent's Dataplane service calls — plain library calls, no gRPC
// types. The real one runs every call on the tables' single writer thread (the dataplane's main
// lcore); tests use a fake. The service itself only converts messages and maps Status to
// grpc::Status (Katran's shape: thin service over a library).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/dataplane_config.hpp"  // IpPrefix, PolicyAction
#include "control/control_channel.hpp"
#include "sa/sa_params.hpp"
#include "tables/catalog.hpp"
#include "tables/table_format.hpp"
#include "util/status.hpp"

namespace dpvpn::dataplane {

// An installed SA: inbound by (spi, our local address), outbound by (spi, the peer).
struct SaKey {
  SaDirection direction = SaDirection::kInbound;
  uint32_t spi = 0;
  IpAddr address;
};

// What QuerySa / Stats report about an SA. `params` has no key material.
struct SaSnapshot {
  SaParams params;
  uint32_t sa_index = 0;
  uint64_t packets = 0, bytes = 0;
  uint64_t replay_drops = 0, auth_failures = 0, ts_drops = 0, other_drops = 0;
  uint64_t next_seq = 0;    // outbound
  uint64_t replay_top = 0;  // inbound
  bool soft_expired = false, hard_expired = false;
  uint64_t age_seconds = 0;
};

struct PolicyRequest {
  IpPrefix local;
  IpPrefix remote;
  PolicyAction action = PolicyAction::kProtect;
  IpAddr gateway;      // protect: the peer
  uint32_t spi = 0;    // protect: the outbound SA's SPI; 0 = none yet (acquires)
  uint32_t tunnel_id = 0;
};

// Applied all-or-nothing, in this order: deletes, adds, policy deletes, policy adds.
struct SaBatchRequest {
  std::vector<SaParams> add;
  std::vector<SaKey> del;
  std::vector<PolicyRequest> add_policy;
  std::vector<PolicyRequest> del_policy;
};

// A UDP datagram for the dataplane to route and send (Inject's `udp` alternative).
struct RoutedUdpRequest {
  IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
  std::vector<uint8_t> payload;
};

struct PortStatsSnapshot {
  std::string name;
  uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
  uint64_t imissed = 0, ierrors = 0, rx_nombuf = 0, oerrors = 0;
};
struct LcoreStatsSnapshot {
  uint32_t worker = 0, lcore = 0;
  uint64_t rx_packets = 0, tx_packets = 0, encrypted = 0, decrypted = 0, drops = 0;
};
struct StatsSnapshot {
  std::vector<PortStatsSnapshot> ports;
  std::vector<LcoreStatsSnapshot> lcores;
  std::vector<SaSnapshot> sas;
  std::map<std::string, uint64_t> drops;  // by reason name; zero counters included
  uint64_t encrypted = 0, decrypted = 0, forwarded_clear = 0, ike_punted = 0, acquires = 0;
};

class DataplaneBackend {
 public:
  virtual ~DataplaneBackend() = default;

  // A fresh SPI, never equal to a live inbound SA's, with `member` in its top `member_bits` bits.
  virtual Status allocate_spi(uint32_t member, uint32_t member_bits, uint32_t* spi) = 0;
  // Validates everything (key sizes, addresses, SPI, window) before changing anything.
  virtual Status add_sa(const SaParams& params, uint32_t* sa_index) = 0;
  virtual Status update_sa(const SaKey& key, const SaLifetime& lifetime, const std::vector<TrafficSelector>& local_ts,
                           const std::vector<TrafficSelector>& remote_ts) = 0;
  virtual Status query_sa(const SaKey& key, SaSnapshot* out) = 0;
  virtual Status delete_sa(const SaKey& key) = 0;
  // All-or-nothing: on error nothing of the batch is applied; the message names the item
  // ("add[3].key: ...", "del[0]: no inbound SA 0x1001 for 192.0.2.1").
  virtual Status apply_batch(const SaBatchRequest& batch, std::vector<uint32_t>* added_sa_indexes) = 0;
  virtual Status add_policy(const PolicyRequest& policy) = 0;
  virtual Status delete_policy(const PolicyRequest& policy) = 0;
  // `fw tab`: name_or_id empty with summary = every table.
  virtual Status read_table(std::string_view name_or_id, bool summary, const tables::DumpOptions& options,
                            std::string* out) = 0;
  virtual Status stats(bool per_lcore, const std::vector<uint32_t>& spis, StatsSnapshot* out) = 0;
  // Waits up to `wait` for the next punted packet or event.
  virtual std::optional<PuntedEvent> next_event(std::chrono::milliseconds wait) = 0;
  virtual Status inject(std::string_view port, std::vector<uint8_t> frame) = 0;
  // Wraps the datagram in IPv4/IPv6 + UDP and sends it where the routes say (next hop resolved
  // like any other packet's). Backends without a data path need not offer it.
  virtual Status inject_udp(const RoutedUdpRequest&) {
    return {StatusCode::kUnavailable, "this backend cannot send routed datagrams"};
  }
  // IKE_SA_table: upsert (or remove) the control plane's record of an IKE SA. Backends without
  // kernel tables need not offer it.
  virtual Status sync_ike_sa(const tables::IkeSaKey&, const tables::IkeSaValue&, uint32_t /*lifetime_s*/, bool /*remove*/) {
    return {StatusCode::kUnavailable, "this backend has no IKE_SA_table"};
  }
  // Port names, in port-index order (events name their receive port).
  virtual std::vector<std::string> port_names() = 0;
};

}  // namespace dpvpn::dataplane
