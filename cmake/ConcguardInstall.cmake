# Install layout of the whole project (`cmake --install build --prefix P`):
#
#   P/bin/concguard-{tidy,clangd,rewrite,audit}  (whichever were built; each
#                                                tool's CMakeLists installs it)
#   P/lib/concguard/libconcguard.so              (the clang-tidy plugin)
#   P/include/concguard/*.hpp, P/lib/cmake/concguard, P/share/pkgconfig
#                                                (rewriter/runtime installs them)
#   P/share/doc/concguard/                       README, docs/ and the example
#
# The installed tree is relocatable: no file records P. The tools find clang's
# builtin headers beside themselves (P/lib/clang/<N>) or else in the LLVM
# installation they were built against; the LLVM and Clang shared libraries
# are found through the dynamic linker's default path, where Debian's
# libllvmN and libclang-cppN packages put them.
include_guard(GLOBAL)

option(CONCGUARD_INSTALL_LLVM_RPATH
       "Give the installed tools a RUNPATH to LLVM's library directory, for \
LLVM installations outside the dynamic linker's default search path" OFF)
if(CONCGUARD_WITH_CLANG AND CONCGUARD_INSTALL_LLVM_RPATH)
  foreach(tool concguard-tidy concguard-clangd concguard-rewrite
               concguard-audit)
    if(TARGET ${tool})
      set_target_properties(${tool} PROPERTIES
                            INSTALL_RPATH "${LLVM_LIBRARY_DIR}")
    endif()
  endforeach()
endif()

install(FILES ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}
        PATTERN ".*" EXCLUDE)

# The Boost compatibility headers that every front end puts on the
# include path (tools/common/BoostCompat.h looks for them here, beside bin/).
if(CONCGUARD_WITH_CLANG)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/tools/common/boost-compat/
          DESTINATION ${CMAKE_INSTALL_DATADIR}/concguard/boost-compat)
endif()

# The tools and the plugin as imported targets of the CMake package, beside
# concguard::runtime: concguard::tidy, ::clangd, ::rewrite, ::audit (imported
# executables) and concguard::plugin (the module clang-tidy --load takes);
# rewriter/runtime/cmake/concguardConfig.cmake.in includes the set and
# turns them into components.
if(CONCGUARD_WITH_CLANG)
  install(EXPORT concguardToolsTargets
          NAMESPACE concguard::
          DESTINATION ${CONCGUARD_INSTALL_CMAKEDIR})
  set_property(GLOBAL APPEND PROPERTY CONCGUARD_PACKAGE_EXPORT_SETS
               concguardToolsTargets)
endif()
