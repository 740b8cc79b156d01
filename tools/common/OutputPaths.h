//===--- OutputPaths.h - can the reports be written?
//-----------------------===//
//
// A front end checks every output path before it analyses anything, so that
// a typo in --sarif is not found after an hour's run (and after the other
// reports were written).
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_TOOLS_COMMON_OUTPUTPATHS_H
#define CONCGUARD_TOOLS_COMMON_OUTPUTPATHS_H

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace concguard {

/// The nearest existing directory at or above \p Path's parent (the one
/// a file at \p Path, or the directories leading to it, would be created
/// in); empty when there is none or a file is in the way.
inline std::string nearestExistingDir(llvm::StringRef Path) {
  llvm::SmallString<256> Dir(Path);
  if (llvm::sys::fs::make_absolute(Dir))
    return "";
  llvm::sys::path::remove_filename(Dir);
  while (!Dir.empty() && !llvm::sys::fs::exists(Dir))
    llvm::sys::path::remove_filename(Dir);
  if (Dir.empty() || !llvm::sys::fs::is_directory(Dir))
    return "";
  return std::string(Dir);
}

/// Can a report file be written at \p Path (named by \p Option in
/// messages)? Its directory must exist, since the report is written there
/// as it is; an existing file must be writable, and not a directory.
inline llvm::Error checkOutputFile(llvm::StringRef Option,
                                   llvm::StringRef Path) {
  auto Fail = [&](const llvm::Twine &Why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot write " + Option + " '" + Path +
                                       "': " + Why);
  };
  if (llvm::sys::fs::is_directory(Path))
    return Fail("is a directory");
  if (llvm::sys::fs::exists(Path)) {
    if (llvm::sys::fs::access(Path, llvm::sys::fs::AccessMode::Write))
      return Fail("the file is not writable");
    return llvm::Error::success();
  }
  llvm::SmallString<256> Parent(Path);
  if (std::error_code EC = llvm::sys::fs::make_absolute(Parent))
    return Fail("cannot find the current directory: " + EC.message());
  llvm::sys::path::remove_filename(Parent);
  if (!llvm::sys::fs::is_directory(Parent))
    return Fail("directory '" + Parent + "' does not exist");
  if (llvm::sys::fs::access(Parent, llvm::sys::fs::AccessMode::Write))
    return Fail("directory '" + Parent + "' is not writable");
  return llvm::Error::success();
}

/// Can a report directory be created or written at \p Path?
inline llvm::Error checkOutputDir(llvm::StringRef Option,
                                  llvm::StringRef Path) {
  auto Fail = [&](const llvm::Twine &Why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot write " + Option + " '" + Path +
                                       "': " + Why);
  };
  if (llvm::sys::fs::exists(Path)) {
    if (!llvm::sys::fs::is_directory(Path))
      return Fail("exists and is not a directory");
    if (llvm::sys::fs::access(Path, llvm::sys::fs::AccessMode::Write))
      return Fail("the directory is not writable");
    return llvm::Error::success();
  }
  std::string Existing = nearestExistingDir(Path);
  if (Existing.empty())
    return Fail("a file is in the way of its parent directories");
  if (llvm::sys::fs::access(Existing, llvm::sys::fs::AccessMode::Write))
    return Fail("directory '" + Existing + "' is not writable");
  return llvm::Error::success();
}

} // namespace concguard

#endif // CONCGUARD_TOOLS_COMMON_OUTPUTPATHS_H
