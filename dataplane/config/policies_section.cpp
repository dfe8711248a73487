// The `policies:` section: which inner traffic is protected by which SAs (vpn_routing entries).
#include <string>

#include "config/config_draft.hpp"
#include "config/value_parsers.hpp"

namespace dpvpn::dataplane::config_internal {

namespace {
IpPrefix read_network(const Field& field) {
  IpPrefix prefix;
  const std::string text = scalar(field);
  if (std::string error = parse_prefix(text, &prefix); !error.empty()) fail(field, error);
  if (prefix.has_host_bits()) {
    fail(field, text + " has host bits set (the network is " + prefix.network().to_string() + ")");
  }
  return prefix;
}
}  // namespace

void read_policies_section(const Field& section, ConfigDraft* draft) {
  std::vector<PolicyConfig>& policies = draft->cfg.policies;
  const std::vector<Field> items = list_items(section);
  for (size_t p = 0; p < items.size(); ++p) {
    const MapFields map(items[p], {"local", "remote", "action", "outbound_sa", "inbound_sa"});
    PolicyConfig policy;

    policy.local = read_network(map.require("local"));
    const Field remote = map.require("remote");
    policy.remote = read_network(remote);
    if (policy.local.addr.is_v4() != policy.remote.addr.is_v4()) {
      fail(remote, policy.remote.to_string() + " and local " + policy.local.to_string() +
                       " are of different address families");
    }
    const std::string selectors = policy.local.to_string() + " " + policy.remote.to_string();
    if (auto [it, fresh] = draft->policy_by_selectors.try_emplace(selectors, p); !fresh) {
      fail(items[p], "same local and remote as " + section.item_path(it->second));
    }

    policy.action = choice<PolicyAction>(
        map.require("action"), {{"protect", PolicyAction::kProtect}, {"bypass", PolicyAction::kBypass}});
    ConfigDraft::PolicyRef ref;
    if (policy.action == PolicyAction::kProtect) {
      ref.outbound_sa = map.require("outbound_sa", "action: protect");
      ref.inbound_sa = map.get("inbound_sa");
    } else {
      for (std::string_view key : {"outbound_sa", "inbound_sa"}) {
        if (auto f = map.get(key)) fail(*f, "a bypass policy uses no SA");
      }
    }
    draft->policy_refs.push_back(std::move(ref));
    policies.push_back(policy);
  }
}

}  // namespace dpvpn::dataplane::config_internal
