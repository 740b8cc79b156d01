//===--- EndlessLoops.cpp - loops that nothing can end --------------------===//

#include "EndlessLoops.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Analysis/Analyses/ExprMutationAnalyzer.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace clang::tidy::concguard::utils {

static const Expr *loopCondition(const Stmt &Loop) {
  if (const auto *While = dyn_cast<WhileStmt>(&Loop))
    return While->getCond();
  if (const auto *Do = dyn_cast<DoStmt>(&Loop))
    return Do->getCond();
  if (const auto *For = dyn_cast<ForStmt>(&Loop))
    return For->getCond();
  return nullptr;
}

bool hasConstantTrueCondition(const Stmt &Loop, ASTContext &Context) {
  if (!isa<WhileStmt, DoStmt, ForStmt>(Loop))
    return false;
  if (const auto *While = dyn_cast<WhileStmt>(&Loop);
      While && While->getConditionVariable())
    return false;
  if (const auto *For = dyn_cast<ForStmt>(&Loop);
      For && For->getConditionVariable())
    return false;
  const Expr *Cond = loopCondition(Loop);
  if (!Cond) // for (;;)
    return true;
  if (Cond->isValueDependent() || Cond->isTypeDependent())
    return false;
  bool Value = false;
  return Cond->EvaluateAsBooleanCondition(Value, Context) && Value;
}

namespace {

/// Walks a loop body and decides whether one of the loop's exits is live.
class ExitFinder {
public:
  ExitFinder(const Stmt &Loop, const FunctionDecl *Container,
             ASTContext &Context)
      : Loop(Loop), Container(Container), Mutations(Loop, Context) {}

  bool hasLiveExit() {
    if (const auto *For = dyn_cast<ForStmt>(&Loop)) {
      visit(For->getBody());
      visit(For->getInc());
    } else if (const auto *While = dyn_cast<WhileStmt>(&Loop)) {
      visit(While->getBody());
    } else if (const auto *Do = dyn_cast<DoStmt>(&Loop)) {
      visit(Do->getBody());
    }
    for (const auto &[Goto, GuardsLive] : Gotos)
      if (!LabelsInside.count(Goto->getLabel()))
        noteExit(GuardsLive);
    return LiveExit;
  }

private:
  const Stmt &Loop;
  const FunctionDecl *Container;
  ExprMutationAnalyzer Mutations;
  /// For each enclosing guard: may it change while the loop runs?
  llvm::SmallVector<bool, 8> Guards;
  unsigned BreakScopes = 0; ///< inner loops and switches around a `break`
  unsigned TryBlocks = 0;   ///< try blocks inside the loop around a throw
  llvm::SmallPtrSet<const LabelDecl *, 4> LabelsInside;
  llvm::SmallVector<std::pair<const GotoStmt *, bool>, 2> Gotos;
  bool LiveExit = false;

  bool guardsLive() const {
    // Unconditional, or under at least one condition that may change.
    return Guards.empty() || llvm::is_contained(Guards, true);
  }
  void noteExit(bool Live) { LiveExit |= Live; }

  void visitGuarded(const Expr *Guard, const Stmt *Body) {
    Guards.push_back(!Guard || mayChange(*Guard));
    visit(Body);
    Guards.pop_back();
  }

  void visit(const Stmt *S) {
    if (!S || LiveExit)
      return;
    if (isa<LambdaExpr, BlockExpr>(S))
      return; // Creating a closure runs none of its body.
    if (isa<ReturnStmt, CoreturnStmt, IndirectGotoStmt>(S))
      return noteExit(guardsLive());
    if (isa<BreakStmt>(S)) {
      if (BreakScopes == 0)
        noteExit(guardsLive());
      return;
    }
    if (const auto *Throw = dyn_cast<CXXThrowExpr>(S)) {
      visit(Throw->getSubExpr());
      if (TryBlocks == 0)
        noteExit(guardsLive());
      return;
    }
    if (const auto *Goto = dyn_cast<GotoStmt>(S)) {
      Gotos.emplace_back(Goto, guardsLive());
      return;
    }
    if (const auto *Label = dyn_cast<LabelStmt>(S)) {
      LabelsInside.insert(Label->getDecl());
      return visit(Label->getSubStmt());
    }
    if (const auto *Call = dyn_cast<CallExpr>(S)) {
      for (const Stmt *Child : Call->children())
        visit(Child);
      if (isNoReturn(*Call))
        noteExit(guardsLive());
      return;
    }
    if (const auto *If = dyn_cast<IfStmt>(S)) {
      visit(If->getInit());
      visit(If->getConditionVariableDeclStmt());
      visit(If->getCond());
      Guards.push_back(mayChange(*If->getCond()) ||
                       (If->getConditionVariable() &&
                        If->getConditionVariable()->getInit() &&
                        mayChange(*If->getConditionVariable()->getInit())));
      visit(If->getThen());
      visit(If->getElse());
      Guards.pop_back();
      return;
    }
    if (const auto *Switch = dyn_cast<SwitchStmt>(S)) {
      visit(Switch->getInit());
      visit(Switch->getCond());
      ++BreakScopes;
      visitGuarded(Switch->getCond(), Switch->getBody());
      --BreakScopes;
      return;
    }
    if (const auto *While = dyn_cast<WhileStmt>(S)) {
      visit(While->getCond());
      ++BreakScopes;
      visitGuarded(While->getCond(), While->getBody());
      --BreakScopes;
      return;
    }
    if (const auto *For = dyn_cast<ForStmt>(S)) {
      visit(For->getInit());
      visit(For->getCond());
      ++BreakScopes;
      Guards.push_back(For->getCond() && mayChange(*For->getCond()));
      visit(For->getBody());
      visit(For->getInc());
      Guards.pop_back();
      --BreakScopes;
      return;
    }
    if (const auto *Do = dyn_cast<DoStmt>(S)) {
      // The body runs at least once: its first pass is not guarded.
      ++BreakScopes;
      visit(Do->getBody());
      --BreakScopes;
      visit(Do->getCond());
      return;
    }
    if (const auto *Range = dyn_cast<CXXForRangeStmt>(S)) {
      visit(Range->getInit());
      visit(Range->getRangeInit());
      ++BreakScopes;
      visitGuarded(Range->getRangeInit(), Range->getBody());
      --BreakScopes;
      return;
    }
    if (const auto *Try = dyn_cast<CXXTryStmt>(S)) {
      ++TryBlocks;
      visit(Try->getTryBlock());
      --TryBlocks;
      // A handler runs when something in the try block threw.
      Guards.push_back(true);
      for (unsigned I = 0; I < Try->getNumHandlers(); ++I)
        visit(Try->getHandler(I)->getHandlerBlock());
      Guards.pop_back();
      return;
    }
    if (const auto *Conditional = dyn_cast<AbstractConditionalOperator>(S)) {
      visit(Conditional->getCond());
      Guards.push_back(mayChange(*Conditional->getCond()));
      visit(Conditional->getTrueExpr());
      visit(Conditional->getFalseExpr());
      Guards.pop_back();
      return;
    }
    if (const auto *Binary = dyn_cast<BinaryOperator>(S);
        Binary && Binary->isLogicalOp()) {
      visit(Binary->getLHS());
      visitGuarded(Binary->getLHS(), Binary->getRHS());
      return;
    }
    for (const Stmt *Child : S->children())
      visit(Child);
  }

  /// The C library's handlers of a failed assert(): they end the program on
  /// a bug, so they are no way to stop a thread (leveldb's background thread
  /// loops `while (true)` around an assert and was missed in debug builds).
  static bool isAssertionHandler(const FunctionDecl &Callee) {
    const IdentifierInfo *Name = Callee.getIdentifier();
    return Name && Callee.isExternC() &&
           llvm::is_contained({"__assert_fail", "__assert_perror_fail",
                               "__assert_rtn", "__assert", "_assert",
                               "_wassert", "__assert2"},
                              Name->getName());
  }

  static bool isNoReturn(const CallExpr &Call) {
    if (const FunctionDecl *Callee = Call.getDirectCallee()) {
      if (isAssertionHandler(*Callee))
        return false;
      if (Callee->isNoReturn())
        return true;
    }
    QualType CalleeType = Call.getCallee()->getType();
    if (const auto *Pointer = CalleeType->getAs<PointerType>())
      CalleeType = Pointer->getPointeeType();
    if (const auto *Function = CalleeType->getAs<FunctionType>())
      return Function->getNoReturnAttr();
    return false;
  }

  /// May the value of \p Guard change while the loop runs?
  bool mayChange(const Expr &Guard) {
    if (Guard.isValueDependent())
      return true;
    bool Changes = false;
    walkGuard(&Guard, Changes);
    return Changes;
  }

  void walkGuard(const Stmt *S, bool &Changes) {
    if (!S || Changes)
      return;
    if (isa<CallExpr, CXXConstructExpr, MemberExpr, CXXThisExpr,
            ArraySubscriptExpr, CXXNewExpr, CXXDeleteExpr, StmtExpr,
            DependentScopeDeclRefExpr, CXXDependentScopeMemberExpr,
            UnresolvedLookupExpr, UnresolvedMemberExpr>(S)) {
      // Calls observe the world; members, elements and pointees are shared
      // with whoever else holds the object.
      if (const auto *Construct = dyn_cast<CXXConstructExpr>(S);
          Construct && Construct->getConstructor()->isTrivial()) {
        for (const Stmt *Child : S->children())
          walkGuard(Child, Changes);
        return;
      }
      Changes = true;
      return;
    }
    if (const auto *Unary = dyn_cast<UnaryOperator>(S);
        Unary && Unary->getOpcode() == UO_Deref) {
      Changes = true;
      return;
    }
    if (isa<LambdaExpr, UnaryExprOrTypeTraitExpr>(S))
      return;
    if (const auto *Ref = dyn_cast<DeclRefExpr>(S)) {
      Changes = mayVariableChange(*Ref);
      return;
    }
    for (const Stmt *Child : S->children())
      walkGuard(Child, Changes);
  }

  bool mayVariableChange(const DeclRefExpr &Ref) {
    const auto *Var = dyn_cast<VarDecl>(Ref.getDecl());
    if (!Var)
      return false; // enumerators, functions, template parameters
    if (Var->isConstexpr())
      return false;
    QualType Type = Var->getType();
    if (Type.isVolatileQualified() || Type->isReferenceType())
      return true;
    if (!Var->hasLocalStorage())
      return true; // globals and statics are shared
    // A capture by reference sees the owner's writes; a capture by copy is
    // the lambda's own local.
    if (Ref.refersToEnclosingVariableOrCapture() && capturedByReference(*Var))
      return true;
    return Mutations.isMutated(Var);
  }

  /// Is \p Var captured by reference by the lambda whose body holds the
  /// loop? Captures we cannot see (nested lambdas, blocks) count as shared.
  bool capturedByReference(const VarDecl &Var) const {
    const auto *Method = dyn_cast_or_null<CXXMethodDecl>(Container);
    if (!Method || !Method->getParent()->isLambda())
      return true;
    for (const LambdaCapture &Capture : Method->getParent()->captures())
      if (Capture.capturesVariable() && Capture.getCapturedVar() == &Var)
        return Capture.getCaptureKind() == LCK_ByRef;
    return true;
  }
};

} // namespace

bool isEndlessLoop(const Stmt &Loop, const FunctionDecl *Container,
                   ASTContext &Context) {
  if (!hasConstantTrueCondition(Loop, Context))
    return false;
  return !ExitFinder(Loop, Container, Context).hasLiveExit();
}

namespace {

/// Finds, in preorder, the first endless loop of a function body and the
/// calls it makes.
class LoopSearch : public RecursiveASTVisitor<LoopSearch> {
public:
  LoopSearch(const FunctionDecl &Function, ASTContext &Context)
      : Function(Function), Context(Context) {}

  const Stmt *Found = nullptr;
  llvm::SmallVector<const CallExpr *, 16> Calls;

  bool shouldVisitLambdaExpr(const LambdaExpr *) { return false; }
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }
  bool TraverseBlockExpr(BlockExpr *) { return true; }
  bool TraverseDecl(Decl *D) {
    // Local classes and their member functions do not run here.
    if (D && isa<TagDecl>(D))
      return true;
    return RecursiveASTVisitor::TraverseDecl(D);
  }

  bool VisitStmt(Stmt *S) {
    if (!Found && isa<WhileStmt, DoStmt, ForStmt>(S) &&
        isEndlessLoop(*S, &Function, Context))
      Found = S;
    return !Found;
  }
  bool VisitCallExpr(CallExpr *Call) {
    Calls.push_back(Call);
    return true;
  }

private:
  const FunctionDecl &Function;
  ASTContext &Context;
};

} // namespace

static std::optional<EndlessLoop>
search(const FunctionDecl &Function, ASTContext &Context, unsigned Depth,
       llvm::SmallPtrSetImpl<const FunctionDecl *> &Visited) {
  const Stmt *Body = Function.getBody();
  if (!Body || !Visited.insert(&Function).second)
    return std::nullopt;
  LoopSearch Search(Function, Context);
  Search.TraverseStmt(const_cast<Stmt *>(Body));
  if (Search.Found)
    return EndlessLoop{Search.Found, &Function, {}};
  if (Depth == 0)
    return std::nullopt;
  const SourceManager &SM = Context.getSourceManager();
  for (const CallExpr *Call : Search.Calls) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      continue;
    const FunctionDecl *Definition = Callee->getDefinition();
    if (!Definition || !Definition->hasBody() ||
        SM.isInSystemHeader(Definition->getLocation()))
      continue;
    if (std::optional<EndlessLoop> Found =
            search(*Definition, Context, Depth - 1, Visited)) {
      Found->CallPath.insert(Found->CallPath.begin(), Call);
      return Found;
    }
  }
  return std::nullopt;
}

std::optional<EndlessLoop> findEndlessLoop(const FunctionDecl &Entry,
                                           ASTContext &Context,
                                           unsigned MaxCallDepth) {
  llvm::SmallPtrSet<const FunctionDecl *, 16> Visited;
  const FunctionDecl *Definition = Entry.getDefinition();
  if (!Definition)
    return std::nullopt;
  return search(*Definition, Context, MaxCallDepth, Visited);
}

} // namespace clang::tidy::concguard::utils
