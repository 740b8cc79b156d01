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

#include "clang-tidy/tool/ClangTidyMain.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <string>
#include <vector>

namespace clang::tidy {
// Defined in ConcGuardTidyModule.cpp; referencing it keeps the module linked.
// NOLINTNEXTLINE(readability-identifier-naming)
extern volatile int ConcGuardModuleAnchorSource;
} // namespace clang::tidy

namespace {

/// The resource directory to use: <exe>/../lib/clang/<major> when it exists
/// (an installed tree that ships one), else the LLVM installation's.
std::string findResourceDir(const char *Argv0) {
  std::string Exe = llvm::sys::fs::getMainExecutable(
      Argv0, reinterpret_cast<void *>(&findResourceDir));
  llvm::SmallString<256> Beside(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(Exe)));
  llvm::sys::path::append(Beside, "lib", "clang",
                          std::to_string(CONCGUARD_LLVM_VERSION_MAJOR),
                          "include");
  if (llvm::sys::fs::is_directory(Beside))
    return std::string(llvm::sys::path::parent_path(Beside));
  return CONCGUARD_CLANG_RESOURCE_DIR;
}

bool namesResourceDir(llvm::ArrayRef<const char *> Args) {
  for (llvm::StringRef Arg : Args)
    if (Arg.contains("-resource-dir"))
      return true;
  return false;
}

} // namespace

int main(int Argc, const char **Argv) {
  (void)clang::tidy::ConcGuardModuleAnchorSource;
  std::vector<const char *> Args(Argv, Argv + Argc);
  std::string ExtraArg;
  if (!namesResourceDir(Args)) {
    ExtraArg = "--extra-arg-before=-resource-dir=" + findResourceDir(Argv[0]);
    // After argv[0], so that positional arguments and '--' keep their
    // meaning.
    Args.insert(Args.begin() + 1, ExtraArg.c_str());
  }
  return clang::tidy::clangTidyMain(static_cast<int>(Args.size()), Args.data());
}
