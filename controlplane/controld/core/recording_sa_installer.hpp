#pragma once
// --no-dataplane: an SaInstaller that only records and logs what would be installed (SPIs,
// algorithms, selectors; never keys). SPIs are random, >= 256, and never equal a recorded one.
#include <memory>
#include <random>
#include <string>
#include <unordered_set>

#include "engine/engine_io.hpp"

namespace spdlog {
class logger;
}

namespace dpvpn::controld {

class RecordingSaInstaller final : public ike::SaInstaller {
 public:
  explicit RecordingSaInstaller(std::shared_ptr<spdlog::logger> log);

  Status allocate_spi(const IpAddr& local, uint32_t* spi) override;
  Status install(const ike::ChildSaPair& pair) override;
  Status remove(const ike::ChildSaPair& pair) override;
  Status install_trap(const std::string& connection, const std::string& child, const ike::ChildSaHalf& outbound) override;
  void ike_sa_changed(const ike::IkeSaRecord&) override {}  // no dataplane: no IKE_SA_table

 private:
  std::shared_ptr<spdlog::logger> log_;
  std::mt19937 random_;
  std::unordered_set<uint32_t> spis_;  // allocated or installed inbound SPIs (the log is the record)
};

}  // namespace dpvpn::controld
