//===--- AuditReport.h - the concguard-audit report model -----------------===//
//
// The report of one audit run (or of one shard, or of several merged
// shards), independent of Clang: the analysis front end fills it, and the
// writers turn it into JSON (our own format, which `merge` and `--baseline`
// read back), SARIF 2.1.0, a self-contained HTML page and Markdown.
//
// Paths are relative to the audit root (with '/' separators) when the file
// lies under it, so that reports from different checkouts or CI machines
// merge and compare; they are absolute otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_TOOLS_AUDIT_AUDITREPORT_H
#define CONCGUARD_TOOLS_AUDIT_AUDITREPORT_H

#include "GitProvenance.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace concguard::audit {

struct SourceLocation {
  std::string Path;
  unsigned Line = 0;   // 1-based; 0 when the diagnostic has no location
  unsigned Column = 0; // 1-based, in bytes
  /// Where the highlighted region that starts at Line:Column ends, as SARIF
  /// counts it (the column after its last byte); 0 when unknown. The region
  /// reaches the end of the token at Line:Column, or further the end of a
  /// source range of the diagnostic that contains Line:Column.
  unsigned EndLine = 0, EndColumn = 0;
};

struct Note {
  std::string Message;
  SourceLocation Loc;
  std::string Code; // the source line at Loc, for the HTML report
};

/// One edit of a fix-it, with both its byte range and its line/column span
/// (SARIF wants the latter, tools that apply fixes the former).
struct Edit {
  std::string Path;
  unsigned Offset = 0, Length = 0;
  unsigned StartLine = 0, StartColumn = 0, EndLine = 0, EndColumn = 0;
  std::string Text;
};

/// Consecutive source lines, the first being line StartLine.
struct Excerpt {
  unsigned StartLine = 0;
  std::vector<std::string> Lines;
  bool empty() const { return Lines.empty(); }
};

struct Finding {
  std::string Check;
  std::string Severity; // "warning", "error" or "note"
  std::string Message;
  SourceLocation Loc;
  std::vector<Note> Notes;
  std::vector<Edit> Fixes;
  Excerpt Source;      // the lines around Loc
  Excerpt FixedSource; // the lines the fix touches, after applying it
  unsigned FixedFromLine = 0, FixedToLine = 0; // what FixedSource replaces
  std::string Fingerprint;
  std::string BaselineState; // "", "new", "unchanged" or "absent" (fixed)
};

struct ToolError {
  std::string Path; // the translation unit
  std::string Message;
};

struct UnitResult {
  std::string Path;
  bool Ok = true;
  /// Parsed with concguard's Boost compatibility headers
  /// (tools/common/BoostCompat.h).
  bool BoostCompat = false;
  /// Parsed with -fdelayed-template-parsing, because a library header it
  /// includes does not compile otherwise (ConcGuardAudit.cpp's analyse()).
  bool DelayedTemplateParsing = false;
};

struct Rule {
  std::string Id;
  std::string Description; // the first paragraph of the check's page
  /// The page's prose before its first section (SARIF fullDescription);
  /// empty when there is no more than Description.
  std::string FullDescription;
  std::string HelpUri;
};

struct Report {
  std::string ToolVersion;
  std::string Checks;                      // the effective check globs
  std::string Config;                      // the --config YAML, verbatim
  unsigned ShardIndex = 0, ShardCount = 0; // 0/0: not a shard
  bool HasBaseline = false;
  std::vector<Rule> Rules;
  std::vector<UnitResult> Units;
  std::vector<Finding> Findings;
  std::vector<Finding> Fixed; // in the baseline, gone now
  /// Findings that a NOLINT comment suppresses: reported as suppressed in
  /// SARIF, counted, never part of the exit status or the findings list.
  std::vector<Finding> Suppressed;
  std::vector<ToolError> Errors;
  /// A shard's whole-program input: the root its paths are relative to and
  /// the facts of its units (ProgramFacts.h's JSON form), which `merge`
  /// composes; empty in a full report.
  std::string FactsRoot;
  std::vector<llvm::json::Value> Facts;
  /// The git checkout --root is in, if any (SARIF versionControlProvenance).
  std::optional<GitProvenance> Git;

  /// A report can be trusted only when every translation unit was analysed.
  bool complete() const { return Errors.empty(); }
};

/// The source line at F.Loc, from F's excerpt ("" when it is not there).
llvm::StringRef sourceLineAt(const Finding &F);

/// How many units were parsed with the Boost compatibility headers.
unsigned boostCompatUnits(const Report &R);

/// How many units were parsed with -fdelayed-template-parsing.
unsigned delayedTemplateParsingUnits(const Report &R);

/// Sorts units, findings and errors, drops duplicate findings (a header
/// finding is seen from every translation unit that includes the header)
/// and computes the fingerprints. Idempotent; merge and a full run both end
/// with it, which is why they produce the same report.
void finalize(Report &R);

/// Marks findings new or unchanged, and fills R.Fixed, from the findings of
/// a previous report (JSON or SARIF, detected from the content).
llvm::Error applyBaseline(Report &R, llvm::StringRef BaselinePath);

llvm::json::Value findingToJSON(const Finding &F);
llvm::Expected<Finding> findingFromJSON(const llvm::json::Value &V);

llvm::json::Value toJSON(const Report &R);
llvm::json::Value toSarif(const Report &R);
std::string toMarkdown(const Report &R);
std::string toHtml(const Report &R);

llvm::Expected<Report> readReport(llvm::StringRef Path);

/// Combines shard reports into the report of the full run; fails unless
/// they are the shards 1..N of one configuration, each exactly once.
llvm::Expected<Report> mergeShards(std::vector<Report> Shards);

/// Writes the requested outputs (empty path: not requested); the HTML
/// report is HtmlDir/index.html.
llvm::Error writeOutputs(const Report &R, llvm::StringRef JsonPath,
                         llvm::StringRef SarifPath, llvm::StringRef HtmlDir,
                         llvm::StringRef MarkdownPath);

/// Per-rule help text and documentation link (generated from docs/checks/).
Rule describeCheck(llvm::StringRef CheckName);

} // namespace concguard::audit

#endif // CONCGUARD_TOOLS_AUDIT_AUDITREPORT_H
