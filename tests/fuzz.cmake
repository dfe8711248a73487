# libFuzzer target over the packet classifier, the local responders and ESP decapsulation
# (tests/fuzz/fuzz_packet.cpp). Only in a build configured for it, with clang:
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DDPVPN_FUZZ=ON -DDPVPN_SANITIZE=ON
# scripts/fuzz.sh does that, builds only this target and runs it on tests/fuzz/corpus.
if(NOT DPVPN_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(WARNING "DPVPN_FUZZ=ON needs clang (libFuzzer); ${CMAKE_CXX_COMPILER_ID} found: no fuzz target")
  return()
endif()
if(NOT DPVPN_SANITIZE)
  # dpvpn_target_defaults gives every dpvpn target ASan+UBSan only with DPVPN_SANITIZE; the
  # libraries the fuzzer links must carry the same sanitizers as the fuzzer itself.
  message(FATAL_ERROR "DPVPN_FUZZ=ON needs DPVPN_SANITIZE=ON (use scripts/fuzz.sh)")
endif()
if(NOT TARGET dpvpn_esp)
  return()
endif()

set(dpvpn_fuzz_dataplane ${CMAKE_SOURCE_DIR}/dataplane)
# The classifier and responders are compiled in directly: the rest of dpvpn_dataplane (workers,
# runtime) is not needed and is not built for fuzzing.
add_executable(fuzz_packet
  fuzz/fuzz_packet.cpp
  ${dpvpn_fuzz_dataplane}/net/packet_view.cpp
  ${dpvpn_fuzz_dataplane}/net/local_responder.cpp
  ${dpvpn_fuzz_dataplane}/net/drop_reason.cpp)
target_include_directories(fuzz_packet PRIVATE ${dpvpn_fuzz_dataplane})
target_link_libraries(fuzz_packet PRIVATE dpvpn_esp dpvpn_tables)
dpvpn_target_defaults(fuzz_packet)
target_compile_options(fuzz_packet PRIVATE -fsanitize=fuzzer)
target_link_options(fuzz_packet PRIVATE -fsanitize=fuzzer)

# Coverage feedback from the libraries whose code the inputs reach (ASan/UBSan they already have).
foreach(lib dpvpn_esp dpvpn_sa dpvpn_common_base)
  target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
endforeach()
