// The `routes:` section: next hops for destinations that are not on a connected subnet.
#include <string>

#include "config/config_draft.hpp"
#include "config/value_parsers.hpp"

namespace dpvpn::dataplane::config_internal {

namespace {
std::string family(const IpAddr& a) { return a.is_v4() ? "IPv4" : "IPv6"; }
}  // namespace

void read_routes_section(const Field& section, ConfigDraft* draft) {
  std::vector<RouteConfig>& routes = draft->cfg.routes;
  const std::vector<Field> items = list_items(section);
  for (size_t r = 0; r < items.size(); ++r) {
    const MapFields map(items[r], {"prefix", "via", "port"});
    RouteConfig route;

    const Field prefix = map.require("prefix");
    const std::string prefix_text = scalar(prefix);
    if (std::string error = parse_prefix(prefix_text, &route.prefix); !error.empty()) fail(prefix, error);
    if (route.prefix.has_host_bits()) {
      fail(prefix, prefix_text + " has host bits set (the network is " +
                       route.prefix.network().to_string() + ")");
    }
    if (auto [it, fresh] = draft->route_by_prefix.try_emplace(route.prefix.to_string(), r); !fresh) {
      fail(prefix, prefix_text + " is already routed (" + section.item_path(it->second) + ")");
    }

    const Field via = map.require("via");
    if (std::string error = parse_address(scalar(via), &route.via); !error.empty()) fail(via, error);
    if (route.via.is_v4() != route.prefix.addr.is_v4()) {
      fail(via, route.via.to_string() + " is " + family(route.via) + " but prefix " + prefix_text +
                    " is " + family(route.prefix.addr));
    }

    const Field port = map.require("port");
    draft->route_refs.push_back(ConfigDraft::RouteRef{scalar(port), port, via});
    routes.push_back(route);
  }
}

}  // namespace dpvpn::dataplane::config_internal
