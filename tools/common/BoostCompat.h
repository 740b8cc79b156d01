//===--- BoostCompat.h - Boost headers that clang 20+ rejects -------------===//
//
// Debian 12 ships Boost 1.74, whose boost/numeric/conversion headers
// (reached through boost::asio, boost::lexical_cast, ...) do not compile with
// clang 20 or later, and no Boost up to 1.89 compiles boost::is_signed or
// boost::is_unsigned of most enumerations with clang 21 or later: see the
// comments in the replacement headers under tools/common/boost-compat/. Every front end puts that directory on the
// C++ system include path of every unit it parses, after the unit's own -I
// and -isystem directories and before the system ones, so that a Boost in
// /usr/include gets the replacements while a Boost named by the project's
// own flags is left alone. Each header replaces Boost's only for the Boost
// versions that need it and falls through (#include_next) otherwise.
//
// The directory goes into CPLUS_INCLUDE_PATH because the clang driver reads
// it for every compile command, in all four tools, clangd included (which
// has no option to add compiler flags), and in the stock clang-tidy that
// loads the plugin (checks/ConcGuardTidyModule.cpp sets it when loaded).
// CONCGUARD_BOOST_COMPAT=0 turns it off.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_TOOLS_COMMON_BOOSTCOMPAT_H
#define CONCGUARD_TOOLS_COMMON_BOOSTCOMPAT_H

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/VirtualFileSystem.h"

#include <atomic>
#include <cstdlib>
#include <string>

namespace concguard {

/// The file the replacement headers include when they are in effect.
inline constexpr llvm::StringLiteral BoostCompatMarker =
    "concguard-boost-compat-used.h";

/// <dir>/../share/concguard/boost-compat beside the binary (an executable in
/// P/bin or the plugin in P/lib of an installed tree), else the source
/// tree's tools/common/boost-compat (a build tree); empty when neither
/// exists.
inline std::string findBoostCompatDir(llvm::StringRef BinaryPath) {
  llvm::SmallString<256> Installed(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(BinaryPath)));
  llvm::sys::path::append(Installed, "share", "concguard", "boost-compat");
  for (llvm::StringRef Dir : {llvm::StringRef(Installed),
                              llvm::StringRef(CONCGUARD_BOOST_COMPAT_DIR)}) {
    llvm::SmallString<256> Marker(Dir);
    llvm::sys::path::append(Marker, BoostCompatMarker);
    if (llvm::sys::fs::exists(Marker))
      return Dir.str();
  }
  return "";
}

/// Puts the compatibility headers on the C++ include path of every unit
/// this process parses (see the file comment); \p BinaryPath is the
/// executable or plugin that calls it. Call it before any thread starts.
/// Returns the directory, or an empty string when turned off
/// (CONCGUARD_BOOST_COMPAT=0) or not found. Calling it again is harmless.
inline std::string useBoostCompatHeaders(llvm::StringRef BinaryPath) {
  if (std::optional<std::string> Setting =
          llvm::sys::Process::GetEnv("CONCGUARD_BOOST_COMPAT"))
    if (*Setting == "0")
      return "";
  std::string Dir = findBoostCompatDir(BinaryPath);
  if (Dir.empty())
    return "";
  std::string Path = Dir;
  if (std::optional<std::string> Old =
          llvm::sys::Process::GetEnv("CPLUS_INCLUDE_PATH")) {
    for (llvm::StringRef Entry : llvm::split(*Old, llvm::sys::EnvPathSeparator))
      if (Entry == Dir)
        return Dir; // already there (a parent process, or a second call)
    if (!Old->empty())
      Path += llvm::sys::EnvPathSeparator + *Old;
  }
  ::setenv("CPLUS_INCLUDE_PATH", Path.c_str(), /*overwrite=*/1);
  return Dir;
}

/// The same for an executable, from main's argv[0].
inline std::string useBoostCompatHeaders(const char *Argv0, void *MainAddr) {
  return useBoostCompatHeaders(
      llvm::sys::fs::getMainExecutable(Argv0, MainAddr));
}

/// A file system that notes whether the unit read the marker, i.e. was
/// parsed with the replacement headers in effect.
class BoostCompatTracker : public llvm::vfs::ProxyFileSystem {
public:
  explicit BoostCompatTracker(
      llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> FS)
      : ProxyFileSystem(std::move(FS)) {}

  llvm::ErrorOr<std::unique_ptr<llvm::vfs::File>>
  openFileForRead(const llvm::Twine &Path) override {
    llvm::SmallString<256> Storage;
    if (llvm::sys::path::filename(Path.toStringRef(Storage)) ==
        BoostCompatMarker)
      Used = true;
    return ProxyFileSystem::openFileForRead(Path);
  }

  bool used() const { return Used; }

private:
  std::atomic<bool> Used{false};
};

} // namespace concguard

#endif // CONCGUARD_TOOLS_COMMON_BOOSTCOMPAT_H
