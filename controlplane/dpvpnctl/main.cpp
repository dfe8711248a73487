// dpvpnctl: the operator's CLI over the dataplane's gRPC API (dpvpnctl --help).
#include <grpc/support/log.h>

#include <cstdlib>
#include <iostream>

#include "dpvpnctl.hpp"

int main(int argc, char** argv) {
  // Errors are one line on stderr: gRPC's own log lines (a failed TLS handshake, ...) are dropped
  // unless GRPC_VERBOSITY asks for them; the error line carries their cause.
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});
  return dpvpn::ctl::run(argc, argv, std::cout, std::cerr);
}
