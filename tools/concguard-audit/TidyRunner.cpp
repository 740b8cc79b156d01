//===--- TidyRunner.cpp - clang-tidy on one unit, NOLINT-ed findings kept -===//

#include "TidyRunner.h"

#include "clang-tidy/ClangTidy.h"
#include "clang-tidy/ClangTidyModule.h"
#include "clang/Basic/CharInfo.h"
#include "clang/Basic/DiagnosticOptions.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendActions.h"
#include "clang/Lex/Lexer.h"
#include "clang/Lex/PreprocessorOptions.h"
#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Regex.h"

#include <tuple>

namespace concguard::audit {
namespace {

using clang::tidy::ClangTidyContext;
using clang::tidy::ClangTidyError;

/// Sits between the diagnostics engines and clang-tidy's consumer: every
/// diagnostic goes on to clang-tidy's consumer unchanged, and a copy of each
/// warning that clang-tidy's NOLINT logic suppresses (and of its notes) is
/// kept here, converted the way clang-tidy converts the ones it reports.
class SuppressionRecorder : public clang::DiagnosticConsumer {
public:
  SuppressionRecorder(ClangTidyContext &Context,
                      clang::tidy::ClangTidyDiagnosticConsumer &Next)
      : Context(Context), Next(Next) {}

  void BeginSourceFile(const clang::LangOptions &LangOpts,
                       const clang::Preprocessor *PP) override {
    Next.BeginSourceFile(LangOpts, PP);
  }
  void EndSourceFile() override { Next.EndSourceFile(); }
  void finish() override { Next.finish(); }

  void HandleDiagnostic(clang::DiagnosticsEngine::Level Level,
                        const clang::Diagnostic &Info) override {
    if (Level == clang::DiagnosticsEngine::Note) {
      if (KeepingNotes)
        Suppressed.back().Notes.push_back(message(Info, CheckSuffix));
    } else {
      bool IsSuppressed = Level == clang::DiagnosticsEngine::Warning &&
                          isSuppressed(Level, Info);
      KeepingNotes = IsSuppressed && keep(Info);
      // Counted as clang-tidy's consumer counts: suppressed ones are not.
      if (!IsSuppressed)
        DiagnosticConsumer::HandleDiagnostic(Level, Info);
    }
    Next.HandleDiagnostic(Level, Info);
  }

  std::vector<ClangTidyError> take() {
    // A diagnostic reported twice (a template instantiated twice, ...) is
    // one suppressed finding, as it is one reported finding.
    auto Key = [](const ClangTidyError &E) {
      return std::tie(E.Message.FilePath, E.Message.FileOffset,
                      E.DiagnosticName, E.Message.Message);
    };
    llvm::stable_sort(Suppressed,
                      [&](const ClangTidyError &A, const ClangTidyError &B) {
                        return Key(A) < Key(B);
                      });
    Suppressed.erase(
        llvm::unique(Suppressed,
                     [&](const ClangTidyError &A, const ClangTidyError &B) {
                       return Key(A) == Key(B);
                     }),
        Suppressed.end());
    return std::move(Suppressed);
  }

private:
  bool isSuppressed(clang::DiagnosticsEngine::Level Level,
                    const clang::Diagnostic &Info) {
    if (!Info.hasSourceManager() || Info.getLocation().isInvalid())
      return false;
    // clang-tidy's consumer asks the same question right after and reports
    // malformed NOLINT comments itself: this copy of them is dropped.
    llvm::SmallVector<clang::tooling::Diagnostic, 1> NoLintErrors;
    return Context.shouldSuppressDiagnostic(Level, Info, NoLintErrors);
  }

  /// Whether clang-tidy would have reported the warning without its NOLINT:
  /// an enabled check, in the main file or a header the header filter
  /// admits, not in a system header.
  bool keep(const clang::Diagnostic &Info) {
    std::string Check = Context.getCheckName(Info.getID());
    if (Check.empty() || !Context.isCheckEnabled(Check))
      return false;
    const clang::SourceManager &SM = Info.getSourceManager();
    clang::SourceLocation Loc = SM.getFileLoc(Info.getLocation());
    const clang::tidy::ClangTidyOptions &Options = Context.getOptions();
    if (!Options.SystemHeaders.value_or(false) && SM.isInSystemHeader(Loc))
      return false;
    if (!SM.isInMainFile(Loc)) {
      clang::OptionalFileEntryRef File =
          SM.getFileEntryRefForID(SM.getFileID(Loc));
      if (File) {
        std::string Exclude = Options.ExcludeHeaderFilterRegex.value_or("");
        llvm::StringRef Name = File->getName();
        if (!llvm::Regex(Options.HeaderFilterRegex.value_or("")).match(Name) ||
            (!Exclude.empty() && llvm::Regex(Exclude).match(Name)))
          return false;
      }
    }
    ClangTidyError E(Check, clang::tooling::Diagnostic::Warning,
                     Context.getCurrentBuildDirectory(),
                     /*IsWarningAsError=*/false);
    // ClangTidyContext::diag appends " [check-name]" to the text of the
    // warning and of its notes.
    CheckSuffix = " [" + Check + "]";
    E.Message = message(Info, CheckSuffix);
    Suppressed.push_back(std::move(E));
    return true;
  }

  /// The diagnostic as clang-tidy stores it: text, location, highlighted
  /// ranges and fix-its, decoupled from the SourceManager.
  clang::tooling::DiagnosticMessage message(const clang::Diagnostic &Info,
                                            llvm::StringRef Suffix = "") {
    llvm::SmallString<128> Text;
    Info.FormatDiagnostic(Text);
    llvm::StringRef Message = Text;
    if (!Suffix.empty())
      Message.consume_back(Suffix);
    if (!Info.hasSourceManager() || Info.getLocation().isInvalid())
      return clang::tooling::DiagnosticMessage(Message);
    const clang::SourceManager &SM = Info.getSourceManager();
    const clang::LangOptions &LangOpts = Context.getLangOpts();
    clang::tooling::DiagnosticMessage M(Message, SM,
                                        SM.getFileLoc(Info.getLocation()));
    for (const clang::CharSourceRange &Range : Info.getRanges()) {
      clang::CharSourceRange InFile =
          clang::Lexer::makeFileCharRange(Range, SM, LangOpts);
      if (InFile.isValid())
        M.Ranges.emplace_back(SM, InFile);
    }
    for (const clang::FixItHint &Hint : Info.getFixItHints()) {
      if (Hint.RemoveRange.isInvalid())
        continue;
      clang::tooling::Replacement Rep(SM, Hint.RemoveRange, Hint.CodeToInsert,
                                      LangOpts);
      // A conflicting edit leaves the fix incomplete; clang-tidy asserts on
      // it, a suppressed finding's fix is only shown.
      llvm::consumeError(M.Fix[Rep.getFilePath()].add(Rep));
    }
    return M;
  }

  ClangTidyContext &Context;
  clang::tidy::ClangTidyDiagnosticConsumer &Next;
  std::vector<ClangTidyError> Suppressed;
  /// The last warning was kept: its notes belong to it.
  bool KeepingNotes = false;
  std::string CheckSuffix; // " [<check of the last kept warning>]"
};

/// The frontend action of every clang-tidy run: the AST consumer of the
/// enabled checks, with __clang_analyzer__ defined as clang-tidy does.
class TidyActionFactory : public clang::tooling::FrontendActionFactory {
public:
  TidyActionFactory(ClangTidyContext &Context,
                    llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> FS)
      : Consumers(Context, std::move(FS)) {}

  std::unique_ptr<clang::FrontendAction> create() override {
    return std::make_unique<Action>(Consumers);
  }

  bool runInvocation(std::shared_ptr<clang::CompilerInvocation> Invocation,
                     clang::FileManager *Files,
                     std::shared_ptr<clang::PCHContainerOperations> PCH,
                     clang::DiagnosticConsumer *Consumer) override {
    Invocation->getPreprocessorOpts().SetUpStaticAnalyzer = true;
    // No "N warnings generated." on stderr: the findings are in the report.
    Invocation->getDiagnosticOpts().ShowCarets = false;
    return FrontendActionFactory::runInvocation(std::move(Invocation), Files,
                                                std::move(PCH), Consumer);
  }

private:
  class Action : public clang::ASTFrontendAction {
  public:
    explicit Action(clang::tidy::ClangTidyASTConsumerFactory &Consumers)
        : Consumers(Consumers) {}
    std::unique_ptr<clang::ASTConsumer>
    CreateASTConsumer(clang::CompilerInstance &Compiler,
                      llvm::StringRef File) override {
      return Consumers.createASTConsumer(Compiler, File);
    }

  private:
    clang::tidy::ClangTidyASTConsumerFactory &Consumers;
  };

  clang::tidy::ClangTidyASTConsumerFactory Consumers;
};

} // namespace

TidyResult
runTidy(ClangTidyContext &Context,
        const clang::tooling::CompilationDatabase &DB, llvm::StringRef File,
        llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> BaseFS) {
  clang::tooling::ClangTool Tool(
      DB, {File.str()}, std::make_shared<clang::PCHContainerOperations>(),
      BaseFS);
  // The configuration's ExtraArgsBefore / ExtraArgs, as clang-tidy adds
  // them: the former after the compiler's name.
  Tool.appendArgumentsAdjuster(
      [&Context](const clang::tooling::CommandLineArguments &Args,
                 llvm::StringRef Filename) {
        clang::tidy::ClangTidyOptions Opts =
            Context.getOptionsForFile(Filename);
        clang::tooling::CommandLineArguments Out = Args;
        if (Opts.ExtraArgsBefore) {
          auto At = Out.begin();
          if (At != Out.end() && !llvm::StringRef(*At).starts_with("-"))
            ++At;
          Out.insert(At, Opts.ExtraArgsBefore->begin(),
                     Opts.ExtraArgsBefore->end());
        }
        if (Opts.ExtraArgs)
          Out.insert(Out.end(), Opts.ExtraArgs->begin(), Opts.ExtraArgs->end());
        return Out;
      });
  Tool.appendArgumentsAdjuster(clang::tooling::getStripPluginsAdjuster());
  // The audit reports a unit that does not compile as a tool error.
  Tool.setPrintErrorMessage(false);

  clang::tidy::ClangTidyDiagnosticConsumer TidyConsumer(
      Context, /*ExternalDiagEngine=*/nullptr,
      /*RemoveIncompatibleErrors=*/true, /*GetFixesFromNotes=*/false);
  SuppressionRecorder Recorder(Context, TidyConsumer);
#if CONCGUARD_LLVM_VERSION_MAJOR >= 22
  auto DiagOpts = std::make_unique<clang::DiagnosticOptions>();
  clang::DiagnosticsEngine Engine(clang::DiagnosticIDs::create(), *DiagOpts,
                                  &Recorder, /*ShouldOwnClient=*/false);
  Context.setDiagnosticsEngine(std::move(DiagOpts), &Engine);
#else
  clang::DiagnosticsEngine Engine(
      llvm::makeIntrusiveRefCnt<clang::DiagnosticIDs>(),
      llvm::makeIntrusiveRefCnt<clang::DiagnosticOptions>(), &Recorder,
      /*ShouldOwnClient=*/false);
  Context.setDiagnosticsEngine(&Engine);
#endif
  Tool.setDiagnosticConsumer(&Recorder);

  TidyActionFactory Factory(Context, std::move(BaseFS));
  // The result is in the diagnostics: a unit that does not compile has a
  // clang-diagnostic-error among them.
  (void)Tool.run(&Factory);
  TidyResult Result;
  Result.Reported = TidyConsumer.take();
  Result.Suppressed = Recorder.take();
  return Result;
}

unsigned tokenLengthAt(const std::string &Text, unsigned Offset) {
  if (Offset >= Text.size() || clang::isWhitespace(Text[Offset]) ||
      llvm::StringRef(Text).substr(Offset).starts_with("//") ||
      llvm::StringRef(Text).substr(Offset).starts_with("/*"))
    return 0;
  clang::LangOptions LangOpts;
  LangOpts.CPlusPlus = LangOpts.CPlusPlus11 = LangOpts.CPlusPlus14 =
      LangOpts.CPlusPlus17 = LangOpts.CPlusPlus20 = true;
  clang::Lexer Raw(clang::SourceLocation(), LangOpts, Text.data(),
                   Text.data() + Offset, Text.data() + Text.size());
  clang::Token Tok;
  Raw.LexFromRawLexer(Tok);
  return Tok.is(clang::tok::eof) ? 0 : Tok.getLength();
}

} // namespace concguard::audit
