//===--- ResourceDir.h - where clang's builtin headers are
//-----------------===//
//
// Clang-based tools derive the directory of clang's builtin headers
// (stddef.h, ...) from the path of their executable. From a build tree, or a
// prefix other than LLVM's, that directory does not exist. concguard-tidy,
// concguard-clangd and concguard-rewrite use the one beside the executable
// when an installed tree ships it, else the LLVM installation's they were
// built against (CONCGUARD_CLANG_RESOURCE_DIR).
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_TOOLS_COMMON_RESOURCEDIR_H
#define CONCGUARD_TOOLS_COMMON_RESOURCEDIR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <string>

namespace concguard {

/// <exe>/../lib/clang/<major> when it holds the builtin headers, else the
/// LLVM installation's resource directory. \p MainAddr is any function of
/// the executable (for getMainExecutable).
inline std::string findResourceDir(const char *Argv0, void *MainAddr) {
  std::string Exe = llvm::sys::fs::getMainExecutable(Argv0, MainAddr);
  llvm::SmallString<256> Beside(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(Exe)));
  llvm::sys::path::append(Beside, "lib", "clang",
                          std::to_string(CONCGUARD_LLVM_VERSION_MAJOR),
                          "include");
  if (llvm::sys::fs::is_directory(Beside))
    return std::string(llvm::sys::path::parent_path(Beside));
  return CONCGUARD_CLANG_RESOURCE_DIR;
}

/// Does the command line (without argv[0]) already name a resource
/// directory (`-resource-dir`, `--resource-dir`, or inside
/// `--extra-arg=...`)?
template <typename T> bool namesResourceDir(llvm::ArrayRef<T> Args) {
  for (llvm::StringRef Arg : Args)
    if (Arg.contains("-resource-dir"))
      return true;
  return false;
}

} // namespace concguard

#endif // CONCGUARD_TOOLS_COMMON_RESOURCEDIR_H
