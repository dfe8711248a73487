# The gRPC agent over a real in-process dataplane (needs the Dataplane service).
if(TARGET dpvpn_agent AND EXISTS ${CMAKE_SOURCE_DIR}/dataplane/agent/dataplane_service.cpp)
  dpvpn_test(test_agent_integration unit/test_agent_integration.cpp)
  target_link_libraries(test_agent_integration PRIVATE dpvpn_agent rte_net_ring)
  # The independent ESP peer (scapy) the test runs with Debian's /usr/bin/python3.
  target_compile_definitions(test_agent_integration PRIVATE
                             DPVPN_SCAPY_PEER="${CMAKE_CURRENT_SOURCE_DIR}/unit/scapy_esp_peer.py")
  add_test(NAME agent_integration COMMAND test_agent_integration)
  set_tests_properties(agent_integration PROPERTIES TIMEOUT 120)
endif()
