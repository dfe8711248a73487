#pragma once
// EalSession: rte_eal_init for tools and tests that run without hugepages or NICs.
#include <string>
#include <vector>

#include "util/status.hpp"

namespace dpvpn {

// EAL arguments for a process that needs DPDK memory and libraries but no devices:
// no hugepages, no shared config, a per-process file prefix, no PCI scan.
std::vector<std::string> no_device_eal_args(const std::string& purpose, unsigned memory_mb = 1024);

// Calls rte_eal_init once; rte_eal_cleanup at destruction.
class EalSession {
 public:
  explicit EalSession(const std::vector<std::string>& args);
  ~EalSession();
  EalSession(const EalSession&) = delete;
  EalSession& operator=(const EalSession&) = delete;
  const Status& status() const { return status_; }

 private:
  Status status_;
};

}  // namespace dpvpn
