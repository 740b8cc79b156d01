# Installs the runtime component of a configured build tree into a scratch
# prefix, then checks both ways of consuming it:
#   find_package(concguard) + concguard::runtime, and pkg-config concguard.
#   cmake -DBUILD_DIR=... -DWORK_DIR=... -DCONSUMER_DIR=... -DCXX=...
#         -P install_check.cmake
foreach(var BUILD_DIR WORK_DIR CONSUMER_DIR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_check.cmake: ${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "FAILED: ${what}\n  ${cmd}\n${out}")
  endif()
  message(STATUS "ok: ${what}")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR}
         --component concguard_runtime --prefix ${prefix})
foreach(f include/concguard/sharded_map.hpp include/concguard/snapshot_map.hpp
          include/concguard/concguard.hpp include/concguard/detail/common.hpp
          share/pkgconfig/concguard.pc)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()

run_step("configure consumer (find_package)" ${CMAKE_COMMAND}
         -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer
         -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX})
run_step("build consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run_step("run consumer" ${WORK_DIR}/consumer/consumer)

find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  set(ENV{PKG_CONFIG_PATH} ${prefix}/share/pkgconfig)
  run_step("pkg-config" ${PKG_CONFIG} --cflags --libs concguard)
  string(STRIP "${step_output}" pc_flags)
  separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
  run_step("compile with pkg-config flags" ${CXX} -std=c++17 ${pc_flags}
           ${CONSUMER_DIR}/main.cpp -o ${WORK_DIR}/pc_consumer)
  run_step("run pkg-config consumer" ${WORK_DIR}/pc_consumer)
else()
  message(STATUS "pkg-config not found: pkg-config check skipped")
endif()
