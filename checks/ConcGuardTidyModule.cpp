//===--- ConcGuardTidyModule.cpp - the concguard clang-tidy module --------===//
//
// Registers every concguard check. The list is generated from the files
// checks/*Check.cpp (see checks/CMakeLists.txt), so the plugin, concguard-tidy
// and concguard-clangd always agree on the set of checks.
//
//===----------------------------------------------------------------------===//

#include "clang-tidy/ClangTidyModule.h"
#include "clang-tidy/ClangTidyModuleRegistry.h"

#include "ConcGuardCheckIncludes.inc"

namespace clang::tidy::concguard {

class ConcGuardModule : public ClangTidyModule {
public:
  void addCheckFactories(ClangTidyCheckFactories &Factories) override {
#define CONCGUARD_CHECK(ClassName, CheckName)                                  \
  Factories.registerCheck<ClassName>(CheckName);
#include "ConcGuardCheckList.inc"
#undef CONCGUARD_CHECK
  }

  ClangTidyOptions getModuleOptions() override { return {}; }
};

} // namespace clang::tidy::concguard

namespace clang::tidy {

// Registers the module with clang-tidy when the plugin is loaded, or when
// concguard-tidy starts.
static ClangTidyModuleRegistry::Add<concguard::ConcGuardModule>
    ConcGuardModuleRegistration("concguard-module",
                                "Concurrency memory-safety checks.");

// Referenced by concguard-tidy and concguard-clangd so that a static link
// keeps this translation unit (and with it the registration above).
// NOLINTNEXTLINE(readability-identifier-naming)
volatile int ConcGuardModuleAnchorSource = 0;

} // namespace clang::tidy
