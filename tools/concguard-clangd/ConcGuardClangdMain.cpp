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
// clangd 18+ runs only the clang-tidy checks on its list of fast ones unless
// the configuration sets Diagnostics.ClangTidy.FastCheckFilter to Loose or
// None, and the concguard checks are not on that list: with only a
// .clang-tidy the editor would stay silent. clangd takes configuration only
// from files (.clangd, and the user's clangd/config.yaml), so
// concguard-clangd starts clangd with a private copy of the user's
// config.yaml whose first fragment sets FastCheckFilter: Loose (checks
// clangd knows to be slow still do not run), and logs which concguard
// checks are compiled in.
//
//===----------------------------------------------------------------------===//

#include "../common/BoostCompat.h"
#include "../common/ResourceDir.h"
#include "clang-tidy/ClangTidyModule.h"
#include "clang-tidy/ClangTidyModuleRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

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

namespace {

/// The concguard checks compiled in.
std::vector<std::string> concguardChecks() {
  clang::tidy::ClangTidyCheckFactories Factories;
  for (const auto &Entry : clang::tidy::ClangTidyModuleRegistry::entries())
    if (Entry.getName() == "concguard-module")
      Entry.instantiate()->addCheckFactories(Factories);
  std::vector<std::string> Names;
  for (const auto &Factory : Factories)
    Names.push_back(Factory.getKey().str());
  llvm::sort(Names);
  return Names;
}

/// Points XDG_CONFIG_HOME at a private directory whose clangd/config.yaml is
/// a fragment setting FastCheckFilter: Loose followed by the user's own
/// config.yaml (later fragments win, so the user's setting, if any, still
/// decides). Returns the directory, to be removed when clangd exits, or an
/// empty string when it could not be set up (then clangd runs as is).
std::string defaultToLooseFastCheckFilter() {
  llvm::SmallString<256> UserConfig;
  std::string UserText;
  if (llvm::sys::path::user_config_directory(UserConfig)) {
    llvm::sys::path::append(UserConfig, "clangd", "config.yaml");
    if (auto Buf = llvm::MemoryBuffer::getFile(UserConfig))
      UserText = (*Buf)->getBuffer().str();
  }
  llvm::SmallString<256> Dir;
  if (llvm::sys::fs::createUniqueDirectory("concguard-clangd", Dir))
    return "";
  llvm::SmallString<256> ConfigDir(Dir);
  llvm::sys::path::append(ConfigDir, "clangd");
  llvm::SmallString<256> Config(ConfigDir);
  llvm::sys::path::append(Config, "config.yaml");
  std::error_code EC = llvm::sys::fs::create_directory(ConfigDir);
  if (!EC) {
    llvm::raw_fd_ostream OS(Config, EC);
    if (!EC) {
      OS << "# Written by concguard-clangd: the concguard checks are not on "
            "clangd's list of\n# fast checks. The user's configuration "
         << "(" << UserConfig << ") follows.\n"
         << "Diagnostics:\n  ClangTidy:\n    FastCheckFilter: Loose\n";
      if (!llvm::StringRef(UserText).trim().empty())
        OS << "---\n" << UserText << "\n";
    }
  }
  if (EC) {
    // Nothing else to do if even the removal fails: clangd runs as is.
    if (llvm::sys::fs::remove_directories(Dir))
      llvm::errs() << "concguard-clangd: cannot remove " << Dir << "\n";
    return "";
  }
  ::setenv("XDG_CONFIG_HOME", Dir.c_str(), /*overwrite=*/1);
  return std::string(Dir);
}

} // namespace

int main(int Argc, char **Argv) {
  (void)clang::tidy::ConcGuardModuleAnchorSource;
  void *MainAddr = reinterpret_cast<void *>(&clang::clangd::clangdMain);
  llvm::cl::AddExtraVersionPrinter([](llvm::raw_ostream &OS) {
    OS << "concguard-clangd " << CONCGUARD_VERSION << " (concguard checks)\n";
  });
  if (Argc > 0) {
    std::string Compat = concguard::useBoostCompatHeaders(Argv[0], MainAddr);
    // clangd logs to stderr too; this line says why Boost 1.74 code parses.
    if (!Compat.empty())
      llvm::errs() << "concguard-clangd: Boost compatibility headers on the "
                      "C++ include path: "
                   << Compat << "\n";
  }
  std::vector<char *> Args(Argv, Argv + Argc);
  std::string ResourceDirArg;
  if (Argc > 0 &&
      !concguard::namesResourceDir(llvm::ArrayRef<char *>(Args).drop_front())) {
    // clangd's own --resource-dir option; a compile command's -resource-dir
    // still wins for that file.
    ResourceDirArg =
        "--resource-dir=" + concguard::findResourceDir(Argv[0], MainAddr);
    Args.insert(Args.begin() + 1, ResourceDirArg.data());
  }
  llvm::errs() << "concguard-clangd: concguard checks compiled in: "
               << llvm::join(concguardChecks(), ", ") << "\n";
  std::string PrivateConfig = defaultToLooseFastCheckFilter();
  if (!PrivateConfig.empty())
    llvm::errs() << "concguard-clangd: they run wherever .clang-tidy or "
                    ".clangd enables them: Diagnostics.ClangTidy."
                    "FastCheckFilter defaults to Loose (user configuration "
                    "read through "
                 << PrivateConfig << ")\n";
  int NewArgc = static_cast<int>(Args.size());
  Args.push_back(nullptr); // argv[argc] is null.
  int Status = clang::clangd::clangdMain(NewArgc, Args.data());
  if (!PrivateConfig.empty())
    if (llvm::sys::fs::remove_directories(PrivateConfig))
      llvm::errs() << "concguard-clangd: cannot remove " << PrivateConfig
                   << "\n";
  return Status;
}
