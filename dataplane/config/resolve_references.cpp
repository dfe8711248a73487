// Second pass: names and addresses that point into other sections (workers -> ports,
// routes and neighbours -> ports, SAs -> port addresses, policies -> SAs), and the defaults that
// come from another section.
#include <map>
#include <string>
#include <utility>

#include "config/config_draft.hpp"

namespace dpvpn::dataplane::config_internal {

namespace {
// The index of the port a reference names; an error at `at` when there is none.
uint16_t port_named(const DataplaneConfig& cfg, const std::string& name, const Field& at) {
  for (size_t i = 0; i < cfg.ports.size(); ++i) {
    if (cfg.ports[i].name == name) return static_cast<uint16_t>(i);
  }
  fail(at, "no port named '" + name + "'");
}

void resolve_workers(ConfigDraft* draft) {
  DataplaneConfig& cfg = draft->cfg;
  std::map<std::pair<uint16_t, uint16_t>, size_t> polled_by;  // (port, queue) -> worker
  for (const ConfigDraft::RxRef& ref : draft->rx_refs) {
    const uint16_t port = port_named(cfg, ref.port, ref.at);
    const uint16_t queues = cfg.ports[port].rx_queues;
    if (ref.queue >= queues) {
      fail(ref.at, "no queue " + std::to_string(ref.queue) + " on port '" + ref.port + "' (it has " +
                       std::to_string(queues) + " rx queue" + (queues == 1 ? "" : "s") + ": 0.." +
                       std::to_string(queues - 1) + ")");
    }
    const auto [it, added] = polled_by.emplace(std::pair{port, ref.queue}, ref.worker);
    if (!added) {
      fail(ref.at, ref.port + ":" + std::to_string(ref.queue) + " is already polled by lcore " +
                       std::to_string(cfg.workers[it->second].lcore));
    }
    cfg.workers[ref.worker].rx[ref.index] = RxQueueRef{uint16_t(port), ref.queue};
  }
  // RSS spreads packets over every queue, so an unpolled queue would silently drop traffic.
  for (size_t p = 0; p < cfg.ports.size(); ++p) {
    for (uint16_t q = 0; q < cfg.ports[p].rx_queues; ++q) {
      if (!polled_by.contains({uint16_t(p), q})) {
        fail(draft->port_rx_queues_at[p], "rx queue " + cfg.ports[p].name + ":" + std::to_string(q) +
                                              " is polled by no worker");
      }
    }
  }
}

// A next hop (route via, static neighbour) must be on a connected subnet of its port and not one of
// the port's own addresses.
void check_on_subnet(const PortConfig& port, const IpAddr& addr, const Field& at) {
  bool on_subnet = false;
  std::string subnets;
  for (const IpPrefix& a : port.addresses) {
    if (a.addr == addr) fail(at, addr.to_string() + " is an address of port '" + port.name + "' itself");
    on_subnet = on_subnet || a.contains(addr);
    if (a.addr.is_v4() == addr.is_v4()) subnets += (subnets.empty() ? "" : ", ") + a.to_string();
  }
  if (!on_subnet) {
    fail(at, addr.to_string() + " is not on a connected subnet of port '" + port.name + "' (" +
                 (subnets.empty() ? "it has no address of that family" : subnets) + ")");
  }
}

void resolve_routes(ConfigDraft* draft) {
  DataplaneConfig& cfg = draft->cfg;
  for (size_t r = 0; r < cfg.routes.size(); ++r) {
    const ConfigDraft::RouteRef& ref = draft->route_refs[r];
    RouteConfig& route = cfg.routes[r];
    const uint16_t port = port_named(cfg, ref.port, ref.port_at);
    route.port = port;
    check_on_subnet(cfg.ports[port], route.via, ref.via_at);
  }
}

void resolve_neighbors(ConfigDraft* draft) {
  DataplaneConfig& cfg = draft->cfg;
  for (size_t n = 0; n < cfg.neighbors.size(); ++n) {
    const ConfigDraft::NeighborRef& ref = draft->neighbor_refs[n];
    NeighborConfig& neighbor = cfg.neighbors[n];
    const uint16_t port = port_named(cfg, ref.port, ref.port_at);
    neighbor.port = port;
    check_on_subnet(cfg.ports[port], neighbor.address, ref.address_at);
  }
}

void resolve_sas(ConfigDraft* draft) {
  DataplaneConfig& cfg = draft->cfg;
  for (size_t s = 0; s < cfg.sas.size(); ++s) {
    SaParams& sa = cfg.sas[s];
    bool ours = false;
    for (const PortConfig& port : cfg.ports) {
      for (const IpPrefix& a : port.addresses) ours = ours || a.addr == sa.local;
    }
    if (!ours) fail(draft->sa_refs[s].local_at, sa.local.to_string() + " is not one of our port addresses");
    if (!draft->sa_refs[s].replay_window_given) sa.replay_window = cfg.replay_window;
  }
}

void resolve_policies(ConfigDraft* draft) {
  DataplaneConfig& cfg = draft->cfg;
  // Finds the SA named at `at`, checks its direction, and gives it the policy's selectors.
  const auto use_sa = [&cfg, draft](const Field& at, SaDirection direction, const PolicyConfig& policy) {
    const std::string name = scalar(at);
    const auto found = draft->sa_by_name.find(name);
    if (found == draft->sa_by_name.end()) fail(at, "no SA named '" + name + "'");
    SaParams& sa = cfg.sas[found->second];
    if (sa.direction != direction) {
      fail(at, "SA '" + name + "' is " + (direction == SaDirection::kInbound ? "outbound" : "inbound"));
    }
    sa.local_ts.push_back(TrafficSelector::prefix(policy.local.addr, policy.local.len));
    sa.remote_ts.push_back(TrafficSelector::prefix(policy.remote.addr, policy.remote.len));
    return static_cast<int32_t>(found->second);
  };
  for (size_t p = 0; p < cfg.policies.size(); ++p) {
    const ConfigDraft::PolicyRef& ref = draft->policy_refs[p];
    PolicyConfig& policy = cfg.policies[p];
    if (ref.outbound_sa) policy.outbound_sa = use_sa(*ref.outbound_sa, SaDirection::kOutbound, policy);
    if (ref.inbound_sa) policy.inbound_sa = use_sa(*ref.inbound_sa, SaDirection::kInbound, policy);
  }
}
}  // namespace

void resolve_references(ConfigDraft* draft) {
  resolve_workers(draft);
  resolve_routes(draft);
  resolve_neighbors(draft);
  resolve_sas(draft);
  resolve_policies(draft);
}

}  // namespace dpvpn::dataplane::config_internal
