//===--- ThreadSpawns.h - where threads start and what they run -----------===//
//
// The shared model of spawn sites (see ../shared/DESIGN.md, "Semantics every
// check shares"): std::thread and std::jthread constructed directly, by
// assignment, with `new`, or in place in a container of threads
// (`pool.emplace_back(f, args...)`); std::async; pthread_create; and the
// configured spawn functions. For each, the callable is resolved to the
// function whose body runs on the new thread: a lambda, a function or function
// pointer, a member function pointer with its object, or a functor.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_THREADSPAWNS_H
#define CONCGUARD_CHECKS_UTILS_THREADSPAWNS_H

#include "clang/AST/Decl.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/Expr.h"
#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchers.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

/// A user function that starts a thread: its fully qualified name and the
/// index of the argument that is the callable.
struct SpawnFunction {
  std::string QualifiedName;
  unsigned CallableIndex = 0;
};

/// Parses the `SpawnFunctions` option: `name:index` entries separated by ';'
/// or ',' (e.g. `::mylib::spawn:0;Pool::submit:1`). A name without an index
/// takes its callable as argument 0. Entries that do not parse are returned
/// in \p Invalid so the caller can report them.
std::vector<SpawnFunction>
parseSpawnFunctions(llvm::StringRef Option,
                    std::vector<std::string> *Invalid = nullptr);

/// Serializes \p Functions back into the option's syntax.
std::string formatSpawnFunctions(llvm::ArrayRef<SpawnFunction> Functions);

enum class SpawnKind {
  StdThread,     ///< std::thread
  JThread,       ///< std::jthread
  Async,         ///< std::async with launch::async or the default policy
  PthreadCreate, ///< pthread_create
  SpawnFunction, ///< a function named in the SpawnFunctions option
};

/// Where a thread handle lives.
enum class HandleKind {
  None,      ///< a temporary (e.g. `std::thread(f).detach()`) or unknown
  Local,     ///< a local variable (Handle is a VarDecl)
  Member,    ///< a data member (Handle is a FieldDecl)
  Global,    ///< a namespace-scope or static variable
  Container, ///< an element of a container of threads
  Heap,      ///< `new std::thread(...)`
};

/// The function whose body runs on the new thread.
struct ThreadEntry {
  /// The function that runs (lambda call operator, free function, member
  /// function, functor call operator); null when it cannot be resolved.
  const FunctionDecl *Function = nullptr;
  /// The lambda, when the callable is one.
  const LambdaExpr *Lambda = nullptr;
  /// For a member function pointer: the object argument (often `this`).
  const Expr *Object = nullptr;
  /// For std::jthread: the std::stop_token parameter the callable takes.
  const ParmVarDecl *StopToken = nullptr;
};

struct SpawnSite {
  SpawnKind Kind = SpawnKind::StdThread;
  /// The expression that starts the thread: the CXXConstructExpr of the
  /// thread, the call of std::async / pthread_create / a spawn function, or
  /// the emplace call of a container of threads.
  const Expr *Spawn = nullptr;
  /// The callable argument as written.
  const Expr *Callable = nullptr;
  /// The arguments passed to the callable.
  llvm::SmallVector<const Expr *, 4> Arguments;
  ThreadEntry Entry;
  HandleKind Handle = HandleKind::None;
  /// The variable or field that holds the thread handle (or the std::future
  /// of std::async), when there is one.
  const ValueDecl *HandleDecl = nullptr;
  /// True when the result of the spawn is discarded (an expression statement
  /// `std::async(...);` whose temporary future blocks in its destructor).
  bool ResultDiscarded = false;
  /// The function in which the spawn occurs.
  const FunctionDecl *EnclosingFunction = nullptr;
};

/// Is \p T (ignoring cv, references and typedefs) one of the std thread
/// handle types?
bool isStdThreadType(QualType T);
bool isStdJThreadType(QualType T);
/// Is \p T std::stop_token (ignoring cv and references)?
bool isStopTokenType(QualType T);

/// A matcher for every expression that may start a thread; it binds the
/// expression to "spawn". Confirm and classify a match with analyzeSpawn().
ast_matchers::StatementMatcher
spawnExpressionMatcher(llvm::ArrayRef<SpawnFunction> SpawnFunctions);

/// Classifies a spawn expression found by spawnExpressionMatcher(): resolves
/// the callable and the handle. Returns nothing for expressions that do not
/// start a thread after all (e.g. std::async(std::launch::deferred, ...)).
std::optional<SpawnSite>
analyzeSpawn(const Expr *Spawn, ASTContext &Context,
             llvm::ArrayRef<SpawnFunction> SpawnFunctions);

/// Resolves a callable expression to the function it calls; \p Arguments are
/// the arguments after the callable (the object of a member function
/// pointer comes first).
ThreadEntry resolveCallable(const Expr *Callable,
                            llvm::ArrayRef<const Expr *> Arguments);

/// The function (or lambda call operator, or block) whose body contains
/// \p S, if any.
const FunctionDecl *enclosingFunction(const Stmt &S, ASTContext &Context);

//===----------------------------------------------------------------------===//
// Thread lifetimes: what ends or hands on a started thread
//===----------------------------------------------------------------------===//

/// What a call does to the thread a handle names.
enum class ThreadLifetimeOp {
  Join,          ///< `t.join()`, `pthread_join(h, ...)`: waits for the end
  Detach,        ///< `t.detach()`: the thread runs on, owned by no one
  Swap,          ///< `t.swap(u)`: the thread moves to another handle
  JoinableQuery, ///< `t.joinable()`
  Wait,          ///< `f.get()`, `f.wait()`: waits for a std::async task
};

/// A call that acts on a thread handle.
struct ThreadLifetimeCall {
  ThreadLifetimeOp Op;
  /// The handle, through ignoreWrappers: the object of a member call, or
  /// pthread_join's first argument.
  const Expr *Handle = nullptr;
  /// pthread_join (a pthread_t handle) rather than a member call.
  bool IsPthread = false;
};

/// Recognises the calls that join, detach, swap, query or wait for a thread
/// handle, by name (member calls on any object; `pthread_join` as a free
/// function). Whether \p Call acts on the thread the caller follows (the
/// handle's object or access path) and whether the operation matters for its
/// kind of thread (Wait only for std::async futures) is the caller's
/// question; this is the one list of the operations.
std::optional<ThreadLifetimeCall> threadLifetimeCall(const CallExpr &Call);

/// Does \p Op leave the handle without a running thread of its own (join,
/// detach, swap)?
bool releasesThread(ThreadLifetimeOp Op);

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_THREADSPAWNS_H
