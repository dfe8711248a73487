# dataplane/config: the YAML config parser, its error messages, and the shipped example file.
dpvpn_test(test_config unit/test_config.cpp)
target_link_libraries(test_config PRIVATE dpvpn_config)
target_compile_definitions(test_config PRIVATE
  DPVPN_EXAMPLE_CONFIG="${CMAKE_SOURCE_DIR}/dataplane/config/example.yaml")
add_test(NAME config COMMAND test_config)
