//===--- UncancellableThreadCheck.h - concguard-uncancellable-thread ------===//
//
// Reports threads that their owner can neither stop nor wait for: thread
// bodies with a loop that can never end, std::jthread callables that ignore
// their stop_token, detached threads, std::thread objects destroyed while
// joinable, discarded std::async futures of endless tasks, destructors
// that join a thread that never ends, and member threads that can be started
// again after the stop that joined them.
//
// Documentation: docs/checks/concguard-uncancellable-thread.md
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UNCANCELLABLETHREADCHECK_H
#define CONCGUARD_CHECKS_UNCANCELLABLETHREADCHECK_H

#include "utils/ThreadSpawns.h"

#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/DenseSet.h"

#include <vector>

namespace clang::tidy::concguard {

class UncancellableThreadCheck : public ClangTidyCheck {
public:
  UncancellableThreadCheck(StringRef Name, ClangTidyContext *Context);
  bool isLanguageVersionSupported(const LangOptions &LangOpts) const override {
    return LangOpts.CPlusPlus11;
  }
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void onStartOfTranslationUnit() override;
  void onEndOfTranslationUnit() override;

private:
  void checkSpawn(const utils::SpawnSite &Site, ASTContext &Context);
  void checkEndlessBody(const utils::SpawnSite &Site, ASTContext &Context);
  void checkLocalThreadLifetime(const utils::SpawnSite &Site,
                                ASTContext &Context);
  void checkMemberThreadLifetime(const utils::SpawnSite &Site);
  /// A member thread (re)started by a member function that does not check
  /// the flag another member function sets before it joins the thread.
  void checkStartAfterStop(const utils::SpawnSite &Site);
  void checkThrowBeforeJoin(const utils::SpawnSite &Site, ASTContext &Context);
  void checkDetach(const Expr &Detach);
  void checkUnwoundContainer(const utils::SpawnSite &Site,
                             const utils::UnwoundThreadContainer &Unwound);

  std::string RawSpawnFunctions;
  std::vector<utils::SpawnFunction> SpawnFunctions;
  /// SpawnFunctions and, for the unit being analysed, the spawn wrappers
  /// and pools of other units that the project index (or the audit's
  /// second round) knows.
  std::vector<utils::SpawnFunction> UnitSpawnFunctions;
  bool ReportDetach = true;
  unsigned MaxCallDepth = 3;
  /// Local threads already analysed (one report per variable).
  llvm::DenseSet<const VarDecl *> AnalysedLocals;
  /// Member threads already analysed.
  llvm::DenseSet<const FieldDecl *> AnalysedMembers;
  /// Thread containers already reported as unwound by a throwing start.
  llvm::DenseSet<const ValueDecl *> ReportedContainers;
  /// The project index to read (option IndexFile; empty: by convention).
  std::string IndexFile;
  ClangTidyContext *TidyContext = nullptr;
  /// The unit's thread starts, for the facts the index's whole-program
  /// phase needs.
  std::vector<const Expr *> Spawns;
  ASTContext *Context = nullptr;
  /// Reports threads started here whose endless body lies in other units.
  void wholeProgram();
};

} // namespace clang::tidy::concguard

#endif // CONCGUARD_CHECKS_UNCANCELLABLETHREADCHECK_H
