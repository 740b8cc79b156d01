//===--- EscapingGuardedReferenceCheck.cpp - escaping-guarded-reference ---===//

#include "EscapingGuardedReferenceCheck.h"
#include "utils/CheckOptions.h"
#include "utils/ContainerModel.h"
#include "utils/ExprUtils.h"
#include "utils/ProjectIndex.h"
#include "utils/RetainedArguments.h"
#include "utils/SharedContainers.h"
#include "utils/StdNames.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/TypeLoc.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"

#include <map>

using namespace clang::ast_matchers;

namespace clang::tidy::concguard {

namespace {

using utils::HeldLock;
using utils::LockScopeAnalysis;
using utils::LockSet;
using utils::MutexKey;
using utils::ReleaseSite;

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// What kind of handle into an object a value of some type is.
enum class HandleKind { None, Reference, Pointer, Iterator, View };

llvm::StringRef handleName(HandleKind Kind) {
  switch (Kind) {
  case HandleKind::Reference:
    return "reference";
  case HandleKind::Pointer:
    return "pointer";
  case HandleKind::Iterator:
    return "iterator";
  case HandleKind::View:
    return "view";
  case HandleKind::None:
    break;
  }
  return "handle";
}

/// How wording changes for an object owned through a pointer.
llvm::StringRef intoWord(bool Pointee) {
  return Pointee ? "to an object owned by" : "into";
}

/// A handle into lock-guarded data that outlives the lock: what the
/// analysis below (EscapeFinder, HolderEscapeFinder) finds and the check
/// reports, as clang-tidy's UseAfterMoveCheck reports what its finder
/// returns. Only names and places: the wording is the check's.
struct GuardedEscape {
  enum KindType {
    /// A local handle used after the lock is released (Name: the local).
    UsedAfterRelease,
    /// Returned from the function; Fixes may change the return type.
    Returned,
    /// Stored in a member, global, static or out-parameter (Where says
    /// which, Name names it).
    Stored,
    /// Passed to a library function that keeps it (Name: the function,
    /// Where: what keeps it).
    Retained,
    /// A range-for over data a temporary lock holder hands out (Storage:
    /// the holder's type).
    HolderLoop,
    /// A local initialised from data a temporary lock holder hands out and
    /// used after the holder is gone (Name: the local, Storage: the
    /// holder's type).
    HolderVariable,
  } Kind = UsedAfterRelease;
  SourceLocation Loc;
  HandleKind Handle = HandleKind::Reference;
  /// The handle reaches an object the storage owns through a pointer.
  bool Pointee = false;
  std::string Storage;
  std::string Lock;
  std::string Name;
  std::string Where;
  std::vector<FixItHint> Fixes;

  // The notes, each left out when its location is invalid.
  /// Where the lock is taken; LockedOnEntry: the lock is one the callers
  /// of Function hold (its REQUIRES attribute, its AssertHeld()).
  SourceLocation LockedAt;
  bool LockedOnEntry = false;
  std::string Function;
  /// Where a callee (FormedIn) forms the handle it returns.
  SourceLocation FormedAt;
  std::string FormedIn;
  /// Where the unit removes the owned object (Pointee handles).
  SourceLocation RemovedAt;
  /// Where the lock is released: by ReleasingGuard (When says when), or
  /// by hand when it is empty. For a holder: at the end of When.
  SourceLocation ReleasedAt;
  std::string ReleasingGuard;
  std::string When;
  /// The function that returned the temporary holder, if named.
  std::string HolderMadeBy;
};

const CXXRecordDecl *recordOf(QualType T) {
  if (T.isNull())
    return nullptr;
  return T.getNonReferenceType().getCanonicalType()->getAsCXXRecordDecl();
}

/// A pointer, iterator or view type (a reference is not a value of its own).
HandleKind valueHandleKind(QualType T) {
  if (T.isNull())
    return HandleKind::None;
  T = T.getNonReferenceType().getCanonicalType();
  if (T->isPointerType() && !T->isFunctionPointerType())
    return HandleKind::Pointer;
  const CXXRecordDecl *RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->getIdentifier())
    return HandleKind::None;
  if (utils::isStdDeclNamed(RD, {"basic_string_view", "span"}))
    return HandleKind::View;
  if (RD->getName().contains_insensitive("iterator"))
    return HandleKind::Iterator;
  return HandleKind::None;
}

bool nameMatches(const NamedDecl &D, llvm::StringRef Wanted) {
  Wanted = Wanted.trim();
  Wanted.consume_front("::");
  if (Wanted.empty() || !D.getIdentifier())
    return false;
  if (Wanted.contains("::"))
    return D.getQualifiedNameAsString() == Wanted;
  return D.getName() == Wanted;
}

/// Objects that are synchronised by themselves: a handle to them is not a
/// handle to lock-guarded data.
bool isSelfSynchronized(QualType T, const utils::LockOptions &Locks) {
  if (utils::isMutexType(T, Locks) || utils::isLockGuardType(T, Locks))
    return true;
  return utils::isStdDeclNamed(
      recordOf(T),
      {"atomic", "atomic_ref", "atomic_flag", "condition_variable",
       "condition_variable_any", "once_flag", "thread", "jthread",
       "counting_semaphore", "latch", "barrier", "stop_source", "stop_token",
       "promise", "future", "shared_future", "mutex", "shared_mutex"});
}

//===----------------------------------------------------------------------===//
// Where guarded data lives, and handles into it
//===----------------------------------------------------------------------===//

/// The lock-guarded object a handle points into.
struct Origin {
  enum KindT { ThisMember, Global, ParamMember } Kind = ThisMember;
  /// The field of `*this`, the global/static variable, or the parameter.
  const ValueDecl *Base = nullptr;
  std::string Name;
};

/// A local variable that refers into guarded data.
struct Taint {
  Origin From;
  MutexKey Key;
  const Stmt *AcquiredAt = nullptr;
  /// A reference variable bound to the guarded object itself (as opposed to
  /// a pointer, iterator or view variable).
  bool IsStorage = false;
  /// A local owning pointer (utils::isOwningPointerType) that shares its
  /// object with guarded storage (`Ptr P = Map[K];`): it keeps the object
  /// alive, so its own uses are never reported; a reference to the object
  /// that outlives it is.
  bool Owner = false;
  /// Refers to an object that guarded storage owns through a pointer held
  /// in an element (`*Map[K]`), not into the storage itself: what the lock
  /// protects is its lifetime, so it is reported only where some code
  /// removes elements (EscapingGuardedReferenceCheck::removalOf).
  bool Pointee = false;
  bool Released = false;
  ReleaseSite Release;
};

using TaintMap = std::map<const VarDecl *, Taint>;

struct Derivation {
  Origin From;
  /// The local variable the handle was read from, if any, and its taint.
  const Taint *Via = nullptr;
  const VarDecl *ViaVar = nullptr;
  /// See Taint::Pointee.
  bool Pointee = false;
  /// Reached through a local owning pointer (Via is its taint), which keeps
  /// the object alive until the function returns.
  bool LocalOwner = false;
  /// Formed in a callee and returned from it (`return unsafeGet(Name);`):
  /// the callee and its returned expression, for the note.
  const FunctionDecl *FormedIn = nullptr;
  const Expr *FormedAt = nullptr;

  bool pointee() const { return Pointee || (Via && Via->Pointee); }
};

/// What a function returns into guarded storage, whatever lock its caller
/// holds: computed by analysing its body as if every lock were held, for
/// a function that takes no lock of its own (a lock it takes is its own
/// finding).
struct ReturnedHandle {
  Origin From;
  bool Pointee = false;
  /// Returns by value an owning pointer that shares its object with the
  /// storage (`return It->second;` for a map of shared pointers).
  bool OwnerCopy = false;
  const FunctionDecl *Function = nullptr;
  const Expr *At = nullptr;
};

/// The type of the object an owning pointer of type \p Owner points to
/// (what its `operator->` returns a pointer to).
QualType ownedType(QualType Owner) {
  const CXXRecordDecl *Record = recordOf(Owner.getNonReferenceType());
  if (!Record || !Record->hasDefinition())
    return QualType();
  for (const CXXMethodDecl *Method : Record->getDefinition()->methods())
    if (Method->getOverloadedOperator() == OO_Arrow)
      return Method->getReturnType()->getPointeeType();
  return QualType();
}

/// Is \p E guarded storage itself, named directly (a field of `*this`, a
/// global or static), rather than something reached through it?
bool isDirectStorage(const Expr *E) {
  E = E->IgnoreParenImpCasts();
  if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
    const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
    return Var && Var->hasGlobalStorage();
  }
  if (const auto *Member = dyn_cast<MemberExpr>(E))
    return isa<VarDecl>(Member->getMemberDecl()) ||
           isa<CXXThisExpr>(Member->getBase()->IgnoreParenImpCasts());
  return false;
}

/// The field of `*this` or the global whose storage \p E reaches
/// (`Map` in `Map[K].reset()`, `Ptr->erase(It)`, `this->Data.Map`).
const ValueDecl *storageRoot(const Expr *E) {
  for (unsigned Depth = 0; E && Depth < 16; ++Depth) {
    E = E->IgnoreParenImpCasts();
    if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
      const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
      return Var && Var->hasGlobalStorage() ? Var : nullptr;
    }
    if (const auto *Member = dyn_cast<MemberExpr>(E)) {
      if (const auto *Static = dyn_cast<VarDecl>(Member->getMemberDecl()))
        return Static;
      if (isa<CXXThisExpr>(Member->getBase()->IgnoreParenImpCasts()))
        return dyn_cast<FieldDecl>(Member->getMemberDecl());
      E = Member->getBase();
      continue;
    }
    if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E)) {
      OverloadedOperatorKind Kind = Op->getOperator();
      if (Op->getNumArgs() == 0 ||
          (Kind != OO_Arrow && Kind != OO_Star && Kind != OO_Subscript))
        return nullptr;
      E = Op->getArg(0);
      continue;
    }
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E)) {
      E = Call->getImplicitObjectArgument();
      continue;
    }
    if (const auto *Unary = dyn_cast<UnaryOperator>(E);
        Unary && Unary->getOpcode() == UO_Deref) {
      E = Unary->getSubExpr();
      continue;
    }
    return nullptr;
  }
  return nullptr;
}

bool isLocalVar(const VarDecl *V) {
  // Structured bindings are not followed (their DecompositionDecl has no
  // name to report, and the bindings are not variables).
  return V && V->hasLocalStorage() && !isa<ParmVarDecl>(V) &&
         !isa<DecompositionDecl>(V) && V->getIdentifier();
}

const DeclRefExpr *asLocalRef(const Expr *E) {
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(E ? E->IgnoreParens() : E);
  if (!Ref)
    return nullptr;
  const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
  return isLocalVar(Var) ? Ref : nullptr;
}

/// Uses of a variable that do not read through it: the left side of an
/// assignment, a null test.
class IgnoredUses : public RecursiveASTVisitor<IgnoredUses> {
public:
  llvm::SmallPtrSet<const Expr *, 16> Refs;
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }

  bool VisitBinaryOperator(BinaryOperator *Op) {
    if (Op->isAssignmentOp())
      add(Op->getLHS());
    if (Op->isEqualityOp()) {
      if (isNull(Op->getRHS()))
        add(Op->getLHS()->IgnoreParenImpCasts());
      if (isNull(Op->getLHS()))
        add(Op->getRHS()->IgnoreParenImpCasts());
    }
    return true;
  }
  bool VisitCXXOperatorCallExpr(CXXOperatorCallExpr *Call) {
    if (Call->getOperator() == OO_Equal && Call->getNumArgs() == 2)
      add(Call->getArg(0));
    return true;
  }
  bool VisitImplicitCastExpr(ImplicitCastExpr *Cast) {
    if (Cast->getCastKind() == CK_PointerToBoolean)
      add(Cast->getSubExpr()->IgnoreParenImpCasts());
    return true;
  }
  bool VisitUnaryOperator(UnaryOperator *Op) {
    if (Op->getOpcode() == UO_LNot)
      add(Op->getSubExpr()->IgnoreParenImpCasts());
    return true;
  }

private:
  static bool isNull(const Expr *E) {
    E = E->IgnoreParenImpCasts();
    return isa<CXXNullPtrLiteralExpr>(E) || isa<GNUNullExpr>(E) ||
           (isa<IntegerLiteral>(E) &&
            cast<IntegerLiteral>(E)->getValue().isZero());
  }
  void add(const Expr *E) {
    if (const DeclRefExpr *Ref = asLocalRef(E))
      Refs.insert(Ref);
  }
};

/// The target of an assignment that outlives the function.
struct StoreTarget {
  enum KindT { Member, Global, OutParam } Kind = Member;
  const ValueDecl *Decl = nullptr;
};

std::optional<StoreTarget> storeTargetOf(const Expr *LHS) {
  bool ThroughIndirection = false;
  const ValueDecl *LastField = nullptr;
  for (unsigned Depth = 0; LHS && Depth < 16; ++Depth) {
    LHS = LHS->IgnoreParenImpCasts();
    if (const auto *Member = dyn_cast<MemberExpr>(LHS)) {
      if (const auto *Static = dyn_cast<VarDecl>(Member->getMemberDecl()))
        return StoreTarget{StoreTarget::Global, Static};
      LastField = Member->getMemberDecl();
      ThroughIndirection |= Member->isArrow();
      LHS = Member->getBase();
      continue;
    }
    if (isa<CXXThisExpr>(LHS))
      return LastField ? std::optional<StoreTarget>(
                             StoreTarget{StoreTarget::Member, LastField})
                       : std::nullopt;
    if (const auto *Unary = dyn_cast<UnaryOperator>(LHS)) {
      if (Unary->getOpcode() != UO_Deref)
        return std::nullopt;
      ThroughIndirection = true;
      LHS = Unary->getSubExpr();
      continue;
    }
    if (const auto *Subscript = dyn_cast<ArraySubscriptExpr>(LHS)) {
      ThroughIndirection = true;
      LHS = Subscript->getBase();
      continue;
    }
    if (const auto *Ref = dyn_cast<DeclRefExpr>(LHS)) {
      const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
      if (!Var)
        return std::nullopt;
      if (const auto *Parm = dyn_cast<ParmVarDecl>(Var)) {
        bool Indirect =
            Parm->getType()->isReferenceType() ||
            (ThroughIndirection && Parm->getType()->isPointerType());
        if (Indirect)
          return StoreTarget{StoreTarget::OutParam, Parm};
        return std::nullopt;
      }
      if (Var->hasGlobalStorage() && !Var->getTLSKind())
        return StoreTarget{StoreTarget::Global, Var};
      return std::nullopt;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

} // namespace

struct EscapingGuardedReferenceCheck::Memos {
  /// What each callee analysed so far returns into guarded storage.
  std::map<const FunctionDecl *, std::optional<ReturnedHandle>> Returned;
  /// The first place the unit removes elements of (or drops the object
  /// owned by) each field or global; built on first use.
  std::optional<llvm::DenseMap<const Decl *, const Expr *>> Removals;
};

EscapingGuardedReferenceCheck::Memos &EscapingGuardedReferenceCheck::memos() {
  if (!UnitMemos)
    UnitMemos = std::make_unique<Memos>();
  return *UnitMemos;
}

namespace {
/// Where the unit's own code (not constructors or destructors, which run
/// before and after the object is shared) removes elements of a container
/// or resets an owning pointer, by the field or global it reaches.
class RemovalFinder : public RecursiveASTVisitor<RemovalFinder> {
public:
  RemovalFinder(const SourceManager &SM,
                llvm::DenseMap<const Decl *, const Expr *> &Found)
      : SM(SM), Found(Found) {}
  bool shouldVisitTemplateInstantiations() const { return true; }
  bool TraverseDecl(Decl *D) {
    if (D && !isa<TranslationUnitDecl>(D) &&
        SM.isInSystemHeader(D->getLocation()))
      return true;
    if (isa_and_nonnull<CXXConstructorDecl, CXXDestructorDecl>(D))
      return true;
    return RecursiveASTVisitor::TraverseDecl(D);
  }
  bool VisitCXXMemberCallExpr(CXXMemberCallExpr *Call) {
    const Expr *Object = Call->getImplicitObjectArgument();
    const CXXMethodDecl *Method = Call->getMethodDecl();
    if (!Object || !Method)
      return true;
    std::optional<utils::ContainerOp> Op = Model.classify(*Call);
    bool Removes = Op && utils::removesElements(*Op);
    bool DropsObject = utils::isOwningPointerType(Object->getType()) &&
                       Method->getIdentifier() &&
                       llvm::is_contained({"reset", "swap"}, Method->getName());
    if (Removes || DropsObject)
      add(Object, Call);
    return true;
  }
  bool VisitCXXOperatorCallExpr(CXXOperatorCallExpr *Call) {
    if (Call->getOperator() != OO_Equal || Call->getNumArgs() != 2)
      return true;
    const Expr *Object = Call->getArg(0);
    std::optional<utils::ContainerOp> Op = Model.classify(*Call);
    if (utils::isOwningPointerType(Object->getType()) ||
        (Op && utils::removesElements(*Op)))
      add(Object, Call);
    return true;
  }

private:
  void add(const Expr *Object, const Expr *At) {
    if (const ValueDecl *Root = storageRoot(Object))
      Found.try_emplace(Root->getCanonicalDecl(), At);
  }
  const SourceManager &SM;
  llvm::DenseMap<const Decl *, const Expr *> &Found;
  const utils::ContainerModel Model;
};
} // namespace

const Expr *EscapingGuardedReferenceCheck::removalOf(const ValueDecl *Storage) {
  if (!Storage || !Context)
    return nullptr;
  Memos &M = memos();
  if (!M.Removals) {
    M.Removals.emplace();
    RemovalFinder(Context->getSourceManager(), *M.Removals)
        .TraverseDecl(Context->getTranslationUnitDecl());
  }
  return M.Removals->lookup(Storage->getCanonicalDecl());
}

namespace {

//===----------------------------------------------------------------------===//
// The per-function analysis
//===----------------------------------------------------------------------===//

class EscapeFinder {
public:
  EscapeFinder(EscapingGuardedReferenceCheck &Check,
               const utils::LockOptions &Locks, const FunctionDecl &Function,
               ASTContext &Context, const LockScopeAnalysis &Analysis)
      : Check(Check), Locks(Locks), Function(Function), Context(Context),
        Analysis(Analysis) {}

  /// Analyses the function; what escapes its locks is in findings().
  void run();
  std::vector<GuardedEscape> &findings() { return Found; }

  /// The acquisitions that stand for locks the function's callers hold on
  /// entry (its REQUIRES attribute's arguments, its AssertHeld() calls).
  void setEntryLocks(llvm::ArrayRef<utils::HeldLock> Held) {
    for (const utils::HeldLock &Lock : Held)
      EntrySites.insert(Lock.AcquiredAt);
  }

  /// Analyses the function as a callee whose caller holds the locks: what
  /// it returns into guarded storage (\p Depth: calls already followed).
  std::optional<ReturnedHandle> summarise(unsigned Depth);

private:
  /// The object an owning pointer \p Owner points to: guarded storage when
  /// the pointer is (`*Map` for a `std::unique_ptr<Map>` member), an object
  /// whose lifetime the storage controls when the pointer is an element or
  /// a local copy of one (`*Map[K]`, `*P` for `Ptr P = Map[K]`).
  std::optional<Derivation> pointee(const Expr *Owner, const TaintMap &State,
                                    unsigned Depth) const;
  /// \p E, a value of owning-pointer type, copies one held in guarded
  /// storage (`Map[K]`, `It->second`, a callee returning one), sharing its
  /// object.
  std::optional<Derivation> ownerCopy(const Expr *E, const TaintMap &State,
                                      unsigned Depth = 0) const;
  /// What the project function \p Call calls returns into guarded storage
  /// (of the object it runs on, or a global), from its summary.
  std::optional<ReturnedHandle> returnedBy(const CallExpr &Call) const;
  /// The same in this function's terms: a member of the callee's object is
  /// a member of `*this` when called on `this`, and guarded data of this
  /// function when called on guarded data (`Queue.front()` for a member
  /// `Queue` of a class that wraps a container: the class is a container by
  /// its shape).
  std::optional<Derivation> fromCallee(const CallExpr &Call, bool WantOwnerCopy,
                                       const TaintMap &State,
                                       unsigned Depth) const;
  void recordReturn(const ReturnStmt &Return, const TaintMap &State);
  std::optional<Derivation> storage(const Expr *E, const TaintMap &State,
                                    unsigned Depth = 0) const;
  std::optional<Derivation> handle(const Expr *E, const TaintMap &State,
                                   unsigned Depth = 0) const;
  std::optional<Origin> fieldOrigin(const FieldDecl *Field) const;
  std::optional<Origin> globalOrigin(const VarDecl *Var) const;
  bool isAccessorClass(QualType T) const;
  const HeldLock *lockFor(const Origin &O, const LockSet &Held) const;

  void step(const CFGBlock &Block, unsigned Index, TaintMap &State,
            bool Report);
  void setTaint(const VarDecl *Var, std::optional<Derivation> D, bool IsStorage,
                const LockSet &Held, TaintMap &State) const;
  /// Taints \p Var, a local owning pointer, as a copy of one in guarded
  /// storage (Taint::Owner), or clears it.
  void setOwner(const VarDecl *Var, std::optional<Derivation> D,
                const LockSet &Held, TaintMap &State) const;
  static bool merge(TaintMap &Into, const TaintMap &From);

  // Each adds a GuardedEscape to Found when the handle outlives its lock.
  void findUse(const DeclRefExpr &Ref, const Taint &T);
  void findReturn(const ReturnStmt &Return, const TaintMap &State);
  void findStore(const Stmt &S, const Expr *LHS, const Expr *RHS,
                 const TaintMap &State);
  void findStatic(const VarDecl &Var, const Stmt &S, const TaintMap &State);
  void findRetained(const CallExpr &Call, const TaintMap &State);
  /// Resolves the lock of \p D at \p S and where it is released afterwards.
  bool resolveLock(const Derivation &D, const Stmt &S, MutexKey &Key,
                   const Stmt *&AcquiredAt, ReleaseSite &Release) const;
  /// Fills the places of \p E's notes: the lock, the callee that formed
  /// the handle, the removal of an owned object, the release.
  void setNotes(GuardedEscape &E, const Stmt *AcquiredAt,
                const ReleaseSite &Release, const Derivation *D) const;
  std::vector<FixItHint> returnTypeFixes() const;

  EscapingGuardedReferenceCheck &Check;
  const utils::LockOptions &Locks;
  const FunctionDecl &Function;
  ASTContext &Context;
  const LockScopeAnalysis &Analysis;
  llvm::SmallPtrSet<const Stmt *, 2> EntrySites;
  IgnoredUses Ignored;
  llvm::SmallPtrSet<const VarDecl *, 4> ReportedVars;
  bool FixOffered = false;
  std::vector<GuardedEscape> Found;
  /// Set by summarise(): no lock is needed to taint, nothing is reported,
  /// and returns are recorded into Returned.
  bool Summarising = false;
  unsigned SummaryDepth = 0;
  std::optional<ReturnedHandle> Returned;
};

bool EscapeFinder::isAccessorClass(QualType T) const {
  const CXXRecordDecl *RD = recordOf(T);
  if (!RD)
    return false;
  // Which standard types are containers is ContainerModel's decision, shared
  // with the other checks.
  static const utils::ContainerModel StdContainers;
  if (StdContainers.classifyContainer(T))
    return true;
  // Standard types that are no containers but whose accessors also return
  // references into the object itself.
  if (utils::isStdDeclNamed(
          RD, {"optional", "stack", "queue", "priority_queue", "valarray"}))
    return true;
  return llvm::any_of(Check.containerTypes(), [&](const std::string &Name) {
    return nameMatches(*RD, Name);
  });
}

std::optional<Origin> EscapeFinder::fieldOrigin(const FieldDecl *Field) const {
  if (!Field)
    return std::nullopt;
  QualType T = Field->getType();
  if (T->isReferenceType() || T.isConstQualified() ||
      Context.getBaseElementType(T).isConstQualified() ||
      isSelfSynchronized(T, Locks))
    return std::nullopt;
  return Origin{Origin::ThisMember, Field, Field->getNameAsString()};
}

std::optional<Origin> EscapeFinder::globalOrigin(const VarDecl *Var) const {
  if (!Var || !Var->hasGlobalStorage() || Var->getTLSKind() ||
      Var->isConstexpr())
    return std::nullopt;
  QualType T = Var->getType();
  if (T->isReferenceType() || T.isConstQualified() ||
      Context.getBaseElementType(T).isConstQualified() ||
      isSelfSynchronized(T, Locks))
    return std::nullopt;
  std::string Name = Var->isStaticDataMember() ? Var->getQualifiedNameAsString()
                                               : Var->getNameAsString();
  return Origin{Origin::Global, Var, Name};
}

std::optional<Derivation> EscapeFinder::storage(const Expr *E,
                                                const TaintMap &State,
                                                unsigned Depth) const {
  if (!E || Depth > 24)
    return std::nullopt;
  E = E->IgnoreParens();
  ++Depth;
  if (const auto *Cast = dyn_cast<ImplicitCastExpr>(E)) {
    switch (Cast->getCastKind()) {
    case CK_NoOp:
    case CK_DerivedToBase:
    case CK_UncheckedDerivedToBase:
      return storage(Cast->getSubExpr(), State, Depth);
    default:
      return std::nullopt; // a copy, or a conversion to something else
    }
  }
  if (const auto *Cleanups = dyn_cast<ExprWithCleanups>(E))
    return storage(Cleanups->getSubExpr(), State, Depth);
  if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
    const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
    if (!Var)
      return std::nullopt;
    if (isLocalVar(Var)) {
      auto It = State.find(Var);
      if (It != State.end() && It->second.IsStorage)
        return Derivation{It->second.From, &It->second, Var};
      return std::nullopt;
    }
    // The singleton idiom (`static Foo Instance; return Instance;` under a
    // lock that only guards the initialisation) hands out the whole object,
    // which synchronises itself; its elements are still followed when it is
    // a container.
    if (Var->isStaticLocal() && !isAccessorClass(Var->getType()))
      return std::nullopt;
    if (std::optional<Origin> O = globalOrigin(Var))
      return Derivation{*O, nullptr};
    return std::nullopt;
  }
  if (const auto *Member = dyn_cast<MemberExpr>(E)) {
    const ValueDecl *D = Member->getMemberDecl();
    if (const auto *Static = dyn_cast<VarDecl>(D)) {
      if (std::optional<Origin> O = globalOrigin(Static))
        return Derivation{*O, nullptr};
      return std::nullopt;
    }
    const auto *Field = dyn_cast<FieldDecl>(D);
    if (!Field || Field->getType()->isReferenceType())
      return std::nullopt;
    const Expr *Base = Member->getBase();
    const Expr *Bare = Base->IgnoreParenImpCasts();
    if (isa<CXXThisExpr>(Bare)) {
      if (std::optional<Origin> O = fieldOrigin(Field))
        return Derivation{*O, nullptr};
      return std::nullopt;
    }
    // A sub-object of guarded data is guarded data.
    if (std::optional<Derivation> D = Member->isArrow()
                                          ? handle(Base, State, Depth)
                                          : storage(Base, State, Depth))
      return D;
    // A member of an object reached through a parameter: guarded only by a
    // lock of that same object (checked in lockFor()).
    if (const auto *Ref = dyn_cast<DeclRefExpr>(Bare))
      if (const auto *Parm = dyn_cast<ParmVarDecl>(Ref->getDecl());
          Parm && (Parm->getType()->isReferenceType() ||
                   (Member->isArrow() && Parm->getType()->isPointerType()))) {
        QualType T = Field->getType();
        if (T.isConstQualified() || isSelfSynchronized(T, Locks))
          return std::nullopt;
        return Derivation{
            Origin{Origin::ParamMember, Parm,
                   Parm->getNameAsString() + "." + Field->getNameAsString()},
            nullptr};
      }
    return std::nullopt;
  }
  if (const auto *Subscript = dyn_cast<ArraySubscriptExpr>(E)) {
    const Expr *Base = Subscript->getBase()->IgnoreParens();
    if (const auto *Decay = dyn_cast<ImplicitCastExpr>(Base);
        Decay && Decay->getCastKind() == CK_ArrayToPointerDecay)
      return storage(Decay->getSubExpr(), State, Depth);
    return handle(Base, State, Depth);
  }
  if (const auto *Unary = dyn_cast<UnaryOperator>(E)) {
    if (Unary->getOpcode() == UO_Deref)
      return handle(Unary->getSubExpr(), State, Depth);
    return std::nullopt;
  }
  if (!E->isGLValue())
    return std::nullopt;
  if (const auto *Call = dyn_cast<CallExpr>(E))
    if (std::optional<Derivation> D = fromCallee(*Call, false, State, Depth))
      return D;
  if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E)) {
    if (Op->getNumArgs() < 1)
      return std::nullopt;
    OverloadedOperatorKind Kind = Op->getOperator();
    if (Kind != OO_Star && Kind != OO_Subscript)
      return std::nullopt;
    const Expr *Object = Op->getArg(0);
    if (Kind == OO_Star && utils::isOwningPointerType(Object->getType()))
      return pointee(Object, State, Depth);
    if (isAccessorClass(Object->getType()))
      return storage(Object, State, Depth);
    if (valueHandleKind(Object->getType()) == HandleKind::Iterator)
      return handle(Object, State, Depth);
    return std::nullopt;
  }
  if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E)) {
    const CXXMethodDecl *Method = Call->getMethodDecl();
    const Expr *Object = Call->getImplicitObjectArgument();
    if (!Method || !Method->getIdentifier() || !Object)
      return std::nullopt;
    llvm::StringRef Name = Method->getName();
    if (!llvm::is_contained({"at", "front", "back", "top", "value",
                             "emplace_back", "emplace_front"},
                            Name))
      return std::nullopt;
    bool Arrow = false;
    if (const auto *Callee = dyn_cast<MemberExpr>(Call->getCallee()))
      Arrow = Callee->isArrow();
    QualType ObjectType = Object->getType();
    if (Arrow)
      ObjectType = ObjectType->getPointeeType();
    if (ObjectType.isNull() || !isAccessorClass(ObjectType))
      return std::nullopt;
    return Arrow ? handle(Object, State, Depth) : storage(Object, State, Depth);
  }
  if (const auto *Cond = dyn_cast<AbstractConditionalOperator>(E)) {
    if (std::optional<Derivation> D =
            storage(Cond->getTrueExpr(), State, Depth))
      return D;
    return storage(Cond->getFalseExpr(), State, Depth);
  }
  return std::nullopt;
}

std::optional<Derivation> EscapeFinder::handle(const Expr *E,
                                               const TaintMap &State,
                                               unsigned Depth) const {
  if (!E || Depth > 24)
    return std::nullopt;
  E = E->IgnoreParens();
  ++Depth;
  if (const auto *Cast = dyn_cast<ImplicitCastExpr>(E)) {
    switch (Cast->getCastKind()) {
    case CK_ArrayToPointerDecay:
      return storage(Cast->getSubExpr(), State, Depth);
    case CK_NoOp:
    case CK_LValueToRValue:
    case CK_DerivedToBase:
    case CK_UncheckedDerivedToBase:
    case CK_BitCast:
    case CK_ConstructorConversion:
    case CK_UserDefinedConversion:
      return handle(Cast->getSubExpr(), State, Depth);
    default:
      return std::nullopt;
    }
  }
  if (const auto *Cast = dyn_cast<ExplicitCastExpr>(E)) {
    if (Cast->getCastKind() == CK_ArrayToPointerDecay)
      return storage(Cast->getSubExpr(), State, Depth);
    return handle(Cast->getSubExpr(), State, Depth);
  }
  if (const auto *Cleanups = dyn_cast<ExprWithCleanups>(E))
    return handle(Cleanups->getSubExpr(), State, Depth);
  if (const auto *Temp = dyn_cast<MaterializeTemporaryExpr>(E))
    return handle(Temp->getSubExpr(), State, Depth);
  if (const auto *Bind = dyn_cast<CXXBindTemporaryExpr>(E))
    return handle(Bind->getSubExpr(), State, Depth);
  if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
    const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
    if (!isLocalVar(Var))
      return std::nullopt;
    auto It = State.find(Var);
    if (It != State.end() && !It->second.IsStorage && !It->second.Owner)
      return Derivation{It->second.From, &It->second, Var};
    return std::nullopt;
  }
  if (const auto *Unary = dyn_cast<UnaryOperator>(E)) {
    switch (Unary->getOpcode()) {
    case UO_AddrOf:
      return storage(Unary->getSubExpr(), State, Depth);
    case UO_PreInc:
    case UO_PreDec:
    case UO_PostInc:
    case UO_PostDec:
      return handle(Unary->getSubExpr(), State, Depth);
    default:
      return std::nullopt;
    }
  }
  if (const auto *Binary = dyn_cast<BinaryOperator>(E)) {
    if (Binary->getOpcode() == BO_Comma)
      return handle(Binary->getRHS(), State, Depth);
    if (Binary->isAdditiveOp() && E->getType()->isPointerType()) {
      if (std::optional<Derivation> D = handle(Binary->getLHS(), State, Depth))
        return D;
      return handle(Binary->getRHS(), State, Depth);
    }
    return std::nullopt;
  }
  if (const auto *Cond = dyn_cast<AbstractConditionalOperator>(E)) {
    if (std::optional<Derivation> D = handle(Cond->getTrueExpr(), State, Depth))
      return D;
    return handle(Cond->getFalseExpr(), State, Depth);
  }
  if (const auto *Construct = dyn_cast<CXXConstructExpr>(E)) {
    if (Construct->getNumArgs() < 1 ||
        isa<CXXDefaultArgExpr>(Construct->getArg(0)))
      return std::nullopt;
    const Expr *Arg = Construct->getArg(0);
    const CXXConstructorDecl *Ctor = Construct->getConstructor();
    if (Ctor && Ctor->isCopyOrMoveConstructor())
      return handle(Arg, State, Depth);
    if (valueHandleKind(Construct->getType()) == HandleKind::View) {
      if (std::optional<Derivation> D = storage(Arg, State, Depth))
        return D;
      return handle(Arg, State, Depth);
    }
    return std::nullopt;
  }
  if (const auto *Call = dyn_cast<CallExpr>(E))
    if (std::optional<Derivation> D = fromCallee(*Call, false, State, Depth))
      return D;
  if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E)) {
    const CXXMethodDecl *Method = Call->getMethodDecl();
    const Expr *Object = Call->getImplicitObjectArgument();
    if (!Method || !Object)
      return std::nullopt;
    if (Method->getIdentifier() && Method->getName() == "get" &&
        utils::isOwningPointerType(Object->getType()))
      return pointee(Object, State, Depth);
    bool Arrow = false;
    if (const auto *Callee = dyn_cast<MemberExpr>(Call->getCallee()))
      Arrow = Callee->isArrow();
    QualType ObjectType = Object->getType();
    if (Arrow)
      ObjectType = ObjectType->getPointeeType();
    if (ObjectType.isNull())
      return std::nullopt;
    auto FromObject = [&]() {
      return Arrow ? handle(Object, State, Depth)
                   : storage(Object, State, Depth);
    };
    // `std::string` -> `std::string_view`.
    if (isa<CXXConversionDecl>(Method)) {
      if (valueHandleKind(Call->getType()) == HandleKind::View &&
          isAccessorClass(ObjectType))
        return FromObject();
      return std::nullopt;
    }
    if (!Method->getIdentifier() || !isAccessorClass(ObjectType) ||
        valueHandleKind(Call->getType()) == HandleKind::None)
      return std::nullopt;
    if (llvm::is_contained({"data", "c_str", "begin", "end", "cbegin", "cend",
                            "rbegin", "rend", "crbegin", "crend", "find",
                            "lower_bound", "upper_bound"},
                           Method->getName()))
      return FromObject();
    return std::nullopt;
  }
  if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E)) {
    if (Op->getNumArgs() < 1)
      return std::nullopt;
    const Expr *Object = Op->getArg(0);
    switch (Op->getOperator()) {
    case OO_Arrow:
      if (utils::isOwningPointerType(Object->getType()))
        return pointee(Object, State, Depth);
      if (isAccessorClass(Object->getType()))
        return storage(Object, State, Depth);
      if (valueHandleKind(Object->getType()) == HandleKind::Iterator)
        return handle(Object, State, Depth);
      return std::nullopt;
    case OO_Plus:
    case OO_Minus:
    case OO_PlusPlus:
    case OO_MinusMinus:
    case OO_PlusEqual:
    case OO_MinusEqual:
      if (valueHandleKind(Op->getType()) == HandleKind::None)
        return std::nullopt;
      for (const Expr *Arg : Op->arguments())
        if (valueHandleKind(Arg->getType()) != HandleKind::None)
          return handle(Arg, State, Depth);
      return std::nullopt;
    default:
      return std::nullopt;
    }
  }
  if (const auto *Call = dyn_cast<CallExpr>(E)) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (Call->getNumArgs() < 1)
      return std::nullopt;
    if (utils::isStdDeclNamed(
            Callee, {"begin", "end", "cbegin", "cend", "data", "addressof"}))
      return storage(Call->getArg(0), State, Depth);
    if (utils::isStdDeclNamed(Callee, {"next", "prev"}))
      return handle(Call->getArg(0), State, Depth);
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Derivation> EscapeFinder::pointee(const Expr *Owner,
                                                const TaintMap &State,
                                                unsigned Depth) const {
  if (const DeclRefExpr *Ref = asLocalRef(Owner->IgnoreParenImpCasts())) {
    const auto *Var = cast<VarDecl>(Ref->getDecl());
    auto It = State.find(Var);
    if (It != State.end() && It->second.Owner) {
      Derivation D{It->second.From, &It->second, Var};
      D.Pointee = true;
      D.LocalOwner = true;
      return D;
    }
  }
  // The owning pointer is guarded storage (a local reference to an element
  // included); its object is guarded storage too when the pointer is named
  // directly, and only lives as long as the storage lets it otherwise.
  std::optional<Derivation> D = storage(Owner, State, Depth);
  if (!D)
    return std::nullopt;
  if (!isDirectStorage(Owner)) {
    D->Pointee = true;
    return D;
  }
  // A member that owns a container (`std::unique_ptr<Map> Map`) holds
  // guarded data; one that owns any other object (a pimpl) hands out a
  // pointer to an object of its own, as a raw pointer member would.
  if (!isAccessorClass(ownedType(Owner->getType())))
    return std::nullopt;
  return D;
}

std::optional<Derivation> EscapeFinder::ownerCopy(const Expr *E,
                                                  const TaintMap &State,
                                                  unsigned Depth) const {
  for (; E && Depth < 16; ++Depth) {
    E = E->IgnoreParens();
    if (const Expr *Inner = utils::temporaryWrapperOperand(E)) {
      E = Inner;
      continue;
    }
    if (const auto *Cast = dyn_cast<ImplicitCastExpr>(E);
        Cast && (Cast->getCastKind() == CK_NoOp ||
                 Cast->getCastKind() == CK_ConstructorConversion ||
                 Cast->getCastKind() == CK_LValueToRValue)) {
      E = Cast->getSubExpr();
      continue;
    }
    if (const auto *Construct = dyn_cast<CXXConstructExpr>(E)) {
      const CXXConstructorDecl *Ctor = Construct->getConstructor();
      if (!Ctor || Construct->getNumArgs() != 1)
        return std::nullopt;
      // A move from an element leaves the element empty: the copy then owns
      // the object alone. A move from a temporary (a callee's result before
      // C++17) or from a local copy passes that copy on.
      const Expr *Arg = Construct->getArg(0);
      if (Ctor->isMoveConstructor() && !asLocalRef(Arg) &&
          !isa<MaterializeTemporaryExpr>(Arg->IgnoreImpCasts()))
        return std::nullopt;
      if (!Ctor->isCopyOrMoveConstructor())
        return std::nullopt;
      E = Construct->getArg(0);
      continue;
    }
    break;
  }
  if (!E || !utils::isOwningPointerType(E->getType()))
    return std::nullopt;
  if (const DeclRefExpr *Ref = asLocalRef(E)) {
    const auto *Var = cast<VarDecl>(Ref->getDecl());
    auto It = State.find(Var);
    if (It != State.end() && It->second.Owner)
      return Derivation{It->second.From, &It->second, Var};
    if (It == State.end() || !It->second.IsStorage)
      return std::nullopt;
  }
  if (const auto *Call = dyn_cast<CallExpr>(E);
      Call && !isa<CXXOperatorCallExpr>(Call))
    return fromCallee(*Call, /*WantOwnerCopy=*/true, State, Depth);
  return storage(E, State, Depth);
}

std::optional<ReturnedHandle>
EscapeFinder::returnedBy(const CallExpr &Call) const {
  if (isa<CXXOperatorCallExpr>(Call) || SummaryDepth >= 4)
    return std::nullopt;
  const FunctionDecl *Callee = Call.getDirectCallee();
  const FunctionDecl *Definition = nullptr;
  if (!Callee || !Callee->hasBody(Definition) ||
      Definition->isDependentContext() || Definition->isInvalidDecl() ||
      Context.getSourceManager().isInSystemHeader(Definition->getLocation()))
    return std::nullopt;
  // A virtual call may run an overrider whose body is not this one.
  const auto *Method = dyn_cast<CXXMethodDecl>(Definition);
  if (Method && Method->isVirtual() && !Method->hasAttr<FinalAttr>() &&
      !Method->getParent()->hasAttr<FinalAttr>())
    return std::nullopt;
  auto &Memo = Check.memos().Returned;
  std::optional<ReturnedHandle> Result;
  if (auto Found = Memo.find(Definition); Found != Memo.end()) {
    Result = Found->second;
  } else {
    Memo[Definition] = std::nullopt; // while it is analysed (recursion)
    // A callee that takes a lock of its own (its analysis then has a CFG)
    // is analysed as a function of its own; what it returns is its own
    // finding. Any other is analysed with its caller's lock held, as an
    // abstract lock on the object.
    std::unique_ptr<LockScopeAnalysis> Own =
        LockScopeAnalysis::analyze(*Definition, Context, Locks);
    if (Own && !Own->cfg()) {
      HeldLock Callers;
      Callers.Key = MutexKey::thisObject();
      std::unique_ptr<LockScopeAnalysis> AsCallee =
          LockScopeAnalysis::analyze(*Definition, Context, Locks, {Callers});
      if (AsCallee && AsCallee->cfg())
        Result = EscapeFinder(Check, Locks, *Definition, Context, *AsCallee)
                     .summarise(SummaryDepth + 1);
    }
    Memo[Definition] = Result;
  }
  if (!Result || Result->From.Kind == Origin::ParamMember)
    return std::nullopt;
  return Result;
}

std::optional<Derivation> EscapeFinder::fromCallee(const CallExpr &Call,
                                                   bool WantOwnerCopy,
                                                   const TaintMap &State,
                                                   unsigned Depth) const {
  std::optional<ReturnedHandle> Returned = returnedBy(Call);
  if (!Returned || Returned->OwnerCopy != WantOwnerCopy)
    return std::nullopt;
  Derivation D{Returned->From, nullptr};
  if (Returned->From.Kind == Origin::ThisMember) {
    const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call);
    const Expr *Object = Member ? Member->getImplicitObjectArgument() : nullptr;
    if (!Object)
      return std::nullopt;
    if (!isa<CXXThisExpr>(Object->IgnoreParenImpCasts())) {
      bool Arrow = false;
      if (const auto *Callee = dyn_cast<MemberExpr>(Member->getCallee()))
        Arrow = Callee->isArrow();
      std::optional<Derivation> Base =
          Arrow ? handle(Object, State, Depth) : storage(Object, State, Depth);
      if (!Base)
        return std::nullopt;
      D = *Base;
    }
  }
  D.Pointee = D.Pointee || Returned->Pointee;
  D.FormedIn = Returned->Function;
  D.FormedAt = Returned->At;
  return D;
}

void EscapeFinder::recordReturn(const ReturnStmt &Return,
                                const TaintMap &State) {
  const Expr *Value = Return.getRetValue();
  if (!Value || Returned)
    return;
  QualType ReturnType = Function.getReturnType();
  std::optional<Derivation> D;
  bool OwnerCopy = false;
  if (ReturnType->isReferenceType()) {
    D = storage(Value, State);
  } else if (utils::isOwningPointerType(ReturnType)) {
    D = ownerCopy(Value, State);
    OwnerCopy = true;
  } else if (valueHandleKind(ReturnType) != HandleKind::None) {
    D = handle(Value, State);
  }
  if (!D)
    return;
  ReturnedHandle Result;
  Result.From = D->From;
  Result.Pointee = D->pointee();
  Result.OwnerCopy = OwnerCopy;
  // The outermost callee that formed it, for the note.
  Result.Function = D->FormedIn ? D->FormedIn : &Function;
  Result.At = D->FormedIn ? D->FormedAt : Value;
  Returned = Result;
}

std::optional<ReturnedHandle> EscapeFinder::summarise(unsigned Depth) {
  Summarising = true;
  SummaryDepth = Depth;
  run();
  return Returned;
}

const HeldLock *EscapeFinder::lockFor(const Origin &O,
                                      const LockSet &Held) const {
  for (const HeldLock &L : Held) {
    const ValueDecl *Root = L.Key.root();
    const auto *RootVar = dyn_cast_or_null<VarDecl>(Root);
    bool GlobalLock = RootVar && RootVar->hasGlobalStorage();
    switch (O.Kind) {
    case Origin::ThisMember:
    case Origin::Global:
      if (L.Key.isThisMember() || GlobalLock)
        return &L;
      break;
    case Origin::ParamMember:
      if (Root == O.Base)
        return &L;
      break;
    }
  }
  return nullptr;
}

void EscapeFinder::setTaint(const VarDecl *Var, std::optional<Derivation> D,
                            bool IsStorage, const LockSet &Held,
                            TaintMap &State) const {
  // A reference through a local owning pointer lives as long as it.
  if (!D || D->LocalOwner) {
    State.erase(Var);
    return;
  }
  if (D->Via) {
    Taint Copy = *D->Via;
    Copy.Owner = false;
    Copy.Pointee = D->pointee();
    if (Copy.Released && !(D->ViaVar && D->ViaVar->isImplicit())) {
      // Reading it was reported already; do not report its copies too. The
      // implicit iterator of a range-for is not reported, so its loop
      // variable inherits the released state and is reported instead.
      State.erase(Var);
      return;
    }
    Copy.IsStorage = IsStorage;
    State[Var] = std::move(Copy);
    return;
  }
  const HeldLock *Lock = lockFor(D->From, Held);
  if (!Lock && !Summarising) {
    State.erase(Var);
    return;
  }
  Taint T;
  T.From = D->From;
  if (Lock) {
    T.Key = Lock->Key;
    T.AcquiredAt = Lock->AcquiredAt;
  }
  T.IsStorage = IsStorage;
  T.Pointee = D->Pointee;
  State[Var] = std::move(T);
}

void EscapeFinder::step(const CFGBlock &Block, unsigned Index, TaintMap &State,
                        bool Report) {
  const CFGElement &Element = Block[Index];
  const LockSet &Before = Analysis.locksBefore(Block, Index);
  if (std::optional<CFGStmt> CS = Element.getAs<CFGStmt>()) {
    const Stmt *S = CS->getStmt();
    if (const auto *Ref = dyn_cast<DeclRefExpr>(S)) {
      const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
      auto It = Var ? State.find(Var) : State.end();
      // The implicit variables of a range-for (__begin1, ...) are followed
      // but not reported: the loop variable's use is.
      if (Report && !Summarising && It != State.end() && It->second.Released &&
          !It->second.Owner && !Var->isImplicit() && !Ignored.Refs.count(Ref))
        findUse(*Ref, It->second);
    } else if (const auto *Decl = dyn_cast<DeclStmt>(S)) {
      for (const class Decl *D : Decl->decls()) {
        const auto *Var = dyn_cast<VarDecl>(D);
        if (!Var)
          continue;
        if (Var->isStaticLocal()) {
          if (Report && !Summarising)
            findStatic(*Var, *S, State);
          continue;
        }
        if (!isLocalVar(Var))
          continue;
        const Expr *Init = Var->getInit();
        QualType T = Var->getType();
        if (Init && T->isReferenceType())
          setTaint(Var, storage(Init, State), /*IsStorage=*/true, Before,
                   State);
        else if (Init && valueHandleKind(T) != HandleKind::None)
          setTaint(Var, handle(Init, State), /*IsStorage=*/false, Before,
                   State);
        else if (Init && utils::isOwningPointerType(T))
          setOwner(Var, ownerCopy(Init, State), Before, State);
        else
          State.erase(Var);
      }
    } else if (const auto *Return = dyn_cast<ReturnStmt>(S)) {
      if (Report && Summarising)
        recordReturn(*Return, State);
      else if (Report)
        findReturn(*Return, State);
    } else if (const auto *Call = dyn_cast<CallExpr>(S);
               Call &&
               utils::retainedPointerArgument(Call->getDirectCallee())) {
      if (Report && !Summarising)
        findRetained(*Call, State);
    } else {
      const Expr *LHS = nullptr;
      const Expr *RHS = nullptr;
      if (const auto *Binary = dyn_cast<BinaryOperator>(S);
          Binary && Binary->getOpcode() == BO_Assign) {
        LHS = Binary->getLHS();
        RHS = Binary->getRHS();
      } else if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(S);
                 Op && Op->getOperator() == OO_Equal && Op->getNumArgs() == 2) {
        LHS = Op->getArg(0);
        RHS = Op->getArg(1);
      }
      if (LHS && valueHandleKind(LHS->getType()) != HandleKind::None) {
        if (const DeclRefExpr *Ref = asLocalRef(LHS)) {
          const auto *Var = cast<VarDecl>(Ref->getDecl());
          if (!Var->getType()->isReferenceType())
            setTaint(Var, handle(RHS, State), /*IsStorage=*/false, Before,
                     State);
        } else if (Report && !Summarising) {
          findStore(*S, LHS, RHS, State);
        }
      } else if (LHS && utils::isOwningPointerType(LHS->getType())) {
        // `Found = find(Name);`, `Found = new Logger(Name);`: the local
        // copy now shares (or does not share) an object with the storage.
        if (const DeclRefExpr *Ref = asLocalRef(LHS);
            Ref && !Ref->getDecl()->getType()->isReferenceType())
          setOwner(cast<VarDecl>(Ref->getDecl()), ownerCopy(RHS, State), Before,
                   State);
      }
    }
  }
  // Locks given up by this element: every handle derived under them now
  // dangles (or may be invalidated by another thread).
  const LockSet &After = Analysis.locksAfter(Block, Index);
  for (const HeldLock &L : Before) {
    if (After.holds(L.Key))
      continue;
    for (auto &[Var, T] : State)
      if (!T.Released && T.Key == L.Key) {
        T.Released = true;
        T.Release = Analysis.releaseSiteOf(Block, Index, L.Key);
      }
  }
}

void EscapeFinder::setOwner(const VarDecl *Var, std::optional<Derivation> D,
                            const LockSet &Held, TaintMap &State) const {
  setTaint(Var, std::move(D), /*IsStorage=*/false, Held, State);
  auto It = State.find(Var);
  if (It != State.end()) {
    It->second.Owner = true;
    It->second.Pointee = false;
  }
}

bool EscapeFinder::merge(TaintMap &Into, const TaintMap &From) {
  bool Changed = false;
  for (const auto &[Var, T] : From) {
    auto [It, Inserted] = Into.try_emplace(Var, T);
    if (Inserted) {
      Changed = true;
    } else if (T.Released && !It->second.Released) {
      It->second.Released = true;
      It->second.Release = T.Release;
      Changed = true;
    }
  }
  return Changed;
}

void EscapeFinder::run() {
  const CFG *Graph = Analysis.cfg();
  if (!Graph)
    return;
  Ignored.TraverseStmt(Function.getBody());
  unsigned NumBlocks = Graph->getNumBlockIDs();
  std::vector<std::optional<TaintMap>> Entry(NumBlocks);
  std::vector<const CFGBlock *> ById(NumBlocks, nullptr);
  for (const CFGBlock *Block : *Graph)
    if (Block)
      ById[Block->getBlockID()] = Block;
  const CFGBlock &Start = Graph->getEntry();
  Entry[Start.getBlockID()] = TaintMap();
  std::vector<const CFGBlock *> Worklist{&Start};
  unsigned Budget = 32 * NumBlocks + 64;
  while (!Worklist.empty() && Budget-- > 0) {
    const CFGBlock *Block = Worklist.back();
    Worklist.pop_back();
    TaintMap State = *Entry[Block->getBlockID()];
    for (unsigned I = 0; I < Block->size(); ++I)
      step(*Block, I, State, /*Report=*/false);
    for (const CFGBlock::AdjacentBlock &Succ : Block->succs()) {
      const CFGBlock *Next = Succ.getReachableBlock();
      if (!Next)
        continue;
      std::optional<TaintMap> &In = Entry[Next->getBlockID()];
      bool Changed = !In;
      if (!In)
        In = State;
      else
        Changed = merge(*In, State);
      if (Changed)
        Worklist.push_back(Next);
    }
  }
  if (!Worklist.empty())
    return; // no fixpoint within the budget: report nothing

  for (unsigned Id = 0; Id < NumBlocks; ++Id) {
    if (!ById[Id] || !Entry[Id])
      continue;
    TaintMap State = *Entry[Id];
    for (unsigned I = 0; I < ById[Id]->size(); ++I)
      step(*ById[Id], I, State, /*Report=*/true);
  }
}

//===----------------------------------------------------------------------===//
// Reports
//===----------------------------------------------------------------------===//

enum ReportKind : unsigned {
  UseReport,
  ReturnReport,
  StoreReport,
  HolderReport
};

bool EscapeFinder::resolveLock(const Derivation &D, const Stmt &S,
                               MutexKey &Key, const Stmt *&AcquiredAt,
                               ReleaseSite &Release) const {
  // Only code that removes elements can destroy an object the storage owns
  // through a pointer while a reference to it is held.
  if (D.pointee() && !Check.removalOf(D.From.Base))
    return false;
  if (D.Via) {
    // A local owning pointer copied under a lock released since: the object
    // outlives the lock for as long as the copy lives, not beyond.
    if (D.LocalOwner && D.Via->Released) {
      Key = D.Via->Key;
      AcquiredAt = D.Via->AcquiredAt;
      Release = D.Via->Release;
      return true;
    }
    if (D.Via->Released)
      return false; // its use is reported on its own
    Key = D.Via->Key;
    AcquiredAt = D.Via->AcquiredAt;
  } else {
    const HeldLock *Lock = lockFor(D.From, Analysis.locksHeldAt(&S));
    if (!Lock)
      return false;
    Key = Lock->Key;
    AcquiredAt = Lock->AcquiredAt;
  }
  // A lock that this function never releases (taken by hand and kept, or
  // handed to the caller together with the reference) does not end here.
  std::optional<ReleaseSite> Site = Analysis.findRelease(&S, Key);
  if (!Site || Site->Loc.isInvalid())
    return false;
  Release = *Site;
  return true;
}

void EscapeFinder::setNotes(GuardedEscape &E, const Stmt *AcquiredAt,
                            const ReleaseSite &Release,
                            const Derivation *D) const {
  if (AcquiredAt && AcquiredAt->getBeginLoc().isValid()) {
    E.LockedAt = AcquiredAt->getBeginLoc();
    E.LockedOnEntry = EntrySites.count(AcquiredAt) != 0;
    E.Function = Function.getQualifiedNameAsString();
  }
  if (D && D->FormedIn && D->FormedAt && D->FormedAt->getBeginLoc().isValid()) {
    E.FormedAt = D->FormedAt->getBeginLoc();
    E.FormedIn = D->FormedIn->getQualifiedNameAsString();
  }
  if (D && D->pointee())
    if (const Expr *Removal = Check.removalOf(D->From.Base))
      E.RemovedAt = Removal->getBeginLoc();
  E.ReleasedAt = Release.Loc;
  if (Release.Loc.isValid() && Release.Guard) {
    E.ReleasingGuard = Release.Guard->getNameAsString();
    E.When = Release.OnReturn ? "when the function returns"
             : isa_and_nonnull<CompoundStmt>(Release.At)
                 ? "at the end of its scope"
                 : "when it goes out of scope";
  }
}

void EscapeFinder::findUse(const DeclRefExpr &Ref, const Taint &T) {
  const auto *Var = cast<VarDecl>(Ref.getDecl());
  if (!ReportedVars.insert(Var).second ||
      !Check.firstReportAt(Ref.getLocation(), UseReport))
    return;
  if (T.Pointee && !Check.removalOf(T.From.Base))
    return;
  GuardedEscape E;
  E.Kind = GuardedEscape::UsedAfterRelease;
  E.Loc = Ref.getLocation();
  E.Pointee = T.Pointee;
  E.Storage = T.From.Name;
  E.Lock = T.Key.name();
  E.Name = Var->getNameAsString();
  Derivation D{T.From, nullptr};
  D.Pointee = T.Pointee;
  setNotes(E, T.AcquiredAt, T.Release, &D);
  Found.push_back(std::move(E));
}

void EscapeFinder::findReturn(const ReturnStmt &Return, const TaintMap &State) {
  const Expr *Value = Return.getRetValue();
  if (!Value)
    return;
  QualType ReturnType = Function.getReturnType();
  std::optional<Derivation> D;
  HandleKind Kind = ReturnType->isReferenceType() ? HandleKind::Reference
                                                  : valueHandleKind(ReturnType);
  if (Kind == HandleKind::Reference)
    D = storage(Value, State);
  else if (Kind != HandleKind::None)
    D = handle(Value, State);
  MutexKey Key;
  const Stmt *AcquiredAt = nullptr;
  ReleaseSite Release;
  if (!D || !resolveLock(*D, Return, Key, AcquiredAt, Release))
    return;
  SourceLocation Loc = Value->getBeginLoc();
  if (Loc.isInvalid() || !Check.firstReportAt(Loc, ReturnReport))
    return;
  GuardedEscape E;
  E.Kind = GuardedEscape::Returned;
  E.Loc = Loc;
  E.Handle = Kind;
  E.Pointee = D->pointee();
  E.Storage = D->From.Name;
  E.Lock = Key.name();
  if (Kind == HandleKind::Reference && !FixOffered) {
    E.Fixes = returnTypeFixes();
    FixOffered = true;
  }
  setNotes(E, AcquiredAt, Release, &*D);
  Found.push_back(std::move(E));
}

/// Is \p LHS a field of the object that holds the mutex \p Key (`obj.next`
/// for the mutex `obj.mu`)? An object with its own mutex guards its fields
/// with it, so a view stored there is read back under the same lock and does
/// not outlive it (abseil's SampleRecorder links `graveyard_.dead =
/// &graveyard_` under `graveyard_.init_mu`).
static bool storesBesideMutex(const Expr *LHS, const MutexKey &Key) {
  // The target's access path, in the terms of a mutex key ({obj, next}).
  std::optional<MutexKey> Target = LockScopeAnalysis::keyOf(LHS);
  return Target && Target->Path.size() >= 2 && Key.Path.size() >= 2 &&
         Target->root() == Key.root();
}

void EscapeFinder::findStore(const Stmt &S, const Expr *LHS, const Expr *RHS,
                             const TaintMap &State) {
  std::optional<StoreTarget> Target = storeTargetOf(LHS);
  if (!Target)
    return;
  std::optional<Derivation> D = handle(RHS, State);
  MutexKey Key;
  const Stmt *AcquiredAt = nullptr;
  ReleaseSite Release;
  if (!D || !resolveLock(*D, S, Key, AcquiredAt, Release))
    return;
  if (storesBesideMutex(LHS, Key))
    return;
  SourceLocation Loc = LHS->getBeginLoc();
  if (Loc.isInvalid() || !Check.firstReportAt(Loc, StoreReport))
    return;
  llvm::StringRef Where = Target->Kind == StoreTarget::Member ? "member"
                          : Target->Kind == StoreTarget::Global
                              ? "global"
                              : "out-parameter";
  if (Target->Kind == StoreTarget::Global) {
    const auto *Var = dyn_cast<VarDecl>(Target->Decl);
    if (Var && (Var->isStaticLocal() || Var->isStaticDataMember()))
      Where = "static";
  }
  GuardedEscape E;
  E.Kind = GuardedEscape::Stored;
  E.Loc = Loc;
  E.Handle = valueHandleKind(LHS->getType());
  E.Pointee = D->pointee();
  E.Storage = D->From.Name;
  E.Lock = Key.name();
  E.Name = Target->Decl->getNameAsString();
  E.Where = Where.str();
  setNotes(E, AcquiredAt, Release, &*D);
  Found.push_back(std::move(E));
}

void EscapeFinder::findStatic(const VarDecl &Var, const Stmt &S,
                              const TaintMap &State) {
  const Expr *Init = Var.getInit();
  if (!Init)
    return;
  std::optional<Derivation> D;
  HandleKind Kind = Var.getType()->isReferenceType()
                        ? HandleKind::Reference
                        : valueHandleKind(Var.getType());
  if (Kind == HandleKind::Reference)
    D = storage(Init, State);
  else if (Kind != HandleKind::None)
    D = handle(Init, State);
  MutexKey Key;
  const Stmt *AcquiredAt = nullptr;
  ReleaseSite Release;
  if (!D || !resolveLock(*D, S, Key, AcquiredAt, Release))
    return;
  if (!Check.firstReportAt(Var.getLocation(), StoreReport))
    return;
  GuardedEscape E;
  E.Kind = GuardedEscape::Stored;
  E.Loc = Var.getLocation();
  E.Handle = Kind;
  E.Pointee = D->pointee();
  E.Storage = D->From.Name;
  E.Lock = Key.name();
  E.Name = Var.getNameAsString();
  E.Where = "static";
  setNotes(E, AcquiredAt, Release, &*D);
  Found.push_back(std::move(E));
}

/// A handle passed to a library function that keeps it (putenv, setvbuf,
/// ...: utils::retainedPointerArgument) is stored in global state that
/// other code reads with no lock: the same escape as a store into a global.
void EscapeFinder::findRetained(const CallExpr &Call, const TaintMap &State) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  std::optional<utils::RetainedArgument> Kept =
      utils::retainedPointerArgument(Callee);
  if (!Kept || Kept->Index >= Call.getNumArgs())
    return;
  const Expr *Arg = Call.getArg(Kept->Index);
  std::optional<Derivation> D = handle(Arg, State);
  MutexKey Key;
  const Stmt *AcquiredAt = nullptr;
  ReleaseSite Release;
  if (!D || !resolveLock(*D, Call, Key, AcquiredAt, Release))
    return;
  SourceLocation Loc = Arg->getBeginLoc();
  if (Loc.isInvalid() || !Check.firstReportAt(Loc, StoreReport))
    return;
  GuardedEscape E;
  E.Kind = GuardedEscape::Retained;
  E.Loc = Loc;
  E.Handle = HandleKind::Pointer;
  E.Pointee = D->pointee();
  E.Storage = D->From.Name;
  E.Lock = Key.name();
  E.Name = Callee->getName().str();
  E.Where = std::string(Kept->Keeper);
  setNotes(E, AcquiredAt, Release, &*D);
  Found.push_back(std::move(E));
}

//===----------------------------------------------------------------------===//
// Handles reached through a temporary lock holder
//===----------------------------------------------------------------------===//

/// A lock holder (utils::isLockHolderType) that lives only as long as the
/// full-expression that creates it.
struct HolderTemporary {
  const MaterializeTemporaryExpr *Temporary = nullptr;
  const CXXRecordDecl *Holder = nullptr;
  /// The function that returned the holder (`lock` in `*G.lock()`), if any.
  const FunctionDecl *MadeBy = nullptr;
};

/// \p E without parentheses, implicit casts and full-expression nodes, but
/// with the materialisation of a temporary kept (IgnoreParenImpCasts would
/// skip it too).
const Expr *stripToTemporary(const Expr *E) {
  while (E) {
    const Expr *Old = E;
    E = E->IgnoreParens();
    if (const auto *Cast = dyn_cast<ImplicitCastExpr>(E))
      E = Cast->getSubExpr();
    else if (const auto *Full = dyn_cast<FullExpr>(E))
      E = Full->getSubExpr();
    if (E == Old)
      return E;
  }
  return E;
}

/// When the reference, pointer, iterator or view \p E denotes data handed out
/// by a lock holder that is a temporary of the same full-expression
/// (`*G.lock()`, `G.lock()->find(K)`, `&G.lock()->Items[0]`), that holder. The
/// holder is destroyed, and its lock released, at the end of the
/// full-expression, so the handle outlives the lock as soon as it is kept. A
/// holder whose lifetime is extended (bound to a reference, or a range-for
/// initialiser under C++23's P2718) is not one.
std::optional<HolderTemporary>
throughTemporaryHolder(const Expr *E, const utils::LockOptions &Locks) {
  for (unsigned Depth = 0; E && Depth < 16; ++Depth) {
    E = stripToTemporary(E);
    if (const auto *Unary = dyn_cast<UnaryOperator>(E)) {
      if (Unary->getOpcode() != UO_AddrOf && Unary->getOpcode() != UO_Deref)
        return std::nullopt;
      E = Unary->getSubExpr();
      continue;
    }
    if (const auto *Member = dyn_cast<MemberExpr>(E)) {
      if (!isa<FieldDecl>(Member->getMemberDecl()))
        return std::nullopt;
      E = Member->getBase();
      continue;
    }
    if (const auto *Subscript = dyn_cast<ArraySubscriptExpr>(E)) {
      E = Subscript->getBase();
      continue;
    }
    // An accessor: a member call that returns a handle into its object.
    const Expr *Object = nullptr;
    const CXXMethodDecl *Method = nullptr;
    if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E)) {
      Method = dyn_cast_or_null<CXXMethodDecl>(Op->getDirectCallee());
      if (Op->getNumArgs() > 0)
        Object = Op->getArg(0);
    } else if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E)) {
      Method = Call->getMethodDecl();
      Object = Call->getImplicitObjectArgument();
    }
    if (!Method || !Object || Method->isStatic())
      return std::nullopt;
    QualType Result = Method->getReturnType();
    if (!Result->isReferenceType() &&
        valueHandleKind(Result) == HandleKind::None)
      return std::nullopt;
    if (const auto *Temporary =
            dyn_cast<MaterializeTemporaryExpr>(stripToTemporary(Object))) {
      if (!utils::isLockHolderType(Temporary->getType(), Locks) ||
          Temporary->getExtendingDecl())
        return std::nullopt;
      HolderTemporary Found{Temporary, recordOf(Temporary->getType()), nullptr};
      if (const auto *Made = dyn_cast<CallExpr>(
              utils::ignoreWrappers(Temporary->getSubExpr())))
        Found.MadeBy = Made->getDirectCallee();
      return Found;
    }
    E = Object;
  }
  return std::nullopt;
}

/// Reports the handles of one function that are reached through a
/// temporary lock holder and used after the statement that made them: the
/// range of a range-for (`for (auto &E : *G.lock())`, where the holder dies
/// before the first iteration) and local references, pointers, iterators and
/// views (`auto &M = *G.lock(); M.size();`). The lock-scope analysis does
/// not see these locks: they are taken and released inside the holder.
class HolderEscapeFinder : public RecursiveASTVisitor<HolderEscapeFinder> {
public:
  HolderEscapeFinder(EscapingGuardedReferenceCheck &Check,
                     const utils::LockOptions &Locks, const Stmt &Body)
      : Check(Check), Locks(Locks), Body(Body) {}

  std::vector<GuardedEscape> &findings() { return Found; }

  bool VisitCXXForRangeStmt(const CXXForRangeStmt *For) {
    const Expr *Range = For->getRangeInit();
    if (!Range)
      return true;
    std::optional<HolderTemporary> Holder =
        throughTemporaryHolder(Range, Locks);
    if (!Holder || !Check.firstReportAt(Range->getBeginLoc(), HolderReport))
      return true;
    GuardedEscape E;
    E.Kind = GuardedEscape::HolderLoop;
    E.Loc = Range->getBeginLoc();
    setNotes(E, *Holder, Range->getEndLoc(), "the range initialiser");
    Found.push_back(std::move(E));
    return true;
  }

  bool VisitDeclStmt(const DeclStmt *Statement) {
    for (const Decl *D : Statement->decls()) {
      const auto *Var = dyn_cast<VarDecl>(D);
      if (!Var || !Var->hasLocalStorage() || isa<ParmVarDecl>(Var) ||
          !Var->getInit() || Var->isImplicit())
        continue;
      QualType T = Var->getType();
      if (!T->isReferenceType() && valueHandleKind(T) == HandleKind::None)
        continue;
      std::optional<HolderTemporary> Holder =
          throughTemporaryHolder(Var->getInit(), Locks);
      if (!Holder)
        continue;
      const DeclRefExpr *Use = firstUse(*Var);
      if (!Use || !Check.firstReportAt(Use->getLocation(), HolderReport))
        continue;
      GuardedEscape E;
      E.Kind = GuardedEscape::HolderVariable;
      E.Loc = Use->getLocation();
      E.Name = Var->getName().str();
      setNotes(E, *Holder, Statement->getEndLoc(),
               "the declaration of '" + Var->getName().str() + "'");
      Found.push_back(std::move(E));
    }
    return true;
  }

private:
  /// The first reference to \p Var (or to one of its structured bindings)
  /// in the function body, in source order.
  const DeclRefExpr *firstUse(const VarDecl &Var) const {
    const auto *Decomposition = dyn_cast<DecompositionDecl>(&Var);
    // Mentions that read nothing: unevaluated operands (`sizeof(M)`, a
    // `decltype(M)` in a type) and casts to void that silence unused
    // warnings.
    auto Refs = match(
        findAll(declRefExpr(unless(isExpansionInSystemHeader()),
                            unless(hasAncestor(unaryExprOrTypeTraitExpr())),
                            unless(hasAncestor(typeLoc())),
                            unless(hasParent(explicitCastExpr(
                                hasDestinationType(voidType())))))
                    .bind("ref")),
        Body, Var.getASTContext());
    const DeclRefExpr *First = nullptr;
    const SourceManager &SM = Var.getASTContext().getSourceManager();
    for (const BoundNodes &Nodes : Refs) {
      const auto *Ref = Nodes.getNodeAs<DeclRefExpr>("ref");
      const ValueDecl *Target = Ref->getDecl();
      bool Names = Target == &Var;
      if (const auto *Binding = dyn_cast<BindingDecl>(Target))
        Names = Decomposition &&
                llvm::is_contained(Decomposition->bindings(), Binding);
      if (Names && (!First || SM.isBeforeInTranslationUnit(
                                  Ref->getLocation(), First->getLocation())))
        First = Ref;
    }
    return First;
  }

  static void setNotes(GuardedEscape &E, const HolderTemporary &Holder,
                       SourceLocation ReleasedAt, const std::string &Where) {
    E.Storage = Holder.Holder->getName().str();
    E.LockedAt = Holder.Temporary->getBeginLoc();
    if (Holder.MadeBy && Holder.MadeBy->getIdentifier())
      E.HolderMadeBy = Holder.MadeBy->getName().str();
    E.ReleasedAt = ReleasedAt;
    E.When = Where;
  }

  EscapingGuardedReferenceCheck &Check;
  const utils::LockOptions &Locks;
  const Stmt &Body;
  std::vector<GuardedEscape> Found;
};

//===----------------------------------------------------------------------===//
// Fix-it: `const T &get()` -> `T get()`
//===----------------------------------------------------------------------===//

bool isCopyable(QualType T) {
  T = T.getCanonicalType().getUnqualifiedType();
  if (T->isDependentType() || T->isIncompleteType() || T->isArrayType() ||
      T->isFunctionType() || T->isVoidType())
    return false;
  if (T->isScalarType())
    return true;
  const CXXRecordDecl *RD = T->getAsCXXRecordDecl();
  // A polymorphic class would be sliced: the reference may denote a derived
  // object.
  if (!RD || !RD->hasDefinition() || RD->isAbstract() || RD->isPolymorphic())
    return false;
  if (RD->needsImplicitCopyConstructor())
    return !RD->defaultedCopyConstructorIsDeleted();
  for (const CXXConstructorDecl *Ctor : RD->ctors())
    if (Ctor->isCopyConstructor() && !Ctor->isDeleted() &&
        Ctor->getAccess() == AS_public)
      return true;
  return false;
}

/// The replacement of one declaration's `const T &` return type by `T`.
std::optional<FixItHint> returnTypeFix(const FunctionDecl &Decl,
                                       const SourceManager &SM,
                                       const LangOptions &LangOpts) {
  const TypeSourceInfo *TSI = Decl.getTypeSourceInfo();
  if (!TSI)
    return std::nullopt;
  FunctionTypeLoc FTL = TSI->getTypeLoc().getAsAdjusted<FunctionTypeLoc>();
  if (!FTL)
    return std::nullopt;
  auto Ref = FTL.getReturnLoc().getAs<LValueReferenceTypeLoc>();
  if (!Ref)
    return std::nullopt;
  TypeLoc Pointee = Ref.getPointeeLoc();
  if (auto Qualified = Pointee.getAs<QualifiedTypeLoc>())
    Pointee = Qualified.getUnqualifiedLoc();
  SourceRange Range = Pointee.getSourceRange();
  SourceLocation Sigil = Ref.getSigilLoc();
  if (Range.isInvalid() || Sigil.isInvalid() || Range.getBegin().isMacroID() ||
      Range.getEnd().isMacroID() || Sigil.isMacroID())
    return std::nullopt;
  llvm::StringRef TypeText =
      Lexer::getSourceText(CharSourceRange::getTokenRange(Range), SM, LangOpts);
  if (TypeText.empty())
    return std::nullopt;

  // Find the `const`: just before the type (`const T &`) or between the
  // type and the `&` (`T const &`). Anything else (volatile, macros): no fix.
  SourceLocation Start = Range.getBegin();
  SourceLocation DeclStart = Decl.getOuterLocStart();
  if (DeclStart.isInvalid() || DeclStart.isMacroID() ||
      SM.getFileID(DeclStart) != SM.getFileID(Start))
    return std::nullopt;
  Token Tok;
  if (Lexer::getRawToken(DeclStart, Tok, SM, LangOpts,
                         /*IgnoreWhiteSpace=*/true))
    return std::nullopt;
  std::optional<Token> Previous;
  for (unsigned Steps = 0;; ++Steps) {
    SourceLocation Loc = Tok.getLocation();
    if (Loc == Start || SM.isBeforeInTranslationUnit(Start, Loc))
      break;
    std::optional<Token> Next = Lexer::findNextToken(Loc, SM, LangOpts);
    if (!Next || Steps > 256)
      return std::nullopt;
    Previous = Tok;
    Tok = *Next;
  }
  bool ConstBefore = Previous && Previous->is(tok::raw_identifier) &&
                     Previous->getRawIdentifier() == "const";
  if (ConstBefore)
    Start = Previous->getLocation();
  // Tokens between the type and the sigil.
  bool ConstAfter = false;
  for (SourceLocation Loc = Range.getEnd();;) {
    std::optional<Token> Tok = Lexer::findNextToken(Loc, SM, LangOpts);
    if (!Tok)
      return std::nullopt;
    if (Tok->getLocation() == Sigil)
      break;
    if (Tok->is(tok::raw_identifier) && Tok->getRawIdentifier() == "const" &&
        !ConstAfter && !ConstBefore) {
      ConstAfter = true;
      Loc = Tok->getLocation();
      continue;
    }
    return std::nullopt;
  }
  if (!ConstBefore && !ConstAfter)
    return std::nullopt;
  // Keep the name apart from the type: `const T &get()` -> `T get()`.
  bool Invalid = false;
  const char *AfterSigil =
      SM.getCharacterData(Sigil.getLocWithOffset(1), &Invalid);
  std::string Replacement = TypeText.str();
  if (!Invalid && AfterSigil && !isWhitespace(*AfterSigil))
    Replacement += ' ';
  return FixItHint::CreateReplacement(
      CharSourceRange::getTokenRange(Start, Sigil), Replacement);
}

std::vector<FixItHint> EscapeFinder::returnTypeFixes() const {
  const auto *Method = dyn_cast<CXXMethodDecl>(&Function);
  if ((Method && Method->isVirtual()) || Function.isOverloadedOperator() ||
      isa<CXXConversionDecl>(Function) ||
      Function.getTemplateInstantiationPattern() ||
      Function.isTemplateInstantiation() || Function.isDependentContext())
    return {};
  QualType ReturnType = Function.getReturnType();
  if (!ReturnType->isLValueReferenceType())
    return {};
  QualType Pointee = ReturnType->getPointeeType();
  if (!Pointee.isConstQualified() || Pointee.isVolatileQualified() ||
      !isCopyable(Pointee))
    return {};
  const SourceManager &SM = Context.getSourceManager();
  std::vector<FixItHint> Fixes;
  for (const FunctionDecl *Decl : Function.redecls()) {
    std::optional<FixItHint> Fix =
        returnTypeFix(*Decl, SM, Context.getLangOpts());
    if (!Fix)
      return {};
    Fixes.push_back(std::move(*Fix));
  }
  return Fixes;
}

//===----------------------------------------------------------------------===//
// Reporting
//===----------------------------------------------------------------------===//

void report(ClangTidyCheck &Check, const GuardedEscape &E) {
  switch (E.Kind) {
  case GuardedEscape::UsedAfterRelease:
    Check.diag(E.Loc, "'%0' refers %1 '%2' and is used after the lock on '%3' "
                      "that guards it is released")
        << E.Name << intoWord(E.Pointee) << E.Storage << E.Lock;
    break;
  case GuardedEscape::Returned:
    Check.diag(E.Loc, "returned %0 %1 '%2' outlives the lock on '%3' that "
                      "guards it")
        << handleName(E.Handle) << intoWord(E.Pointee) << E.Storage << E.Lock
        << E.Fixes;
    break;
  case GuardedEscape::Stored:
    Check.diag(E.Loc, "%0 %1 '%2' stored in %3 '%4' outlives the lock on '%5' "
                      "that guards it")
        << handleName(E.Handle) << intoWord(E.Pointee) << E.Storage << E.Where
        << E.Name << E.Lock;
    break;
  case GuardedEscape::Retained:
    Check.diag(E.Loc, "pointer %0 '%1' passed to '%2', which keeps it in %3, "
                      "outlives the lock on '%4' that guards it")
        << intoWord(E.Pointee) << E.Storage << E.Name << E.Where << E.Lock;
    break;
  case GuardedEscape::HolderLoop:
    Check.diag(E.Loc,
               "the loop iterates over data that the temporary '%0' hands "
               "out, and the temporary releases its lock before the loop body "
               "runs")
        << E.Storage;
    break;
  case GuardedEscape::HolderVariable:
    Check.diag(E.Loc, "'%0' refers into data that the temporary '%1' hands "
                      "out, and is used after the temporary released its lock")
        << E.Name << E.Storage;
    break;
  }
  if (E.Kind == GuardedEscape::HolderLoop ||
      E.Kind == GuardedEscape::HolderVariable) {
    if (!E.HolderMadeBy.empty())
      Check.diag(E.LockedAt,
                 "the temporary '%0' returned by '%1' takes the lock here",
                 DiagnosticIDs::Note)
          << E.Storage << E.HolderMadeBy;
    else
      Check.diag(E.LockedAt, "the temporary '%0' takes the lock here",
                 DiagnosticIDs::Note)
          << E.Storage;
    Check.diag(E.ReleasedAt,
               "and is destroyed, releasing the lock, at the end of %0",
               DiagnosticIDs::Note)
        << E.When;
    return;
  }
  if (E.LockedAt.isValid() && E.LockedOnEntry)
    Check.diag(E.LockedAt,
               "'%0' is held on entry to '%1': its callers must hold it",
               DiagnosticIDs::Note)
        << E.Lock << E.Function;
  else if (E.LockedAt.isValid())
    Check.diag(E.LockedAt, "lock on '%0' taken here", DiagnosticIDs::Note)
        << E.Lock;
  if (E.FormedAt.isValid())
    Check.diag(E.FormedAt, "the %0 is formed in '%1' here", DiagnosticIDs::Note)
        << handleName(E.Handle) << E.FormedIn;
  if (E.RemovedAt.isValid())
    Check.diag(E.RemovedAt, "'%0' may destroy the object here",
               DiagnosticIDs::Note)
        << E.Storage;
  if (E.ReleasedAt.isInvalid())
    return;
  if (!E.ReleasingGuard.empty())
    Check.diag(E.ReleasedAt, "'%0' releases '%1' here, %2", DiagnosticIDs::Note)
        << E.ReleasingGuard << E.Lock << E.When;
  else
    Check.diag(E.ReleasedAt, "'%0' is released here", DiagnosticIDs::Note)
        << E.Lock;
}

} // namespace

//===----------------------------------------------------------------------===//
// The check
//===----------------------------------------------------------------------===//

EscapingGuardedReferenceCheck::EscapingGuardedReferenceCheck(
    StringRef Name, ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context) {
  // The shared option layer: this check's keys, else the project-wide
  // concguard.* ones (utils/CheckOptions.h).
  utils::CheckOptionReader Reader(Context->getOptions().CheckOptions, Name);
  RawMutexTypes = Reader.text("MutexTypes");
  RawLockGuardTypes = Reader.text("LockGuardTypes");
  RawContainerTypes = Reader.text("ContainerTypes");
  IndexFile = Reader.text("IndexFile");
  TidyContext = Context;
  Locks = Reader.locks("MutexTypes", "LockGuardTypes");
  ContainerTypes = Reader.containerNames("ContainerTypes");
  for (const utils::OptionProblem &Problem : Reader.problems())
    configurationDiag("%0") << Problem.Message;
}

void EscapingGuardedReferenceCheck::storeOptions(
    ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "MutexTypes", RawMutexTypes);
  Options.store(Opts, "LockGuardTypes", RawLockGuardTypes);
  Options.store(Opts, "ContainerTypes", RawContainerTypes);
  Options.store(Opts, "IndexFile", IndexFile);
}

void EscapingGuardedReferenceCheck::registerMatchers(MatchFinder *Finder) {
  Finder->addMatcher(functionDecl(isDefinition(), hasBody(stmt()),
                                  unless(isExpansionInSystemHeader()))
                         .bind("function"),
                     this);
}

void EscapingGuardedReferenceCheck::check(
    const MatchFinder::MatchResult &Result) {
  const auto *Function = Result.Nodes.getNodeAs<FunctionDecl>("function");
  if (!Function || Function->isDependentContext() || !Function->getBody() ||
      Function->isInvalidDecl())
    return;
  ASTContext &Context = *Result.Context;
  this->Context = &Context;
  HolderEscapeFinder Holders(*this, Locks, *Function->getBody());
  Holders.TraverseStmt(const_cast<Stmt *>(Function->getBody()));
  for (const GuardedEscape &Escape : Holders.findings())
    report(*this, Escape);
  // A lock the callers must hold (REQUIRES, AssertHeld()) is held from the
  // start: what the function derives from guarded data before it releases
  // that lock escapes like it would under a lock of its own.
  llvm::SmallVector<utils::HeldLock, 2> HeldOnEntry =
      utils::locksHeldOnEntry(*Function);
  std::unique_ptr<LockScopeAnalysis> Analysis =
      LockScopeAnalysis::analyze(*Function, Context, Locks, HeldOnEntry);
  if (!Analysis || !Analysis->holdsAnyLock())
    return;
  EscapeFinder Finder(*this, Locks, *Function, Context, *Analysis);
  Finder.setEntryLocks(HeldOnEntry);
  Finder.run();
  for (const GuardedEscape &Escape : Finder.findings())
    report(*this, Escape);
}

EscapingGuardedReferenceCheck::~EscapingGuardedReferenceCheck() = default;

void EscapingGuardedReferenceCheck::onStartOfTranslationUnit() {
  // Calls of functions whose bodies are in other units take and release
  // locks as the project index says (before any lock scope is computed).
  utils::installIndexedLockEffects(IndexFile,
                                   TidyContext->getCurrentBuildDirectory());
}

void EscapingGuardedReferenceCheck::onEndOfTranslationUnit() {
  Reported.clear();
  UnitMemos.reset();
  wholeProgram();
  Context = nullptr;
}

void EscapingGuardedReferenceCheck::wholeProgram() {
  if (!Context)
    return;
  utils::SharedContainerOptions Analysis;
  Analysis.Locks = Locks;
  utils::WholeProgramOptions Options;
  Options.Races = false;
  Options.EndlessThreads = false;
  utils::reportWholeProgram(*this, *Context, IndexFile,
                            TidyContext->getCurrentBuildDirectory(), Analysis,
                            {}, Options);
}

} // namespace clang::tidy::concguard
