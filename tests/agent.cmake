# dataplane/agent: the Dataplane gRPC service over an in-process channel, with a fake backend.
if(TARGET dpvpn_agent)
  dpvpn_test(test_dataplane_service unit/test_dataplane_service.cpp)
  target_link_libraries(test_dataplane_service PRIVATE dpvpn_agent)
  add_test(NAME dataplane_service COMMAND test_dataplane_service)
endif()
