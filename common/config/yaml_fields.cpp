#include "config/yaml_fields.hpp"

#include <unistd.h>

#include <filesystem>

#include "config/value_parsers.hpp"

namespace dpvpn::config {

namespace {
std::string_view kind_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "nothing";
  }
}
}  // namespace

std::string Field::key_path(std::string_view key) const {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string Field::item_path(size_t index) const {
  return path + "[" + std::to_string(index) + "]";
}

int line_of(const YAML::Node& node, int fallback) {
  const int line = node.Mark().line;
  if (node.IsNull() || line < 0) return fallback;
  return line + 1;
}

void fail(int line, std::string message) { throw ConfigError{line, std::move(message)}; }

void fail(const Field& at, std::string_view what) {
  fail(at.line, at.path.empty() ? std::string(what) : at.path + ": " + std::string(what));
}

MapFields::MapFields(const Field& map, std::initializer_list<std::string_view> known) : map_(map) {
  if (!map.node.IsMap()) {
    fail(map, "expected a map, got " + std::string(kind_name(map.node)));
  }
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const int key_line = line_of(it->first, map.line);
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
    bool is_known = false;
    for (std::string_view k : known) is_known = is_known || k == key;
    if (!is_known) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      const std::string where = map.path.empty() ? "at the top level" : "in " + map.path;
      fail(key_line, "unknown key '" + key + "' " + where + " (known: " + list + ")");
    }
    for (const auto& [seen, field] : entries_) {
      if (seen == key) {
        fail(key_line, map.key_path(key) + ": given twice (first on line " +
                           std::to_string(field.line) + ")");
      }
    }
    entries_.emplace_back(key, Field{it->second, map.key_path(key), line_of(it->second, key_line)});
  }
}

std::optional<Field> MapFields::get(std::string_view key) const {
  for (const auto& [name, field] : entries_) {
    if (name == key) return field;
  }
  return std::nullopt;
}

Field MapFields::require(std::string_view key, std::string_view why) const {
  std::optional<Field> field = get(key);
  if (!field) {
    std::string what = "missing required key '" + std::string(key) + "'";
    if (!why.empty()) what += " (" + std::string(why) + ")";
    fail(map_, what);
  }
  return *field;
}

std::vector<Field> list_items(const Field& list) {
  std::vector<Field> items;
  if (list.node.IsNull()) return items;
  if (!list.node.IsSequence()) {
    fail(list, "expected a list, got " + std::string(kind_name(list.node)));
  }
  for (size_t i = 0; i < list.node.size(); ++i) {
    const YAML::Node item = list.node[i];
    items.push_back(Field{item, list.item_path(i), line_of(item, list.line)});
  }
  return items;
}

std::string scalar(const Field& field) {
  if (field.node.IsNull()) fail(field, "no value");
  if (!field.node.IsScalar()) {
    fail(field, "expected a single value, got " + std::string(kind_name(field.node)));
  }
  return field.node.Scalar();
}

uint64_t integer(const Field& field, uint64_t lo, uint64_t hi) {
  const std::string text = scalar(field);
  const std::optional<uint64_t> value = parse_uint(text);
  if (!value) fail(field, "'" + text + "' is not a number");
  if (*value < lo || *value > hi) {
    fail(field, text + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return *value;
}

std::string readable_file(const Field& field, const std::string& base_dir) {
  std::filesystem::path path = scalar(field);
  if (path.empty()) fail(field, "empty path");
  if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
  if (::access(path.c_str(), R_OK) != 0) fail(field, "cannot read " + path.string());
  return path.string();
}

uint64_t duration_seconds(const Field& field, uint64_t lo, uint64_t hi) {
  const std::string text = scalar(field);
  static constexpr std::pair<char, uint64_t> kUnits[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
  uint64_t unit = 1;
  std::string digits = text;
  for (const auto& [suffix, seconds] : kUnits) {
    if (!digits.empty() && digits.back() == suffix) {
      unit = seconds;
      digits.pop_back();
      break;
    }
  }
  const std::optional<uint64_t> value = parse_uint(digits);
  if (!value || *value > UINT64_MAX / unit) fail(field, "'" + text + "' is not a duration (e.g. 30, 30s, 5m, 4h, 1d)");
  const uint64_t seconds = *value * unit;
  if (seconds < lo || seconds > hi) {
    fail(field, text + " is out of range " + std::to_string(lo) + "s.." + std::to_string(hi) + "s");
  }
  return seconds;
}

bool boolean(const Field& field) {
  return choice<bool>(field, {{"true", true}, {"false", false}});
}

}  // namespace dpvpn::config
