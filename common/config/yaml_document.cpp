#include "config/yaml_document.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dpvpn::config {

namespace {
Status invalid(const std::string& file, int line, const std::string& message) {
  return Status(StatusCode::kInvalidArgument, file + ":" + std::to_string(line) + ": " + message);
}
}  // namespace

Status read_yaml_document(std::string_view text, const std::string& file_name,
                          const std::function<void(const Field& root)>& read) {
  // yaml-cpp and the readers' first-error unwinding both throw; nothing escapes this function.
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    read(Field{root, "", line_of(root, 1)});
    return Status::ok();
  } catch (const ConfigError& e) {
    return invalid(file_name, e.line, e.message);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    return invalid(file_name, line, "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return Status(StatusCode::kInternal, file_name + ": " + e.what());
  }
}

Status read_yaml_file(const std::string& path, const std::function<void(const Field& root)>& read) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status(StatusCode::kNotFound, path + ": read error: " + std::strerror(errno));
  return read_yaml_document(text.str(), path, read);
}

}  // namespace dpvpn::config
