// Catch2 main for tests of libraries that use no DPDK (the IKE libraries): no EAL to start.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
