//===--- ConcGuardAudit.cpp - concguard-audit: codebase audit reports -----===//
//
// Runs the concguard checks (and any clang-tidy checks named with --checks)
// over every translation unit of a compile_commands.json, in process and in
// parallel, and writes JSON, SARIF, HTML and Markdown reports; `merge`
// combines the reports of --shard runs.
//
// In process rather than through concguard-tidy subprocesses: each worker
// thread runs clang-tidy's library entry point on one translation unit with
// its own ClangTidyContext and its own file system object (the physical file
// system that does not share the process's working directory, since
// ClangTool changes directory per command). docs/audit.md has the
// measurements.
//
//===----------------------------------------------------------------------===//

#include "AuditReport.h"
#include "TidyRunner.h"
#include "utils/ProjectIndex.h"
#include "utils/WholeProgram.h"

#include "../common/BoostCompat.h"
#include "../common/OutputPaths.h"
#include "utils/CheckOptions.h"

#include "clang-tidy/ClangTidy.h"
#include "clang-tidy/ClangTidyDiagnosticConsumer.h"
#include "clang-tidy/ClangTidyForceLinker.h"
#include "clang-tidy/ClangTidyOptions.h"
#include "clang-tidy/GlobList.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Basic/Version.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendActions.h"
#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/JSONCompilationDatabase.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Chrono.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/VirtualFileSystem.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/xxhash.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#if LLVM_ON_UNIX
#include <sys/resource.h>
#endif

namespace clang::tidy {
// Defined in checks/ConcGuardTidyModule.cpp; referencing it keeps the module
// (and so its registration) linked in.
// NOLINTNEXTLINE(readability-identifier-naming)
extern volatile int ConcGuardModuleAnchorSource;
} // namespace clang::tidy

using namespace concguard::audit;
namespace cl = llvm::cl;
namespace fs = llvm::sys::fs;
namespace path = llvm::sys::path;
using llvm::StringRef;

namespace {

// Exit codes, documented in docs/audit.md.
constexpr int ExitOk = 0;
constexpr int ExitGate = 1;       // --fail-on matched
constexpr int ExitUsage = 2;      // bad option or input: no report
constexpr int ExitIncomplete = 3; // report written, but not every TU analysed

cl::OptionCategory AuditCategory("concguard-audit options");
cl::SubCommand MergeCommand("merge",
                            "Combine the JSON reports of --shard runs into "
                            "the report of the full run");

// Options of the analysis (top-level command only).
cl::opt<std::string> BuildPath("p",
                               cl::desc("Build directory holding "
                                        "compile_commands.json (or the "
                                        "file itself)"),
                               cl::value_desc("dir"), cl::cat(AuditCategory));
cl::opt<std::string>
    Checks("checks",
           cl::desc("Check globs added to '-*,concguard-*', as in clang-tidy "
                    "(e.g. '-concguard-foo,bugprone-use-after-move')"),
           cl::value_desc("globs"), cl::init(""), cl::cat(AuditCategory));
cl::opt<std::string>
    Config("config",
           cl::desc("clang-tidy configuration in YAML (CheckOptions, ...); "
                    ".clang-tidy files are not read, so that the result "
                    "depends only on the command line"),
           cl::value_desc("yaml"), cl::init(""), cl::cat(AuditCategory));
cl::opt<std::string> HeaderFilter(
    "header-filter",
    cl::desc("Regex of headers whose findings are reported (default: those "
             "under --root)"),
    cl::value_desc("regex"), cl::init(""), cl::cat(AuditCategory));
cl::opt<unsigned> Jobs("j",
                       cl::desc("Translation units analysed in parallel "
                                "(default: all cores)"),
                       cl::init(0), cl::Prefix, cl::cat(AuditCategory));
cl::list<std::string>
    Include("include",
            cl::desc("Analyse only translation units whose path (relative to "
                     "--root) matches one of these globs"),
            cl::value_desc("globs"), cl::CommaSeparated,
            cl::cat(AuditCategory));
cl::list<std::string>
    Exclude("exclude",
            cl::desc("Skip translation units whose path (relative to --root) "
                     "matches one of these globs"),
            cl::value_desc("globs"), cl::CommaSeparated,
            cl::cat(AuditCategory));
cl::opt<std::string>
    Root("root",
         cl::desc("Directory that report paths are relative to (default: "
                  "the current directory)"),
         cl::value_desc("dir"), cl::init(""), cl::cat(AuditCategory));
cl::opt<std::string> Shard("shard",
                           cl::desc("Analyse the I-th of N deterministic "
                                    "shares of the translation units (I/N, "
                                    "1-based)"),
                           cl::value_desc("I/N"), cl::init(""),
                           cl::cat(AuditCategory));
cl::opt<std::string>
    CacheDir("cache-dir",
             cl::desc("Reuse results keyed by command, preprocessed input, "
                      "tool and configuration"),
             cl::value_desc("dir"), cl::init(""), cl::cat(AuditCategory));
enum class ProgressMode { Auto, Bar, Plain, None };
cl::opt<ProgressMode> ProgressOpt(
    "progress", cl::desc("Progress display on stderr"),
    cl::values(clEnumValN(ProgressMode::Auto, "auto",
                          "a bar on a terminal, plain lines otherwise"),
               clEnumValN(ProgressMode::Bar, "bar", "a progress bar"),
               clEnumValN(ProgressMode::Plain, "plain", "one line per unit"),
               clEnumValN(ProgressMode::None, "none", "nothing")),
    cl::init(ProgressMode::Auto), cl::cat(AuditCategory));

// Options shared by the analysis and `merge`.
enum class FailOn { None, New, Any };
cl::opt<std::string> JsonOut("json", cl::desc("Write the JSON report"),
                             cl::value_desc("file"), cl::cat(AuditCategory),
                             cl::sub(cl::SubCommand::getTopLevel()),
                             cl::sub(MergeCommand));
cl::opt<std::string> SarifOut("sarif", cl::desc("Write SARIF 2.1.0"),
                              cl::value_desc("file"), cl::cat(AuditCategory),
                              cl::sub(cl::SubCommand::getTopLevel()),
                              cl::sub(MergeCommand));
cl::opt<std::string> HtmlOut("html",
                             cl::desc("Write a self-contained HTML report "
                                      "(dir/index.html)"),
                             cl::value_desc("dir"), cl::cat(AuditCategory),
                             cl::sub(cl::SubCommand::getTopLevel()),
                             cl::sub(MergeCommand));
cl::opt<std::string> MarkdownOut("markdown",
                                 cl::desc("Write a short Markdown summary"),
                                 cl::value_desc("file"), cl::cat(AuditCategory),
                                 cl::sub(cl::SubCommand::getTopLevel()),
                                 cl::sub(MergeCommand));
cl::opt<std::string>
    Baseline("baseline",
             cl::desc("Previous SARIF or JSON report: mark findings new, "
                      "unchanged or fixed"),
             cl::value_desc("file"), cl::cat(AuditCategory),
             cl::sub(cl::SubCommand::getTopLevel()), cl::sub(MergeCommand));
cl::opt<FailOn> FailOnOpt(
    "fail-on", cl::desc("Which findings make the exit code 1"),
    cl::values(clEnumValN(FailOn::New, "new",
                          "findings not in the baseline (all without one)"),
               clEnumValN(FailOn::Any, "any", "any finding"),
               clEnumValN(FailOn::None, "none", "none (default)")),
    cl::init(FailOn::None), cl::cat(AuditCategory),
    cl::sub(cl::SubCommand::getTopLevel()), cl::sub(MergeCommand));
cl::opt<bool> WholeProgramOpt(
    "whole-program",
    cl::desc("Run the whole-program phase over the facts of all units: "
             "races and endless threads whose evidence spans units "
             "(default on; --whole-program=false for per-unit results only)"),
    cl::init(true), cl::cat(AuditCategory),
    cl::sub(cl::SubCommand::getTopLevel()), cl::sub(MergeCommand));
cl::opt<std::string> IndexOut(
    "index",
    cl::desc("Write the project index (the facts of every unit) that "
             "concguard-tidy, the plugin and concguard-clangd read; by "
             "convention <build>/concguard-index.json"),
    cl::value_desc("file"), cl::cat(AuditCategory),
    cl::sub(cl::SubCommand::getTopLevel()), cl::sub(MergeCommand));
cl::opt<bool> Stats("print-stats",
                    cl::desc("Print counts and timings (analysed, cached, "
                             "failed) on stderr"),
                    cl::init(false), cl::cat(AuditCategory),
                    cl::sub(cl::SubCommand::getTopLevel()),
                    cl::sub(MergeCommand));
cl::list<std::string> MergeInputs(cl::Positional, cl::OneOrMore,
                                  cl::desc("<shard reports (JSON)>"),
                                  cl::sub(MergeCommand));

int fail(const llvm::Twine &Msg, int Code = ExitUsage) {
  llvm::WithColor::error(llvm::errs(), "concguard-audit") << Msg << "\n";
  return Code;
}

/// <exe>/../lib/clang/<major> when it exists (an installed tree that ships
/// one), else the resource directory of the LLVM we were built against;
/// the same rule as concguard-tidy's.
std::string findResourceDir(const char *Argv0) {
  std::string Exe =
      fs::getMainExecutable(Argv0, reinterpret_cast<void *>(&findResourceDir));
  llvm::SmallString<256> Beside(path::parent_path(path::parent_path(Exe)));
  path::append(Beside, "lib", "clang",
               std::to_string(CONCGUARD_LLVM_VERSION_MAJOR), "include");
  if (fs::is_directory(Beside))
    return std::string(path::parent_path(Beside));
  return CONCGUARD_CLANG_RESOURCE_DIR;
}

/// Identifies this build of the tool for the cache: the version alone would
/// keep stale results across rebuilds with changed checks.
std::string toolIdentity(const char *Argv0) {
  std::string Exe =
      fs::getMainExecutable(Argv0, reinterpret_cast<void *>(&findResourceDir));
  std::string Id = CONCGUARD_AUDIT_VERSION;
  if (auto Buf = llvm::MemoryBuffer::getFile(Exe, /*IsText=*/false,
                                             /*RequiresNullTerminator=*/false))
    Id += "-" + llvm::utohexstr(llvm::xxh3_64bits((*Buf)->getBuffer()));
  return Id;
}

/// A compilation database of the one command chosen for a unit: each
/// worker gets its own, so no database is shared between threads.
class SingleCommandDatabase : public clang::tooling::CompilationDatabase {
public:
  explicit SingleCommandDatabase(clang::tooling::CompileCommand Cmd)
      : Cmd(std::move(Cmd)) {}
  std::vector<clang::tooling::CompileCommand>
  getCompileCommands(StringRef) const override {
    return {Cmd};
  }
  std::vector<std::string> getAllFiles() const override {
    return {Cmd.Filename};
  }

private:
  clang::tooling::CompileCommand Cmd;
};

struct Unit {
  std::string AbsPath;
  std::string RelPath;
  clang::tooling::CompileCommand Cmd;
};

/// Path as reported: relative to the root with '/' when under it.
std::string reportPath(StringRef Abs, StringRef RootDir) {
  StringRef P = Abs;
  if (P.consume_front(RootDir) && (P.empty() || path::is_separator(P[0])))
    return path::convert_to_slash(P.ltrim("/\\"));
  return path::convert_to_slash(Abs);
}

std::string absolutePath(StringRef P, StringRef Base) {
  llvm::SmallString<256> Out(P);
  if (!path::is_absolute(Out)) {
    Out = Base;
    path::append(Out, P);
  }
  path::remove_dots(Out, /*remove_dot_dot=*/true);
  return std::string(Out);
}

/// Source files read once per unit, for line/column, excerpts and fix
/// previews.
class SourceFiles {
public:
  struct File {
    std::string Text;
    std::vector<unsigned> LineStarts;
  };

  const File *get(StringRef Path) {
    auto It = Files.find(Path);
    if (It != Files.end())
      return It->second ? &*It->second : nullptr;
    std::optional<File> &Slot = Files[Path.str()];
    auto Buf = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
    if (!Buf)
      return nullptr;
    Slot.emplace();
    Slot->Text = (*Buf)->getBuffer().str();
    Slot->LineStarts.push_back(0);
    for (unsigned I = 0; I < Slot->Text.size(); ++I)
      if (Slot->Text[I] == '\n')
        Slot->LineStarts.push_back(I + 1);
    return &*Slot;
  }

  static std::pair<unsigned, unsigned> lineCol(const File &F, unsigned Offset) {
    auto It = llvm::upper_bound(F.LineStarts, Offset);
    unsigned Line = It - F.LineStarts.begin();
    return {Line, Offset - F.LineStarts[Line - 1] + 1};
  }

  static StringRef line(const File &F, unsigned Line) {
    if (Line == 0 || Line > F.LineStarts.size())
      return "";
    unsigned Begin = F.LineStarts[Line - 1];
    unsigned End =
        Line < F.LineStarts.size() ? F.LineStarts[Line] - 1 : F.Text.size();
    return StringRef(F.Text).slice(Begin, End).rtrim("\r");
  }

  static unsigned lineCount(const File &F) {
    unsigned N = F.LineStarts.size();
    // A final newline does not start another line.
    if (N > 1 && F.LineStarts.back() == F.Text.size())
      --N;
    return N;
  }

private:
  std::map<std::string, std::optional<File>, std::less<>> Files;
};

/// Lines From..To (1-based, inclusive, clamped to the file).
Excerpt excerptLines(const SourceFiles::File &F, unsigned From, unsigned To) {
  Excerpt E;
  To = std::min(To, SourceFiles::lineCount(F));
  if (From == 0 || From > To)
    return E;
  E.StartLine = From;
  for (unsigned L = From; L <= To; ++L)
    E.Lines.push_back(SourceFiles::line(F, L).str());
  return E;
}

Excerpt excerptAround(const SourceFiles::File &F, unsigned Line,
                      unsigned Context = 2) {
  if (Line == 0)
    return {};
  return excerptLines(F, Line > Context ? Line - Context : 1, Line + Context);
}

/// The lines the fix-its in the finding's own file touch, after applying
/// them: what the HTML report previews.
void previewFix(Finding &Out, const SourceFiles::File &F,
                std::vector<Edit> Edits) {
  llvm::sort(Edits,
             [](const Edit &A, const Edit &B) { return A.Offset < B.Offset; });
  std::string Fixed;
  unsigned Pos = 0;
  for (const Edit &E : Edits) {
    if (E.Offset < Pos || E.Offset + E.Length > F.Text.size())
      return; // overlapping or stale edits: no preview rather than a wrong one
    Fixed += StringRef(F.Text).slice(Pos, E.Offset);
    Fixed += E.Text;
    Pos = E.Offset + E.Length;
  }
  Fixed += StringRef(F.Text).substr(Pos);
  unsigned FromLine = SourceFiles::lineCol(F, Edits.front().Offset).first;
  unsigned ToLine =
      SourceFiles::lineCol(F, Edits.back().Offset + Edits.back().Length).first;
  unsigned Begin = F.LineStarts[FromLine - 1];
  unsigned End =
      ToLine < F.LineStarts.size() ? F.LineStarts[ToLine] : F.Text.size();
  unsigned Tail = F.Text.size() - End; // unchanged after the last edit
  StringRef Region = StringRef(Fixed).slice(Begin, Fixed.size() - Tail);
  Region.consume_back("\n");
  llvm::SmallVector<StringRef, 8> Lines;
  Region.split(Lines, '\n');
  Out.FixedSource.StartLine = FromLine;
  for (StringRef L : Lines)
    Out.FixedSource.Lines.push_back(L.rtrim("\r").str());
  Out.FixedFromLine = FromLine;
  Out.FixedToLine = ToLine;
}

/// What one translation unit produced.
struct UnitOutcome {
  std::vector<Finding> Findings;
  std::vector<Finding> Suppressed; // by NOLINT comments
  std::vector<ToolError> Errors;
  /// The unit's facts for the whole-program phase (none when it failed).
  std::optional<clang::tidy::concguard::utils::UnitFacts> Facts;
  bool Cached = false;
  bool BoostCompat = false; // parsed with the Boost compatibility headers
  /// Parsed with -fdelayed-template-parsing (analyse()).
  bool DelayedTemplateParsing = false;
};

class Converter {
public:
  Converter(StringRef RootDir) : RootDir(RootDir) {}

  SourceLocation location(const clang::tooling::DiagnosticMessage &M,
                          StringRef BuildDir, std::string *AbsOut = nullptr) {
    SourceLocation L;
    if (M.FilePath.empty())
      return L;
    std::string Abs = absolutePath(M.FilePath, BuildDir);
    L.Path = reportPath(Abs, RootDir);
    if (const SourceFiles::File *F = Files.get(Abs))
      if (M.FileOffset <= F->Text.size()) {
        std::tie(L.Line, L.Column) = SourceFiles::lineCol(*F, M.FileOffset);
        // The region reaches the end of the token at the location, or
        // further, the end of a range the diagnostic highlights around it.
        unsigned End = M.FileOffset + tokenLengthAt(F->Text, M.FileOffset);
        for (const clang::tooling::FileByteRange &R : M.Ranges)
          if (R.FileOffset <= M.FileOffset &&
              M.FileOffset < R.FileOffset + R.Length &&
              absolutePath(R.FilePath, BuildDir) == Abs)
            End = std::max(End, R.FileOffset + R.Length);
        setRegionEnd(L, *F, M.FileOffset, End);
      }
    if (AbsOut)
      *AbsOut = Abs;
    return L;
  }

  Finding finding(const clang::tidy::ClangTidyError &E) {
    Finding F;
    F.Check = E.DiagnosticName;
    switch (E.DiagLevel) {
    case clang::tooling::Diagnostic::Error:
      F.Severity = "error";
      break;
    case clang::tooling::Diagnostic::Remark:
      F.Severity = "note";
      break;
    default:
      F.Severity = E.IsWarningAsError ? "error" : "warning";
      break;
    }
    F.Message = E.Message.Message;
    std::string Abs;
    F.Loc = location(E.Message, E.BuildDirectory, &Abs);
    const SourceFiles::File *Main = Abs.empty() ? nullptr : Files.get(Abs);
    if (Main)
      F.Source = excerptAround(*Main, F.Loc.Line);
    for (const clang::tooling::DiagnosticMessage &N : E.Notes) {
      std::string NoteAbs;
      Note Out{N.Message, location(N, E.BuildDirectory, &NoteAbs), ""};
      if (const SourceFiles::File *NF =
              NoteAbs.empty() ? nullptr : Files.get(NoteAbs))
        Out.Code = SourceFiles::line(*NF, Out.Loc.Line).str();
      F.Notes.push_back(std::move(Out));
    }
    std::vector<Edit> SameFile;
    for (const auto &FileAndReps : E.Message.Fix)
      for (const clang::tooling::Replacement &Rep : FileAndReps.second) {
        Edit Ed;
        std::string RepAbs = absolutePath(Rep.getFilePath(), E.BuildDirectory);
        Ed.Path = reportPath(RepAbs, RootDir);
        Ed.Offset = Rep.getOffset();
        Ed.Length = Rep.getLength();
        Ed.Text = Rep.getReplacementText().str();
        if (const SourceFiles::File *RF = Files.get(RepAbs)) {
          std::tie(Ed.StartLine, Ed.StartColumn) =
              SourceFiles::lineCol(*RF, Ed.Offset);
          std::tie(Ed.EndLine, Ed.EndColumn) =
              SourceFiles::lineCol(*RF, Ed.Offset + Ed.Length);
        }
        if (RepAbs == Abs)
          SameFile.push_back(Ed);
        F.Fixes.push_back(std::move(Ed));
      }
    if (Main && !SameFile.empty()) {
      previewFix(F, *Main, std::move(SameFile));
      // The excerpt also covers the lines the fix replaces, so that the
      // preview can show them beside their replacement.
      if (!F.FixedSource.empty() && !F.Source.empty()) {
        unsigned From = std::min(F.Source.StartLine, F.FixedFromLine);
        unsigned To = std::max<unsigned>(
            F.Source.StartLine + F.Source.Lines.size() - 1, F.FixedToLine);
        F.Source = excerptLines(*Main, From, To);
      }
    }
    return F;
  }

  /// A finding of the whole-program phase, with the same source excerpt
  /// as a per-unit one.
  Finding finding(const clang::tidy::concguard::utils::ProgramFinding &P) {
    Finding F;
    F.Check = P.Check;
    F.Severity = "warning";
    F.Message = P.Message;
    F.Loc = location(P.Loc);
    if (const SourceFiles::File *Main = Files.get(P.Loc.File))
      F.Source = excerptAround(*Main, F.Loc.Line);
    for (const clang::tidy::concguard::utils::ProgramNote &N : P.Notes) {
      Note Out{N.Message, location(N.Loc), ""};
      if (const SourceFiles::File *NF = Files.get(N.Loc.File))
        Out.Code = SourceFiles::line(*NF, Out.Loc.Line).str();
      F.Notes.push_back(std::move(Out));
    }
    return F;
  }

private:
  std::string RootDir;
  SourceFiles Files;

  SourceLocation
  location(const clang::tidy::concguard::utils::FactLocation &L) {
    SourceLocation Out;
    Out.Path = reportPath(L.File, RootDir);
    Out.Line = L.Line;
    Out.Column = L.Column;
    // The facts keep no ranges: the region is the token at the location.
    const SourceFiles::File *F = Files.get(L.File);
    if (F && L.Line && L.Column && L.Line <= F->LineStarts.size()) {
      unsigned Offset = F->LineStarts[L.Line - 1] + L.Column - 1;
      setRegionEnd(Out, *F, Offset, Offset + tokenLengthAt(F->Text, Offset));
    }
    return Out;
  }

  static void setRegionEnd(SourceLocation &L, const SourceFiles::File &F,
                           unsigned Begin, unsigned End) {
    End = std::min<unsigned>(End, F.Text.size());
    if (End > Begin)
      std::tie(L.EndLine, L.EndColumn) = SourceFiles::lineCol(F, End);
  }
};

/// Hashes every file the preprocessor reads (path and content): the
/// preprocessed input of the unit, for the cache key.
class InputHashAction : public clang::PreprocessOnlyAction {
public:
  explicit InputHashAction(std::string &Out) : Out(Out) {}

  void EndSourceFileAction() override {
    clang::SourceManager &SM = getCompilerInstance().getSourceManager();
    std::vector<std::pair<std::string, std::string>> Inputs;
    for (auto It = SM.fileinfo_begin(), E = SM.fileinfo_end(); It != E; ++It) {
      std::optional<llvm::MemoryBufferRef> Buf =
          It->second->getBufferIfLoaded();
      if (!Buf)
        continue;
      llvm::SHA256 H;
      H.update(Buf->getBuffer());
      Inputs.emplace_back(It->second->OrigEntry
                              ? It->second->OrigEntry->getName().str()
                              : std::string(),
                          llvm::toHex(H.final()));
    }
    llvm::sort(Inputs);
    llvm::SHA256 H;
    for (auto &[Name, Digest] : Inputs) {
      H.update(Name);
      H.update(StringRef("\0", 1));
      H.update(Digest);
    }
    Out = llvm::toHex(H.final(), true);
  }

private:
  std::string &Out;
};

class InputHashFactory : public clang::tooling::FrontendActionFactory {
public:
  explicit InputHashFactory(std::string &Out) : Out(Out) {}
  std::unique_ptr<clang::FrontendAction> create() override {
    return std::make_unique<InputHashAction>(Out);
  }

private:
  std::string &Out;
};

class Auditor {
public:
  Auditor(clang::tidy::ClangTidyOptions Options, std::string RootDir,
          std::string CacheKeyBase)
      : Options(std::move(Options)), RootDir(std::move(RootDir)),
        CacheKeyBase(std::move(CacheKeyBase)) {}

  /// Analyses \p U, or takes it from the cache. \p Round tells the
  /// analyses apart that see the same inputs with different knowledge (the
  /// second round's thread pools of other units), for the cache key.
  UnitOutcome run(const Unit &U, StringRef Round = "") {
    UnitOutcome Out;
    if (!fs::is_directory(U.Cmd.Directory)) {
      Out.Errors.push_back({U.RelPath, "compile directory '" + U.Cmd.Directory +
                                           "' does not exist"});
      return Out;
    }
    if (!fs::exists(U.AbsPath)) {
      Out.Errors.push_back({U.RelPath, "the source file does not exist"});
      return Out;
    }
    std::string Key;
    if (!CacheDir.empty()) {
      Key = cacheKey(U);
      if (!Key.empty() && !Round.empty())
        Key = llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(
                              (Key + "\n" + Round).str())),
                          true);
      if (!Key.empty() && loadCached(Key, Out)) {
        Out.Cached = true;
        return Out;
      }
    }
    analyse(U, Out);
    if (!Key.empty() && Out.Errors.empty())
      storeCached(Key, Out);
    return Out;
  }

  std::string CacheDir;
  bool RestrictToRoot = false;
  /// Extract each unit's facts for the whole-program phase or the index.
  bool CollectFacts = true;

private:
  clang::tidy::ClangTidyOptions Options;
  std::string RootDir;
  std::string CacheKeyBase;

  static llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> newFS() {
    // Not the shared real file system: ClangTool sets the working directory
    // of the file system per command, which must not change the process's
    // (and so the other workers') directory.
    return llvm::makeIntrusiveRefCnt<llvm::vfs::OverlayFileSystem>(
        llvm::vfs::createPhysicalFileSystem());
  }

  void analyse(const Unit &U, UnitOutcome &Out) {
    bool OnlyForeignErrors = false;
    analyseWith(U, U.Cmd, Out, OnlyForeignErrors);
    if (Out.Errors.empty() || !OnlyForeignErrors)
      return;
    // Clang 20 and later check more of a class template's member bodies
    // where the template is defined (members of the current instantiation
    // are looked up there), and reject library code that older compilers
    // and GCC accept because nothing instantiates it: Debian 12's
    // rapidjson 1.1.0 assigns to const members in GenericStringRef's
    // operator=. Parsing template bodies only when they are instantiated
    // (-fdelayed-template-parsing) accepts it. Tried only for a unit whose
    // errors are all in headers outside the project (the flag could hide an
    // error in the project's own templates), and kept only when the unit
    // then compiles; otherwise the first errors stand.
    clang::tooling::CompileCommand Delayed = U.Cmd;
    if (Delayed.CommandLine.empty())
      return;
    Delayed.CommandLine.insert(std::next(Delayed.CommandLine.begin()),
                               "-fdelayed-template-parsing");
    UnitOutcome Retry;
    analyseWith(U, Delayed, Retry, OnlyForeignErrors);
    if (!Retry.Errors.empty())
      return;
    Retry.DelayedTemplateParsing = true;
    Out = std::move(Retry);
  }

  /// One parse of \p U with the command \p Cmd. \p OnlyForeignErrors
  /// tells whether it has errors and all of them are in headers outside
  /// the root (code the user cannot change).
  void analyseWith(const Unit &U, const clang::tooling::CompileCommand &Cmd,
                   UnitOutcome &Out, bool &OnlyForeignErrors) {
    OnlyForeignErrors = true;
    clang::tidy::ClangTidyContext Context(
        std::make_unique<clang::tidy::DefaultOptionsProvider>(
            clang::tidy::ClangTidyGlobalOptions(), Options)
#if CONCGUARD_LLVM_VERSION_MAJOR >= 22
            ,
        /*AllowEnablingAnalyzerAlphaCheckers=*/false,
        /*EnableModuleHeadersParsing=*/false,
        /*ExperimentalCustomChecks=*/false
#endif
    );
    SingleCommandDatabase DB(Cmd);
    // concguard-unsynchronized-container hands the unit's facts to the
    // collector of this thread, from the same parse as the findings.
    struct Collector : clang::tidy::concguard::utils::FactsCollector {
      std::optional<clang::tidy::concguard::utils::UnitFacts> Facts;
      void add(clang::tidy::concguard::utils::UnitFacts F) override {
        Facts = std::move(F);
      }
    } Facts;
    if (CollectFacts)
      clang::tidy::concguard::utils::setFactsCollector(&Facts);
    // The audit runs the whole-program phase itself: an index left on disk
    // (by an earlier --index) must not change a unit's results.
    clang::tidy::concguard::utils::setProjectIndexDisabled(true);
    auto Uninstall = llvm::make_scope_exit([] {
      clang::tidy::concguard::utils::setFactsCollector(nullptr);
      clang::tidy::concguard::utils::setProjectIndexDisabled(false);
    });
    // The physical file system as newFS() gives it, through a tracker that
    // sees whether the Boost compatibility headers were used.
    auto Tracker = llvm::makeIntrusiveRefCnt<concguard::BoostCompatTracker>(
        llvm::vfs::createPhysicalFileSystem());
    // runClangTidy, keeping what NOLINT comments suppress (TidyRunner.h).
    TidyResult Tidy = runTidy(
        Context, DB, U.AbsPath,
        llvm::makeIntrusiveRefCnt<llvm::vfs::OverlayFileSystem>(Tracker));
    Out.BoostCompat = Tracker->used();
    Converter Conv(RootDir);
    // Without --header-filter: the unit itself and the headers under the
    // root, decided here on the absolute path, since the header filter
    // sees include paths as written (often relative).
    auto OutsideRoot = [&](const Finding &F) {
      return RestrictToRoot && !F.Loc.Path.empty() &&
             path::is_absolute(F.Loc.Path) &&
             F.Loc.Path != path::convert_to_slash(U.AbsPath);
    };
    for (const clang::tidy::ClangTidyError &E : Tidy.Suppressed) {
      Finding F = Conv.finding(E);
      if (!OutsideRoot(F))
        Out.Suppressed.push_back(std::move(F));
    }
    for (const clang::tidy::ClangTidyError &E : Tidy.Reported) {
      if (StringRef(E.DiagnosticName).starts_with("clang-diagnostic-") &&
          E.DiagLevel == clang::tooling::Diagnostic::Error) {
        // The unit did not compile: its analysis cannot be trusted.
        std::string Abs;
        SourceLocation L = Conv.location(E.Message, E.BuildDirectory, &Abs);
        if (Abs.empty() || Abs == U.AbsPath || !path::is_absolute(L.Path))
          OnlyForeignErrors = false;
        std::string Where =
            L.Path.empty()
                ? std::string()
                : llvm::formatv("{0}:{1}:{2}: ", L.Path, L.Line, L.Column)
                      .str();
        Out.Errors.push_back({U.RelPath, Where + "error: " + E.Message.Message +
                                             " (the unit does not compile)"});
        continue;
      }
      Finding F = Conv.finding(E);
      if (OutsideRoot(F))
        continue;
      Out.Findings.push_back(std::move(F));
    }
    if (Out.Errors.empty()) {
      OnlyForeignErrors = false;
      Out.Facts = std::move(Facts.Facts);
    }
  }

  std::string cacheKey(const Unit &U) {
    std::string InputHash;
    SingleCommandDatabase DB(U.Cmd);
    clang::tooling::ClangTool Tool(
        DB, {U.AbsPath}, std::make_shared<clang::PCHContainerOperations>(),
        newFS());
    if (Options.ExtraArgsBefore)
      Tool.appendArgumentsAdjuster(clang::tooling::getInsertArgumentAdjuster(
          *Options.ExtraArgsBefore,
          clang::tooling::ArgumentInsertPosition::BEGIN));
    clang::IgnoringDiagConsumer Quiet;
    Tool.setDiagnosticConsumer(&Quiet);
    Tool.setPrintErrorMessage(false);
    InputHashFactory Factory(InputHash);
    if (Tool.run(&Factory) != 0 || InputHash.empty())
      return ""; // does not preprocess: analyse (and report) it, cache nothing
    llvm::SHA256 H;
    H.update(CacheKeyBase);
    H.update(StringRef("\0", 1));
    H.update(U.Cmd.Directory);
    H.update(StringRef("\0", 1));
    H.update(U.Cmd.Filename);
    for (const std::string &Arg : U.Cmd.CommandLine) {
      H.update(StringRef("\0", 1));
      H.update(Arg);
    }
    H.update(StringRef("\0", 1));
    H.update(InputHash);
    return llvm::toHex(H.final(), true);
  }

  std::string cachePath(StringRef Key) const {
    llvm::SmallString<256> P(CacheDir);
    path::append(P, Key.take_front(2), Key.str() + ".json");
    return std::string(P);
  }

  bool loadCached(StringRef Key, UnitOutcome &Out) {
    auto Buf = llvm::MemoryBuffer::getFile(cachePath(Key));
    if (!Buf)
      return false;
    auto V = llvm::json::parse((*Buf)->getBuffer());
    if (!V) {
      llvm::consumeError(V.takeError());
      return false;
    }
    const llvm::json::Object *O = V->getAsObject();
    const llvm::json::Array *A = O ? O->getArray("findings") : nullptr;
    const llvm::json::Array *S = O ? O->getArray("suppressed") : nullptr;
    if (!A || !S)
      return false;
    std::vector<Finding> Findings, Suppressed;
    for (auto [From, To] : {std::pair(A, &Findings), std::pair(S, &Suppressed)})
      for (const llvm::json::Value &FV : *From) {
        auto F = findingFromJSON(FV);
        if (!F) {
          llvm::consumeError(F.takeError());
          return false; // a damaged entry is a miss, never a wrong result
        }
        To->push_back(std::move(*F));
      }
    // The facts are part of the entry: without them the whole-program
    // phase would be missing this unit.
    std::optional<clang::tidy::concguard::utils::UnitFacts> Facts;
    if (const llvm::json::Value *FV = O->get("facts")) {
      if (FV->kind() != llvm::json::Value::Null) {
        auto Parsed = clang::tidy::concguard::utils::unitFactsFromJSON(*FV);
        if (!Parsed) {
          llvm::consumeError(Parsed.takeError());
          return false;
        }
        Facts = std::move(*Parsed);
      }
    } else {
      return false;
    }
    Out.Findings = std::move(Findings);
    Out.Suppressed = std::move(Suppressed);
    Out.Facts = std::move(Facts);
    Out.BoostCompat = O->getBoolean("boostCompat").value_or(false);
    Out.DelayedTemplateParsing =
        O->getBoolean("delayedTemplateParsing").value_or(false);
    return true;
  }

  void storeCached(StringRef Key, const UnitOutcome &Out) {
    std::string P = cachePath(Key);
    if (fs::create_directories(path::parent_path(P)))
      return;
    llvm::json::Array A, S;
    for (const Finding &F : Out.Findings)
      A.push_back(findingToJSON(F));
    for (const Finding &F : Out.Suppressed)
      S.push_back(findingToJSON(F));
    llvm::json::Value V = llvm::json::Object{
        {"findings", std::move(A)},
        {"suppressed", std::move(S)},
        {"boostCompat", Out.BoostCompat},
        {"delayedTemplateParsing", Out.DelayedTemplateParsing},
        {"facts", Out.Facts ? clang::tidy::concguard::utils::toJSON(*Out.Facts)
                            : llvm::json::Value(nullptr)}};
    // writeToOutput renames a temporary file into place, so a concurrent
    // reader never sees half an entry.
    llvm::consumeError(llvm::writeToOutput(P, [&](llvm::raw_ostream &OS) {
      OS << V;
      return llvm::Error::success();
    }));
  }
};

/// Progress on stderr: a bar that redraws itself on a terminal, one line per
/// finished unit otherwise (CI logs).
class ProgressReporter {
public:
  ProgressReporter(ProgressMode Mode, unsigned Total)
      : Mode(Mode), Total(Total), Start(std::chrono::steady_clock::now()) {
    if (Mode == ProgressMode::Auto)
      this->Mode = llvm::sys::Process::StandardErrIsDisplayed()
                       ? ProgressMode::Bar
                       : ProgressMode::Plain;
  }

  void started(StringRef Path) {
    std::lock_guard<std::mutex> Lock(M);
    Current = Path.str();
    if (Mode == ProgressMode::Bar)
      drawBar();
  }

  void finished(StringRef Path, const UnitOutcome &O, double Seconds) {
    std::lock_guard<std::mutex> Lock(M);
    ++Done;
    if (Mode == ProgressMode::Plain) {
      llvm::errs() << llvm::formatv("[{0}/{1}] {2}: ", Done, Total, Path);
      if (!O.Errors.empty())
        llvm::errs() << "FAILED (tool error)";
      else
        llvm::errs() << O.Findings.size() << " findings";
      llvm::errs() << (O.Cached ? " (cached)" : "")
                   << llvm::formatv(" {0:f1}s\n", Seconds);
    } else if (Mode == ProgressMode::Bar) {
      if (!O.Errors.empty()) {
        llvm::errs() << "\r\x1b[K";
        llvm::errs() << "concguard-audit: " << Path << " does not compile\n";
      }
      drawBar();
    }
  }

  void end() {
    std::lock_guard<std::mutex> Lock(M);
    if (Mode == ProgressMode::Bar)
      llvm::errs() << "\r\x1b[K";
  }

  /// A line between the bars or unit lines, unless progress is off.
  void say(const llvm::Twine &Line) {
    std::lock_guard<std::mutex> Lock(M);
    if (Mode == ProgressMode::Plain || Mode == ProgressMode::Bar)
      llvm::errs() << "concguard-audit: " << Line << "\n";
  }

  /// Starts counting again for a second round of \p Units units.
  void restart(unsigned Units) {
    std::lock_guard<std::mutex> Lock(M);
    Total = Units;
    Done = 0;
    Start = std::chrono::steady_clock::now();
  }

private:
  void drawBar() {
    constexpr unsigned Width = 24;
    unsigned Filled = Total ? Width * Done / Total : Width;
    double Elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
            .count();
    std::string Eta = "--";
    if (Done)
      Eta = llvm::formatv(
                "{0}s", static_cast<unsigned>(Elapsed / Done * (Total - Done)))
                .str();
    std::string Line =
        llvm::formatv("[{0}{1}] {2}/{3} ETA {4} {5}", std::string(Filled, '#'),
                      std::string(Width - Filled, '.'), Done, Total, Eta,
                      Current)
            .str();
    unsigned Cols = llvm::sys::Process::StandardErrColumns();
    if (Cols > 1 && Line.size() >= Cols)
      Line.resize(Cols - 1);
    llvm::errs() << "\r\x1b[K" << Line;
    llvm::errs().flush();
  }

  ProgressMode Mode;
  unsigned Total;
  unsigned Done = 0;
  std::string Current;
  std::chrono::steady_clock::time_point Start;
  std::mutex M;
};

/// The second round: a unit that calls the submit method of a thread pool,
/// or a spawn wrapper, defined in another unit starts threads that its own
/// parse could not recognise (the pool's queue and workers, the wrapper's
/// thread start are not in it); one that calls a function of another unit
/// that takes or releases its caller's lock (`lockQueue()`) holds locks its
/// parse could not see. Once the first round's facts show them, such units
/// are analysed again knowing them (utils::setKnownSpawnFunctions,
/// utils::setKnownLockEffects), and their findings and facts replace the
/// first round's. One round: a function whose effect comes from a callee
/// in a third unit is not known to its own callers.
void analyseCrossUnitCallers(Auditor &A, const std::vector<Unit> &Units,
                             std::vector<UnitOutcome> &Outcomes,
                             ProgressReporter &Progress, unsigned Jobs) {
  namespace cg = clang::tidy::concguard::utils;
  std::vector<cg::UnitFacts> First;
  for (const UnitOutcome &O : Outcomes)
    if (O.Facts)
      First.push_back(*O.Facts);
  std::vector<cg::SpawnFunction> Spawners = cg::spawnFunctionsOf(First);
  auto LockEffects =
      std::make_shared<const cg::LockEffectsByUSR>(cg::lockEffectsOf(First));
  if (Spawners.empty() && LockEffects->empty())
    return;
  // The cache key of the second round's entries: what the callers learn,
  // and the content of the files that define it (a barrier or a worker
  // start there may change without changing the rest).
  llvm::StringMap<uint64_t> FileHashes;
  for (const cg::UnitFacts &Unit : First)
    for (const cg::FactInput &Input : Unit.Inputs)
      FileHashes[Input.File] = Input.Hash;
  llvm::StringSet<> Learned;
  std::string Round = "functions of other units";
  for (const cg::SpawnFunction &S : Spawners) {
    Learned.insert(S.Indexed->USR);
    Round += llvm::formatv("\n{0}:{1}:{2}:{3}:{4}:{5}", S.Indexed->USR,
                           S.CallableIndex, S.Indexed->Pool,
                           S.Indexed->SingleWorker, S.Indexed->DefinedIn,
                           FileHashes.lookup(S.Indexed->DefinedIn))
                 .str();
  }
  // In a fixed order: the key must not depend on the map's.
  std::vector<llvm::StringRef> EffectUSRs;
  for (const auto &Entry : *LockEffects)
    EffectUSRs.push_back(Entry.getKey());
  llvm::sort(EffectUSRs);
  for (llvm::StringRef USR : EffectUSRs) {
    const cg::IndexedLockEffects &E = LockEffects->find(USR)->second;
    Learned.insert(USR);
    Round += llvm::formatv("\nlocks {0}:{1}:{2}", USR, E.DefinedIn,
                           FileHashes.lookup(E.DefinedIn))
                 .str();
    // What the effect is: it may change with a header of the defining unit.
    for (const cg::FactLock &Lock : E.Effects.Acquires)
      Round += llvm::formatv(" +{0}:{1}:{2}", cg::formatKey(Lock.Key),
                             Lock.Shared, Lock.Conditional)
                   .str();
    for (const cg::FactKey &Key : E.Effects.Releases)
      Round += " -" + cg::formatKey(Key);
  }
  std::vector<size_t> Again;
  for (size_t I = 0; I < Outcomes.size(); ++I) {
    const std::optional<cg::UnitFacts> &Facts = Outcomes[I].Facts;
    if (!Facts)
      continue;
    llvm::StringSet<> Defined;
    for (const cg::FunctionFacts &F : Facts->Functions)
      Defined.insert(F.USR);
    bool CallsOtherUnits =
        llvm::any_of(Facts->Functions, [&](const cg::FunctionFacts &F) {
          return llvm::any_of(F.Calls, [&](const cg::FactCall &C) {
            return Learned.contains(C.Callee) && !Defined.contains(C.Callee);
          });
        });
    if (CallsOtherUnits)
      Again.push_back(I);
  }
  if (Again.empty())
    return;
  Progress.say(llvm::formatv("{0} translation units call thread pools, spawn "
                             "wrappers or lock helpers of other units; "
                             "analysing them again",
                             Again.size()));
  Progress.restart(Again.size());
  {
    llvm::DefaultThreadPool Workers(llvm::hardware_concurrency(Jobs));
    for (size_t I : Again)
      Workers.async([&, I] {
        auto Start = std::chrono::steady_clock::now();
        Progress.started(Units[I].RelPath);
        cg::setKnownSpawnFunctions(&Spawners);
        cg::setKnownLockEffects(LockEffects);
        UnitOutcome O = A.run(Units[I], Round);
        cg::setKnownSpawnFunctions(nullptr);
        cg::setKnownLockEffects(nullptr);
        Progress.finished(Units[I].RelPath, O,
                          std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - Start)
                              .count());
        // A unit that fails now (it did not before) keeps its first result.
        if (O.Errors.empty())
          Outcomes[I] = std::move(O);
      });
    Workers.wait();
  }
  Progress.end();
}

/// Parses --checks: every positive name or glob must name a known check,
/// since a typo would silently audit nothing.
llvm::Error validateChecks(StringRef Globs) {
#if CONCGUARD_LLVM_VERSION_MAJOR >= 22
  auto All = clang::tidy::getAllChecksAndOptions(false, false);
  const llvm::StringSet<> &Known = All.Checks;
#else
  auto All = clang::tidy::getAllChecksAndOptions(false);
  const llvm::StringSet<> &Known = All.Names;
#endif
  llvm::SmallVector<StringRef, 8> Parts;
  Globs.split(Parts, ',', -1, /*KeepEmpty=*/false);
  for (StringRef Part : Parts) {
    Part = Part.trim();
    if (Part.empty() || Part.starts_with("-"))
      continue;
    if (Part.starts_with("clang-diagnostic-"))
      continue; // compiler warnings are not in the registry
    clang::tidy::GlobList G(Part);
    bool Any = llvm::any_of(
        Known, [&](const auto &Entry) { return G.contains(Entry.getKey()); });
    if (!Any)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "unknown check '" + Part +
                                         "' in --checks (see concguard-tidy "
                                         "--list-checks --checks='*')");
  }
  return llvm::Error::success();
}

/// Every report path, checked before anything is analysed or written.
llvm::Error checkOutputs() {
  for (auto [Option, Path] :
       {std::pair<StringRef, StringRef>("--json", JsonOut),
        {"--sarif", SarifOut},
        {"--markdown", MarkdownOut}})
    if (!Path.empty())
      if (llvm::Error E = concguard::checkOutputFile(Option, Path))
        return E;
  if (!HtmlOut.empty())
    return concguard::checkOutputDir("--html", HtmlOut);
  return llvm::Error::success();
}

/// Wall time of the whole-program phase (writing --index included), for
/// --print-stats: the phase runs once, on one thread, after every unit.
double WholeProgramSeconds = 0;

/// The process's peak resident set in MiB (0 where unknown), for
/// --print-stats.
uint64_t peakResidentMiB() {
#if LLVM_ON_UNIX
  struct rusage Usage;
  if (getrusage(RUSAGE_SELF, &Usage) == 0)
    return static_cast<uint64_t>(Usage.ru_maxrss) / 1024; // KiB on Linux
#endif
  return 0;
}

int finish(Report &R, double Seconds, unsigned Analysed, unsigned Cached) {
  if (!Baseline.empty())
    if (llvm::Error E = applyBaseline(R, Baseline))
      return fail(llvm::toString(std::move(E)));
  if (llvm::Error E = writeOutputs(R, JsonOut, SarifOut, HtmlOut, MarkdownOut))
    return fail(llvm::toString(std::move(E)));
  unsigned New = llvm::count_if(
      R.Findings, [](const Finding &F) { return F.BaselineState == "new"; });
  llvm::outs() << "concguard-audit: " << R.Findings.size() << " findings in "
               << R.Units.size() << " translation units";
  if (R.HasBaseline)
    llvm::outs() << " (" << New << " new, " << (R.Findings.size() - New)
                 << " unchanged, " << R.Fixed.size() << " fixed)";
  llvm::outs() << "\n";
  if (!R.Suppressed.empty())
    llvm::outs() << "concguard-audit: " << R.Suppressed.size()
                 << " more findings suppressed in the source (NOLINT), "
                    "reported as suppressed in SARIF\n";
  if (unsigned Compat = boostCompatUnits(R))
    llvm::outs() << "concguard-audit: " << Compat
                 << " translation units parsed with concguard's Boost "
                    "compatibility headers (see docs/audit.md)\n";
  if (unsigned Delayed = delayedTemplateParsingUnits(R))
    llvm::outs() << "concguard-audit: " << Delayed
                 << " translation units parsed with "
                    "-fdelayed-template-parsing, since a library header "
                    "they include does not compile with clang "
                 << CLANG_VERSION_MAJOR << " otherwise (see docs/audit.md)\n";
  if (Stats) {
    unsigned Failed =
        llvm::count_if(R.Units, [](const UnitResult &U) { return !U.Ok; });
    llvm::errs() << llvm::formatv(
        "concguard-audit: stats: units={0} analysed={1} cached={2} "
        "failed={3} findings={4} boost-compat={5} delayed-template-parsing="
        "{6} suppressed={7} seconds={8:f2} whole-program-seconds={9:f2} "
        "peak-rss-mib={10}\n",
        R.Units.size(), Analysed, Cached, Failed, R.Findings.size(),
        boostCompatUnits(R), delayedTemplateParsingUnits(R),
        R.Suppressed.size(), Seconds, WholeProgramSeconds, peakResidentMiB());
  }
  if (!R.complete()) {
    for (const ToolError &E : R.Errors)
      llvm::WithColor::error(llvm::errs(), "concguard-audit")
          << E.Path << ": " << E.Message << "\n";
    return fail("the report is incomplete: " + llvm::Twine(R.Errors.size()) +
                    " tool errors (see toolErrors in the report)",
                ExitIncomplete);
  }
  bool Gate = false;
  if (FailOnOpt == FailOn::Any)
    Gate = !R.Findings.empty();
  else if (FailOnOpt == FailOn::New)
    Gate = R.HasBaseline ? New > 0 : !R.Findings.empty();
  return Gate ? ExitGate : ExitOk;
}

/// The whole-program phase over the facts of all units: adds the findings
/// whose evidence spans units (each one-unit finding is the per-unit
/// check's) for the enabled checks, and writes --index.
llvm::Error
runWholeProgram(Report &R,
                std::vector<clang::tidy::concguard::utils::UnitFacts> Facts,
                StringRef RootDir,
                const clang::tidy::ClangTidyOptions::OptionMap &CheckOptions) {
  namespace utils = clang::tidy::concguard::utils;
  auto Start = std::chrono::steady_clock::now();
  auto Stop = llvm::make_scope_exit([&] {
    WholeProgramSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - Start)
            .count();
  });
  if (!IndexOut.empty())
    if (llvm::Error E = utils::writeProjectIndex(IndexOut, Facts))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "cannot write --index '" + IndexOut +
                                         "': " + llvm::toString(std::move(E)));
  if (!WholeProgramOpt)
    return llvm::Error::success();
  auto Enabled = [&](StringRef Check) {
    return llvm::any_of(R.Rules,
                        [&](const Rule &Ru) { return Ru.Id == Check; });
  };
  utils::WholeProgramOptions Options;
  Options.Races = Enabled("concguard-unsynchronized-container");
  Options.EndlessThreads = Enabled("concguard-uncancellable-thread");
  Options.Escapes = Enabled("concguard-escaping-guarded-reference");
  // The race check's own reading of its options (the shared option layer).
  utils::CheckOptionReader Reader(CheckOptions,
                                  "concguard-unsynchronized-container");
  Options.MaxCallDepth = Reader.count("MaxCallDepth");
  Options.StrictElementAccess = Reader.flag("StrictElementAccess");
  utils::Program Whole;
  for (utils::UnitFacts &Unit : Facts)
    Whole.addUnit(std::move(Unit));
  Converter Conv(RootDir);
  for (const utils::ProgramFinding &P : Whole.analyze(Options)) {
    Finding F = Conv.finding(P);
    // Findings outside the root are left out, as the per-unit ones are
    // without --header-filter.
    if (path::is_absolute(F.Loc.Path))
      continue;
    R.Findings.push_back(std::move(F));
  }
  finalize(R);
  return llvm::Error::success();
}

int runMerge() {
  auto T0 = std::chrono::steady_clock::now();
  if (llvm::Error E = checkOutputs())
    return fail(llvm::toString(std::move(E)));
  std::vector<Report> Shards;
  for (const std::string &In : MergeInputs) {
    auto R = readReport(In);
    if (!R)
      return fail(llvm::toString(R.takeError()));
    Shards.push_back(std::move(*R));
  }
  auto Merged = mergeShards(std::move(Shards));
  if (!Merged)
    return fail(llvm::toString(Merged.takeError()));
  std::vector<clang::tidy::concguard::utils::UnitFacts> Facts;
  for (const llvm::json::Value &V : Merged->Facts) {
    auto Unit = clang::tidy::concguard::utils::unitFactsFromJSON(V);
    if (!Unit)
      return fail("merge: damaged whole-program facts in a shard: " +
                  llvm::toString(Unit.takeError()));
    Facts.push_back(std::move(*Unit));
  }
  clang::tidy::ClangTidyOptions::OptionMap CheckOptions;
  if (!Merged->Config.empty())
    if (auto Parsed = clang::tidy::parseConfiguration(
            llvm::MemoryBufferRef(Merged->Config, "config")))
      CheckOptions = Parsed->CheckOptions;
  if (llvm::Error E = runWholeProgram(*Merged, std::move(Facts),
                                      Merged->FactsRoot, CheckOptions))
    return fail(llvm::toString(std::move(E)));
  double Seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - T0)
          .count();
  return finish(*Merged, Seconds, 0, 0);
}

int runAudit(const char *Argv0) {
  auto T0 = std::chrono::steady_clock::now();
  if (BuildPath.empty())
    return fail("no build directory: pass -p <dir with compile_commands.json>");
  if (llvm::Error E = checkOutputs())
    return fail(llvm::toString(std::move(E)));
  llvm::SmallString<256> DbPath(BuildPath);
  if (fs::is_directory(DbPath))
    path::append(DbPath, "compile_commands.json");
  if (!fs::exists(DbPath))
    return fail("no compilation database at '" + DbPath + "'");
  std::string DbError;
  std::unique_ptr<clang::tooling::JSONCompilationDatabase> DB =
      clang::tooling::JSONCompilationDatabase::loadFromFile(
          DbPath, DbError, clang::tooling::JSONCommandLineSyntax::AutoDetect);
  if (!DB)
    return fail("cannot read '" + DbPath + "': " + DbError);

  llvm::SmallString<256> RootDir(Root);
  if (RootDir.empty()) {
    if (std::error_code EC = fs::current_path(RootDir))
      return fail("cannot find the current directory: " + EC.message());
  } else if (std::error_code EC = fs::make_absolute(RootDir))
    return fail("bad --root '" + Root + "': " + EC.message());
  path::remove_dots(RootDir, true);
  if (fs::real_path(RootDir, RootDir))
    return fail("--root '" + Root + "' does not exist");

  unsigned ShardIndex = 0, ShardCount = 0;
  if (!Shard.empty()) {
    auto [I, N] = StringRef(Shard).split('/');
    if (I.getAsInteger(10, ShardIndex) || N.getAsInteger(10, ShardCount) ||
        ShardCount == 0 || ShardIndex == 0 || ShardIndex > ShardCount)
      return fail("--shard must be I/N with 1 <= I <= N, not '" + Shard + "'");
    if (!Baseline.empty())
      return fail("--baseline applies to the whole run: pass it to "
                  "'concguard-audit merge', not to a shard");
    if (!IndexOut.empty())
      return fail("--index needs every unit: pass it to 'concguard-audit "
                  "merge', not to a shard");
  }

  std::vector<llvm::GlobPattern> Includes, Excludes;
  for (auto [List, Out] :
       {std::pair(&Include, &Includes), std::pair(&Exclude, &Excludes)})
    for (const std::string &G : *List) {
      auto P = llvm::GlobPattern::create(G);
      if (!P)
        return fail("bad glob '" + G + "': " + llvm::toString(P.takeError()));
      Out->push_back(std::move(*P));
    }

  // The units: one per source file (its first command), sorted by path so
  // that sharding and the report order do not depend on the database order.
  std::map<std::string, Unit> ByPath;
  for (clang::tooling::CompileCommand &Cmd : DB->getAllCompileCommands()) {
    std::string Abs = absolutePath(Cmd.Filename, Cmd.Directory);
    if (ByPath.count(Abs))
      continue;
    std::string Rel = reportPath(Abs, RootDir);
    if (!Includes.empty() &&
        llvm::none_of(Includes, [&](auto &G) { return G.match(Rel); }))
      continue;
    if (llvm::any_of(Excludes, [&](auto &G) { return G.match(Rel); }))
      continue;
    ByPath.emplace(Abs, Unit{Abs, Rel, std::move(Cmd)});
  }
  if (ByPath.empty())
    return fail("no translation units to analyse in '" + DbPath + "'" +
                (Include.empty() && Exclude.empty()
                     ? ""
                     : " after --include/--exclude"));
  std::vector<Unit> Units;
  unsigned Position = 0;
  for (auto &Entry : ByPath) {
    // Round-robin over the sorted units: deterministic and balanced.
    if (!ShardCount || Position % ShardCount == ShardIndex - 1)
      Units.push_back(std::move(Entry.second));
    ++Position;
  }

  // The configuration: --config, then the checks (concguard's always).
  clang::tidy::ClangTidyOptions Options =
      clang::tidy::ClangTidyOptions::getDefaults();
  std::string ConfigChecks;
  if (!Config.empty()) {
    auto Parsed = clang::tidy::parseConfiguration(
        llvm::MemoryBufferRef(Config, "--config"));
    if (!Parsed)
      return fail("invalid --config: " + Parsed.getError().message());
    if (Parsed->Checks)
      ConfigChecks = *Parsed->Checks;
    Options.mergeWith(*Parsed, 0);
  }
  std::vector<clang::tidy::concguard::utils::OptionProblem> Problems =
      clang::tidy::concguard::utils::validateOptions(Options.CheckOptions);
  for (const auto &P : Problems)
    llvm::WithColor::error(llvm::errs(), "concguard-audit")
        << P.Message << "\n";
  if (!Problems.empty())
    return fail("invalid --config: nothing was analysed");
  std::string CheckGlobs = "-*,concguard-*";
  for (StringRef Extra : {StringRef(ConfigChecks), StringRef(Checks)})
    if (!Extra.trim().empty())
      CheckGlobs += "," + Extra.trim().str();
  if (llvm::Error E = validateChecks(CheckGlobs))
    return fail(llvm::toString(std::move(E)));
  Options.Checks = CheckGlobs;
  Options.HeaderFilterRegex =
      HeaderFilter.empty() ? std::string(".*") : HeaderFilter.getValue();
  Options.SystemHeaders = false;
  Options.WarningsAsErrors = "";
  std::vector<std::string> Before;
  if (Options.ExtraArgsBefore)
    Before = *Options.ExtraArgsBefore;
  Before.insert(Before.begin(), "-resource-dir=" + findResourceDir(Argv0));
  Options.ExtraArgsBefore = Before;

  std::vector<std::string> Enabled = clang::tidy::getCheckNames(Options, false
#if CONCGUARD_LLVM_VERSION_MAJOR >= 22
                                                                ,
                                                                false
#endif
  );
  if (Enabled.empty())
    return fail("--checks '" + Checks + "' enables no check");

  Report R;
  R.ToolVersion = CONCGUARD_AUDIT_VERSION;
  R.Checks = CheckGlobs;
  R.Config = Config;
  R.ShardIndex = ShardIndex;
  R.ShardCount = ShardCount;
  R.Git = findGitProvenance(RootDir);
  for (const std::string &C : Enabled)
    R.Rules.push_back(describeCheck(C));

  std::string KeyBase;
  if (!CacheDir.empty()) {
    if (std::error_code EC = fs::create_directories(CacheDir))
      return fail("cannot create --cache-dir '" + CacheDir +
                  "': " + EC.message());
    // Entries made without facts must not stand in for entries with them.
    KeyBase = toolIdentity(Argv0) + '\0' + CheckGlobs + '\0' + Config + '\0' +
              *Options.HeaderFilterRegex + '\0' + std::string(RootDir) + '\0' +
              (WholeProgramOpt || !IndexOut.empty() ? "facts" : "");
  }
  Auditor A(Options, std::string(RootDir), KeyBase);
  A.CacheDir = CacheDir;
  A.RestrictToRoot = HeaderFilter.empty();
  A.CollectFacts = WholeProgramOpt || !IndexOut.empty();

  std::vector<UnitOutcome> Outcomes(Units.size());
  ProgressReporter Progress(ProgressOpt, Units.size());
  {
    llvm::DefaultThreadPool Pool(llvm::hardware_concurrency(Jobs));
    for (size_t I = 0; I < Units.size(); ++I)
      Pool.async([&, I] {
        auto Start = std::chrono::steady_clock::now();
        Progress.started(Units[I].RelPath);
        Outcomes[I] = A.run(Units[I]);
        Progress.finished(Units[I].RelPath, Outcomes[I],
                          std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - Start)
                              .count());
      });
    Pool.wait();
  }
  Progress.end();
  if (A.CollectFacts)
    analyseCrossUnitCallers(A, Units, Outcomes, Progress, Jobs);

  unsigned Analysed = 0, Cached = 0;
  std::vector<clang::tidy::concguard::utils::UnitFacts> Facts;
  for (size_t I = 0; I < Units.size(); ++I) {
    UnitOutcome &O = Outcomes[I];
    (O.Cached ? Cached : Analysed) += O.Errors.empty() ? 1 : 0;
    R.Units.push_back({Units[I].RelPath, O.Errors.empty(), O.BoostCompat,
                       O.DelayedTemplateParsing});
    llvm::append_range(R.Errors, O.Errors);
    for (Finding &F : O.Findings)
      R.Findings.push_back(std::move(F));
    for (Finding &F : O.Suppressed)
      R.Suppressed.push_back(std::move(F));
    if (O.Facts)
      Facts.push_back(std::move(*O.Facts));
  }
  finalize(R);
  if (ShardCount) {
    // The whole-program phase runs in `merge`, over every shard's facts.
    R.FactsRoot = std::string(RootDir);
    for (const clang::tidy::concguard::utils::UnitFacts &Unit : Facts)
      R.Facts.push_back(clang::tidy::concguard::utils::toJSON(Unit));
  } else if (llvm::Error E = runWholeProgram(R, std::move(Facts), RootDir,
                                             Options.CheckOptions)) {
    return fail(llvm::toString(std::move(E)));
  }
  double Seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - T0)
          .count();
  return finish(R, Seconds, Analysed, Cached);
}

} // namespace

int main(int Argc, const char **Argv) {
  llvm::InitLLVM X(Argc, Argv);
  (void)clang::tidy::ConcGuardModuleAnchorSource;
  concguard::useBoostCompatHeaders(Argv[0],
                                   reinterpret_cast<void *>(&findResourceDir));
  cl::HideUnrelatedOptions(AuditCategory);
  cl::SetVersionPrinter([](llvm::raw_ostream &OS) {
    OS << "concguard-audit " << CONCGUARD_AUDIT_VERSION << " (LLVM "
       << CONCGUARD_LLVM_VERSION_MAJOR << ")\n";
  });
  if (!cl::ParseCommandLineOptions(
          Argc, Argv,
          "concguard-audit: run the concguard checks over a compilation "
          "database and write audit reports.\n\n"
          "  concguard-audit -p build --sarif out.sarif --html report\n"
          "  concguard-audit merge shard-*.json --sarif out.sarif\n\n"
          "Exit codes: 0 done, 1 --fail-on matched, 2 bad option or input "
          "(no report), 3 report written but incomplete (tool errors).\n",
          &llvm::errs()))
    return ExitUsage;
  if (MergeCommand)
    return runMerge();
  return runAudit(Argv[0]);
}
