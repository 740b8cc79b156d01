//===--- UnsynchronizedContainerCheck.cpp ---------------------------------===//

#include "UnsynchronizedContainerCheck.h"
#include "utils/CheckOptions.h"

#include "utils/ProjectIndex.h"

#include "clang/AST/ASTContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FormatVariadic.h"

using namespace clang::ast_matchers;

namespace clang::tidy::concguard {

UnsynchronizedContainerCheck::UnsynchronizedContainerCheck(
    StringRef Name, ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context),
      Inserter(Options.getLocalOrGlobal("IncludeStyle",
                                        tidy::utils::IncludeSorter::IS_LLVM),
               areDiagsSelfContained()) {
  // The shared option layer: this check's keys, else the project-wide
  // concguard.* ones (utils/CheckOptions.h).
  utils::CheckOptionReader Reader(Context->getOptions().CheckOptions, Name);
  RawSpawnFunctions = Reader.text("SpawnFunctions");
  RawContainerTypes = Reader.text("ContainerTypes");
  RawMutexTypes = Reader.text("MutexTypes");
  RawLockGuardTypes = Reader.text("LockGuardTypes");
  Analysis = Reader.sharedContainerOptions();
  IndexFile = Reader.text("IndexFile");
  TidyContext = Context;
  for (const utils::OptionProblem &Problem : Reader.problems())
    configurationDiag("%0") << Problem.Message;
  Rewrite.Analysis = Analysis;
}

void UnsynchronizedContainerCheck::storeOptions(
    ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "SpawnFunctions", RawSpawnFunctions);
  Options.store(Opts, "ContainerTypes", RawContainerTypes);
  Options.store(Opts, "MutexTypes", RawMutexTypes);
  Options.store(Opts, "LockGuardTypes", RawLockGuardTypes);
  Options.store(Opts, "StrictElementAccess", Analysis.StrictElementAccess);
  Options.store(Opts, "MaxCallDepth", Analysis.MaxCallDepth);
  Options.store(Opts, "IncludeStyle", Inserter.getStyle());
  Options.store(Opts, "IndexFile", IndexFile);
}

void UnsynchronizedContainerCheck::registerPPCallbacks(const SourceManager &,
                                                       Preprocessor *PP,
                                                       Preprocessor *) {
  Inserter.registerPreprocessor(PP);
}

void UnsynchronizedContainerCheck::registerMatchers(MatchFinder *Finder) {
  // The analysis is over the whole translation unit: it needs every spawn
  // site (collected here) and every function that may run beside them (at
  // the end of the unit). Without a spawn site there is nothing to do.
  Finder->addMatcher(
      expr(utils::spawnExpressionMatcher(Analysis.SpawnFunctions),
           unless(isExpansionInSystemHeader())),
      this);
  // The whole-program phase needs the unit even without a spawn: its
  // functions may run on threads started in other units.
  Finder->addMatcher(translationUnitDecl().bind("unit"), this);
}

namespace {

unsigned lineOf(const Expr *E, const SourceManager &SM) {
  return SM.getPresumedLineNumber(SM.getExpansionLoc(E->getBeginLoc()));
}

std::string functionName(const FunctionDecl *F) {
  if (!F)
    return "the function";
  if (const auto *Method = dyn_cast<CXXMethodDecl>(F);
      Method && Method->getParent()->isLambda())
    return "a lambda";
  return "'" + F->getQualifiedNameAsString() + "'";
}

/// Where an access runs, relative to the thread that makes it concurrent.
/// \p Thread is the spawn site of the thread that the race is about: the
/// Methods and Elsewhere contexts are shared by every thread.
std::string describe(const utils::ContainerAccess &Access,
                     const utils::SpawnSite &Thread,
                     const utils::SharedContainerResult &Result,
                     const SourceManager &SM) {
  const utils::AccessContext &Ctx = Result.Contexts[Access.Context];
  const utils::SpawnSite &Site =
      Ctx.Kind == utils::ContextKind::Thread || !Ctx.Spawn ? *Ctx.Spawn
      : Ctx.Kind == utils::ContextKind::Region             ? *Ctx.Spawn
                                                           : Thread;
  unsigned Line = lineOf(Site.Spawn, SM);
  switch (Ctx.Kind) {
  case utils::ContextKind::Thread:
    return llvm::formatv("on the thread started at line {0}", Line);
  case utils::ContextKind::Region:
    return llvm::formatv("in {0} after it starts the thread at line {1}",
                         functionName(Site.EnclosingFunction), Line);
  case utils::ContextKind::Methods:
    return llvm::formatv("in {0}, which may run concurrently with the thread "
                         "started at line {1}",
                         functionName(Access.Function), Line);
  case utils::ContextKind::Elsewhere:
    return llvm::formatv("in {0}, which may run concurrently with the thread "
                         "started at line {1} and never joined there",
                         functionName(Access.Function), Line);
  }
  return "";
}

bool isMap(const ValueDecl &D) {
  const CXXRecordDecl *Record =
      D.getType().getNonReferenceType()->getAsCXXRecordDecl();
  if (!Record || !Record->isInStdNamespace() || !Record->getIdentifier())
    return false;
  StringRef Name = Record->getName();
  return Name == "map" || Name == "unordered_map";
}

/// The edits of \p Plan (all in the main file) as fix-its, with the
/// runtime's #include unless the file has it.
std::vector<FixItHint> fixIts(const utils::MainFileRewrite &Plan,
                              const SourceManager &SM,
                              tidy::utils::IncludeInserter &Inserter) {
  std::vector<FixItHint> Hints;
  SourceLocation Start = SM.getLocForStartOfFile(SM.getMainFileID());
  for (const tooling::Replacement &Edit : Plan.Edits) {
    SourceLocation Begin = Start.getLocWithOffset(Edit.getOffset());
    Hints.push_back(FixItHint::CreateReplacement(
        CharSourceRange::getCharRange(Begin,
                                      Begin.getLocWithOffset(Edit.getLength())),
        Edit.getReplacementText()));
  }
  if (std::optional<FixItHint> Include =
          Inserter.createMainFileIncludeInsertion(Plan.Header))
    Hints.push_back(std::move(*Include));
  return Hints;
}

} // namespace

void UnsynchronizedContainerCheck::check(
    const MatchFinder::MatchResult &Result) {
  if (const auto *Spawn = Result.Nodes.getNodeAs<Expr>("spawn"))
    Spawns.push_back(Spawn);
  Context = Result.Context;
}

void UnsynchronizedContainerCheck::wholeProgram(
    llvm::ArrayRef<const Expr *> SpawnExpressions,
    const utils::SharedContainerOptions &Effective) {
  utils::FactsCollector *Collector = utils::currentFactsCollector();
  std::string Index =
      Collector ? std::string()
                : utils::findProjectIndex(
                      IndexFile, TidyContext->getCurrentBuildDirectory());
  if (!Collector && Index.empty())
    return;
  utils::UnitFacts Facts =
      utils::extractUnitFacts(*Context, Effective, SpawnExpressions);
  utils::addSpawnFunctionInputs(Facts, Effective.SpawnFunctions);
  utils::addLockEffectInputs(Facts);
  if (Collector) {
    Collector->add(std::move(Facts));
    return;
  }
  utils::WholeProgramOptions Options;
  Options.MaxCallDepth = Analysis.MaxCallDepth;
  Options.StrictElementAccess = Analysis.StrictElementAccess;
  Options.EndlessThreads = false;
  Options.Escapes = false;
  utils::IndexedFindings Found =
      utils::wholeProgramFindings(Index, std::move(Facts), Options);
  utils::reportIndexedFindings(
      Found, Context->getSourceManager(),
      [&](SourceLocation Loc, StringRef Message, DiagnosticIDs::Level Level) {
        diag(Loc, Message, Level);
      },
      [&](StringRef Message) { configurationDiag(Message); });
}

void UnsynchronizedContainerCheck::onStartOfTranslationUnit() {
  // Calls of functions whose bodies are in other units take and release
  // locks as the project index says (before any lock scope is computed).
  utils::installIndexedLockEffects(IndexFile,
                                   TidyContext->getCurrentBuildDirectory());
}

void UnsynchronizedContainerCheck::onEndOfTranslationUnit() {
  std::vector<const Expr *> SpawnExpressions = std::move(Spawns);
  Spawns.clear();
  if (!Context)
    return;
  // With the thread pools and spawn wrappers of other units that the
  // project index (or the audit's second round) knows: calls of them here
  // start threads.
  utils::SharedContainerOptions Effective = Analysis;
  llvm::append_range(Effective.SpawnFunctions,
                     utils::knownSpawnFunctions(
                         IndexFile, TidyContext->getCurrentBuildDirectory()));
  wholeProgram(SpawnExpressions, Effective);
  if (SpawnExpressions.empty())
    return;
  const SourceManager &SM = Context->getSourceManager();
  utils::SharedContainerResult Found =
      utils::analyzeSharedContainers(*Context, Effective, SpawnExpressions);

  // concguard-rewrite's plan for the racy containers (a concurrent map, or
  // a synchronized<T> for the others): a fix-it for those whose group lives
  // in the main file alone.
  std::vector<utils::MainFileRewrite> Rewrites;
  if (!Found.Racy.empty())
    Rewrites = utils::planMainFileRewrites(*Context, Rewrite, Found);
  llvm::DenseMap<const ValueDecl *, const utils::MainFileRewrite *> RewriteOf;
  for (const utils::MainFileRewrite &R : Rewrites)
    RewriteOf[R.Decl] = &R;
  // A group's edits go with the first warning of its first map only.
  llvm::DenseSet<unsigned> GroupsFixed;

  for (const utils::SharedContainer &Container : Found.Racy) {
    const utils::MainFileRewrite *Plan = RewriteOf.lookup(Container.Decl);
    bool FirstRace = true;
    for (const utils::ContainerRace &Race : Container.Races) {
      const utils::ContainerAccess &Write = *Race.Write;
      const utils::ContainerAccess &Other = *Race.Other;
      // concguard-rewrite's own analysis does not know the thread pools
      // and spawn wrappers of other units.
      auto FromOtherUnit = [&](const utils::ContainerAccess &A) {
        const utils::SpawnSite *Spawn = Found.Contexts[A.Context].Spawn;
        return Spawn && Spawn->FromOtherUnit;
      };
      std::string Fix =
          !isMap(*Container.Decl) ? ""
          : FromOtherUnit(Write) || FromOtherUnit(Other)
              ? " or make it a concguard::sharded_map or "
                "concguard::snapshot_map"
              : " or make it a concguard::sharded_map or "
                "concguard::snapshot_map (concguard-rewrite can do that)";
      bool SameInstance = Write.Context == Other.Context;
      const utils::AccessContext &WriteCtx = Found.Contexts[Write.Context];
      const utils::SpawnSite &Thread =
          WriteCtx.Kind == utils::ContextKind::Thread
              ? *WriteCtx.Spawn
              : *Found.Contexts[Other.Context].Spawn;
      std::string OtherSide =
          SameInstance
              ? "another thread started at the same line may access it too"
              : "it is " + utils::describeAccessKind(Other.Kind) + " " +
                    describe(Other, Thread, Found, SM);
      {
        DiagnosticBuilder Warning =
            diag(Write.Operation->getBeginLoc(),
                 "%0 is %1 here %2 while %3, with no mutex held at both "
                 "accesses; guard every access with the same mutex%4");
        Warning << Container.Decl << utils::describeAccessKind(Write.Kind)
                << describe(Write, Thread, Found, SM) << OtherSide << Fix;
        if (FirstRace && Plan && Plan->Offered &&
            GroupsFixed.insert(Plan->Group).second)
          for (const FixItHint &Hint : fixIts(*Plan, SM, Inserter))
            Warning << Hint;
      }
      for (const CallExpr *Call : Write.CallPath)
        diag(Call->getBeginLoc(), "reached through this call",
             DiagnosticIDs::Note);
      if (!SameInstance) {
        diag(Other.Operation->getBeginLoc(), "%0 here", DiagnosticIDs::Note)
            << utils::describeAccessKind(Other.Kind);
        for (const CallExpr *Call : Other.CallPath)
          diag(Call->getBeginLoc(), "reached through this call",
               DiagnosticIDs::Note);
      }
      if (Thread.Pool && Thread.Pool->WorkerStartInIndex) {
        // A pool of another unit: the task's submit, and the pool's
        // workers where they start (the project index says where).
        diag(Thread.Spawn->getBeginLoc(),
             "task submitted here to a thread pool of class %0",
             DiagnosticIDs::Note)
            << Thread.Pool->Class;
        const utils::IndexedPlace &Worker = *Thread.Pool->WorkerStartInIndex;
        if (SourceLocation At = utils::sourceLocationOf(
                {Worker.File, Worker.Line, Worker.Column},
                Context->getSourceManager());
            At.isValid())
          diag(At, "the pool's worker threads are started here",
               DiagnosticIDs::Note);
      } else {
        diag(Thread.Spawn->getBeginLoc(), "thread started here",
             DiagnosticIDs::Note);
      }
      diag(Container.Decl->getLocation(), "%0 declared here",
           DiagnosticIDs::Note)
          << Container.Decl;
      if (FirstRace && Plan && !Plan->Reason.empty()) {
        SourceLocation At = Plan->ReasonLoc.isValid()
                                ? SM.getExpansionLoc(Plan->ReasonLoc)
                                : Container.Decl->getLocation();
        diag(At, "concguard-rewrite cannot rewrite %0: %1", DiagnosticIDs::Note)
            << Container.Decl << Plan->Reason;
      }
      FirstRace = false;
    }
  }
}

} // namespace clang::tidy::concguard
