//===--- EndlessLoops.h - loops that nothing can end ----------------------===//
//
// A loop "can never end" when its condition is a constant true (`while
// (true)`, `for (;;)`, `while (1)`, `do ... while (true)`) and none of its
// exits can be taken because of something that changes: an exit is a
// `return`, a `break` out of this loop, a `throw` not caught inside the
// loop, a `goto` to a label outside it, or a call of a [[noreturn]]
// function. An exit is live when it is reached unconditionally, or when one
// of the conditions guarding it may change while the loop runs: it calls a
// function (stop_token::stop_requested(), an atomic's load, `ch.closed()`,
// ...), reads a global, a member, a variable captured by reference, a
// reference or through a pointer, or reads a local that the loop modifies.
// A `catch` handler is guarded by the exception, which counts as a change.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_ENDLESSLOOPS_H
#define CONCGUARD_CHECKS_UTILS_ENDLESSLOOPS_H

#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace clang::tidy::concguard::utils {

/// Is \p Loop a loop whose condition is a constant true?
bool hasConstantTrueCondition(const Stmt &Loop, ASTContext &Context);

/// Is \p Loop a loop that can never end (see the file comment)?
/// \p Container is the function whose body holds the loop (it tells which
/// variables a lambda captured by copy); null if unknown.
bool isEndlessLoop(const Stmt &Loop, const FunctionDecl *Container,
                   ASTContext &Context);

struct EndlessLoop {
  /// The loop statement.
  const Stmt *Loop = nullptr;
  /// The function whose body contains the loop.
  const FunctionDecl *Function = nullptr;
  /// The calls that lead from the entry function to Function (empty when
  /// the loop is in the entry function itself).
  llvm::SmallVector<const CallExpr *, 4> CallPath;
};

/// Finds the first endless loop in \p Entry's body, or in a function it
/// calls whose body is in the translation unit (not in a system header),
/// following calls up to \p MaxCallDepth deep. Bodies of lambdas that are
/// only created, not called, are not searched.
std::optional<EndlessLoop> findEndlessLoop(const FunctionDecl &Entry,
                                           ASTContext &Context,
                                           unsigned MaxCallDepth);

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_ENDLESSLOOPS_H
