//===--- WholeProgram.h - the whole-program phase over unit summaries -----===//
//
// Composes the facts of every unit (ProgramFacts.h) into one program: a call
// graph across units keyed by USR, the thread contexts of every spawn (the
// thread's callable and what it calls, the spawning function's region after
// the spawn, the other member functions of an object a thread runs on), the
// locks held along every call path, and the endless loops reached from a
// thread's entry. It reports what the per-unit analyses cannot see: a race
// or an endless thread whose evidence (spawn, callee bodies, accesses) is
// defined in more than one unit. Everything that one unit holds entirely is
// left to the per-unit checks, so the two never report the same thing twice.
// The exception is the lock-evidence rule (a class that locks some accesses
// to a container member and not others, findLockInconsistencies in the
// .cpp), which needs every caller's locks and so belongs to this phase
// alone.
//
// The concurrency rules are those of SharedContainers.h, applied to facts:
// a thread runs concurrently with the rest of its spawning function until
// it is joined, with itself when the spawn may start several threads, with
// the threads its region starts, and, when it runs on `this`, with every
// other non-static member function of its class except constructors and
// destructors. A race needs a structural write (an element write too with
// StrictElementAccess) and no mutex held at both accesses (exclusively at a
// write). Globals touched by a thread that outlives its spawning function
// are not compared with arbitrary other functions (the per-unit check's
// "elsewhere" context): without a call graph from main, that comparison is
// a guess, and a false positive costs more than a miss.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_WHOLEPROGRAM_H
#define CONCGUARD_CHECKS_UTILS_WHOLEPROGRAM_H

#include "ProgramFacts.h"

#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

struct ProgramNote {
  FactLocation Loc;
  std::string Message;
};

struct ProgramFinding {
  std::string Check; ///< e.g. "concguard-unsynchronized-container"
  FactLocation Loc;
  std::string Message;
  std::vector<ProgramNote> Notes;
};

struct WholeProgramOptions {
  unsigned MaxCallDepth = 3;
  bool StrictElementAccess = false;
  /// Which findings to compute: races between threads on containers
  /// (concguard-unsynchronized-container), threads whose body, defined in
  /// another unit, can never end (concguard-uncancellable-thread).
  bool Races = true;
  bool EndlessThreads = true;
  /// Lock-guarded objects a caller passes by reference to a callee that
  /// releases the caller's lock while reading them
  /// (concguard-escaping-guarded-reference).
  bool Escapes = true;
};

/// The facts of all units, merged. A function defined in several units (an
/// inline function of a header) is kept once, with the set of units that
/// define it.
class Program {
public:
  /// Adds one unit's facts; a unit with the same main file as an earlier
  /// one replaces it.
  void addUnit(UnitFacts Unit);
  /// Removes the unit whose main file is \p File, if any.
  void removeUnit(llvm::StringRef File);

  llvm::ArrayRef<UnitFacts> units() const { return Units; }

  /// Runs the whole-program phase: the findings whose evidence spans units.
  std::vector<ProgramFinding> analyze(const WholeProgramOptions &Options) const;

private:
  std::vector<UnitFacts> Units;
};

/// Describes a location for a message: the file's name and the line.
std::string describeLocation(const FactLocation &Loc);

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_WHOLEPROGRAM_H
