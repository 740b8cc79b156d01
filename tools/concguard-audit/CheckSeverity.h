//===--- CheckSeverity.h - how severe each check's findings are -----------===//
//
// The severity of a check's findings is a product decision, made here once
// and used by every report format (the finding's severity in JSON, HTML and
// Markdown; the SARIF result's level, the rule's defaultConfiguration and
// problem.severity; security-severity and CWE tags where the finding is a
// memory-safety problem). docs/audit.md ("Severity") gives the reasons.
//
// A clang-tidy check emits warnings; a concguard check whose findings are
// memory corruption is an error in the reports. A diagnostic already more
// severe (a compiler error) keeps its level. (The audit does not read
// WarningsAsErrors: a report's severities do not depend on CI policy.)
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_TOOLS_AUDIT_CHECKSEVERITY_H
#define CONCGUARD_TOOLS_AUDIT_CHECKSEVERITY_H

#include "llvm/ADT/StringRef.h"

namespace concguard::audit {

struct CheckSeverity {
  /// "error" or "warning": a finding's severity in every format, the SARIF
  /// level and problem.severity.
  llvm::StringRef Level = "warning";
  /// GitHub code scanning's security-severity (a CVSS 3.1 base score), or
  /// empty when the findings are not a security problem.
  llvm::StringRef SecuritySeverity;
  /// The CWE the findings are an instance of (its number), or empty.
  llvm::StringRef Cwe;
};

/// The severity of \p Check's findings; a check with no entry (a stock
/// clang-tidy check, a compiler diagnostic) is a plain warning.
CheckSeverity checkSeverity(llvm::StringRef Check);

/// The more severe of two severities ("error" > "warning" > "note").
llvm::StringRef moreSevere(llvm::StringRef A, llvm::StringRef B);

} // namespace concguard::audit

#endif // CONCGUARD_TOOLS_AUDIT_CHECKSEVERITY_H
