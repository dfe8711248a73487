# dataplane/esp: Catch2 unit tests and the proof against scapy (an independent ESP implementation).
if(TARGET dpvpn_esp)
  dpvpn_test(test_esp unit/test_esp.cpp)
  target_link_libraries(test_esp PRIVATE dpvpn_esp OpenSSL::Crypto)
  add_test(NAME esp_unit COMMAND test_esp)

  # Every algorithm x outer v4/v6 x inner v4/v6 x NAT-T x ESN, both directions (about a minute).
  add_test(NAME esp_scapy
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/esp/test_esp_scapy.py $<TARGET_FILE:dpvpn-esp-tool>)
  set_tests_properties(esp_scapy PROPERTIES TIMEOUT 300)
endif()
