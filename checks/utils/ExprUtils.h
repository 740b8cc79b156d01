//===--- ExprUtils.h - expression strippers shared by the analyses --------===//
//
// Every analysis that asks "which object or callable does this expression
// name?" first strips the nodes in between. The rules differ on purpose (a
// cast changes nothing for a view, a copy of a closure is the same callable,
// a copy of a container is not the same container), so each variant lives
// here, named for what it strips; pick the one whose question you ask.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_EXPRUTILS_H
#define CONCGUARD_CHECKS_UTILS_EXPRUTILS_H

#include "StdNames.h"

#include "clang/AST/Expr.h"
#include "clang/AST/ExprCXX.h"

namespace clang::tidy::concguard::utils {

/// The one step every stripper below takes: the operand of a node that
/// only materialises, binds or cleans up a temporary, or of a functional
/// cast (`T(x)` of one argument); nullptr for any other node.
inline const Expr *temporaryWrapperOperand(const Expr *E) {
  if (const auto *Temp = dyn_cast<MaterializeTemporaryExpr>(E))
    return Temp->getSubExpr();
  if (const auto *Bind = dyn_cast<CXXBindTemporaryExpr>(E))
    return Bind->getSubExpr();
  if (const auto *Cleanups = dyn_cast<ExprWithCleanups>(E))
    return Cleanups->getSubExpr();
  if (const auto *Cast = dyn_cast<CXXFunctionalCastExpr>(E))
    return Cast->getSubExpr();
  return nullptr;
}

/// Strips what stands between an expression and the object it names without
/// changing it: parentheses, implicit casts, temporaries and their cleanups,
/// functional casts, and elidable copies or moves (C++14 and earlier; only a
/// copy or move constructor can be elided). The default for "which object".
inline const Expr *ignoreWrappers(const Expr *E) {
  while (E) {
    E = E->IgnoreParenImpCasts();
    if (const Expr *Operand = temporaryWrapperOperand(E))
      E = Operand;
    else if (const auto *Construct = dyn_cast<CXXConstructExpr>(E);
             Construct && Construct->getNumArgs() == 1 &&
             Construct->isElidable() &&
             Construct->getConstructor()->isCopyOrMoveConstructor())
      E = Construct->getArg(0);
    else
      return E;
  }
  return E;
}

/// Like ignoreWrappers, but also looks through explicit static_cast and
/// C-style casts, and never through a copy or move, elided or not. For views
/// into containers: a cast of a pointer or iterator still points into the
/// same container, while a copied container is a new object whose views do
/// not dangle when the original changes.
/// (It takes one implicit cast at a time rather than IgnoreParenImpCasts,
/// which would also skip template argument substitutions.)
inline const Expr *ignoreWrappersAndExplicitCasts(const Expr *E) {
  while (E) {
    const Expr *Old = E;
    E = E->IgnoreParens();
    if (const auto *Cast = dyn_cast<ImplicitCastExpr>(E))
      E = Cast->getSubExpr();
    else if (const Expr *Operand = temporaryWrapperOperand(E))
      E = Operand;
    else if (const auto *Static = dyn_cast<CXXStaticCastExpr>(E))
      E = Static->getSubExpr();
    else if (const auto *CStyle = dyn_cast<CStyleCastExpr>(E))
      E = CStyle->getSubExpr();
    if (E == Old)
      return E;
  }
  return E;
}

/// Like ignoreWrappers, but also looks through every copy or move
/// construction (elided or not) and std::move. For callables handed to a
/// thread or task: a copied or moved closure runs the same body, so the
/// callable is whatever was copied.
inline const Expr *ignoreCallableCopies(const Expr *E) {
  while (E) {
    E = ignoreWrappers(E);
    if (const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(E);
        Construct && Construct->getNumArgs() == 1 &&
        Construct->getConstructor()->isCopyOrMoveConstructor())
      E = Construct->getArg(0);
    else if (const auto *Call = dyn_cast_or_null<CallExpr>(E);
             Call && Call->getNumArgs() == 1 && Call->isCallToStdMove())
      E = Call->getArg(0);
    else
      return E;
  }
  return E;
}

/// `std::ref(x)` / `std::cref(x)` -> x (through ignoreWrappers on both
/// sides); anything else -> ignoreWrappers(E). For arguments passed to a
/// thread: a reference wrapper shares x with the thread instead of copying
/// it. \p IsConst, when given, is set for std::cref.
inline const Expr *unwrapStdRef(const Expr *E, bool *IsConst = nullptr) {
  E = ignoreWrappers(E);
  if (const auto *Call = dyn_cast_or_null<CallExpr>(E))
    if (const FunctionDecl *Callee = Call->getDirectCallee();
        isStdDeclNamed(Callee, {"ref", "cref"}) && Call->getNumArgs() == 1) {
      if (IsConst)
        *IsConst = Callee->getName() == "cref";
      return ignoreWrappers(Call->getArg(0));
    }
  return E;
}

/// Is there a statement in \p S, \p S itself included, that \p Wanted
/// accepts? The bodies of the lambdas \p S creates are searched only with
/// \p IntoLambdas (a lambda's body runs where the lambda is called).
template <typename Predicate>
bool anyStmtIn(const Stmt *S, const Predicate &Wanted, bool IntoLambdas) {
  if (!S)
    return false;
  if (Wanted(S))
    return true;
  if (!IntoLambdas && isa<LambdaExpr>(S))
    return false;
  for (const Stmt *Child : S->children())
    if (anyStmtIn(Child, Wanted, IntoLambdas))
      return true;
  return false;
}

/// Does \p S name, anywhere inside it (the bodies of lambdas it creates and
/// the initialisers of the variables it declares included), a declaration
/// that \p Wanted accepts?
template <typename Predicate>
bool refersToDecl(const Stmt *S, const Predicate &Wanted) {
  if (!S)
    return false;
  if (const auto *Ref = dyn_cast<DeclRefExpr>(S); Ref && Wanted(Ref->getDecl()))
    return true;
  for (const Stmt *Child : S->children())
    if (refersToDecl(Child, Wanted))
      return true;
  return false;
}

/// Does \p S name \p D anywhere inside it (see refersToDecl)?
inline bool refersTo(const Stmt &S, const Decl &D) {
  const Decl *Canonical = D.getCanonicalDecl();
  return refersToDecl(&S, [&](const Decl *Named) {
    return Named->getCanonicalDecl() == Canonical;
  });
}

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_EXPRUTILS_H
