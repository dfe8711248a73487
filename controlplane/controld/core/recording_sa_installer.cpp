#include "core/recording_sa_installer.hpp"

#include <spdlog/spdlog.h>

namespace dpvpn::controld {

RecordingSaInstaller::RecordingSaInstaller(std::shared_ptr<spdlog::logger> log)
    : log_(std::move(log)), random_(std::random_device{}()) {}

Status RecordingSaInstaller::allocate_spi(const IpAddr&, uint32_t* spi) {
  for (;;) {
    const uint32_t candidate = static_cast<uint32_t>(random_());
    if (candidate < 256 || !spis_.insert(candidate).second) continue;  // 1..255 are reserved (RFC 4303)
    *spi = candidate;
    return Status::ok();
  }
}

Status RecordingSaInstaller::install(const ike::ChildSaPair& pair) {
  spis_.insert(pair.inbound.spi);
  if (!log_->should_log(spdlog::level::info)) return Status::ok();  // the arguments cost strings
  log_->info("child SA {}/{}: in 0x{:08x} out 0x{:08x} {} -> {}{} (no dataplane: not installed)", pair.connection,
             pair.child, pair.inbound.spi, pair.outbound.spi, pair.outbound.local.to_string(),
             pair.outbound.remote.to_string(), pair.outbound.natt ? " NAT-T" : "");
  return Status::ok();
}

Status RecordingSaInstaller::install_trap(const std::string& connection, const std::string& child,
                                          const ike::ChildSaHalf& outbound) {
  log_->info("on-demand child {}/{} via {} (no dataplane: no trap policy)", connection, child, outbound.remote.to_string());
  return Status::ok();
}

Status RecordingSaInstaller::remove(const ike::ChildSaPair& pair) {
  spis_.erase(pair.inbound.spi);
  log_->info("child SA {}/{}: in 0x{:08x} out 0x{:08x} removed", pair.connection, pair.child, pair.inbound.spi,
             pair.outbound.spi);
  return Status::ok();
}

}  // namespace dpvpn::controld
