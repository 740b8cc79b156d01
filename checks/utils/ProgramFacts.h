//===--- ProgramFacts.h - per-unit summaries for the whole-program view ---===//
//
// What one translation unit tells the rest of the program (RacerD-style
// procedure summaries): for every function defined in the unit's project
// code, keyed by its USR,
//  - the container accesses it makes, with their kind (read, element write,
//    structural write) and the locks held there, on objects named by access
//    paths rooted at `this`, a parameter, a global or a local;
//  - the calls it makes to project functions, with the locks held at the
//    call and the objects bound to `this` and to reference/pointer
//    parameters;
//  - the threads it starts: the callable's function, the objects handed to
//    it, whether the thread runs on `this`, and which of the function's own
//    accesses, calls and spawns run while the thread does (the spawn's
//    region, as SharedContainers computes it);
//  - the endless loop in its body, if any (EndlessLoops).
// The facts are extracted by the same models the checks use (see
// SharedContainers.cpp's extractUnitFacts), serialised to JSON by this file,
// and composed across units by WholeProgram.h.
//
// Object identities are strings so that units agree on them: a root is
// `this`, `param:<index>`, a global's USR, or `local:<function
// USR>|<name>@<line>:<column>` for a local; each following element is a field's
// USR.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_PROGRAMFACTS_H
#define CONCGUARD_CHECKS_UTILS_PROGRAMFACTS_H

#include "ContainerModel.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

/// An object as an access path (see the file comment).
using FactKey = std::vector<std::string>;

/// A place in the source: an absolute, real path and a 1-based line and
/// column (the expansion location).
struct FactLocation {
  std::string File;
  unsigned Line = 0;
  unsigned Column = 0;
  bool valid() const { return !File.empty() && Line != 0; }
};

struct FactLock {
  FactKey Key;
  bool Shared = false;
  std::string Name; ///< as the source names it, for messages
  /// Taken only when a run-time condition chose the mutex over null
  /// (HeldLock::Conditional in LockScopes.h): it protects, but it is no
  /// evidence that the object is shared.
  bool Conditional = false;
};

/// Read, element write or structural write: ContainerModel.h's AccessKind
/// (stored as its number: 0, 1, 2).
using FactAccessKind = AccessKind;

struct FactAccess {
  FactKey Key;
  std::string Name; ///< the container's name, for messages
  FactAccessKind Kind = FactAccessKind::Read;
  std::vector<FactLock> Locks;
  FactLocation Loc;
  /// The access comes after a call that joins a thread, in its function's
  /// source order: the function tears down the threads it started (a pool's
  /// JoinThreads clearing its thread vector), so the lock-evidence rule
  /// does not take it as an unlocked side.
  bool AfterJoin = false;
  /// A read that copies the whole container (`return Names;` by value, a
  /// copy assignment): the lock-evidence rule compares such an unlocked
  /// read with a locked structural write.
  bool CopiesWhole = false;
};

struct FactCall {
  std::string Callee; ///< USR
  std::string CalleeName;
  bool OnThis = false;
  /// For a member call on another object: that object.
  std::optional<FactKey> Object;
  /// Objects bound to reference or pointer parameters: (index, object).
  std::vector<std::pair<unsigned, FactKey>> Bound;
  std::vector<FactLock> Locks;
  FactLocation Loc;
  /// A call of a virtual function that is dispatched at run time (not
  /// qualified, `Base::f()`): on an object whose class is known, the
  /// callee is that class's overrider.
  bool Virtual = false;
};

struct FactSpawn {
  std::string Entry; ///< USR of the function the thread runs
  std::string EntryName;
  /// The thread runs on the spawning function's `this` (`&C::run, this`, a
  /// lambda capturing `this`); ThreadClass is then that class's USR.
  bool OnThis = false;
  std::string ThreadClass;
  /// The object a member function runs on when it is not `this`.
  std::optional<FactKey> Object;
  /// Objects the entry's parameters refer to: (index, object).
  std::vector<std::pair<unsigned, FactKey>> Bound;
  /// Locals of the spawning function the thread holds its own copy of.
  std::vector<std::string> CopiedLocals;
  /// The spawn may start several threads (in a loop).
  bool MultiInstance = false;
  /// The thread may outlive the spawning function (not joined there).
  bool Escapes = false;
  /// Indices into the enclosing function's Accesses / Calls / Spawns that
  /// run while the thread does.
  std::vector<unsigned> RegionAccesses, RegionCalls, RegionSpawns;
  /// How the thread is started: "std::thread", "std::jthread",
  /// "std::async", "pthread_create", "spawn function", "pool task" (a task
  /// of a pool inferred by its shape, a boost::asio handler, a
  /// tbb::task_group or Poco::ThreadPool task), "boost::thread", "thread
  /// object" (QThread, Poco::Thread, QtConcurrent::run) or "parallel
  /// algorithm" (its body, which runs beside itself).
  std::string Kind;
  /// The std::async future is discarded (it waits at the end of the
  /// statement).
  bool ResultDiscarded = false;
  FactLocation Loc;
};

/// A mutex the caller hands over (a pointer or reference parameter) that
/// the function releases for a while, and the reference parameters it reads
/// while the mutex is released (LockScopes.h's ParamLockRelease).
struct FactParamRelease {
  unsigned LockParam = 0;
  FactLocation ReleasedAt;
  /// (parameter index, its first read while released).
  std::vector<std::pair<unsigned, FactLocation>> Reads;
};

/// A member function that hands its callable parameter to a thread pool of
/// its class: a queue member that the pool's worker threads take tasks out
/// of and invoke (ThreadSpawns.h's threadPoolSubmit). A call of it in any
/// unit starts a pool task, even where the pool's code is not visible.
struct FactPoolSubmit {
  unsigned CallableIndex = 0;
  /// The class starts exactly one worker: its tasks never overlap.
  bool SingleWorker = false;
  /// Where a worker thread is started.
  FactLocation WorkerStart;
  /// The USRs of the pool class's methods defined in the unit that wait for
  /// its tasks or end its workers (ThreadSpawns.h's isPoolBarrier): another
  /// unit cannot read their bodies.
  std::vector<std::string> Barriers;
};

/// What calling the function does to its caller's locks (LockScopes.h's
/// FunctionLockEffects, computed from its body), for callers in other
/// units, whose parse has only its declaration. Keys are rooted at `this`
/// or `param:<index>` (a reference or pointer parameter).
struct FactLockEffects {
  /// Acquired and kept on every path to the return (Name is the mutex as
  /// the function names it).
  std::vector<FactLock> Acquires;
  /// Held on entry and released on every path.
  std::vector<FactKey> Releases;
};

struct FunctionFacts {
  std::string USR;
  std::string Name; ///< qualified, for messages
  FactLocation Loc;
  std::string Class; ///< USR of the class of a member function
  bool IsMethod = false;
  bool IsCtorOrDtor = false;
  /// A private member function: not an entry point of its class (RacerD's
  /// rule: other threads reach it only through the class's other methods,
  /// which are analysed with the locks they hold at the call).
  bool IsPrivate = false;
  /// A protected member function: reached from the member functions of its
  /// class and of derived classes, not called by the class's users.
  bool IsProtected = false;
  bool IsStatic = false;
  /// Its callers must hold a lock (LockScopes.h's requiresHeldLock: a
  /// thread-safety REQUIRES attribute, a `REQUIRES:` comment, a `...Locked`
  /// name): its own accesses are not evidence of a missing lock.
  bool RequiresLock = false;
  /// The virtual functions it overrides, directly or not (USRs).
  std::vector<std::string> Overrides;
  /// The identity of each parameter (a `local:` root), so that a call can
  /// bind the objects it passes.
  std::vector<std::string> Params;
  std::vector<FactAccess> Accesses;
  std::vector<FactCall> Calls;
  std::vector<FactSpawn> Spawns;
  /// Objects of class type other than containers (members of `this`,
  /// globals) that it assigns to, once per object: evidence that the object
  /// changes after construction, so a reference to it can be read while it
  /// is being written.
  std::vector<FactAccess> ObjectWrites;
  /// The mutex parameters it releases while reading reference parameters.
  std::vector<FactParamRelease> ParamReleases;
  /// The loop in this function's own body that can never end, if any.
  std::optional<FactLocation> EndlessLoop;
  /// Set when this member function submits tasks to a thread pool.
  std::optional<FactPoolSubmit> PoolSubmit;
  /// Set when this function starts a thread with its callable parameter of
  /// this index, a thread that outlives the call (ThreadSpawns.h's
  /// inferredSpawnWrapper): a call of it in any unit starts that thread.
  std::optional<unsigned> SpawnWrapper;
  /// Its effect on its callers' locks, when it has one.
  std::optional<FactLockEffects> LockEffects;
};

/// A file the unit read, with the hash of its content when the facts were
/// extracted: the facts are stale once one of them changes.
struct FactInput {
  std::string File;
  uint64_t Hash = 0;
};

/// A class of the project with its direct bases, so that the whole program
/// knows what a class inherits and which overrider a virtual call reaches.
struct FactClass {
  std::string USR;
  std::string Name;               ///< qualified, for messages
  std::vector<std::string> Bases; ///< USRs of the direct bases
};

struct UnitFacts {
  std::string File; ///< the unit's main file (absolute, real path)
  std::vector<FactInput> Inputs;
  std::vector<FunctionFacts> Functions;
  /// The classes of the unit's member functions and their bases.
  std::vector<FactClass> Classes;
};

/// The hash of a file's content, as stored in FactInput.
uint64_t hashContent(llvm::StringRef Content);

llvm::json::Value toJSON(const UnitFacts &Unit);
llvm::Expected<UnitFacts> unitFactsFromJSON(const llvm::json::Value &V);

/// Formats a key for messages and tests (`this.Data`, elements by name when
/// \p Names is given).
std::string formatKey(const FactKey &Key);

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_PROGRAMFACTS_H
