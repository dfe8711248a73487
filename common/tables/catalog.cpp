#include "tables/catalog.hpp"

#include <charconv>

namespace dpvpn::tables {

const TableSpec* find_spec(std::string_view name_or_id) {
  uint32_t id = 0;
  const auto* end = name_or_id.data() + name_or_id.size();
  const auto [ptr, ec] = std::from_chars(name_or_id.data(), end, id);
  const bool numeric = !name_or_id.empty() && ec == std::errc{} && ptr == end;
  for (const TableSpec* spec : kCatalog) {
    if (numeric ? spec->id == id : spec->name == name_or_id) return spec;
  }
  return nullptr;
}

std::string unknown_table_message(std::string_view name_or_id) {
  std::string msg = "unknown table '" + std::string(name_or_id) + "'; tables:";
  bool first = true;
  for (const TableSpec* spec : kCatalog) {
    if (spec->obsolete) continue;
    msg += first ? " " : ", ";
    first = false;
    msg += std::string(spec->name) + " (" + std::to_string(spec->id) + ")";
  }
  return msg;
}

}  // namespace dpvpn::tables
