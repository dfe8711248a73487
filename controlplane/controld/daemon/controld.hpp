#pragma once
// dpvpn-controld's parent process: loads the config, binds the IKE transport, starts and
// supervises the iked instances, routes datagrams / acquires / expiries to the instance that owns
// the peer, and serves the Management API on a unix socket — all from one poll() loop (signals
// through a signalfd), with gRPC on its own threads.
#include <string>

namespace dpvpn::controld {

struct DaemonOptions {
  std::string config_file;
  bool no_dataplane = false;
  std::string log_level = "info";
};

// The process's exit code: 0 after SIGTERM / SIGINT, 1 when it cannot start.
int run_daemon(const DaemonOptions& options);

}  // namespace dpvpn::controld
