#pragma once
// The two passes of parsing. The first reads each section on its own, in file order (types,
// ranges, duplicates, unknown keys) and leaves the names that point into other sections here, with
// where they were written. The second (resolve_references) checks those against each other, so
// the first error reported is the first in the file unless it is a cross-reference problem.
// Internal to dpvpn_config.
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/dataplane_config.hpp"
#include "config/yaml_fields.hpp"

namespace dpvpn::dataplane::config_internal {

using namespace dpvpn::config;  // Field, MapFields, fail(), parse_*() ...

struct ConfigDraft {
  DataplaneConfig cfg;
  std::string base_dir;  // the config file's directory: relative file paths are resolved against it

  // A "port:queue" entry of a worker's rx list; fills cfg.workers[worker].rx[index].
  struct RxRef {
    size_t worker, index;
    std::string port;
    uint16_t queue;
    Field at;
  };
  std::vector<RxRef> rx_refs;

  std::vector<Field> port_rx_queues_at;  // per port: its rx_queues value (or the port's map)

  struct RouteRef {
    std::string port;
    Field port_at, via_at;
  };
  std::vector<RouteRef> route_refs;  // per route

  struct NeighborRef {
    std::string port;
    Field port_at, address_at;
  };
  std::vector<NeighborRef> neighbor_refs;  // per neighbour

  struct SaRef {
    Field local_at;
    bool replay_window_given = false;
  };
  std::vector<SaRef> sa_refs;  // per SA

  struct PolicyRef {
    std::optional<Field> outbound_sa, inbound_sa;
  };
  std::vector<PolicyRef> policy_refs;  // per policy

  // Indexes for the duplicate checks and name lookups: a config may hold 100k SAs and policies,
  // where scanning the list per entry took minutes.
  std::unordered_map<std::string, size_t> sa_by_name;
  std::unordered_map<std::string, size_t> sa_by_spi;         // sa_spi_key() -> SA index
  std::unordered_map<std::string, size_t> policy_by_selectors;  // "local remote" -> policy index
  std::unordered_map<std::string, size_t> route_by_prefix;
};

// First pass, one per top-level key.
void read_dataplane_section(const Field& section, ConfigDraft* draft);
void read_ports_section(const Field& section, ConfigDraft* draft);
void read_routes_section(const Field& section, ConfigDraft* draft);
void read_neighbors_section(const Field& section, ConfigDraft* draft);
void read_sas_section(const Field& section, ConfigDraft* draft);
void read_policies_section(const Field& section, ConfigDraft* draft);
void read_agent_section(const Field& section, ConfigDraft* draft);

// "02:00:00:00:00:01" (lower-case hex), for messages.
std::string mac_text(const std::array<uint8_t, 6>& mac);
// Checks a MAC written at `at` (not multicast, not all-zero), or fails with the problem.
std::array<uint8_t, 6> read_unicast_mac(const Field& at);

// Second pass.
void resolve_references(ConfigDraft* draft);

}  // namespace dpvpn::dataplane::config_internal
