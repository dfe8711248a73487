# libFuzzer target over the IKEv2 wire format (tests/fuzz/fuzz_ike_message.cpp). Only in a build
# configured for fuzzing, exactly as fuzz.cmake (which reports a DPVPN_FUZZ build without clang or
# without DPVPN_SANITIZE): scripts/fuzz.sh builds and runs it after fuzz_packet.
if(NOT DPVPN_FUZZ OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT DPVPN_SANITIZE)
  return()
endif()
if(NOT TARGET dpvpn_ike_message)
  return()
endif()

add_executable(fuzz_ike_message fuzz/fuzz_ike_message.cpp)
target_link_libraries(fuzz_ike_message PRIVATE dpvpn_ike_message)
dpvpn_target_defaults(fuzz_ike_message)
target_compile_options(fuzz_ike_message PRIVATE -fsanitize=fuzzer)
target_link_options(fuzz_ike_message PRIVATE -fsanitize=fuzzer)
# Coverage feedback from the library the inputs exercise (it already has ASan/UBSan).
target_compile_options(dpvpn_ike_message PRIVATE -fsanitize=fuzzer-no-link)
