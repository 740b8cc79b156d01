//===--- UnsynchronizedContainerCheck.h - concguard-unsynchronized-container =//
//
// Reports containers that one thread modifies while another thread may access
// them, with no mutex held at both accesses: the C++ form of Go's
// "concurrent map writes". The analysis lives in utils/SharedContainers.h so
// that concguard-rewrite and concguard-audit use the same findings; the
// fix-it for a map used only in the main file is concguard-rewrite's plan
// (utils/MapRewrite.h).
//
// Documentation: docs/checks/concguard-unsynchronized-container.md
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UNSYNCHRONIZEDCONTAINERCHECK_H
#define CONCGUARD_CHECKS_UNSYNCHRONIZEDCONTAINERCHECK_H

#include "utils/MapRewrite.h"
#include "utils/SharedContainers.h"

#include "clang-tidy/ClangTidyCheck.h"
#include "clang-tidy/utils/IncludeInserter.h"

namespace clang::tidy::concguard {

class UnsynchronizedContainerCheck : public ClangTidyCheck {
public:
  UnsynchronizedContainerCheck(StringRef Name, ClangTidyContext *Context);
  bool isLanguageVersionSupported(const LangOptions &LangOpts) const override {
    return LangOpts.CPlusPlus11;
  }
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void registerPPCallbacks(const SourceManager &SM, Preprocessor *PP,
                           Preprocessor *ModuleExpanderPP) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void onStartOfTranslationUnit() override;
  void onEndOfTranslationUnit() override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;

  /// The options as the analysis takes them (shared with concguard-rewrite).
  const utils::SharedContainerOptions &analysisOptions() const {
    return Analysis;
  }

private:
  std::string RawSpawnFunctions;
  std::string RawContainerTypes;
  std::string RawMutexTypes;
  std::string RawLockGuardTypes;
  utils::SharedContainerOptions Analysis;
  /// The fix-it's plan: concguard-rewrite's default (--policy=auto) with
  /// this check's analysis options.
  utils::RewriteOptions Rewrite;
  /// Adds the runtime's #include to a fix-it.
  tidy::utils::IncludeInserter Inserter;
  /// The translation unit's thread starts, found in the traversal clang-tidy
  /// shares between checks; the analysis runs once they are all known.
  std::vector<const Expr *> Spawns;
  ASTContext *Context = nullptr;
  /// The project index to read (option IndexFile; empty: by convention).
  std::string IndexFile;
  ClangTidyContext *TidyContext = nullptr;

  /// Extracts the unit's facts for the whole-program phase when a front end
  /// collects them (concguard-audit) or a project index is there to read,
  /// and reports the cross-unit races of this file.
  void wholeProgram(llvm::ArrayRef<const Expr *> SpawnExpressions,
                    const utils::SharedContainerOptions &Effective);
};

} // namespace clang::tidy::concguard

#endif // CONCGUARD_CHECKS_UNSYNCHRONIZEDCONTAINERCHECK_H
