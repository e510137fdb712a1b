# The shipped sample configs and the Đồng Tháp registry must pass --check-config.
add_test(NAME integration.config.samples
  COMMAND bash ${CMAKE_SOURCE_DIR}/config/check-samples.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.config.samples PROPERTIES TIMEOUT 60 LABELS integration)
