# Compiles the runtime headers with one compiler and one -std, strictly:
#   cmake -DCXX=g++-12 -DSTD=17 -DINCLUDE_DIR=... -DSOURCE=header_compile.cpp
#         -DWORK_DIR=... -P compile_check.cmake
# Checks: every header compiles on its own; header_compile.cpp (every member
# instantiated) compiles at -O2 with and without NDEBUG; the -O2 build runs.
foreach(var CXX STD INCLUDE_DIR SOURCE WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "compile_check.cmake: ${var} is not set")
  endif()
endforeach()
file(MAKE_DIRECTORY ${WORK_DIR})
set(flags -std=c++${STD} -Wall -Wextra -Wpedantic -Werror -I${INCLUDE_DIR})

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "FAILED: ${what}\n  ${cmd}\n${out}")
  endif()
  message(STATUS "ok: ${what}")
endfunction()

foreach(header concguard.hpp sharded_map.hpp snapshot_map.hpp persistent_map.hpp
               detail/common.hpp)
  run_step("${header} is self-contained" ${CXX} ${flags} -x c++ -fsyntax-only
           ${INCLUDE_DIR}/concguard/${header})
endforeach()
run_step("every member, -O2, NDEBUG" ${CXX} ${flags} -O2 -DNDEBUG -c ${SOURCE}
         -o ${WORK_DIR}/ndebug.o)
run_step("every member, -O2, debug checks" ${CXX} ${flags} -O2 ${SOURCE}
         -o ${WORK_DIR}/header_compile -pthread)
run_step("run" ${WORK_DIR}/header_compile)
