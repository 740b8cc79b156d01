//===--- ConcGuardClangdMain.cpp - clangd with the concguard module -------===//
//
// clangd with the concguard clang-tidy module linked in, so that the
// concguard diagnostics and their fix-its reach editors (clangd cannot load
// clang-tidy plugins).
//
// clangd derives the directory of clang's builtin headers (stddef.h, ...)
// from the path of its executable; from a build tree or a prefix other than
// LLVM's that directory does not exist and every translation unit would fail
// to parse. Unless the user names one, pass the resource directory that sits
// beside the executable (an installed tree that ships one) or else the one of
// the LLVM installation we were built against.
//
//===----------------------------------------------------------------------===//

#include "../common/ResourceDir.h"

#include <string>
#include <vector>

namespace clang {
namespace tidy {
// Defined in ConcGuardTidyModule.cpp; referencing it keeps the module linked.
// NOLINTNEXTLINE(readability-identifier-naming)
extern volatile int ConcGuardModuleAnchorSource;
} // namespace tidy
namespace clangd {
// Defined in libclangdMain (clangd/tool/ClangdMain.cpp), whose header the
// LLVM packages do not install.
int clangdMain(int Argc, char *Argv[]);
} // namespace clangd
} // namespace clang

int main(int Argc, char **Argv) {
  (void)clang::tidy::ConcGuardModuleAnchorSource;
  std::vector<char *> Args(Argv, Argv + Argc);
  std::string ResourceDirArg;
  if (Argc > 0 &&
      !concguard::namesResourceDir(llvm::ArrayRef<char *>(Args).drop_front())) {
    // clangd's own --resource-dir option; a compile command's -resource-dir
    // still wins for that file.
    ResourceDirArg =
        "--resource-dir=" +
        concguard::findResourceDir(
            Argv[0], reinterpret_cast<void *>(&clang::clangd::clangdMain));
    Args.insert(Args.begin() + 1, ResourceDirArg.data());
  }
  int NewArgc = static_cast<int>(Args.size());
  Args.push_back(nullptr); // argv[argc] is null.
  return clang::clangd::clangdMain(NewArgc, Args.data());
}
