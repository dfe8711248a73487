// The `neighbors:` section: static next-hop MACs (no ARP / ND for these addresses).
#include <string>

#include "config/config_draft.hpp"
#include "config/value_parsers.hpp"

namespace dpvpn::dataplane::config_internal {

void read_neighbors_section(const Field& section, ConfigDraft* draft) {
  std::vector<NeighborConfig>& neighbors = draft->cfg.neighbors;
  const std::vector<Field> items = list_items(section);
  for (size_t n = 0; n < items.size(); ++n) {
    const MapFields map(items[n], {"port", "address", "mac"});
    NeighborConfig neighbor;

    const Field port = map.require("port");
    const std::string port_name = scalar(port);
    const Field address = map.require("address");
    if (std::string error = parse_address(scalar(address), &neighbor.address); !error.empty()) fail(address, error);
    // Port names are unique, so the same name is the same port (resolved in the second pass).
    for (size_t other = 0; other < neighbors.size(); ++other) {
      if (draft->neighbor_refs[other].port == port_name && neighbors[other].address == neighbor.address) {
        fail(address, neighbor.address.to_string() + " on port '" + port_name + "' is already a neighbor (" +
                          section.item_path(other) + ")");
      }
    }
    neighbor.mac = read_unicast_mac(map.require("mac"));

    draft->neighbor_refs.push_back(ConfigDraft::NeighborRef{port_name, port, address});
    neighbors.push_back(neighbor);
  }
}

}  // namespace dpvpn::dataplane::config_internal
