# edu_unit_test(MODULE SOURCES src... LIBS lib... CASES case...)
# Builds one cmocka program per module and registers each case with ctest
# as MODULE.CASE; the program runs only the case named in argv[1].
function(edu_unit_test module)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;CASES" ${ARGN})
  add_executable(${module}_test ${T_SOURCES})
  target_link_libraries(${module}_test PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  foreach(c ${T_CASES})
    add_test(NAME ${module}.${c} COMMAND ${module}_test ${c})
    set_tests_properties(${module}.${c} PROPERTIES TIMEOUT 120 LABELS unit)
  endforeach()
endfunction()
