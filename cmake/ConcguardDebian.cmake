# What Debian policy (and lintian) asks of the package beyond the installed
# tree: a copyright file, a compressed changelog, a man page for each tool
# (generated from its --help by help2man, tools/deps/package.txt), and
# stripped binaries (CPACK_STRIP_FILES, ConcguardPackaging.cmake, which
# includes this file after setting the CPACK_* variables it reads).
#
#   <docdir>/copyright            cmake/debian/copyright (DEP-5)
#   <docdir>/changelog.Debian.gz  cmake/debian/changelog.in, gzip -9n
#   <mandir>/man1/<tool>.1.gz     help2man <tool>, gzip -9n
include_guard(GLOBAL)

set(concguard_debian_dir ${PROJECT_BINARY_DIR}/debian)
find_program(CONCGUARD_GZIP gzip REQUIRED)

install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/changelog.in
               ${concguard_debian_dir}/changelog.Debian @ONLY)
# -n: no name or timestamp in the gzip header, so the file is reproducible.
add_custom_command(
  OUTPUT ${concguard_debian_dir}/changelog.Debian.gz
  COMMAND ${CONCGUARD_GZIP} -9nkf ${concguard_debian_dir}/changelog.Debian
  DEPENDS ${concguard_debian_dir}/changelog.Debian
  COMMENT "Compressing the Debian changelog" VERBATIM)
set(concguard_debian_outputs ${concguard_debian_dir}/changelog.Debian.gz)
install(FILES ${concguard_debian_dir}/changelog.Debian.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# One line per tool: what `man -k` shows.
set(concguard_man_summary_concguard-tidy
    "clang-tidy with the concguard concurrency checks built in")
set(concguard_man_summary_concguard-clangd
    "clangd with the concguard concurrency checks built in")
set(concguard_man_summary_concguard-rewrite
    "turn maps shared between threads into concguard's concurrent maps")
set(concguard_man_summary_concguard-audit
    "run the concguard checks over a compilation database and write reports")
find_program(CONCGUARD_HELP2MAN help2man)
if(CONCGUARD_WITH_CLANG AND NOT CONCGUARD_HELP2MAN)
  message(STATUS "help2man not found: the package will have no man pages "
                 "(tools/setup.sh installs it)")
endif()
foreach(tool concguard-tidy concguard-clangd concguard-rewrite
             concguard-audit)
  if(NOT TARGET ${tool} OR NOT CONCGUARD_HELP2MAN)
    continue()
  endif()
  set(page ${concguard_debian_dir}/man/${tool}.1)
  # --version-string: the tools' --version also prints LLVM's version,
  # which is not the man page's.
  add_custom_command(
    OUTPUT ${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${concguard_debian_dir}/man
    COMMAND ${CONCGUARD_HELP2MAN} --no-info
            "--name=${concguard_man_summary_${tool}}"
            --version-string=${PROJECT_VERSION} --output=${page}
            $<TARGET_FILE:${tool}>
    COMMAND ${CONCGUARD_GZIP} -9nf ${page}
    DEPENDS ${tool}
    COMMENT "Generating the man page of ${tool}" VERBATIM)
  list(APPEND concguard_debian_outputs ${page}.gz)
  install(FILES ${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endforeach()
add_custom_target(concguard-debian-files ALL
                  DEPENDS ${concguard_debian_outputs})
