//===--- LockScopes.h - which locks are held at each statement ------------===//
//
// The shared lock-scope analysis: for every statement of one function, the
// set of mutexes that are definitely held there (a must-analysis on the CFG:
// a lock is held after a join only if it is held on every incoming path) and
// in which mode.
//
// Recognised acquisitions and releases:
//  - std::lock_guard, std::scoped_lock (several mutexes, adopt_lock),
//    std::unique_lock and std::shared_lock (defer_lock, try_to_lock,
//    adopt_lock, timed constructors, and their lock() / unlock() /
//    try_lock*() / release() / owns_lock() / operator bool), released by the
//    CFG's automatic destructors, so early returns and branches are right;
//  - `m.lock()`, `m.unlock()`, `m.lock_shared()`, `m.unlock_shared()`,
//    `m.try_lock*()` on the std mutex types and on the `MutexTypes` option's
//    types (a try-lock counts only on the branch where it succeeded);
//  - std::lock(m1, m2, ...);
//  - the guard classes named in the `LockGuardTypes` option (first argument
//    of the constructor, by reference or pointer, is the mutex);
//  - the project's own mutexes and guards by their shape, unconfigured: a
//    class outside std with argument-less lock and unlock methods is a
//    mutex; one whose constructor takes such a class by reference or
//    pointer and whose destructor unlocks (itself or through the guard's
//    own member functions) is a guard (a reader guard when
//    the constructor locks it shared); one with a std guard member that a
//    constructor locks from its first argument is a guard too (a reader
//    guard over a std::shared_lock member).
//
//  - monitors: a class that derives from a mutex (std, configured or by
//    shape) or from a monitor base (a class with lock()/unlock() by shape)
//    and locks `*this` (`Lock sync(*this);`, `std::lock_guard<Base>
//    g(*this);`, `this->lock();`, `lock();`) holds a lock whose key is the
//    object itself (MutexKey::thisObject()), and that lock guards its
//    members;
//  - calls of functions that acquire and keep a lock, or release a lock
//    their caller holds (`void lockQueue() { mu_.lock(); }`), from their
//    bodies in the unit or from the Clang thread-safety attributes ACQUIRE /
//    RELEASE (EXCLUSIVE_LOCK_FUNCTION, UNLOCK_FUNCTION, ...) when present:
//    see functionLockEffects().
//
// A mutex is identified by a MutexKey: the declaration chain that names it
// (a member through `this`, a global or static, a parameter or local, plus
// the fields that lead from it to the mutex), or the object `this` points to.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_LOCKSCOPES_H
#define CONCGUARD_CHECKS_UTILS_LOCKSCOPES_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

enum class LockMode { Exclusive, Shared };

/// The identity of a mutex object. Path[0] is the root declaration: a
/// FieldDecl for a member reached through `this`, otherwise a VarDecl
/// (global, static, local) or ParmVarDecl; the following entries are the
/// fields selected from it (`p->inner.mu` is {p, inner, mu}). Pointers and
/// references are looked through, so `p->mu` and `(*p).mu` are one key.
struct MutexKey {
  llvm::SmallVector<const ValueDecl *, 2> Path;
  /// With an empty Path: the key names the object `this` points to (a
  /// monitor locked through `*this`). Appending fields to such a key gives
  /// the key of a member, as if it had been rooted at the field.
  bool ThisObject = false;

  /// The key of the object `this` points to.
  static MutexKey thisObject() {
    MutexKey Key;
    Key.ThisObject = true;
    return Key;
  }

  const ValueDecl *root() const { return Path.empty() ? nullptr : Path[0]; }
  /// True when the key names `*this` itself (a monitor's own lock).
  bool isThisObject() const { return Path.empty() && ThisObject; }
  /// True when the mutex belongs to `*this`: a member of it (Path[0] is a
  /// FieldDecl) or the object itself (a monitor). Either guards the
  /// object's members.
  bool isThisMember() const;
  /// The mutex as the source would name it: `mu_`, `Registry::mu`, `p.mu`,
  /// `*this`.
  std::string name() const;

  friend bool operator==(const MutexKey &A, const MutexKey &B) {
    return A.Path == B.Path &&
           (!A.Path.empty() || A.ThisObject == B.ThisObject);
  }
  friend bool operator!=(const MutexKey &A, const MutexKey &B) {
    return !(A == B);
  }
};

/// One lock held at a program point.
struct HeldLock {
  MutexKey Key;
  LockMode Mode = LockMode::Exclusive;
  /// The statement that took the lock: the guard's DeclStmt, the `lock()`
  /// call, the try-lock call whose success branch this is, ...
  const Stmt *AcquiredAt = nullptr;
  /// The guard variable that releases it, or null for a lock taken by hand
  /// (`m.lock()`, std::lock, a guard's release(), a guard moved away).
  const VarDecl *Guard = nullptr;
  /// Taken only when a run-time condition chose the mutex over null
  /// (`OptionalLock L(ThreadSafe ? &Mu : nullptr)`, zeromq's
  /// scoped_optional_lock_t): it protects the accesses under it, since it is
  /// held whenever the object is meant to be shared, but it does not show
  /// that the object is shared (see isSharingEvidence()).
  bool Conditional = false;
};

/// The locks definitely held at a program point (small; order of
/// acquisition).
class LockSet {
public:
  bool empty() const { return Locks.empty(); }
  size_t size() const { return Locks.size(); }
  auto begin() const { return Locks.begin(); }
  auto end() const { return Locks.end(); }
  /// The entry for \p Key, or null when it is not held.
  const HeldLock *find(const MutexKey &Key) const;
  bool holds(const MutexKey &Key) const { return find(Key) != nullptr; }
  /// Held in exclusive mode?
  bool holdsExclusive(const MutexKey &Key) const;

  // Mutators used by the analysis.
  void acquire(HeldLock Lock);
  void release(const MutexKey &Key);
  /// Adds the locks of \p Other not held here (the join of the may-hold
  /// variant the lock-effect summaries run).
  void unionWith(const LockSet &Other);
  /// Releases every lock that \p Guard owns; returns whether it owned one.
  bool releaseGuard(const VarDecl *Guard);
  /// Makes the locks of \p Guard manual (guard.release(), moved away).
  void detachGuard(const VarDecl *Guard);
  /// Moves the locks of \p From to \p To.
  void transferGuard(const VarDecl *From, const VarDecl *To);
  /// Keeps only the locks held in both; a lock held exclusively on one side
  /// and shared on the other is held shared; a lock owned by different
  /// guards is dropped (no single destructor releases it).
  void intersectWith(const LockSet &Other);

  friend bool operator==(const LockSet &A, const LockSet &B);
  friend bool operator!=(const LockSet &A, const LockSet &B) {
    return !(A == B);
  }

private:
  llvm::SmallVector<HeldLock, 2> Locks;
};

/// A project-specific RAII guard class (e.g. `MutexLock`).
struct GuardType {
  std::string Name;
  LockMode Mode = LockMode::Exclusive;
};

/// Which types the analysis recognises besides the std ones.
struct LockOptions {
  /// Extra mutex classes: their lock()/unlock()/lock_shared()/... calls are
  /// followed. Qualified (`::base::Lock`, `base::Lock`) or plain names.
  std::vector<std::string> MutexTypes;
  /// Extra RAII guard classes; the first constructor argument that refers to
  /// an object (by reference or pointer) is the mutex.
  std::vector<GuardType> GuardTypes;

  /// Parses the options' syntax: names separated by ';' or ','; a guard may
  /// end in `:shared` (`ReaderMutexLock:shared`).
  static LockOptions parse(llvm::StringRef MutexTypes,
                           llvm::StringRef LockGuardTypes);
  std::string formatMutexTypes() const;
  std::string formatGuardTypes() const;
};

/// Where a lock is given up: the statement and a location for a note.
struct ReleaseSite {
  /// The unlock call, or the statement that ends the guard's life (the
  /// enclosing compound statement, a return, break, ...).
  const Stmt *At = nullptr;
  SourceLocation Loc;
  /// The guard whose destructor releases it; null for an explicit unlock.
  const VarDecl *Guard = nullptr;
  /// True when the release is a guard destructor run by a `return`.
  bool OnReturn = false;
};

/// A guard variable of the function and what it guards.
struct GuardInfo {
  const VarDecl *Var = nullptr;
  llvm::SmallVector<MutexKey, 1> Keys;
  LockMode Mode = LockMode::Exclusive;
  /// Given its mutex as `Cond ? &Mu : nullptr` (HeldLock::Conditional).
  bool Conditional = false;
  /// Statements where the guard takes its locks (declaration, lock(), the
  /// success branch of try_lock()).
  llvm::SmallVector<const Stmt *, 2> Acquisitions;
  /// Where it gives them up (unlock(), destructor).
  llvm::SmallVector<ReleaseSite, 2> Releases;
};

class LockScopeAnalysis {
public:
  /// Analyses \p Function. Returns null when it has no body or the CFG
  /// cannot be built. A function that takes no lock at all is answered
  /// without building a CFG (holdsAnyLock() is false).
  /// \p HeldOnEntry are locks the caller holds when the function starts
  /// (the function may release and retake them).
  static std::unique_ptr<LockScopeAnalysis>
  analyze(const FunctionDecl &Function, ASTContext &Context,
          const LockOptions &Options,
          llvm::ArrayRef<HeldLock> HeldOnEntry = {});

  /// The locks definitely held when \p S is evaluated (before it). Empty for
  /// statements outside the function, in unreachable code, or in a nested
  /// lambda (its body is a function of its own).
  const LockSet &locksHeldAt(const Stmt *S) const;

  /// Does the function take any lock at all?
  bool holdsAnyLock() const { return Graph != nullptr; }

  /// The CFG the analysis ran on (null when holdsAnyLock() is false), and the
  /// state before and after each of its elements, for clients that run their
  /// own dataflow alongside.
  const CFG *cfg() const { return Graph.get(); }
  const LockSet &locksBefore(const CFGBlock &Block, unsigned Index) const;
  const LockSet &locksAfter(const CFGBlock &Block, unsigned Index) const;
  /// The locks held at the end of \p Block (before its terminator branches).
  const LockSet &locksAtExit(const CFGBlock &Block) const;

  /// The first place, following the CFG from the element that evaluates
  /// \p From, where the lock on \p Key is released. Nothing when it stays
  /// held until the function returns.
  std::optional<ReleaseSite> findRelease(const Stmt *From,
                                         const MutexKey &Key) const;

  /// The release performed by element \p Index of \p Block, for a lock held
  /// before it and not after it.
  ReleaseSite releaseSiteOf(const CFGBlock &Block, unsigned Index,
                            const MutexKey &Key) const;

  llvm::ArrayRef<GuardInfo> guards() const { return Guards; }
  const GuardInfo *guardInfo(const VarDecl *Var) const;

  /// The key of the mutex that \p E names, if it names one we can identify.
  static std::optional<MutexKey> keyOf(const Expr *E);

private:
  friend class LockScopeBuilder;
  LockScopeAnalysis() = default;

  std::unique_ptr<CFG> Graph;
  /// Per block: the state before each element, then the exit state.
  std::vector<std::vector<LockSet>> States;
  llvm::DenseMap<const Stmt *, LockSet> AtStmt;
  llvm::DenseMap<const Stmt *, std::pair<unsigned, unsigned>> ElementOf;
  std::vector<GuardInfo> Guards;
};

/// Is \p T (cv, references, typedefs ignored) a std mutex type or one of
/// \p Options' MutexTypes?
bool isMutexType(QualType T, const LockOptions &Options);
/// The same for a class: a std mutex, one of the MutexTypes, or a mutex by
/// its shape.
bool isMutexRecord(const CXXRecordDecl *RD, const LockOptions &Options);
/// Is \p T a std lock guard type (lock_guard, scoped_lock, unique_lock,
/// shared_lock) or one of \p Options' GuardTypes?
bool isLockGuardType(QualType T, const LockOptions &Options);
/// Is \p T a lock holder: a class whose objects hold a lock for as long as
/// they live and hand out the data it guards through operator* or
/// operator-> (PowerDNS's LockGuardedHolder, a `Locked<T>` pointer)? Found by
/// its shape: a class outside std, not a guard itself, with a data member
/// that is a lock guard (std, configured or by shape) and an operator* or
/// operator-> that returns a reference or pointer.
bool isLockHolderType(QualType T, const LockOptions &Options);

/// \p Name with case and underscores removed, so that `lock_shared`,
/// `LockShared` and `ReaderLock`-style names (and `FlushLocked`,
/// `flush_locked`) compare alike.
std::string normalizedName(llvm::StringRef Name);

/// A mutex that a function's caller hands over by pointer or reference
/// (`void notify(const Status &S, Mutex *Mu)`) and that the function releases
/// for a while (`Mu->Unlock(); ... Mu->Lock();`), with the reference
/// parameters it reads while the mutex is released. A caller that holds the
/// mutex and binds lock-guarded data to such a parameter hands that data
/// past its own lock (the whole-program phase compares the two).
struct ParamLockRelease {
  unsigned LockParam = 0;
  /// The first statement that releases it (the unlock call).
  const Stmt *ReleasedAt = nullptr;
  /// (parameter index, its first read while the mutex is released).
  llvm::SmallVector<std::pair<unsigned, const DeclRefExpr *>, 2>
      ReadsWhileReleased;
};

/// The mutex parameters \p Function releases, analysed with each of them
/// held on entry; only those with a reference parameter read while released.
std::vector<ParamLockRelease> paramLockReleases(const FunctionDecl &Function,
                                                ASTContext &Context,
                                                const LockOptions &Options);

/// What calling a function does to its caller's locks: the locks it
/// acquires and keeps on every path to its return, and the locks held on
/// entry that it releases on every path. Keys are in the function's own
/// terms (its members, the object `this` points to, its parameters by
/// declaration, globals); the analysis maps them to the caller's at each
/// call (the call's object and arguments).
struct FunctionLockEffects {
  /// Acquired and kept (Guard and AcquiredAt are null).
  llvm::SmallVector<HeldLock, 1> Acquires;
  /// Released, for a lock the caller holds.
  llvm::SmallVector<MutexKey, 1> Releases;
  /// True when the effects come from thread-safety attributes (ACQUIRE,
  /// RELEASE, EXCLUSIVE_LOCK_FUNCTION, UNLOCK_FUNCTION, ...) rather than
  /// from the body.
  bool FromAttributes = false;

  bool empty() const { return Acquires.empty() && Releases.empty(); }
};

/// The lock effects of \p Function (computed once per function and unit,
/// then reused by every analysis of a caller). From its thread-safety
/// attributes when it has any, otherwise from its body in the unit: a lock
/// taken by hand (`mu_.lock()`, a guard's release(), a callee's effect) and
/// still held at every return is acquired; a lock the body releases without
/// having taken it, gone at every return, is released. A function that
/// locks and unlocks on every path has no effect, and neither does one that
/// releases and re-takes its caller's lock. Calls are followed through
/// callees' own effects, up to MaxLockEffectDepth nested calls; functions
/// in namespace std or system headers have none; a function the unit only
/// declares has the effects the installed ExternalLockEffectsSource knows.
const FunctionLockEffects &functionLockEffects(const FunctionDecl &Function,
                                               ASTContext &Context,
                                               const LockOptions &Options);
/// How many nested calls the effects of a call follow.
constexpr unsigned MaxLockEffectDepth = 4;

/// The lock effects of a function that the unit only declares (its body is
/// in another unit), in its own terms, or nothing when they are unknown.
using ExternalLockEffectsSource =
    std::optional<FunctionLockEffects> (*)(const FunctionDecl &Declared);

/// Installs, for the calling thread, where functionLockEffects() finds the
/// effects of functions the unit only declares (ProjectIndex.h: the project
/// index, or concguard-audit's facts of the other units); null: nowhere.
void setExternalLockEffects(ExternalLockEffectsSource Source);

/// Does \p F expect its caller to hold a lock (or to synchronise for it)?
/// Taken as a fact from what the project already says, never demanded:
///  - a Clang thread-safety attribute on any declaration: REQUIRES,
///    REQUIRES_SHARED, EXCLUSIVE_LOCKS_REQUIRED, SHARED_LOCKS_REQUIRED;
///  - the comment just above a declaration, or after it on its last line,
///    in the words projects use (`REQUIRES:`, "must be held", "lock held",
///    "caller must lock", "not thread-safe", ...);
///  - a name that says so (`FlushLocked`, `get_unlocked`, `unsafeGet`,
///    `pop_nolock`);
///  - a body that asserts it first thing (`mutex_.AssertHeld()`, a function
///    with an assert_capability attribute).
bool requiresHeldLock(const FunctionDecl &F);

/// The locks \p F's callers hold when it starts, named where the project
/// says which: the capabilities of its REQUIRES / REQUIRES_SHARED /
/// EXCLUSIVE_LOCKS_REQUIRED / SHARED_LOCKS_REQUIRED attributes (negative
/// ones, `REQUIRES(!Mu)`, aside), and the objects of the assertions its body
/// makes first thing (`Mu.AssertHeld()`, `Mu->AssertHeld()`, a method with
/// an assert_capability attribute). The AcquiredAt of each is the
/// attribute's argument or the assertion.
llvm::SmallVector<HeldLock, 2> locksHeldOnEntry(const FunctionDecl &F);

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_LOCKSCOPES_H
