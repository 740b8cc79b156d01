//===--- CheckOptions.h - every concguard option, declared once -----------===//
//
// The one option layer of concguard: each option of each check is declared
// once (checks/utils/CheckOptions.cpp) with its type, default and syntax;
// the checks, concguard-rewrite and the front ends' up-front validation all
// read and check options through it, so a value means the same thing
// everywhere.
//
// Syntax shared by every check: list options are entries separated by ';'
// (',' is accepted too); names are C++ qualified names (`ns::Name`, a
// leading `::` allowed). Flags are true/false, counts non-negative integers.
//
// Facts about the project rather than about one check have a project-wide
// key that every check reads: concguard.SpawnFunctions,
// concguard.ContainerTypes, concguard.MutexTypes, concguard.LockGuardTypes,
// concguard.IndexFile (the project index, docs/whole-program.md).
// A check's own key (`concguard-<check>.<Name>`) overrides it, so existing
// configurations keep working.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_CHECKOPTIONS_H
#define CONCGUARD_CHECKS_UTILS_CHECKOPTIONS_H

#include "SharedContainers.h"

#include "clang-tidy/ClangTidyOptions.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

/// Prefix of the project-wide keys (`concguard.SpawnFunctions`).
inline constexpr llvm::StringLiteral ProjectOptionPrefix = "concguard.";

/// One mistake in a configuration: the key, the value as written, and a
/// sentence that names both and says what is allowed.
struct OptionProblem {
  std::string Key;
  std::string Value;
  std::string Message;
};

/// Checks every concguard key of \p Options (keys that start with
/// `concguard-` or `concguard.`): unknown keys (with the closest known key
/// as a suggestion) and values that do not parse. Keys of other checks are
/// not looked at.
std::vector<OptionProblem>
validateOptions(const ClangTidyOptions::OptionMap &Options);

/// The same problems, one line each ("<message>"), for a front end that
/// stops with exit code 2.
std::string formatProblems(llvm::ArrayRef<OptionProblem> Problems);

/// Reads the options of one check: its own key, else the project-wide key
/// when the option has one, else the declared default. Values that do not
/// parse are recorded as problems (and replaced by what parses of them) for
/// the check to report as configuration errors.
class CheckOptionReader {
public:
  CheckOptionReader(const ClangTidyOptions::OptionMap &Options,
                    llvm::StringRef CheckName);

  /// The option's text as configured (or its default); for storeOptions.
  std::string text(llvm::StringRef Name) const;
  bool flag(llvm::StringRef Name);
  unsigned count(llvm::StringRef Name);
  std::vector<SpawnFunction> spawnFunctions(llvm::StringRef Name);
  std::vector<UserContainer> containers(llvm::StringRef Name);
  /// Container names only (escaping-guarded-reference): `Name=family` or a
  /// bare `Name`.
  std::vector<std::string> containerNames(llvm::StringRef Name);
  LockOptions locks(llvm::StringRef MutexName, llvm::StringRef GuardName);

  /// Everything the unsynchronized-container analysis takes (the check and
  /// concguard-rewrite read it the same way).
  SharedContainerOptions sharedContainerOptions();

  const std::vector<OptionProblem> &problems() const { return Problems; }

private:
  /// The key the value comes from (the check's, the project's) or none.
  std::optional<std::string> sourceKey(llvm::StringRef Name) const;
  void noteProblem(llvm::StringRef Name);

  const ClangTidyOptions::OptionMap &Options;
  std::string CheckName;
  std::vector<OptionProblem> Problems;
};

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_CHECKOPTIONS_H
