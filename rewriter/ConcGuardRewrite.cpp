//===--- ConcGuardRewrite.cpp - concguard-rewrite
//--------------------------===//
//
// Rewrites the maps that concguard-unsynchronized-container flags into
// concguard::sharded_map or concguard::snapshot_map. By default it prints a
// unified diff and changes nothing; --in-place writes the files (through a
// temporary file renamed over the original, never a file that changed since
// it was parsed); --export-fixes writes clang-apply-replacements YAML.
//
//===----------------------------------------------------------------------===//

#include "utils/CheckOptions.h"
#include "utils/MapRewrite.h"

#include "../tools/common/BoostCompat.h"
#include "../tools/common/FirstErrors.h"
#include "../tools/common/ResourceDir.h"

#include "clang-tidy/ClangTidyOptions.h"
#include "clang/AST/ASTConsumer.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Format/Format.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Tooling/CommonOptionsParser.h"
#include "clang/Tooling/Core/Replacement.h"
#include "clang/Tooling/Inclusions/HeaderIncludes.h"
#include "clang/Tooling/ReplacementsYaml.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLTraits.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>

using namespace clang;
using namespace clang::tidy::concguard::utils;
namespace cl = llvm::cl;

static cl::OptionCategory RewriteCategory("concguard-rewrite options");
static cl::extrahelp CommonHelp(tooling::CommonOptionsParser::HelpMessage);
static cl::extrahelp MoreHelp(R"(
Rewrites every std::map / std::unordered_map that
concguard-unsynchronized-container flags into concguard::sharded_map or
concguard::snapshot_map, with all of its uses. Prints a unified diff unless
--in-place or --export-fixes is given. Check options
(concguard-unsynchronized-container.*) come from --config if given, else
from the .clang-tidy files above each source file, as for clang-tidy.
)");

static cl::opt<bool> InPlace("in-place", cl::desc("Write the rewritten files"),
                             cl::cat(RewriteCategory));
static cl::opt<std::string>
    ExportFixes("export-fixes",
                cl::desc("Write the edits as clang-apply-replacements YAML "
                         "to this file"),
                cl::value_desc("file.yaml"), cl::cat(RewriteCategory));
static cl::opt<MapPolicy> Policy(
    "policy", cl::desc("Which concurrent map to use"),
    cl::values(clEnumValN(MapPolicy::Auto, "auto",
                          "snapshot_map for read-mostly maps and std::map, "
                          "sharded_map otherwise (see docs/rewriter.md)"),
               clEnumValN(MapPolicy::Sharded, "sharded",
                          "always concguard::sharded_map"),
               clEnumValN(MapPolicy::Snapshot, "snapshot",
                          "always concguard::snapshot_map")),
    cl::init(MapPolicy::Auto), cl::cat(RewriteCategory));
static cl::list<std::string>
    Only("only", cl::desc("Rewrite only these maps (qualified names)"),
         cl::CommaSeparated, cl::value_desc("name,..."),
         cl::cat(RewriteCategory));
static cl::opt<std::string> Config(
    "config",
    cl::desc("A clang-tidy configuration in YAML or JSON, e.g. "
             "\"{CheckOptions: "
             "{concguard-unsynchronized-container.MutexTypes: 'my::Mutex'}}\"; "
             "its concguard-unsynchronized-container.* options are used "
             "instead of the .clang-tidy files, as with clang-tidy --config"),
    cl::value_desc("yaml"), cl::cat(RewriteCategory));
static cl::opt<bool> PrintRuntimeIncludeDir(
    "print-runtime-include-dir",
    cl::desc("Print the directory that holds concguard/sharded_map.hpp and "
             "exit"),
    cl::cat(RewriteCategory));

namespace {

std::string runtimeIncludeDir(const char *Argv0) {
  std::string Exe = llvm::sys::fs::getMainExecutable(
      Argv0, reinterpret_cast<void *>(&runtimeIncludeDir));
  llvm::SmallString<256> Installed(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(Exe)));
  llvm::sys::path::append(Installed, "include");
  llvm::SmallString<256> Header(Installed);
  llvm::sys::path::append(Header, "concguard", "sharded_map.hpp");
  if (llvm::sys::fs::exists(Header))
    return std::string(Installed);
  return CONCGUARD_RUNTIME_SOURCE_INCLUDE_DIR;
}

/// Where the check options come from: the configuration given with
/// --config, else the .clang-tidy files above each source file, as
/// clang-tidy reads them (a --config with `InheritParentConfig: true` adds
/// to those files, as in clang-tidy). Null, with \p Error set, when --config
/// does not parse.
std::unique_ptr<tidy::ClangTidyOptionsProvider>
optionsProvider(std::string &Error) {
  // An empty --config is no configuration, as for clang-tidy.
  if (Config.empty())
    return std::make_unique<tidy::FileOptionsProvider>(
        tidy::ClangTidyGlobalOptions(), tidy::ClangTidyOptions::getDefaults(),
        tidy::ClangTidyOptions());
  // The YAML parser's own message says what is wrong, and where.
  std::string Diagnostic;
  llvm::ErrorOr<tidy::ClangTidyOptions> Parsed =
      tidy::parseConfigurationWithDiags(
          llvm::MemoryBufferRef(Config, "--config"),
          [&](const llvm::SMDiagnostic &Diag) {
            if (Diag.getKind() != llvm::SourceMgr::DK_Error ||
                !Diagnostic.empty())
              return;
            llvm::raw_string_ostream OS(Diagnostic);
            OS << Diag.getMessage();
            if (Diag.getLineNo() > 0)
              OS << " (line " << Diag.getLineNo() << ", column "
                 << Diag.getColumnNo() + 1 << ")";
          });
  if (!Parsed) {
    Error = Diagnostic.empty() ? Parsed.getError().message() : Diagnostic;
    return nullptr;
  }
  return std::make_unique<tidy::ConfigOptionsProvider>(
      tidy::ClangTidyGlobalOptions(), tidy::ClangTidyOptions::getDefaults(),
      std::move(*Parsed), tidy::ClangTidyOptions());
}

/// The check options for \p File.
RewriteOptions optionsFor(tidy::ClangTidyOptionsProvider &Provider,
                          llvm::StringRef File) {
  tidy::ClangTidyOptions Opts = Provider.getOptions(File);
  // Read as the check reads them (the values were validated up front).
  CheckOptionReader Reader(Opts.CheckOptions,
                           "concguard-unsynchronized-container");
  RewriteOptions Options;
  Options.Analysis = Reader.sharedContainerOptions();
  Options.Policy = Policy;
  Options.Only.assign(Only.begin(), Only.end());
  return Options;
}

/// What every translation unit said about one map or parameter.
struct MergedMap {
  std::string Name, Location;
  bool Flagged = false; ///< a flagged map (counted in the summary)
  /// A flagged container that is not a map (a synchronized<T>), counted
  /// apart from the maps.
  bool Synchronized = false;
  std::string Policy; ///< why it gets its new type
  bool IsParam = false;
  std::string Function; ///< a parameter's function
  bool HasDefinition = false;
  unsigned Group = 0;
  bool Skipped = false;
  std::string Reason, ReasonLocation, Target;
  std::vector<tooling::Replacement> Edits;
};

/// Does the compile command of \p Source find <concguard/sharded_map.hpp>:
/// through one of its -I / -isystem / -iquote directories, or a standard
/// system directory (an installed runtime)?
bool findsRuntime(const tooling::CompilationDatabase &Database,
                  llvm::StringRef Source) {
  auto Has = [](llvm::StringRef Dir, llvm::StringRef Base) {
    llvm::SmallString<256> Path(Dir);
    if (!Base.empty() && llvm::sys::path::is_relative(Path)) {
      Path = Base;
      llvm::sys::path::append(Path, Dir);
    }
    llvm::sys::path::append(Path, "concguard", "sharded_map.hpp");
    return llvm::sys::fs::exists(Path);
  };
  if (Has("/usr/include", "") || Has("/usr/local/include", ""))
    return true;
  for (const tooling::CompileCommand &Command :
       Database.getCompileCommands(Source)) {
    const std::vector<std::string> &Args = Command.CommandLine;
    for (size_t I = 0; I < Args.size(); ++I)
      for (llvm::StringRef Flag : {"-I", "-isystem", "-iquote", "-idirafter"}) {
        llvm::StringRef Arg = Args[I];
        if (!Arg.starts_with(Flag))
          continue;
        llvm::StringRef Dir = Arg.drop_front(Flag.size());
        if (Dir.empty() && I + 1 < Args.size())
          Dir = Args[I + 1];
        if (!Dir.empty() && Has(Dir, Command.Directory))
          return true;
      }
  }
  return false;
}

class PassAction : public ASTFrontendAction {
public:
  using Callback = std::function<void(ASTContext &, llvm::StringRef)>;
  explicit PassAction(Callback Run) : Run(std::move(Run)) {}
  std::unique_ptr<ASTConsumer>
  CreateASTConsumer(CompilerInstance &, llvm::StringRef File) override {
    class Consumer : public ASTConsumer {
    public:
      Consumer(Callback &Run, std::string File)
          : Run(Run), File(std::move(File)) {}
      void HandleTranslationUnit(ASTContext &Context) override {
        if (Context.getDiagnostics().hasErrorOccurred())
          return;
        Run(Context, File);
      }

    private:
      Callback &Run;
      std::string File;
    };
    return std::make_unique<Consumer>(Run, File.str());
  }

private:
  Callback Run;
};

class PassFactory : public tooling::FrontendActionFactory {
public:
  explicit PassFactory(PassAction::Callback Run) : Run(std::move(Run)) {}
  std::unique_ptr<FrontendAction> create() override {
    return std::make_unique<PassAction>(Run);
  }

private:
  PassAction::Callback Run;
};

std::optional<std::string> readFile(llvm::StringRef Path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buffer =
      llvm::MemoryBuffer::getFile(Path, /*IsText=*/true);
  if (!Buffer)
    return std::nullopt;
  return (*Buffer)->getBuffer().str();
}

/// Prints `diff -u` of two texts.
bool printDiff(llvm::StringRef File, llvm::StringRef Old, llvm::StringRef New) {
  llvm::SmallString<128> OldPath, NewPath, OutPath;
  if (llvm::sys::fs::createTemporaryFile("concguard-old", "txt", OldPath) ||
      llvm::sys::fs::createTemporaryFile("concguard-new", "txt", NewPath) ||
      llvm::sys::fs::createTemporaryFile("concguard-diff", "txt", OutPath))
    return false;
  auto Write = [](llvm::StringRef Path, llvm::StringRef Text) {
    std::error_code EC;
    llvm::raw_fd_ostream OS(Path, EC);
    OS << Text;
    return !EC;
  };
  bool Ok = Write(OldPath, Old) && Write(NewPath, New);
  llvm::ErrorOr<std::string> Diff = llvm::sys::findProgramByName("diff");
  if (Ok && Diff) {
    // Paths below the working directory are shown relative to it.
    llvm::SmallString<256> Shown(File), Cwd;
    if (!llvm::sys::fs::current_path(Cwd))
      llvm::sys::path::replace_path_prefix(Shown, (Cwd + "/").str(), "");
    llvm::StringRef Rel = llvm::StringRef(Shown).ltrim('/');
    std::string A = ("a/" + Rel).str(), B = ("b/" + Rel).str();
    llvm::SmallVector<llvm::StringRef, 8> Args = {
        *Diff, "-u", "--label", A, "--label", B, OldPath, NewPath};
    std::optional<llvm::StringRef> Redirects[] = {
        std::nullopt, llvm::StringRef(OutPath), std::nullopt};
    int Status =
        llvm::sys::ExecuteAndWait(*Diff, Args, std::nullopt, Redirects);
    Ok = Status == 0 || Status == 1;
    if (std::optional<std::string> Text = readFile(OutPath))
      llvm::outs() << *Text;
  } else {
    Ok = false;
  }
  llvm::sys::fs::remove(OldPath);
  llvm::sys::fs::remove(NewPath);
  llvm::sys::fs::remove(OutPath);
  return Ok;
}

/// Writes \p Text over \p Path through a temporary file in the same
/// directory, keeping the original's permissions.
llvm::Error writeAtomically(llvm::StringRef Path, llvm::StringRef Text) {
  llvm::ErrorOr<llvm::sys::fs::perms> Perms =
      llvm::sys::fs::getPermissions(Path);
  llvm::SmallString<256> Temp;
  int FD = -1;
  if (std::error_code EC =
          llvm::sys::fs::createUniqueFile(Path + ".concguard-%%%%%%", FD, Temp))
    return llvm::createStringError(EC, "cannot create a file beside %s",
                                   Path.str().c_str());
  {
    llvm::raw_fd_ostream OS(FD, /*shouldClose=*/true);
    OS << Text;
    OS.close();
    if (OS.has_error()) {
      llvm::sys::fs::remove(Temp);
      return llvm::createStringError(OS.error(), "cannot write %s",
                                     Temp.c_str());
    }
  }
  if (Perms)
    llvm::sys::fs::setPermissions(Temp, *Perms);
  if (std::error_code EC = llvm::sys::fs::rename(Temp, Path)) {
    llvm::sys::fs::remove(Temp);
    return llvm::createStringError(EC, "cannot replace %s", Path.str().c_str());
  }
  return llvm::Error::success();
}

} // namespace

/// The directory given with -p, if any.
static std::optional<std::string> buildPathArgument(int Argc,
                                                    const char **Argv) {
  for (int I = 1; I < Argc; ++I) {
    llvm::StringRef Arg = Argv[I];
    if (Arg == "--")
      break;
    if ((Arg == "-p" || Arg == "--p") && I + 1 < Argc)
      return std::string(Argv[I + 1]);
    if (Arg.consume_front("-p=") || Arg.consume_front("--p="))
      return Arg.str();
  }
  return std::nullopt;
}

int main(int Argc, const char **Argv) {
  ::concguard::useBoostCompatHeaders(
      Argv[0], reinterpret_cast<void *>(&runtimeIncludeDir));
  cl::AddExtraVersionPrinter([](llvm::raw_ostream &OS) {
    OS << "concguard-rewrite " << CONCGUARD_VERSION << "\n";
  });
  // CommonOptionsParser falls back to "no flags" when -p names no database;
  // a user who asked for one should hear that it is missing instead.
  if (std::optional<std::string> BuildPath = buildPathArgument(Argc, Argv)) {
    std::string Error;
    if (!tooling::CompilationDatabase::autoDetectFromDirectory(*BuildPath,
                                                               Error)) {
      llvm::errs() << "concguard-rewrite: no compilation database "
                      "(compile_commands.json) in "
                   << *BuildPath << " or its parent directories\n";
      return 2;
    }
  }
  llvm::Expected<tooling::CommonOptionsParser> Parser =
      tooling::CommonOptionsParser::create(Argc, Argv, RewriteCategory,
                                           cl::ZeroOrMore);
  if (!Parser) {
    llvm::errs() << "concguard-rewrite: " << llvm::toString(Parser.takeError())
                 << "\n";
    return 2;
  }
  if (PrintRuntimeIncludeDir) {
    llvm::outs() << runtimeIncludeDir(Argv[0]) << "\n";
    return 0;
  }
  if (Parser->getSourcePathList().empty()) {
    llvm::errs() << "concguard-rewrite: no source files given (usage: "
                    "concguard-rewrite [options] <source>... [-- <compiler "
                    "flags>] or -p <build dir>)\n";
    return 2;
  }
  std::string ConfigError;
  std::unique_ptr<tidy::ClangTidyOptionsProvider> Provider =
      optionsProvider(ConfigError);
  if (!Provider) {
    llvm::errs() << "concguard-rewrite: invalid --config: " << ConfigError
                 << "; nothing was changed\n";
    return 2;
  }
  // Every concguard option of every file's configuration, before any file
  // is parsed: a typo must not silently rewrite with the defaults.
  {
    std::set<std::string> Reported;
    for (const std::string &Source : Parser->getSourcePathList()) {
      llvm::SmallString<256> Abs(Source);
      if (llvm::sys::fs::make_absolute(Abs))
        continue; // no current directory: the tool run will say so
      for (const OptionProblem &P :
           validateOptions(Provider->getOptions(Abs).CheckOptions))
        if (Reported.insert(P.Message).second)
          llvm::errs() << "concguard-rewrite: error: " << P.Message << "\n";
    }
    if (!Reported.empty()) {
      llvm::errs() << "concguard-rewrite: invalid configuration; nothing was "
                      "changed\n";
      return 2;
    }
  }

  tooling::ClangTool Tool(Parser->getCompilations(),
                          Parser->getSourcePathList());
  // Clang's builtin headers, as for concguard-tidy.
  Tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster(
      ("-resource-dir=" +
       ::concguard::findResourceDir(
           Argv[0], reinterpret_cast<void *>(&runtimeIncludeDir)))
          .c_str(),
      tooling::ArgumentInsertPosition::BEGIN));
  // Code rewritten before includes the runtime: a second run must parse it
  // (and then finds nothing left to rewrite).
  Tool.appendArgumentsAdjuster(tooling::getInsertArgumentAdjuster(
      ("-isystem" + runtimeIncludeDir(Argv[0])).c_str(),
      tooling::ArgumentInsertPosition::END));
  // Errors are printed as they come; the summary names each unit that did
  // not compile, with its first error.
  ::concguard::FirstErrorRecorder Errors;
  Tool.setDiagnosticConsumer(&Errors);
  auto ReportUnparsed = [&] {
    for (const auto &[File, Error] : Errors.firstErrors())
      llvm::errs() << "concguard-rewrite: " << File
                   << " does not compile; first error: " << Error << "\n";
  };

  // Pass 1: which maps does the analysis flag, in any translation unit, and
  // which function parameters are they passed to?
  std::vector<FlaggedMap> Flagged;
  std::vector<ParamFlow> Flows;
  std::set<std::string> Seen;
  // Every flagged map's name, to tell an --only that matches none of them.
  std::set<std::string> FlaggedNames;
  PassFactory Find([&](ASTContext &Context, llvm::StringRef File) {
    RewriteOptions Unfiltered = optionsFor(*Provider, File);
    std::vector<std::string> Wanted = std::move(Unfiltered.Only);
    Unfiltered.Only.clear();
    for (FlaggedMap &Map : findFlaggedMaps(Context, Unfiltered)) {
      FlaggedNames.insert(Map.Name);
      if (Map.USR.empty() || !matchesOnly(Map.Name, Wanted))
        continue;
      if (Seen.insert(Map.USR).second) {
        Flagged.push_back(std::move(Map));
        continue;
      }
      // Flagged in several translation units: a sharded map if any of them
      // writes it too often for a snapshot map.
      for (FlaggedMap &Known : Flagged)
        if (Known.USR == Map.USR) {
          if (Known.Snapshot && !Map.Snapshot)
            Known.Policy = Map.Policy;
          Known.Snapshot = Known.Snapshot && Map.Snapshot;
        }
    }
    for (ParamFlow &Flow : findParamFlows(Context))
      Flows.push_back(std::move(Flow));
  });
  if (int Status = Tool.run(&Find)) {
    ReportUnparsed();
    llvm::errs() << "concguard-rewrite: some files could not be parsed "
                    "(errors above); nothing was changed\n";
    return Status;
  }
  // An --only name that no flagged map has is a mistake (a typo, a map the
  // check does not flag): say so before anything is planned or written.
  std::vector<std::string> Unmatched;
  for (const std::string &Name : Only)
    if (llvm::none_of(FlaggedNames, [&](const std::string &Flagged) {
          return matchesOnly(Flagged, {Name});
        }))
      Unmatched.push_back(Name);
  if (!Unmatched.empty()) {
    llvm::errs() << "concguard-rewrite: --only=" << llvm::join(Unmatched, ",")
                 << " matches no map that concguard-unsynchronized-container "
                    "flags in these files";
    if (FlaggedNames.empty())
      llvm::errs() << " (it flags none)";
    else
      llvm::errs() << " (it flags: "
                   << llvm::join(FlaggedNames.begin(), FlaggedNames.end(), ", ")
                   << ")";
    llvm::errs() << "; nothing was changed\n";
    return 2;
  }

  // Maps passed to a parameter are rewritten with it, all together.
  RewriteTargets Targets = groupTargets(std::move(Flagged), std::move(Flows));

  // Pass 2: plan every use in every translation unit.
  std::map<std::string, MergedMap> Merged;
  std::map<std::string, std::string> ParsedContent;
  for (const FlaggedMap &Map : Targets.Maps) {
    MergedMap &M = Merged[Map.USR];
    M.Name = Map.Name;
    M.Location = Map.Location;
    M.Flagged = true;
    M.Synchronized = Map.Synchronized;
    M.Policy = Map.Policy;
    M.Group = Map.Group;
  }
  for (const ParamTarget &Param : Targets.Params) {
    MergedMap &M = Merged[Param.Id];
    M.IsParam = true;
    M.Function = Param.Function;
    M.Group = Param.Group;
    M.Synchronized = Param.Synchronized;
  }
  PassFactory Plan([&](ASTContext &Context, llvm::StringRef File) {
    const SourceManager &SM = Context.getSourceManager();
    for (MapPlan &P :
         planMapRewrites(Context, optionsFor(*Provider, File), Targets)) {
      MergedMap &M = Merged[P.USR];
      M.Target = P.Target;
      if (M.IsParam) {
        M.HasDefinition = M.HasDefinition || P.HasDefinition;
        if (M.Function.empty())
          M.Function = P.Function;
        if (!M.Flagged || M.Location.empty()) {
          M.Name = "parameter '" + P.Name + "' of '" + P.Function + "'";
          M.Location = P.Location;
        }
      }
      if (!P.Rewritten) {
        if (!M.Skipped) {
          M.Skipped = true;
          M.Reason = P.Reason;
          M.ReasonLocation = P.ReasonLocation;
        }
        continue;
      }
      for (tooling::Replacement &Edit : P.Edits) {
        // Paths relative to the compile command's directory, made absolute.
        llvm::SmallString<256> Absolute(Edit.getFilePath());
        SM.getFileManager().getVirtualFileSystem().makeAbsolute(Absolute);
        llvm::sys::path::remove_dots(Absolute, /*remove_dot_dot=*/true);
        tooling::Replacement R(Absolute, Edit.getOffset(), Edit.getLength(),
                               Edit.getReplacementText());
        std::string Path = R.getFilePath().str();
        if (!ParsedContent.count(Path))
          if (auto FE = SM.getFileManager().getOptionalFileRef(Path))
            if (FileID ID = SM.translateFile(*FE); ID.isValid())
              ParsedContent[Path] = SM.getBufferData(ID).str();
        M.Edits.push_back(std::move(R));
      }
    }
  });
  if (int Status = Tool.run(&Plan)) {
    ReportUnparsed();
    llvm::errs() << "concguard-rewrite: some files could not be parsed; "
                    "nothing was changed\n";
    return Status;
  }

  // A group is rewritten whole or not at all (groupBlocker and
  // memberReason, the decision the fix-its make too): what blocks it is a
  // parameter that cannot be rewritten or whose definition is not among the
  // files, a map that is not rewritten passed to one of its parameters, or
  // one of its flagged maps skipped for its own reason.
  std::vector<std::vector<MergedMap *>> Members(Targets.Groups.size());
  for (auto &[Id, M] : Merged)
    Members[M.Group].push_back(&M);
  std::vector<GroupMember> Planned;
  std::map<const MergedMap *, size_t> PlannedIndex;
  auto AddMember = [&](const std::string &Id) {
    const MergedMap &M = Merged[Id];
    if (!PlannedIndex.try_emplace(&M, Planned.size()).second)
      return;
    GroupMember G;
    G.Id = Id;
    G.Name = M.Name;
    G.Location = M.Location;
    G.Group = M.Group;
    G.IsParam = M.IsParam;
    G.Flagged = M.Flagged;
    G.Synchronized = M.Synchronized;
    // Merged over every unit: skipped in one, not rewritten at all.
    G.Planned = true;
    G.Rewritten = !M.Skipped;
    G.HasDefinition = M.HasDefinition;
    G.Function = M.Function;
    G.Reason = M.Reason;
    G.ReasonLocation = M.ReasonLocation;
    Planned.push_back(std::move(G));
  };
  for (const ParamTarget &Param : Targets.Params)
    AddMember(Param.Id);
  for (const FlaggedMap &Map : Targets.Maps)
    AddMember(Map.USR);
  for (const auto &[Id, M] : Merged)
    AddMember(Id);
  for (unsigned G = 0; G < Members.size(); ++G) {
    std::optional<TargetGroup::Blocker> Blocker =
        groupBlocker(Targets, G, Planned, /*NeedDefinitions=*/true);
    if (!Blocker)
      continue;
    for (MergedMap *M : Members[G]) {
      M->Reason = memberReason(Planned[PlannedIndex.at(M)], Blocker);
      if (!M->Skipped)
        M->ReasonLocation = Blocker->Location;
      M->Skipped = true;
    }
  }

  // Merge the edits of the groups that every translation unit could
  // rewrite.
  std::map<std::string, tooling::Replacements> ByFile;
  std::map<std::string, std::set<std::string>> Includes;
  for (unsigned G = 0; G < Members.size(); ++G) {
    if (llvm::any_of(Members[G], [](const MergedMap *M) { return M->Skipped; }))
      continue;
    std::map<std::string, tooling::Replacements> Mine = ByFile;
    std::string Conflict;
    for (const MergedMap *M : Members[G])
      for (const tooling::Replacement &R : M->Edits) {
        if (R.getOffset() == UINT_MAX || !Conflict.empty())
          continue;
        tooling::Replacements &Set = Mine[R.getFilePath().str()];
        if (llvm::Error E = Set.add(R)) {
          // The same edit seen from two translation units is fine; anything
          // else is a conflict: with another map's edit (one expression
          // uses both), or between translation units.
          llvm::consumeError(std::move(E));
          bool Identical = llvm::any_of(
              Set, [&](const tooling::Replacement &X) { return X == R; });
          if (Identical)
            continue;
          auto Overlaps = [&](const tooling::Replacement &X) {
            return X.getOffset() <
                       R.getOffset() + std::max(R.getLength(), 1u) &&
                   R.getOffset() < X.getOffset() + std::max(X.getLength(), 1u);
          };
          auto Before = ByFile.find(R.getFilePath().str());
          bool WithOther =
              Before != ByFile.end() && llvm::any_of(Before->second, Overlaps);
          bool Synchronized = llvm::any_of(
              Members[G], [](const MergedMap *M) { return M->Synchronized; });
          Conflict = !WithOther ? "conflicting edits from different "
                                  "translation units"
                                : overlappingEditsReason(Synchronized);
        }
      }
    if (!Conflict.empty()) {
      for (MergedMap *M : Members[G]) {
        M->Skipped = true;
        M->Reason = Conflict;
        M->ReasonLocation = M->Location;
      }
      continue;
    }
    ByFile = std::move(Mine);
    for (const MergedMap *M : Members[G]) {
      for (const tooling::Replacement &R : M->Edits)
        if (R.getOffset() == UINT_MAX)
          Includes[R.getFilePath().str()].insert(R.getReplacementText().str());
    }
  }
  for (const auto &[File, Headers] : Includes)
    ByFile[File]; // files that only need an include

  // Insert the includes, format the changed ranges, and apply.
  bool Failed = false;
  std::set<std::string> Changed;
  tooling::TranslationUnitReplacements Exported;
  Exported.MainSourceFile = Parser->getSourcePathList().front();
  for (auto &[File, Replaces] : ByFile) {
    std::optional<std::string> Disk = readFile(File);
    if (!Disk) {
      llvm::errs() << "concguard-rewrite: cannot read " << File << "\n";
      Failed = true;
      continue;
    }
    auto Parsed = ParsedContent.find(File);
    if (Parsed != ParsedContent.end() && Parsed->second != *Disk) {
      llvm::errs() << "concguard-rewrite: " << File
                   << " changed since it was parsed; not rewriting it\n";
      Failed = true;
      continue;
    }
    llvm::Expected<format::FormatStyle> Style =
        format::getStyle("file", File, "LLVM", *Disk);
    if (!Style) {
      llvm::consumeError(Style.takeError());
      Style = format::getLLVMStyle();
    }
    // Includes go where tooling::HeaderIncludes puts them; two headers for
    // the same place become one insertion.
    tooling::HeaderIncludes Headers(File, *Disk, Style->IncludeStyle);
    std::map<unsigned, std::string> Insertions;
    for (const std::string &Include : Includes[File]) {
      llvm::StringRef Name = llvm::StringRef(Include).drop_front(
          llvm::StringRef("#include ").size());
      bool Angled = Name.starts_with("<");
      Name = Name.drop_front().drop_back();
      if (std::optional<tooling::Replacement> R =
              Headers.insert(Name, Angled, tooling::IncludeDirective::Include))
        Insertions[R->getOffset()] += R->getReplacementText().str();
    }
    for (const auto &[Offset, Text] : Insertions)
      if (llvm::Error E =
              Replaces.add(tooling::Replacement(File, Offset, 0, Text))) {
        llvm::errs() << "concguard-rewrite: cannot add an include to " << File
                     << ": " << llvm::toString(std::move(E)) << "\n";
        Failed = true;
      }
    llvm::Expected<tooling::Replacements> Formatted =
        format::formatReplacements(*Disk, Replaces, *Style);
    if (!Formatted) {
      llvm::consumeError(Formatted.takeError());
      Formatted = Replaces;
    }
    llvm::Expected<std::string> New =
        tooling::applyAllReplacements(*Disk, *Formatted);
    if (!New) {
      llvm::errs() << "concguard-rewrite: cannot apply the edits to " << File
                   << ": " << llvm::toString(New.takeError()) << "\n";
      Failed = true;
      continue;
    }
    for (const tooling::Replacement &R : *Formatted)
      Exported.Replacements.push_back(R);
    if (*New != *Disk)
      Changed.insert(File);
    if (InPlace) {
      if (*New != *Disk)
        if (llvm::Error E = writeAtomically(File, *New)) {
          llvm::errs() << "concguard-rewrite: " << llvm::toString(std::move(E))
                       << "\n";
          Failed = true;
        }
    } else if (ExportFixes.empty()) {
      if (!printDiff(File, *Disk, *New)) {
        llvm::errs() << "concguard-rewrite: cannot run diff\n";
        Failed = true;
      }
    }
  }
  if (!ExportFixes.empty()) {
    std::error_code EC;
    llvm::raw_fd_ostream OS(ExportFixes, EC);
    if (EC) {
      llvm::errs() << "concguard-rewrite: cannot write " << ExportFixes << ": "
                   << EC.message() << "\n";
      Failed = true;
    } else {
      llvm::yaml::Output YAML(OS);
      YAML << Exported;
    }
  }

  // The files changed (or, without --in-place, to change), each once.
  for (const std::string &File : Changed)
    llvm::errs() << "concguard-rewrite: "
                 << (InPlace ? "changed " : "would change ") << File << "\n";
  // The rewritten code includes the runtime: say how to build it when the
  // compile commands do not find it.
  if (!Changed.empty())
    for (const std::string &Source : Parser->getSourcePathList())
      if (!findsRuntime(Parser->getCompilations(), Source)) {
        std::string Dir = runtimeIncludeDir(Argv[0]);
        llvm::errs()
            << "concguard-rewrite: the rewritten code includes "
               "<concguard/...>, which the compile command of "
            << Source << " does not find; add -I" << Dir
            << " to its flags, or in CMake: add_subdirectory(<concguard>/"
               "rewriter/runtime) or find_package(concguard), then "
               "target_link_libraries(<your target> PRIVATE "
               "concguard::runtime)\n";
        break;
      }

  // The summary: the flagged maps, then the parameters rewritten with
  // them; then the other flagged containers (synchronized<T>), counted
  // apart so that the maps' line keeps its meaning. Each rewritten
  // container says why it got its type.
  auto Summarize = [&](bool Synchronized) {
    unsigned Done = 0, Skipped = 0, Total = 0;
    for (const auto &[USR, M] : Merged) {
      if (!M.Flagged || M.Synchronized != Synchronized)
        continue;
      ++Total;
      Skipped += M.Skipped;
      Done += !M.Skipped;
    }
    if (Synchronized && Total == 0)
      return;
    llvm::errs() << "concguard-rewrite: rewrote " << Done << " of " << Total
                 << (Synchronized ? " flagged non-map container"
                                  : " flagged map")
                 << (Total == 1 ? "" : "s");
    if (Skipped)
      llvm::errs() << ", skipped " << Skipped << ":";
    llvm::errs() << "\n";
    for (const auto &[USR, M] : Merged)
      if (M.Flagged && M.Synchronized == Synchronized && M.Skipped)
        llvm::errs() << "  " << M.Name << " (" << M.Location
                     << "): " << M.Reason << " [" << M.ReasonLocation << "]\n";
    for (const auto &[USR, M] : Merged)
      if (M.Flagged && M.Synchronized == Synchronized && !M.Skipped)
        llvm::errs() << "  rewrote " << M.Name << " (" << M.Location << ") -> "
                     << M.Target
                     << (M.Policy.empty() ? "" : " (" + M.Policy + ")") << "\n";
    for (const auto &[USR, M] : Merged)
      if (!M.Flagged && !M.Skipped && M.Synchronized == Synchronized)
        llvm::errs() << "  rewrote " << M.Name << " (" << M.Location << ") -> "
                     << M.Target << "\n";
  };
  Summarize(/*Synchronized=*/false);
  Summarize(/*Synchronized=*/true);
  return Failed ? 1 : 0;
}
