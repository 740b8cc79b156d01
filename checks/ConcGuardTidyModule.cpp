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

#include "../tools/common/BoostCompat.h"

#include <dlfcn.h>

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

namespace {
// The stock clang-tidy that loads the plugin (--load) parses Boost 1.74 code
// only with the compatibility headers (tools/common/BoostCompat.h); the
// plugin is loaded before any unit is parsed, so set them up now. Where the
// module is linked into concguard's own tools this finds the executable and
// does what their main does anyway.
struct BoostCompatOnLoad {
  BoostCompatOnLoad() {
    Dl_info Info;
    if (dladdr(reinterpret_cast<void *>(&ConcGuardModuleRegistration), &Info) &&
        Info.dli_fname)
      ::concguard::useBoostCompatHeaders(Info.dli_fname);
  }
} BoostCompatOnLoadInstance;
} // namespace

// Referenced by concguard-tidy and concguard-clangd so that a static link
// keeps this translation unit (and with it the registration above).
// NOLINTNEXTLINE(readability-identifier-naming)
volatile int ConcGuardModuleAnchorSource = 0;

} // namespace clang::tidy
