//===--- DanglingContainerViewCheck.h - concguard-dangling-container-view -===//
//
// Reports a pointer, reference, iterator, std::string_view or std::span into
// a container that is used after an operation that may have reallocated the
// container or destroyed the element it refers to (the C++ form of a stale
// Go slice header). Flow-sensitive on Clang's CFG within one function; calls
// are followed through their bodies (a few levels deep), member functions
// through `this`.
//
// Documentation: docs/checks/concguard-dangling-container-view.md
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_DANGLINGCONTAINERVIEWCHECK_H
#define CONCGUARD_CHECKS_DANGLINGCONTAINERVIEWCHECK_H

#include "utils/ContainerModel.h"
#include "utils/ContainerViews.h"

#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/DenseSet.h"

#include <memory>
#include <string>

namespace clang::tidy::concguard {

/// Where the pointer fields of the unit's own classes may point (defined in
/// the .cpp file).
class DanglingContainerViewCheck : public ClangTidyCheck {
public:
  DanglingContainerViewCheck(StringRef Name, ClangTidyContext *Context);
  ~DanglingContainerViewCheck() override;
  bool isLanguageVersionSupported(const LangOptions &LangOpts) const override {
    return LangOpts.CPlusPlus11;
  }
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void onEndOfTranslationUnit() override;

private:
  /// Reports the views \p Function uses after their container may have
  /// changed, and the views into its locals it lets a field keep.
  void analyzeFunction(const FunctionDecl &Function, ASTContext &Context);

  std::string RawContainerFamilies;
  bool AssumeUnknownCallsInvalidate = true;
  utils::ContainerModel Model;
  /// Functions already analysed (a lambda is reached twice).
  llvm::DenseSet<const FunctionDecl *> Analysed;
  /// Locations already reported (template instantiations repeat a body).
  llvm::DenseSet<unsigned> Reported;
  /// The analysis this check reports (utils/ContainerViews.h).
  std::unique_ptr<utils::ContainerViewAnalysis> Views;
};

} // namespace clang::tidy::concguard

#endif // CONCGUARD_CHECKS_DANGLINGCONTAINERVIEWCHECK_H
