# dpvpn-controld's parts (controlplane/controld/).
if(TARGET dpvpn_controld_config)
  dpvpn_plain_test(test_controld_config unit/test_controld_config.cpp)
  target_link_libraries(test_controld_config PRIVATE dpvpn_controld_config)
  target_compile_definitions(test_controld_config PRIVATE
                             DPVPN_CONTROLD_EXAMPLE="${CMAKE_SOURCE_DIR}/controlplane/controld/config/example.yaml")
  add_test(NAME controld_config COMMAND test_controld_config)
endif()
