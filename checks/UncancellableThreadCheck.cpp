//===--- UncancellableThreadCheck.cpp - concguard-uncancellable-thread ----===//

#include "UncancellableThreadCheck.h"

#include "utils/CheckOptions.h"
#include "utils/ContainerModel.h"
#include "utils/EndlessLoops.h"
#include "utils/ExprUtils.h"
#include "utils/ProjectIndex.h"
#include "utils/SharedContainers.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Analysis/CFG.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace clang::ast_matchers;

namespace clang::tidy::concguard {

using utils::ignoreWrappers;

namespace {

constexpr llvm::StringLiteral LoopNote =
    "loop with no exit that another thread can trigger";

/// Is \p E a construction of a std::thread that starts a thread?
bool isStartingConstruct(const Expr *E) {
  const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(ignoreWrappers(E));
  return Construct && Construct->getNumArgs() > 0 &&
         !Construct->getConstructor()->isCopyOrMoveConstructor() &&
         utils::isStdThreadType(Construct->getType());
}

/// Does \p E name the variable \p Var (through parentheses and casts)?
bool namesVar(const Expr *E, const VarDecl &Var) {
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(ignoreWrappers(E));
  return Ref && Ref->getDecl() == &Var;
}

/// Is \p E `this->Field` or `Field` (implicit this)?
bool namesField(const Expr *E, const FieldDecl &Field) {
  const auto *Member = dyn_cast_or_null<MemberExpr>(ignoreWrappers(E));
  return Member && Member->getMemberDecl() == &Field &&
         isa<CXXThisExpr>(Member->getBase()->IgnoreParenImpCasts());
}

//===----------------------------------------------------------------------===//
// Local std::thread objects: joinable at destruction?
//===----------------------------------------------------------------------===//

enum JoinState : unsigned { Joinable = 1, NotJoinable = 2 };

enum class Effect {
  StartJoinable,    ///< declared with a callable
  StartNotJoinable, ///< declared empty, or moved from elsewhere
  Release,          ///< join(), detach(), swap, moved away, escapes
  AssignSpawn,      ///< `t = std::thread(f)`
  AssignOther,      ///< `t = std::move(u)` / `t = {}`
};

/// Classifies every statement of a function body that changes whether the
/// thread variable is joinable.
class EffectCollector : public RecursiveASTVisitor<EffectCollector> {
public:
  explicit EffectCollector(const VarDecl &Var) : Var(Var) {}

  llvm::DenseMap<const Stmt *, Effect> Effects;
  /// `t.joinable()` calls, for branch refinement.
  llvm::SmallPtrSet<const Expr *, 4> JoinableQueries;

  bool shouldVisitImplicitCode() const { return false; }

  bool VisitDeclStmt(DeclStmt *Decl) {
    for (const class Decl *D : Decl->decls())
      if (D == &Var)
        Effects[Decl] = isStartingConstruct(Var.getInit())
                            ? Effect::StartJoinable
                            : Effect::StartNotJoinable;
    return true;
  }

  bool VisitCXXMemberCallExpr(CXXMemberCallExpr *Call) {
    if (!namesVar(Call->getImplicitObjectArgument(), Var))
      return true;
    Handled.insert(ignoreWrappers(Call->getImplicitObjectArgument()));
    std::optional<utils::ThreadLifetimeCall> Lifetime =
        utils::threadLifetimeCall(*Call);
    if (Lifetime && Lifetime->Op == utils::ThreadLifetimeOp::JoinableQuery)
      JoinableQueries.insert(Call);
    else if (Lifetime && utils::releasesThread(Lifetime->Op))
      Effects[Call] = Effect::Release;
    // get_id(), native_handle(): no change.
    return true;
  }

  bool VisitCXXOperatorCallExpr(CXXOperatorCallExpr *Call) {
    if (Call->getOperator() != OO_Equal || Call->getNumArgs() != 2 ||
        !namesVar(Call->getArg(0), Var))
      return true;
    Handled.insert(ignoreWrappers(Call->getArg(0)));
    Effects[Call] = isStartingConstruct(Call->getArg(1)) ? Effect::AssignSpawn
                                                         : Effect::AssignOther;
    return true;
  }

  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    if (Ref->getDecl() == &Var)
      Refs.push_back(Ref);
    return true;
  }

  /// Any other use (std::move(t), passing t by reference, capturing it,
  /// returning it) hands the thread to code we do not follow: assume that
  /// code takes care of it.
  void finish() {
    for (const DeclRefExpr *Ref : Refs)
      if (!Handled.count(Ref))
        Effects.try_emplace(Ref, Effect::Release);
  }

private:
  const VarDecl &Var;
  llvm::SmallVector<const DeclRefExpr *, 8> Refs;
  llvm::SmallPtrSet<const Expr *, 8> Handled;
};

struct LifetimeFinding {
  SourceLocation Where;
  bool IsAssignment = false;
};

/// Is the terminator condition of \p Block a `t.joinable()` query, possibly
/// negated? Returns the branch index (0 or 1) on which the thread is known
/// not to be joinable.
std::optional<unsigned>
notJoinableSuccessor(const CFGBlock &Block,
                     const llvm::SmallPtrSetImpl<const Expr *> &Queries) {
  const Stmt *Cond = Block.getTerminatorCondition();
  const auto *E = dyn_cast_or_null<Expr>(Cond);
  if (!E)
    return std::nullopt;
  bool Negated = false;
  E = E->IgnoreParenImpCasts();
  while (const auto *Not = dyn_cast<UnaryOperator>(E)) {
    if (Not->getOpcode() != UO_LNot)
      return std::nullopt;
    Negated = !Negated;
    E = Not->getSubExpr()->IgnoreParenImpCasts();
  }
  if (!Queries.count(E))
    return std::nullopt;
  return Negated ? 0u : 1u;
}

SourceLocation destructionLocation(const CFGAutomaticObjDtor &Dtor) {
  const Stmt *Trigger = Dtor.getTriggerStmt();
  if (!Trigger)
    return {};
  if (const auto *Compound = dyn_cast<CompoundStmt>(Trigger))
    return Compound->getRBracLoc();
  return Trigger->getBeginLoc();
}

std::optional<LifetimeFinding>
findJoinableDestruction(const FunctionDecl &Function, const VarDecl &Var,
                        ASTContext &Context) {
  Stmt *Body = Function.getBody();
  if (!Body)
    return std::nullopt;
  EffectCollector Collector(Var);
  Collector.TraverseStmt(Body);
  Collector.finish();

  CFG::BuildOptions Options;
  Options.AddImplicitDtors = true;
  Options.setAllAlwaysAdd();
  std::unique_ptr<CFG> Graph =
      CFG::buildCFG(&Function, Body, &Context, Options);
  if (!Graph)
    return std::nullopt;

  // The set of states the thread may be in at each block's entry; 0 means
  // "not declared yet" (or unreachable).
  std::vector<unsigned> EntryState(Graph->getNumBlockIDs(), 0);
  std::vector<bool> Visited(Graph->getNumBlockIDs(), false);
  llvm::SmallVector<const CFGBlock *, 16> Worklist;
  Worklist.push_back(&Graph->getEntry());
  Visited[Graph->getEntry().getBlockID()] = true;
  std::optional<LifetimeFinding> Finding;

  while (!Worklist.empty()) {
    const CFGBlock *Block = Worklist.pop_back_val();
    unsigned State = EntryState[Block->getBlockID()];
    for (const CFGElement &Element : *Block) {
      if (std::optional<CFGStmt> S = Element.getAs<CFGStmt>()) {
        auto It = Collector.Effects.find(S->getStmt());
        if (It == Collector.Effects.end())
          continue;
        switch (It->second) {
        case Effect::StartJoinable:
          State = Joinable;
          break;
        case Effect::StartNotJoinable:
        case Effect::Release:
          State = State ? NotJoinable : 0;
          break;
        case Effect::AssignSpawn:
        case Effect::AssignOther:
          if ((State & Joinable) && !Finding)
            Finding = LifetimeFinding{S->getStmt()->getBeginLoc(), true};
          State = It->second == Effect::AssignSpawn ? Joinable : NotJoinable;
          break;
        }
      } else if (std::optional<CFGAutomaticObjDtor> Dtor =
                     Element.getAs<CFGAutomaticObjDtor>()) {
        if (Dtor->getVarDecl() != &Var)
          continue;
        if ((State & Joinable) && !Finding)
          Finding = LifetimeFinding{destructionLocation(*Dtor), false};
        State = 0;
      }
    }
    std::optional<unsigned> Refined =
        notJoinableSuccessor(*Block, Collector.JoinableQueries);
    unsigned Index = 0;
    for (const CFGBlock::AdjacentBlock &Succ : Block->succs()) {
      const CFGBlock *Next = Succ.getReachableBlock();
      unsigned OutState = State;
      if (Refined && *Refined == Index && OutState)
        OutState = NotJoinable;
      ++Index;
      if (!Next)
        continue;
      unsigned &In = EntryState[Next->getBlockID()];
      if (!Visited[Next->getBlockID()] || (In | OutState) != In) {
        In |= OutState;
        Visited[Next->getBlockID()] = true;
        Worklist.push_back(Next);
      }
    }
  }
  return Finding;
}

//===----------------------------------------------------------------------===//
// Member threads: who joins them?
//===----------------------------------------------------------------------===//

/// Finds a `join()`/`detach()` of \p Field, or a use that hands it elsewhere,
/// in a function body (where it joins: findMemberJoin()).
class MemberReleaseFinder : public RecursiveASTVisitor<MemberReleaseFinder> {
public:
  explicit MemberReleaseFinder(const FieldDecl &Field) : Field(Field) {}
  const Expr *Release = nullptr; ///< join, detach, or any escape

  bool VisitCXXMemberCallExpr(CXXMemberCallExpr *Call) {
    if (!namesField(Call->getImplicitObjectArgument(), Field))
      return true;
    std::optional<utils::ThreadLifetimeCall> Lifetime =
        utils::threadLifetimeCall(*Call);
    if (Lifetime && utils::releasesThread(Lifetime->Op) && !Release)
      Release = Call;
    return true;
  }
  bool VisitCallExpr(CallExpr *Call) {
    // std::move(worker_) handed somewhere else.
    if (Call->isCallToStdMove() && Call->getNumArgs() == 1 &&
        namesField(Call->getArg(0), Field) && !Release)
      Release = Call;
    return true;
  }

private:
  const FieldDecl &Field;
};

//===----------------------------------------------------------------------===//
// Member threads restarted after the stop that joined them
//===----------------------------------------------------------------------===//

/// A stop flag's type: bool, or std::atomic<bool>.
bool isFlagType(QualType T) {
  T = T.getNonReferenceType().getCanonicalType();
  if (T->isBooleanType())
    return true;
  const auto *Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      T->getAsCXXRecordDecl());
  return Spec && Spec->isInStdNamespace() && Spec->getName() == "atomic" &&
         Spec->getTemplateArgs().size() == 1 &&
         Spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type &&
         Spec->getTemplateArgs()[0].getAsType()->isBooleanType();
}

/// Is \p E the literal `true` (or 1)?
bool isTrueLiteral(const Expr *E) {
  E = E ? E->IgnoreParenImpCasts() : nullptr;
  if (const auto *Bool = dyn_cast_or_null<CXXBoolLiteralExpr>(E))
    return Bool->getValue();
  if (const auto *Int = dyn_cast_or_null<IntegerLiteral>(E))
    return Int->getValue() == 1;
  return false;
}

/// One member function's part in stopping a member thread: which flag
/// fields of `this` it mentions, where it sets one to true, where it joins
/// the thread, and its calls of other member functions on `this`.
class StopFinder : public RecursiveASTVisitor<StopFinder> {
public:
  explicit StopFinder(const FieldDecl &Thread) : Thread(Thread) {}
  /// A lambda's body runs later (the thread's own, when it is the
  /// callable), not as part of this function.
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }

  llvm::SmallPtrSet<const FieldDecl *, 4> Mentioned;
  llvm::SmallVector<std::pair<const FieldDecl *, const Stmt *>, 2> Sets;
  llvm::SmallVector<const Expr *, 2> Joins;
  llvm::SmallVector<const CXXMemberCallExpr *, 4> ThisCalls;

  bool VisitMemberExpr(MemberExpr *Member) {
    if (const auto *Field = dyn_cast<FieldDecl>(Member->getMemberDecl()))
      if (isa<CXXThisExpr>(Member->getBase()->IgnoreParenImpCasts()) &&
          isFlagType(Field->getType()))
        Mentioned.insert(Field);
    return true;
  }
  bool VisitBinaryOperator(BinaryOperator *Op) {
    if (Op->getOpcode() == BO_Assign && isTrueLiteral(Op->getRHS()))
      noteSet(Op->getLHS(), Op);
    return true;
  }
  bool VisitCXXOperatorCallExpr(CXXOperatorCallExpr *Op) {
    // std::atomic<bool>::operator=(true)
    if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
        isTrueLiteral(Op->getArg(1)))
      noteSet(Op->getArg(0), Op);
    return true;
  }
  bool VisitCXXMemberCallExpr(CXXMemberCallExpr *Call) {
    const Expr *Object = Call->getImplicitObjectArgument();
    if (Object && isa<CXXThisExpr>(Object->IgnoreParenImpCasts()))
      ThisCalls.push_back(Call);
    if (const CXXMethodDecl *Method = Call->getMethodDecl();
        Method && Method->getIdentifier() && Method->getName() == "store" &&
        Call->getNumArgs() >= 1 && isTrueLiteral(Call->getArg(0)))
      noteSet(Object, Call);
    if (std::optional<utils::ThreadLifetimeCall> Lifetime =
            utils::threadLifetimeCall(*Call);
        Lifetime && Lifetime->Op == utils::ThreadLifetimeOp::Join &&
        namesField(Lifetime->Handle, Thread))
      Joins.push_back(Call);
    return true;
  }

private:
  void noteSet(const Expr *Target, const Stmt *Site) {
    const auto *Member = dyn_cast_or_null<MemberExpr>(ignoreWrappers(Target));
    const auto *Field =
        Member ? dyn_cast<FieldDecl>(Member->getMemberDecl()) : nullptr;
    if (Field && isa<CXXThisExpr>(Member->getBase()->IgnoreParenImpCasts()) &&
        isFlagType(Field->getType()))
      Sets.push_back({Field, Site});
  }

  const FieldDecl &Thread;
};

/// Does \p Function, or a member function it calls on `this` (\p Depth
/// calls deep), mention the field \p Flag?
bool mentionsFlag(const FunctionDecl *Function, const FieldDecl &Flag,
                  const FieldDecl &Thread, unsigned Depth,
                  llvm::SmallPtrSetImpl<const FunctionDecl *> &Seen) {
  if (!Function || !Function->getBody() || !Seen.insert(Function).second)
    return false;
  StopFinder Finder(Thread);
  Finder.TraverseStmt(Function->getBody());
  if (Finder.Mentioned.count(&Flag))
    return true;
  if (Depth == 0)
    return false;
  return llvm::any_of(Finder.ThisCalls, [&](const CXXMemberCallExpr *Call) {
    const CXXMethodDecl *Method = Call->getMethodDecl();
    return Method &&
           mentionsFlag(Method->getDefinition(), Flag, Thread, Depth - 1, Seen);
  });
}

/// The flags of `this` that \p Function, or a member function it calls on
/// `this` (\p Depth calls deep), mentions.
void collectFlags(const FunctionDecl *Function, const FieldDecl &Thread,
                  unsigned Depth,
                  llvm::SmallPtrSetImpl<const FunctionDecl *> &Seen,
                  llvm::SmallPtrSetImpl<const FieldDecl *> &Flags) {
  if (!Function || !Function->getBody() || !Seen.insert(Function).second)
    return;
  StopFinder Finder(Thread);
  Finder.TraverseStmt(Function->getBody());
  Flags.insert(Finder.Mentioned.begin(), Finder.Mentioned.end());
  if (Depth == 0)
    return;
  for (const CXXMemberCallExpr *Call : Finder.ThisCalls)
    if (const CXXMethodDecl *Method = Call->getMethodDecl())
      collectFlags(Method->getDefinition(), Thread, Depth - 1, Seen, Flags);
}

/// Where a function joins the member thread \p Thread, itself or through
/// the member functions it calls on `this` (\p Depth calls deep, never into
/// \p Skip): the join, and the statement of the function that leads to it
/// (the join itself, or the call whose callee joins). Lambdas in a body are
/// not part of it: they run later, if at all.
struct MemberJoin {
  const Expr *Join = nullptr;
  const Stmt *Site = nullptr;
  explicit operator bool() const { return Join; }
};

MemberJoin findMemberJoin(const FunctionDecl *Function, const FieldDecl &Thread,
                          unsigned Depth,
                          llvm::SmallPtrSetImpl<const FunctionDecl *> &Seen,
                          const FunctionDecl *Skip = nullptr) {
  if (!Function || !Function->getBody() || !Seen.insert(Function).second)
    return {};
  StopFinder Finder(Thread);
  Finder.TraverseStmt(Function->getBody());
  if (!Finder.Joins.empty())
    return {Finder.Joins.front(), Finder.Joins.front()};
  if (Depth == 0)
    return {};
  for (const CXXMemberCallExpr *Call : Finder.ThisCalls)
    if (const CXXMethodDecl *Method = Call->getMethodDecl();
        Method && Method->getDefinition() != Skip)
      if (MemberJoin Inner = findMemberJoin(Method->getDefinition(), Thread,
                                            Depth - 1, Seen, Skip))
        return {Inner.Join, Call};
  return {};
}

//===----------------------------------------------------------------------===//
// The fix-it: std::thread + endless lambda + final join -> std::jthread.
//===----------------------------------------------------------------------===//

class NameCollector : public RecursiveASTVisitor<NameCollector> {
public:
  llvm::StringSet<> Names;
  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    if (Ref->getDecl()->getIdentifier())
      Names.insert(Ref->getDecl()->getName());
    return true;
  }
  bool VisitNamedDecl(NamedDecl *D) {
    if (D->getIdentifier())
      Names.insert(D->getName());
    return true;
  }
};

/// Text of the source line around \p Stmt, extended so that removing a
/// statement that stands alone on its line removes the line.
CharSourceRange wholeLineRange(SourceRange Range, const SourceManager &SM,
                               const LangOptions &LangOpts) {
  SourceLocation End =
      Lexer::findLocationAfterToken(Range.getEnd(), tok::semi, SM, LangOpts,
                                    /*SkipTrailingWhitespaceAndNewLine=*/false);
  if (End.isInvalid())
    return {};
  bool Invalid = false;
  llvm::StringRef Buffer = SM.getBufferData(SM.getFileID(End), &Invalid);
  if (Invalid)
    return {};
  unsigned BeginOffset = SM.getFileOffset(Range.getBegin());
  unsigned EndOffset = SM.getFileOffset(End);
  unsigned LineStart = BeginOffset;
  while (LineStart > 0 &&
         (Buffer[LineStart - 1] == ' ' || Buffer[LineStart - 1] == '\t'))
    --LineStart;
  unsigned LineEnd = EndOffset;
  while (LineEnd < Buffer.size() &&
         (Buffer[LineEnd] == ' ' || Buffer[LineEnd] == '\t'))
    ++LineEnd;
  bool AloneOnLine = (LineStart == 0 || Buffer[LineStart - 1] == '\n') &&
                     (LineEnd == Buffer.size() || Buffer[LineEnd] == '\n');
  if (AloneOnLine) {
    if (LineEnd < Buffer.size())
      ++LineEnd; // the newline
    return CharSourceRange::getCharRange(
        Range.getBegin().getLocWithOffset(
            -static_cast<int>(BeginOffset - LineStart)),
        End.getLocWithOffset(static_cast<int>(LineEnd - EndOffset)));
  }
  return CharSourceRange::getCharRange(Range.getBegin(), End);
}

/// Builds the std::jthread fix-it, or returns no hints when the rewrite
/// would not be mechanical.
std::vector<FixItHint> jthreadFixIt(const utils::SpawnSite &Site,
                                    const utils::EndlessLoop &Loop,
                                    ASTContext &Context) {
  const LangOptions &LangOpts = Context.getLangOpts();
  const SourceManager &SM = Context.getSourceManager();
  std::vector<FixItHint> None;
  if (!LangOpts.CPlusPlus20 || Site.Kind != utils::SpawnKind::StdThread ||
      Site.Handle != utils::HandleKind::Local || !Site.Entry.Lambda ||
      !Site.Arguments.empty() || !Loop.CallPath.empty() ||
      Loop.Function != Site.Entry.Function || !Site.EnclosingFunction)
    return None;
  const auto *Var = dyn_cast_or_null<VarDecl>(Site.HandleDecl);
  const LambdaExpr *Lambda = Site.Entry.Lambda;
  if (!Var || ignoreWrappers(Var->getInit()) != Site.Spawn ||
      Var->getInitStyle() == VarDecl::CInit ||
      Lambda->getCallOperator()->getNumParams() != 0 ||
      Lambda->getTemplateParameterList() || !Var->getTypeSourceInfo())
    return None;

  // The declared type must be spelled `std::thread`.
  SourceRange TypeRange =
      Var->getTypeSourceInfo()->getTypeLoc().getSourceRange();
  if (TypeRange.getBegin().isMacroID() || TypeRange.getEnd().isMacroID() ||
      Lexer::getSourceText(CharSourceRange::getTokenRange(TypeRange), SM,
                           LangOpts) != "std::thread")
    return None;

  // The thread must be used only by one `t.join();`, the last statement of
  // the block that declares it.
  const Stmt *Body = Site.EnclosingFunction->getBody();
  DynTypedNodeList Parents = Context.getParents(*Var);
  const auto *DeclStatement =
      Parents.empty() ? nullptr : Parents[0].get<DeclStmt>();
  if (!DeclStatement || !DeclStatement->isSingleDecl())
    return None;
  DynTypedNodeList Grand = Context.getParents(*DeclStatement);
  const auto *Block = Grand.empty() ? nullptr : Grand[0].get<CompoundStmt>();
  if (!Block || Block->body_empty())
    return None;
  const auto *Join = dyn_cast_or_null<CXXMemberCallExpr>(Block->body_back());
  if (!Join || !Join->getMethodDecl() ||
      Join->getMethodDecl()->getName() != "join" ||
      !namesVar(Join->getImplicitObjectArgument(), *Var))
    return None;
  unsigned Uses = 0;
  class UseCounter : public RecursiveASTVisitor<UseCounter> {
  public:
    UseCounter(const VarDecl &Var, unsigned &Uses) : Var(Var), Uses(Uses) {}
    bool VisitDeclRefExpr(DeclRefExpr *Ref) {
      Uses += Ref->getDecl() == &Var;
      return true;
    }

  private:
    const VarDecl &Var;
    unsigned &Uses;
  } Counter(*Var, Uses);
  Counter.TraverseStmt(const_cast<Stmt *>(Body));
  if (Uses != 1)
    return None;

  // A name for the stop token that the lambda does not already use.
  NameCollector Names;
  Names.TraverseStmt(const_cast<Stmt *>(
      static_cast<const Stmt *>(Lambda->getCallOperator()->getBody())));
  for (const LambdaCapture &Capture : Lambda->captures())
    if (Capture.capturesVariable())
      Names.Names.insert(Capture.getCapturedVar()->getName());
  std::string Token;
  for (const char *Candidate : {"st", "stop", "stop_tok", "stoken"})
    if (!Names.Names.count(Candidate)) {
      Token = Candidate;
      break;
    }
  if (Token.empty())
    return None;
  const std::string NewCond = "!" + Token + ".stop_requested()";

  std::vector<FixItHint> Hints;
  Hints.push_back(FixItHint::CreateReplacement(
      CharSourceRange::getTokenRange(TypeRange), "std::jthread"));

  // The lambda's parameter list.
  const std::string Param = "std::stop_token " + Token;
  if (Lambda->hasExplicitParameters()) {
    TypeSourceInfo *TSI = Lambda->getCallOperator()->getTypeSourceInfo();
    auto Proto = TSI ? TSI->getTypeLoc().getAsAdjusted<FunctionProtoTypeLoc>()
                     : FunctionProtoTypeLoc();
    if (!Proto || Proto.getLParenLoc().isMacroID())
      return None;
    Hints.push_back(FixItHint::CreateInsertion(
        Proto.getLParenLoc().getLocWithOffset(1), Param));
  } else {
    SourceLocation AfterIntro = Lexer::getLocForEndOfToken(
        Lambda->getIntroducerRange().getEnd(), 0, SM, LangOpts);
    if (AfterIntro.isInvalid() || AfterIntro.isMacroID())
      return None;
    Hints.push_back(FixItHint::CreateInsertion(AfterIntro, "(" + Param + ")"));
  }

  // The loop condition.
  const Expr *Cond = nullptr;
  if (const auto *While = dyn_cast<WhileStmt>(Loop.Loop))
    Cond = While->getCond();
  else if (const auto *Do = dyn_cast<DoStmt>(Loop.Loop))
    Cond = Do->getCond();
  else if (const auto *For = dyn_cast<ForStmt>(Loop.Loop))
    Cond = For->getCond();
  if (Cond) {
    SourceRange CondRange = Cond->getSourceRange();
    if (CondRange.getBegin().isMacroID() || CondRange.getEnd().isMacroID())
      return None;
    Hints.push_back(FixItHint::CreateReplacement(
        CharSourceRange::getTokenRange(CondRange), NewCond));
  } else {
    // `for (init; ; inc)`: insert after the first ';' inside the parentheses.
    const auto *For = cast<ForStmt>(Loop.Loop);
    SourceLocation Semi;
    if (const Stmt *Init = For->getInit())
      Semi = isa<DeclStmt>(Init)
                 ? Init->getEndLoc()
                 : Lexer::findNextToken(Init->getEndLoc(), SM, LangOpts)
                       ->getLocation();
    else if (std::optional<clang::Token> Tok =
                 Lexer::findNextToken(For->getLParenLoc(), SM, LangOpts);
             Tok && Tok->is(tok::semi))
      Semi = Tok->getLocation();
    if (Semi.isInvalid() || Semi.isMacroID())
      return None;
    Hints.push_back(
        FixItHint::CreateInsertion(Semi.getLocWithOffset(1), " " + NewCond));
  }

  // The final join: std::jthread's destructor requests stop and joins.
  CharSourceRange JoinRange =
      wholeLineRange(Join->getSourceRange(), SM, LangOpts);
  if (JoinRange.isInvalid() || JoinRange.getBegin().isMacroID())
    return None;
  Hints.push_back(FixItHint::CreateRemoval(JoinRange));
  return Hints;
}

} // namespace

//===----------------------------------------------------------------------===//
// The check
//===----------------------------------------------------------------------===//

UncancellableThreadCheck::UncancellableThreadCheck(StringRef Name,
                                                   ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context) {
  // The shared option layer: this check's keys, else the project-wide
  // concguard.* ones (utils/CheckOptions.h).
  utils::CheckOptionReader Reader(Context->getOptions().CheckOptions, Name);
  RawSpawnFunctions = Reader.text("SpawnFunctions");
  SpawnFunctions = Reader.spawnFunctions("SpawnFunctions");
  ReportDetach = Reader.flag("ReportDetach");
  MaxCallDepth = Reader.count("MaxCallDepth");
  IndexFile = Reader.text("IndexFile");
  TidyContext = Context;
  for (const utils::OptionProblem &Problem : Reader.problems())
    configurationDiag("%0") << Problem.Message;
}

void UncancellableThreadCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "SpawnFunctions", RawSpawnFunctions);
  Options.store(Opts, "ReportDetach", ReportDetach);
  Options.store(Opts, "MaxCallDepth", MaxCallDepth);
  Options.store(Opts, "IndexFile", IndexFile);
}

void UncancellableThreadCheck::registerMatchers(MatchFinder *Finder) {
  Finder->addMatcher(expr(utils::spawnExpressionMatcher(SpawnFunctions),
                          unless(isExpansionInSystemHeader())),
                     this);
  if (ReportDetach) {
    auto StdDetach = cxxMemberCallExpr(callee(
        cxxMethodDecl(hasName("detach"),
                      ofClass(hasAnyName("::std::thread", "::std::jthread")))));
    auto PthreadDetach =
        callExpr(callee(functionDecl(hasName("::pthread_detach"))));
    // A function that only detaches the thread its caller hands it
    // (`int toku_pthread_detach(pthread_t t) { return pthread_detach(t); }`,
    // found in rocksdb) is a portability wrapper: the caller decides, so
    // the calls of the wrapper are reported, not the wrapper.
    auto OfParameter = ignoringParenImpCasts(declRefExpr(to(parmVarDecl())));
    auto DetachOfParameter =
        anyOf(cxxMemberCallExpr(StdDetach, on(OfParameter)),
              callExpr(PthreadDetach, hasArgument(0, OfParameter)));
    auto Wrapper = functionDecl(hasBody(compoundStmt(
        statementCountIs(1),
        has(stmt(anyOf(expr(ignoringParenImpCasts(DetachOfParameter)),
                       returnStmt(hasReturnValue(
                           ignoringParenImpCasts(DetachOfParameter)))))))));
    auto NotInWrapper = unless(hasAncestor(functionDecl(Wrapper)));
    Finder->addMatcher(cxxMemberCallExpr(StdDetach,
                                         unless(isExpansionInSystemHeader()),
                                         NotInWrapper)
                           .bind("detach"),
                       this);
    Finder->addMatcher(callExpr(PthreadDetach,
                                unless(isExpansionInSystemHeader()),
                                NotInWrapper)
                           .bind("detach"),
                       this);
    Finder->addMatcher(
        callExpr(callee(Wrapper), unless(isExpansionInSystemHeader()))
            .bind("detach"),
        this);
  }
}

void UncancellableThreadCheck::check(const MatchFinder::MatchResult &Result) {
  ASTContext &Context = *Result.Context;
  if (const auto *Detach = Result.Nodes.getNodeAs<Expr>("detach")) {
    checkDetach(*Detach);
    return;
  }
  const auto *Spawn = Result.Nodes.getNodeAs<Expr>("spawn");
  this->Context = &Context;
  if (!Spawn)
    return;
  Spawns.push_back(Spawn);
  if (std::optional<utils::SpawnSite> Site =
          utils::analyzeSpawn(Spawn, Context, UnitSpawnFunctions))
    checkSpawn(*Site, Context);
}

void UncancellableThreadCheck::onStartOfTranslationUnit() {
  // Calls of functions whose bodies are in other units take and release
  // locks as the project index says (before any lock scope is computed).
  utils::installIndexedLockEffects(IndexFile,
                                   TidyContext->getCurrentBuildDirectory());
  // A spawn wrapper defined in another unit starts a thread at its calls
  // here.
  UnitSpawnFunctions = SpawnFunctions;
  llvm::append_range(UnitSpawnFunctions,
                     utils::knownSpawnFunctions(
                         IndexFile, TidyContext->getCurrentBuildDirectory()));
}

void UncancellableThreadCheck::onEndOfTranslationUnit() {
  AnalysedLocals.clear();
  AnalysedMembers.clear();
  ReportedContainers.clear();
  wholeProgram();
  Spawns.clear();
  Context = nullptr;
}

void UncancellableThreadCheck::wholeProgram() {
  if (!Context)
    return;
  utils::SharedContainerOptions Analysis;
  Analysis.SpawnFunctions = UnitSpawnFunctions;
  Analysis.MaxCallDepth = MaxCallDepth;
  utils::WholeProgramOptions Options;
  Options.MaxCallDepth = MaxCallDepth;
  Options.Races = false;
  Options.Escapes = false;
  utils::reportWholeProgram(*this, *Context, IndexFile,
                            TidyContext->getCurrentBuildDirectory(), Analysis,
                            Spawns, Options);
}

void UncancellableThreadCheck::checkSpawn(const utils::SpawnSite &Site,
                                          ASTContext &Context) {
  // A task submitted to a pool has no handle of its own and runs on a worker
  // the pool joins, and a parallel algorithm's body on the library's
  // workers: whether they can end is not this check's business.
  if (Site.Kind == utils::SpawnKind::PoolTask ||
      Site.Kind == utils::SpawnKind::ParallelAlgorithm)
    return;
  // A boost::thread detaches in its destructor (Boost.Thread's default) and
  // can be stopped by interrupt() at its interruption points: the rules of
  // this check, written for std::thread, do not fit it yet.
  if (Site.Kind == utils::SpawnKind::BoostThread)
    return;
  // A library's thread object (QThread, Poco::Thread, a QFuture) has its
  // own stop requests and lifetime rules, which this check does not model.
  if (Site.Kind == utils::SpawnKind::ThreadObject)
    return;
  checkEndlessBody(Site, Context);
  if (Site.Kind == utils::SpawnKind::PthreadCreate) {
    if (const CallExpr *Cancel =
            utils::cancelledHandleOverwritten(Site, Context)) {
      diag(Site.Spawn->getBeginLoc(),
           "pthread_create overwrites the handle of a thread that was "
           "cancelled but not joined: that thread can no longer be joined, "
           "so nothing waits for it to stop and its resources are never "
           "released; join it after the cancel");
      diag(Cancel->getBeginLoc(),
           "cancelled here, without a join before the "
           "handle is reused",
           DiagnosticIDs::Note);
    }
    return;
  }
  if (Site.Kind != utils::SpawnKind::StdThread)
    return;
  if (std::optional<utils::UnwoundThreadContainer> Unwound =
          utils::unwoundThreadContainer(Site, Context)) {
    checkUnwoundContainer(Site, *Unwound);
    return;
  }
  if (Site.Handle == utils::HandleKind::Local) {
    checkLocalThreadLifetime(Site, Context);
    checkThrowBeforeJoin(Site, Context);
  } else if (Site.Handle == utils::HandleKind::Member)
    checkMemberThreadLifetime(Site);
  else if (Site.ResultDiscarded && isa<CXXConstructExpr>(Site.Spawn))
    diag(Site.Spawn->getBeginLoc(),
         "temporary std::thread is destroyed while still joinable at the end "
         "of the statement, which calls std::terminate");
  if (Site.Handle == utils::HandleKind::Member ||
      Site.Handle == utils::HandleKind::Heap)
    checkStartAfterStop(Site);
}

void UncancellableThreadCheck::checkEndlessBody(const utils::SpawnSite &Site,
                                                ASTContext &Context) {
  const FunctionDecl *Entry = Site.Entry.Function;
  if (!Entry || !Entry->hasBody())
    return;
  std::optional<utils::EndlessLoop> Loop =
      utils::findEndlessLoop(*Entry, Context, MaxCallDepth);
  if (!Loop)
    return;
  SourceLocation SpawnLoc = Site.Spawn->getBeginLoc();

  auto AddLoopNotes = [&] {
    for (const CallExpr *Call : Loop->CallPath)
      diag(Call->getBeginLoc(), "the thread calls %0 here", DiagnosticIDs::Note)
          << Call->getDirectCallee();
    diag(Loop->Loop->getBeginLoc(), LoopNote, DiagnosticIDs::Note);
  };

  // A std::jthread callable that takes a stop_token and never reads it.
  if (Site.Kind == utils::SpawnKind::JThread && Site.Entry.StopToken &&
      !utils::refersTo(*Entry->getBody(), *Site.Entry.StopToken)) {
    diag(SpawnLoc, "std::jthread callable takes a std::stop_token but never "
                   "checks it; its loop cannot be stopped and the jthread's "
                   "destructor will wait forever");
    diag(Site.Entry.StopToken->getLocation(), "stop token declared here",
         DiagnosticIDs::Note);
    AddLoopNotes();
    return;
  }

  // `std::async(...);` blocks in the destructor of the discarded future.
  if (Site.Kind == utils::SpawnKind::Async && Site.ResultDiscarded) {
    diag(SpawnLoc, "the future returned by std::async is discarded and its "
                   "task never ends: this statement blocks forever");
    AddLoopNotes();
    return;
  }

  // A member thread (or one a member owns through a pointer) started in a
  // constructor and joined by the destructor.
  if ((Site.Handle == utils::HandleKind::Member ||
       (Site.Handle == utils::HandleKind::Heap &&
        isa_and_nonnull<FieldDecl>(Site.HandleDecl))) &&
      isa_and_nonnull<CXXConstructorDecl>(Site.EnclosingFunction)) {
    const auto *Field = cast<FieldDecl>(Site.HandleDecl);
    const auto *Class = cast<CXXRecordDecl>(Field->getParent());
    llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
    const CXXDestructorDecl *Dtor = Class->getDestructor();
    if (MemberJoin Join = Dtor ? findMemberJoin(Dtor->getDefinition(), *Field,
                                                MaxCallDepth, Seen)
                               : MemberJoin()) {
      diag(SpawnLoc, "thread %0 runs a loop that can never end, and the "
                     "destructor of %1 joins it: the destructor deadlocks")
          << Field << Class;
      diag(Join.Join->getBeginLoc(), "joined here", DiagnosticIDs::Note);
      AddLoopNotes();
      return;
    }
  }

  StringRef Message;
  switch (Site.Kind) {
  case utils::SpawnKind::JThread:
    Message = "std::jthread runs a loop that can never end and takes no "
              "std::stop_token: its destructor will request a stop the "
              "thread never sees and wait forever";
    break;
  case utils::SpawnKind::Async:
    Message = "std::async task runs a loop that can never end: waiting for "
              "its future never returns";
    break;
  default:
    Message = "thread runs a loop that can never end: nothing can stop the "
              "thread or wait for it to finish";
    break;
  }
  {
    auto Diag = diag(SpawnLoc, Message);
    for (FixItHint &Hint : jthreadFixIt(Site, *Loop, Context))
      Diag << Hint;
  }
  AddLoopNotes();
}

void UncancellableThreadCheck::checkLocalThreadLifetime(
    const utils::SpawnSite &Site, ASTContext &Context) {
  const auto *Var = dyn_cast_or_null<VarDecl>(Site.HandleDecl);
  if (!Var || !Site.EnclosingFunction ||
      !utils::isStdThreadType(Var->getType()) ||
      Var->getType()->isReferenceType() || !AnalysedLocals.insert(Var).second)
    return;
  std::optional<LifetimeFinding> Finding =
      findJoinableDestruction(*Site.EnclosingFunction, *Var, Context);
  if (!Finding || Finding->Where.isInvalid())
    return;
  if (Finding->IsAssignment)
    diag(Finding->Where, "std::thread %0 is assigned a new thread while it "
                         "may still be joinable, which calls std::terminate")
        << Var;
  else
    diag(Finding->Where, "std::thread %0 may be destroyed here while still "
                         "joinable, which calls std::terminate; join or "
                         "detach it on every path")
        << Var;
  diag(Site.Spawn->getBeginLoc(), "thread started here", DiagnosticIDs::Note);
}

namespace {
/// The first expression in a statement that clearly throws: a `throw`
/// expression, or a call of a function defined in project code, not
/// noexcept, whose own body has a `throw` expression outside any `try`.
/// Throws inside a `try` of the statement, or inside lambdas (which run
/// where they are called), do not count; neither do library calls that
/// could throw only std::bad_alloc and the like.
class ClearThrowFinder : public RecursiveASTVisitor<ClearThrowFinder> {
public:
  ClearThrowFinder(const SourceManager &SM, unsigned CallDepth)
      : SM(SM), CallDepth(CallDepth) {}
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }
  bool TraverseCXXTryStmt(CXXTryStmt *) { return true; }
  bool VisitCXXThrowExpr(CXXThrowExpr *Throw) {
    if (!Found)
      Found = Throw;
    return false;
  }
  bool VisitCallExpr(CallExpr *Call) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (Found || CallDepth == 0 || !Callee)
      return true;
    const FunctionDecl *Definition = Callee->getDefinition();
    const auto *Proto = Callee->getType()->getAs<FunctionProtoType>();
    if (!Definition || !Definition->hasBody() ||
        (Proto && Proto->isNothrow()) ||
        SM.isInSystemHeader(SM.getExpansionLoc(Definition->getLocation())))
      return true;
    ClearThrowFinder Inner(SM, CallDepth - 1);
    Inner.TraverseStmt(Definition->getBody());
    if (Inner.Found)
      Found = Call;
    return !Found;
  }
  const Expr *Found = nullptr;

private:
  const SourceManager &SM;
  unsigned CallDepth;
};

/// Does \p S join \p Var (`T.join()`, also inside an `if`)?
bool joins(const Stmt *S, const VarDecl &Var) {
  return utils::anyStmtIn(
      S,
      [&](const Stmt *Inner) {
        const auto *Call = dyn_cast<CXXMemberCallExpr>(Inner);
        std::optional<utils::ThreadLifetimeCall> Lifetime =
            Call ? utils::threadLifetimeCall(*Call) : std::nullopt;
        const auto *Ref =
            Lifetime && Lifetime->Op == utils::ThreadLifetimeOp::Join
                ? dyn_cast_or_null<DeclRefExpr>(Lifetime->Handle)
                : nullptr;
        return Ref &&
               Ref->getDecl()->getCanonicalDecl() == Var.getCanonicalDecl();
      },
      /*IntoLambdas=*/true);
}
} // namespace

void UncancellableThreadCheck::checkThrowBeforeJoin(
    const utils::SpawnSite &Site, ASTContext &Context) {
  const auto *Var = dyn_cast_or_null<VarDecl>(Site.HandleDecl);
  if (!Context.getLangOpts().CXXExceptions || !Var ||
      Site.Kind != utils::SpawnKind::StdThread ||
      !utils::isStdThreadType(Var->getType()) ||
      Var->getType()->isReferenceType() || !Site.EnclosingFunction ||
      isa<CXXTryStmt>(Site.EnclosingFunction->getBody()))
    return;
  // The statement of the start in its block; no `try` around it in the
  // function (a handler may join the thread).
  const Stmt *StartStmt = nullptr;
  const CompoundStmt *Block = nullptr;
  DynTypedNode Node = DynTypedNode::create(*Site.Spawn);
  for (unsigned Depth = 0; Depth < 64; ++Depth) {
    DynTypedNodeList Parents = Context.getParents(Node);
    if (Parents.empty())
      return;
    const DynTypedNode &Parent = Parents[0];
    if (Parent.get<FunctionDecl>() || Parent.get<LambdaExpr>())
      break;
    if (Parent.get<CXXTryStmt>())
      return;
    if (const auto *Compound = Parent.get<CompoundStmt>(); Compound && !Block) {
      Block = Compound;
      StartStmt = Node.get<Stmt>();
    }
    Node = Parent;
  }
  if (!Block || !StartStmt)
    return;
  // The statements between the start and the first that joins the thread.
  auto Body = Block->body();
  const auto *Start = llvm::find(Body, StartStmt);
  if (Start == Body.end())
    return;
  const auto *Join =
      std::find_if(std::next(Start), Body.end(),
                   [&](const Stmt *S) { return joins(S, *Var); });
  if (Join == Body.end())
    return;
  for (const auto *It = std::next(Start); It != Join; ++It) {
    // Handed to a guard, moved, detached...: someone else takes care of it.
    if (utils::refersTo(**It, *Var))
      return;
    ClearThrowFinder Finder(Context.getSourceManager(), /*CallDepth=*/2);
    Finder.TraverseStmt(const_cast<Stmt *>(*It));
    if (!Finder.Found)
      continue;
    diag(Finder.Found->getBeginLoc(),
         "if this throws, std::thread %0 is destroyed while still joinable, "
         "which calls std::terminate; join it on the exception path too (a "
         "guard object whose destructor joins, a try/catch, or "
         "std::jthread)")
        << Var;
    diag(Site.Spawn->getBeginLoc(), "thread started here", DiagnosticIDs::Note);
    diag((*Join)->getBeginLoc(), "joined here only when nothing threw",
         DiagnosticIDs::Note);
    return;
  }
}

void UncancellableThreadCheck::checkMemberThreadLifetime(
    const utils::SpawnSite &Site) {
  const auto *Field = dyn_cast_or_null<FieldDecl>(Site.HandleDecl);
  if (!Field || !utils::isStdThreadType(Field->getType()) ||
      !AnalysedMembers.insert(Field).second)
    return;
  const auto *Class = cast<CXXRecordDecl>(Field->getParent());
  // Any member function (or friend defined in the class) that joins,
  // detaches or hands off the thread manages its lifetime.
  for (const CXXMethodDecl *Method : Class->methods()) {
    const FunctionDecl *Definition = Method->getDefinition();
    if (!Definition || !Definition->getBody())
      continue;
    MemberReleaseFinder Finder(*Field);
    Finder.TraverseStmt(Definition->getBody());
    if (Finder.Release)
      return;
  }
  const CXXDestructorDecl *Dtor = Class->getDestructor();
  diag(Site.Spawn->getBeginLoc(),
       "member std::thread %0 is never joined or detached: destroying a %1 "
       "while the thread runs calls std::terminate")
      << Field << Class;
  if (Dtor && !Dtor->isImplicit())
    diag(Dtor->getLocation(), "destructor of %0 declared here",
         DiagnosticIDs::Note)
        << Class;
  else
    diag(Field->getLocation(), "member declared here", DiagnosticIDs::Note);
}

void UncancellableThreadCheck::checkStartAfterStop(
    const utils::SpawnSite &Site) {
  // The thread is held by a member: a std::thread, or a smart pointer that
  // owns one (destroying either while the thread runs terminates).
  const auto *Thread = dyn_cast_or_null<FieldDecl>(Site.HandleDecl);
  const auto *Starter = dyn_cast_or_null<CXXMethodDecl>(Site.EnclosingFunction);
  if (!Thread || !Starter || isa<CXXConstructorDecl>(Starter) ||
      isa<CXXDestructorDecl>(Starter) || Starter->isStatic() ||
      !(utils::isStdThreadType(Thread->getType()) ||
        (Site.Handle == utils::HandleKind::Heap &&
         utils::isOwningPointerType(Thread->getType()))))
    return;
  const auto *Class = dyn_cast<CXXRecordDecl>(Thread->getParent());
  if (!Class ||
      Starter->getParent()->getCanonicalDecl() != Class->getCanonicalDecl())
    return;
  // The thread runs a member function (or a lambda) on this object, and
  // reads one of its flags: that flag tells it to stop.
  const FunctionDecl *Body = Site.Entry.Function;
  bool OnThis = Site.Entry.Lambda
                    ? llvm::any_of(Site.Entry.Lambda->captures(),
                                   [](const LambdaCapture &C) {
                                     return C.capturesThis();
                                   })
                    : Site.Entry.Object &&
                          isa<CXXThisExpr>(ignoreWrappers(Site.Entry.Object));
  if (!Body || !Body->getBody() || !OnThis)
    return;
  // The starter restarts: it joins the previous thread before it starts
  // the next, so it is meant to run again and again over the object's life
  // (on every error, every reconnect), also after the stop. A plain
  // `start()` that a user calls once before `stop()` is not reported.
  const SourceManager &SM = Context->getSourceManager();
  {
    llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
    const Stmt *PreviousJoin = findMemberJoin(Starter, *Thread, 2, Seen).Site;
    if (!PreviousJoin ||
        !SM.isBeforeInTranslationUnit(PreviousJoin->getBeginLoc(),
                                      Site.Spawn->getBeginLoc()))
      return;
  }
  llvm::SmallPtrSet<const FieldDecl *, 4> Watched;
  {
    llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
    collectFlags(Body, *Thread, 2, Seen, Watched);
  }
  // A member function other than the starter sets such a flag to true and
  // then joins the thread: it stops the thread for good.
  const CXXMethodDecl *Stopper = nullptr;
  const FieldDecl *Flag = nullptr;
  const Stmt *SetAt = nullptr, *JoinAt = nullptr;
  for (const CXXMethodDecl *Method : Class->methods()) {
    const FunctionDecl *Definition = Method->getDefinition();
    if (!Definition || !Definition->getBody() || Definition == Starter ||
        Definition == Body || isa<CXXConstructorDecl>(Method))
      continue;
    StopFinder Finder(*Thread);
    Finder.TraverseStmt(Definition->getBody());
    // A function that (re)starts the thread itself is no stop: the join of
    // the previous thread in the starter is not one.
    if (llvm::any_of(Finder.ThisCalls, [&](const CXXMemberCallExpr *Call) {
          return Call->getMethodDecl() &&
                 Call->getMethodDecl()->getCanonicalDecl() ==
                     Starter->getCanonicalDecl();
        }))
      continue;
    for (const auto &[Set, Store] : Finder.Sets) {
      if (!Watched.count(Set))
        continue;
      llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
      const Stmt *Join = nullptr;
      if (!Finder.Joins.empty())
        Join = Finder.Joins.back();
      else
        Join = findMemberJoin(Definition, *Thread, 2, Seen,
                              Starter->getDefinition())
                   .Site;
      if (Join && SM.isBeforeInTranslationUnit(Store->getBeginLoc(),
                                               Join->getBeginLoc())) {
        Stopper = Method;
        Flag = Set;
        SetAt = Store;
        JoinAt = Join;
        break;
      }
    }
    if (Stopper)
      break;
  }
  if (!Stopper)
    return;
  // The starter does not look at the flag, nor does any member function
  // that calls it: nothing keeps it from starting the thread after the stop.
  llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
  if (mentionsFlag(Starter->getDefinition(), *Flag, *Thread, 2, Seen))
    return;
  for (const CXXMethodDecl *Method : Class->methods()) {
    const FunctionDecl *Definition = Method->getDefinition();
    if (!Definition || !Definition->getBody() || Definition == Starter)
      continue;
    StopFinder Finder(*Thread);
    Finder.TraverseStmt(Definition->getBody());
    bool CallsStarter =
        llvm::any_of(Finder.ThisCalls, [&](const CXXMemberCallExpr *Call) {
          return Call->getMethodDecl() &&
                 Call->getMethodDecl()->getCanonicalDecl() ==
                     Starter->getCanonicalDecl();
        });
    if (CallsStarter && Finder.Mentioned.count(Flag))
      return;
  }
  // Nothing joins a thread started after the stop: the destructor (if it
  // has a body here) does not.
  const CXXDestructorDecl *Dtor = Class->getDestructor();
  if (Dtor && Dtor->isUserProvided()) {
    const FunctionDecl *Definition = Dtor->getDefinition();
    if (!Definition)
      return; // defined elsewhere: it may join
    llvm::SmallPtrSet<const FunctionDecl *, 8> DtorSeen;
    if (findMemberJoin(Definition, *Thread, 2, DtorSeen))
      return;
  }
  diag(Site.Spawn->getBeginLoc(),
       "%0 may be started here after %1 has set %2 and joined it: %3 does "
       "not check %2, so a thread started after the stop is never joined, "
       "and destroying %0 while it runs calls std::terminate")
      << Thread << Stopper << Flag << Starter;
  diag(SetAt->getBeginLoc(), "%0 is set here, to stop the thread",
       DiagnosticIDs::Note)
      << Flag;
  std::string Via;
  if (const auto *Call = dyn_cast<CXXMemberCallExpr>(JoinAt);
      Call && !utils::threadLifetimeCall(*Call) && Call->getMethodDecl())
    Via = " (in '" + Call->getMethodDecl()->getNameAsString() + "')";
  diag(JoinAt->getBeginLoc(), "and %0 is joined here%1, once",
       DiagnosticIDs::Note)
      << Thread << Via;
}

void UncancellableThreadCheck::checkUnwoundContainer(
    const utils::SpawnSite &Site,
    const utils::UnwoundThreadContainer &Unwound) {
  if (!ReportedContainers.insert(Unwound.Container).second)
    return;
  diag(Site.Spawn->getBeginLoc(),
       "if starting a thread here throws (std::system_error when no thread "
       "can be created), the threads already in %0 are destroyed while "
       "joinable, which calls std::terminate; join them before the exception "
       "leaves, or hold std::jthread")
      << Unwound.Container;
  diag(Unwound.Loop->getBeginLoc(), "threads are started in this loop",
       DiagnosticIDs::Note);
  if (Unwound.Constructor)
    diag(Unwound.Container->getLocation(),
         "%0 is destroyed when the constructor of %1 exits by an exception; "
         "the destructor, which would join its threads, does not run",
         DiagnosticIDs::Note)
        << Unwound.Container << Unwound.Constructor->getParent();
  else
    diag(Unwound.Container->getLocation(),
         "%0 is destroyed while the exception unwinds the function",
         DiagnosticIDs::Note)
        << Unwound.Container;
}

void UncancellableThreadCheck::checkDetach(const Expr &Detach) {
  diag(Detach.getBeginLoc(),
       "detached thread can be neither stopped nor joined: keep the handle "
       "and join it, or use std::jthread (C++ Core Guidelines CP.26)");
  // Point at the start of the thread when the handle is a local variable
  // initialized by a spawn.
  if (const auto *Call = dyn_cast<CXXMemberCallExpr>(&Detach)) {
    const auto *Ref = dyn_cast_or_null<DeclRefExpr>(
        ignoreWrappers(Call->getImplicitObjectArgument()));
    const auto *Var = Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
    if (Var && Var->getInit() && isStartingConstruct(Var->getInit()))
      diag(ignoreWrappers(Var->getInit())->getBeginLoc(), "thread started here",
           DiagnosticIDs::Note);
  }
}

} // namespace clang::tidy::concguard
