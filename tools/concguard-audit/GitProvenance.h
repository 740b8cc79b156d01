//===--- GitProvenance.h - the git checkout a report was made from --------===//
//
// SARIF's versionControlProvenance: the repository, revision and branch of
// the checkout that contains the audit's --root, so that code scanning can
// tie results to a commit.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_TOOLS_AUDIT_GITPROVENANCE_H
#define CONCGUARD_TOOLS_AUDIT_GITPROVENANCE_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace concguard::audit {

struct GitProvenance {
  std::string RepositoryUri;   // origin's URL, else file:// of the checkout
  std::string RevisionId;      // the commit checked out
  std::string Branch;          // empty when HEAD is detached
  bool RootIsTopLevel = false; // --root is the checkout's top directory
};

/// The provenance of \p Root, or none when it is not in a git checkout or
/// git is not installed.
std::optional<GitProvenance> findGitProvenance(llvm::StringRef Root);

} // namespace concguard::audit

#endif // CONCGUARD_TOOLS_AUDIT_GITPROVENANCE_H
