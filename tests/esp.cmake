# dataplane/esp: Catch2 unit tests and the proof against scapy (an independent ESP implementation).
if(TARGET dpvpn_esp)
  dpvpn_test(test_esp unit/test_esp.cpp unit/test_inner_selectors.cpp)
  target_link_libraries(test_esp PRIVATE dpvpn_esp OpenSSL::Crypto)
  add_test(NAME esp_unit COMMAND test_esp)

  # Every algorithm x outer v4/v6 x inner v4/v6 x NAT-T x ESN, both directions (about a minute).
  add_test(NAME esp_scapy
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/esp/test_esp_scapy.py $<TARGET_FILE:dpvpn-esp-tool>)
  set_tests_properties(esp_scapy PROPERTIES TIMEOUT 300)

  # The DPDK cryptodev engine against intel-ipsec-mb, on crypto_aesni_mb0 and crypto_openssl0 vdevs.
  dpvpn_test(test_cryptodev_engine unit/test_cryptodev_engine.cpp)
  target_link_libraries(test_cryptodev_engine PRIVATE dpvpn_esp)
  add_test(NAME esp_cryptodev_unit COMMAND test_cryptodev_engine)
  set_tests_properties(esp_cryptodev_unit PROPERTIES TIMEOUT 300)

  # dpvpn-dataplane with crypto: cryptodev (crypto_aesni_mb0) against scapy: the interop test rerun.
  if(TARGET dpvpn-dataplane)
    add_test(NAME dataplane_cryptodev_interop
             COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/dataplane/test_cryptodev_interop.py
                     $<TARGET_FILE:dpvpn-dataplane>)
    set_tests_properties(dataplane_cryptodev_interop PROPERTIES TIMEOUT 300)
  endif()
endif()
