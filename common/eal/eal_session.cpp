#include "eal/eal_session.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include <algorithm>

namespace dpvpn {

std::vector<std::string> no_device_eal_args(const std::string& purpose, unsigned memory_mb) {
  return {"dpvpn-" + purpose,
          "--no-huge",
          "-m",
          std::to_string(memory_mb),
          "--no-shconf",
          "--file-prefix",
          "dpvpn-" + purpose + "-" + std::to_string(getpid()),
          "--no-pci",
          "--no-telemetry",
          "--log-level",
          "lib.eal:error",
          // lcore 0 may run on any CPU: threads a test starts inherit the main thread's affinity.
          "--lcores",
          "0@(0-" + std::to_string(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)) - 1) + ")"};
}

EalSession::EalSession(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
    status_ = {StatusCode::kInternal, std::string("rte_eal_init failed: ") + rte_strerror(rte_errno)};
  }
}

EalSession::~EalSession() {
  if (status_.is_ok()) rte_eal_cleanup();
}

}  // namespace dpvpn
