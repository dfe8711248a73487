# End-to-end: two dpvpn-dataplane gateways on net_af_packet ports (veth pairs) with a kernel host
# in a network namespace behind each; ping, TCP and a capture of the link between the gateways
# (tests/e2e/test_tunnel_netns.py). Needs root and iproute2; exits 77 (skipped) when not root.
if(TARGET dpvpn-dataplane)
  add_test(NAME e2e_tunnel_netns
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_tunnel_netns.py
                   $<TARGET_FILE:dpvpn-dataplane>)
  set_tests_properties(e2e_tunnel_netns PROPERTIES TIMEOUT 180 RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
endif()
