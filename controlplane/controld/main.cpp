// dpvpn-controld: the IKEv2 control plane (dpvpn-controld --help). The same binary runs the
// parent (default) and, with the internal --instance/--ipc-fd flags, one iked instance process.
#include <CLI/CLI.hpp>
#include <grpc/support/log.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <vector>

#include "daemon/controld.hpp"
#include "instance/instance.hpp"
#include "instance/instance_log.hpp"

int main(int argc, char** argv) {
  using namespace dpvpn::controld;
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});
  CLI::App app{"dpvpn-controld: the IKEv2 control plane of dpvpn"};
  app.name("dpvpn-controld");
  DaemonOptions options;
  bool foreground = true;
  int instance = -1, ipc_fd = -1;
  std::vector<int> udp_fds;
  app.add_option("--config", options.config_file, "the config file (YAML)")->capture_default_str();
  app.add_flag("--no-dataplane", options.no_dataplane,
               "IKE over kernel UDP sockets on controld.listen; child SAs are only logged");
  app.add_flag("--foreground", foreground, "stay in the foreground (the only mode)");
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error, critical, off")
      ->capture_default_str();
  app.add_option("--instance", instance, "internal: run iked instance N")->group("");
  app.add_option("--ipc-fd", ipc_fd, "internal: the instance's socketpair")->group("");
  app.add_option("--udp-fd", udp_fds, "internal: one of the instance's UDP sockets (--no-dataplane)")->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const auto level = parse_log_level(options.log_level);
  if (!level) {
    std::cerr << "dpvpn-controld: --log-level: unknown level '" << options.log_level << "'\n";
    return 1;
  }
  try {
    if (instance >= 0) {
      if (ipc_fd < 0) {
        std::cerr << "dpvpn-controld: --instance needs --ipc-fd\n";
        return 1;
      }
      InstanceOptions io;
      io.index = static_cast<uint32_t>(instance);
      io.fd = ipc_fd;
      io.no_dataplane = options.no_dataplane;
      io.udp_fds = udp_fds;
      io.level = *level;
      return run_instance(io);
    }
    if (options.config_file.empty()) {
      std::cerr << "dpvpn-controld: --config is required\n";
      return 1;
    }
    return run_daemon(options);
  } catch (const std::exception& e) {
    std::cerr << "dpvpn-controld: " << e.what() << "\n";
    return 1;
  }
}
