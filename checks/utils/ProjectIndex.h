//===--- ProjectIndex.h - the project index every front end reads ---------===//
//
// The project index holds the facts of every unit of a project
// (ProgramFacts.h), written by `concguard-audit --index FILE`. The per-file
// front ends (clang-tidy with the plugin, concguard-tidy, concguard-clangd)
// read it to report whole-program findings for the file they analyse: the
// facts of that file are extracted afresh from the parse at hand and
// replace its entry, the entries of other units whose inputs changed since
// the index was written are dropped (and said once), and the whole-program
// phase runs over the rest.
//
// Format: one JSON document,
//   {"format": "concguard-index", "version": N, "units": [<UnitFacts>...]}
// written atomically (a temporary file renamed into place), so that a
// crashed or concurrent writer never leaves half an index. A reader refuses
// anything else with an error that says what is wrong: not JSON (a
// truncated file), another format, another version, a damaged unit.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_PROJECTINDEX_H
#define CONCGUARD_CHECKS_UTILS_PROJECTINDEX_H

#include "ProgramFacts.h"
#include "ThreadSpawns.h"
#include "WholeProgram.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

#include "clang/Basic/DiagnosticIDs.h"
#include "clang/Basic/SourceLocation.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace clang {
class ASTContext;
class Expr;
namespace tidy {
class ClangTidyCheck;
} // namespace tidy
} // namespace clang

namespace clang {
class SourceManager;
} // namespace clang

namespace clang::tidy::concguard::utils {

constexpr unsigned ProjectIndexVersion = 8;

/// The file name the front ends look for next to compile_commands.json.
constexpr llvm::StringLiteral ProjectIndexFileName = "concguard-index.json";

llvm::Error writeProjectIndex(llvm::StringRef Path,
                              llvm::ArrayRef<UnitFacts> Units);

llvm::Expected<std::vector<UnitFacts>> readProjectIndex(llvm::StringRef Path);

/// The first input of \p Unit whose content differs from the file on disk
/// now (or that is gone), or nothing when the unit is up to date.
std::optional<std::string> staleInput(const UnitFacts &Unit);

/// Receives the facts of each unit a front end analyses (concguard-audit
/// installs one per worker thread around each unit's analysis).
class FactsCollector {
public:
  virtual ~FactsCollector();
  virtual void add(UnitFacts Facts) = 0;
};

/// The collector of the calling thread, or null.
FactsCollector *currentFactsCollector();
/// Installs \p Collector for the calling thread (null removes it).
void setFactsCollector(FactsCollector *Collector);

/// The thread pools' submit methods (FunctionFacts::PoolSubmit) and the
/// spawn wrappers (FunctionFacts::SpawnWrapper) of \p Units, each once, as
/// SpawnFunctions entries matched by USR (SpawnFunction::Indexed).
std::vector<SpawnFunction> spawnFunctionsOf(llvm::ArrayRef<UnitFacts> Units);

/// Installs, for the calling thread, the spawn functions of other units
/// that the per-unit analysis should know (concguard-audit's second round
/// over the units that call them); null removes them.
void setKnownSpawnFunctions(const std::vector<SpawnFunction> *Functions);

/// The pool submit methods and spawn wrappers defined in other units that
/// the per-unit analysis of a unit knows: inside concguard-audit, those it
/// installed for the calling thread (setKnownSpawnFunctions); elsewhere
/// those of the project index (\p IndexFile, else concguard-index.json
/// found from \p BuildDirectory upwards) whose units are up to date. Empty
/// without either.
std::vector<SpawnFunction> knownSpawnFunctions(llvm::StringRef IndexFile,
                                               llvm::StringRef BuildDirectory);

/// Adds to \p Unit's inputs the files that define the spawn functions of
/// other units (\p Functions, SpawnFunction::Indexed) that it calls: its
/// facts (the threads started through them) are stale once one changes.
void addSpawnFunctionInputs(UnitFacts &Unit,
                            llvm::ArrayRef<SpawnFunction> Functions);

/// The lock effects of a function defined in another unit (its
/// FunctionFacts::LockEffects), and the file that defines it.
struct IndexedLockEffects {
  FactLockEffects Effects;
  std::string DefinedIn;
};
using LockEffectsByUSR = llvm::StringMap<IndexedLockEffects>;

/// The functions of \p Units that have lock effects, by USR.
LockEffectsByUSR lockEffectsOf(llvm::ArrayRef<UnitFacts> Units);

/// Installs, for the calling thread, the lock effects of functions of other
/// units that the per-unit analyses should apply at calls whose callee
/// they only see declared (concguard-audit's second round); null removes
/// them.
void setKnownLockEffects(std::shared_ptr<const LockEffectsByUSR> Effects);

/// For a per-file front end, before a unit is analysed: installs for the
/// calling thread the lock effects of the project index (\p IndexFile,
/// else concguard-index.json found from \p BuildDirectory upwards) whose
/// units are up to date, or none without an index. Inside concguard-audit
/// (a facts collector is installed) it leaves the audit's choice alone.
void installIndexedLockEffects(llvm::StringRef IndexFile,
                               llvm::StringRef BuildDirectory);

/// The lock effects installed for the calling thread of the function with
/// \p USR, or null (LockScopes.cpp asks for callees it sees declared only).
const IndexedLockEffects *knownLockEffects(llvm::StringRef USR);

/// Is any lock effect installed for the calling thread? (A cheap test
/// before a USR is generated.)
bool hasKnownLockEffects();

/// Adds to \p Unit's inputs the files that define the functions with lock
/// effects installed for the calling thread that it calls: its facts (the
/// locks held after those calls) are stale once one changes.
void addLockEffectInputs(UnitFacts &Unit);

/// Makes findProjectIndex find nothing on the calling thread while set:
/// concguard-audit runs the whole-program phase itself, so a per-unit
/// analysis inside it never reads an index left on disk.
void setProjectIndexDisabled(bool Disabled);

/// The index a per-file front end uses for a unit: \p Option when it is set,
/// else concguard-index.json next to the compile_commands.json found from
/// \p BuildDirectory upwards; empty when there is none (or inside
/// concguard-audit, setProjectIndexDisabled).
std::string findProjectIndex(llvm::StringRef Option,
                             llvm::StringRef BuildDirectory);

/// What a per-file front end gets from the index for its unit.
struct IndexedFindings {
  std::vector<ProgramFinding> Findings;
  /// Files of other units that changed since the index was written (their
  /// units were left out), each reported once per process.
  std::vector<std::string> NewlyStale;
  /// Why the index could not be used (unreadable, damaged, wrong version),
  /// reported once per process; empty when it was used.
  std::string Error;
};

/// Loads \p IndexPath (cached across units by path, size and time), puts
/// \p Fresh in place of its unit's entry, leaves out stale units, and runs
/// the whole-program phase. Only the findings located in \p Fresh's own
/// files (its main file and the project headers it read) are returned.
IndexedFindings wholeProgramFindings(llvm::StringRef IndexPath, UnitFacts Fresh,
                                     const WholeProgramOptions &Options);

/// The place of \p Loc in \p SM; a file the unit did not read (another
/// unit's .cpp) is added to \p SM so that notes can point into it. Invalid
/// when the file or the line no longer exists.
SourceLocation sourceLocationOf(const FactLocation &Loc, SourceManager &SM);

/// \p Text with '%' doubled, for a diagnostic format string.
std::string escapeForDiagnostic(llvm::StringRef Text);

/// Reports \p Found through a check: each finding as a warning with its
/// notes (\p Diag is the check's diag()), the index's error and stale units
/// as configuration diagnostics (\p Config). Findings whose place no longer
/// exists in the file are dropped.
void reportIndexedFindings(
    const IndexedFindings &Found, SourceManager &SM,
    llvm::function_ref<void(SourceLocation, llvm::StringRef,
                            DiagnosticIDs::Level)>
        Diag,
    llvm::function_ref<void(llvm::StringRef)> Config);

struct SharedContainerOptions;

/// The whole-program step of a per-file front end for \p Check: with a
/// project index (\p IndexFile, else `concguard-index.json` found from
/// \p BuildDirectory upwards), summarises the unit at hand (\p Analysis,
/// \p Spawns) and reports through \p Check the findings \p Options asks
/// for that lie in the unit's files. Nothing happens without an index, or
/// inside concguard-audit, which runs the phase itself over the facts
/// concguard-unsynchronized-container collects.
void reportWholeProgram(ClangTidyCheck &Check, ASTContext &Context,
                        llvm::StringRef IndexFile,
                        llvm::StringRef BuildDirectory,
                        const SharedContainerOptions &Analysis,
                        llvm::ArrayRef<const Expr *> Spawns,
                        const WholeProgramOptions &Options);

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_PROJECTINDEX_H
