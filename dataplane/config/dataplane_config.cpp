// The entry points: YAML text -> DataplaneConfig, or the first problem as "FILE:LINE: what".
#include "config/dataplane_config.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config_draft.hpp"

namespace dpvpn::dataplane {

using config_internal::ConfigDraft;
using config_internal::ConfigError;
using config_internal::Field;
using config_internal::MapFields;

namespace {
Status invalid(const std::string& file, int line, const std::string& message) {
  return Status(StatusCode::kInvalidArgument, file + ":" + std::to_string(line) + ": " + message);
}

void read_document(const YAML::Node& root, ConfigDraft* draft) {
  if (root.IsNull()) {
    config_internal::fail(1, "empty config (expected the sections dataplane and ports)");
  }
  const Field root_field{root, "", config_internal::line_of(root, 1)};
  if (!root.IsMap()) {
    config_internal::fail(root_field.line, "expected a map of sections (dataplane, ports, ...)");
  }
  const MapFields sections(root_field, {"dataplane", "ports", "routes", "sas", "policies", "agent"});
  sections.require("dataplane");
  sections.require("ports");
  // File order, so that the first error reported is the first one written.
  for (const auto& [key, field] : sections.entries()) {
    if (key == "dataplane") config_internal::read_dataplane_section(field, draft);
    if (key == "ports") config_internal::read_ports_section(field, draft);
    if (key == "routes") config_internal::read_routes_section(field, draft);
    if (key == "sas") config_internal::read_sas_section(field, draft);
    if (key == "policies") config_internal::read_policies_section(field, draft);
    if (key == "agent") config_internal::read_agent_section(field, draft);
  }
  config_internal::resolve_references(draft);
}
}  // namespace

Status parse_dataplane_config(std::string_view yaml_text, const std::string& file_name_for_errors,
                              DataplaneConfig* out) {
  // yaml-cpp and our own first-error unwinding both throw; nothing escapes this function.
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    ConfigDraft draft;
    draft.base_dir = std::filesystem::path(file_name_for_errors).parent_path().string();
    read_document(root, &draft);
    *out = std::move(draft.cfg);
    return Status::ok();
  } catch (const ConfigError& e) {
    return invalid(file_name_for_errors, e.line, e.message);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    return invalid(file_name_for_errors, line, "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return Status(StatusCode::kInternal, file_name_for_errors + ": " + e.what());
  }
}

Status load_dataplane_config(const std::string& path, DataplaneConfig* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(StatusCode::kNotFound, path + ": cannot read: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status(StatusCode::kNotFound, path + ": read error: " + std::strerror(errno));
  return parse_dataplane_config(text.str(), path, out);
}

}  // namespace dpvpn::dataplane
