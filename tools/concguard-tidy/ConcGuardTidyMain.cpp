//===--- ConcGuardTidyMain.cpp - clang-tidy with the concguard module -----===//
//
// A clang-tidy executable that has the concguard module (and every stock
// module) linked in. clang-tidy derives the directory of clang's builtin
// headers from the path of its executable; from a build tree or a prefix
// other than LLVM's that directory does not exist, so unless the user names
// one, point the driver at the resource directory of the LLVM we were built
// against.
//
// Before clang-tidy runs, every concguard option of the configuration each
// source file gets is validated (utils/CheckOptions.h): a bad value or an
// unknown concguard key stops the run with exit code 2, naming the key,
// the value and what is allowed, instead of a run with defaults.
//
//===----------------------------------------------------------------------===//

#include "../common/BoostCompat.h"
#include "../common/ResourceDir.h"
#include "clang-tidy/ClangTidyOptions.h"
#include "clang-tidy/tool/ClangTidyMain.h"
#include "utils/CheckOptions.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace clang::tidy {
// Defined in ConcGuardTidyModule.cpp; referencing it keeps the module linked.
// NOLINTNEXTLINE(readability-identifier-naming)
extern volatile int ConcGuardModuleAnchorSource;
} // namespace clang::tidy

namespace {

/// The configuration clang-tidy will use, as far as the command line says:
/// --config / --config-file, and the source files (whose .clang-tidy files
/// are read when neither is given, or with InheritParentConfig).
struct ConfigArgs {
  std::optional<std::string> Config;
  std::optional<std::string> ConfigFile;
  std::vector<std::string> Sources;
};

ConfigArgs scanArgs(llvm::ArrayRef<const char *> Args) {
  // clang-tidy's options that take a separate value (`-p build`).
  static const std::set<llvm::StringRef> TakesValue = {"p",
                                                       "checks",
                                                       "config",
                                                       "config-file",
                                                       "header-filter",
                                                       "exclude-header-filter",
                                                       "line-filter",
                                                       "export-fixes",
                                                       "extra-arg",
                                                       "extra-arg-before",
                                                       "format-style",
                                                       "load",
                                                       "vfsoverlay",
                                                       "warnings-as-errors",
                                                       "store-check-profile"};
  ConfigArgs Out;
  for (size_t I = 0; I < Args.size(); ++I) {
    llvm::StringRef Arg = Args[I];
    if (Arg == "--")
      break;
    if (!Arg.starts_with("-")) {
      Out.Sources.push_back(Arg.str());
      continue;
    }
    llvm::StringRef Name = Arg.ltrim('-');
    auto [Key, Value] = Name.split('=');
    bool HasValue = Name.contains('=');
    if (!HasValue && TakesValue.count(Key) && I + 1 < Args.size())
      Value = Args[++I];
    else if (!HasValue)
      continue;
    if (Key == "config")
      Out.Config = Value.str();
    else if (Key == "config-file")
      Out.ConfigFile = Value.str();
  }
  return Out;
}

/// Problems in the concguard options of any source file's configuration,
/// or none when they are fine or the configuration does not parse (then
/// clang-tidy itself says so).
std::vector<std::string> configurationProblems(const ConfigArgs &Args) {
  using namespace clang::tidy;
  std::optional<std::string> Yaml = Args.Config;
  if (!Yaml && Args.ConfigFile) {
    auto Buf = llvm::MemoryBuffer::getFile(*Args.ConfigFile);
    if (!Buf)
      return {};
    Yaml = (*Buf)->getBuffer().str();
  }
  std::unique_ptr<ClangTidyOptionsProvider> Provider;
  if (Yaml && !Yaml->empty()) {
    llvm::ErrorOr<ClangTidyOptions> Parsed =
        parseConfiguration(llvm::MemoryBufferRef(*Yaml, "--config"));
    if (!Parsed)
      return {};
    Provider = std::make_unique<ConfigOptionsProvider>(
        ClangTidyGlobalOptions(), ClangTidyOptions::getDefaults(),
        std::move(*Parsed), ClangTidyOptions());
  } else {
    Provider = std::make_unique<FileOptionsProvider>(
        ClangTidyGlobalOptions(), ClangTidyOptions::getDefaults(),
        ClangTidyOptions());
  }
  std::vector<std::string> Messages;
  std::set<std::string> Seen;
  for (const std::string &Source : Args.Sources) {
    llvm::SmallString<256> Abs(Source);
    if (llvm::sys::fs::make_absolute(Abs))
      continue; // no current directory: clang-tidy will say so
    for (const clang::tidy::concguard::utils::OptionProblem &P :
         clang::tidy::concguard::utils::validateOptions(
             Provider->getOptions(Abs).CheckOptions))
      if (Seen.insert(P.Message).second)
        Messages.push_back(P.Message);
  }
  return Messages;
}

} // namespace

int main(int Argc, const char **Argv) {
  (void)clang::tidy::ConcGuardModuleAnchorSource;
  void *MainAddr = reinterpret_cast<void *>(&clang::tidy::clangTidyMain);
  concguard::useBoostCompatHeaders(Argv[0], MainAddr);
  llvm::cl::AddExtraVersionPrinter([](llvm::raw_ostream &OS) {
    OS << "concguard-tidy " << CONCGUARD_VERSION << " (concguard checks)\n";
  });
  std::vector<std::string> Problems = configurationProblems(
      scanArgs(llvm::ArrayRef<const char *>(Argv, Argc).drop_front()));
  for (const std::string &Message : Problems)
    llvm::WithColor::error(llvm::errs(), "concguard-tidy") << Message << "\n";
  if (!Problems.empty()) {
    llvm::WithColor::error(llvm::errs(), "concguard-tidy")
        << "invalid configuration: nothing was analysed\n";
    return 2;
  }
  std::vector<const char *> Args(Argv, Argv + Argc);
  std::string ExtraArg;
  if (!concguard::namesResourceDir(
          llvm::ArrayRef<const char *>(Args).drop_front())) {
    ExtraArg = "--extra-arg-before=-resource-dir=" +
               concguard::findResourceDir(Argv[0], MainAddr);
    // After argv[0], so that positional arguments and '--' keep their
    // meaning.
    Args.insert(Args.begin() + 1, ExtraArg.c_str());
  }
  return clang::tidy::clangTidyMain(static_cast<int>(Args.size()), Args.data());
}
