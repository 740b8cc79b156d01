//===--- ExprUtils.h - small expression helpers shared by the analyses ----===//

#ifndef CONCGUARD_CHECKS_UTILS_EXPRUTILS_H
#define CONCGUARD_CHECKS_UTILS_EXPRUTILS_H

#include "clang/AST/Expr.h"
#include "clang/AST/ExprCXX.h"

namespace clang::tidy::concguard::utils {

/// Strips what stands between an expression and the value it names without
/// changing it: parentheses, implicit casts, temporaries and their cleanups,
/// functional casts, and elidable copies or moves (C++14 and earlier).
inline const Expr *ignoreWrappers(const Expr *E) {
  while (E) {
    E = E->IgnoreParenImpCasts();
    if (const auto *Temp = dyn_cast<MaterializeTemporaryExpr>(E))
      E = Temp->getSubExpr();
    else if (const auto *Bind = dyn_cast<CXXBindTemporaryExpr>(E))
      E = Bind->getSubExpr();
    else if (const auto *Cleanups = dyn_cast<ExprWithCleanups>(E))
      E = Cleanups->getSubExpr();
    else if (const auto *Cast = dyn_cast<CXXFunctionalCastExpr>(E))
      E = Cast->getSubExpr();
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

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_EXPRUTILS_H
