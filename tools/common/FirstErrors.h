//===--- FirstErrors.h - which units did not compile, and why -------------===//
//
// A ClangTool prints compiler errors as they come and then only says that
// some file failed. A front end's summary must name each unit that did not
// compile with its first error (issue 20): this consumer prints every
// diagnostic as clang's own printer does and remembers the first error of
// each main file.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_TOOLS_COMMON_FIRSTERRORS_H
#define CONCGUARD_TOOLS_COMMON_FIRSTERRORS_H

#include "clang/Basic/Diagnostic.h"
#include "clang/Basic/DiagnosticOptions.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Basic/Version.h"
#include "clang/Frontend/TextDiagnosticPrinter.h"
#include "clang/Lex/Preprocessor.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <memory>
#include <string>

namespace concguard {

class FirstErrorRecorder : public clang::DiagnosticConsumer {
public:
#if CLANG_VERSION_MAJOR >= 21
  FirstErrorRecorder()
      : Options(std::make_unique<clang::DiagnosticOptions>()),
        Printer(llvm::errs(), *Options) {}
#else
  // The printer owns the (reference-counted) options.
  FirstErrorRecorder()
      : Printer(llvm::errs(), new clang::DiagnosticOptions()) {}
#endif

  void BeginSourceFile(const clang::LangOptions &LangOpts,
                       const clang::Preprocessor *PP) override {
    Printer.BeginSourceFile(LangOpts, PP);
    // The main file is not entered yet: it is looked up at the first error.
    CurrentPP = PP;
  }

  void EndSourceFile() override {
    Printer.EndSourceFile();
    CurrentPP = nullptr;
  }

  void finish() override { Printer.finish(); }

  void HandleDiagnostic(clang::DiagnosticsEngine::Level Level,
                        const clang::Diagnostic &Info) override {
    // Counted here: the tool's result depends on this consumer's count.
    DiagnosticConsumer::HandleDiagnostic(Level, Info);
    Printer.HandleDiagnostic(Level, Info);
    if (Level < clang::DiagnosticsEngine::Error || !CurrentPP)
      return;
    const clang::SourceManager &SM = CurrentPP->getSourceManager();
    clang::OptionalFileEntryRef Main =
        SM.getFileEntryRefForID(SM.getMainFileID());
    if (!Main || FirstErrors.count(Main->getName().str()))
      return;
    llvm::SmallString<128> Message;
    Info.FormatDiagnostic(Message);
    std::string Where;
    if (Info.hasSourceManager() && Info.getLocation().isValid()) {
      clang::PresumedLoc P =
          Info.getSourceManager().getPresumedLoc(Info.getLocation());
      if (P.isValid())
        Where = llvm::formatv("{0}:{1}:{2}: ", P.getFilename(), P.getLine(),
                              P.getColumn())
                    .str();
    }
    FirstErrors[Main->getName().str()] =
        Where + "error: " + Message.str().str();
  }

  /// Main file (as the compile command names it) -> its first error.
  const std::map<std::string, std::string> &firstErrors() const {
    return FirstErrors;
  }

private:
#if CLANG_VERSION_MAJOR >= 21
  std::unique_ptr<clang::DiagnosticOptions> Options;
#endif
  clang::TextDiagnosticPrinter Printer;
  const clang::Preprocessor *CurrentPP = nullptr; // of the unit being compiled
  std::map<std::string, std::string> FirstErrors;
};

} // namespace concguard

#endif // CONCGUARD_TOOLS_COMMON_FIRSTERRORS_H
