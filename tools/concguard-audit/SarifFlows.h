//===--- SarifFlows.h - code flows of race findings -----------------------===//
//
// A race finding of concguard-unsynchronized-container (per unit or whole
// program) as a code flow: one thread flow per context that takes part in
// the race, so that a viewer (GitHub code scanning's "Show paths", the VS
// Code SARIF viewer, the HTML report) shows the path to each access. The
// flow is computed once, here (codeFlow), and both the SARIF and the HTML
// writers render that one computation.
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
#include <string>
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

/// One step of a thread flow (a SARIF threadFlowLocation).
struct FlowStep {
  SourceLocation Loc;
  std::string Message;
  llvm::StringRef Kind; // "call" or "memory" (SARIF's threadFlowLocation kinds)
  unsigned Nesting = 0; // the call depth below the context's root
  bool Essential = false;
  /// The note the step shows, or nothing for the finding's own location.
  std::optional<unsigned> Note;
};

/// One context of the race: the steps in the order they run.
struct ThreadFlow {
  std::string Message;
  std::vector<FlowStep> Steps;
};

struct CodeFlow {
  std::string Message;
  std::vector<ThreadFlow> Threads;
};

/// The code flow of \p F, or nothing when raceShape(F) is nothing.
std::optional<CodeFlow> codeFlow(const Finding &F);

/// \p Flow as SARIF `codeFlows` (an array with one codeFlow). \p Locate
/// renders a SARIF location.
llvm::json::Array sarifCodeFlows(
    const CodeFlow &Flow,
    llvm::function_ref<llvm::json::Value(const SourceLocation &)> Locate);

/// \p Flow of \p F as the HTML report's data: the messages, and per step its
/// location, kind, nesting, importance and source line (the note's, or the
/// finding's own for the reported access).
llvm::json::Value htmlCodeFlow(const Finding &F, const CodeFlow &Flow);

} // namespace concguard::audit

#endif // CONCGUARD_TOOLS_AUDIT_SARIFFLOWS_H
