#pragma once
// Reading the config's YAML with every problem located: each value travels with its path
// ("sas[0].key") and its 1-based line, and the first problem ends the parse as a ConfigError.
// Shared by the config parsers (dpvpn-dataplane's and dpvpn-controld's), internal to them.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dpvpn::config {

// The first problem in the file. Thrown only inside a config parser and turned into a Status by the
// entry points: the first error ends the parse, so unwinding to them is the simplest correct flow.
struct ConfigError {
  int line;             // 1-based
  std::string message;  // "sas[0].key: ...", without the "file:line: " prefix
};

// A YAML value, where it is written and how to name it.
struct Field {
  YAML::Node node;
  std::string path;  // "" for the document root
  int line = 1;      // 1-based

  std::string key_path(std::string_view key) const;  // "dataplane" + "idle" -> "dataplane.idle"
  std::string item_path(size_t index) const;         // "sas" + 1 -> "sas[1]"
};

// A node's 1-based line. Null values (`mtu:` with nothing after it) carry the position of the
// next token, so they report `fallback` (the line of their key) instead.
int line_of(const YAML::Node& node, int fallback);

[[noreturn]] void fail(int line, std::string message);
[[noreturn]] void fail(const Field& at, std::string_view what);  // "<path>: <what>"

// A map whose keys must all be known and unique, so a typo never passes silently.
class MapFields {
 public:
  MapFields(const Field& map, std::initializer_list<std::string_view> known);

  std::optional<Field> get(std::string_view key) const;
  // A missing key is reported on the map's line; `why` (optional) says why it is needed.
  Field require(std::string_view key, std::string_view why = {}) const;
  const std::vector<std::pair<std::string, Field>>& entries() const { return entries_; }

 private:
  Field map_;
  std::vector<std::pair<std::string, Field>> entries_;  // in file order
};

// A list's items. A key with no value counts as an empty list (everything commented out).
std::vector<Field> list_items(const Field& list);
// A single value (not a list or map). Quoted and plain scalars are treated alike.
std::string scalar(const Field& field);
// An unsigned integer (decimal or 0x hex) within lo..hi.
uint64_t integer(const Field& field, uint64_t lo, uint64_t hi);
// true or false (not yes/no/on/off: one spelling per meaning).
bool boolean(const Field& field);
// A file named in the config and read at start-up (PEM certificates, keys): a relative path is
// resolved against `base_dir` (the config file's directory), and the file must be readable now,
// so a typo is reported with its line. Returns the resolved path.
std::string readable_file(const Field& field, const std::string& base_dir);
// Seconds within lo..hi: a plain number, or a number with one unit s, m, h or d ("30s", "4h").
uint64_t duration_seconds(const Field& field, uint64_t lo, uint64_t hi);

// One of a few spelled-out values.
template <class T>
T choice(const Field& field, std::initializer_list<std::pair<std::string_view, T>> options) {
  const std::string text = scalar(field);
  std::string names;
  for (const auto& [name, value] : options) {
    if (name == text) return value;
    names += names.empty() ? "" : ", ";
    names += name;
  }
  fail(field, "'" + text + "' is not one of " + names);
}

}  // namespace dpvpn::config
