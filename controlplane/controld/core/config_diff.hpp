#pragma once
// What a reload changes: connections added, changed (any setting differs) and removed, by name.
#include <string>
#include <vector>

#include "controld_config.hpp"

namespace dpvpn::controld {

struct ConfigDiff {
  size_t total = 0, added = 0, changed = 0, removed = 0;
  std::string text() const;  // "3 connections (1 added, 1 changed, 0 removed)"
};

ConfigDiff diff_connections(const std::vector<ConnectionConfig>& before, const std::vector<ConnectionConfig>& after);

}  // namespace dpvpn::controld
