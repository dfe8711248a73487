#pragma once
// A whole YAML config file in, the first problem out as "FILE:LINE: what is wrong": the one place
// that turns yaml-cpp's and the readers' exceptions (ConfigError) into a Status.
#include <functional>
#include <string>
#include <string_view>

#include "config/yaml_fields.hpp"
#include "util/status.hpp"

namespace dpvpn::config {

// `read` gets the document root (line 1 if empty) and throws ConfigError (fail()) on a problem.
// INVALID_ARGUMENT with "file_name:LINE: message" on a problem.
Status read_yaml_document(std::string_view text, const std::string& file_name,
                          const std::function<void(const Field& root)>& read);
// The same for a file; NOT_FOUND with "path: cannot read: why" when it cannot be read.
Status read_yaml_file(const std::string& path, const std::function<void(const Field& root)>& read);

}  // namespace dpvpn::config
