//===--- ContainerViews.h - views into containers that may change ---------===//
//
// Where a view into a container (a reference, pointer, iterator,
// string_view or span into it or into one of its elements) is used after an
// operation that may have invalidated it: a reallocation, a rehash, an
// erase, a clear or assignment, or a call that may do one of these. Views
// are followed in locals, fields of local aggregates, the hidden iterator of
// a range-for, and pointer fields whose every store the unit shows; calls
// are followed three levels deep. concguard-dangling-container-view reports
// what this finds; see its documentation for the semantics.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_CONTAINERVIEWS_H
#define CONCGUARD_CHECKS_UTILS_CONTAINERVIEWS_H

#include "utils/ContainerModel.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"

#include <memory>
#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

/// What an operation may have done to the views into its container.
enum class ViewInvalidation { Reallocate, Rehash, Erase, Destroy, Call };

/// A view used after an operation that may have invalidated it.
struct StaleViewUse {
  /// Where the view is used (for a range-for: its range initialiser).
  SourceLocation UseLoc;
  /// The view as the source names it (`it`, `Pair.first`); empty for the
  /// hidden iterator of a range-for (RangeFor).
  std::string View;
  bool RangeFor = false;
  /// The container as the source spells it, or "the container".
  std::string Container;
  ViewInvalidation Why = ViewInvalidation::Reallocate;
  /// The invalidating operation, and the function it happens in when it is
  /// reached through a call (Callee; InLambda for a lambda's body).
  SourceLocation OpLoc;
  std::string Callee;
  bool InLambda = false;
  /// Where the view was obtained (invalid for a range-for).
  SourceLocation CreatedAt;
  /// The view copies the pointer field ViaField, and StoredAt stores a
  /// view into the container in it.
  std::string ViaField;
  SourceLocation StoredAt;
};

/// A view into a local container that a member function of the same
/// object keeps in a field of `this`, read later by another member
/// function: the field dangles once the local dies.
struct ViewKeptInField {
  /// The call that hands it over: one call may pass several such views (a
  /// finding per call is enough to fix it).
  const CallExpr *Call = nullptr;
  /// The argument passed to the keeper.
  SourceLocation Loc;
  std::string View;   ///< the argument as written
  std::string Local;  ///< the local container
  std::string Keeper; ///< the member function that stores it
  std::string Field;
  SourceLocation KeptAt; ///< the store into the field
  SourceLocation ReadAt; ///< a later read of the field
  std::string Reader;    ///< the member function that reads it
};

class FieldViewModel;

/// The analysis of one unit's functions. It remembers, per unit, where
/// pointer fields may point (call endUnit() between units).
class ContainerViewAnalysis {
public:
  /// \p AssumeUnknownCallsInvalidate: a call to a function with no visible
  /// body that can reach a container through a non-const reference,
  /// pointer or `this` may invalidate the views into it.
  ContainerViewAnalysis(const ContainerModel &Model,
                        bool AssumeUnknownCallsInvalidate);
  ~ContainerViewAnalysis();

  /// The uses of views that \p Function creates, after an operation that
  /// may have invalidated them: for each view, the first such use after
  /// the operation, in source order.
  std::vector<StaleViewUse> staleUses(const FunctionDecl &Function,
                                      ASTContext &Context);
  /// The views into locals of \p Method that it hands to another member
  /// function of its class that keeps them in a field: per call, one for
  /// each such argument, in order.
  std::vector<ViewKeptInField> viewsKeptInFields(const CXXMethodDecl &Method,
                                                 ASTContext &Context) const;
  void endUnit();

private:
  const ContainerModel &Model;
  bool AssumeUnknownCallsInvalidate;
  /// Built on the first read of a pointer field in the unit.
  std::unique_ptr<FieldViewModel> FieldViews;
};

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_CONTAINERVIEWS_H
