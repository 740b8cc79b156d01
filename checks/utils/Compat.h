//===--- Compat.h - differences between the supported LLVM versions -------===//
//
// concguard builds against LLVM 22 (default) and LLVM 19. Every difference
// between their APIs that the checks depend on is bridged here, once, so
// that no other file tests CONCGUARD_LLVM_VERSION_MAJOR.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_COMPAT_H
#define CONCGUARD_CHECKS_UTILS_COMPAT_H

#ifndef CONCGUARD_LLVM_VERSION_MAJOR
#error "CONCGUARD_LLVM_VERSION_MAJOR must be defined by the build"
#endif

#if CONCGUARD_LLVM_VERSION_MAJOR < 19
#error "concguard needs LLVM 19 or newer"
#endif

namespace clang::tidy::concguard::compat {

/// The LLVM major version the checks were built against.
constexpr unsigned LLVMMajor = CONCGUARD_LLVM_VERSION_MAJOR;

} // namespace clang::tidy::concguard::compat

#endif // CONCGUARD_CHECKS_UTILS_COMPAT_H
