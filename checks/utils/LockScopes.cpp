//===--- LockScopes.cpp - which locks are held at each statement ----------===//

#include "LockScopes.h"

#include "ExprUtils.h"
#include "StdNames.h"

#include "clang/AST/Attr.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <deque>
#include <map>
#include <mutex>

namespace clang::tidy::concguard::utils {

namespace {

const CXXRecordDecl *recordOf(QualType T) {
  if (T.isNull())
    return nullptr;
  T = T.getNonReferenceType();
  if (T->isPointerType())
    T = T->getPointeeType();
  return T.getCanonicalType()->getAsCXXRecordDecl();
}

std::string qualifiedName(const NamedDecl &D) {
  return D.getQualifiedNameAsString();
}

/// Does \p D match the configured name \p Wanted (a qualified name, with or
/// without the leading `::`, or a plain name that matches any scope)?
bool nameMatches(const NamedDecl &D, llvm::StringRef Wanted) {
  Wanted = Wanted.trim();
  Wanted.consume_front("::");
  if (Wanted.empty() || !D.getIdentifier())
    return false;
  if (Wanted.contains("::"))
    return qualifiedName(D) == Wanted;
  return D.getName() == Wanted;
}

bool isStdMutexRecord(const CXXRecordDecl *RD) {
  return isStdDeclNamed(RD, {"mutex", "recursive_mutex", "timed_mutex",
                             "recursive_timed_mutex", "shared_mutex",
                             "shared_timed_mutex"});
}

enum class StdGuard { None, LockGuard, ScopedLock, UniqueLock, SharedLock };

StdGuard stdGuardKind(const CXXRecordDecl *RD) {
  if (!RD || !RD->getIdentifier() || !RD->isInStdNamespace())
    return StdGuard::None;
  return llvm::StringSwitch<StdGuard>(RD->getName())
      .Case("lock_guard", StdGuard::LockGuard)
      .Case("scoped_lock", StdGuard::ScopedLock)
      .Case("unique_lock", StdGuard::UniqueLock)
      .Case("shared_lock", StdGuard::SharedLock)
      .Default(StdGuard::None);
}

/// The name of a method with case and underscores removed (see
/// normalizedName(StringRef)).
std::string normalizedName(const FunctionDecl *FD) {
  if (!FD || !FD->getIdentifier())
    return "";
  return utils::normalizedName(FD->getName());
}

enum class MutexOp { None, Lock, LockShared, Unlock, TryLock, TryLockShared };

bool isLockOp(MutexOp Op) {
  return Op == MutexOp::Lock || Op == MutexOp::LockShared;
}
bool isUnlockOp(MutexOp Op) { return Op == MutexOp::Unlock; }

bool isInStd(const FunctionDecl *FD) {
  const auto *Method = dyn_cast<CXXMethodDecl>(FD);
  return FD->isInStdNamespace() ||
         (Method && Method->getParent()->isInStdNamespace());
}

/// May a method named Acquire or Release lock or unlock its own object? Not
/// in std (its semaphores signal rather than lock), and not when a
/// thread-safety attribute says it takes or gives up another capability
/// (`void acquire() ACQUIRE(Mu)`: the lock effects handle that).
bool mayLockItsObject(const FunctionDecl *FD) {
  if (isInStd(FD))
    return false;
  for (const auto *Acquire : FD->specific_attrs<AcquireCapabilityAttr>())
    if (Acquire->args_size() > 0)
      return false;
  for (const auto *Release : FD->specific_attrs<ReleaseCapabilityAttr>())
    if (Release->args_size() > 0)
      return false;
  return true;
}

MutexOp mutexOp(const FunctionDecl *FD) {
  std::string Name = normalizedName(FD);
  // ReadLock/WriteLock: rocksdb's port::RWMutex. Acquire/Release: a class
  // outside std only (std's semaphores signal rather than lock), an Acquire
  // that returns nothing (leveldb's fd Limiter has `bool Acquire()`, a
  // counter that may refuse), and only as a pair on one class
  // (hasLockUnlockMethods).
  if (Name == "lock" || Name == "writerlock" || Name == "writelock" ||
      (Name == "acquire" && FD->getReturnType()->isVoidType() &&
       mayLockItsObject(FD)))
    return MutexOp::Lock;
  if (Name == "lockshared" || Name == "readerlock" || Name == "readlock")
    return MutexOp::LockShared;
  if (Name == "unlock" || Name == "unlockshared" || Name == "readerunlock" ||
      Name == "writerunlock" || Name == "readunlock" || Name == "writeunlock" ||
      (Name == "release" && mayLockItsObject(FD)))
    return MutexOp::Unlock;
  if (Name == "trylock" || Name == "trylockfor" || Name == "trylockuntil" ||
      Name == "writertrylock")
    return MutexOp::TryLock;
  if (Name == "trylockshared" || Name == "trylocksharedfor" ||
      Name == "trylockshareduntil" || Name == "readertrylock")
    return MutexOp::TryLockShared;
  return MutexOp::None;
}

/// Does \p RD (or a base) have member functions that lock and unlock it,
/// callable without arguments: `lock()`/`unlock()` in any spelling
/// (`Lock`/`Unlock`, `lock_shared`, `ReaderLock`/`ReaderUnlock`, ...), the
/// lock returning nothing or a bool? (`std::weak_ptr::lock()` returns a
/// pointer and has no unlock.)
bool hasLockUnlockMethods(const CXXRecordDecl *RD, unsigned Depth = 0) {
  if (!RD || !RD->hasDefinition() || Depth > 4)
    return false;
  RD = RD->getDefinition();
  bool Locks = false, Unlocks = false;
  for (const CXXMethodDecl *Method : RD->methods()) {
    if (Method->isStatic() || Method->getMinRequiredArguments() != 0)
      continue;
    MutexOp Op = mutexOp(Method);
    QualType Result = Method->getReturnType();
    if (isLockOp(Op) && (Result->isVoidType() || Result->isBooleanType()))
      Locks = true;
    else if (isUnlockOp(Op) && Result->isVoidType())
      Unlocks = true;
  }
  if (Locks && Unlocks)
    return true;
  for (const CXXBaseSpecifier &Base : RD->bases())
    if (hasLockUnlockMethods(Base.getType()->getAsCXXRecordDecl(), Depth + 1))
      return true;
  return false;
}

/// Does some constructor of \p RD take, as its first parameter, a reference
/// or pointer to a class with lock and unlock methods (the shape of a
/// scoped guard, std::unique_lock's among them)?
const CXXRecordDecl *guardedByConstructor(const CXXRecordDecl *RD) {
  for (const CXXConstructorDecl *Ctor : RD->ctors()) {
    if (Ctor->isCopyOrMoveConstructor() || Ctor->getNumParams() == 0)
      continue;
    QualType T = Ctor->getParamDecl(0)->getType();
    if (!T->isReferenceType() && !T->isPointerType())
      continue;
    const CXXRecordDecl *Param = recordOf(T);
    if (Param && Param->getCanonicalDecl() != RD->getCanonicalDecl() &&
        hasLockUnlockMethods(Param))
      return Param;
  }
  return nullptr;
}

/// A project's own mutex, recognised by its shape (issue: real projects
/// each bring one, and configuring every one by hand is a chore): a class
/// outside namespace std with lock and unlock methods, that is not itself a
/// guard over another such class.
bool isMutexShaped(const CXXRecordDecl *RD) {
  if (!RD || RD->isInStdNamespace() || !RD->hasDefinition())
    return false;
  RD = RD->getDefinition();
  return hasLockUnlockMethods(RD) && !guardedByConstructor(RD);
}

/// Does \p S call, anywhere inside it, a method of a lockable class (one
/// with lock and unlock methods) whose operation \p Wanted accepts? Also
/// through the class's own member functions called on `this`, two calls
/// deep: epee's critical_region_t destructor calls its own unlock(), which
/// unlocks the mutex unless that was done already.
template <typename Predicate>
bool callsMutexOp(const Stmt *S, const Predicate &Wanted, unsigned Depth = 0) {
  if (!S)
    return false;
  if (const auto *Call = dyn_cast<CXXMemberCallExpr>(S)) {
    const Expr *Object = Call->getImplicitObjectArgument();
    if (Wanted(mutexOp(Call->getMethodDecl())) && Object &&
        hasLockUnlockMethods(recordOf(Object->getType())))
      return true;
    const CXXMethodDecl *Method = Call->getMethodDecl();
    const FunctionDecl *Definition = nullptr;
    // Only a helper named for the operation (`unlock()`, `release()`): a
    // destructor that calls stop(), which unlocks some lock of its own on
    // the way, does not make its class a guard.
    if (Depth < 2 && Object &&
        isa<CXXThisExpr>(Object->IgnoreParenImpCasts()) && Method &&
        Wanted(mutexOp(Method)) && Method->hasBody(Definition) &&
        callsMutexOp(Definition->getBody(), Wanted, Depth + 1))
      return true;
  }
  return llvm::any_of(S->children(), [&](const Stmt *Child) {
    return callsMutexOp(Child, Wanted, Depth);
  });
}

/// A project's own scoped guard, recognised by its shape: a class outside
/// namespace std whose constructor takes a reference or pointer to a
/// lockable class (its mutex) and whose destructor unlocks it
/// (`MutexLock(port::Mutex *mu) : mu_(mu) { mu_->Lock(); }
/// ~MutexLock() { mu_->Unlock(); }`). Its mutex is the first argument, as
/// for the configured LockGuardTypes.
bool isGuardShaped(const CXXRecordDecl *RD) {
  if (!RD || RD->isInStdNamespace() || !RD->hasDefinition())
    return false;
  RD = RD->getDefinition();
  const CXXDestructorDecl *Dtor = RD->getDestructor();
  const FunctionDecl *Body = Dtor ? Dtor->getDefinition() : nullptr;
  return guardedByConstructor(RD) && Body &&
         callsMutexOp(Body->getBody(), isUnlockOp);
}

/// The mode of a guard recognised by its shape: a reader guard when a
/// constructor that takes the mutex takes it shared (absl's
/// `ReaderMutexLock` calls `mu->ReaderLock()`, rocksdb's `ReadLock` calls
/// `mu->ReadLock()`), else exclusive.
LockMode shapedGuardMode(const CXXRecordDecl *RD) {
  for (const CXXConstructorDecl *Ctor : RD->ctors()) {
    const FunctionDecl *Definition = nullptr;
    if (!Ctor->isCopyOrMoveConstructor() && Ctor->hasBody(Definition) &&
        callsMutexOp(Definition->getBody(),
                     [](MutexOp Op) { return Op == MutexOp::LockShared; }))
      return LockMode::Shared;
  }
  return LockMode::Exclusive;
}

/// Does the constructor \p Ctor initialise the std guard member \p Guard
/// so that it locks (no defer_lock, try_to_lock, adopt_lock or timeout) an
/// object reached from its first parameter, itself or through the
/// constructors it delegates to?
bool locksFirstParamInto(const CXXConstructorDecl *Ctor, const FieldDecl *Guard,
                         unsigned Depth = 0) {
  const FunctionDecl *Definition = nullptr;
  if (!Ctor || Depth > 4 || !Ctor->hasBody(Definition) ||
      Definition->getNumParams() == 0)
    return false;
  const auto *Body = cast<CXXConstructorDecl>(Definition);
  const ParmVarDecl *Param = Body->getParamDecl(0);
  for (const CXXCtorInitializer *Init : Body->inits()) {
    const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(
        Init->getInit() ? Init->getInit()->IgnoreImplicit() : nullptr);
    if (!Construct || Construct->getNumArgs() == 0)
      continue;
    if (Init->isDelegatingInitializer())
      return refersTo(*Construct->getArg(0), *Param) &&
             locksFirstParamInto(Construct->getConstructor(), Guard, Depth + 1);
    if (Init->getMember() != Guard)
      continue;
    for (const Expr *Arg : Construct->arguments())
      if (isStdDeclNamed(recordOf(Arg->getType()),
                         {"defer_lock_t", "try_to_lock_t", "adopt_lock_t",
                          "duration", "time_point"}))
        return false;
    return refersTo(*Construct->getArg(0), *Param);
  }
  return false;
}

/// A project's own guard built from a std guard, recognised by its shape:
/// a class outside namespace std whose data member is a std::lock_guard,
/// std::unique_lock, std::shared_lock or std::scoped_lock that a
/// constructor initialises, itself or through a delegating constructor,
/// from its first parameter, a reference or pointer to a class
/// (PowerDNS's `ReadLock(ReadWriteLock &lock) : ReadLock(lock.getLock())`
/// over `std::shared_lock<std::shared_mutex> d_lock`). The member's
/// destructor releases the lock with the guard's. Its mutex is the first
/// argument, as for the other guards; it is a reader guard when the member
/// is a std::shared_lock. A class with an operator* or operator-> hands out
/// the data it guards: that is a lock holder (isLockHolderType), not a
/// guard.
std::optional<LockMode> composedGuardMode(const CXXRecordDecl *RD) {
  if (!RD || RD->isInStdNamespace() || !RD->hasDefinition())
    return std::nullopt;
  RD = RD->getDefinition();
  for (const CXXMethodDecl *Method : RD->methods())
    if (Method->getOverloadedOperator() == OO_Star ||
        Method->getOverloadedOperator() == OO_Arrow)
      return std::nullopt;
  for (const FieldDecl *Field : RD->fields()) {
    StdGuard Kind = stdGuardKind(recordOf(Field->getType()));
    if (Kind == StdGuard::None || Field->getType()->isReferenceType() ||
        Field->getType()->isPointerType())
      continue;
    for (const CXXConstructorDecl *Ctor : RD->ctors()) {
      if (Ctor->isCopyOrMoveConstructor() || Ctor->getNumParams() == 0 ||
          Ctor->getAccess() != AS_public)
        continue;
      QualType T = Ctor->getParamDecl(0)->getType();
      const CXXRecordDecl *Param = recordOf(T);
      if ((!T->isReferenceType() && !T->isPointerType()) || !Param ||
          Param->getCanonicalDecl() == RD->getCanonicalDecl())
        continue;
      if (locksFirstParamInto(Ctor, Field))
        return Kind == StdGuard::SharedLock ? LockMode::Shared
                                            : LockMode::Exclusive;
    }
  }
  return std::nullopt;
}

const GuardType *customGuard(const CXXRecordDecl *RD,
                             const LockOptions &Options) {
  if (!RD)
    return nullptr;
  for (const GuardType &G : Options.GuardTypes)
    if (nameMatches(*RD, G.Name))
      return &G;
  static const GuardType Inferred{"", LockMode::Exclusive};
  static const GuardType InferredReader{"", LockMode::Shared};
  if (isGuardShaped(RD))
    return shapedGuardMode(RD->getDefinition()) == LockMode::Shared
               ? &InferredReader
               : &Inferred;
  if (std::optional<LockMode> Mode = composedGuardMode(RD))
    return *Mode == LockMode::Shared ? &InferredReader : &Inferred;
  return nullptr;
}

/// `std::move(x)` (or a cast to an rvalue reference) of a variable.
const VarDecl *movedVar(const Expr *E) {
  E = ignoreWrappers(E);
  if (const auto *Call = dyn_cast_or_null<CallExpr>(E);
      Call && Call->getNumArgs() == 1 &&
      isStdDeclNamed(Call->getDirectCallee(), {"move"}))
    E = ignoreWrappers(Call->getArg(0));
  else if (const auto *Cast = dyn_cast_or_null<CXXStaticCastExpr>(E))
    E = ignoreWrappers(Cast->getSubExpr());
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(E);
  return Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
}

const VarDecl *namedVar(const Expr *E) {
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(ignoreWrappers(E));
  return Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
}

std::optional<MutexKey> keyOfImpl(const Expr *E, unsigned Depth) {
  if (!E || Depth > 8)
    return std::nullopt;
  E = ignoreWrappers(E);
  if (const auto *Unary = dyn_cast<UnaryOperator>(E)) {
    if (Unary->getOpcode() == UO_AddrOf || Unary->getOpcode() == UO_Deref)
      return keyOfImpl(Unary->getSubExpr(), Depth + 1);
    return std::nullopt;
  }
  if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
    const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
    if (!Var)
      return std::nullopt;
    // A local reference to a mutex names the mutex it is bound to.
    if (Var->getType()->isReferenceType() && !isa<ParmVarDecl>(Var) &&
        Var->hasLocalStorage() && Var->getInit())
      if (std::optional<MutexKey> Bound = keyOfImpl(Var->getInit(), Depth + 1))
        return Bound;
    MutexKey Key;
    Key.Path.push_back(Var->getCanonicalDecl());
    return Key;
  }
  if (const auto *Member = dyn_cast<MemberExpr>(E)) {
    const ValueDecl *D = Member->getMemberDecl();
    if (const auto *Static = dyn_cast<VarDecl>(D)) {
      MutexKey Key;
      Key.Path.push_back(Static->getCanonicalDecl());
      return Key;
    }
    const auto *Field = dyn_cast<FieldDecl>(D);
    if (!Field)
      return std::nullopt;
    const Expr *Base = ignoreWrappers(Member->getBase());
    if (isa<CXXThisExpr>(Base)) {
      MutexKey Key;
      Key.Path.push_back(Field);
      return Key;
    }
    std::optional<MutexKey> Key = keyOfImpl(Base, Depth + 1);
    if (Key)
      Key->Path.push_back(Field);
    return Key;
  }
  return std::nullopt;
}

/// The key of the mutex \p E names, as keyOf() does, plus the object `this`
/// points to (`*this`, `this`, a cast of it to a base: a monitor that locks
/// itself). Kept apart from keyOf(), whose callers name containers and
/// threads, not locks.
std::optional<MutexKey> lockKeyOf(const Expr *E) {
  const Expr *Bare = E ? E->IgnoreParenCasts() : nullptr;
  while (const auto *Unary = dyn_cast_or_null<UnaryOperator>(Bare)) {
    if (Unary->getOpcode() != UO_Deref && Unary->getOpcode() != UO_AddrOf)
      break;
    Bare = Unary->getSubExpr()->IgnoreParenCasts();
  }
  if (isa_and_nonnull<CXXThisExpr>(Bare))
    return MutexKey::thisObject();
  return keyOfImpl(E, 0);
}

/// The mutex a guard is given as `Cond ? &Mu : nullptr` (either order, any
/// null pointer constant): `&Mu`, or null when \p E is not such a choice.
const Expr *nonNullAlternative(const Expr *E, ASTContext &Context) {
  const auto *Choice = dyn_cast_or_null<ConditionalOperator>(
      E ? E->IgnoreParenImpCasts() : nullptr);
  if (!Choice)
    return nullptr;
  auto IsNull = [&](const Expr *Arm) {
    return Arm->isNullPointerConstant(Context,
                                      Expr::NPC_ValueDependentIsNotNull) !=
           Expr::NPCK_NotNull;
  };
  bool TrueNull = IsNull(Choice->getTrueExpr());
  bool FalseNull = IsNull(Choice->getFalseExpr());
  if (TrueNull == FalseNull)
    return nullptr;
  return TrueNull ? Choice->getFalseExpr() : Choice->getTrueExpr();
}

/// \p Key with \p Fields appended (`obj` + {mu} is `obj.mu`; `*this` +
/// {mu} is the member `mu`).
MutexKey appendFields(MutexKey Key, llvm::ArrayRef<const ValueDecl *> Fields) {
  Key.Path.append(Fields.begin(), Fields.end());
  if (!Key.Path.empty())
    Key.ThisObject = false;
  return Key;
}

SourceLocation triggerLocation(const Stmt *Trigger) {
  if (!Trigger)
    return {};
  if (const auto *Compound = dyn_cast<CompoundStmt>(Trigger))
    return Compound->getRBracLoc();
  return Trigger->getBeginLoc();
}

const LockSet &emptyLockSet() {
  static const LockSet Empty;
  return Empty;
}

} // namespace

//===----------------------------------------------------------------------===//
// MutexKey, LockSet, LockOptions
//===----------------------------------------------------------------------===//

bool MutexKey::isThisMember() const {
  return isThisObject() || (!Path.empty() && isa<FieldDecl>(Path[0]));
}

std::string MutexKey::name() const {
  if (isThisObject())
    return "*this";
  std::string Out;
  for (const ValueDecl *D : Path) {
    if (!Out.empty())
      Out += '.';
    if (!D) {
      Out += "?";
      continue;
    }
    // A static data member is best recognised with its class.
    const auto *Var = dyn_cast<VarDecl>(D);
    if (Var && Var->isStaticDataMember())
      Out += qualifiedName(*Var);
    else
      Out += D->getNameAsString();
  }
  return Out;
}

const HeldLock *LockSet::find(const MutexKey &Key) const {
  for (const HeldLock &Lock : Locks)
    if (Lock.Key == Key)
      return &Lock;
  return nullptr;
}

bool LockSet::holdsExclusive(const MutexKey &Key) const {
  const HeldLock *Lock = find(Key);
  return Lock && Lock->Mode == LockMode::Exclusive;
}

void LockSet::acquire(HeldLock Lock) {
  for (HeldLock &Existing : Locks)
    if (Existing.Key == Lock.Key) {
      // Re-locking (a recursive mutex, or a guard taking over a lock held by
      // hand): the newest owner decides when it ends.
      Existing = std::move(Lock);
      return;
    }
  Locks.push_back(std::move(Lock));
}

void LockSet::unionWith(const LockSet &Other) {
  for (const HeldLock &L : Other.Locks)
    if (!find(L.Key))
      Locks.push_back(L);
}

void LockSet::release(const MutexKey &Key) {
  llvm::erase_if(Locks, [&](const HeldLock &L) { return L.Key == Key; });
}

bool LockSet::releaseGuard(const VarDecl *Guard) {
  size_t Before = Locks.size();
  llvm::erase_if(Locks, [&](const HeldLock &L) { return L.Guard == Guard; });
  return Locks.size() != Before;
}

void LockSet::detachGuard(const VarDecl *Guard) {
  for (HeldLock &L : Locks)
    if (L.Guard == Guard)
      L.Guard = nullptr;
}

void LockSet::transferGuard(const VarDecl *From, const VarDecl *To) {
  for (HeldLock &L : Locks)
    if (L.Guard == From)
      L.Guard = To;
}

void LockSet::intersectWith(const LockSet &Other) {
  llvm::erase_if(Locks, [&](HeldLock &L) {
    const HeldLock *O = Other.find(L.Key);
    if (!O)
      return true;
    // Held on both paths, by a guard on one and by hand on the other: a
    // guard's lock released and re-taken by hand (`Mu.Unlock(); ...;
    // Mu.Lock();` inside a MutexLock's scope, as rocksdb's
    // SstFileManagerImpl::ClearError does) is still released by the guard at
    // the end of its scope.
    if (O->Guard != L.Guard) {
      if (L.Guard && O->Guard)
        return true; // two different guards: no single owner
      if (!L.Guard)
        L.Guard = O->Guard;
    }
    if (O->Mode == LockMode::Shared)
      L.Mode = LockMode::Shared;
    L.Conditional = L.Conditional || O->Conditional;
    return false;
  });
}

bool operator==(const LockSet &A, const LockSet &B) {
  if (A.Locks.size() != B.Locks.size())
    return false;
  for (size_t I = 0; I < A.Locks.size(); ++I) {
    const HeldLock &X = A.Locks[I];
    const HeldLock &Y = B.Locks[I];
    if (X.Key != Y.Key || X.Mode != Y.Mode || X.Guard != Y.Guard ||
        X.AcquiredAt != Y.AcquiredAt || X.Conditional != Y.Conditional)
      return false;
  }
  return true;
}

LockOptions LockOptions::parse(llvm::StringRef MutexTypes,
                               llvm::StringRef LockGuardTypes) {
  LockOptions Options;
  llvm::SmallVector<llvm::StringRef, 4> Parts;
  auto Split = [&](llvm::StringRef Text) {
    Parts.clear();
    for (llvm::StringRef Part : llvm::split(Text, ';'))
      for (llvm::StringRef Piece : llvm::split(Part, ','))
        if (!Piece.trim().empty())
          Parts.push_back(Piece.trim());
  };
  Split(MutexTypes);
  for (llvm::StringRef Name : Parts)
    Options.MutexTypes.push_back(Name.str());
  Split(LockGuardTypes);
  for (llvm::StringRef Entry : Parts) {
    GuardType G;
    llvm::StringRef Name = Entry;
    // `Name:shared`, but not the `::` of a qualified name.
    size_t Colon = Entry.rfind(':');
    if (Colon != llvm::StringRef::npos && Colon > 0 &&
        Entry[Colon - 1] != ':' && Entry.substr(Colon + 1).trim() == "shared") {
      Name = Entry.substr(0, Colon).trim();
      G.Mode = LockMode::Shared;
    }
    G.Name = Name.str();
    Options.GuardTypes.push_back(std::move(G));
  }
  return Options;
}

std::string LockOptions::formatMutexTypes() const {
  return llvm::join(MutexTypes, ";");
}

std::string LockOptions::formatGuardTypes() const {
  std::vector<std::string> Entries;
  Entries.reserve(GuardTypes.size());
  for (const GuardType &G : GuardTypes)
    Entries.push_back(G.Name + (G.Mode == LockMode::Shared ? ":shared" : ""));
  return llvm::join(Entries, ";");
}

/// Is \p RD, or a class it derives from, a std mutex or one of \p Options'
/// MutexTypes? (A monitor that derives from its mutex is one.)
static bool isNamedMutexRecord(const CXXRecordDecl *RD,
                               const LockOptions &Options, unsigned Depth = 0) {
  if (!RD || Depth > 4)
    return false;
  if (isStdMutexRecord(RD) ||
      llvm::any_of(Options.MutexTypes, [&](const std::string &Name) {
        return nameMatches(*RD, Name);
      }))
    return true;
  if (!RD->hasDefinition())
    return false;
  return llvm::any_of(
      RD->getDefinition()->bases(), [&](const CXXBaseSpecifier &Base) {
        return isNamedMutexRecord(Base.getType()->getAsCXXRecordDecl(), Options,
                                  Depth + 1);
      });
}

bool isMutexType(QualType T, const LockOptions &Options) {
  return isMutexRecord(recordOf(T), Options);
}

bool isMutexRecord(const CXXRecordDecl *RD, const LockOptions &Options) {
  if (!RD)
    return false;
  return isNamedMutexRecord(RD, Options) || isMutexShaped(RD);
}

bool isLockGuardType(QualType T, const LockOptions &Options) {
  const CXXRecordDecl *RD = recordOf(T);
  return RD && (stdGuardKind(RD) != StdGuard::None || customGuard(RD, Options));
}

/// Does \p RD or one of its bases have a data member that is a lock guard?
static bool hasGuardMember(const CXXRecordDecl *RD, const LockOptions &Options,
                           unsigned Depth = 0) {
  if (!RD || !RD->hasDefinition() || Depth > 4)
    return false;
  RD = RD->getDefinition();
  for (const FieldDecl *Field : RD->fields())
    if (isLockGuardType(Field->getType(), Options))
      return true;
  return llvm::any_of(RD->bases(), [&](const CXXBaseSpecifier &Base) {
    return hasGuardMember(Base.getType()->getAsCXXRecordDecl(), Options,
                          Depth + 1);
  });
}

bool isLockHolderType(QualType T, const LockOptions &Options) {
  const CXXRecordDecl *RD = recordOf(T);
  if (!RD || RD->isInStdNamespace() || !RD->hasDefinition())
    return false;
  RD = RD->getDefinition();
  // A guard itself hands out nothing (std::unique_lock::mutex() is the
  // mutex, not the data it guards).
  if (isLockGuardType(T, Options) || !hasGuardMember(RD, Options))
    return false;
  return llvm::any_of(RD->methods(), [](const CXXMethodDecl *Method) {
    OverloadedOperatorKind Op = Method->getOverloadedOperator();
    QualType Result = Method->getReturnType();
    return (Op == OO_Star || Op == OO_Arrow) &&
           (Result->isReferenceType() || Result->isPointerType());
  });
}

//===----------------------------------------------------------------------===//
// The analysis
//===----------------------------------------------------------------------===//

/// The effects of \p Function with calls followed \p Depth levels further
/// (0: its own body only), computed once per unit, depth and options.
static thread_local ExternalLockEffectsSource ExternalEffects = nullptr;

void setExternalLockEffects(ExternalLockEffectsSource Source) {
  ExternalEffects = Source;
}

static const FunctionLockEffects &effectsAtDepth(const FunctionDecl &Function,
                                                 ASTContext &Context,
                                                 const LockOptions &Options,
                                                 unsigned Depth);

/// How a guard variable's initialisation affects the locks.
struct GuardInit {
  enum ActionKind { None, Acquire, Transfer } Action = None;
  llvm::SmallVector<MutexKey, 1> Keys;
  LockMode Mode = LockMode::Exclusive;
  const VarDecl *From = nullptr;
  /// The `std::move(other)` expression consumed by a transfer.
  const Expr *MoveExpr = nullptr;
  /// The mutex is chosen over null at run time (HeldLock::Conditional).
  bool Conditional = false;
};

class LockScopeBuilder {
public:
  /// \p EffectDepth: how many levels of calls the effects of a call follow
  /// (0: calls have no effect). \p MayHold: join paths by union (a lock
  /// held on some path), for the effect summaries, instead of the
  /// must-analysis every client sees.
  LockScopeBuilder(const FunctionDecl &Function, ASTContext &Context,
                   const LockOptions &Options, LockScopeAnalysis &Out,
                   llvm::ArrayRef<HeldLock> HeldOnEntry = {},
                   unsigned EffectDepth = MaxLockEffectDepth,
                   bool MayHold = false)
      : Function(Function), Context(Context), Options(Options), Out(Out),
        HeldOnEntry(HeldOnEntry), EffectDepth(EffectDepth), MayHold(MayHold) {}

  bool run();

  /// An empty analysis for a run of its own (the effect summaries).
  static std::unique_ptr<LockScopeAnalysis> newAnalysis() {
    return std::unique_ptr<LockScopeAnalysis>(new LockScopeAnalysis());
  }

  /// Did the prescan see a lock taken or given up by hand (not only scoped
  /// guards)? Only such a function can have an effect on its caller.
  bool takesLocksByHand() const { return ByHand; }
  /// Locks released where they were not held (by the function itself):
  /// its caller's, recorded in the final pass.
  llvm::ArrayRef<MutexKey> unheldReleases() const { return UnheldReleases; }
  /// The state at the function's exit; null when no path returns.
  const LockSet *exitState() const {
    if (!Out.Graph)
      return nullptr;
    unsigned Exit = Out.Graph->getExit().getBlockID();
    if (Exit >= Out.States.size() || Out.States[Exit].empty())
      return nullptr;
    return &Out.States[Exit].back();
  }

private:
  friend class LockPrescan;

  std::optional<GuardInit> classifyGuard(const VarDecl &Var);
  void registerGuard(const VarDecl &Var, const GuardInit &Init);
  GuardInfo *guard(const VarDecl *Var) {
    auto It = GuardIndex.find(Var);
    return It == GuardIndex.end() ? nullptr : &Out.Guards[It->second];
  }
  void transfer(const CFGElement &Element, LockSet &State, bool Record);
  void transferStmt(const Stmt *S, LockSet &State, bool Record);
  /// Refines \p State for the successor \p Index of \p Block.
  void refineEdge(const CFGBlock &Block, unsigned Index, LockSet &State,
                  bool Record);
  void noteAcquisition(const VarDecl *Guard, const Stmt *At, bool Record) {
    if (!Record || !Guard)
      return;
    if (GuardInfo *Info = guard(Guard))
      if (!llvm::is_contained(Info->Acquisitions, At))
        Info->Acquisitions.push_back(At);
  }
  /// Releases \p Key, noting a release of a lock the function never took.
  void releaseKey(const MutexKey &Key, LockSet &State, bool Record) {
    if (Record && !State.holds(Key) && !llvm::is_contained(UnheldReleases, Key))
      UnheldReleases.push_back(Key);
    State.release(Key);
  }
  /// The effects of calling \p Call's callee (lockQueue(), unlockQueue()).
  void applyCallEffects(const CallExpr *Call, LockSet &State, bool Record);
  FunctionLockEffects calleeEffects(const CallExpr *Call) const;
  void noteRelease(const ReleaseSite &Site, bool Record) {
    if (!Record || !Site.Guard)
      return;
    if (GuardInfo *Info = guard(Site.Guard))
      if (llvm::none_of(Info->Releases,
                        [&](const ReleaseSite &R) { return R.At == Site.At; }))
        Info->Releases.push_back(Site);
  }

  const FunctionDecl &Function;
  ASTContext &Context;
  const LockOptions &Options;
  LockScopeAnalysis &Out;
  llvm::DenseMap<const VarDecl *, unsigned> GuardIndex;
  llvm::DenseMap<const VarDecl *, GuardInit> Inits;
  /// `std::move(guard)` expressions that a transfer consumes.
  llvm::SmallPtrSet<const Expr *, 4> TransferMoves;
  /// Locks the caller holds when the function starts.
  llvm::ArrayRef<HeldLock> HeldOnEntry;
  unsigned EffectDepth;
  bool MayHold;
  bool TakesLocks = false;
  bool ByHand = false;
  llvm::SmallVector<MutexKey, 1> UnheldReleases;
};

std::optional<GuardInit> LockScopeBuilder::classifyGuard(const VarDecl &Var) {
  const CXXRecordDecl *RD = recordOf(Var.getType());
  if (!RD || Var.getType()->isReferenceType() || Var.getType()->isPointerType())
    return std::nullopt;
  StdGuard Std = stdGuardKind(RD);
  const GuardType *Custom =
      Std == StdGuard::None ? customGuard(RD, Options) : nullptr;
  if (Std == StdGuard::None && !Custom)
    return std::nullopt;
  GuardInit Init;
  Init.Mode = Std == StdGuard::SharedLock ? LockMode::Shared
              : Custom                    ? Custom->Mode
                                          : LockMode::Exclusive;
  const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(
      Var.getInit() ? ignoreWrappers(Var.getInit()) : nullptr);
  if (!Construct)
    return Init; // declared without a constructor we can read
  bool Deferred = false;
  for (const Expr *Arg : Construct->arguments()) {
    if (isa<CXXDefaultArgExpr>(Arg))
      continue;
    QualType T = Arg->getType();
    const CXXRecordDecl *ArgRecord = recordOf(T);
    if (isStdDeclNamed(ArgRecord, {"defer_lock_t", "try_to_lock_t", "duration",
                                   "time_point"})) {
      // Deferred, or only tried: held on a branch that checks owns_lock().
      Deferred = true;
      continue;
    }
    if (isStdDeclNamed(ArgRecord, {"adopt_lock_t"}))
      continue;
    if (ArgRecord && isLockGuardType(T, Options)) {
      Init.Action = GuardInit::Transfer;
      Init.From = movedVar(Arg);
      Init.MoveExpr = ignoreWrappers(Arg);
      return Init;
    }
    // The mutex: any object of class type (std guards work on any lockable
    // type); for a project guard, the first reference or pointer argument.
    if (!ArgRecord)
      continue;
    if (Custom && !Init.Keys.empty())
      break;
    const Expr *Mutex = Arg;
    if (const Expr *Chosen = nonNullAlternative(Arg, Var.getASTContext())) {
      Mutex = Chosen;
      Init.Conditional = true;
    }
    if (std::optional<MutexKey> Key = lockKeyOf(Mutex))
      Init.Keys.push_back(std::move(*Key));
    else
      return Init; // a mutex we cannot name: never treated as held
  }
  if (!Deferred && !Init.Keys.empty())
    Init.Action = GuardInit::Acquire;
  return Init;
}

void LockScopeBuilder::registerGuard(const VarDecl &Var,
                                     const GuardInit &Init) {
  if (GuardIndex.count(&Var))
    return;
  GuardInfo Info;
  Info.Var = &Var;
  Info.Mode = Init.Mode;
  Info.Keys = Init.Keys;
  Info.Conditional = Init.Conditional;
  if (Init.Action == GuardInit::Transfer && Init.From)
    if (const GuardInfo *Source = guard(Init.From)) {
      Info.Keys = Source->Keys;
      Info.Mode = Source->Mode;
      Info.Conditional = Source->Conditional;
    }
  GuardIndex[&Var] = Out.Guards.size();
  Out.Guards.push_back(std::move(Info));
  Inits[&Var] = Init;
}

/// Finds the guards and whether the function takes any lock, before any CFG
/// is built.
class LockPrescan : public RecursiveASTVisitor<LockPrescan> {
public:
  explicit LockPrescan(LockScopeBuilder &B) : B(B) {}
  bool shouldVisitImplicitCode() const { return true; }
  bool shouldVisitTemplateInstantiations() const { return false; }
  // Nested lambdas are functions of their own.
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }
  bool TraverseBlockExpr(BlockExpr *) { return true; }

  bool VisitVarDecl(VarDecl *Var) {
    if (!Var->hasLocalStorage())
      return true;
    if (std::optional<GuardInit> Init = B.classifyGuard(*Var)) {
      B.registerGuard(*Var, *Init);
      B.TakesLocks = true;
      if (Init->Action == GuardInit::Transfer && Init->MoveExpr)
        B.TransferMoves.insert(Init->MoveExpr);
    }
    return true;
  }
  bool VisitCXXMemberCallExpr(CXXMemberCallExpr *Call) {
    const Expr *Object = Call->getImplicitObjectArgument();
    if (Object && mutexOp(Call->getMethodDecl()) != MutexOp::None &&
        isMutexType(Object->getType(), B.Options))
      B.TakesLocks = B.ByHand = true;
    // A guard that lets go of its lock without unlocking it.
    if (Object && isLockGuardType(Object->getType(), B.Options) &&
        normalizedName(Call->getMethodDecl()) == "release")
      B.ByHand = true;
    return true;
  }
  bool VisitCallExpr(CallExpr *Call) {
    // A guard moved away keeps its lock past its scope.
    if (Call->getNumArgs() == 1 &&
        isStdDeclNamed(Call->getDirectCallee(), {"move"}) &&
        isLockGuardType(Call->getArg(0)->getType(), B.Options)) {
      B.ByHand = true;
      return true;
    }
    // std::lock, or a callee that takes or gives up a lock for its caller.
    if (isStdDeclNamed(Call->getDirectCallee(), {"lock"}) ||
        !B.calleeEffects(Call).empty())
      B.TakesLocks = B.ByHand = true;
    return true;
  }
  bool VisitCXXOperatorCallExpr(CXXOperatorCallExpr *Call) {
    // `a = std::move(b)` between guards.
    if (Call->getOperator() == OO_Equal && Call->getNumArgs() == 2 &&
        isLockGuardType(Call->getArg(0)->getType(), B.Options))
      B.TransferMoves.insert(ignoreWrappers(Call->getArg(1)));
    return true;
  }

private:
  LockScopeBuilder &B;
};

void LockScopeBuilder::transferStmt(const Stmt *S, LockSet &State,
                                    bool Record) {
  if (const auto *Decl = dyn_cast<DeclStmt>(S)) {
    for (const class Decl *D : Decl->decls()) {
      const auto *Var = dyn_cast<VarDecl>(D);
      if (!Var)
        continue;
      auto It = Inits.find(Var);
      if (It == Inits.end())
        continue;
      const GuardInit &Init = It->second;
      if (Init.Action == GuardInit::Acquire) {
        for (const MutexKey &Key : Init.Keys)
          State.acquire({Key, Init.Mode, S, Var, Init.Conditional});
        noteAcquisition(Var, S, Record);
      } else if (Init.Action == GuardInit::Transfer && Init.From) {
        State.transferGuard(Init.From, Var);
      }
    }
    return;
  }

  if (const auto *Call = dyn_cast<CXXMemberCallExpr>(S)) {
    const Expr *Object = Call->getImplicitObjectArgument();
    if (!Object)
      return;
    const CXXMethodDecl *Method = Call->getMethodDecl();
    if (const VarDecl *GuardVar = namedVar(Object)) {
      if (GuardInfo *Info = guard(GuardVar)) {
        std::string Name = normalizedName(Method);
        if (Name == "lock") {
          for (const MutexKey &Key : Info->Keys)
            State.acquire({Key, Info->Mode, S, GuardVar, Info->Conditional});
          noteAcquisition(GuardVar, S, Record);
        } else if (Name == "unlock") {
          for (const MutexKey &Key : Info->Keys)
            if (const HeldLock *L = State.find(Key); L && L->Guard == GuardVar)
              noteRelease({S, S->getBeginLoc(), GuardVar, false}, Record);
          State.releaseGuard(GuardVar);
        } else if (Name == "release") {
          State.detachGuard(GuardVar);
        } else if (Name == "swap") {
          // Which locks each guard owns afterwards is not tracked.
          State.releaseGuard(GuardVar);
          if (Call->getNumArgs() == 1)
            if (const VarDecl *Other = namedVar(Call->getArg(0)))
              State.releaseGuard(Other);
        }
        return;
      }
    }
    MutexOp Op = mutexOp(Method);
    if (Op == MutexOp::None || !isMutexType(Object->getType(), Options)) {
      applyCallEffects(Call, State, Record);
      return;
    }
    std::optional<MutexKey> Key = lockKeyOf(Object);
    if (!Key)
      return;
    switch (Op) {
    case MutexOp::Lock:
      State.acquire({*Key, LockMode::Exclusive, S, nullptr});
      break;
    case MutexOp::LockShared:
      State.acquire({*Key, LockMode::Shared, S, nullptr});
      break;
    case MutexOp::Unlock:
      releaseKey(*Key, State, Record);
      break;
    default:
      break;
    }
    return;
  }

  if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(S)) {
    if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2)
      if (const VarDecl *Target = namedVar(Op->getArg(0));
          Target && guard(Target)) {
        State.releaseGuard(Target);
        if (const VarDecl *Source = movedVar(Op->getArg(1)))
          State.transferGuard(Source, Target);
      }
    return;
  }

  if (const auto *Call = dyn_cast<CallExpr>(S)) {
    if (isStdDeclNamed(Call->getDirectCallee(), {"lock"})) {
      for (const Expr *Arg : Call->arguments())
        if (std::optional<MutexKey> Key = LockScopeAnalysis::keyOf(Arg))
          State.acquire({*Key, LockMode::Exclusive, S, nullptr});
      return;
    }
    // A guard handed to someone else (`return Locked{std::move(lk), x}`):
    // the lock stays held, but no longer by this guard's destructor.
    if (Call->getNumArgs() == 1 &&
        isStdDeclNamed(Call->getDirectCallee(), {"move"})) {
      if (!TransferMoves.count(Call))
        if (const VarDecl *Moved = movedVar(Call); Moved && guard(Moved))
          State.detachGuard(Moved);
      return;
    }
    applyCallEffects(Call, State, Record);
  }
}

void LockScopeBuilder::transfer(const CFGElement &Element, LockSet &State,
                                bool Record) {
  if (std::optional<CFGStmt> S = Element.getAs<CFGStmt>()) {
    transferStmt(S->getStmt(), State, Record);
    return;
  }
  if (std::optional<CFGAutomaticObjDtor> Dtor =
          Element.getAs<CFGAutomaticObjDtor>()) {
    const VarDecl *Var = Dtor->getVarDecl();
    if (!guard(Var))
      return;
    bool Owned =
        llvm::any_of(State, [&](const HeldLock &L) { return L.Guard == Var; });
    if (Owned) {
      const Stmt *Trigger = Dtor->getTriggerStmt();
      noteRelease({Trigger, triggerLocation(Trigger), Var,
                   Trigger && isa<ReturnStmt>(Trigger)},
                  Record);
    }
    State.releaseGuard(Var);
  }
}

void LockScopeBuilder::refineEdge(const CFGBlock &Block, unsigned Index,
                                  LockSet &State, bool Record) {
  const auto *Cond = dyn_cast_or_null<Expr>(Block.getTerminatorCondition());
  if (!Cond || Block.succ_size() != 2)
    return;
  bool OnTrue = Index == 0;
  const Expr *E = ignoreWrappers(Cond);
  while (const auto *Not = dyn_cast<UnaryOperator>(E)) {
    if (Not->getOpcode() != UO_LNot)
      return;
    OnTrue = !OnTrue;
    E = ignoreWrappers(Not->getSubExpr());
  }
  const auto *Call = dyn_cast<CXXMemberCallExpr>(E);
  if (!Call || !Call->getImplicitObjectArgument())
    return;
  const CXXMethodDecl *Method = Call->getMethodDecl();
  const Expr *Object = Call->getImplicitObjectArgument();
  if (const VarDecl *GuardVar = namedVar(Object)) {
    if (GuardInfo *Info = guard(GuardVar)) {
      std::string Name = normalizedName(Method);
      bool Query =
          Name == "ownslock" || isa_and_nonnull<CXXConversionDecl>(Method);
      bool Try = Name.rfind("trylock", 0) == 0;
      if (!Query && !Try)
        return;
      if (OnTrue) {
        for (const MutexKey &Key : Info->Keys)
          if (const HeldLock *L = State.find(Key); !L || L->Guard != GuardVar)
            State.acquire({Key, Info->Mode, Call, GuardVar, Info->Conditional});
        noteAcquisition(GuardVar, Call, Record);
      } else if (Query) {
        State.releaseGuard(GuardVar);
      }
      return;
    }
  }
  if (!OnTrue || !isMutexType(Object->getType(), Options))
    return;
  MutexOp Op = mutexOp(Method);
  if (Op != MutexOp::TryLock && Op != MutexOp::TryLockShared)
    return;
  if (std::optional<MutexKey> Key = lockKeyOf(Object))
    State.acquire(
        {*Key, Op == MutexOp::TryLock ? LockMode::Exclusive : LockMode::Shared,
         Call, nullptr});
}

bool LockScopeBuilder::run() {
  Stmt *Body = Function.getBody();
  if (!Body)
    return false;
  LockPrescan Prescan(*this);
  Prescan.TraverseStmt(Body);
  if (!TakesLocks && HeldOnEntry.empty())
    return true;

  CFG::BuildOptions BuildOptions;
  BuildOptions.AddImplicitDtors = true;
  BuildOptions.setAllAlwaysAdd();
  Out.Graph = CFG::buildCFG(&Function, Body, &Context, BuildOptions);
  if (!Out.Graph)
    return false;
  const CFG &Graph = *Out.Graph;
  unsigned NumBlocks = Graph.getNumBlockIDs();

  // Forward must-analysis: entry states start unknown (top) and only shrink.
  std::vector<std::optional<LockSet>> Entry(NumBlocks);
  LockSet Initial;
  for (const HeldLock &Lock : HeldOnEntry)
    Initial.acquire(Lock);
  Entry[Graph.getEntry().getBlockID()] = std::move(Initial);
  std::deque<const CFGBlock *> Worklist{&Graph.getEntry()};
  std::vector<bool> Queued(NumBlocks, false);
  Queued[Graph.getEntry().getBlockID()] = true;
  unsigned Budget = 64 * NumBlocks + 64;
  while (!Worklist.empty() && Budget-- > 0) {
    const CFGBlock *Block = Worklist.front();
    Worklist.pop_front();
    Queued[Block->getBlockID()] = false;
    LockSet State = *Entry[Block->getBlockID()];
    for (const CFGElement &Element : *Block)
      transfer(Element, State, /*Record=*/false);
    unsigned Index = 0;
    for (const CFGBlock::AdjacentBlock &Succ : Block->succs()) {
      unsigned ThisIndex = Index++;
      const CFGBlock *Next = Succ.getReachableBlock();
      if (!Next)
        continue;
      LockSet OutState = State;
      refineEdge(*Block, ThisIndex, OutState, /*Record=*/false);
      std::optional<LockSet> &In = Entry[Next->getBlockID()];
      bool Changed = false;
      if (!In) {
        In = OutState;
        Changed = true;
      } else {
        LockSet Merged = *In;
        if (MayHold)
          Merged.unionWith(OutState);
        else
          Merged.intersectWith(OutState);
        if (Merged != *In) {
          In = std::move(Merged);
          Changed = true;
        }
      }
      if (Changed && !Queued[Next->getBlockID()]) {
        Queued[Next->getBlockID()] = true;
        Worklist.push_back(Next);
      }
    }
  }
  if (!Worklist.empty())
    return false; // did not converge: answer nothing rather than guess

  // Final pass: record the state at every element.
  Out.States.assign(NumBlocks, {});
  for (const CFGBlock *Block : Graph) {
    if (!Block || !Entry[Block->getBlockID()])
      continue;
    std::vector<LockSet> &States = Out.States[Block->getBlockID()];
    LockSet State = *Entry[Block->getBlockID()];
    unsigned Index = 0;
    for (const CFGElement &Element : *Block) {
      States.push_back(State);
      if (std::optional<CFGStmt> S = Element.getAs<CFGStmt>()) {
        const Stmt *St = S->getStmt();
        auto [It, Inserted] = Out.AtStmt.try_emplace(St, State);
        if (!Inserted && MayHold)
          It->second.unionWith(State);
        else if (!Inserted)
          It->second.intersectWith(State);
        Out.ElementOf.try_emplace(St, Block->getBlockID(), Index);
      }
      transfer(Element, State, /*Record=*/true);
      ++Index;
    }
    States.push_back(State);
    for (unsigned I = 0; I < Block->succ_size(); ++I) {
      LockSet Scratch = State;
      refineEdge(*Block, I, Scratch, /*Record=*/true);
    }
  }
  return true;
}

std::unique_ptr<LockScopeAnalysis>
LockScopeAnalysis::analyze(const FunctionDecl &Function, ASTContext &Context,
                           const LockOptions &Options,
                           llvm::ArrayRef<HeldLock> HeldOnEntry) {
  std::unique_ptr<LockScopeAnalysis> Result(new LockScopeAnalysis());
  LockScopeBuilder Builder(Function, Context, Options, *Result, HeldOnEntry);
  if (!Builder.run())
    return nullptr;
  return Result;
}

//===----------------------------------------------------------------------===//
// Lock effects of calls
//===----------------------------------------------------------------------===//

namespace {

/// The object a call runs on: `obj` of `obj.f()` or `p->f()`, `this` for a
/// call on this, argument 0 of a member operator call; null otherwise.
const Expr *callObject(const CallExpr &Call) {
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call))
    return Member->getImplicitObjectArgument();
  if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(&Call);
      Op && isa_and_nonnull<CXXMethodDecl>(Op->getDirectCallee()) &&
      Op->getNumArgs() > 0)
    return Op->getArg(0);
  return nullptr;
}

/// The caller's key for the callee's \p Key at \p Call: a member or the
/// object itself through the call's object, a parameter through its
/// argument, a global as it is. Nothing for the callee's locals, or an
/// object or argument that names no mutex we can identify.
std::optional<MutexKey> keyAtCall(const MutexKey &Key, const CallExpr &Call,
                                  const FunctionDecl &Callee) {
  const ValueDecl *Root = Key.root();
  if (Key.isThisObject() || isa_and_nonnull<FieldDecl>(Root)) {
    const Expr *Object = callObject(Call);
    std::optional<MutexKey> Base = Object ? lockKeyOf(Object) : std::nullopt;
    if (!Base)
      return std::nullopt;
    return appendFields(std::move(*Base), Key.Path);
  }
  if (const auto *Param = dyn_cast_or_null<ParmVarDecl>(Root)) {
    unsigned Index = Param->getFunctionScopeIndex();
    unsigned First = isa<CXXOperatorCallExpr>(Call) &&
                             isa<CXXMethodDecl>(Callee) &&
                             !cast<CXXMethodDecl>(Callee).isStatic()
                         ? 1
                         : 0;
    if (Index >= Callee.getNumParams() || First + Index >= Call.getNumArgs())
      return std::nullopt;
    QualType T = Callee.getParamDecl(Index)->getType();
    if (!T->isReferenceType() && !T->isPointerType())
      return std::nullopt; // a copy of the caller's object
    std::optional<MutexKey> Arg = lockKeyOf(Call.getArg(First + Index));
    if (!Arg)
      return std::nullopt;
    return appendFields(std::move(*Arg), llvm::ArrayRef(Key.Path).drop_front());
  }
  if (const auto *Var = dyn_cast_or_null<VarDecl>(Root);
      Var && Var->hasGlobalStorage() && !Var->isStaticLocal())
    return Key;
  return std::nullopt;
}

/// Can a caller see the mutex \p Key names in \p Function's terms (not a
/// local of the function, nor a parameter passed by value)?
bool visibleToCaller(const MutexKey &Key, const FunctionDecl &Function) {
  const auto *Method = dyn_cast<CXXMethodDecl>(&Function);
  bool HasThis = Method && !Method->isStatic();
  if (Key.isThisObject() || isa_and_nonnull<FieldDecl>(Key.root()))
    return HasThis;
  if (const auto *Param = dyn_cast_or_null<ParmVarDecl>(Key.root()))
    return Param->getType()->isReferenceType() ||
           Param->getType()->isPointerType();
  const auto *Var = dyn_cast_or_null<VarDecl>(Key.root());
  return Var && Var->hasGlobalStorage() && !Var->isStaticLocal();
}

/// The keys of a thread-safety attribute's arguments; no argument on a
/// member function names the object itself (`void Lock() ACQUIRE();`).
template <typename AttrT>
llvm::SmallVector<MutexKey, 1> attributeKeys(const AttrT &A,
                                             const FunctionDecl &Function) {
  llvm::SmallVector<MutexKey, 1> Keys;
  if (A.args_size() == 0) {
    if (const auto *Method = dyn_cast<CXXMethodDecl>(&Function);
        Method && !Method->isStatic())
      Keys.push_back(MutexKey::thisObject());
    return Keys;
  }
  for (const Expr *Arg : A.args())
    if (std::optional<MutexKey> Key = lockKeyOf(Arg))
      Keys.push_back(std::move(*Key));
  return Keys;
}

/// The effects the thread-safety attributes of \p Function declare, if it
/// has any.
std::optional<FunctionLockEffects>
attributeEffects(const FunctionDecl &Function) {
  FunctionLockEffects Out;
  bool Any = false;
  for (const FunctionDecl *D : Function.redecls()) {
    for (const auto *A : D->specific_attrs<AcquireCapabilityAttr>()) {
      Any = true;
      for (MutexKey &Key : attributeKeys(*A, *D))
        Out.Acquires.push_back(
            {std::move(Key),
             A->isShared() ? LockMode::Shared : LockMode::Exclusive, nullptr,
             nullptr});
    }
    for (const auto *A : D->specific_attrs<ReleaseCapabilityAttr>()) {
      Any = true;
      for (MutexKey &Key : attributeKeys(*A, *D))
        Out.Releases.push_back(std::move(Key));
    }
  }
  if (!Any)
    return std::nullopt;
  Out.FromAttributes = true;
  return Out;
}

/// The effects of \p Function's body, with calls followed \p Depth levels.
FunctionLockEffects bodyEffects(const FunctionDecl &Function,
                                ASTContext &Context, const LockOptions &Options,
                                unsigned Depth) {
  FunctionLockEffects Out;
  // What holds at every return when the caller held nothing.
  std::unique_ptr<LockScopeAnalysis> Must = LockScopeBuilder::newAnalysis();
  LockScopeBuilder MustRun(Function, Context, Options, *Must, {}, Depth);
  if (!MustRun.run() || !MustRun.takesLocksByHand())
    return Out;
  // The locks it releases without holding them on any path of its own.
  std::unique_ptr<LockScopeAnalysis> May = LockScopeBuilder::newAnalysis();
  LockScopeBuilder MayRun(Function, Context, Options, *May, {}, Depth,
                          /*MayHold=*/true);
  if (!MayRun.run())
    return Out;
  llvm::ArrayRef<MutexKey> CallersLocks = MayRun.unheldReleases();
  if (const LockSet *Exit = MustRun.exitState())
    for (const HeldLock &L : *Exit)
      if (!L.Guard && visibleToCaller(L.Key, Function) &&
          !llvm::is_contained(CallersLocks, L.Key))
        Out.Acquires.push_back(
            {L.Key, L.Mode, nullptr, nullptr, L.Conditional});
  for (const MutexKey &Key : CallersLocks) {
    if (!visibleToCaller(Key, Function))
      continue;
    // Held on entry, gone at every return (not given back on any path).
    HeldLock Entry{Key, LockMode::Exclusive, nullptr, nullptr};
    std::unique_ptr<LockScopeAnalysis> Held = LockScopeBuilder::newAnalysis();
    LockScopeBuilder HeldRun(Function, Context, Options, *Held, Entry, Depth,
                             /*MayHold=*/true);
    if (!HeldRun.run())
      continue;
    if (const LockSet *Exit = HeldRun.exitState(); Exit && !Exit->holds(Key))
      Out.Releases.push_back(Key);
  }
  return Out;
}

/// The summaries of one unit: per options, function and depth.
struct EffectCache {
  std::map<std::string, std::map<std::pair<const FunctionDecl *, unsigned>,
                                 FunctionLockEffects>>
      ByOptions;
};

std::mutex EffectCachesMutex;
std::map<const ASTContext *, std::unique_ptr<EffectCache>> &effectCaches() {
  static std::map<const ASTContext *, std::unique_ptr<EffectCache>> Caches;
  return Caches;
}

/// The cache of \p Context's unit, dropped when the context is destroyed
/// (so a later unit's context at the same address starts afresh).
EffectCache &effectCacheOf(ASTContext &Context) {
  std::lock_guard<std::mutex> Lock(EffectCachesMutex);
  std::unique_ptr<EffectCache> &Cache = effectCaches()[&Context];
  if (!Cache) {
    Cache = std::make_unique<EffectCache>();
    Context.AddDeallocation(
        [](void *Key) {
          std::lock_guard<std::mutex> Lock(EffectCachesMutex);
          effectCaches().erase(static_cast<const ASTContext *>(Key));
        },
        &Context);
  }
  return *Cache;
}

} // namespace

static const FunctionLockEffects &effectsAtDepth(const FunctionDecl &Function,
                                                 ASTContext &Context,
                                                 const LockOptions &Options,
                                                 unsigned Depth) {
  static const FunctionLockEffects None;
  const FunctionDecl *Canonical = Function.getCanonicalDecl();
  const SourceManager &SM = Context.getSourceManager();
  if (Canonical->isInStdNamespace() ||
      SM.isInSystemHeader(SM.getExpansionLoc(Canonical->getLocation())))
    return None;
  auto &Summaries =
      effectCacheOf(Context).ByOptions[Options.formatMutexTypes() + "|" +
                                       Options.formatGuardTypes()];
  auto Key = std::make_pair(Canonical, Depth);
  if (auto It = Summaries.find(Key); It != Summaries.end())
    return It->second;
  // Reserve the entry first: a recursive call of the function sees no
  // effect (std::map keeps references valid while the summary is built).
  FunctionLockEffects &Slot = Summaries[Key];
  if (std::optional<FunctionLockEffects> Declared =
          attributeEffects(*Canonical)) {
    Slot = std::move(*Declared);
    return Slot;
  }
  const FunctionDecl *Definition = Canonical->getDefinition();
  if (!Definition) {
    // Defined in another unit: its effects, if the whole-program facts
    // know them.
    if (ExternalEffects)
      if (std::optional<FunctionLockEffects> Known =
              ExternalEffects(*Canonical))
        Slot = std::move(*Known);
    return Slot;
  }
  if (!Definition->hasBody() || Definition->isDependentContext())
    return Slot;
  FunctionLockEffects Computed =
      bodyEffects(*Definition, Context, Options, Depth);
  Slot = std::move(Computed);
  return Slot;
}

const FunctionLockEffects &functionLockEffects(const FunctionDecl &Function,
                                               ASTContext &Context,
                                               const LockOptions &Options) {
  return effectsAtDepth(Function, Context, Options, MaxLockEffectDepth - 1);
}

FunctionLockEffects
LockScopeBuilder::calleeEffects(const CallExpr *Call) const {
  const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
  if (!Callee || EffectDepth == 0 || Callee == &Function)
    return {};
  return effectsAtDepth(*Callee, Context, Options, EffectDepth - 1);
}

void LockScopeBuilder::applyCallEffects(const CallExpr *Call, LockSet &State,
                                        bool Record) {
  FunctionLockEffects Effects = calleeEffects(Call);
  if (Effects.empty())
    return;
  const FunctionDecl &Callee = *Call->getDirectCallee();
  for (const MutexKey &Key : Effects.Releases)
    if (std::optional<MutexKey> Here = keyAtCall(Key, *Call, Callee))
      releaseKey(*Here, State, Record);
  for (const HeldLock &Lock : Effects.Acquires)
    if (std::optional<MutexKey> Here = keyAtCall(Lock.Key, *Call, Callee))
      State.acquire(
          {std::move(*Here), Lock.Mode, Call, nullptr, Lock.Conditional});
}

std::vector<ParamLockRelease> paramLockReleases(const FunctionDecl &Function,
                                                ASTContext &Context,
                                                const LockOptions &Options) {
  std::vector<ParamLockRelease> Out;
  if (!Function.getBody() || Function.isDependentContext())
    return Out;
  // The mutexes the caller hands over: pointer or reference parameters.
  llvm::SmallVector<std::pair<unsigned, HeldLock>, 2> Handed;
  for (unsigned I = 0; I < Function.getNumParams(); ++I) {
    const ParmVarDecl *Param = Function.getParamDecl(I);
    QualType T = Param->getType();
    if (!(T->isPointerType() || T->isReferenceType()) ||
        !isMutexType(T->getPointeeType(), Options))
      continue;
    HeldLock Lock;
    Lock.Key.Path.push_back(Param);
    Handed.push_back({I, std::move(Lock)});
  }
  if (Handed.empty())
    return Out;
  llvm::SmallVector<HeldLock, 2> Entry;
  for (const auto &[Index, Lock] : Handed)
    Entry.push_back(Lock);
  std::unique_ptr<LockScopeAnalysis> Analysis =
      LockScopeAnalysis::analyze(Function, Context, Options, Entry);
  if (!Analysis || !Analysis->cfg())
    return Out;
  const CFG &Graph = *Analysis->cfg();
  for (const auto &[Index, Lock] : Handed) {
    // Where the function gives the lock up: an element that holds it before
    // and not after, other than the end of the function.
    const Stmt *ReleasedAt = nullptr;
    for (const CFGBlock *Block : Graph) {
      if (!Block || ReleasedAt)
        continue;
      for (unsigned E = 0; E < Block->size() && !ReleasedAt; ++E)
        if (Analysis->locksBefore(*Block, E).holds(Lock.Key) &&
            !Analysis->locksAfter(*Block, E).holds(Lock.Key))
          if (std::optional<CFGStmt> S = (*Block)[E].getAs<CFGStmt>())
            ReleasedAt = S->getStmt();
    }
    if (!ReleasedAt)
      continue;
    ParamLockRelease Release;
    Release.LockParam = Index;
    Release.ReleasedAt = ReleasedAt;
    // The other reference parameters read while it is released. A use in
    // an unevaluated operand or a cast to void reads nothing.
    for (unsigned I = 0; I < Function.getNumParams(); ++I) {
      const ParmVarDecl *Param = Function.getParamDecl(I);
      if (I == Index || !Param->getType()->isReferenceType() ||
          llvm::any_of(Handed, [&](const auto &H) { return H.first == I; }))
        continue;
      const DeclRefExpr *First = nullptr;
      for (const CFGBlock *Block : Graph) {
        if (!Block)
          continue;
        for (unsigned E = 0; E < Block->size(); ++E) {
          std::optional<CFGStmt> S = (*Block)[E].getAs<CFGStmt>();
          const auto *Ref = S ? dyn_cast<DeclRefExpr>(S->getStmt()) : nullptr;
          if (!Ref || Ref->getDecl() != Param ||
              Analysis->locksBefore(*Block, E).holds(Lock.Key))
            continue;
          if (!First || Context.getSourceManager().isBeforeInTranslationUnit(
                            Ref->getLocation(), First->getLocation()))
            First = Ref;
        }
      }
      if (First)
        Release.ReadsWhileReleased.push_back({I, First});
    }
    if (!Release.ReadsWhileReleased.empty())
      Out.push_back(std::move(Release));
  }
  return Out;
}

std::optional<MutexKey> LockScopeAnalysis::keyOf(const Expr *E) {
  return keyOfImpl(E, 0);
}

const LockSet &LockScopeAnalysis::locksHeldAt(const Stmt *S) const {
  if (!S || AtStmt.empty())
    return emptyLockSet();
  auto It = AtStmt.find(S);
  if (It != AtStmt.end())
    return It->second;
  // Statements that are not CFG elements themselves (compound statements,
  // `if`, ...): the state where their first evaluated part runs.
  if (isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return emptyLockSet();
  for (const Stmt *Child : S->children()) {
    if (!Child)
      continue;
    const LockSet &Found = locksHeldAt(Child);
    if (&Found != &emptyLockSet() || AtStmt.count(Child))
      return Found;
  }
  return emptyLockSet();
}

const LockSet &LockScopeAnalysis::locksBefore(const CFGBlock &Block,
                                              unsigned Index) const {
  if (Block.getBlockID() >= States.size())
    return emptyLockSet();
  const std::vector<LockSet> &S = States[Block.getBlockID()];
  return Index < S.size() ? S[Index] : emptyLockSet();
}

const LockSet &LockScopeAnalysis::locksAfter(const CFGBlock &Block,
                                             unsigned Index) const {
  return locksBefore(Block, Index + 1);
}

const LockSet &LockScopeAnalysis::locksAtExit(const CFGBlock &Block) const {
  if (Block.getBlockID() >= States.size() || States[Block.getBlockID()].empty())
    return emptyLockSet();
  return States[Block.getBlockID()].back();
}

const GuardInfo *LockScopeAnalysis::guardInfo(const VarDecl *Var) const {
  for (const GuardInfo &G : Guards)
    if (G.Var == Var)
      return &G;
  return nullptr;
}

ReleaseSite LockScopeAnalysis::releaseSiteOf(const CFGBlock &Block,
                                             unsigned Index,
                                             const MutexKey &Key) const {
  ReleaseSite Site;
  if (Index >= Block.size())
    return Site;
  const CFGElement &Element = Block[Index];
  if (std::optional<CFGAutomaticObjDtor> Dtor =
          Element.getAs<CFGAutomaticObjDtor>()) {
    Site.At = Dtor->getTriggerStmt();
    Site.Loc = triggerLocation(Site.At);
    Site.Guard = Dtor->getVarDecl();
    Site.OnReturn = Site.At && isa<ReturnStmt>(Site.At);
  } else if (std::optional<CFGStmt> S = Element.getAs<CFGStmt>()) {
    Site.At = S->getStmt();
    Site.Loc = Site.At->getBeginLoc();
    if (const HeldLock *L = locksBefore(Block, Index).find(Key))
      if (const auto *Call = dyn_cast<CXXMemberCallExpr>(Site.At);
          Call && L->Guard &&
          namedVar(Call->getImplicitObjectArgument()) == L->Guard)
        Site.Guard = nullptr; // an explicit guard.unlock()
  }
  return Site;
}

std::optional<ReleaseSite>
LockScopeAnalysis::findRelease(const Stmt *From, const MutexKey &Key) const {
  if (!Graph)
    return std::nullopt;
  auto It = ElementOf.find(From);
  if (It == ElementOf.end())
    return std::nullopt;
  unsigned StartBlock = It->second.first;
  const CFGBlock *Start = nullptr;
  for (const CFGBlock *B : *Graph)
    if (B && B->getBlockID() == StartBlock)
      Start = B;
  if (!Start)
    return std::nullopt;
  std::vector<bool> Seen(Graph->getNumBlockIDs(), false);
  std::deque<std::pair<const CFGBlock *, unsigned>> Queue;
  Queue.emplace_back(Start, It->second.second);
  while (!Queue.empty()) {
    auto [Block, First] = Queue.front();
    Queue.pop_front();
    bool Dropped = false;
    for (unsigned I = First; I < Block->size(); ++I) {
      if (!locksBefore(*Block, I).holds(Key)) {
        Dropped = true; // not held on this path any more (merged away)
        break;
      }
      if (!locksAfter(*Block, I).holds(Key))
        return releaseSiteOf(*Block, I, Key);
    }
    if (Dropped || !locksAtExit(*Block).holds(Key))
      continue;
    for (const CFGBlock::AdjacentBlock &Succ : Block->succs()) {
      const CFGBlock *Next = Succ.getReachableBlock();
      if (!Next || Seen[Next->getBlockID()])
        continue;
      Seen[Next->getBlockID()] = true;
      Queue.emplace_back(Next, 0);
    }
  }
  return std::nullopt;
}

} // namespace clang::tidy::concguard::utils

// --- functions whose callers hold the lock ----------------------------------

namespace clang::tidy::concguard::utils {

namespace {

/// The comment lines just above \p Loc's line (up to a blank or code line)
/// and the comment after \p End on its own line, lower-cased.
std::string commentsAround(SourceLocation Loc, SourceLocation End,
                           const SourceManager &SM) {
  Loc = SM.getExpansionLoc(Loc);
  End = SM.getExpansionLoc(End);
  if (Loc.isInvalid() || SM.isInSystemHeader(Loc))
    return {};
  auto [File, Offset] = SM.getDecomposedLoc(Loc);
  bool Invalid = false;
  llvm::StringRef Buffer = SM.getBufferData(File, &Invalid);
  if (Invalid || Offset > Buffer.size())
    return {};
  std::string Text;
  // Walk back line by line from the line that holds the declaration
  // (StringRef::rfind(C, From) looks at the characters before From).
  size_t LineStart = Buffer.rfind('\n', Offset);
  LineStart = LineStart == llvm::StringRef::npos ? 0 : LineStart + 1;
  for (unsigned Lines = 0; LineStart > 0 && Lines < 24; ++Lines) {
    size_t PrevEnd = LineStart - 1; // the '\n' ending the previous line
    size_t PrevStart = Buffer.rfind('\n', PrevEnd);
    PrevStart = PrevStart == llvm::StringRef::npos ? 0 : PrevStart + 1;
    llvm::StringRef Line = Buffer.slice(PrevStart, PrevEnd).trim();
    bool IsComment = Line.starts_with("//") || Line.starts_with("/*") ||
                     Line.starts_with("*") || Line.ends_with("*/");
    if (!IsComment)
      break;
    Text = (Line + "\n" + Text).str();
    LineStart = PrevStart;
  }
  if (End.isValid() && SM.getFileID(End) == File) {
    unsigned EndOffset = SM.getFileOffset(End);
    size_t LineEnd = Buffer.find('\n', EndOffset);
    llvm::StringRef Rest = Buffer.slice(EndOffset, LineEnd);
    size_t Comment = Rest.find("//");
    if (Comment != llvm::StringRef::npos)
      Text += Rest.substr(Comment).str();
  }
  return llvm::StringRef(Text).lower();
}

/// Does a (lower-cased) comment say the caller holds the lock or
/// synchronises?
bool commentRequiresLock(llvm::StringRef Comment) {
  llvm::SmallVector<llvm::StringRef, 8> Lines;
  Comment.split(Lines, '\n');
  for (llvm::StringRef Line : Lines) {
    // "REQUIRES: mutex_ not held": the function locks by itself.
    if (Line.contains("not held") || Line.contains("not be held") ||
        Line.contains("not locked") || Line.contains("must not hold"))
      continue;
    for (llvm::StringRef Phrase :
         {"requires:",       "must be held",       "must hold",
          "must be locked",  "must lock",          "must own",
          "lock held",       "lock is held",       "locks held",
          "mutex held",      "mutex is held",      "mu held",
          "mu_ held",        "mutex_ held",        "with the lock",
          "under the lock",  "while holding",      "held by the caller",
          "caller holds",    "caller must",        "caller should lock",
          "not thread-safe", "not thread safe",    "thread-unsafe",
          "thread unsafe",   "external synchroni", "externally synchroni",
          "no locking",      "no lock needed",     "no lock is needed",
          "without locking", "single-threaded",    "single threaded"})
      if (Line.contains(Phrase))
        return true;
  }
  return false;
}

/// Does the name say its caller locks: `FlushLocked`, `get_unlocked`,
/// `unsafeGet`, `pop_nolock`?
bool nameRequiresLock(llvm::StringRef Name) {
  std::string Folded = utils::normalizedName(Name);
  llvm::StringRef F(Folded);
  return F.ends_with("locked") || F.ends_with("nolock") ||
         F.ends_with("withoutlock") || F.ends_with("lockheld") ||
         F.ends_with("unsafe") || F.starts_with("unsafe") ||
         F.starts_with("unlocked") || F.starts_with("nolock");
}

/// If \p Call asserts that a lock is held (`mutex_.AssertHeld()`, abseil's
/// `AssertReaderHeld()`, a function with an assert_capability or
/// assert_shared_capability attribute): in which mode.
std::optional<LockMode> assertedLockMode(const CallExpr &Call) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee)
    return std::nullopt;
  if (const auto *Assert = Callee->getAttr<AssertCapabilityAttr>())
    return Assert->isShared() ? LockMode::Shared : LockMode::Exclusive;
  std::string Name = normalizedName(Callee);
  if (llvm::is_contained({"assertreaderheld", "assertsharedheld"},
                         llvm::StringRef(Name)))
    return LockMode::Shared;
  if (llvm::is_contained({"assertheld", "assertlockheld", "assertexclusiveheld",
                          "assertwriterheld", "assertacquired", "assertlocked",
                          "assertownslock"},
                         llvm::StringRef(Name)))
    return LockMode::Exclusive;
  return std::nullopt;
}

/// Does \p Body assert, at its top level, that a lock is held? Such a
/// function is documented in code to run under its caller's lock.
bool assertsHeldLock(const Stmt *Body) {
  const auto *Block = dyn_cast_or_null<CompoundStmt>(Body);
  if (!Block)
    return false;
  for (const Stmt *S : Block->body())
    if (const auto *Call = dyn_cast<CallExpr>(S);
        Call && assertedLockMode(*Call))
      return true;
  return false;
}

} // namespace

std::string normalizedName(llvm::StringRef Name) {
  std::string Out;
  for (char C : Name)
    if (C != '_')
      Out.push_back(llvm::toLower(C));
  return Out;
}

llvm::SmallVector<HeldLock, 2> locksHeldOnEntry(const FunctionDecl &F) {
  llvm::SmallVector<HeldLock, 2> Held;
  auto Add = [&](const Expr *Mutex, LockMode Mode, const Stmt *At) {
    std::optional<MutexKey> Key = LockScopeAnalysis::keyOf(Mutex);
    if (!Key || llvm::any_of(Held, [&](const HeldLock &Lock) {
          return Lock.Key == *Key;
        }))
      return;
    HeldLock Lock;
    Lock.Key = std::move(*Key);
    Lock.Mode = Mode;
    Lock.AcquiredAt = At;
    Held.push_back(std::move(Lock));
  };
  for (const FunctionDecl *D : F.redecls())
    for (const auto *Requires : D->specific_attrs<RequiresCapabilityAttr>())
      for (const Expr *Arg : Requires->args()) {
        // REQUIRES(!Mu): the caller must *not* hold it.
        if (const auto *Not = dyn_cast<UnaryOperator>(Arg->IgnoreParens());
            Not && Not->getOpcode() == UO_LNot)
          continue;
        Add(Arg, Requires->isShared() ? LockMode::Shared : LockMode::Exclusive,
            Arg);
      }
  const FunctionDecl *Definition = F.getDefinition();
  const auto *Block = dyn_cast_or_null<CompoundStmt>(
      Definition ? Definition->getBody() : nullptr);
  if (!Block)
    return Held;
  for (const Stmt *S : Block->body())
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(S))
      if (std::optional<LockMode> Mode = assertedLockMode(*Call))
        Add(Call->getImplicitObjectArgument(), *Mode, Call);
  return Held;
}

bool requiresHeldLock(const FunctionDecl &F) {
  for (const FunctionDecl *D : F.redecls())
    if (D->hasAttr<RequiresCapabilityAttr>())
      return true;
  if (const IdentifierInfo *Name = F.getIdentifier();
      Name && nameRequiresLock(Name->getName()))
    return true;
  if (const FunctionDecl *Definition = F.getDefinition();
      Definition && assertsHeldLock(Definition->getBody()))
    return true;
  const SourceManager &SM = F.getASTContext().getSourceManager();
  for (const FunctionDecl *D : F.redecls()) {
    SourceLocation Begin = D->getBeginLoc();
    if (const FunctionTemplateDecl *Template =
            D->getDescribedFunctionTemplate())
      Begin = Template->getBeginLoc();
    // The end of the declarator (a definition's body may span many lines:
    // its first line is where a trailing comment would sit).
    SourceLocation End =
        D->doesThisDeclarationHaveABody() ? SourceLocation() : D->getEndLoc();
    if (commentRequiresLock(commentsAround(Begin, End, SM)))
      return true;
    // A comment that opens the body (`{ // No locking needed`, or on the
    // lines before its first statement) says the same.
    if (const auto *Body = dyn_cast_or_null<CompoundStmt>(
            D->doesThisDeclarationHaveABody() ? D->getBody() : nullptr);
        Body && !Body->body_empty() &&
        commentRequiresLock(commentsAround(Body->body_front()->getBeginLoc(),
                                           Body->getLBracLoc(), SM)))
      return true;
  }
  return false;
}

} // namespace clang::tidy::concguard::utils
