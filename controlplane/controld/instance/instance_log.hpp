#pragma once
// Each iked instance logs to stderr and to its own file, <log_dir>/iked<N>.log, so one instance can
// be debugged alone (`dpvpnctl ike debug -i N --level debug`) without drowning the others.
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dpvpn::controld {

std::string instance_log_file(const std::string& log_dir, uint32_t index);

// The logger "iked<N>": stderr, plus the file when it can be opened (a warning on stderr otherwise).
std::shared_ptr<spdlog::logger> make_instance_logger(uint32_t index, spdlog::level::level_enum level);
// Adds or replaces the file sink (truncate = start the file afresh). false if it cannot be opened.
bool open_instance_log_file(spdlog::logger& log, const std::string& path, bool truncate);

// "trace", "debug", "info", "warn" (or "warning"), "error" (or "err"), "critical", "off".
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);
std::string log_level_name(spdlog::level::level_enum level);  // "debug", "error", ...

}  // namespace dpvpn::controld
