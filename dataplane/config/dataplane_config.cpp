// The entry points: YAML text -> DataplaneConfig, or the first problem as "FILE:LINE: what".
#include "config/dataplane_config.hpp"

#include <filesystem>

#include "config/config_draft.hpp"
#include "config/yaml_document.hpp"

namespace dpvpn::dataplane {

using config_internal::ConfigDraft;
using config_internal::Field;
using config_internal::MapFields;

namespace {
void read_document(const Field& root, ConfigDraft* draft) {
  if (root.node.IsNull()) {
    config_internal::fail(1, "empty config (expected the sections dataplane and ports)");
  }
  if (!root.node.IsMap()) {
    config_internal::fail(root.line, "expected a map of sections (dataplane, ports, ...)");
  }
  const MapFields sections(root, {"dataplane", "ports", "routes", "neighbors", "sas", "policies", "agent"});
  sections.require("dataplane");
  sections.require("ports");
  // File order, so that the first error reported is the first one written.
  for (const auto& [key, field] : sections.entries()) {
    if (key == "dataplane") config_internal::read_dataplane_section(field, draft);
    if (key == "ports") config_internal::read_ports_section(field, draft);
    if (key == "routes") config_internal::read_routes_section(field, draft);
    if (key == "neighbors") config_internal::read_neighbors_section(field, draft);
    if (key == "sas") config_internal::read_sas_section(field, draft);
    if (key == "policies") config_internal::read_policies_section(field, draft);
    if (key == "agent") config_internal::read_agent_section(field, draft);
  }
  config_internal::resolve_references(draft);
}

Status parse(const std::string& file_name, DataplaneConfig* out,
             const std::function<Status(const std::function<void(const Field&)>&)>& reader) {
  ConfigDraft draft;
  draft.base_dir = std::filesystem::path(file_name).parent_path().string();
  Status s = reader([&](const Field& root) { read_document(root, &draft); });
  if (s) *out = std::move(draft.cfg);
  return s;
}
}  // namespace

Status parse_dataplane_config(std::string_view yaml_text, const std::string& file_name_for_errors,
                              DataplaneConfig* out) {
  return parse(file_name_for_errors, out, [&](const auto& read) {
    return config::read_yaml_document(yaml_text, file_name_for_errors, read);
  });
}

Status load_dataplane_config(const std::string& path, DataplaneConfig* out) {
  return parse(path, out, [&](const auto& read) { return config::read_yaml_file(path, read); });
}

}  // namespace dpvpn::dataplane
