//===--- ConcGuardTidyMain.cpp - clang-tidy with the concguard module -----===//
//
// A clang-tidy executable that has the concguard module (and every stock
// module) linked in. clang-tidy derives the directory of clang's builtin
// headers from the path of its executable; from a build tree or a prefix
// other than LLVM's that directory does not exist, so unless the user names
// one, point the driver at the resource directory of the LLVM we were built
// against.
//
//===----------------------------------------------------------------------===//

#include "../common/ResourceDir.h"
#include "clang-tidy/tool/ClangTidyMain.h"

#include <string>
#include <vector>

namespace clang::tidy {
// Defined in ConcGuardTidyModule.cpp; referencing it keeps the module linked.
// NOLINTNEXTLINE(readability-identifier-naming)
extern volatile int ConcGuardModuleAnchorSource;
} // namespace clang::tidy

int main(int Argc, const char **Argv) {
  (void)clang::tidy::ConcGuardModuleAnchorSource;
  std::vector<const char *> Args(Argv, Argv + Argc);
  std::string ExtraArg;
  if (!concguard::namesResourceDir(
          llvm::ArrayRef<const char *>(Args).drop_front())) {
    ExtraArg =
        "--extra-arg-before=-resource-dir=" +
        concguard::findResourceDir(
            Argv[0], reinterpret_cast<void *>(&clang::tidy::clangTidyMain));
    // After argv[0], so that positional arguments and '--' keep their
    // meaning.
    Args.insert(Args.begin() + 1, ExtraArg.c_str());
  }
  return clang::tidy::clangTidyMain(static_cast<int>(Args.size()), Args.data());
}
