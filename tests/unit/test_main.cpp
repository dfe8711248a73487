// Catch2 main for dpvpn tests: EAL without hugepages or devices, then the tests.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>

#include "eal/eal_session.hpp"

int main(int argc, char* argv[]) {
  const std::string purpose = std::filesystem::path(argv[0]).filename().string();
  dpvpn::EalSession eal(dpvpn::no_device_eal_args(purpose));
  if (!eal.status().is_ok()) {
    std::fprintf(stderr, "%s\n", eal.status().to_string().c_str());
    return 2;
  }
  return Catch::Session().run(argc, argv);
}
