# dpvpnctl: the CLI against a fake Dataplane service served in-process (golden outputs, errors,
# --json, argument checks, sa keys --wireshark, health).
if(TARGET dpvpn_ctl)
  dpvpn_test(test_dpvpnctl unit/test_dpvpnctl.cpp)
  target_link_libraries(test_dpvpnctl PRIVATE dpvpn_ctl)
  add_test(NAME dpvpnctl COMMAND test_dpvpnctl)
endif()
