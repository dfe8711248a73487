#include "instance/instance_log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace dpvpn::controld {

std::string instance_log_file(const std::string& log_dir, uint32_t index) {
  return log_dir + "/iked" + std::to_string(index) + ".log";
}

std::shared_ptr<spdlog::logger> make_instance_logger(uint32_t index, spdlog::level::level_enum level) {
  auto log = std::make_shared<spdlog::logger>("iked" + std::to_string(index),
                                              std::make_shared<spdlog::sinks::stderr_sink_st>());
  log->set_level(level);
  log->flush_on(spdlog::level::trace);  // a crash must not eat the last lines
  return log;
}

bool open_instance_log_file(spdlog::logger& log, const std::string& path, bool truncate) {
  std::shared_ptr<spdlog::sinks::sink> file;
  try {
    file = std::make_shared<spdlog::sinks::basic_file_sink_st>(path, truncate);
  } catch (const spdlog::spdlog_ex& e) {
    log.warn("cannot open {}: {}", path, e.what());
    return false;
  }
  auto& sinks = log.sinks();
  if (sinks.size() > 1) sinks.resize(1);  // sinks[0] is stderr
  sinks.push_back(std::move(file));
  return true;
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error" || name == "err") return spdlog::level::err;
  if (name == "critical") return spdlog::level::critical;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

std::string log_level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

}  // namespace dpvpn::controld
