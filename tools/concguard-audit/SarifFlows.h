//===--- SarifFlows.h - SARIF code flows of race findings -----------------===//
//
// A race finding of concguard-unsynchronized-container (per unit or whole
// program) as a SARIF codeFlow: one threadFlow per context that takes part
// in the race, so that a viewer (GitHub code scanning's "Show paths", the
// VS Code SARIF viewer) shows the path to each access.
//
// The finding carries no structure beyond its notes, and the check's code
// is not the audit's to change, so the structure is derived from the order
// in which the check emits its notes (checks/UnsynchronizedContainerCheck.cpp
// and the whole-program phase, checks/utils/WholeProgram.cpp, emit the same
// order):
//
//   [call]*                  the calls that reach the reported access
//   [access [call]*]         the other access and the calls that reach it
//                            (absent when two threads started at the same
//                            place race with each other)
//   spawn                    where the thread is started
//   anything else            the declaration, why it cannot be rewritten
//
// Only two fixed note texts are recognised, and only as boundaries: a note
// that starts with "reached through this call" is a call step, the one that
// starts with "thread started here" the spawn. The meaning of each step is
// its position, never the wording of the message. A note sequence that does
// not fit this shape (a future check version that words or orders its notes
// differently) gets no code flow at all, rather than a wrong one; its notes
// stay related locations. test/audit/code-flows.test pins the shape.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_TOOLS_AUDIT_SARIFFLOWS_H
#define CONCGUARD_TOOLS_AUDIT_SARIFFLOWS_H

#include "AuditReport.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <vector>

namespace concguard::audit {

/// The parts of a race finding, as indices into its notes.
struct RaceShape {
  std::vector<unsigned> ReportedPath; // calls before the reported access
  std::optional<unsigned> OtherAccess;
  std::vector<unsigned> OtherPath; // calls before the other access
  unsigned Spawn = 0;
};

/// The shape of \p F's notes, or nothing when F is not a race finding or its
/// notes do not have the race's shape.
std::optional<RaceShape> raceShape(const Finding &F);

/// The SARIF `codeFlows` of \p F (an array with one codeFlow), or nothing
/// when raceShape(F) is nothing. \p Locate renders a SARIF location.
std::optional<llvm::json::Array> sarifCodeFlows(
    const Finding &F,
    llvm::function_ref<llvm::json::Value(const SourceLocation &)> Locate);

} // namespace concguard::audit

#endif // CONCGUARD_TOOLS_AUDIT_SARIFFLOWS_H
