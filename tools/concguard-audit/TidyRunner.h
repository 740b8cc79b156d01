//===--- TidyRunner.h - clang-tidy on one unit, NOLINT-ed findings kept ---===//
//
// clang-tidy's library entry point (runClangTidy) drops the diagnostics that
// a NOLINT, NOLINTNEXTLINE or NOLINTBEGIN/NOLINTEND comment suppresses before
// its caller sees them, and has no option to keep them. The audit reports
// them as suppressed results (SARIF `suppressions`), so it runs the unit
// itself: the same tool, argument adjusters and clang-tidy consumer as
// runClangTidy, behind a consumer that asks clang-tidy's own NOLINT logic
// (ClangTidyContext::shouldSuppressDiagnostic) about each diagnostic first
// and keeps a copy of those it suppresses.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_TOOLS_AUDIT_TIDYRUNNER_H
#define CONCGUARD_TOOLS_AUDIT_TIDYRUNNER_H

#include "clang-tidy/ClangTidyDiagnosticConsumer.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "llvm/ADT/IntrusiveRefCntPtr.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/VirtualFileSystem.h"

#include <string>
#include <vector>

namespace concguard::audit {

struct TidyResult {
  /// What clang-tidy reports, its filters and NOLINT comments applied.
  std::vector<clang::tidy::ClangTidyError> Reported;
  /// Warnings of enabled checks, in the code clang-tidy reports on (the main
  /// file, headers passing the header filter, no system headers), that a
  /// NOLINT comment suppressed; with their notes and fix-its.
  std::vector<clang::tidy::ClangTidyError> Suppressed;
};

/// Runs the context's checks over File, compiled with DB's command.
TidyResult
runTidy(clang::tidy::ClangTidyContext &Context,
        const clang::tooling::CompilationDatabase &DB, llvm::StringRef File,
        llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> BaseFS);

/// The length in bytes of the C++ token that starts at Offset of Text, or 0
/// when none starts there (whitespace, a comment, the end). Text must be a
/// whole file: the lexer reads up to its terminating null character.
unsigned tokenLengthAt(const std::string &Text, unsigned Offset);

} // namespace concguard::audit

#endif // CONCGUARD_TOOLS_AUDIT_TIDYRUNNER_H
