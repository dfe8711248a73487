#include "core/config_diff.hpp"

#include <algorithm>

namespace dpvpn::controld {

std::string ConfigDiff::text() const {
  return std::to_string(total) + " connections (" + std::to_string(added) + " added, " + std::to_string(changed) +
         " changed, " + std::to_string(removed) + " removed)";
}

ConfigDiff diff_connections(const std::vector<ConnectionConfig>& before, const std::vector<ConnectionConfig>& after) {
  ConfigDiff d;
  d.total = after.size();
  auto named = [](const std::vector<ConnectionConfig>& list, const std::string& name) {
    return std::find_if(list.begin(), list.end(), [&](const ConnectionConfig& c) { return c.name == name; });
  };
  for (const ConnectionConfig& c : after) {
    auto it = named(before, c.name);
    if (it == before.end()) {
      ++d.added;
    } else if (!(*it == c)) {
      ++d.changed;
    }
  }
  for (const ConnectionConfig& b : before) {
    if (named(after, b.name) == after.end()) ++d.removed;
  }
  return d;
}

}  // namespace dpvpn::controld
