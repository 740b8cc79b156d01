# CPack: a Debian package of the installed tree (see ConcguardInstall.cmake).
#
#   cmake --build build && (cd build && cpack -G DEB)
#
# The shared-library dependencies (libllvmN, libclang-cppN, and for
# concguard-clangd the gRPC, protobuf and abseil libraries of its remote
# index) are computed by dpkg-shlibdeps from the binaries; the builtin
# headers the tools need at run time come from libclang-common-N-dev, which
# no binary links against, so it is declared by hand.
include_guard(GLOBAL)

set(CONCGUARD_PACKAGE_MAINTAINER
    "concguard maintainers <maintainers@concguard.invalid>"
    CACHE STRING "The Maintainer field of the Debian package")

set(CPACK_PACKAGE_NAME concguard)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR concguard)
set(CPACK_PACKAGE_CONTACT "${CONCGUARD_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "concurrency memory-safety checks for C++ (clang-tidy, clangd)")
# Lines of at most 80 characters: the control file's extended description
# keeps them as they are (lintian: extended-description-line-too-long).
set(CPACK_PACKAGE_DESCRIPTION
    "clang-tidy checks that find containers shared between threads without
synchronization, views into containers that may reallocate, references that
escape a lock and threads nobody can stop; concguard-tidy and
concguard-clangd with the checks built in, the clang-tidy plugin, the
rewriter, the audit tool and the header-only concurrent maps.")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://github.com/concguard/concguard")
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CONCGUARD_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Debian installs no debugging symbols with the binaries (lintian:
# unstripped-binary-or-object); they are several times the code's size.
set(CPACK_STRIP_FILES ON)
if(CONCGUARD_WITH_CLANG)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libclang-common-${LLVM_VERSION_MAJOR}-dev")
  # libconcguard.so is a plugin for the stock clang-tidy.
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "clang-tidy-${LLVM_VERSION_MAJOR}")
endif()

# Copyright file, changelog and man pages.
include(${CMAKE_CURRENT_LIST_DIR}/ConcguardDebian.cmake)

include(CPack)
