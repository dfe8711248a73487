# Finds every native dependency. Debian 12 packages by default (meson-deps/debian-packages.txt);
# DPVPN_DPDK_FROM_SOURCE switches DPDK and intel-ipsec-mb to the pinned source build.
find_package(PkgConfig REQUIRED)

set(DPVPN_SOURCE_PREFIX ${CMAKE_SOURCE_DIR}/meson-deps/_install)
if(DPVPN_DPDK_FROM_SOURCE)
  if(NOT EXISTS ${DPVPN_SOURCE_PREFIX}/lib/pkgconfig/libdpdk.pc)
    message(FATAL_ERROR "DPVPN_DPDK_FROM_SOURCE=ON but ${DPVPN_SOURCE_PREFIX}/lib/pkgconfig/libdpdk.pc "
                        "does not exist: run meson-deps/build-from-source.sh first")
  endif()
  set(ENV{PKG_CONFIG_PATH} "${DPVPN_SOURCE_PREFIX}/lib/pkgconfig:$ENV{PKG_CONFIG_PATH}")
  set(DPVPN_IPSEC_MB_HINTS ${DPVPN_SOURCE_PREFIX})
  set(CMAKE_BUILD_RPATH ${DPVPN_SOURCE_PREFIX}/lib)
endif()

pkg_check_modules(DPDK IMPORTED_TARGET libdpdk)
if(NOT DPDK_FOUND)
  message(FATAL_ERROR "DPDK not found through pkg-config (libdpdk). Install Debian's libdpdk-dev "
                      "(scripts/setup.sh does), or build the pinned one with meson-deps/build-from-source.sh "
                      "and configure with -DDPVPN_DPDK_FROM_SOURCE=ON.")
endif()
message(STATUS "DPDK ${DPDK_VERSION}")
# rte_rcu_qsbr_dq_* and a few other APIs we use are still marked experimental in 22.11.
target_compile_definitions(PkgConfig::DPDK INTERFACE ALLOW_EXPERIMENTAL_API)

# intel-ipsec-mb ships no pkg-config file in Debian.
find_path(IPSEC_MB_INCLUDE_DIR intel-ipsec-mb.h HINTS ${DPVPN_IPSEC_MB_HINTS} PATH_SUFFIXES include)
find_library(IPSEC_MB_LIBRARY IPSec_MB HINTS ${DPVPN_IPSEC_MB_HINTS} PATH_SUFFIXES lib)
if(NOT IPSEC_MB_INCLUDE_DIR OR NOT IPSEC_MB_LIBRARY)
  message(FATAL_ERROR "intel-ipsec-mb not found (need intel-ipsec-mb.h and libIPSec_MB): install Debian's "
                      "libipsec-mb-dev (scripts/setup.sh does), or use -DDPVPN_DPDK_FROM_SOURCE=ON.")
endif()
add_library(IPSecMB::IPSecMB UNKNOWN IMPORTED)
set_target_properties(IPSecMB::IPSecMB PROPERTIES
  IMPORTED_LOCATION ${IPSEC_MB_LIBRARY}
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES ${IPSEC_MB_INCLUDE_DIR}
  INTERFACE_INCLUDE_DIRECTORIES ${IPSEC_MB_INCLUDE_DIR})

find_package(OpenSSL REQUIRED)
pkg_check_modules(SODIUM IMPORTED_TARGET libsodium)
if(NOT SODIUM_FOUND)
  message(FATAL_ERROR "libsodium not found through pkg-config: install Debian's libsodium-dev (scripts/setup.sh does).")
endif()
# GMP: the one field inversion of X25519 key generation (controlplane/ike/crypto/dh_x25519.cpp).
pkg_check_modules(GMP IMPORTED_TARGET gmp)
if(NOT GMP_FOUND)
  message(FATAL_ERROR "GMP not found through pkg-config: install Debian's libgmp-dev (scripts/setup.sh does).")
endif()
# dpvpn-controld allocates per IKE message (payload vectors, SAs): tcmalloc's per-thread caches cut
# the allocator's share of an IKE setup from ~7 % (glibc) to ~3 %. Not with the sanitizers (ASan
# brings its own allocator).
if(NOT DPVPN_SANITIZE)
  find_library(TCMALLOC_MINIMAL_LIBRARY NAMES tcmalloc_minimal libtcmalloc_minimal.so.4)
  if(NOT TCMALLOC_MINIMAL_LIBRARY)
    message(FATAL_ERROR "tcmalloc_minimal not found: install Debian's libtcmalloc-minimal4 (scripts/setup.sh does).")
  endif()
endif()
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
if(DPVPN_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()

find_program(DPVPN_PROTOC protoc REQUIRED)
find_program(DPVPN_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
