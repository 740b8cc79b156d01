//===--- RetainedArguments.h - library calls that keep a pointer ----------===//
//
// The one model of the C library functions that keep a pointer argument
// after they return: the memory it points to becomes part of state that
// other code reads later, with no lock of the caller's (`putenv(p)` makes
// the string part of the process environment, which every getenv reads;
// `setvbuf(f, buf, ...)` makes buf the stream's buffer). Passing such a
// function a pointer into lock-guarded data is a store of that pointer into
// a global (concguard-escaping-guarded-reference).
//
// Recognised by name, for functions declared in a system header at file
// scope or in namespace std (`std::setvbuf` from <cstdio>); a project's own
// function of the same name is not the library's.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_RETAINEDARGUMENTS_H
#define CONCGUARD_CHECKS_UTILS_RETAINEDARGUMENTS_H

#include "clang/AST/Decl.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace clang::tidy::concguard::utils {

/// A pointer argument that a library function keeps.
struct RetainedArgument {
  unsigned Index;         ///< which argument
  llvm::StringRef Keeper; ///< what keeps it, for messages
};

/// The argument of a call of \p Callee that the function keeps after it
/// returns, if \p Callee is one of the library functions that do.
inline std::optional<RetainedArgument>
retainedPointerArgument(const FunctionDecl *Callee) {
  if (!Callee || !Callee->getIdentifier())
    return std::nullopt;
  const DeclContext *Context = Callee->getDeclContext()->getRedeclContext();
  if (!Context->isTranslationUnit() && !Context->isStdNamespace())
    return std::nullopt;
  const SourceManager &Sources = Callee->getASTContext().getSourceManager();
  if (!Sources.isInSystemHeader(Callee->getLocation()))
    return std::nullopt;
  struct Entry {
    llvm::StringLiteral Name;
    unsigned Index;
    llvm::StringLiteral Keeper;
  };
  // POSIX: putenv's string "shall become part of the environment";
  // setbuf/setvbuf's array is the stream's buffer until it is closed;
  // pthread_setspecific stores the value for the key, read back by
  // pthread_getspecific.
  static constexpr Entry Table[] = {
      {"putenv", 0, "the process environment"},
      {"setbuf", 1, "the stream, as its buffer"},
      {"setvbuf", 1, "the stream, as its buffer"},
      {"pthread_setspecific", 1, "the thread-specific data of its key"},
  };
  llvm::StringRef Name = Callee->getName();
  for (const Entry &E : Table)
    if (Name == E.Name && E.Index < Callee->getNumParams() &&
        Callee->getParamDecl(E.Index)->getType()->isPointerType())
      return RetainedArgument{E.Index, E.Keeper};
  return std::nullopt;
}

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_RETAINEDARGUMENTS_H
