# dpvpn-controld's parts (controlplane/controld/).
if(TARGET dpvpn_controld_config)
  dpvpn_plain_test(test_controld_config unit/test_controld_config.cpp)
  target_link_libraries(test_controld_config PRIVATE dpvpn_controld_config)
  target_compile_definitions(test_controld_config PRIVATE
                             DPVPN_CONTROLD_EXAMPLE="${CMAKE_SOURCE_DIR}/controlplane/controld/config/example.yaml")
  add_test(NAME controld_config COMMAND test_controld_config)
endif()

# The IKEv2 engine: two engines in memory, every exchange.
if(TARGET dpvpn_ike_engine)
  dpvpn_plain_test(test_ike_engine unit/test_ike_engine.cpp)
  target_link_libraries(test_ike_engine PRIVATE dpvpn_ike_engine)
  add_test(NAME ike_engine COMMAND test_ike_engine)
endif()

# controld's core library: sharding, parent <-> instance messages, IKE over UDP, SA conversion.
if(TARGET dpvpn_controld_core)
  dpvpn_plain_test(test_controld_core unit/test_controld_core.cpp)
  target_link_libraries(test_controld_core PRIVATE dpvpn_controld_core)
  add_test(NAME controld_core COMMAND test_controld_core)

  # The SaInstaller over the Dataplane API, against a fake Dataplane service in-process.
  dpvpn_plain_test(test_controld_installer unit/test_controld_installer.cpp)
  target_link_libraries(test_controld_installer PRIVATE dpvpn_controld_core)
  add_test(NAME controld_installer COMMAND test_controld_installer)
endif()

# dpvpnctl's tu / ike / config commands against a fake Management service (golden outputs).
if(TARGET dpvpn_ctl)
  dpvpn_plain_test(test_dpvpnctl_controld unit/test_dpvpnctl_controld.cpp)
  target_link_libraries(test_dpvpnctl_controld PRIVATE dpvpn_ctl)
  target_compile_definitions(test_dpvpnctl_controld PRIVATE DPVPN_GOLDEN_DIR="${CMAKE_CURRENT_SOURCE_DIR}/golden")
  add_test(NAME dpvpnctl_controld COMMAND test_dpvpnctl_controld)
endif()

# The kernel UDP sockets the parent makes for its instances: SO_REUSEPORT groups whose BPF program
# must steer every source address exactly as shard_of() does.
if(TARGET dpvpn_controld)
  dpvpn_plain_test(test_controld_shard_sockets unit/test_controld_shard_sockets.cpp)
  target_link_libraries(test_controld_shard_sockets PRIVATE dpvpn_controld)
  add_test(NAME controld_shard_sockets COMMAND test_controld_shard_sockets)
  # --no-dataplane instances' UDP: replies batched per received batch (sendmmsg), refusals skipped.
  dpvpn_plain_test(test_controld_udp_transport unit/test_controld_udp_transport.cpp)
  target_link_libraries(test_controld_udp_transport PRIVATE dpvpn_controld)
  add_test(NAME controld_udp_transport COMMAND test_controld_udp_transport)
endif()

# The real daemon (--no-dataplane on 127.0.0.21): an instance killed with -9 is restarted, the
# others keep their state; the Management API throughout; reload; SIGTERM.
if(TARGET dpvpn-controld AND TARGET dpvpnctl)
  add_test(NAME controld_supervisor
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/controld/test_supervisor.py
                   $<TARGET_FILE:dpvpn-controld> $<TARGET_FILE:dpvpnctl>)
  set_tests_properties(controld_supervisor PROPERTIES TIMEOUT 60)
endif()

# End to end: two daemons (--no-dataplane) on 127.0.0.1 and 127.0.0.2 bring up a PSK tunnel;
# tu tlist on both shows it ESTABLISHED with matching SPIs; tu delete / tu up.
if(TARGET dpvpn-controld AND TARGET dpvpnctl)
  add_test(NAME controld_two_gateways
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/controld/test_two_gateways.py
                   $<TARGET_FILE:dpvpn-controld> $<TARGET_FILE:dpvpnctl>)
  set_tests_properties(controld_two_gateways PROPERTIES TIMEOUT 60)
endif()

# The dataplane's routed Inject (what controld sends IKE with), in-process over gRPC.
if(TARGET dpvpn_agent AND EXISTS ${CMAKE_SOURCE_DIR}/dataplane/agent/dataplane_service.cpp)
  dpvpn_test(test_routed_inject unit/test_routed_inject.cpp)
  target_link_libraries(test_routed_inject PRIVATE dpvpn_agent rte_net_ring)
  add_test(NAME routed_inject COMMAND test_routed_inject)
  set_tests_properties(routed_inject PROPERTIES TIMEOUT 60)
endif()

# controld's dataplane transport (Events in, routed Inject out) against a fake Dataplane service.
if(TARGET dpvpn_controld)
  dpvpn_plain_test(test_controld_dataplane_transport unit/test_controld_dataplane_transport.cpp)
  target_link_libraries(test_controld_dataplane_transport PRIVATE dpvpn_controld)
  add_test(NAME controld_dataplane_transport COMMAND test_controld_dataplane_transport)
  set_tests_properties(controld_dataplane_transport PROPERTIES TIMEOUT 60)
endif()

# dpvpn-controld with a real in-process dataplane (its agent on a unix socket) and an in-process
# peer engine: IKE through Events / routed Inject, SAs and policy through the SaInstaller.
if(TARGET dpvpn-controld AND TARGET dpvpn_agent AND EXISTS ${CMAKE_SOURCE_DIR}/dataplane/agent/dataplane_service.cpp)
  dpvpn_test(test_controld_with_dataplane unit/test_controld_with_dataplane.cpp)
  target_link_libraries(test_controld_with_dataplane PRIVATE dpvpn_agent dpvpn_controld rte_net_ring)
  target_compile_definitions(test_controld_with_dataplane PRIVATE DPVPN_CONTROLD="$<TARGET_FILE:dpvpn-controld>")
  add_dependencies(test_controld_with_dataplane dpvpn-controld)
  add_test(NAME controld_with_dataplane COMMAND test_controld_with_dataplane)
  set_tests_properties(controld_with_dataplane PROPERTIES TIMEOUT 60)
endif()
