# IKEv2 wire format (controlplane/ike/message/): the Catch2 tests, and the check against an
# independent implementation, scapy's IKEv2 layer (Debian's /usr/bin/python3 + python3-scapy), in
# both directions: tests/ike/test_ike_scapy.py builds messages with scapy for ike_message_tool to
# parse, and dissects with scapy the messages the tool encodes.
if(TARGET dpvpn_ike_message)
  dpvpn_plain_test(test_ike_message unit/test_ike_message.cpp)
  target_link_libraries(test_ike_message PRIVATE dpvpn_ike_message)
  add_test(NAME ike_message COMMAND test_ike_message)

  add_executable(ike_message_tool unit/test_ike_message_tool.cpp)
  target_link_libraries(ike_message_tool PRIVATE dpvpn_ike_message fmt::fmt)
  dpvpn_target_defaults(ike_message_tool)
  add_test(NAME ike_message_scapy
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ike/test_ike_scapy.py $<TARGET_FILE:ike_message_tool>)
endif()
