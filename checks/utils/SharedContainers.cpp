//===--- SharedContainers.cpp - containers shared between threads ---------===//

#include "SharedContainers.h"

#include "ProjectIndex.h"

#include "ContainerAccess.h"
#include "EndlessLoops.h"
#include "ExprUtils.h"
#include "ProgramFacts.h"
#include "ProjectIndex.h"
#include "StdNames.h"

#include "clang/AST/Attr.h"
#include "clang/AST/ParentMap.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Analysis/Analyses/ExprMutationAnalyzer.h"
#include "clang/Analysis/CFG.h"
#include "clang/Index/USRGeneration.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

namespace clang::tidy::concguard::utils {

bool isExcludedFromSharing(const ValueDecl &D) {
  if (D.hasAttr<GuardedByAttr>() || D.hasAttr<PtGuardedByAttr>())
    return true;
  if (const auto *Var = dyn_cast<VarDecl>(&D); Var && Var->getTLSKind())
    return true;
  QualType T = D.getType().getNonReferenceType().getCanonicalType();
  return T->isAtomicType() ||
         (T->getAsCXXRecordDecl() && T->getAsCXXRecordDecl()->getIdentifier() &&
          T->getAsCXXRecordDecl()->isInStdNamespace() &&
          T->getAsCXXRecordDecl()->getName().starts_with("atomic"));
}

std::string describeAccessKind(AccessKind Kind) {
  switch (Kind) {
  case AccessKind::Read:
    return "read";
  case AccessKind::ElementWrite:
    return "written";
  case AccessKind::StructuralWrite:
    return "modified";
  }
  return "accessed";
}

namespace {

using KeyPath = llvm::SmallVector<const ValueDecl *, 2>;

ObjectKey makeKey(llvm::ArrayRef<const ValueDecl *> Path) {
  ObjectKey Key;
  Key.Path.assign(Path.begin(), Path.end());
  return Key;
}

/// The key of the object \p E names, looking through local pointers that
/// were initialized with an object's address.
std::optional<ObjectKey> objectKeyOf(const Expr *E) {
  E = unwrapStdRef(E);
  if (E)
    E = E->IgnoreParenCasts(); // static_cast<std::vector<int> *>(Arg)
  std::optional<ObjectKey> Key = LockScopeAnalysis::keyOf(E);
  for (unsigned Depth = 0; Key && Depth < 4; ++Depth) {
    const auto *Var = dyn_cast_or_null<VarDecl>(Key->root());
    if (!Var || !Var->hasLocalStorage() || isa<ParmVarDecl>(Var) ||
        !Var->getType()->isPointerType() || !Var->getInit())
      break;
    std::optional<ObjectKey> Pointee =
        LockScopeAnalysis::keyOf(Var->getInit()->IgnoreParenCasts());
    if (!Pointee)
      break;
    Pointee->Path.append(std::next(Key->Path.begin()), Key->Path.end());
    Key = std::move(Pointee);
  }
  return Key;
}

struct LocalAccess {
  ObjectKey Key;
  const Expr *Object = nullptr;
  const Expr *Operation = nullptr;
  AccessKind Kind = AccessKind::Read;
  /// A read that copies the whole container (ContainerAccessClassifier::
  /// copiesWhole).
  bool CopiesWhole = false;
  llvm::SmallVector<HeldMutex, 2> Locks;
};

struct LocalCall {
  const CallExpr *Call = nullptr;
  const FunctionDecl *Callee = nullptr;
  /// For a member call on another object: that object's key.
  std::optional<ObjectKey> Object;
  bool OnThis = false;
  /// Per callee parameter: the object bound to it (by reference, pointer or
  /// std::ref), if any.
  llvm::SmallVector<std::optional<ObjectKey>, 4> Bound;
  llvm::SmallVector<HeldMutex, 2> Locks;
};

struct FunctionSummary {
  std::vector<LocalAccess> Accesses;
  std::vector<LocalCall> Calls;
};

llvm::SmallVector<HeldMutex, 2> heldAt(const LockScopeAnalysis *Locks,
                                       const Stmt *S) {
  llvm::SmallVector<HeldMutex, 2> Held;
  if (!Locks)
    return Held;
  for (const HeldLock &Lock : Locks->locksHeldAt(S))
    Held.push_back({Lock.Key, Lock.Mode, Lock.Conditional});
  return Held;
}

/// Collects the container accesses and the calls of one function body.
class SummaryBuilder : public RecursiveASTVisitor<SummaryBuilder> {
public:
  /// \p BodyParents: see ContainerAccessClassifier.
  SummaryBuilder(ASTContext &Context, const ContainerModel &Model,
                 const LockScopeAnalysis *Locks, FunctionSummary &Summary,
                 const ParentMap &BodyParents)
      : Model(Model), Locks(Locks), Summary(Summary),
        Accesses(Context, Model, BodyParents) {}

  bool TraverseLambdaExpr(LambdaExpr *Lambda) {
    // The closure is created here; its body runs where it is called. A
    // capture by copy (or an init-capture) reads its source now; a capture
    // by reference accesses nothing yet.
    auto Init = Lambda->capture_init_begin();
    for (const LambdaCapture &Capture : Lambda->captures()) {
      if (*Init && !(Capture.getCaptureKind() == LCK_ByRef &&
                     !Lambda->isInitCapture(&Capture)))
        TraverseStmt(*Init);
      ++Init;
    }
    return true;
  }
  bool TraverseBlockExpr(BlockExpr *) { return true; }
  bool TraverseUnaryExprOrTypeTraitExpr(UnaryExprOrTypeTraitExpr *) {
    return true; // sizeof, alignof: unevaluated
  }
  bool TraverseDecl(Decl *D) {
    if (D && isa<TagDecl>(D))
      return true; // local classes
    return RecursiveASTVisitor::TraverseDecl(D);
  }

  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    noteObject(Ref);
    return true;
  }
  bool VisitMemberExpr(MemberExpr *Member) {
    if (isa<FieldDecl, VarDecl>(Member->getMemberDecl()))
      noteObject(Member);
    return true;
  }
  bool VisitCallExpr(CallExpr *Call) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return true;
    LocalCall Entry;
    Entry.Call = Call;
    Entry.Callee = Callee;
    Entry.Locks = heldAt(Locks, Call);
    llvm::ArrayRef<const Expr *> Args(Call->getArgs(), Call->getNumArgs());
    unsigned FirstParamArg = 0;
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Call)) {
      const Expr *Object = ignoreWrappers(Member->getImplicitObjectArgument());
      if (Object && isa<CXXThisExpr>(Object))
        Entry.OnThis = true;
      else if (Object)
        Entry.Object = objectKeyOf(Object);
    } else if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(Call);
               Op && isa<CXXMethodDecl>(Callee) && Op->getNumArgs() > 0) {
      // `obj(args)`, `obj[i]` on a class: argument 0 is the object.
      const Expr *Object = ignoreWrappers(Op->getArg(0));
      if (isa<CXXThisExpr>(Object))
        Entry.OnThis = true;
      else
        Entry.Object = objectKeyOf(Object);
      FirstParamArg = 1;
    }
    for (unsigned I = 0; I < Callee->getNumParams(); ++I) {
      std::optional<ObjectKey> Bound;
      if (FirstParamArg + I < Args.size()) {
        QualType ParamType = Callee->getParamDecl(I)->getType();
        if (ParamType->isReferenceType() || ParamType->isPointerType())
          Bound = objectKeyOf(Args[FirstParamArg + I]);
      }
      Entry.Bound.push_back(std::move(Bound));
    }
    Summary.Calls.push_back(std::move(Entry));
    return true;
  }

private:
  const ContainerModel &Model;
  const LockScopeAnalysis *Locks;
  FunctionSummary &Summary;
  ContainerAccessClassifier Accesses;

  void noteObject(const Expr *E) {
    // A pointer to a container is an access to the container when it is
    // dereferenced: `p->push_back(x)`, `(*p)[k]`.
    QualType Type = E->getType();
    const Expr *Used = E;
    if (Type->isPointerType()) {
      Type = Type->getPointeeType();
      const Expr *Child = nullptr;
      const Stmt *Parent = Accesses.semanticParent(E, Child);
      if (const auto *Member = dyn_cast_or_null<MemberExpr>(Parent);
          Member && Member->isArrow()) {
        // classify() climbs from E to the member call.
      } else if (const auto *Deref = dyn_cast_or_null<UnaryOperator>(Parent);
                 Deref && Deref->getOpcode() == UO_Deref) {
        Used = Deref;
      } else {
        return; // the pointer itself is copied or compared
      }
    }
    if (!Model.classifyContainer(Type))
      return;
    const ValueDecl *D = nullptr;
    if (const auto *Ref = dyn_cast<DeclRefExpr>(E))
      D = Ref->getDecl();
    else if (const auto *Member = dyn_cast<MemberExpr>(E))
      D = Member->getMemberDecl();
    if (!D || isExcludedFromSharing(*D))
      return;
    std::optional<ObjectKey> Key = objectKeyOf(E);
    if (!Key)
      return;
    LocalAccess Access;
    Access.Key = std::move(*Key);
    Access.Object = E;
    Access.Kind = Accesses.classify(Used, Access.Operation);
    Access.CopiesWhole =
        Access.Kind == AccessKind::Read && Accesses.copiesWhole(Used);
    Access.Locks = heldAt(Locks, Access.Operation);
    if (Access.Locks.empty() && Access.Operation != E)
      Access.Locks = heldAt(Locks, E);
    Summary.Accesses.push_back(std::move(Access));
  }
};

/// The pool a task is submitted to, as an object: a variable or member as
/// LockScopeAnalysis names it, or the singleton a static accessor without
/// arguments returns (`QThreadPool::globalInstance()`), named by the
/// accessor.
static std::optional<ObjectKey> poolKeyOf(const Expr *Object) {
  if (std::optional<ObjectKey> Key = LockScopeAnalysis::keyOf(Object))
    return Key;
  const auto *Call = dyn_cast_or_null<CallExpr>(ignoreWrappers(Object));
  const FunctionDecl *Accessor = Call ? Call->getDirectCallee() : nullptr;
  const auto *Method = dyn_cast_or_null<CXXMethodDecl>(Accessor);
  if (!Accessor || Call->getNumArgs() != 0 || (Method && !Method->isStatic()))
    return std::nullopt;
  return makeKey({Accessor->getCanonicalDecl()});
}

/// The statements of the spawning function that run while the thread does.
struct Region {
  llvm::DenseSet<const Stmt *> Stmts;
  bool Escapes = false;       ///< reaches the end of the function unjoined
  bool MultiInstance = false; ///< reaches the spawn again
};

/// Collects the statements that join the thread of a spawn site.
class JoinFinder : public RecursiveASTVisitor<JoinFinder> {
public:
  JoinFinder(const SpawnSite &Site, std::optional<ObjectKey> Handle,
             std::optional<ObjectKey> PthreadHandle,
             std::optional<ObjectKey> Pool)
      : Site(Site), Handle(std::move(Handle)),
        PthreadHandle(std::move(PthreadHandle)), Pool(std::move(Pool)) {
    // A spawn function handed a waiter (`pool.submit(&Waiter, task)`, a
    // latch, a wait group): waiting on it waits for the task.
    if (const auto *Call = dyn_cast<CallExpr>(Site.Spawn);
        Call && (Site.Kind == SpawnKind::SpawnFunction ||
                 (Site.Kind == SpawnKind::PoolTask && Site.Pool)))
      for (const Expr *Arg : Call->arguments()) {
        const Expr *Object = ignoreWrappers(Arg);
        if (Arg == Site.Callable || !Object)
          continue;
        if (const auto *AddrOf = dyn_cast<UnaryOperator>(Object);
            AddrOf && AddrOf->getOpcode() == UO_AddrOf)
          Object = AddrOf->getSubExpr();
        else if (!Arg->isLValue())
          continue;
        if (std::optional<ObjectKey> Key = LockScopeAnalysis::keyOf(Object))
          Waiters.push_back(std::move(*Key));
      }
  }

  llvm::DenseSet<const Stmt *> Stops;

  bool TraverseLambdaExpr(LambdaExpr *) { return true; }

  bool VisitCallExpr(CallExpr *Call) {
    if (isJoin(Call))
      Stops.insert(Call);
    return true;
  }
  // A guard (`if (T.joinable()) T.join();`) or a loop over the threads
  // that joins one of them stops the thread as a whole, condition
  // included. Not when the spawn itself is beside the join (in the same
  // branch, in the loop's body): then the statement is the thread's whole
  // life (`if (C) { std::thread T(F); Work(); T.join(); }`, one thread per
  // iteration) and only the join itself stops it. A spawn in the other
  // branch (`if (Stop) T.join(); else T = std::thread(F);`) keeps the rule:
  // the branches exclude each other.
  bool TraverseIfStmt(IfStmt *If) {
    if (joinsOutsideSpawn(If->getThen(), If->getThen()))
      return markAll(If);
    return RecursiveASTVisitor::TraverseIfStmt(If);
  }
  bool TraverseForStmt(ForStmt *For) {
    if (joinsOutsideSpawn(For, For->getBody()))
      return markAll(For);
    return RecursiveASTVisitor::TraverseForStmt(For);
  }
  bool TraverseCXXForRangeStmt(CXXForRangeStmt *For) {
    if (joinsOutsideSpawn(For, For->getBody()))
      return markAll(For);
    return RecursiveASTVisitor::TraverseCXXForRangeStmt(For);
  }
  bool TraverseWhileStmt(WhileStmt *While) {
    if (joinsOutsideSpawn(While, While->getBody()))
      return markAll(While);
    return RecursiveASTVisitor::TraverseWhileStmt(While);
  }

  bool isJoin(const CallExpr *Call) const {
    if (Site.Kind == SpawnKind::PoolTask)
      return isPoolTaskEnd(*Call) || waitsOnWaiter(*Call);
    if (Site.Kind == SpawnKind::ThreadObject)
      return isThreadObjectJoin(*Call);
    std::optional<ThreadLifetimeCall> Lifetime = threadLifetimeCall(*Call);
    if (!Lifetime)
      return false;
    if (Lifetime->IsPthread)
      return Lifetime->Op == ThreadLifetimeOp::Join && PthreadHandle &&
             LockScopeAnalysis::keyOf(Lifetime->Handle) == PthreadHandle;
    if (Site.Kind == SpawnKind::Async) {
      if (Lifetime->Op != ThreadLifetimeOp::Wait)
        return false;
      // A future kept in a container: waiting for the futures of its type
      // (`for (auto &F : Futures) F.get();`), as for containers of threads.
      if (Site.Handle == HandleKind::Container)
        return isStdRecordType(Lifetime->Handle->getType(),
                               {"future", "shared_future"});
      return sameObject(Lifetime->Handle);
    }
    if (Site.Kind == SpawnKind::SpawnFunction && waitsOnWaiter(*Call))
      return true;
    // A spawn function that returns a std::future (a wrapper of
    // std::async): waiting for it waits for the task.
    if (Site.Kind == SpawnKind::SpawnFunction &&
        Lifetime->Op == ThreadLifetimeOp::Wait &&
        isStdRecordType(Lifetime->Handle->getType(),
                        {"future", "shared_future"}))
      return sameObject(Lifetime->Handle);
    if (Lifetime->Op != ThreadLifetimeOp::Join)
      return false;
    if (Site.Handle == HandleKind::Container)
      return isStdThreadType(Lifetime->Handle->getType()) ||
             isStdJThreadType(Lifetime->Handle->getType()) ||
             isBoostThreadType(Lifetime->Handle->getType()) ||
             // A boost::thread_group's join_all() joins its threads.
             (isBoostThreadGroupType(Lifetime->Handle->getType()) &&
              sameObject(Lifetime->Handle));
    return sameObject(Lifetime->Handle);
  }

private:
  const SpawnSite &Site;
  std::optional<ObjectKey> Handle;
  std::optional<ObjectKey> PthreadHandle;
  /// For a PoolTask: the pool the task was submitted to.
  std::optional<ObjectKey> Pool;
  llvm::SmallVector<ObjectKey, 2> Waiters;

  /// What ends a pool task: a call on the same pool of a method that waits
  /// for its tasks or joins its workers (isPoolBarrier: a boost::asio
  /// thread_pool's join(), wait() and stop() are such), a run of an asio
  /// context by the posting thread, or a wait for the std::future the
  /// submit returned (kept in a variable, or in a container of futures
  /// waited for in a loop).
  bool isPoolTaskEnd(const CallExpr &Call) const {
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call);
        Member && Pool && Member->getMethodDecl()) {
      const Expr *Object = ignoreWrappers(Member->getImplicitObjectArgument());
      if (const auto *Arrow = dyn_cast_or_null<CXXOperatorCallExpr>(Object);
          Arrow && Arrow->getOperator() == OO_Arrow && Arrow->getNumArgs() == 1)
        Object = ignoreWrappers(Arrow->getArg(0));
      if (poolKeyOf(Object) == Pool &&
          (isPoolBarrier(*Member->getMethodDecl()) ||
           isBarrierInIndex(*Member->getMethodDecl())))
        return true;
    }
    // A handler posted to an io_context: the posting thread's own `run()`
    // of that context returns when the context has no work left.
    if (const Expr *Object = Site.Asio ? asioRunObject(Call) : nullptr;
        Object && Pool && LockScopeAnalysis::keyOf(Object) == Pool)
      return true;
    std::optional<ThreadLifetimeCall> Lifetime = threadLifetimeCall(Call);
    if (!Lifetime || Lifetime->Op != ThreadLifetimeOp::Wait ||
        !isStdRecordType(Lifetime->Handle->getType(),
                         {"future", "shared_future"}))
      return false;
    return Site.Handle == HandleKind::Container || sameObject(Lifetime->Handle);
  }

  /// A wait or join on an object handed to the spawn call besides the
  /// callable (`Pool.submit(&Waiter, Task)` ... `Waiter.wait()`).
  bool waitsOnWaiter(const CallExpr &Call) const {
    if (Waiters.empty())
      return false;
    std::optional<ThreadLifetimeCall> Lifetime = threadLifetimeCall(Call);
    if (!Lifetime || (Lifetime->Op != ThreadLifetimeOp::Wait &&
                      Lifetime->Op != ThreadLifetimeOp::Join))
      return false;
    std::optional<ObjectKey> Key = LockScopeAnalysis::keyOf(Lifetime->Handle);
    return Key && llvm::is_contained(Waiters, *Key);
  }

  /// A barrier of a pool of another unit (ThreadPoolShape::BarriersInIndex).
  bool isBarrierInIndex(const CXXMethodDecl &Method) const {
    if (!Site.Pool || Site.Pool->BarriersInIndex.empty())
      return false;
    llvm::SmallString<128> USR;
    return !index::generateUSRForDecl(Method.getCanonicalDecl(), USR) &&
           llvm::is_contained(Site.Pool->BarriersInIndex, USR.str());
  }

  bool sameObject(const Expr *Object) const {
    return Handle && LockScopeAnalysis::keyOf(Object) == Handle;
  }

  /// What ends a thread object's thread: join(), tryJoin() (Poco::Thread),
  /// wait() (QThread), waitForFinished() or result() (QFuture) on it.
  bool isThreadObjectJoin(const CallExpr &Call) const {
    const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call);
    const CXXMethodDecl *Method = Member ? Member->getMethodDecl() : nullptr;
    if (!Method || !Method->getIdentifier() ||
        !llvm::is_contained(
            {"join", "tryJoin", "wait", "waitForFinished", "result"},
            Method->getName()))
      return false;
    const Expr *Object = ignoreWrappers(Member->getImplicitObjectArgument());
    if (const auto *Arrow = dyn_cast_or_null<CXXOperatorCallExpr>(Object);
        Arrow && Arrow->getOperator() == OO_Arrow && Arrow->getNumArgs() == 1)
      Object = ignoreWrappers(Arrow->getArg(0));
    return Object && sameObject(Object);
  }

  /// \p Body joins the thread and \p Around, the part of the statement
  /// that runs with it, does not start it.
  bool joinsOutsideSpawn(const Stmt *Around, const Stmt *Body) const {
    return containsJoin(Body) && !containsStmt(Around, Site.Spawn);
  }

  static bool containsStmt(const Stmt *S, const Stmt *Target) {
    return anyStmtIn(
        S, [&](const Stmt *Inner) { return Inner == Target; },
        /*IntoLambdas=*/true);
  }

  bool containsJoin(const Stmt *S) const {
    return anyStmtIn(
        S,
        [&](const Stmt *Inner) {
          const auto *Call = dyn_cast<CallExpr>(Inner);
          return Call && isJoin(Call);
        },
        /*IntoLambdas=*/false);
  }

  bool markAll(const Stmt *S) {
    if (!S)
      return true;
    Stops.insert(S);
    for (const Stmt *Child : S->children())
      markAll(Child);
    return true;
  }
};

/// The try statements of a body (not inside lambdas, which run where they
/// are called).
static void collectTryStmts(const Stmt *S,
                            llvm::SmallVectorImpl<const CXXTryStmt *> &Out) {
  if (!S || isa<LambdaExpr>(S))
    return;
  if (const auto *Try = dyn_cast<CXXTryStmt>(S))
    Out.push_back(Try);
  for (const Stmt *Child : S->children())
    collectTryStmts(Child, Out);
}

/// Does the try block of \p Try declare \p Var?
static bool declares(const CXXTryStmt *Try, const VarDecl *Var) {
  llvm::SmallVector<const Stmt *, 16> Work{Try->getTryBlock()};
  while (!Work.empty()) {
    const Stmt *S = Work.pop_back_val();
    if (!S || isa<LambdaExpr>(S))
      continue;
    if (const auto *Decls = dyn_cast<DeclStmt>(S))
      for (const Decl *D : Decls->decls())
        if (D->getCanonicalDecl() == Var->getCanonicalDecl())
          return true;
    Work.append(S->child_begin(), S->child_end());
  }
  return false;
}

/// Is \p F declared not to throw (`noexcept`, `throw()`)? An exception
/// specification not yet computed (an implicit member's) counts as
/// throwing.
static bool declaredNothrow(const FunctionDecl *F) {
  const auto *Proto = F ? F->getType()->getAs<FunctionProtoType>() : nullptr;
  if (!Proto)
    return false;
  ExceptionSpecificationType Spec = Proto->getExceptionSpecType();
  if (Spec == EST_Unevaluated || Spec == EST_Uninstantiated ||
      Spec == EST_Unparsed || Spec == EST_DependentNoexcept)
    return false;
  return Proto->isNothrow();
}

/// Does \p S hold a statement of \p Reached that may throw: a call or a
/// construction not declared `noexcept`, a `new` or a `throw`?
static bool mayThrowIn(const Stmt *S,
                       const llvm::DenseSet<const Stmt *> &Reached) {
  if (!S || isa<LambdaExpr>(S))
    return false;
  if (Reached.count(S)) {
    if (const auto *Call = dyn_cast<CallExpr>(S);
        Call && !declaredNothrow(Call->getDirectCallee()))
      return true;
    if (const auto *Construct = dyn_cast<CXXConstructExpr>(S);
        Construct && !declaredNothrow(Construct->getConstructor()))
      return true;
    if (isa<CXXNewExpr, CXXThrowExpr>(S))
      return true;
  }
  return llvm::any_of(S->children(), [&](const Stmt *Child) {
    return mayThrowIn(Child, Reached);
  });
}

Region computeRegion(const SpawnSite &Site, ASTContext &Context) {
  Region Result;
  const FunctionDecl *Function = Site.EnclosingFunction;
  if (!Function || !Function->hasBody())
    return Result;
  // A discarded std::async future waits at the end of its statement.
  if (Site.Kind == SpawnKind::Async && Site.ResultDiscarded)
    return Result;
  // A parallel algorithm returns when its body has run on every thread:
  // nothing of its caller runs beside it, but the body runs beside itself.
  if (Site.Kind == SpawnKind::ParallelAlgorithm) {
    Result.MultiInstance = true;
    return Result;
  }

  std::optional<ObjectKey> Handle;
  if (const auto *Var = dyn_cast_or_null<VarDecl>(Site.HandleDecl))
    Handle = makeKey({Var->getCanonicalDecl()});
  else if (Site.HandleDecl)
    Handle = makeKey({Site.HandleDecl});
  if (const CXXMemberCallExpr *Call = containerCall(Site, Context))
    Handle = objectKeyOf(Call->getImplicitObjectArgument());
  std::optional<ObjectKey> PthreadHandle;
  if (Site.Kind == SpawnKind::PthreadCreate)
    if (const auto *Call = dyn_cast<CallExpr>(Site.Spawn);
        Call && Call->getNumArgs() > 0)
      PthreadHandle = LockScopeAnalysis::keyOf(ignoreWrappers(Call->getArg(0)));

  std::optional<ObjectKey> Pool;
  if (Site.Kind == SpawnKind::PoolTask && Site.PoolObject)
    Pool = poolKeyOf(Site.PoolObject);

  JoinFinder Joins(Site, Handle, PthreadHandle, Pool);
  Joins.TraverseStmt(Function->getBody());

  CFG::BuildOptions Options;
  Options.AddImplicitDtors = true;
  Options.setAllAlwaysAdd();
  std::unique_ptr<CFG> Graph =
      CFG::buildCFG(Function, Function->getBody(), &Context, Options);
  if (!Graph)
    return Result;

  // The jthread (or std::future of std::async) joins in its destructor; a
  // local pool (or the smart pointer that owns it) ends its tasks when it
  // is destroyed.
  auto IsJoiningDtor = [&](const CFGElement &Element) {
    std::optional<CFGAutomaticObjDtor> Dtor =
        Element.getAs<CFGAutomaticObjDtor>();
    const VarDecl *Var = Dtor ? Dtor->getVarDecl() : nullptr;
    if (!Var)
      return false;
    if (Site.Kind == SpawnKind::PoolTask)
      return Pool && makeKey({Var->getCanonicalDecl()}) == *Pool;
    if (!Handle || makeKey({Var->getCanonicalDecl()}) != *Handle)
      return false;
    // A container of jthreads joins them all when it is destroyed.
    return Site.Kind == SpawnKind::JThread || Site.Kind == SpawnKind::Async;
  };

  // Locate the spawn.
  const CFGBlock *StartBlock = nullptr;
  unsigned StartIndex = 0;
  for (const CFGBlock *Block : *Graph) {
    for (unsigned I = 0; I < Block->size() && !StartBlock; ++I)
      if (std::optional<CFGStmt> S = (*Block)[I].getAs<CFGStmt>();
          S && S->getStmt() == Site.Spawn) {
        StartBlock = Block;
        StartIndex = I + 1;
      }
    if (StartBlock)
      break;
  }
  if (!StartBlock)
    return Result;

  llvm::DenseSet<const CFGBlock *> Visited;
  llvm::SmallVector<std::pair<const CFGBlock *, unsigned>, 16> Worklist;
  Worklist.push_back({StartBlock, StartIndex});
  // The CFG has no exception edges, so a catch handler has no predecessor:
  // it runs beside the thread when a statement of its try block that may
  // throw (a call, a construction, a throw) does. Each round adds the
  // handlers of the try statements the region has reached so far.
  llvm::SmallVector<const CXXTryStmt *, 4> Tries;
  collectTryStmts(Function->getBody(), Tries);
  // A handle (or pool) declared in a try block is destroyed while the
  // exception unwinds, before the handler runs: its destructor joins (a
  // std::jthread, a future of std::async, a pool) or ends the program (a
  // joinable std::thread). A boost::thread's detaches and its thread runs
  // on beside the handler.
  const VarDecl *Owner = nullptr;
  if (Site.Kind != SpawnKind::BoostThread) {
    if (const auto *Var = dyn_cast_or_null<VarDecl>(Site.HandleDecl);
        Var && Var->hasLocalStorage())
      Owner = Var;
    else if (Pool && Pool->Path.size() == 1)
      if (const auto *PoolVar = dyn_cast<VarDecl>(Pool->root());
          PoolVar && PoolVar->hasLocalStorage())
        Owner = PoolVar;
  }
  llvm::DenseSet<const CXXTryStmt *> TriesEntered;
  for (;;) {
    while (!Worklist.empty()) {
      auto [Block, From] = Worklist.pop_back_val();
      bool Stopped = false;
      for (unsigned I = From; I < Block->size(); ++I) {
        const CFGElement &Element = (*Block)[I];
        if (IsJoiningDtor(Element)) {
          Stopped = true;
          break;
        }
        std::optional<CFGStmt> S = Element.getAs<CFGStmt>();
        if (!S)
          continue;
        if (Joins.Stops.count(S->getStmt())) {
          Stopped = true;
          break;
        }
        if (S->getStmt() == Site.Spawn)
          Result.MultiInstance = true;
        Result.Stmts.insert(S->getStmt());
      }
      if (Stopped)
        continue;
      if (const Stmt *Terminator = Block->getTerminatorStmt();
          Terminator && Joins.Stops.count(Terminator))
        continue;
      // A path through a handler to the exit leaves by an exception (a
      // rethrow) with the thread still joinable: no thread that outlives
      // the function on purpose.
      if (Block == &Graph->getExit() && TriesEntered.empty())
        Result.Escapes = true;
      for (const CFGBlock::AdjacentBlock &Succ : Block->succs())
        if (const CFGBlock *Next = Succ.getReachableBlock())
          if (Visited.insert(Next).second)
            Worklist.push_back({Next, 0});
    }
    for (const CXXTryStmt *Try : Tries)
      if (!TriesEntered.count(Try) && !(Owner && declares(Try, Owner)) &&
          mayThrowIn(Try->getTryBlock(), Result.Stmts)) {
        TriesEntered.insert(Try);
        for (const CFGBlock *Block : *Graph)
          if (const auto *Catch =
                  dyn_cast_or_null<CXXCatchStmt>(Block->getLabel()))
            for (unsigned H = 0; H < Try->getNumHandlers(); ++H)
              if (Try->getHandler(H) == Catch && Visited.insert(Block).second)
                Worklist.push_back({Block, 0});
      }
    if (Worklist.empty())
      break;
  }
  return Result;
}

/// The class of `this` that \p Site's callable runs on, whatever kind of
/// start it is (a thread, a pool task, an asio handler).
static const CXXRecordDecl *classRunOnThis(const SpawnSite &Site) {
  if (Site.Entry.Object && isa<CXXThisExpr>(ignoreWrappers(Site.Entry.Object)))
    if (const auto *Method =
            dyn_cast_or_null<CXXMethodDecl>(Site.Entry.Function))
      return Method->getParent();
  if (Site.Entry.Lambda &&
      llvm::any_of(Site.Entry.Lambda->captures(),
                   [](const LambdaCapture &C) { return C.capturesThis(); }))
    if (const auto *Method =
            dyn_cast_or_null<CXXMethodDecl>(Site.EnclosingFunction))
      return Method->getParent();
  if (Site.Handle == HandleKind::Member)
    if (const auto *Method =
            dyn_cast_or_null<CXXMethodDecl>(Site.Entry.Function);
        Method && Site.Entry.Object &&
        isa<CXXThisExpr>(ignoreWrappers(Site.Entry.Object)))
      return Method->getParent();
  return nullptr;
}

/// Does \p Site run its thread on `this` of its enclosing member function?
const CXXRecordDecl *threadClass(const SpawnSite &Site) {
  // A pool task is taken to run at most until the end of the function that
  // submits it (see serialisedTasks and Analysis::run): not beside every
  // member function of its class.
  if (Site.Kind == SpawnKind::PoolTask ||
      Site.Kind == SpawnKind::ParallelAlgorithm)
    return nullptr;
  return classRunOnThis(Site);
}

/// Does \p Body join the thread held by the data member \p Handle
/// (`Handle.join()`, `Handle->join()`)?
static bool joinsMember(const Stmt *Body, const FieldDecl &Handle) {
  llvm::SmallVector<const Stmt *, 32> Work{Body};
  while (!Work.empty()) {
    const Stmt *S = Work.pop_back_val();
    if (!S || isa<LambdaExpr>(S))
      continue;
    if (const auto *Call = dyn_cast<CallExpr>(S))
      if (std::optional<ThreadLifetimeCall> Lifetime =
              threadLifetimeCall(*Call);
          Lifetime && Lifetime->Op == ThreadLifetimeOp::Join &&
          LockScopeAnalysis::keyOf(Lifetime->Handle) == makeKey({&Handle}))
        return true;
    Work.append(S->child_begin(), S->child_end());
  }
  return false;
}

/// Is \p Site started by one of \p Functions, directly or from a lambda
/// written inside one of them?
static bool
postedWithin(const SpawnSite &Site,
             const llvm::DenseSet<const FunctionDecl *> &Functions) {
  const FunctionDecl *F = Site.EnclosingFunction;
  for (unsigned Depth = 0; F && Depth < 4; ++Depth) {
    if (Functions.count(F))
      return true;
    const auto *Method = dyn_cast<CXXMethodDecl>(F);
    if (!Method || !Method->getParent()->isLambda())
      return false;
    F = dyn_cast<FunctionDecl>(Method->getParent()->getDeclContext());
  }
  return false;
}

/// Do two pool tasks run one after another: both submitted to the same
/// pool object, whose class starts a single worker thread?
bool serialisedTasks(const SpawnSite &A, const SpawnSite &B) {
  if (A.Kind != SpawnKind::PoolTask || B.Kind != SpawnKind::PoolTask ||
      !A.Pool || !B.Pool || !A.Pool->SingleWorker ||
      A.Pool->Class != B.Pool->Class || !A.PoolObject || !B.PoolObject)
    return false;
  std::optional<ObjectKey> KeyA = LockScopeAnalysis::keyOf(A.PoolObject);
  return KeyA && KeyA == LockScopeAnalysis::keyOf(B.PoolObject);
}

/// A pool task outlives the function that submits it only as far as that
/// function's scope: it is never taken to run beside every other function.
bool mayEscape(const SpawnSite &Site, const Region &Stmts) {
  return Stmts.Escapes && Site.Kind != SpawnKind::PoolTask;
}

/// The calls of a body that run a boost::asio context on the calling thread
/// (asioRunObject), and its member calls on `this` (not inside lambdas,
/// which run where they are called).
class AsioRunScan : public RecursiveASTVisitor<AsioRunScan> {
public:
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }
  bool VisitCallExpr(CallExpr *Call) {
    if (const Expr *Object = asioRunObject(*Call))
      Runs.push_back(Object);
    else if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Call);
             Member && Member->getMethodDecl() &&
             isa_and_nonnull<CXXThisExpr>(
                 ignoreWrappers(Member->getImplicitObjectArgument())))
      OnThis.push_back(Member->getMethodDecl());
    return true;
  }
  std::vector<const Expr *> Runs;
  std::vector<const CXXMethodDecl *> OnThis;
};

/// Where the handlers posted to boost::asio run (SpawnSite::Asio), from the
/// spawn sites of one unit. The threads that run an io_context are the
/// spawned threads whose function (or a member function it calls on its
/// object, two calls deep) calls `run()`, `run_one()`, `poll()`, ... on it,
/// counted twice when their spawn can run again before a join (a loop), and
/// the spawning function itself when it runs the context while such a
/// thread runs; a thread_pool also runs its own threads (the count given to
/// its constructor, or several when it is not a constant). A context's key
/// is its declaration chain, as for every other object.
///
/// Nothing is invented: a handler whose context has no such thread in the
/// unit (run in another unit, by the posting thread alone, or a context
/// that cannot be named) takes part in no race.
class AsioThreads {
public:
  AsioThreads(llvm::ArrayRef<const SpawnSite *> Sites,
              llvm::ArrayRef<const Region *> Regions, ASTContext &Context)
      : Context(Context) {
    // No handler, nothing to find (the common unit pays one scan).
    if (llvm::none_of(Sites, [](const SpawnSite *Site) {
          return Site->Asio.has_value();
        }))
      return;
    for (unsigned I = 0; I < Sites.size(); ++I) {
      const SpawnSite &Site = *Sites[I];
      if (Site.Asio)
        continue;
      llvm::SmallVector<ObjectKey, 2> Keys;
      threadRuns(Site, Keys);
      for (ObjectKey &Key : Keys)
        if (llvm::none_of(Runs, [&](const RunThread &Run) {
              return Run.Site == &Site && Run.Context == Key;
            }))
          Runs.push_back({&Site, Regions[I], std::move(Key)});
    }
    // The spawning function running the context itself while one of those
    // threads runs: one more thread.
    for (const RunThread &Run : Runs)
      for (const Stmt *S : Run.Stmts->Stmts)
        if (const auto *Call = dyn_cast<CallExpr>(S))
          if (const Expr *Object = asioRunObject(*Call))
            if (objectKeyOf(Object) == Run.Context &&
                llvm::none_of(CallerRuns, [&](const auto &Seen) {
                  return Seen.first == Call;
                }))
              CallerRuns.push_back({Call, Run.Context});
  }

  /// The key of the context a handler runs on.
  std::optional<ObjectKey> contextKey(const SpawnSite &Handler) const {
    if (!Handler.Asio || !Handler.Asio->Context)
      return std::nullopt;
    std::optional<ObjectKey> Key = objectKeyOf(Handler.Asio->Context);
    // A strand that is a member of another object (`Server.Strand`), made
    // from a context that is a member of that object: `Server.Ctx`.
    if (Key && isa<FieldDecl>(Key->root()))
      if (std::optional<ObjectKey> Strand = strandKey(Handler);
          Strand && Strand->Path.size() > 1 &&
          isa<FieldDecl>(Strand->Path.back()) &&
          !isa<FieldDecl>(Strand->root())) {
        ObjectKey Prefixed;
        Prefixed.Path.assign(Strand->Path.begin(),
                             std::prev(Strand->Path.end()));
        Prefixed.Path.append(Key->Path.begin(), Key->Path.end());
        return Prefixed;
      }
    return Key;
  }

  /// The number of threads that run the handler's context, at most 2 (two
  /// stands for several), counting the spawned ones in \p Spawned.
  unsigned threads(const SpawnSite &Handler, unsigned &Spawned) const {
    Spawned = 0;
    std::optional<ObjectKey> Key = contextKey(Handler);
    if (!Key)
      return 0;
    unsigned Count = 0;
    if (Handler.Asio->ThreadPool) {
      std::optional<uint64_t> Own =
          asioThreadPoolThreads(*Key->Path.back(), Context);
      Count = Own ? static_cast<unsigned>(std::min<uint64_t>(*Own, 2)) : 2;
      Spawned = Count;
    }
    for (const RunThread &Run : Runs)
      if (Run.Context == *Key) {
        unsigned Instances = Run.Stmts->MultiInstance ? 2 : 1;
        Count += Instances;
        Spawned += Instances;
      }
    for (const auto &[Call, RunContext] : CallerRuns)
      if (RunContext == *Key)
        ++Count;
    return std::min(Count, 2u);
  }

  /// Does the handler run on a thread other than the one that posts it?
  bool runsElsewhere(const SpawnSite &Handler) const {
    unsigned Spawned = 0;
    threads(Handler, Spawned);
    return Spawned > 0;
  }

  /// Do two handlers run one after another: one context run by one thread,
  /// or one strand? A handler and the only thread that runs its context do
  /// too (the handler runs inside that thread's run()).
  bool serialised(const SpawnSite &A, const SpawnSite &B) const {
    if (A.Asio.has_value() != B.Asio.has_value()) {
      const SpawnSite &Handler = A.Asio ? A : B;
      const SpawnSite &Thread = A.Asio ? B : A;
      std::optional<ObjectKey> Key = contextKey(Handler);
      unsigned Spawned = 0;
      return Key && threads(Handler, Spawned) <= 1 &&
             llvm::any_of(Runs, [&](const RunThread &Run) {
               return Run.Site->Spawn == Thread.Spawn && Run.Context == *Key;
             });
    }
    if (!A.Asio)
      return false;
    std::optional<ObjectKey> Key = contextKey(A);
    if (!Key || Key != contextKey(B))
      return false;
    unsigned Spawned = 0;
    if (threads(A, Spawned) <= 1)
      return true;
    std::optional<ObjectKey> Strand = strandKey(A);
    return Strand && Strand == strandKey(B);
  }

  /// May two handlers posted by different functions run at the same time?
  /// Only on a context that outlives both functions (a data member or a
  /// global) and that several threads run, without a common strand.
  bool concurrentAcrossFunctions(const SpawnSite &A, const SpawnSite &B) const {
    if (!A.Asio || !B.Asio || A.EnclosingFunction == B.EnclosingFunction ||
        !runsElsewhere(A) || serialised(A, B))
      return false;
    std::optional<ObjectKey> Key = contextKey(A);
    if (!Key || Key != contextKey(B))
      return false;
    const auto *Var = dyn_cast<VarDecl>(Key->root());
    return isa<FieldDecl>(Key->root()) || (Var && !Var->hasLocalStorage());
  }

  /// The class whose own thread runs \p Handler: the handler runs on
  /// `this` of a member function of class C, its context is a data member
  /// of `this` (`Ctx.post(...)`, `Timer.async_wait(...)` with `Timer(Ctx)`),
  /// and a thread started on `this` of C runs that context (`std::thread(
  /// &C::run, this)` whose function calls `Ctx.run()`). Such a handler is
  /// the object's own thread's work: it runs beside C's member functions
  /// called from other threads, as that thread does.
  const CXXRecordDecl *ownerClass(const SpawnSite &Handler) const {
    std::optional<ObjectKey> Key = contextKey(Handler);
    if (!Key || Key->Path.size() != 1 || !isa<FieldDecl>(Key->root()))
      return nullptr;
    const auto *Posting =
        dyn_cast_or_null<CXXMethodDecl>(Handler.EnclosingFunction);
    const CXXRecordDecl *Class = classRunOnThis(Handler);
    if (!Posting || !Class || Posting->getParent() != Class)
      return nullptr;
    for (const RunThread &Run : Runs)
      if (Run.Context == *Key && threadClass(*Run.Site) == Class)
        return Class;
    return nullptr;
  }

  /// Does the thread of \p Site run \p Class's own context (see
  /// ownerClass)?
  bool runsOwnContext(const SpawnSite &Site, const CXXRecordDecl *Class) const {
    return llvm::any_of(Runs, [&](const RunThread &Run) {
      return Run.Site == &Site && Run.Context.Path.size() == 1 &&
             isa<FieldDecl>(Run.Context.root()) && threadClass(Site) == Class;
    });
  }

  /// A handler runs beside its posting function only while a thread that
  /// runs its context does: when every such thread of an io_context starts
  /// in the posting function, the statements of its region that run beside
  /// the handler are those that also run beside one of them (it cannot run
  /// before they start nor after they are joined). The whole region still
  /// says which other spawns start while the handler may be pending.
  Region accessRegion(const SpawnSite &Handler, const Region &Stmts) const {
    std::optional<ObjectKey> Key = contextKey(Handler);
    if (!Key || Handler.Asio->ThreadPool)
      return Stmts;
    llvm::DenseSet<const Stmt *> While;
    for (const RunThread &Run : Runs) {
      if (Run.Context != *Key)
        continue;
      if (Run.Site->EnclosingFunction != Handler.EnclosingFunction)
        return Stmts;
      While.insert(Run.Stmts->Stmts.begin(), Run.Stmts->Stmts.end());
    }
    Region Kept = Stmts;
    Kept.Stmts.clear();
    for (const Stmt *S : Stmts.Stmts)
      if (While.count(S))
        Kept.Stmts.insert(S);
    return Kept;
  }

private:
  struct RunThread {
    const SpawnSite *Site = nullptr;
    const Region *Stmts = nullptr;
    ObjectKey Context;
  };
  ASTContext &Context;
  std::vector<RunThread> Runs;
  std::vector<std::pair<const CallExpr *, ObjectKey>> CallerRuns;

  static std::optional<ObjectKey> strandKey(const SpawnSite &Handler) {
    if (!Handler.Asio || !Handler.Asio->Strand)
      return std::nullopt;
    return objectKeyOf(Handler.Asio->Strand);
  }

  /// The contexts the thread of \p Site runs.
  void threadRuns(const SpawnSite &Site,
                  llvm::SmallVectorImpl<ObjectKey> &Out) const {
    const FunctionDecl *Entry = Site.Entry.Function;
    if (!Entry)
      return;
    // `std::thread(boost::bind(&io_context::run, &Ctx))`.
    if (isAsioRunMethod(Entry)) {
      if (Site.Entry.Object)
        if (std::optional<ObjectKey> Key = objectKeyOf(Site.Entry.Object))
          Out.push_back(std::move(*Key));
      return;
    }
    // A member function on another object: its members are that object's.
    std::optional<ObjectKey> This;
    if (Site.Entry.Object && !Site.Entry.Lambda &&
        !isa<CXXThisExpr>(ignoreWrappers(Site.Entry.Object))) {
      This = objectKeyOf(Site.Entry.Object);
      if (!This)
        return;
    }
    llvm::SmallPtrSet<const FunctionDecl *, 4> Seen;
    scanRuns(*Entry, This, /*Depth=*/2, Seen, Out);
  }

  void scanRuns(const FunctionDecl &F, const std::optional<ObjectKey> &This,
                unsigned Depth,
                llvm::SmallPtrSetImpl<const FunctionDecl *> &Seen,
                llvm::SmallVectorImpl<ObjectKey> &Out) const {
    const FunctionDecl *Definition = F.getDefinition();
    if (!Definition || !Definition->hasBody() ||
        Context.getSourceManager().isInSystemHeader(
            Definition->getLocation()) ||
        !Seen.insert(Definition).second)
      return;
    AsioRunScan Scan;
    Scan.TraverseStmt(Definition->getBody());
    for (const Expr *Object : Scan.Runs) {
      std::optional<ObjectKey> Key = objectKeyOf(Object);
      if (!Key)
        continue;
      if (This && isa<FieldDecl>(Key->root())) {
        ObjectKey Rebased = *This;
        Rebased.Path.append(Key->Path.begin(), Key->Path.end());
        Key = std::move(Rebased);
      }
      Out.push_back(std::move(*Key));
    }
    if (Depth == 0)
      return;
    for (const CXXMethodDecl *Method : Scan.OnThis)
      scanRuns(*Method, This, Depth - 1, Seen, Out);
  }
};

class Analysis {
public:
  Analysis(ASTContext &Context, const SharedContainerOptions &Options)
      : Context(Context), Options(Options), Model(Options.ContainerTypes) {}

  /// \p SpawnExpressions: the thread-starting expressions, or none to find
  /// them here.
  SharedContainerResult
  run(std::optional<llvm::ArrayRef<const Expr *>> SpawnExpressions);

private:
  ASTContext &Context;
  const SharedContainerOptions &Options;
  ContainerModel Model;
  SharedContainerResult Result;
  std::map<const FunctionDecl *, std::unique_ptr<FunctionSummary>> Summaries;
  /// Accesses per context.
  std::vector<std::vector<const ContainerAccess *>> ByContext;
  /// Functions each context visits.
  std::vector<llvm::DenseSet<const FunctionDecl *>> FunctionsOf;

  const FunctionSummary &summary(const FunctionDecl &F) {
    auto &Slot = Summaries[&F];
    if (!Slot) {
      Slot = std::make_unique<FunctionSummary>();
      std::unique_ptr<LockScopeAnalysis> Locks =
          LockScopeAnalysis::analyze(F, Context, Options.Locks);
      ParentMap Parents(F.getBody());
      SummaryBuilder Builder(Context, Model, Locks.get(), *Slot, Parents);
      Builder.TraverseStmt(F.getBody());
    }
    return *Slot;
  }

  bool followable(const FunctionDecl *F) const {
    return F && F->hasBody() &&
           !Context.getSourceManager().isInSystemHeader(F->getLocation());
  }

  /// How keys of one function translate into keys of the context's root.
  struct Frame {
    /// Object that `this` stands for (none: the context's own `this`).
    std::optional<ObjectKey> This;
    bool ThisUnknown = false;
    llvm::DenseMap<const ValueDecl *, ObjectKey> Params;
  };

  std::optional<ObjectKey> rebase(const ObjectKey &Key, const Frame &F) const {
    if (Key.isThisObject()) { // a monitor's own lock
      if (F.ThisUnknown)
        return std::nullopt;
      return F.This ? *F.This : Key;
    }
    const ValueDecl *Root = Key.root();
    if (!Root)
      return std::nullopt;
    if (isa<FieldDecl>(Root)) {
      if (F.ThisUnknown)
        return std::nullopt;
      if (!F.This)
        return Key;
      ObjectKey Out = *F.This;
      Out.Path.append(Key.Path.begin(), Key.Path.end());
      return Out;
    }
    auto It = F.Params.find(Root);
    if (It != F.Params.end()) {
      ObjectKey Out = It->second;
      Out.Path.append(std::next(Key.Path.begin()), Key.Path.end());
      return Out;
    }
    return Key;
  }

  /// Can an object with this (rebased) key be seen by two threads?
  bool shareable(const ObjectKey &Key, const AccessContext &Ctx) const {
    const ValueDecl *Root = Key.root();
    if (!Root)
      return false;
    // A parallel algorithm copies a functor body for its tasks: the
    // functor's own members (not those it refers to) are each task's.
    if (const auto *Field = dyn_cast<FieldDecl>(Root);
        Field && Ctx.Kind == ContextKind::Thread && Ctx.Spawn &&
        Ctx.Spawn->Kind == SpawnKind::ParallelAlgorithm &&
        !Ctx.Spawn->Entry.Lambda && !Field->getType()->isReferenceType() &&
        !Field->getType()->isPointerType())
      if (const auto *Functor =
              dyn_cast_or_null<CXXMethodDecl>(Ctx.Spawn->Entry.Function);
          Functor && Field->getParent() == Functor->getParent())
        return false;
    // Elsewhere has no `this` in common with the thread: only globals.
    if (isa<FieldDecl>(Root))
      return Ctx.Kind != ContextKind::Elsewhere;
    const auto *Var = dyn_cast<VarDecl>(Root);
    if (!Var)
      return false;
    if (!Var->hasLocalStorage())
      return !Var->getTLSKind();
    if (Ctx.Kind == ContextKind::Methods || Ctx.Kind == ContextKind::Elsewhere)
      return false;
    const SpawnSite &Site = *Ctx.Spawn;
    if (Var->getParentFunctionOrMethod() !=
        static_cast<const DeclContext *>(Site.EnclosingFunction))
      return false;
    // A capture by copy is the thread's own copy (of a pointer: the pointee
    // is still shared).
    if (Ctx.Kind == ContextKind::Thread && Site.Entry.Lambda &&
        !Var->getType()->isPointerType() && Key.Path.size() >= 1)
      for (const LambdaCapture &Capture : Site.Entry.Lambda->captures())
        if (Capture.capturesVariable() &&
            Capture.getCapturedVar()->getCanonicalDecl() == Var &&
            Capture.getCaptureKind() == LCK_ByCopy)
          return false;
    return true;
  }

  void walk(const FunctionDecl &F, const Frame &Scope,
            llvm::ArrayRef<HeldMutex> Inherited,
            llvm::SmallVectorImpl<const CallExpr *> &Path, unsigned Depth,
            unsigned CtxIndex, const llvm::DenseSet<const Stmt *> *Only,
            llvm::DenseSet<const FunctionDecl *> &OnStack) {
    if (!OnStack.insert(&F).second)
      return;
    FunctionsOf[CtxIndex].insert(&F);
    const FunctionSummary &S = summary(F);
    const AccessContext &Ctx = Result.Contexts[CtxIndex];
    auto Rebased = [&](llvm::ArrayRef<HeldMutex> Local) {
      llvm::SmallVector<HeldMutex, 2> Out(Inherited.begin(), Inherited.end());
      for (const HeldMutex &Lock : Local)
        if (std::optional<ObjectKey> Key = rebase(Lock.Key, Scope))
          Out.push_back({std::move(*Key), Lock.Mode, Lock.Conditional});
      return Out;
    };
    for (const LocalAccess &Local : S.Accesses) {
      if (Only && !Only->count(Local.Object) && !Only->count(Local.Operation))
        continue;
      std::optional<ObjectKey> Key = rebase(Local.Key, Scope);
      if (!Key || !shareable(*Key, Ctx))
        continue;
      auto Access = std::make_unique<ContainerAccess>();
      Access->Object = Local.Object;
      Access->Operation = Local.Operation;
      Access->Kind = Local.Kind;
      Access->Function = &F;
      Access->Context = CtxIndex;
      Access->Locks = Rebased(Local.Locks);
      Access->CallPath.assign(Path.begin(), Path.end());
      KeyOf[Access.get()] = std::move(*Key);
      ByContext[CtxIndex].push_back(Access.get());
      Result.AllAccesses.push_back(std::move(Access));
    }
    if (Depth == 0) {
      OnStack.erase(&F);
      return;
    }
    for (const LocalCall &Call : S.Calls) {
      if (Only && !Only->count(Call.Call))
        continue;
      const FunctionDecl *Callee =
          Call.Callee ? Call.Callee->getDefinition() : nullptr;
      if (!followable(Callee))
        continue;
      Frame Next;
      if (Call.OnThis) {
        Next.This = Scope.This;
        Next.ThisUnknown = Scope.ThisUnknown;
      } else if (Call.Object) {
        Next.This = rebase(*Call.Object, Scope);
        Next.ThisUnknown = !Next.This;
      } else {
        Next.ThisUnknown = isa<CXXMethodDecl>(Callee) &&
                           !cast<CXXMethodDecl>(Callee)->isStatic();
      }
      for (unsigned I = 0; I < Call.Bound.size() && I < Callee->getNumParams();
           ++I)
        if (Call.Bound[I])
          if (std::optional<ObjectKey> Bound = rebase(*Call.Bound[I], Scope))
            Next.Params[Callee->getParamDecl(I)] = std::move(*Bound);
      llvm::SmallVector<HeldMutex, 2> Locks = Rebased(Call.Locks);
      Path.push_back(Call.Call);
      walk(*Callee, Next, Locks, Path, Depth - 1, CtxIndex, nullptr, OnStack);
      Path.pop_back();
    }
    OnStack.erase(&F);
  }

  unsigned addContext(AccessContext Ctx) {
    Result.Contexts.push_back(Ctx);
    ByContext.emplace_back();
    FunctionsOf.emplace_back();
    return Result.Contexts.size() - 1;
  }

  void walkRoot(const FunctionDecl &F, const Frame &Scope, unsigned Ctx,
                const llvm::DenseSet<const Stmt *> *Only) {
    llvm::SmallVector<const CallExpr *, 4> Path;
    llvm::DenseSet<const FunctionDecl *> OnStack;
    walk(F, Scope, {}, Path, Options.MaxCallDepth, Ctx, Only, OnStack);
  }

  llvm::DenseMap<const ContainerAccess *, ObjectKey> KeyOf;

  static bool conflicting(AccessKind A, AccessKind B, bool Strict) {
    if (A == AccessKind::StructuralWrite || B == AccessKind::StructuralWrite)
      return true;
    return Strict &&
           (A == AccessKind::ElementWrite || B == AccessKind::ElementWrite);
  }

  static bool holds(const ContainerAccess &A, const ObjectKey &M,
                    bool NeedExclusive) {
    for (const HeldMutex &Lock : A.Locks)
      if (Lock.Key == M && (!NeedExclusive || Lock.Mode == LockMode::Exclusive))
        return true;
    return false;
  }

  static bool guarded(const ContainerAccess &A, const ContainerAccess &B) {
    for (const HeldMutex &Lock : A.Locks)
      if (holds(A, Lock.Key, A.Kind != AccessKind::Read) &&
          holds(B, Lock.Key, B.Kind != AccessKind::Read))
        return true;
    return false;
  }

  bool before(const ContainerAccess *A, const ContainerAccess *B) const {
    return Context.getSourceManager().isBeforeInTranslationUnit(
        A->Operation->getBeginLoc(), B->Operation->getBeginLoc());
  }
};

/// Runs \p Matcher over each top-level declaration outside system headers.
/// A match() over the whole translation unit would also walk the standard
/// library, most of a typical unit, where none of the program's threads
/// start: on rocksdb that walk was most of this analysis's cost.
template <typename MatcherT>
static std::vector<ast_matchers::BoundNodes>
matchInProjectCode(const MatcherT &Matcher, ASTContext &Context) {
  std::vector<ast_matchers::BoundNodes> All;
  const SourceManager &SM = Context.getSourceManager();
  for (Decl *D : Context.getTranslationUnitDecl()->decls()) {
    if (SM.isInSystemHeader(D->getLocation()))
      continue;
    llvm::append_range(All, ast_matchers::match(Matcher, *D, Context));
  }
  return All;
}

SharedContainerResult
Analysis::run(std::optional<llvm::ArrayRef<const Expr *>> SpawnExpressions) {
  using namespace ast_matchers;
  const SourceManager &SM = Context.getSourceManager();
  std::vector<const Expr *> Matched;
  if (!SpawnExpressions) {
    for (const BoundNodes &Nodes :
         matchInProjectCode(decl(forEachDescendant(spawnExpressionMatcher(
                                Options.SpawnFunctions))),
                            Context))
      Matched.push_back(Nodes.getNodeAs<Expr>("spawn"));
    SpawnExpressions = Matched;
  }
  // The sites whose threads run accesses, and those that only run a
  // boost::asio context (`std::thread(boost::bind(&io_context::run, &C))`:
  // no body of the project's).
  std::vector<std::unique_ptr<SpawnSite>> Analysed;
  for (const Expr *Spawn : *SpawnExpressions) {
    if (!Spawn || SM.isInSystemHeader(Spawn->getBeginLoc()))
      continue;
    std::optional<SpawnSite> Site =
        analyzeSpawn(Spawn, Context, Options.SpawnFunctions);
    if (!Site || !Site->Entry.Function || !Site->EnclosingFunction ||
        (!Site->Entry.Function->hasBody() &&
         !isAsioRunMethod(Site->Entry.Function)))
      continue;
    Analysed.push_back(std::make_unique<SpawnSite>(std::move(*Site)));
  }
  if (Analysed.empty())
    return std::move(Result);
  std::vector<utils::Region> Regions;
  std::vector<const SpawnSite *> AnalysedSites;
  for (const auto &Site : Analysed) {
    Regions.push_back(computeRegion(*Site, Context));
    AnalysedSites.push_back(Site.get());
  }
  std::vector<const utils::Region *> RegionPointers;
  RegionPointers.reserve(Regions.size());
  for (const utils::Region &R : Regions)
    RegionPointers.push_back(&R);
  AsioThreads Asio(AnalysedSites, RegionPointers, Context);
  auto Serialised = [&](const SpawnSite &A, const SpawnSite &B) {
    return serialisedTasks(A, B) || Asio.serialised(A, B);
  };

  // Per kept spawn: its region, and the part of it whose accesses run
  // beside the thread (all of it, except for an asio handler).
  std::vector<const utils::Region *> SpawnRegions;
  std::vector<std::unique_ptr<utils::Region>> HandlerRegions;
  std::vector<const utils::Region *> AccessRegions;
  for (unsigned I = 0; I < Analysed.size(); ++I) {
    SpawnSite &Site = *Analysed[I];
    if (!Site.Entry.Function->hasBody())
      continue;
    const utils::Region *Accessed = &Regions[I];
    if (Site.Asio) {
      // A handler whose context no thread of the unit is seen to run is
      // no concurrency of its own (see AsioThreads).
      if (!Asio.runsElsewhere(Site))
        continue;
      HandlerRegions.push_back(
          std::make_unique<utils::Region>(Asio.accessRegion(Site, Regions[I])));
      Accessed = HandlerRegions.back().get();
    }
    Result.Spawns.push_back(std::move(Analysed[I]));
    SpawnRegions.push_back(&Regions[I]);
    AccessRegions.push_back(Accessed);
  }
  if (Result.Spawns.empty())
    return std::move(Result);

  struct PerSpawn {
    unsigned Thread = 0, Region = 0;
    std::optional<unsigned> Methods;
    const utils::Region *Stmts = nullptr;
  };
  std::vector<PerSpawn> Info(Result.Spawns.size());
  std::map<const CXXRecordDecl *, unsigned> MethodContexts;
  std::optional<unsigned> Elsewhere;

  for (unsigned I = 0; I < Result.Spawns.size(); ++I) {
    const SpawnSite &Site = *Result.Spawns[I];
    PerSpawn &P = Info[I];
    P.Stmts = SpawnRegions[I];

    P.Thread = addContext({ContextKind::Thread, &Site, nullptr});
    Frame ThreadScope;
    const CXXRecordDecl *Class = threadClass(Site);
    // Arguments passed by reference, pointer or std::ref are the thread's
    // view of the parent's objects.
    const FunctionDecl &Entry = *Site.Entry.Function->getDefinition();
    unsigned FirstParam = 0;
    if (!Site.Entry.Lambda && isa<CXXMethodDecl>(Entry) &&
        !cast<CXXMethodDecl>(Entry).isStatic() && Site.Entry.Object) {
      FirstParam = 1; // the object argument
      if (!isa<CXXThisExpr>(ignoreWrappers(Site.Entry.Object))) {
        ThreadScope.This = objectKeyOf(Site.Entry.Object);
        ThreadScope.ThisUnknown = !ThreadScope.This;
      }
    }
    if (Site.Kind == SpawnKind::PthreadCreate) {
      // void *(*)(void *): the argument is a pointer to shared state.
      if (!Site.Arguments.empty() && Entry.getNumParams() == 1)
        if (std::optional<ObjectKey> Bound = objectKeyOf(Site.Arguments[0]))
          ThreadScope.Params[Entry.getParamDecl(0)] = *Bound;
    } else {
      unsigned Param = Site.Entry.StopToken ? 1 : 0;
      for (unsigned A = FirstParam; A < Site.Arguments.size(); ++A, ++Param) {
        if (Param >= Entry.getNumParams())
          break;
        QualType Type = Entry.getParamDecl(Param)->getType();
        const Expr *Arg = Site.Arguments[A];
        const Expr *Unwrapped = unwrapStdRef(Arg);
        // std::thread copies its arguments: only std::ref and pointers
        // reach the parent's objects.
        if ((Type->isReferenceType() && Unwrapped != ignoreWrappers(Arg)) ||
            Type->isPointerType())
          if (std::optional<ObjectKey> Bound = objectKeyOf(Arg))
            ThreadScope.Params[Entry.getParamDecl(Param)] = *Bound;
      }
    }
    walkRoot(Entry, ThreadScope, P.Thread, nullptr);

    P.Region = addContext({ContextKind::Region, &Site, nullptr});
    walkRoot(*Site.EnclosingFunction, Frame(), P.Region,
             &AccessRegions[I]->Stmts);

    if (Class) {
      auto [It, Inserted] = MethodContexts.try_emplace(Class, 0);
      if (Inserted) {
        It->second = addContext({ContextKind::Methods, &Site, Class});
        for (const CXXMethodDecl *Method : Class->methods()) {
          // Private methods are not entry points: the methods that call
          // them are walked into them, with the locks they hold there.
          if (isa<CXXConstructorDecl, CXXDestructorDecl>(Method) ||
              Method->isStatic() || Method->getAccess() == AS_private)
            continue;
          const FunctionDecl *Definition = Method->getDefinition();
          if (followable(Definition))
            walkRoot(*Definition, Frame(), It->second, nullptr);
        }
      }
      P.Methods = It->second;
    }
    if (mayEscape(Site, *P.Stmts) && !Elsewhere) {
      Elsewhere = addContext({ContextKind::Elsewhere, &Site, nullptr});
      for (const BoundNodes &Nodes : matchInProjectCode(
               findAll(functionDecl(isDefinition(), isExpansionInMainFile())
                           .bind("function")),
               Context))
        // Lambda bodies run where the lambda is called, not on their own.
        if (const auto *F = Nodes.getNodeAs<FunctionDecl>("function");
            F && followable(F) && !F->isDependentContext() &&
            !(isa<CXXMethodDecl>(F) &&
              cast<CXXMethodDecl>(F)->getParent()->isLambda()))
          walkRoot(*F, Frame(), *Elsewhere, nullptr);
    }
  }

  // Per class whose own thread runs its own asio context (ownerClass): the
  // functions that run on that thread (its function, the handlers' and
  // what they call) and the functions that start it, which are not the
  // class's member functions called from other threads.
  std::map<const CXXRecordDecl *, llvm::DenseSet<const FunctionDecl *>>
      OwnThreadWork;
  for (unsigned I = 0; I < Info.size(); ++I)
    if (const CXXRecordDecl *Owner = Asio.ownerClass(*Result.Spawns[I]))
      OwnThreadWork[Owner].insert(FunctionsOf[Info[I].Thread].begin(),
                                  FunctionsOf[Info[I].Thread].end());
  for (unsigned I = 0; I < Info.size(); ++I)
    for (auto &[Owner, Work] : OwnThreadWork)
      if (Asio.runsOwnContext(*Result.Spawns[I], Owner)) {
        Work.insert(FunctionsOf[Info[I].Thread].begin(),
                    FunctionsOf[Info[I].Thread].end());
        Work.insert(Result.Spawns[I]->EnclosingFunction);
        // And the functions that join it: what they do after the join (a
        // stop() clearing the state) runs beside no handler.
        if (const auto *Field =
                dyn_cast_or_null<FieldDecl>(Result.Spawns[I]->HandleDecl))
          for (const CXXMethodDecl *Method : Owner->methods())
            if (const FunctionDecl *Definition = Method->getDefinition();
                Definition && joinsMember(Definition->getBody(), *Field))
              Work.insert(Definition);
      }

  // Pairs of contexts that may run at the same time.
  struct Pair {
    unsigned A, B;
    const llvm::DenseSet<const FunctionDecl *> *ExcludeB = nullptr;
    const FunctionDecl *ExcludeRoot = nullptr;
  };
  std::vector<Pair> Pairs;
  for (unsigned I = 0; I < Info.size(); ++I) {
    PerSpawn &P = Info[I];
    const SpawnSite &Site = *Result.Spawns[I];
    Pairs.push_back({P.Thread, P.Region});
    if (P.Stmts->MultiInstance && !Serialised(Site, Site))
      Pairs.push_back({P.Thread, P.Thread});
    for (unsigned J = 0; J < Info.size(); ++J)
      if (J != I && P.Stmts->Stmts.count(Result.Spawns[J]->Spawn) &&
          !Serialised(Site, *Result.Spawns[J]))
        Pairs.push_back({P.Thread, Info[J].Thread});
    // Handlers posted by different functions to a context several threads
    // run (each pair once). A handler that the other one's work posts
    // (asio's chains: a read handler starting the write whose handler
    // starts the next read) is pending only once that work has run: the
    // chain is an implicit strand.
    for (unsigned J = I + 1; J < Info.size(); ++J)
      if (Asio.concurrentAcrossFunctions(Site, *Result.Spawns[J]) &&
          !postedWithin(*Result.Spawns[J], FunctionsOf[Info[I].Thread]) &&
          !postedWithin(Site, FunctionsOf[Info[J].Thread]))
        Pairs.push_back({P.Thread, Info[J].Thread});
    if (P.Methods)
      Pairs.push_back({P.Thread, *P.Methods, &FunctionsOf[P.Thread]});
    // A handler on its object's own thread runs beside the member
    // functions that other threads call.
    if (const CXXRecordDecl *Owner = Asio.ownerClass(Site))
      if (auto Methods = MethodContexts.find(Owner);
          Methods != MethodContexts.end())
        Pairs.push_back({P.Thread, Methods->second, &OwnThreadWork[Owner]});
    if (mayEscape(Site, *P.Stmts) && Elsewhere)
      Pairs.push_back({P.Thread, *Elsewhere, &FunctionsOf[P.Thread],
                       Result.Spawns[I]->EnclosingFunction});
  }

  // Races, one per container and pair of contexts.
  std::vector<std::pair<ObjectKey, ContainerRace>> Found;
  for (const Pair &Pair : Pairs) {
    std::map<std::vector<const ValueDecl *>, bool> Reported;
    auto Excluded = [&](const ContainerAccess *B) {
      return (Pair.ExcludeB && Pair.ExcludeB->count(B->Function)) ||
             B->Function == Pair.ExcludeRoot;
    };
    std::vector<std::pair<const ContainerAccess *, const ContainerAccess *>>
        Candidates;
    for (const ContainerAccess *A : ByContext[Pair.A])
      for (const ContainerAccess *B : ByContext[Pair.B]) {
        if (Excluded(B) || KeyOf[A] != KeyOf[B])
          continue;
        if (Pair.A == Pair.B && A->Kind == AccessKind::Read &&
            B->Kind == AccessKind::Read)
          continue;
        if (!conflicting(A->Kind, B->Kind, Options.StrictElementAccess) ||
            guarded(*A, *B))
          continue;
        Candidates.push_back({A, B});
      }
    // The first race in source order: a write first, preferring a write on
    // the thread.
    llvm::sort(Candidates, [&](const auto &X, const auto &Y) {
      const ContainerAccess *XW =
          X.first->Kind != AccessKind::Read ? X.first : X.second;
      const ContainerAccess *YW =
          Y.first->Kind != AccessKind::Read ? Y.first : Y.second;
      if (XW != YW)
        return before(XW, YW);
      const ContainerAccess *XO = XW == X.first ? X.second : X.first;
      const ContainerAccess *YO = YW == Y.first ? Y.second : Y.first;
      return XO != YO && before(XO, YO);
    });
    for (const auto &[A, B] : Candidates) {
      const ObjectKey &Key = KeyOf[A];
      std::vector<const ValueDecl *> Id(Key.Path.begin(), Key.Path.end());
      if (Reported[Id])
        continue;
      Reported[Id] = true;
      ContainerRace Race;
      bool AWrites = A->Kind != AccessKind::Read;
      Race.Write = AWrites ? A : B;
      Race.Other = AWrites ? B : A;
      Found.push_back({Key, Race});
    }
  }

  for (auto &Pair : Found) {
    // Named, not bound: C++17 lambdas cannot capture structured bindings.
    const ObjectKey &Key = Pair.first;
    const ContainerRace &Race = Pair.second;
    auto It = llvm::find_if(
        Result.Racy, [&](const SharedContainer &C) { return C.Key == Key; });
    if (It == Result.Racy.end()) {
      SharedContainer Container;
      Container.Key = Key;
      Container.Decl = Key.Path.back();
      if (std::optional<ContainerFamily> Family =
              Model.classifyContainer(Container.Decl->getType()))
        Container.Family = *Family;
      for (const auto &Access : Result.AllAccesses)
        if (KeyOf[Access.get()] == Key)
          Container.Accesses.push_back(Access.get());
      Result.Racy.push_back(std::move(Container));
      It = std::prev(Result.Racy.end());
    }
    // Two pairs of contexts may find the same two expressions (a member
    // function is both a method of the thread's class and a function
    // elsewhere), possibly the other way round.
    auto Same = [](const ContainerAccess *X, const ContainerAccess *Y) {
      return X->Operation == Y->Operation;
    };
    bool Duplicate = llvm::any_of(It->Races, [&](const ContainerRace &R) {
      return (Same(R.Write, Race.Write) && Same(R.Other, Race.Other)) ||
             (Same(R.Write, Race.Other) && Same(R.Other, Race.Write));
    });
    if (!Duplicate)
      It->Races.push_back(Race);
  }
  return std::move(Result);
}

/// Extracts a unit's facts for the whole-program phase (ProgramFacts.h)
/// with this file's models: the same SummaryBuilder, objectKeyOf,
/// computeRegion and threadClass as the per-unit analysis, so that a fact
/// means the same thing in both.
class FactExtractor {
public:
  FactExtractor(ASTContext &Context, const SharedContainerOptions &Options)
      : Context(Context), SM(Context.getSourceManager()), Options(Options),
        Model(Options.ContainerTypes) {}

  UnitFacts run(llvm::ArrayRef<const Expr *> SpawnExpressions) {
    UnitFacts Unit;
    if (OptionalFileEntryRef Main = SM.getFileEntryRefForID(SM.getMainFileID()))
      Unit.File = realPath(*Main);
    MainFile = Unit.File;
    collectFunctions();
    for (const FunctionDecl *F : Functions)
      extractFunction(*F);
    extractSpawns(SpawnExpressions);
    linkRegionSpawns();
    for (const FunctionDecl *F : Functions) {
      FunctionFacts &Facts = FactsOf[F];
      // An overrider is kept even when it does nothing of interest: a
      // virtual call dispatched to it must not fall back to the base's.
      if (Facts.Accesses.empty() && Facts.Calls.empty() &&
          Facts.Spawns.empty() && !Facts.EndlessLoop &&
          Facts.Overrides.empty() && !Facts.PoolSubmit && !Facts.SpawnWrapper &&
          !Facts.LockEffects)
        continue;
      Unit.Functions.push_back(std::move(Facts));
    }
    collectInputs(Unit);
    Unit.Classes = std::move(Classes);
    return Unit;
  }

private:
  ASTContext &Context;
  const SourceManager &SM;
  const SharedContainerOptions &Options;
  ContainerModel Model;
  std::string MainFile;
  std::vector<const FunctionDecl *> Functions;
  std::map<const FunctionDecl *, FunctionFacts> FactsOf;
  /// Per function: its SummaryBuilder accesses and calls, and the index of
  /// each in the facts (none when it was left out).
  struct Extracted {
    FunctionSummary Summary;
    std::vector<std::optional<unsigned>> AccessIndex, CallIndex;
  };
  std::map<const FunctionDecl *, Extracted> ExtractedOf;
  llvm::DenseMap<const Decl *, std::string> USRs;
  llvm::StringMap<std::string> RealPaths;
  std::vector<FactClass> Classes;
  llvm::DenseSet<const CXXRecordDecl *> NotedClasses;

  /// Records \p Class and, transitively, its bases (what a class inherits
  /// decides which methods its objects run and which overrider a virtual
  /// call reaches).
  void noteClass(const CXXRecordDecl *Declared) {
    const CXXRecordDecl *Class = Declared ? Declared->getDefinition() : nullptr;
    if (!Class || Class->isLambda() || !NotedClasses.insert(Class).second)
      return;
    FactClass Out;
    Out.USR = usrOf(Class);
    Out.Name = Class->getQualifiedNameAsString();
    std::vector<const CXXRecordDecl *> Bases;
    for (const CXXBaseSpecifier &Base : Class->bases())
      if (const CXXRecordDecl *Record = Base.getType()->getAsCXXRecordDecl()) {
        Out.Bases.push_back(usrOf(Record));
        Bases.push_back(Record);
      }
    Classes.push_back(std::move(Out));
    for (const CXXRecordDecl *Base : Bases)
      noteClass(Base);
  }

  /// The virtual functions \p Method overrides, directly or not.
  void addOverridden(const CXXMethodDecl &Method,
                     std::vector<std::string> &Out) {
    for (const CXXMethodDecl *Overridden : Method.overridden_methods()) {
      const std::string &USR = usrOf(Overridden);
      if (llvm::is_contained(Out, USR))
        continue;
      Out.push_back(USR);
      addOverridden(*Overridden, Out);
    }
  }

  /// A call that reaches its callee through the virtual table: a virtual
  /// member function called without a qualifier.
  static bool isDispatchedCall(const CallExpr &Call) {
    const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call);
    const auto *Method = Member ? Member->getMethodDecl() : nullptr;
    if (!Method || !Method->isVirtual())
      return false;
    const auto *Callee =
        dyn_cast<MemberExpr>(Member->getCallee()->IgnoreParens());
    return !Callee || !Callee->hasQualifier();
  }

  std::string realPath(FileEntryRef File) {
    auto [It, Inserted] = RealPaths.try_emplace(File.getName());
    if (Inserted) {
      llvm::StringRef Real = File.getFileEntry().tryGetRealPathName();
      It->second = Real.empty() ? File.getName().str() : Real.str();
    }
    return It->second;
  }

  FactLocation location(SourceLocation Loc) {
    FactLocation Out;
    Loc = SM.getExpansionLoc(Loc);
    if (Loc.isInvalid())
      return Out;
    FileID File = SM.getFileID(Loc);
    if (OptionalFileEntryRef Entry = SM.getFileEntryRefForID(File)) {
      Out.File = realPath(*Entry);
      Out.Line = SM.getSpellingLineNumber(Loc);
      Out.Column = SM.getSpellingColumnNumber(Loc);
    }
    return Out;
  }

  const std::string &usrOf(const Decl *D) {
    D = D->getCanonicalDecl();
    auto [It, Inserted] = USRs.try_emplace(D);
    if (!Inserted)
      return It->second;
    llvm::SmallString<128> Buffer;
    if (index::generateUSRForDecl(D, Buffer)) {
      // No USR (some lambdas): the declaration's place is its identity.
      FactLocation L = location(D->getLocation());
      It->second = llvm::formatv("loc:{0}:{1}:{2}", L.File, L.Line, L.Column);
    } else {
      It->second = std::string(Buffer);
    }
    // Internal linkage: the same name in another unit is another entity.
    if (const auto *Named = dyn_cast<NamedDecl>(D);
        Named && !isa<FieldDecl>(Named) && !Named->isExternallyVisible())
      It->second = MainFile + "#" + It->second;
    return It->second;
  }

  bool inProjectCode(const Decl *D) const {
    SourceLocation Loc = SM.getExpansionLoc(D->getLocation());
    return Loc.isValid() && !SM.isInSystemHeader(Loc);
  }

  void collectFunctions() {
    class Collector : public RecursiveASTVisitor<Collector> {
    public:
      Collector(FactExtractor &Self) : Self(Self) {}
      bool shouldVisitTemplateInstantiations() const { return false; }
      bool TraverseDecl(Decl *D) {
        if (D && !isa<TranslationUnitDecl>(D) && !Self.inProjectCode(D))
          return true; // the standard library: no thread of ours starts there
        return RecursiveASTVisitor::TraverseDecl(D);
      }
      bool VisitFunctionDecl(FunctionDecl *F) {
        if (F->doesThisDeclarationHaveABody() && !F->isDependentContext() &&
            !F->isInvalidDecl())
          Self.Functions.push_back(F);
        return true;
      }
      bool VisitLambdaExpr(LambdaExpr *Lambda) {
        CXXMethodDecl *Call = Lambda->getCallOperator();
        if (Call && Call->hasBody() && !Call->isDependentContext())
          Self.Functions.push_back(Call);
        return true;
      }

    private:
      FactExtractor &Self;
    };
    Collector(*this).TraverseDecl(Context.getTranslationUnitDecl());
    // A lambda's call operator is visited as a declaration too in some
    // traversals: keep each function once, in order.
    llvm::DenseSet<const FunctionDecl *> Seen;
    llvm::erase_if(Functions, [&](const FunctionDecl *F) {
      return !Seen.insert(F).second;
    });
  }

  /// The identity of a local variable or parameter: its function and its
  /// place there.
  std::string localId(const VarDecl &Var) {
    const auto *Owner =
        dyn_cast_or_null<FunctionDecl>(Var.getParentFunctionOrMethod());
    FactLocation L = location(Var.getLocation());
    return llvm::formatv("local:{0}|{1}@{2}:{3}",
                         Owner ? usrOf(Owner) : std::string("?"), Var.getName(),
                         L.Line, L.Column);
  }

  std::optional<FactKey> factKey(const ObjectKey &Key) {
    if (Key.isThisObject()) // a monitor's own lock
      return FactKey{"this"};
    const ValueDecl *Root = Key.root();
    if (!Root)
      return std::nullopt;
    FactKey Out;
    if (isa<FieldDecl>(Root)) {
      Out.push_back("this");
      Out.push_back(usrOf(Root));
    } else if (const auto *Var = dyn_cast<VarDecl>(Root)) {
      if (Var->getTLSKind())
        return std::nullopt; // each thread has its own
      Out.push_back(Var->hasLocalStorage() ? localId(*Var) : usrOf(Var));
    } else {
      return std::nullopt;
    }
    for (const ValueDecl *Element : llvm::drop_begin(Key.Path))
      Out.push_back(usrOf(Element));
    return Out;
  }

  /// Does \p F call a project function defined in another unit whose lock
  /// effects nothing installed knows (the audit's first round)? Its own
  /// effect is then unknown: `Mu.lock(); ...; unlockQueue();` would look as
  /// if it kept Mu. A mutex's own methods are known from the declaration.
  bool callsUnknownFunction(const FunctionDecl &F) {
    if (hasKnownLockEffects())
      return false;
    return anyStmtIn(
        F.getBody(),
        [&](const Stmt *S) {
          const auto *Call = dyn_cast<CallExpr>(S);
          const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
          if (!Callee || Callee->isDefined() || !inProjectCode(Callee))
            return false;
          const auto *Member = dyn_cast<CXXMethodDecl>(Callee);
          return !(Member && isMutexRecord(Member->getParent(), Options.Locks));
        },
        /*IntoLambdas=*/false);
  }

  /// A mutex of \p F's lock effects as other units name it: rooted at
  /// `this` or `param:<index>`.
  std::optional<FactKey> effectKey(const MutexKey &Key, const FunctionDecl &F) {
    const auto *Param = dyn_cast_or_null<ParmVarDecl>(Key.root());
    // A global is left out: the caller's unit may not declare it, so the
    // effect could not be applied there (ProjectIndex.cpp's mutexKeyOf).
    if (!Param)
      return Key.isThisObject() || isa_and_nonnull<FieldDecl>(Key.root())
                 ? factKey(Key)
                 : std::nullopt;
    unsigned Index = Param->getFunctionScopeIndex();
    if (Index >= F.getNumParams() || F.getParamDecl(Index) != Param)
      return std::nullopt;
    FactKey Out{("param:" + llvm::Twine(Index)).str()};
    for (const ValueDecl *Element : llvm::drop_begin(Key.Path))
      Out.push_back(usrOf(Element));
    return Out;
  }

  FactLockEffects factLockEffects(const FunctionLockEffects &Effects,
                                  const FunctionDecl &F) {
    FactLockEffects Out;
    for (const HeldLock &Lock : Effects.Acquires)
      if (std::optional<FactKey> Key = effectKey(Lock.Key, F))
        Out.Acquires.push_back({std::move(*Key), Lock.Mode == LockMode::Shared,
                                Lock.Key.name(), Lock.Conditional});
    for (const MutexKey &Key : Effects.Releases)
      if (std::optional<FactKey> Converted = effectKey(Key, F))
        Out.Releases.push_back(std::move(*Converted));
    return Out;
  }

  std::vector<FactLock> factLocks(llvm::ArrayRef<HeldMutex> Held) {
    std::vector<FactLock> Out;
    for (const HeldMutex &Lock : Held)
      if (std::optional<FactKey> Key = factKey(Lock.Key))
        Out.push_back({std::move(*Key), Lock.Mode == LockMode::Shared,
                       Lock.Key.name(), Lock.Conditional});
    return Out;
  }

  std::vector<std::pair<unsigned, FactKey>>
  factBound(llvm::ArrayRef<std::pair<unsigned, ObjectKey>> Bound) {
    std::vector<std::pair<unsigned, FactKey>> Out;
    for (const auto &[Index, Key] : Bound)
      if (std::optional<FactKey> Converted = factKey(Key))
        Out.push_back({Index, std::move(*Converted)});
    return Out;
  }

  /// Where \p F first joins a thread in its own body (`t.join()`,
  /// `pthread_join`; a lambda's body is another function), in source order.
  std::optional<SourceLocation> firstThreadJoin(const FunctionDecl &F) {
    std::optional<SourceLocation> First;
    auto Visit = [&](auto &&Self, const Stmt *S) -> void {
      if (!S || isa<LambdaExpr>(S))
        return;
      if (const auto *Call = dyn_cast<CallExpr>(S))
        if (std::optional<ThreadLifetimeCall> Lifetime =
                threadLifetimeCall(*Call);
            Lifetime && Lifetime->Op == ThreadLifetimeOp::Join &&
            Call->getBeginLoc().isValid() &&
            (!First || Context.getSourceManager().isBeforeInTranslationUnit(
                           Call->getBeginLoc(), *First)))
          First = Call->getBeginLoc();
      for (const Stmt *Child : S->children())
        Self(Self, Child);
    };
    Visit(Visit, F.getBody());
    return First;
  }

  void extractFunction(const FunctionDecl &F) {
    FunctionFacts &Facts = FactsOf[&F];
    Facts.USR = usrOf(&F);
    const auto *Method = dyn_cast<CXXMethodDecl>(&F);
    Facts.Name = Method && Method->getParent()->isLambda()
                     ? std::string("a lambda")
                     : F.getQualifiedNameAsString();
    Facts.Loc = location(F.getLocation());
    if (Method && !Method->getParent()->isLambda()) {
      Facts.IsMethod = true;
      Facts.Class = usrOf(Method->getParent());
      Facts.IsStatic = Method->isStatic();
      Facts.IsCtorOrDtor = isa<CXXConstructorDecl, CXXDestructorDecl>(Method);
      Facts.IsPrivate = Method->getAccess() == AS_private;
      Facts.IsProtected = Method->getAccess() == AS_protected;
      addOverridden(*Method, Facts.Overrides);
      noteClass(Method->getParent());
    }
    Facts.RequiresLock = requiresHeldLock(F);
    for (const ParmVarDecl *Param : F.parameters())
      Facts.Params.push_back(localId(*Param));
    if (std::optional<EndlessLoop> Loop =
            findEndlessLoop(F, Context, /*MaxCallDepth=*/0))
      if (Loop->Function == &F)
        Facts.EndlessLoop = location(Loop->Loop->getBeginLoc());
    // A pool's submit method: other units that only declare it start pool
    // tasks with it (knownPoolSubmits in ProjectIndex.h).
    if (Method && !Method->getParent()->isLambda())
      if (std::optional<ThreadPoolShape> Pool =
              threadPoolSubmit(*Method, Context);
          Pool && Pool->WorkerStart) {
        FactPoolSubmit Submit;
        Submit.CallableIndex = Pool->CallableIndex;
        Submit.SingleWorker = Pool->SingleWorker;
        Submit.WorkerStart = location(Pool->WorkerStart->getBeginLoc());
        for (const CXXMethodDecl *Other : Pool->Class->methods())
          if (const FunctionDecl *Definition = Other->getDefinition();
              Definition && Definition->hasBody() && isPoolBarrier(*Other))
            Submit.Barriers.push_back(usrOf(Other));
        Facts.PoolSubmit = std::move(Submit);
      }
    // A spawn wrapper: other units that only declare it start threads
    // with it.
    if (!Facts.PoolSubmit)
      Facts.SpawnWrapper = inferredSpawnWrapper(F, Context);
    // Its effect on its callers' locks, for callers in other units (a
    // function with thread-safety attributes says so in its declaration,
    // which those units see). Not for what the lock model already knows
    // from declarations: the lock and unlock methods of a mutex (rocksdb's
    // port::Mutex::Lock, defined in port_posix.cc, would otherwise send
    // every unit that locks one to the audit's second round), and guards'
    // constructors and destructors.
    const auto *Member = dyn_cast<CXXMethodDecl>(&F);
    bool KnownFromDeclarations =
        isa<CXXConstructorDecl, CXXDestructorDecl>(F) ||
        (Member && isMutexRecord(Member->getParent(), Options.Locks));
    if (const FunctionLockEffects &Effects =
            functionLockEffects(F, Context, Options.Locks);
        !KnownFromDeclarations && !Effects.empty() && !Effects.FromAttributes &&
        !callsUnknownFunction(F))
      Facts.LockEffects = factLockEffects(Effects, F);

    Extracted &E = ExtractedOf[&F];
    std::unique_ptr<LockScopeAnalysis> Locks =
        LockScopeAnalysis::analyze(F, Context, Options.Locks);
    ParentMap Parents(F.getBody());
    SummaryBuilder Builder(Context, Model, Locks.get(), E.Summary, Parents);
    Builder.TraverseStmt(F.getBody());

    std::optional<SourceLocation> FirstJoin = firstThreadJoin(F);
    for (const LocalAccess &Local : E.Summary.Accesses) {
      std::optional<FactKey> Key = factKey(Local.Key);
      if (!Key) {
        E.AccessIndex.push_back(std::nullopt);
        continue;
      }
      FactAccess Access;
      Access.AfterJoin =
          FirstJoin && Context.getSourceManager().isBeforeInTranslationUnit(
                           *FirstJoin, Local.Operation->getBeginLoc());
      Access.Key = std::move(*Key);
      Access.Name = Local.Key.Path.back()->getNameAsString();
      Access.Kind = Local.Kind;
      Access.CopiesWhole = Local.CopiesWhole;
      Access.Locks = factLocks(Local.Locks);
      Access.Loc = location(Local.Operation->getBeginLoc());
      E.AccessIndex.push_back(Facts.Accesses.size());
      Facts.Accesses.push_back(std::move(Access));
    }
    for (const LocalCall &Local : E.Summary.Calls) {
      const FunctionDecl *Callee = Local.Callee;
      // Only calls into project code can reach an access of ours.
      if (!Callee || !inProjectCode(Callee) || Callee->isDependentContext()) {
        E.CallIndex.push_back(std::nullopt);
        continue;
      }
      FactCall Call;
      Call.Callee = usrOf(Callee);
      Call.CalleeName = Callee->getQualifiedNameAsString();
      Call.OnThis = Local.OnThis;
      if (Local.Object)
        Call.Object = factKey(*Local.Object);
      for (unsigned I = 0; I < Local.Bound.size(); ++I)
        if (Local.Bound[I])
          if (std::optional<FactKey> Key = factKey(*Local.Bound[I]))
            Call.Bound.push_back({I, std::move(*Key)});
      Call.Locks = factLocks(Local.Locks);
      Call.Loc = location(Local.Call->getBeginLoc());
      Call.Virtual = isDispatchedCall(*Local.Call);
      E.CallIndex.push_back(Facts.Calls.size());
      Facts.Calls.push_back(std::move(Call));
    }
    extractLockHandOver(F, Locks.get(), Facts);
  }

  /// The facts of the lock-escape rule across functions (WholeProgram.cpp):
  /// the mutex parameters F releases while it reads reference parameters,
  /// and the objects of class type F assigns, once per object.
  void extractLockHandOver(const FunctionDecl &F,
                           const LockScopeAnalysis *Locks,
                           FunctionFacts &Facts) {
    for (const ParamLockRelease &Release :
         paramLockReleases(F, Context, Options.Locks)) {
      FactParamRelease Out;
      Out.LockParam = Release.LockParam;
      Out.ReleasedAt = location(Release.ReleasedAt->getBeginLoc());
      for (const auto &[Index, Read] : Release.ReadsWhileReleased)
        Out.Reads.push_back({Index, location(Read->getLocation())});
      Facts.ParamReleases.push_back(std::move(Out));
    }
    auto Assignments = ast_matchers::match(
        ast_matchers::findAll(ast_matchers::expr(ast_matchers::anyOf(
            ast_matchers::binaryOperator(ast_matchers::isAssignmentOperator())
                .bind("assign"),
            ast_matchers::cxxOperatorCallExpr(
                ast_matchers::isAssignmentOperator())
                .bind("assign")))),
        *F.getBody(), Context);
    llvm::StringSet<> Seen;
    for (const ast_matchers::BoundNodes &Nodes : Assignments) {
      const Expr *Assign = Nodes.getNodeAs<Expr>("assign");
      const Expr *Target = nullptr;
      if (const auto *Op = dyn_cast<BinaryOperator>(Assign))
        Target = Op->getLHS();
      else if (const auto *Call = dyn_cast<CXXOperatorCallExpr>(Assign))
        Target = Call->getNumArgs() > 0 ? Call->getArg(0) : nullptr;
      if (!Target || !Target->getType()->isRecordType() ||
          Model.classifyContainer(Target->getType()))
        continue;
      std::optional<ObjectKey> Object = objectKeyOf(Target);
      std::optional<FactKey> Key = Object ? factKey(*Object) : std::nullopt;
      if (!Key || llvm::StringRef(Key->front()).starts_with("local:") ||
          !Seen.insert(formatKey(*Key)).second)
        continue;
      FactAccess Write;
      Write.Key = std::move(*Key);
      Write.Name = Object->Path.back()->getNameAsString();
      Write.Kind = AccessKind::StructuralWrite;
      Write.Locks = factLocks(heldAt(Locks, Assign));
      Write.Loc = location(Assign->getBeginLoc());
      Facts.ObjectWrites.push_back(std::move(Write));
    }
  }

  /// The spawns of the unit, analysed (with their regions) before any is
  /// extracted: where a boost::asio handler runs depends on the unit's
  /// other spawns (AsioThreads).
  void extractSpawns(llvm::ArrayRef<const Expr *> SpawnExpressions) {
    std::vector<std::unique_ptr<SpawnSite>> Sites;
    for (const Expr *Spawn : SpawnExpressions) {
      if (!Spawn ||
          SM.isInSystemHeader(SM.getExpansionLoc(Spawn->getBeginLoc())))
        continue;
      std::optional<SpawnSite> Site =
          analyzeSpawn(Spawn, Context, Options.SpawnFunctions);
      if (!Site || !Site->Entry.Function || !Site->EnclosingFunction ||
          !ExtractedOf.count(Site->EnclosingFunction))
        continue; // in a template or a system header
      Sites.push_back(std::make_unique<SpawnSite>(std::move(*Site)));
    }
    std::vector<Region> Regions;
    std::vector<const SpawnSite *> SitePointers;
    for (const auto &Site : Sites) {
      Regions.push_back(computeRegion(*Site, Context));
      SitePointers.push_back(Site.get());
    }
    std::vector<const Region *> RegionPointers;
    RegionPointers.reserve(Regions.size());
    for (const Region &R : Regions)
      RegionPointers.push_back(&R);
    Asio = std::make_unique<AsioThreads>(SitePointers, RegionPointers, Context);
    for (unsigned I = 0; I < Sites.size(); ++I) {
      std::optional<Region> Accessed;
      if (Sites[I]->Asio) {
        // Only the handlers that run beside their poster, as in the
        // per-unit analysis.
        if (!Asio->runsElsewhere(*Sites[I]))
          continue;
        Accessed = Asio->accessRegion(*Sites[I], Regions[I]);
      }
      extractSpawn(*Sites[I], Accessed ? *Accessed : Regions[I], Regions[I]);
    }
    // Keep the sites AsioThreads points to.
    AsioSites = std::move(Sites);
  }

  std::vector<std::unique_ptr<SpawnSite>> AsioSites;
  std::unique_ptr<AsioThreads> Asio;

  bool serialised(const SpawnSite &A, const SpawnSite &B) const {
    return serialisedTasks(A, B) || (Asio && Asio->serialised(A, B));
  }

  /// \p Accessed: the statements of the region whose accesses and calls
  /// run beside the thread; \p Stmts: the whole region.
  void extractSpawn(const SpawnSite &SiteRef, const Region &Accessed,
                    const Region &Stmts) {
    const SpawnSite *Site = &SiteRef;
    auto Owner = ExtractedOf.find(Site->EnclosingFunction);
    if (Owner == ExtractedOf.end())
      return; // in a template or a system header
    FunctionFacts &Facts = FactsOf[Site->EnclosingFunction];
    const FunctionDecl &Entry = *Site->Entry.Function;
    const Expr *Spawn = Site->Spawn;

    FactSpawn Out;
    Out.Entry = usrOf(&Entry);
    Out.EntryName = Entry.getQualifiedNameAsString();
    Out.Loc = location(Spawn->getBeginLoc());
    Out.ResultDiscarded = Site->ResultDiscarded;
    switch (Site->Kind) {
    case SpawnKind::StdThread:
      Out.Kind = "std::thread";
      break;
    case SpawnKind::JThread:
      Out.Kind = "std::jthread";
      break;
    case SpawnKind::Async:
      Out.Kind = "std::async";
      break;
    case SpawnKind::PthreadCreate:
      Out.Kind = "pthread_create";
      break;
    case SpawnKind::SpawnFunction:
      Out.Kind = "spawn function";
      break;
    case SpawnKind::PoolTask:
      Out.Kind = "pool task";
      break;
    case SpawnKind::BoostThread:
      Out.Kind = "boost::thread";
      break;
    case SpawnKind::ThreadObject:
      Out.Kind = "thread object";
      break;
    case SpawnKind::ParallelAlgorithm:
      Out.Kind = "parallel algorithm";
      break;
    }
    if (const CXXRecordDecl *Class = threadClass(*Site)) {
      Out.OnThis = true;
      Out.ThreadClass = usrOf(Class);
    }
    // The objects the thread's parameters refer to, as the per-unit
    // analysis binds them.
    unsigned FirstParam = 0;
    if (!Site->Entry.Lambda && isa<CXXMethodDecl>(Entry) &&
        !cast<CXXMethodDecl>(Entry).isStatic() && Site->Entry.Object) {
      FirstParam = 1;
      if (!isa<CXXThisExpr>(ignoreWrappers(Site->Entry.Object)))
        if (std::optional<ObjectKey> Object = objectKeyOf(Site->Entry.Object))
          Out.Object = factKey(*Object);
    }
    std::vector<std::pair<unsigned, ObjectKey>> Bound;
    if (Site->Kind == SpawnKind::PthreadCreate) {
      if (!Site->Arguments.empty() && Entry.getNumParams() == 1)
        if (std::optional<ObjectKey> Key = objectKeyOf(Site->Arguments[0]))
          Bound.push_back({0, *Key});
    } else {
      unsigned Param = Site->Entry.StopToken ? 1 : 0;
      for (unsigned A = FirstParam; A < Site->Arguments.size(); ++A, ++Param) {
        if (Param >= Entry.getNumParams())
          break;
        QualType Type = Entry.getParamDecl(Param)->getType();
        const Expr *Arg = Site->Arguments[A];
        if ((Type->isReferenceType() &&
             unwrapStdRef(Arg) != ignoreWrappers(Arg)) ||
            Type->isPointerType())
          if (std::optional<ObjectKey> Key = objectKeyOf(Arg))
            Bound.push_back({Param, *Key});
      }
    }
    Out.Bound = factBound(Bound);
    if (Site->Entry.Lambda)
      for (const LambdaCapture &Capture : Site->Entry.Lambda->captures())
        if (Capture.capturesVariable() &&
            Capture.getCaptureKind() == LCK_ByCopy)
          if (const auto *Var = dyn_cast<VarDecl>(
                  Capture.getCapturedVar()->getCanonicalDecl());
              Var && !Var->getType()->isPointerType())
            Out.CopiedLocals.push_back(localId(*Var));

    Out.Escapes = mayEscape(*Site, Stmts);
    Out.MultiInstance = Stmts.MultiInstance && !serialised(*Site, *Site);
    const Extracted &E = Owner->second;
    for (unsigned I = 0; I < E.Summary.Accesses.size(); ++I)
      if (E.AccessIndex[I] &&
          (Accessed.Stmts.count(E.Summary.Accesses[I].Object) ||
           Accessed.Stmts.count(E.Summary.Accesses[I].Operation)))
        Out.RegionAccesses.push_back(*E.AccessIndex[I]);
    for (unsigned I = 0; I < E.Summary.Calls.size(); ++I)
      if (E.CallIndex[I] && Accessed.Stmts.count(E.Summary.Calls[I].Call))
        Out.RegionCalls.push_back(*E.CallIndex[I]);
    Facts.Spawns.push_back(std::move(Out));
    RegionsOf[Site->EnclosingFunction].push_back({*Site, Stmts.Stmts});
  }

  /// Per function: its spawns in the order of Facts.Spawns, with their
  /// regions, to tell which spawn starts inside another's region.
  std::map<const FunctionDecl *,
           std::vector<std::pair<SpawnSite, llvm::DenseSet<const Stmt *>>>>
      RegionsOf;

  void linkRegionSpawns() {
    for (auto &[Function, Spawns] : RegionsOf) {
      FunctionFacts &Facts = FactsOf[Function];
      for (unsigned I = 0; I < Spawns.size(); ++I)
        for (unsigned J = 0; J < Spawns.size(); ++J)
          if (I != J && Spawns[I].second.count(Spawns[J].first.Spawn) &&
              !serialised(Spawns[I].first, Spawns[J].first))
            Facts.Spawns[I].RegionSpawns.push_back(J);
    }
  }

  void collectInputs(UnitFacts &Unit) {
    // Every project file the unit read: the facts are stale when one of
    // them changes (a header that adds a lock changes what a .cpp means).
    for (unsigned I = 0, N = SM.local_sloc_entry_size(); I < N; ++I) {
      const SrcMgr::SLocEntry &Entry = SM.getLocalSLocEntry(I);
      if (!Entry.isFile())
        continue;
      const SrcMgr::FileInfo &Info = Entry.getFile();
      if (Info.getFileCharacteristic() != SrcMgr::C_User)
        continue;
      const SrcMgr::ContentCache &Content = Info.getContentCache();
      if (!Content.OrigEntry)
        continue;
      std::optional<llvm::MemoryBufferRef> Buffer = Content.getBufferIfLoaded();
      if (!Buffer)
        continue;
      std::string Path = realPath(*Content.OrigEntry);
      if (llvm::any_of(Unit.Inputs,
                       [&](const FactInput &In) { return In.File == Path; }))
        continue;
      Unit.Inputs.push_back({Path, hashContent(Buffer->getBuffer())});
    }
  }
};

} // namespace

UnitFacts extractUnitFacts(ASTContext &Context,
                           const SharedContainerOptions &Options,
                           llvm::ArrayRef<const Expr *> SpawnExpressions) {
  return FactExtractor(Context, Options).run(SpawnExpressions);
}

SharedContainerResult
analyzeSharedContainers(ASTContext &Context,
                        const SharedContainerOptions &Options) {
  Analysis Run(Context, Options);
  return Run.run(std::nullopt);
}

SharedContainerResult
analyzeSharedContainers(ASTContext &Context,
                        const SharedContainerOptions &Options,
                        llvm::ArrayRef<const Expr *> SpawnExpressions) {
  Analysis Run(Context, Options);
  return Run.run(SpawnExpressions);
}

} // namespace clang::tidy::concguard::utils
