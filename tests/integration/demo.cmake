# The main job (README's first command): the demo tree starts, publishes, shows
# the topology with current counts, and stops cleanly.
add_test(NAME integration.demo.main_job
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/demo_check.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(integration.demo.main_job PROPERTIES TIMEOUT 200 LABELS integration)
