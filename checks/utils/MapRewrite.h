//===--- MapRewrite.h - plan the rewrite of racy maps ---------------------===//
//
// Turns the maps that concguard-unsynchronized-container flags (the shared
// analysis in checks/utils/SharedContainers.h, never a second detector) into
// concguard::sharded_map or concguard::snapshot_map, and every use of them
// into the runtime's API; the other flagged containers (vector, deque, list,
// string, set, ...) into concguard::synchronized<T>, every statement that
// uses one into one with_lock / with_shared_lock callback. A container with
// a use that cannot be rewritten faithfully is skipped whole, with the
// reason: code is never left half-rewritten.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_MAPREWRITE_H
#define CONCGUARD_CHECKS_UTILS_MAPREWRITE_H

#include "SharedContainers.h"

#include "clang/AST/ASTContext.h"
#include "clang/Tooling/Core/Replacement.h"

#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

enum class MapPolicy { Auto, Sharded, Snapshot };

struct RewriteOptions {
  SharedContainerOptions Analysis;
  MapPolicy Policy = MapPolicy::Auto;
  /// Qualified names of the maps to rewrite (empty: every flagged map).
  std::vector<std::string> Only;
};

/// One flagged map, or one function parameter that a flagged map is passed
/// to, and what happens to it.
struct MapPlan {
  std::string USR;      ///< of the map; parameterId() of a parameter
  std::string Name;     ///< qualified name of the variable or member
  std::string Location; ///< file:line:col of its declaration
  /// For a parameter: the function's qualified name, and whether this
  /// translation unit holds its definition (the body whose uses were
  /// planned).
  std::string Function;
  bool HasDefinition = false;
  bool Rewritten = false;
  /// Not a map: rewritten into concguard::synchronized<T>.
  bool Synchronized = false;
  std::string Target;         ///< the new type, when rewritten
  std::string Reason;         ///< why it is skipped, when not
  std::string ReasonLocation; ///< file:line:col of the use that blocks it
  /// The same place in the translation unit that planned it.
  SourceLocation ReasonLoc;
  /// Are every declaration and every use of it in this translation unit in
  /// the main file?
  bool InMainFile = false;
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
  /// Not a map (a vector, deque, list, string, set, ...): it becomes a
  /// concguard::synchronized<T>, alone in its group.
  bool Synchronized = false;
  /// Why the policy chose the new type, for the summary ("written in a
  /// loop", "a std::map keeps its key order", "not a map: one lock").
  std::string Policy;
  /// The group of maps and parameters rewritten together (groupTargets).
  unsigned Group = 0;
};

/// A map passed by lvalue reference to a parameter of a function that could
/// be rewritten with it (a function of the project, not virtual, not a
/// template), seen at one call in one translation unit.
struct ParamFlow {
  /// The argument: the USR of the variable or member it names, the
  /// parameterId() of the parameter it names, or empty for any other
  /// expression.
  std::string From;
  std::string To;       ///< parameterId() of the parameter
  std::string Function; ///< the function's qualified name
  std::string Location; ///< file:line:col of the argument
  /// The parameter is a reference to a container that is not a map (it
  /// becomes a concguard::synchronized<T> with the containers passed).
  bool Container = false;
};

/// A parameter rewritten together with the maps passed to it.
struct ParamTarget {
  std::string Id;          ///< parameterId()
  std::string FunctionUSR; ///< the function's (every declaration's) USR
  unsigned Index = 0;      ///< the parameter's position
  std::string Function;    ///< the function's qualified name
  bool Snapshot = false;
  unsigned Group = 0;
  /// Not a map: it becomes a concguard::synchronized<T> (ParamFlow).
  bool Synchronized = false;
};

/// Maps and parameters connected by calls: rewritten all together or not at
/// all, since a parameter's new type must be the type of every map passed to
/// it.
struct TargetGroup {
  /// Why the group cannot be rewritten, known from the calls alone: a map
  /// that is not rewritten (or another expression) is passed to a parameter
  /// of Function (BlockedAt.Function is empty when nothing blocks it).
  struct Blocker {
    std::string Function; ///< the function whose parameter is blocked
    std::string Clause;   ///< "which is also called with ..."
    std::string Location; ///< file:line:col of the argument
    SourceLocation Loc;   ///< the same, when known in this translation unit
  } BlockedAt;
};

struct RewriteTargets {
  std::vector<FlaggedMap> Maps; ///< flagged maps (and flagged parameters)
  std::vector<ParamTarget> Params;
  std::vector<TargetGroup> Groups;
  std::vector<ParamFlow> Flows;
};

/// "param:" + the function's USR + "#" + the parameter's position: one id
/// for a parameter in every declaration of its function, in every
/// translation unit.
std::string parameterId(llvm::StringRef FunctionUSR, unsigned Index);

/// Does the qualified name \p Name match one of \p Only (--only: `A::m`
/// or `::A::m`)? An empty \p Only matches every name.
bool matchesOnly(const std::string &Name, const std::vector<std::string> &Only);

/// Pass 1: the containers the analysis flags in this translation unit (maps,
/// and the variables and members of the other standard container types
/// that synchronized<T> takes), filtered by Options.Only.
std::vector<FlaggedMap> findFlaggedMaps(ASTContext &Context,
                                        const RewriteOptions &Options);
/// The same from the result of the analysis, already run with
/// Options.Analysis.
std::vector<FlaggedMap> findFlaggedMaps(ASTContext &Context,
                                        const RewriteOptions &Options,
                                        const SharedContainerResult &Found);

/// Pass 1: every map passed by reference to a parameter that could be
/// rewritten with it, in this translation unit, and every argument of a
/// direct call to a function of the project whose parameter is a reference
/// to another standard container (a vector, string, set, ...) that a
/// concguard::synchronized<T> could replace.
std::vector<ParamFlow> findParamFlows(ASTContext &Context);

/// Between the passes: groups the flagged maps with the parameters they
/// reach through \p Flows (and those parameters' other arguments). The maps
/// of one group get one policy (a sharded_map if any of them gets one);
/// a group that a map that is not rewritten reaches is blocked.
RewriteTargets groupTargets(std::vector<FlaggedMap> Maps,
                            std::vector<ParamFlow> Flows);

/// Pass 2: the plan for every map and parameter of \p Targets that this
/// translation unit declares or uses. A map flagged in one translation unit
/// is rewritten in every one, so its uses elsewhere change with it.
std::vector<MapPlan> planMapRewrites(ASTContext &Context,
                                     const RewriteOptions &Options,
                                     const RewriteTargets &Targets);

/// The rewrite of one flagged map as a front end that sees one translation
/// unit (concguard-unsynchronized-container's fix-it) can offer it: only
/// when the map and everything rewritten with it (its group) are declared
/// and used in the main file alone.
struct MainFileRewrite {
  /// The racy container (a SharedContainer's Decl).
  const ValueDecl *Decl = nullptr;
  /// The group of maps and parameters rewritten together: the edits are
  /// the group's, the same for every map of it.
  unsigned Group = 0;
  /// The fix-it can be offered: Edits and Header are set.
  bool Offered = false;
  /// Why concguard-rewrite skips it, when it does for a reason this
  /// translation unit shows; empty when it is offered or when it reaches
  /// other files (a declaration or use outside the main file, a function
  /// parameter of its group defined elsewhere).
  std::string Reason;
  /// Where the reason is, in this translation unit (may be invalid).
  SourceLocation ReasonLoc;
  /// The edits of the group, all in the main file, without the #include;
  /// empty unless Offered.
  std::vector<tooling::Replacement> Edits;
  /// The header to include, "<concguard/sharded_map.hpp>",
  /// "<concguard/snapshot_map.hpp>" or "<concguard/synchronized.hpp>".
  std::string Header;
};

/// One map or parameter of a group as planning left it, in one translation
/// unit or merged over all of them: what the group decision needs.
struct GroupMember {
  std::string Id; ///< the map's USR, or the parameter's parameterId()
  std::string Name;
  std::string Location; ///< file:line:col of its declaration
  unsigned Group = 0;
  bool IsParam = false;
  bool Flagged = false;
  /// Not a map: rewritten into concguard::synchronized<T>.
  bool Synchronized = false;
  /// A plan exists for it (some translation unit holds it).
  bool Planned = false;
  bool Rewritten = false;
  /// A parameter: its function's definition was planned.
  bool HasDefinition = false;
  std::string Function; ///< a parameter's function
  /// Why it is not rewritten (Planned and not Rewritten).
  std::string Reason;
  std::string ReasonLocation;
  SourceLocation ReasonLoc;
};

/// What blocks group \p Group of \p Targets, given its members as planned
/// (the members of other groups are ignored), in the order concguard-rewrite
/// and the fix-its both report it: a parameter that cannot be rewritten;
/// with \p NeedDefinitions, a parameter whose function's definition was
/// not planned; an expression that is not rewritten passed to a parameter;
/// a flagged map that is not rewritten passed to one. Nothing when the
/// group can be rewritten.
std::optional<TargetGroup::Blocker>
groupBlocker(const RewriteTargets &Targets, unsigned Group,
             llvm::ArrayRef<GroupMember> Members, bool NeedDefinitions);

/// Why \p Member is not rewritten: its own reason when it has one, else
/// the group's \p Blocker ("the map is passed to 'f', <clause>", or for a
/// parameter of f itself "it is a parameter of 'f', <clause>"; the clause
/// alone for a blocker with no function); empty when neither.
std::string memberReason(const GroupMember &Member,
                         const std::optional<TargetGroup::Blocker> &Blocker);

/// Why two groups whose edits overlap cannot both be rewritten (the second
/// is skipped): \p Synchronized for a group of synchronized<T> containers.
std::string overlappingEditsReason(bool Synchronized);

/// One entry per flagged container that concguard-rewrite rewrites (a map,
/// or a container that becomes a synchronized<T>) of \p Found (the
/// analysis run with Options.Analysis over \p Context), in the order of
/// Found.Racy: the passes of concguard-rewrite over this translation unit
/// alone.
std::vector<MainFileRewrite>
planMainFileRewrites(ASTContext &Context, const RewriteOptions &Options,
                     const SharedContainerResult &Found);

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_MAPREWRITE_H
