//===--- ContainerAccess.h - is this use of a container a write? ----------===//
//
// The one rule for what a use of a container does to it, as the race
// analyses see it (concguard-unsynchronized-container, the per-unit facts of
// the whole-program phase): a read, a write of an element in place, or a
// structural write (size, layout or node links change). A member call or
// operator is classified by ContainerModel; an element it hands out counts
// as written when its user assigns, increments or calls a non-const member
// on it; a container passed by non-const reference or pointer is a
// structural write unless the callee's body is visible (the caller follows
// it as a call) or it is a library template that forwards the argument
// unmodified.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_CONTAINERACCESS_H
#define CONCGUARD_CHECKS_UTILS_CONTAINERACCESS_H

#include "ContainerModel.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "clang/AST/ParentMap.h"
#include "clang/Analysis/Analyses/ExprMutationAnalyzer.h"

namespace clang::tidy::concguard::utils {

/// Classifies the uses of containers in one function body (it memoises
/// mutation queries, so build one per body).
class ContainerAccessClassifier {
public:
  /// \p BodyParents: the parents of the statements of the body being
  /// classified. A ParentMap of one body rather than the ASTContext's parent
  /// map, whose first use walks the whole translation unit, standard library
  /// included: the whole-program facts classify every function of every unit
  /// (with the ASTContext's map they cost 1.19x the per-unit audit on
  /// leveldb; with a body's map, 1.00x).
  ContainerAccessClassifier(ASTContext &Context, const ContainerModel &Model,
                            const ParentMap &BodyParents)
      : Context(Context), Model(Model), BodyParents(BodyParents) {}

  /// What the use \p Object (an expression of container type, or the
  /// dereference of a pointer to one) does to the container. \p Operation is
  /// set to the expression that performs the access: the member or operator
  /// call, the call the container is passed to when that may modify it, or
  /// \p Object itself.
  AccessKind classify(const Expr *Object, const Expr *&Operation);

  /// Does the use \p Object copy the whole container: the argument of a
  /// copy constructor (`return Names;` from a function returning by value,
  /// `auto Copy = Names;`) or the right side of a copy assignment? Such a
  /// read walks every element and, unlike `size()` or `empty()`, reads
  /// storage that a concurrent structural write may free.
  bool copiesWhole(const Expr *Object);

  /// The parent of \p E across implicit casts, parentheses and temporaries;
  /// \p Child is set to the last node climbed (the child of the result).
  const Stmt *semanticParent(const Expr *E, const Expr *&Child);

private:
  const Stmt *parentOf(const Stmt *S);
  bool resultIsWritten(const Expr *E);
  bool forwardsUnmodified(const FunctionDecl &Callee, unsigned Index);

  ASTContext &Context;
  const ContainerModel &Model;
  const ParentMap &BodyParents;
  ExprMutationAnalyzer::Memoized MutationMemo;
};

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_CONTAINERACCESS_H
