//===--- AuditReport.cpp - report model, formats, baseline and merge ------===//
//
// Everything here is plain LLVM Support code (no Clang headers), so that it
// compiles quickly and can be read without knowing clang-tidy.
//
//===----------------------------------------------------------------------===//

#include "AuditReport.h"
#include "CheckSeverity.h"
#include "SarifFlows.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace concguard::audit {
namespace json = llvm::json;
using llvm::StringRef;

namespace {

// The format tag of our JSON report; `merge` and `--baseline` refuse
// anything else that is not SARIF.
constexpr StringRef ReportFormat = "concguard-audit-report";
constexpr int64_t ReportFormatVersion = 1;
constexpr StringRef FingerprintKey = "concguard/v1";

// Generated from docs/checks/*.md by CMake: {check name, first paragraph,
// the page before its first section}.
struct CheckDoc {
  const char *Name;
  const char *Summary;
  const char *Intro;
};
const CheckDoc CheckDocs[] = {
#include "ConcGuardAuditCheckDocs.inc"
    {nullptr, nullptr, nullptr}};

const char HtmlTemplate[] =
#include "ConcGuardAuditHtml.inc"
    ;

auto findingOrder(const Finding &F) {
  return std::tie(F.Loc.Path, F.Loc.Line, F.Loc.Column, F.Check, F.Message);
}

json::Value locToJSON(const SourceLocation &L) {
  json::Object O{{"path", L.Path}, {"line", L.Line}, {"column", L.Column}};
  if (L.EndLine) {
    O["endLine"] = L.EndLine;
    O["endColumn"] = L.EndColumn;
  }
  return O;
}

json::Value excerptToJSON(const Excerpt &E) {
  json::Array Lines;
  for (const std::string &L : E.Lines)
    Lines.push_back(L);
  return json::Object{{"startLine", E.StartLine}, {"lines", std::move(Lines)}};
}

llvm::Error malformed(const llvm::Twine &What) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "malformed report: " + What);
}

// Small readers for our own JSON; they fail with a message rather than
// guessing, since a half-read report would be passed off as complete.
llvm::Expected<std::string> getStr(const json::Object &O, StringRef Key) {
  if (auto S = O.getString(Key))
    return S->str();
  return malformed("missing string '" + Key + "'");
}
unsigned getUInt(const json::Object &O, StringRef Key) {
  if (auto I = O.getInteger(Key))
    return *I < 0 ? 0 : static_cast<unsigned>(*I);
  return 0;
}

SourceLocation locFromJSON(const json::Object *O) {
  SourceLocation L;
  if (!O)
    return L;
  if (auto P = O->getString("path"))
    L.Path = P->str();
  L.Line = getUInt(*O, "line");
  L.Column = getUInt(*O, "column");
  L.EndLine = getUInt(*O, "endLine");
  L.EndColumn = getUInt(*O, "endColumn");
  return L;
}

Excerpt excerptFromJSON(const json::Object *O) {
  Excerpt E;
  if (!O)
    return E;
  E.StartLine = getUInt(*O, "startLine");
  if (const json::Array *A = O->getArray("lines"))
    for (const json::Value &V : *A)
      if (auto S = V.getAsString())
        E.Lines.push_back(S->str());
  return E;
}

std::string sha256Hex(StringRef Data) {
  llvm::SHA256 H;
  H.update(Data);
  return llvm::toHex(H.final(), /*LowerCase=*/true);
}

llvm::Expected<json::Value> parseFile(StringRef Path) {
  auto Buf = llvm::MemoryBuffer::getFile(Path);
  if (!Buf)
    return llvm::createStringError(Buf.getError(),
                                   "cannot read '" + Path +
                                       "': " + Buf.getError().message());
  auto V = json::parse((*Buf)->getBuffer());
  if (!V)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "'" + Path + "' is not valid JSON: " + llvm::toString(V.takeError()));
  return V;
}

/// Baseline findings from a SARIF log (ours or another run's): what the
/// fingerprint, location and message of each result are.
std::vector<Finding> findingsFromSarif(const json::Object &Log) {
  std::vector<Finding> Out;
  const json::Array *Runs = Log.getArray("runs");
  if (!Runs)
    return Out;
  for (const json::Value &Run : *Runs) {
    const json::Object *RunObj = Run.getAsObject();
    const json::Array *Results = RunObj ? RunObj->getArray("results") : nullptr;
    if (!Results)
      continue;
    for (const json::Value &RV : *Results) {
      const json::Object *Res = RV.getAsObject();
      if (!Res)
        continue;
      Finding F;
      if (auto Id = Res->getString("ruleId"))
        F.Check = Id->str();
      if (auto Level = Res->getString("level"))
        F.Severity = Level->str();
      if (const json::Object *M = Res->getObject("message"))
        if (auto T = M->getString("text"))
          F.Message = T->str();
      if (const json::Object *P = Res->getObject("properties"))
        if (auto T = P->getString("concguardMessage"))
          F.Message = T->str();
      if (const json::Object *FP = Res->getObject("partialFingerprints"))
        if (auto S = FP->getString(FingerprintKey))
          F.Fingerprint = S->str();
      if (const json::Array *Locs = Res->getArray("locations"))
        if (!Locs->empty())
          if (const json::Object *L0 = (*Locs)[0].getAsObject())
            if (const json::Object *PL = L0->getObject("physicalLocation")) {
              if (const json::Object *AL = PL->getObject("artifactLocation"))
                if (auto U = AL->getString("uri"))
                  F.Loc.Path = U->str();
              if (const json::Object *Reg = PL->getObject("region")) {
                F.Loc.Line = getUInt(*Reg, "startLine");
                F.Loc.Column = getUInt(*Reg, "startColumn");
                if (const json::Object *Snip = Reg->getObject("snippet"))
                  if (auto T = Snip->getString("text")) {
                    F.Source.StartLine = F.Loc.Line;
                    F.Source.Lines.push_back(T->str());
                  }
              }
            }
      // A fixed result (baselineState "absent") of an older comparison is
      // not a finding of that run.
      if (auto State = Res->getString("baselineState"))
        if (*State == "absent")
          continue;
      // Nor is a result suppressed in the source (NOLINT).
      if (const json::Array *Sup = Res->getArray("suppressions"))
        if (!Sup->empty())
          continue;
      Out.push_back(std::move(F));
    }
  }
  return Out;
}

std::string sarifLevel(StringRef Severity) {
  if (Severity == "error" || Severity == "note")
    return Severity.str();
  return "warning";
}

json::Value sarifLocation(const SourceLocation &L, StringRef Snippet = "") {
  json::Object Region;
  if (L.Line) {
    Region["startLine"] = L.Line;
    if (L.Column)
      Region["startColumn"] = L.Column;
    if (L.EndLine) {
      Region["endLine"] = L.EndLine;
      Region["endColumn"] = L.EndColumn;
    }
    if (!Snippet.empty())
      Region["snippet"] = json::Object{{"text", Snippet}};
  }
  json::Object Physical{
      {"artifactLocation",
       json::Object{{"uri", L.Path}, {"uriBaseId", "%SRCROOT%"}}}};
  if (!Region.empty())
    Physical["region"] = std::move(Region);
  return json::Object{{"physicalLocation", std::move(Physical)}};
}

unsigned countState(const Report &R, StringRef State) {
  return llvm::count_if(
      R.Findings, [&](const Finding &F) { return F.BaselineState == State; });
}

json::Value summaryJSON(const Report &R) {
  unsigned Failed =
      llvm::count_if(R.Units, [](const UnitResult &U) { return !U.Ok; });
  json::Object S{{"findings", static_cast<int64_t>(R.Findings.size())},
                 {"translationUnits", static_cast<int64_t>(R.Units.size())},
                 {"failedTranslationUnits", Failed},
                 {"toolErrors", static_cast<int64_t>(R.Errors.size())}};
  if (unsigned Compat = boostCompatUnits(R))
    S["boostCompatTranslationUnits"] = Compat;
  if (unsigned Delayed = delayedTemplateParsingUnits(R))
    S["delayedTemplateParsingTranslationUnits"] = Delayed;
  if (!R.Suppressed.empty())
    S["suppressed"] = static_cast<int64_t>(R.Suppressed.size());
  if (R.HasBaseline) {
    S["new"] = countState(R, "new");
    S["unchanged"] = countState(R, "unchanged");
    S["fixed"] = static_cast<int64_t>(R.Fixed.size());
  }
  return S;
}

} // namespace

StringRef sourceLineAt(const Finding &F) {
  const Excerpt &E = F.Source;
  if (F.Loc.Line < E.StartLine || F.Loc.Line >= E.StartLine + E.Lines.size())
    return "";
  return E.Lines[F.Loc.Line - E.StartLine];
}

unsigned boostCompatUnits(const Report &R) {
  return llvm::count_if(R.Units,
                        [](const UnitResult &U) { return U.BoostCompat; });
}

unsigned delayedTemplateParsingUnits(const Report &R) {
  return llvm::count_if(
      R.Units, [](const UnitResult &U) { return U.DelayedTemplateParsing; });
}

/// The prose paragraphs of a page's Markdown \p Text, each on one line and
/// separated by blank lines: no title, no code blocks.
static std::string proseParagraphs(StringRef Text) {
  std::string Out, Paragraph;
  bool InCode = false;
  auto EndParagraph = [&] {
    if (Paragraph.empty())
      return;
    Out += (Out.empty() ? "" : "\n\n") + Paragraph;
    Paragraph.clear();
  };
  llvm::SmallVector<StringRef> Lines;
  Text.split(Lines, '\n');
  for (StringRef Line : Lines) {
    StringRef Trimmed = Line.trim();
    if (Trimmed.starts_with("```")) {
      EndParagraph();
      // A sentence that introduced the dropped example ends there.
      if (!InCode && StringRef(Out).ends_with(":"))
        Out.back() = '.';
      InCode = !InCode;
      continue;
    }
    if (InCode || Trimmed.starts_with("#"))
      continue;
    if (Trimmed.empty()) {
      EndParagraph();
      continue;
    }
    Paragraph += (Paragraph.empty() ? "" : " ") + Trimmed.str();
  }
  EndParagraph();
  return Out;
}

Rule describeCheck(StringRef CheckName) {
  Rule R;
  R.Id = CheckName.str();
  for (const CheckDoc *D = CheckDocs; D->Name; ++D)
    if (CheckName == D->Name) {
      R.Description = D->Summary;
      std::string Prose = proseParagraphs(D->Intro);
      if (Prose != R.Description)
        R.FullDescription = std::move(Prose);
    }
  if (CheckName.starts_with("concguard-")) {
    R.HelpUri = (CONCGUARD_AUDIT_DOCS_URL + CheckName + ".md").str();
    if (R.Description.empty())
      R.Description = ("concguard check " + CheckName + ".").str();
  } else {
    // Stock clang-tidy checks: <module>-<name> is documented at
    // checks/<module>/<name>.html.
    auto [Module, Name] = CheckName.split('-');
    R.HelpUri = ("https://clang.llvm.org/extra/clang-tidy/checks/" + Module +
                 "/" + Name + ".html")
                    .str();
    R.Description = ("clang-tidy check " + CheckName + ".").str();
    R.FullDescription = R.Description +
                        " concguard-audit runs it beside concguard's own "
                        "checks; its documentation is on the LLVM site.";
  }
  return R;
}

/// Sorts findings, drops duplicates (a header finding is seen from every
/// translation unit that includes the header) and computes fingerprints.
static void sortAndFingerprint(std::vector<Finding> &Findings) {
  // Ties (the same finding seen from several units) are broken on the whole
  // content, so that which copy survives does not depend on the order in
  // which units or shards came in.
  auto Canonical = [](const Finding &F) {
    std::string S;
    llvm::raw_string_ostream OS(S);
    OS << findingToJSON(F);
    return S;
  };
  llvm::sort(Findings, [&](const Finding &A, const Finding &B) {
    if (findingOrder(A) != findingOrder(B))
      return findingOrder(A) < findingOrder(B);
    return Canonical(A) < Canonical(B);
  });
  Findings.erase(std::unique(Findings.begin(), Findings.end(),
                             [](const Finding &A, const Finding &B) {
                               return findingOrder(A) == findingOrder(B);
                             }),
                 Findings.end());
  // The fingerprint leaves out line and column, so that edits elsewhere in
  // the file keep it; identical findings on identical lines of one file are
  // told apart by their order, which such edits keep too.
  std::map<std::string, unsigned> Seen;
  for (Finding &F : Findings) {
    std::string Key = F.Check + '\0' + F.Loc.Path + '\0' + F.Message + '\0' +
                      sourceLineAt(F).trim().str();
    unsigned Index = Seen[Key]++;
    F.Fingerprint = sha256Hex(Key + '\0' + std::to_string(Index)).substr(0, 32);
  }
}

void finalize(Report &R) {
  llvm::sort(R.Units, [](const UnitResult &A, const UnitResult &B) {
    return A.Path < B.Path;
  });
  llvm::sort(R.Errors, [](const ToolError &A, const ToolError &B) {
    return std::tie(A.Path, A.Message) < std::tie(B.Path, B.Message);
  });
  R.Errors.erase(std::unique(R.Errors.begin(), R.Errors.end(),
                             [](const ToolError &A, const ToolError &B) {
                               return A.Path == B.Path &&
                                      A.Message == B.Message;
                             }),
                 R.Errors.end());
  // Each check's findings have its severity (CheckSeverity.h), in every
  // format alike.
  for (std::vector<Finding> *List : {&R.Findings, &R.Suppressed})
    for (Finding &F : *List)
      F.Severity = moreSevere(F.Severity, checkSeverity(F.Check).Level).str();
  sortAndFingerprint(R.Findings);
  sortAndFingerprint(R.Suppressed);
  // Every finding needs its rule (SARIF results refer to one), also for
  // diagnostics no enabled check names, such as clang-diagnostic-*.
  llvm::StringSet<> RuleIds;
  for (const Rule &Ru : R.Rules)
    RuleIds.insert(Ru.Id);
  for (const std::vector<Finding> *List : {&R.Findings, &R.Suppressed})
    for (const Finding &F : *List)
      if (RuleIds.insert(F.Check).second)
        R.Rules.push_back(describeCheck(F.Check));
  llvm::sort(R.Rules, [](const Rule &A, const Rule &B) { return A.Id < B.Id; });
}

llvm::Error applyBaseline(Report &R, StringRef BaselinePath) {
  auto V = parseFile(BaselinePath);
  if (!V)
    return V.takeError();
  const json::Object *Root = V->getAsObject();
  if (!Root)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "baseline '" + BaselinePath +
                                       "' is neither a SARIF log nor a "
                                       "concguard-audit JSON report");
  std::vector<Finding> Old;
  if (Root->getString("format") == ReportFormat) {
    auto Prev = readReport(BaselinePath);
    if (!Prev)
      return Prev.takeError();
    Old = std::move(Prev->Findings);
  } else if (Root->getArray("runs") && Root->getString("version")) {
    Old = findingsFromSarif(*Root);
  } else {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "baseline '" + BaselinePath +
                                       "' is neither a SARIF log nor a "
                                       "concguard-audit JSON report");
  }
  llvm::StringSet<> OldPrints, NewPrints;
  for (const Finding &F : Old)
    OldPrints.insert(F.Fingerprint);
  for (Finding &F : R.Findings) {
    NewPrints.insert(F.Fingerprint);
    F.BaselineState = OldPrints.contains(F.Fingerprint) ? "unchanged" : "new";
  }
  R.Fixed.clear();
  for (Finding &F : Old)
    if (!NewPrints.contains(F.Fingerprint)) {
      F.BaselineState = "absent";
      R.Fixed.push_back(std::move(F));
    }
  llvm::stable_sort(R.Fixed, [](const Finding &A, const Finding &B) {
    return findingOrder(A) < findingOrder(B);
  });
  R.HasBaseline = true;
  return llvm::Error::success();
}

json::Value findingToJSON(const Finding &F) {
  json::Array Notes;
  for (const Note &N : F.Notes) {
    json::Object NO{{"message", N.Message}, {"location", locToJSON(N.Loc)}};
    if (!N.Code.empty())
      NO["code"] = N.Code;
    Notes.push_back(std::move(NO));
  }
  json::Array Fixes;
  for (const Edit &E : F.Fixes)
    Fixes.push_back(json::Object{{"path", E.Path},
                                 {"offset", E.Offset},
                                 {"length", E.Length},
                                 {"startLine", E.StartLine},
                                 {"startColumn", E.StartColumn},
                                 {"endLine", E.EndLine},
                                 {"endColumn", E.EndColumn},
                                 {"text", E.Text}});
  json::Object O{{"check", F.Check},
                 {"severity", F.Severity},
                 {"message", F.Message},
                 {"location", locToJSON(F.Loc)},
                 {"notes", std::move(Notes)},
                 {"fixes", std::move(Fixes)},
                 {"excerpt", excerptToJSON(F.Source)}};
  if (!F.FixedSource.empty()) {
    O["fixedExcerpt"] = excerptToJSON(F.FixedSource);
    O["fixedFromLine"] = F.FixedFromLine;
    O["fixedToLine"] = F.FixedToLine;
  }
  if (!F.Fingerprint.empty())
    O["fingerprint"] = F.Fingerprint;
  if (!F.BaselineState.empty())
    O["baselineState"] = F.BaselineState;
  return O;
}

llvm::Expected<Finding> findingFromJSON(const json::Value &V) {
  const json::Object *O = V.getAsObject();
  if (!O)
    return malformed("a finding is not an object");
  Finding F;
  auto Check = getStr(*O, "check");
  if (!Check)
    return Check.takeError();
  F.Check = *Check;
  auto Message = getStr(*O, "message");
  if (!Message)
    return Message.takeError();
  F.Message = *Message;
  if (auto S = O->getString("severity"))
    F.Severity = S->str();
  F.Loc = locFromJSON(O->getObject("location"));
  if (const json::Array *Notes = O->getArray("notes"))
    for (const json::Value &NV : *Notes)
      if (const json::Object *NO = NV.getAsObject()) {
        Note N;
        if (auto M = NO->getString("message"))
          N.Message = M->str();
        N.Loc = locFromJSON(NO->getObject("location"));
        N.Code = NO->getString("code").value_or("").str();
        F.Notes.push_back(std::move(N));
      }
  if (const json::Array *Fixes = O->getArray("fixes"))
    for (const json::Value &EV : *Fixes)
      if (const json::Object *EO = EV.getAsObject()) {
        Edit E;
        if (auto P = EO->getString("path"))
          E.Path = P->str();
        if (auto T = EO->getString("text"))
          E.Text = T->str();
        E.Offset = getUInt(*EO, "offset");
        E.Length = getUInt(*EO, "length");
        E.StartLine = getUInt(*EO, "startLine");
        E.StartColumn = getUInt(*EO, "startColumn");
        E.EndLine = getUInt(*EO, "endLine");
        E.EndColumn = getUInt(*EO, "endColumn");
        F.Fixes.push_back(std::move(E));
      }
  F.Source = excerptFromJSON(O->getObject("excerpt"));
  F.FixedSource = excerptFromJSON(O->getObject("fixedExcerpt"));
  F.FixedFromLine = getUInt(*O, "fixedFromLine");
  F.FixedToLine = getUInt(*O, "fixedToLine");
  if (auto S = O->getString("fingerprint"))
    F.Fingerprint = S->str();
  if (auto S = O->getString("baselineState"))
    F.BaselineState = S->str();
  return F;
}

json::Value toJSON(const Report &R) {
  json::Array Rules, Units, Findings, Errors;
  for (const Rule &Ru : R.Rules)
    Rules.push_back(json::Object{{"id", Ru.Id},
                                 {"description", Ru.Description},
                                 {"fullDescription", Ru.FullDescription},
                                 {"helpUri", Ru.HelpUri}});
  for (const UnitResult &U : R.Units) {
    json::Object UO{{"path", U.Path}, {"status", U.Ok ? "ok" : "error"}};
    if (U.BoostCompat)
      UO["boostCompat"] = true;
    if (U.DelayedTemplateParsing)
      UO["delayedTemplateParsing"] = true;
    Units.push_back(std::move(UO));
  }
  for (const Finding &F : R.Findings)
    Findings.push_back(findingToJSON(F));
  json::Array Suppressed;
  for (const Finding &F : R.Suppressed)
    Suppressed.push_back(findingToJSON(F));
  for (const ToolError &E : R.Errors)
    Errors.push_back(json::Object{{"path", E.Path}, {"message", E.Message}});
  json::Object O{{"format", ReportFormat},
                 {"formatVersion", ReportFormatVersion},
                 {"tool", json::Object{{"name", "concguard-audit"},
                                       {"version", R.ToolVersion}}},
                 {"configuration",
                  json::Object{{"checks", R.Checks}, {"config", R.Config}}},
                 {"complete", R.complete()},
                 {"rules", std::move(Rules)},
                 {"translationUnits", std::move(Units)},
                 {"findings", std::move(Findings)},
                 {"suppressed", std::move(Suppressed)},
                 {"toolErrors", std::move(Errors)},
                 {"summary", summaryJSON(R)}};
  if (R.ShardCount) {
    O["shard"] = json::Object{{"index", R.ShardIndex}, {"count", R.ShardCount}};
    O["wholeProgram"] =
        json::Object{{"root", R.FactsRoot}, {"units", json::Array(R.Facts)}};
  }
  if (R.Git)
    O["versionControl"] =
        json::Object{{"repositoryUri", R.Git->RepositoryUri},
                     {"revisionId", R.Git->RevisionId},
                     {"branch", R.Git->Branch},
                     {"rootIsTopLevel", R.Git->RootIsTopLevel}};
  if (R.HasBaseline) {
    json::Array Fixed;
    for (const Finding &F : R.Fixed)
      Fixed.push_back(findingToJSON(F));
    O["fixed"] = std::move(Fixed);
  }
  return O;
}

llvm::Expected<Report> readReport(StringRef Path) {
  auto V = parseFile(Path);
  if (!V)
    return V.takeError();
  const json::Object *O = V->getAsObject();
  if (!O || O->getString("format") != ReportFormat)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "'" + Path + "' is not a concguard-audit JSON report");
  if (O->getInteger("formatVersion") != ReportFormatVersion)
    return malformed("'" + Path + "' has an unsupported formatVersion");
  Report R;
  if (const json::Object *T = O->getObject("tool"))
    if (auto S = T->getString("version"))
      R.ToolVersion = S->str();
  if (const json::Object *C = O->getObject("configuration")) {
    if (auto S = C->getString("checks"))
      R.Checks = S->str();
    if (auto S = C->getString("config"))
      R.Config = S->str();
  }
  if (const json::Object *G = O->getObject("versionControl")) {
    GitProvenance P;
    P.RepositoryUri = G->getString("repositoryUri").value_or("").str();
    P.RevisionId = G->getString("revisionId").value_or("").str();
    P.Branch = G->getString("branch").value_or("").str();
    P.RootIsTopLevel = G->getBoolean("rootIsTopLevel").value_or(false);
    if (!P.RepositoryUri.empty())
      R.Git = std::move(P);
  }
  if (const json::Object *S = O->getObject("shard")) {
    R.ShardIndex = getUInt(*S, "index");
    R.ShardCount = getUInt(*S, "count");
    const json::Object *W = O->getObject("wholeProgram");
    const json::Array *Facts = W ? W->getArray("units") : nullptr;
    std::optional<StringRef> FactsRoot =
        W ? W->getString("root") : std::nullopt;
    if (!Facts || !FactsRoot)
      return malformed("'" + Path +
                       "' is a shard without its wholeProgram "
                       "facts");
    R.FactsRoot = FactsRoot->str();
    R.Facts.assign(Facts->begin(), Facts->end());
  }
  const json::Array *Rules = O->getArray("rules");
  const json::Array *Units = O->getArray("translationUnits");
  const json::Array *Findings = O->getArray("findings");
  const json::Array *Errors = O->getArray("toolErrors");
  if (!Rules || !Units || !Findings || !Errors)
    return malformed("'" + Path +
                     "' lacks rules, translationUnits, findings "
                     "or toolErrors");
  for (const json::Value &V : *Rules)
    if (const json::Object *RO = V.getAsObject()) {
      Rule Ru;
      if (auto S = RO->getString("id"))
        Ru.Id = S->str();
      if (auto S = RO->getString("description"))
        Ru.Description = S->str();
      if (auto S = RO->getString("fullDescription"))
        Ru.FullDescription = S->str();
      if (auto S = RO->getString("helpUri"))
        Ru.HelpUri = S->str();
      R.Rules.push_back(std::move(Ru));
    }
  for (const json::Value &V : *Units)
    if (const json::Object *UO = V.getAsObject()) {
      UnitResult U;
      if (auto S = UO->getString("path"))
        U.Path = S->str();
      U.Ok = UO->getString("status") == StringRef("ok");
      U.BoostCompat = UO->getBoolean("boostCompat").value_or(false);
      U.DelayedTemplateParsing =
          UO->getBoolean("delayedTemplateParsing").value_or(false);
      R.Units.push_back(std::move(U));
    }
  for (const json::Value &V : *Findings) {
    auto F = findingFromJSON(V);
    if (!F)
      return F.takeError();
    R.Findings.push_back(std::move(*F));
  }
  // Reports of earlier versions have no suppressed findings.
  if (const json::Array *Suppressed = O->getArray("suppressed"))
    for (const json::Value &V : *Suppressed) {
      auto F = findingFromJSON(V);
      if (!F)
        return F.takeError();
      R.Suppressed.push_back(std::move(*F));
    }
  for (const json::Value &V : *Errors)
    if (const json::Object *EO = V.getAsObject()) {
      ToolError E;
      if (auto S = EO->getString("path"))
        E.Path = S->str();
      if (auto S = EO->getString("message"))
        E.Message = S->str();
      R.Errors.push_back(std::move(E));
    }
  return R;
}

llvm::Expected<Report> mergeShards(std::vector<Report> Shards) {
  auto Fail = [](const llvm::Twine &Msg) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
  };
  if (Shards.empty())
    return Fail("merge: no reports given");
  const Report &First = Shards.front();
  if (!First.ShardCount)
    return Fail("merge: the reports must come from --shard runs");
  std::set<unsigned> Indices;
  for (const Report &S : Shards) {
    if (S.ShardCount != First.ShardCount)
      return Fail("merge: shards of different splits (" +
                  llvm::Twine(S.ShardCount) + " and " +
                  llvm::Twine(First.ShardCount) + " shards)");
    if (S.Checks != First.Checks || S.Config != First.Config ||
        S.ToolVersion != First.ToolVersion)
      return Fail("merge: shards were made with different tool versions, "
                  "checks or configurations");
    if (!Indices.insert(S.ShardIndex).second)
      return Fail("merge: shard " + llvm::Twine(S.ShardIndex) + "/" +
                  llvm::Twine(S.ShardCount) + " given twice");
  }
  for (unsigned I = 1; I <= First.ShardCount; ++I)
    if (!Indices.count(I))
      return Fail("merge: shard " + llvm::Twine(I) + "/" +
                  llvm::Twine(First.ShardCount) +
                  " is missing; a merge of fewer shards is not the full run");
  Report Out;
  Out.ToolVersion = First.ToolVersion;
  Out.Checks = First.Checks;
  Out.Config = First.Config;
  Out.Rules = First.Rules;
  Out.FactsRoot = First.FactsRoot;
  Out.Git = First.Git;
  for (Report &S : Shards) {
    if (S.FactsRoot != First.FactsRoot)
      return Fail("merge: shards were made with different --root "
                  "directories");
    for (json::Value &V : S.Facts)
      Out.Facts.push_back(std::move(V));
    llvm::append_range(Out.Units, S.Units);
    for (Finding &F : S.Findings) {
      F.BaselineState.clear();
      Out.Findings.push_back(std::move(F));
    }
    for (Finding &F : S.Suppressed)
      Out.Suppressed.push_back(std::move(F));
    llvm::append_range(Out.Errors, S.Errors);
  }
  finalize(Out);
  return Out;
}

/// The first sentence of a rule's description: its short description.
std::string firstSentence(StringRef Text) {
  size_t End = Text.find(". ");
  if (End == StringRef::npos)
    return Text.str();
  return Text.take_front(End + 1).str();
}

/// Square brackets (and the backslash) are escaped in a SARIF message that
/// has embedded links, so that only the links read as links (SARIF 2.1.0,
/// 3.11.6).
std::string escapeSarifText(StringRef Text) {
  std::string Out;
  for (char C : Text) {
    if (C == '[' || C == ']' || C == '\\')
      Out += '\\';
    Out += C;
  }
  return Out;
}

/// The result's message, with a link to each related location (the notes):
/// GitHub code scanning shows a related location only when the message
/// references it as `[text](id)`.
std::string sarifMessage(const Finding &F) {
  if (F.Notes.empty())
    return F.Message;
  std::string Text = escapeSarifText(F.Message) + " (see ";
  for (unsigned Id = 0; Id < F.Notes.size(); ++Id) {
    if (Id)
      Text += ", ";
    Text += "[" + escapeSarifText(F.Notes[Id].Message) + "](" +
            std::to_string(Id) + ")";
  }
  return Text + ")";
}

/// Code-scanning properties of a rule: concguard's checks are high
/// precision by the triage of docs/evaluation.md; others are not measured.
/// The severity is the check's (CheckSeverity.h); code scanning rates a
/// rule tagged "security" by its security-severity and lists its CWE.
json::Object sarifRuleProperties(const Rule &Ru) {
  bool Concguard = StringRef(Ru.Id).starts_with("concguard-");
  CheckSeverity Severity = checkSeverity(Ru.Id);
  json::Array Tags{"concurrency", "correctness"};
  if (!Concguard)
    Tags = json::Array{"clang-tidy"};
  if (!Severity.SecuritySeverity.empty())
    Tags.push_back("security");
  if (!Severity.Cwe.empty())
    Tags.push_back(("external/cwe/cwe-" + Severity.Cwe).str());
  json::Object Properties{{"tags", std::move(Tags)},
                          {"precision", Concguard ? "high" : "medium"},
                          {"problem.severity", Severity.Level}};
  if (!Severity.SecuritySeverity.empty())
    Properties["security-severity"] = Severity.SecuritySeverity;
  return Properties;
}

/// One SARIF result: the finding, its notes as related locations that the
/// message links to, its fix-its as one fix.
static json::Object sarifResult(const Finding &F,
                                const llvm::StringMap<unsigned> &RuleIndex) {
  json::Object Res{
      {"ruleId", F.Check},
      {"level", sarifLevel(F.Severity)},
      {"message", json::Object{{"text", sarifMessage(F)}}},
      {"locations", json::Array{sarifLocation(F.Loc, sourceLineAt(F))}},
      {"partialFingerprints", json::Object{{FingerprintKey, F.Fingerprint}}}};
  auto It = RuleIndex.find(F.Check);
  if (It != RuleIndex.end())
    Res["ruleIndex"] = It->second;
  if (!F.Notes.empty()) {
    json::Array Related;
    unsigned Id = 0;
    for (const Note &N : F.Notes) {
      json::Value L = sarifLocation(N.Loc);
      json::Object *LO = L.getAsObject();
      (*LO)["id"] = Id++;
      (*LO)["message"] = json::Object{{"text", N.Message}};
      Related.push_back(std::move(L));
    }
    Res["relatedLocations"] = std::move(Related);
    // A race's paths, one thread flow per context (SarifFlows.h).
    if (std::optional<CodeFlow> Flow = codeFlow(F))
      Res["codeFlows"] = sarifCodeFlows(
          *Flow, [](const SourceLocation &L) { return sarifLocation(L); });
  }
  if (!F.Fixes.empty()) {
    // One fix of all edits (clang-tidy applies them together), grouped
    // by file as artifactChanges.
    std::map<std::string, json::Array> ByFile;
    for (const Edit &E : F.Fixes)
      ByFile[E.Path].push_back(json::Object{
          {"deletedRegion", json::Object{{"startLine", E.StartLine},
                                         {"startColumn", E.StartColumn},
                                         {"endLine", E.EndLine},
                                         {"endColumn", E.EndColumn},
                                         {"charOffset", E.Offset},
                                         {"charLength", E.Length}}},
          {"insertedContent", json::Object{{"text", E.Text}}}});
    json::Array Changes;
    for (auto &[Path, Reps] : ByFile)
      Changes.push_back(json::Object{
          {"artifactLocation",
           json::Object{{"uri", Path}, {"uriBaseId", "%SRCROOT%"}}},
          {"replacements", std::move(Reps)}});
    Res["fixes"] = json::Array{json::Object{
        {"description", json::Object{{"text", "clang-tidy fix-it"}}},
        {"artifactChanges", std::move(Changes)}}};
  }
  if (!F.BaselineState.empty())
    Res["baselineState"] = F.BaselineState;
  // The message as the check wrote it, without the links: what a baseline
  // read back from this log compares.
  if (!F.Notes.empty())
    Res["properties"] = json::Object{{"concguardMessage", F.Message}};
  return Res;
}

json::Value toSarif(const Report &R) {
  json::Array Rules;
  llvm::StringMap<unsigned> RuleIndex;
  for (const Rule &Ru : R.Rules) {
    RuleIndex[Ru.Id] = Rules.size();
    // Code scanning lists a rule by its short description and shows the
    // full one on the alert: the first sentence, and the page's opening.
    const std::string &Full =
        Ru.FullDescription.empty() ? Ru.Description : Ru.FullDescription;
    std::string Help = Full + "\n\nDocumentation: " + Ru.HelpUri;
    Rules.push_back(json::Object{
        {"id", Ru.Id},
        {"name", Ru.Id},
        {"shortDescription",
         json::Object{{"text", firstSentence(Ru.Description)}}},
        {"fullDescription", json::Object{{"text", Full}}},
        {"properties", sarifRuleProperties(Ru)},
        {"help", json::Object{{"text", Help},
                              {"markdown", Full + "\n\n[Documentation](" +
                                               Ru.HelpUri + ")"}}},
        {"helpUri", Ru.HelpUri},
        {"defaultConfiguration",
         json::Object{{"level", checkSeverity(Ru.Id).Level}}}});
  }
  json::Array Results;
  for (const Finding &F : R.Findings)
    Results.push_back(sarifResult(F, RuleIndex));
  // NOLINT-ed findings: code scanning shows a result suppressed in the
  // source as dismissed, neither as an alert nor as fixed.
  for (const Finding &F : R.Suppressed) {
    json::Object Res = sarifResult(F, RuleIndex);
    Res["suppressions"] = json::Array{json::Object{{"kind", "inSource"}}};
    Results.push_back(std::move(Res));
  }
  json::Array Notifications;
  for (const ToolError &E : R.Errors)
    Notifications.push_back(json::Object{
        {"level", "error"},
        {"message", json::Object{{"text", E.Message}}},
        {"locations", json::Array{sarifLocation({E.Path, 0, 0})}}});
  json::Object Invocation{{"executionSuccessful", R.complete()}};
  if (!Notifications.empty())
    Invocation["toolExecutionNotifications"] = std::move(Notifications);
  json::Object Run{
      {"tool",
       json::Object{
           {"driver", json::Object{{"name", "concguard-audit"},
                                   {"version", R.ToolVersion},
                                   {"informationUri", CONCGUARD_AUDIT_INFO_URL},
                                   {"rules", std::move(Rules)}}}}},
      {"invocations", json::Array{std::move(Invocation)}},
      {"columnKind", "unicodeCodePoints"},
      {"results", std::move(Results)},
      {"properties", summaryJSON(R)}};
  if (R.Git) {
    json::Object VC{{"repositoryUri", R.Git->RepositoryUri},
                    {"revisionId", R.Git->RevisionId}};
    if (!R.Git->Branch.empty())
      VC["branch"] = R.Git->Branch;
    // The result paths are relative to --root (%SRCROOT%): that is the
    // repository's top only when --root is.
    if (R.Git->RootIsTopLevel)
      VC["mappedTo"] = json::Object{{"uriBaseId", "%SRCROOT%"}};
    Run["versionControlProvenance"] = json::Array{std::move(VC)};
  }
  return json::Object{
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs", json::Array{std::move(Run)}}};
}

std::string toMarkdown(const Report &R) {
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  unsigned Failed =
      llvm::count_if(R.Units, [](const UnitResult &U) { return !U.Ok; });
  OS << "## concguard audit\n\n";
  if (!R.complete())
    OS << "> **Incomplete:** " << Failed << " of " << R.Units.size()
       << " translation units could not be analysed (" << R.Errors.size()
       << " tool errors); the findings below are not the whole story.\n\n";
  OS << "**" << R.Findings.size() << " findings** in " << R.Units.size()
     << " translation units";
  if (R.HasBaseline)
    OS << ": " << countState(R, "new") << " new, " << countState(R, "unchanged")
       << " unchanged, " << R.Fixed.size() << " fixed";
  OS << ".\n\n";
  if (!R.Suppressed.empty())
    OS << R.Suppressed.size()
       << " more suppressed in the source (NOLINT), not counted above.\n\n";
  // The severities as the other formats show them (CheckSeverity.h).
  std::map<std::string, unsigned> BySeverity;
  struct CheckCounts {
    unsigned Findings = 0, New = 0;
    StringRef Severity;
  };
  std::map<std::string, CheckCounts> ByCheck;
  for (const Finding &F : R.Findings) {
    ++BySeverity[F.Severity];
    CheckCounts &C = ByCheck[F.Check];
    ++C.Findings;
    C.New += F.BaselineState == "new";
    C.Severity = moreSevere(C.Severity, F.Severity);
  }
  if (!BySeverity.empty()) {
    OS << "By severity:";
    llvm::ListSeparator Sep(",");
    for (StringRef Severity : {"error", "warning", "note"})
      if (unsigned N = BySeverity[Severity.str()])
        OS << Sep << " " << Severity << " " << N;
    OS << ".\n\n";
  }
  if (!ByCheck.empty()) {
    OS << "| check | severity | findings" << (R.HasBaseline ? " | new" : "")
       << " |\n"
       << "| --- | --- | ---:" << (R.HasBaseline ? " | ---:" : "") << " |\n";
    for (auto &[Check, Counts] : ByCheck) {
      OS << "| `" << Check << "` | " << Counts.Severity << " | "
         << Counts.Findings;
      if (R.HasBaseline)
        OS << " | " << Counts.New;
      OS << " |\n";
    }
    OS << "\n";
  }
  // The findings a reviewer must look at: the new ones with a baseline,
  // all of them otherwise; capped so that the comment stays short.
  constexpr unsigned MaxListed = 20;
  unsigned Listed = 0, Eligible = 0;
  for (const Finding &F : R.Findings) {
    if (R.HasBaseline && F.BaselineState != "new")
      continue;
    if (Eligible++ == 0)
      OS << (R.HasBaseline ? "New findings:\n\n" : "Findings:\n\n");
    if (Listed < MaxListed) {
      ++Listed;
      OS << "- " << F.Severity << " `" << F.Loc.Path << ":" << F.Loc.Line
         << "` " << F.Message << " [`" << F.Check << "`]\n";
    }
  }
  if (Eligible > Listed)
    OS << "- ... and " << (Eligible - Listed) << " more\n";
  if (Eligible)
    OS << "\n";
  for (const ToolError &E : R.Errors)
    OS << "- tool error in `" << E.Path << "`: " << E.Message << "\n";
  return Out;
}

std::string toHtml(const Report &R) {
  json::Object Data = std::move(*toJSON(R).getAsObject());
  // The page shows a race's code flow, the one SARIF carries (SarifFlows.h):
  // computed here, not derived again in the page's script.
  if (json::Array *Findings = Data.getArray("findings"))
    for (auto [F, V] : llvm::zip_equal(R.Findings, *Findings))
      if (std::optional<CodeFlow> Flow = codeFlow(F))
        (*V.getAsObject())["codeFlow"] = htmlCodeFlow(F, *Flow);
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  OS << json::Value(std::move(Data));
  // Inside <script>, "</" could end the element; "<\/" is the same JSON.
  std::string Safe;
  Safe.reserve(Text.size());
  for (size_t I = 0; I < Text.size(); ++I) {
    if (Text[I] == '<' && I + 1 < Text.size() && Text[I + 1] == '/') {
      Safe += "<\\/";
      ++I;
      continue;
    }
    Safe += Text[I];
  }
  std::string Page = HtmlTemplate;
  constexpr StringRef Marker = "__CONCGUARD_AUDIT_DATA__";
  size_t Pos = Page.find(Marker.str());
  if (Pos != std::string::npos)
    Page.replace(Pos, Marker.size(), Safe);
  return Page;
}

llvm::Error writeOutputs(const Report &R, StringRef JsonPath,
                         StringRef SarifPath, StringRef HtmlDir,
                         StringRef MarkdownPath) {
  // Everything is rendered first and the files written after, and a failed
  // write removes the ones this call wrote: either all reports or none
  // (the paths were checked before the analysis; this is for the rest).
  std::vector<std::pair<std::string, std::string>> Files;
  if (!JsonPath.empty())
    Files.emplace_back(JsonPath, llvm::formatv("{0:2}\n", toJSON(R)).str());
  if (!SarifPath.empty())
    Files.emplace_back(SarifPath, llvm::formatv("{0:2}\n", toSarif(R)).str());
  if (!MarkdownPath.empty())
    Files.emplace_back(MarkdownPath, toMarkdown(R));
  if (!HtmlDir.empty()) {
    if (std::error_code EC = llvm::sys::fs::create_directories(HtmlDir))
      return llvm::createStringError(EC, "cannot create '" + HtmlDir +
                                             "': " + EC.message());
    llvm::SmallString<256> Index(HtmlDir);
    llvm::sys::path::append(Index, "index.html");
    Files.emplace_back(std::string(Index), toHtml(R));
  }
  for (size_t I = 0; I < Files.size(); ++I) {
    const auto &[Path, Text] = Files[I];
    llvm::Error E = llvm::writeToOutput(Path, [&](llvm::raw_ostream &OS) {
      OS << Text;
      return llvm::Error::success();
    });
    if (!E)
      continue;
    std::string Left; // written, and not removable either
    for (size_t J = 0; J < I; ++J)
      if (llvm::sys::fs::remove(Files[J].first))
        Left += " '" + Files[J].first + "'";
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "cannot write '" + Path + "': " + llvm::toString(std::move(E)) +
            (Left.empty() ? "; no report was written"
                          : "; could not remove" + Left));
  }
  return llvm::Error::success();
}

} // namespace concguard::audit
