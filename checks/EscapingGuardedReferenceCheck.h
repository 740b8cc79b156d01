//===--- EscapingGuardedReferenceCheck.h - escaping-guarded-reference -----===//
//
// Reports references, pointers, iterators and views into data accessed under
// a lock that escape the lock's scope: returned, written to an out-parameter,
// stored in a member, global or static, or used after the lock is released.
//
// Documentation: docs/checks/concguard-escaping-guarded-reference.md
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_ESCAPINGGUARDEDREFERENCECHECK_H
#define CONCGUARD_CHECKS_ESCAPINGGUARDEDREFERENCECHECK_H

#include "utils/LockScopes.h"

#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/DenseSet.h"

#include <memory>
#include <string>
#include <vector>

namespace clang::tidy::concguard {

class EscapingGuardedReferenceCheck : public ClangTidyCheck {
public:
  EscapingGuardedReferenceCheck(StringRef Name, ClangTidyContext *Context);
  ~EscapingGuardedReferenceCheck() override;
  bool isLanguageVersionSupported(const LangOptions &LangOpts) const override {
    return LangOpts.CPlusPlus11;
  }
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void onStartOfTranslationUnit() override;
  void onEndOfTranslationUnit() override;

  /// Classes besides the std containers whose accessors (at, operator[],
  /// front, back, data, begin, find, ...) hand out references into them.
  llvm::ArrayRef<std::string> containerTypes() const { return ContainerTypes; }
  /// Reports each diagnostic location once (template instantiations share
  /// the locations of their pattern). Returns false when already reported.
  bool firstReportAt(SourceLocation Loc, unsigned Kind) {
    return Reported.insert({Loc.getRawEncoding(), Kind}).second;
  }

  /// What the unit's analysis remembers between functions (callee
  /// summaries, where elements are removed); cleared after each unit.
  struct Memos;
  Memos &memos();

  /// Where the unit removes elements of the field or global \p Storage, or
  /// resets it when it is an owning pointer (erase, clear, pop, assignment,
  /// reset), outside constructors and destructors: evidence that an object
  /// it owns through a pointer can be destroyed while a reference to it is
  /// held. Null when it never does.
  const Expr *removalOf(const ValueDecl *Storage);

private:
  /// With a project index: the lock escapes whose caller and callee the
  /// whole-program phase connects (WholeProgram.h).
  void wholeProgram();

  std::string RawMutexTypes;
  std::string RawLockGuardTypes;
  std::string RawContainerTypes;
  /// The project index to read (option IndexFile; empty: by convention).
  std::string IndexFile;
  ClangTidyContext *TidyContext = nullptr;
  ASTContext *Context = nullptr;
  utils::LockOptions Locks;
  std::vector<std::string> ContainerTypes;
  llvm::DenseSet<std::pair<SourceLocation::UIntTy, unsigned>> Reported;
  std::unique_ptr<Memos> UnitMemos;
};

} // namespace clang::tidy::concguard

#endif // CONCGUARD_CHECKS_ESCAPINGGUARDEDREFERENCECHECK_H
