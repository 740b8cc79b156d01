//===--- SharedContainers.h - containers shared between threads -----------===//
//
// The analysis behind concguard-unsynchronized-container, exported for the
// rewriter and the audit: which containers are accessed by code that may run
// at the same time on different threads, how (read, element write,
// structural write), under which locks, and which pairs of accesses race.
//
// Contexts (who runs an access):
//  - Thread(S): the body of the callable started by spawn site S, and the
//    functions it calls whose bodies are in the translation unit (up to
//    MaxCallDepth calls deep);
//  - Region(S): the statements of the spawning function that the CFG can
//    reach from S without passing a join of S's handle (t.join(), a joining
//    loop over a pool, future.get()/wait(), pthread_join, the end of a
//    std::jthread's or std::future's scope), and the functions they call;
//  - Methods(C): every member function of class C except constructors and
//    the destructor, when a thread runs on an object of C (`&C::run, this`
//    or a lambda capturing `this`);
//  - Elsewhere: every other function of the main file, for a thread that is
//    not joined in the function that starts it (it may outlive it).
// A task submitted to an inferred thread pool (SpawnKind::PoolTask) is a
// Thread(S) whose Region(S) ends at the pool's wait or shutdown, the
// returned future's get()/wait() or the pool's destruction; it is taken to
// run at most until the end of its submitting function: it has no
// Methods(C) and no Elsewhere context, and two tasks of a pool with a single
// worker thread do not run at the same time.
// A handler posted to boost::asio is such a task of the threads that run its
// context (AsioThreads in SharedContainers.cpp): it has no context at all
// unless a spawned thread of the unit (or a thread_pool's own) runs that
// context; its Region(S) is cut to the statements that run while those
// threads do when they all start in the posting function; two handlers of
// one context do not run at the same time when one thread runs it or when
// they share a named strand; handlers posted by different functions to a
// member or global context that several threads run do.
// Concurrency: Thread(S) runs at the same time as Region(S), as Methods(C)
// when it runs on `this`, as itself when S can start several threads (a
// spawn in a loop), as Thread(S') when S' starts inside Region(S), and, for
// globals, as Elsewhere when it escapes its spawning function.
//
// Objects are identified by the declaration chain that names them (see
// MutexKey in LockScopes.h: `m`, `this->Sessions`, `Store.Sessions`),
// followed through references and pointers initialized from an object,
// `std::ref` arguments, pointer arguments, and member calls on other
// objects. A local of the spawning function is shared only when a thread
// sees it by reference (a capture by copy is the thread's own copy).
//
// A race: an access that writes in one context and any access in a
// concurrent context to the same container, unless one mutex is held at
// both, exclusively by each access that writes (a write under a shared lock
// is not guarded). By default a race needs a structural write (a write that
// changes size or layout); element writes (`v[i] = x`) race only with
// StrictElementAccess, because threads writing their own slots of a vector
// whose size nothing changes is a common, correct pattern.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_SHAREDCONTAINERS_H
#define CONCGUARD_CHECKS_UTILS_SHAREDCONTAINERS_H

#include "ContainerModel.h"
#include "LockScopes.h"
#include "ProgramFacts.h"
#include "ThreadSpawns.h"

#include "clang/AST/ASTContext.h"
#include "llvm/ADT/SmallVector.h"

#include <memory>
#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

/// Object identity: the declaration chain that names an object (the same
/// representation the lock-scope analysis uses for mutexes).
using ObjectKey = MutexKey;

struct SharedContainerOptions {
  std::vector<SpawnFunction> SpawnFunctions;
  std::vector<UserContainer> ContainerTypes;
  LockOptions Locks;
  bool StrictElementAccess = false;
  unsigned MaxCallDepth = 3;
};

enum class ContextKind { Thread, Region, Methods, Elsewhere };

/// One context: who runs the accesses attributed to it.
struct AccessContext {
  ContextKind Kind = ContextKind::Thread;
  /// The spawn site (Thread, Region, Elsewhere) or the spawn that makes the
  /// class's methods concurrent (Methods).
  const SpawnSite *Spawn = nullptr;
  /// For Methods: the class.
  const CXXRecordDecl *Class = nullptr;
};

struct HeldMutex {
  ObjectKey Key;
  LockMode Mode = LockMode::Exclusive;
  /// HeldLock::Conditional.
  bool Conditional = false;
};

struct ContainerAccess {
  /// The expression that names the container (DeclRefExpr or MemberExpr).
  const Expr *Object = nullptr;
  /// The enclosing operation (the member call, operator call, or Object).
  const Expr *Operation = nullptr;
  AccessKind Kind = AccessKind::Read;
  /// The function whose body holds the access.
  const FunctionDecl *Function = nullptr;
  /// Index into SharedContainerResult::Contexts.
  unsigned Context = 0;
  /// Locks held at the access, including those held at the calls that led
  /// to it.
  llvm::SmallVector<HeldMutex, 2> Locks;
  /// The call chain from the context's root (empty when the access is in the
  /// root function itself).
  llvm::SmallVector<const CallExpr *, 2> CallPath;
};

struct ContainerRace {
  /// The access that writes (in the first context).
  const ContainerAccess *Write = nullptr;
  /// The conflicting access (in the other context).
  const ContainerAccess *Other = nullptr;
};

struct SharedContainer {
  ObjectKey Key;
  /// The declaration of the container itself (the last element of Key).
  const ValueDecl *Decl = nullptr;
  ContainerFamily Family = ContainerFamily::Vector;
  /// Every access seen in a thread-related context.
  std::vector<const ContainerAccess *> Accesses;
  /// One race per pair of concurrent contexts, the first found in source
  /// order.
  std::vector<ContainerRace> Races;
};

struct SharedContainerResult {
  std::vector<std::unique_ptr<SpawnSite>> Spawns;
  std::vector<AccessContext> Contexts;
  std::vector<std::unique_ptr<ContainerAccess>> AllAccesses;
  /// Containers with at least one race, in the order of their first race.
  std::vector<SharedContainer> Racy;
};

/// Runs the analysis over the whole translation unit of \p Context.
SharedContainerResult
analyzeSharedContainers(ASTContext &Context,
                        const SharedContainerOptions &Options);

/// The same, from the thread-starting expressions (spawnExpressionMatcher's
/// "spawn" nodes) a caller already found, e.g. in the MatchFinder traversal
/// clang-tidy shares between checks: no traversal of its own.
SharedContainerResult
analyzeSharedContainers(ASTContext &Context,
                        const SharedContainerOptions &Options,
                        llvm::ArrayRef<const Expr *> SpawnExpressions);

/// The facts of every function defined in the unit's project code, for the
/// whole-program phase (ProgramFacts.h, WholeProgram.h), extracted with this
/// analysis's models. \p SpawnExpressions: as for analyzeSharedContainers.
UnitFacts extractUnitFacts(ASTContext &Context,
                           const SharedContainerOptions &Options,
                           llvm::ArrayRef<const Expr *> SpawnExpressions);

/// Is \p D excluded from the analysis: atomics, thread_local, annotated with
/// GUARDED_BY / PT_GUARDED_BY?
bool isExcludedFromSharing(const ValueDecl &D);

/// Describes a context for a note ("on the thread started at ...").
std::string describeAccessKind(AccessKind Kind);

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_SHAREDCONTAINERS_H
