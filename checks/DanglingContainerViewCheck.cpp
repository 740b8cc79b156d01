//===--- DanglingContainerViewCheck.cpp - dangling-container-view ---------===//
//
// Reports what utils/ContainerViews.h finds: views into containers used
// after an operation that may have invalidated them, and views into locals
// kept in fields.
//
//===----------------------------------------------------------------------===//

#include "DanglingContainerViewCheck.h"
#include "utils/CheckOptions.h"

#include "clang/AST/ASTContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang::ast_matchers;

namespace clang::tidy::concguard {

//===----------------------------------------------------------------------===//
// The check
//===----------------------------------------------------------------------===//

DanglingContainerViewCheck::DanglingContainerViewCheck(
    StringRef Name, ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context) {
  // The shared option layer: this check's keys, else the project-wide
  // concguard.* ones (utils/CheckOptions.h).
  utils::CheckOptionReader Reader(Context->getOptions().CheckOptions, Name);
  RawContainerFamilies = Reader.text("ContainerFamilies");
  Model = utils::ContainerModel(Reader.containers("ContainerFamilies"));
  AssumeUnknownCallsInvalidate = Reader.flag("AssumeUnknownCallsInvalidate");
  Views = std::make_unique<utils::ContainerViewAnalysis>(
      Model, AssumeUnknownCallsInvalidate);
  for (const utils::OptionProblem &Problem : Reader.problems())
    configurationDiag("%0") << Problem.Message;
}

void DanglingContainerViewCheck::storeOptions(
    ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "ContainerFamilies", RawContainerFamilies);
  Options.store(Opts, "AssumeUnknownCallsInvalidate",
                AssumeUnknownCallsInvalidate);
}

void DanglingContainerViewCheck::registerMatchers(MatchFinder *Finder) {
  Finder->addMatcher(functionDecl(isDefinition(), hasBody(stmt()),
                                  unless(isExpansionInSystemHeader()))
                         .bind("function"),
                     this);
  Finder->addMatcher(
      lambdaExpr(unless(isExpansionInSystemHeader())).bind("lambda"), this);
}

void DanglingContainerViewCheck::check(const MatchFinder::MatchResult &Result) {
  const FunctionDecl *Function =
      Result.Nodes.getNodeAs<FunctionDecl>("function");
  if (const auto *Lambda = Result.Nodes.getNodeAs<LambdaExpr>("lambda"))
    Function = Lambda->getCallOperator();
  if (!Function || !Function->hasBody() || Function->isDependentContext() ||
      Function->isInvalidDecl() || !Analysed.insert(Function).second)
    return;
  analyzeFunction(*Function, *Result.Context);
}

DanglingContainerViewCheck::~DanglingContainerViewCheck() = default;

void DanglingContainerViewCheck::onEndOfTranslationUnit() {
  Analysed.clear();
  Reported.clear();
  Views->endUnit();
}

void DanglingContainerViewCheck::analyzeFunction(const FunctionDecl &Function,
                                                 ASTContext &Context) {
  // One finding per call: its first argument not reported yet (template
  // instantiations repeat a call's locations).
  const CallExpr *ReportedCall = nullptr;
  if (const auto *Method = dyn_cast<CXXMethodDecl>(&Function))
    for (const utils::ViewKeptInField &Kept :
         Views->viewsKeptInFields(*Method, Context)) {
      if (Kept.Call == ReportedCall ||
          !Reported.insert(Kept.Loc.getRawEncoding()).second)
        continue;
      ReportedCall = Kept.Call;
      diag(Kept.Loc, "'%0' points into the local '%1', and '%2' keeps it in "
                     "the member '%3', which outlives '%1': '%3' dangles once "
                     "this function returns")
          << Kept.View << Kept.Local << Kept.Keeper << Kept.Field;
      diag(Kept.KeptAt, "kept in '%0' here", DiagnosticIDs::Note) << Kept.Field;
      diag(Kept.ReadAt, "and read here, in '%0', after '%1' is destroyed",
           DiagnosticIDs::Note)
          << Kept.Reader << Kept.Local;
    }

  using utils::ViewInvalidation;
  static constexpr const char *Reasons[] = {
      "reallocated", "rehashed", "erased the element it refers to",
      "destroyed its elements", "been invalidated by a call"};
  for (const utils::StaleViewUse &Use : Views->staleUses(Function, Context)) {
    if (!Reported.insert(Use.UseLoc.getRawEncoding()).second)
      continue;
    const char *Why = Reasons[static_cast<unsigned>(Use.Why)];
    if (Use.RangeFor)
      diag(Use.UseLoc, "range-for loop over '%0' goes on after '%0' may have "
                       "%1; its hidden iterator is invalid")
          << Use.Container << Why;
    else
      diag(Use.UseLoc, "'%0' is used after '%1' may have %2")
          << Use.View << Use.Container << Why;
    std::string Via = Use.InLambda         ? " (in a lambda)"
                      : Use.Callee.empty() ? ""
                                           : " (in '" + Use.Callee + "')";
    switch (Use.Why) {
    case ViewInvalidation::Reallocate:
      diag(Use.OpLoc, "'%0' may reallocate here%1", DiagnosticIDs::Note)
          << Use.Container << Via;
      break;
    case ViewInvalidation::Rehash:
      diag(Use.OpLoc, "'%0' may rehash here%1", DiagnosticIDs::Note)
          << Use.Container << Via;
      break;
    case ViewInvalidation::Erase:
      diag(Use.OpLoc, "the element may be erased here%0", DiagnosticIDs::Note)
          << Via;
      break;
    case ViewInvalidation::Destroy:
      diag(Use.OpLoc, "'%0' destroys or replaces its elements here%1",
           DiagnosticIDs::Note)
          << Use.Container << Via;
      break;
    case ViewInvalidation::Call:
      diag(Use.OpLoc,
           "'%0' is passed to a function that may invalidate it here",
           DiagnosticIDs::Note)
          << Use.Container;
      break;
    }
    if (Use.RangeFor)
      continue;
    diag(Use.CreatedAt, "view obtained here", DiagnosticIDs::Note);
    if (!Use.ViaField.empty())
      diag(Use.StoredAt,
           "'%0' may point into an element of '%1': one is stored in it here",
           DiagnosticIDs::Note)
          << Use.ViaField << Use.Container;
  }
}

} // namespace clang::tidy::concguard
