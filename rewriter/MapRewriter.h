//===--- MapRewriter.h - plan the rewrite of racy maps
//---------------------===//
//
// Turns the maps that concguard-unsynchronized-container flags (the shared
// analysis in checks/utils/SharedContainers.h, never a second detector) into
// concguard::sharded_map or concguard::snapshot_map, and every use of them
// into the runtime's API. A map with a use that cannot be rewritten
// faithfully is skipped whole, with the reason: code is never left
// half-rewritten.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_REWRITER_MAPREWRITER_H
#define CONCGUARD_REWRITER_MAPREWRITER_H

#include "utils/SharedContainers.h"

#include "clang/AST/ASTContext.h"
#include "clang/Tooling/Core/Replacement.h"

#include <string>
#include <vector>

namespace clang::concguard {

enum class MapPolicy { Auto, Sharded, Snapshot };

struct RewriteOptions {
  tidy::concguard::utils::SharedContainerOptions Analysis;
  MapPolicy Policy = MapPolicy::Auto;
  /// Qualified names of the maps to rewrite (empty: every flagged map).
  std::vector<std::string> Only;
};

/// One flagged map and what happens to it.
struct MapPlan {
  std::string USR;
  std::string Name;     ///< qualified name of the variable or member
  std::string Location; ///< file:line:col of its declaration
  bool Rewritten = false;
  std::string Target;         ///< the new type, when rewritten
  std::string Reason;         ///< why it is skipped, when not
  std::string ReasonLocation; ///< file:line:col of the use that blocks it
  /// The edits, by file (absolute path); empty when skipped.
  std::vector<tooling::Replacement> Edits;
};

/// A map flagged by concguard-unsynchronized-container in one translation
/// unit, identified across translation units by its USR.
struct FlaggedMap {
  std::string USR;
  std::string Name;
  std::string Location;
  /// The policy's choice, made where the map is flagged (the accesses that
  /// the rule counts are those of that translation unit).
  bool Snapshot = false;
};

/// Pass 1: the maps the analysis flags in this translation unit (those of
/// std::map or std::unordered_map type), filtered by Options.Only.
std::vector<FlaggedMap> findFlaggedMaps(ASTContext &Context,
                                        const RewriteOptions &Options);

/// Pass 2: the plan for every map of \p USRs that this translation unit
/// declares or uses. A map flagged in one translation unit is rewritten in
/// every one, so its uses elsewhere change with it.
std::vector<MapPlan> planMapRewrites(ASTContext &Context,
                                     const RewriteOptions &Options,
                                     const std::vector<FlaggedMap> &Targets);

} // namespace clang::concguard

#endif // CONCGUARD_REWRITER_MAPREWRITER_H
