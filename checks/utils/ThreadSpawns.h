//===--- ThreadSpawns.h - where threads start and what they run -----------===//
//
// The shared model of spawn sites (see ../shared/DESIGN.md, "Semantics every
// check shares"): std::thread and std::jthread constructed directly, by
// assignment, with `new`, or in place in a container of threads
// (`pool.emplace_back(f, args...)`); std::async; pthread_create; and the
// configured spawn functions. For each, the callable is resolved to the
// function whose body runs on the new thread: a lambda, a function or function
// pointer, a member function pointer with its object, or a functor, also
// through std::bind / std::bind_front / boost::bind (with the bound
// arguments) and a std::function made from one of these.
//
// Two kinds of start are inferred from the code, without configuration:
// thread pools (a class whose worker threads take callables out of a member
// queue and call them, with a method that puts its callable parameter into
// that queue: each call of that method submits a task), and spawn wrappers
// (a function that hands its callable parameter to a thread start).
//
// Work posted to boost::asio (`post`, `dispatch`, `defer`, the 1.74 member
// functions `io_context::post`/`dispatch` and `strand::post`/`dispatch`) and
// the completion handlers of its asynchronous operations (`async_*` member
// functions of I/O objects, free `async_*` functions on a stream) are tasks
// too: they run on the threads that run the execution context
// (SpawnSite::Asio says which context, and which strand if any). Which
// threads those are is decided where the spawn sites of a whole unit are
// known (SharedContainers.cpp), with asioRunObject() and
// asioThreadPoolThreads().
//
// Parallel algorithms (a standard algorithm given std::execution::par or
// par_unseq, TBB's parallel_for and parallel_for_each) run their body on
// several threads at once and return when all are done
// (SpawnKind::ParallelAlgorithm); a tbb::task_group's run(f) is a task until
// the group's wait().
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
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

/// A place in another unit, as the project index gives it (an absolute
/// path, 1-based line and column).
struct IndexedPlace {
  std::string File;
  unsigned Line = 0;
  unsigned Column = 0;
};

/// A function of another unit that the whole-program facts know starts
/// threads with its callable parameter: a thread pool's submit method
/// (ProgramFacts.h's FactPoolSubmit; its calls are pool tasks) or a spawn
/// wrapper (FunctionFacts::SpawnWrapper).
struct IndexedSpawnFunction {
  std::string USR;
  /// The file that defines it: the facts of a unit that calls it depend on
  /// that file.
  std::string DefinedIn;
  bool Pool = false;
  /// For a pool: it has a single worker, which starts here (for notes).
  bool SingleWorker = false;
  IndexedPlace WorkerStart;
  /// For a pool: the USRs of its class's methods that wait for its tasks or
  /// end its workers (isPoolBarrier() on their bodies there).
  std::vector<std::string> Barriers;
};

/// A user function that starts a thread: its fully qualified name and the
/// index of the argument that is the callable.
struct SpawnFunction {
  std::string QualifiedName;
  unsigned CallableIndex = 0;
  /// Set for a function of another unit (IndexedSpawnFunction), matched by
  /// its USR instead of QualifiedName (empty).
  std::optional<IndexedSpawnFunction> Indexed;
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
  StdThread,         ///< std::thread
  JThread,           ///< std::jthread
  Async,             ///< std::async with launch::async or the default policy
  PthreadCreate,     ///< pthread_create
  SpawnFunction,     ///< a function named in the SpawnFunctions option, or an
                     ///< inferred spawn wrapper (SpawnSite::InferredWrapper)
  PoolTask,          ///< a callable submitted to an inferred thread pool, a
                     ///< handler posted to boost::asio (SpawnSite::Asio), or a
                     ///< task run by a tbb::task_group
  BoostThread,       ///< boost::thread, or boost::thread_group::create_thread:
                     ///< a thread as std::thread is, but its destructor
                     ///< detaches (Boost.Thread's default) and interrupt()
                     ///< stops it at interruption points
  ThreadObject,      ///< a thread run by a library's thread object: a QThread
                     ///< subclass's run() started by start(), Poco::Thread's
                     ///< start(Runnable&)/startFunc(f), QtConcurrent::run(f);
                     ///< joined by join(), tryJoin(), wait(), waitForFinished()
                     ///< or result() on that object (SpawnSite::HandleDecl)
  ParallelAlgorithm, ///< the body of a parallel algorithm (std::for_each
                     ///< with std::execution::par, tbb::parallel_for, ...):
                     ///< it runs on several threads at once, and the call
                     ///< returns when they all have finished
};

/// Where a thread handle lives.
enum class HandleKind {
  None,      ///< a temporary (e.g. `std::thread(f).detach()`) or unknown
  Local,     ///< a local variable (Handle is a VarDecl)
  Member,    ///< a data member (Handle is a FieldDecl)
  Global,    ///< a namespace-scope or static variable
  Container, ///< an element of a container of threads (or of futures)
  Heap,      ///< `new std::thread(...)`, `std::make_unique<std::thread>(...)`
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
  /// When the callable is a binder (`std::bind(&C::run, this, x)`,
  /// `std::bind_front`, `boost::bind`): the arguments the bound function is
  /// called with, placeholders replaced by the call's own arguments. The
  /// object of a member function pointer comes first, as in Arguments.
  std::optional<llvm::SmallVector<const Expr *, 4>> BoundArguments;
};

/// A thread pool inferred by its shape (see threadPoolSubmit()).
struct ThreadPoolShape {
  /// The pool's class (for a virtual submit method: the overrider's).
  const CXXRecordDecl *Class = nullptr;
  /// The method that puts tasks into the queue (directly, or by handing
  /// them to another such method of the class).
  const CXXMethodDecl *Submit = nullptr;
  /// The index of the submit method's callable parameter.
  unsigned CallableIndex = 0;
  /// The member container the tasks wait in.
  const FieldDecl *Queue = nullptr;
  /// A start of one of the worker threads that take tasks from the queue.
  const Expr *WorkerStart = nullptr;
  /// The class starts exactly one worker thread, outside any loop: its tasks
  /// run one after another, never at the same time as each other.
  bool SingleWorker = false;
  /// For a pool defined in another unit (known from the project index,
  /// SpawnFunction::Pool): Queue and WorkerStart are null, and this says
  /// where a worker starts, and these are the USRs of the class's
  /// barriers (IndexedSpawnFunction::Barriers).
  std::optional<IndexedPlace> WorkerStartInIndex;
  std::vector<std::string> BarriersInIndex;
};

/// A handler posted to a boost::asio execution context, or the completion
/// handler of an asynchronous operation of an I/O object made from one.
struct AsioSubmission {
  /// The execution context the handler runs on (an io_context / io_service
  /// or a thread_pool), through ignoreWrappers: `Ctx` in `post(Ctx, f)`,
  /// `post(Ctx.get_executor(), f)` or `Ctx.post(f)`, or the context a
  /// strand was made from (`make_strand(Ctx)`, `io_context::strand S(Ctx)`,
  /// in a variable's initializer or a constructor's member initializer, so
  /// possibly outside the posting function). Null when it cannot be seen (an
  /// executor parameter, a polymorphic executor).
  const Expr *Context = nullptr;
  /// The context is a boost::asio::thread_pool, which runs its handlers on
  /// its own threads.
  bool ThreadPool = false;
  /// The named strand the handler runs through (`post(S, f)`, `S.post(f)`,
  /// `post(Ctx, S.wrap(f))`, `post(Ctx, bind_executor(S, f))`), through
  /// ignoreWrappers; null for none or a temporary strand (`post(
  /// make_strand(Ctx), f)` serialises the handler with nothing else). For a
  /// completion handler of an I/O object made from a temporary strand
  /// (`Socket(make_strand(Ctx))`), the I/O object: its handlers run one
  /// after another.
  const Expr *Strand = nullptr;
};

struct SpawnSite {
  SpawnKind Kind = SpawnKind::StdThread;
  /// The expression that starts the thread: the CXXConstructExpr of the
  /// thread, the call of std::async / pthread_create / a spawn function, or
  /// the emplace call of a container of threads.
  const Expr *Spawn = nullptr;
  /// The callable argument as written.
  const Expr *Callable = nullptr;
  /// The arguments the thread's function is called with: those after the
  /// callable, or for a binder the bound ones (ThreadEntry::BoundArguments).
  llvm::SmallVector<const Expr *, 4> Arguments;
  ThreadEntry Entry;
  HandleKind Handle = HandleKind::None;
  /// The variable or field that holds the thread handle (or the std::future
  /// of std::async), when there is one; for a thread on the heap, the
  /// variable or field that owns the pointer (raw, std::unique_ptr or
  /// std::shared_ptr).
  const ValueDecl *HandleDecl = nullptr;
  /// True when the result of the spawn is discarded (an expression statement
  /// `std::async(...);` whose temporary future blocks in its destructor).
  bool ResultDiscarded = false;
  /// The function in which the spawn occurs.
  const FunctionDecl *EnclosingFunction = nullptr;
  /// For a PoolTask: the pool, and the object the task is submitted to
  /// (through ignoreWrappers; for `P->submit(f)` on a smart pointer, P).
  std::optional<ThreadPoolShape> Pool;
  const Expr *PoolObject = nullptr;
  /// For a SpawnFunction: no option names it; its body hands its callable
  /// parameter to a thread start (inferredSpawnWrapper()).
  bool InferredWrapper = false;
  /// The spawn function (a pool's submit method, a spawn wrapper) is
  /// defined in another unit and known from the whole-program facts
  /// (SpawnFunction::Indexed).
  bool FromOtherUnit = false;
  /// For a PoolTask posted to boost::asio (Pool is then empty, PoolObject
  /// is Asio->Context).
  std::optional<AsioSubmission> Asio;
};

/// Is \p T (ignoring cv, references and typedefs) one of the std thread
/// handle types?
bool isStdThreadType(QualType T);
bool isStdJThreadType(QualType T);
/// Is \p T (ignoring references) boost::thread?
bool isBoostThreadType(QualType T);
/// Is \p T (ignoring references) boost::thread_group?
bool isBoostThreadGroupType(QualType T);
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

/// For a call that runs handlers of a boost::asio context on the calling
/// thread (`Ctx.run()`, `run_one`, `run_for`, `run_until`, `poll`,
/// `poll_one` on an io_context / io_service; `Pool.attach()` on a
/// thread_pool): the context object, through ignoreWrappers.
const Expr *asioRunObject(const CallExpr &Call);

/// Is \p F one of the member functions asioRunObject() recognises (for
/// `std::thread(boost::bind(&io_context::run, &Ctx))`)?
bool isAsioRunMethod(const FunctionDecl *F);

/// Is \p T (ignoring references) boost::asio::thread_pool?
bool isAsioThreadPoolType(QualType T);

/// The number of threads a boost::asio::thread_pool starts, when it is
/// declared by \p Pool with a constant count (`thread_pool P(2);`, a
/// member initialized with one in every constructor or in its declaration);
/// nothing when it is not known (the default constructor starts one per
/// core, a count read at run time).
std::optional<uint64_t> asioThreadPoolThreads(const ValueDecl &Pool,
                                              ASTContext &Context);

/// Is \p Method, called with a callable, the submit method of a thread pool?
/// The shape, with no configuration: the method has a callable parameter
/// (a std::function, a template functor, a function pointer, a
/// std::packaged_task) that it puts, itself or through locals made from it
/// (`std::bind(std::forward<F>(f), args...)`, a `std::packaged_task` in a
/// `std::shared_ptr`, a lambda capturing either), into a member container of
/// its class (`push`, `push_back`, `emplace`, ...), or hands to another
/// such method of the class (BS::thread_pool's `submit` calls `push_task`);
/// and a thread started by a member function of that class runs a function
/// that takes elements out of that same member (`front`, `top`, `pop`, ...)
/// and invokes a callable. A method that also waits (joins a thread, waits
/// for a std::future) runs its task to completion and is no submit. A
/// virtual method without a body stands for its overriders in the
/// translation unit, when every one of them is such a submit method.
std::optional<ThreadPoolShape> threadPoolSubmit(const CXXMethodDecl &Method,
                                                ASTContext &Context);

/// Does a call of \p Method of a pool wait for the pool's tasks? A method
/// that joins std::threads (itself or through a member function of its
/// class it calls), or whose name says it waits or ends the pool
/// (containing `wait`, or `join`, `join_all`, `shutdown`, `stop`, `drain`).
bool isPoolBarrier(const CXXMethodDecl &Method);

/// Is \p Function a spawn wrapper: a function that hands its callable
/// parameter (or a local made from it) to a thread start in its body
/// (std::thread, std::jthread, std::async, pthread_create, `new
/// std::thread`, ...), or to another spawn wrapper (two levels in all), and
/// neither joins nor waits in its body? A std::jthread or std::async start
/// counts only when the handle leaves the function (returned, or stored in
/// a member or global): a local one is joined at the end of the wrapper.
/// Returns the index of the callable parameter.
std::optional<unsigned> inferredSpawnWrapper(const FunctionDecl &Function,
                                             ASTContext &Context);

/// For a spawn into a container (HandleKind::Container): the container
/// call it is part of, `C.emplace_back(f)` itself or the
/// `C.push_back(std::thread(f))` / `C.push_back(std::async(f))` around it.
const CXXMemberCallExpr *containerCall(const SpawnSite &Site,
                                       ASTContext &Context);

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
  Cancel,        ///< `pthread_cancel(h)`: asks the thread to stop, and
                 ///< does not wait for it: it must still be joined
};

/// A call that acts on a thread handle.
struct ThreadLifetimeCall {
  ThreadLifetimeOp Op;
  /// The handle, through ignoreWrappers: the object of a member call (for
  /// `P->join()` the pointer P, raw or smart), or pthread_join's first
  /// argument.
  const Expr *Handle = nullptr;
  /// pthread_join (a pthread_t handle) rather than a member call.
  bool IsPthread = false;
};

/// Recognises the calls that join, detach, swap, query, cancel or wait for a
/// thread handle, by name (member calls on any object; `pthread_join`,
/// `pthread_timedjoin_np`, `pthread_tryjoin_np`, `pthread_detach` and
/// `pthread_cancel` as free functions). Whether \p Call acts on the thread the
/// caller follows (the handle's object or access path) and whether the
/// operation matters for its kind of thread (Wait only for std::async futures)
/// is the caller's question; this is the one list of the operations.
std::optional<ThreadLifetimeCall> threadLifetimeCall(const CallExpr &Call);

/// Does \p Op leave the handle without a running thread of its own (join,
/// detach, swap)?
bool releasesThread(ThreadLifetimeOp Op);

/// For a pthread_create: a `pthread_cancel` of the same handle from which
/// the start is reached, in its function, without a join or detach of that
/// handle in between. The start then overwrites the only handle of a thread
/// that was asked to stop but never waited for: it can no longer be joined
/// (its resources are never released, and nothing knows when it stopped).
const CallExpr *cancelledHandleOverwritten(const SpawnSite &Site,
                                           ASTContext &Context);

//===----------------------------------------------------------------------===//
// Exception edges: threads destroyed while joinable when a start throws
//===----------------------------------------------------------------------===//

/// A container of std::thread filled in a loop, where a start that throws
/// (std::system_error when no thread can be created, std::bad_alloc when the
/// container grows) unwinds past the container while the threads already in
/// it are joinable: their destructors call std::terminate.
struct UnwoundThreadContainer {
  /// The container: a local variable of the function, or a data member of
  /// the class whose constructor fills it (when a constructor exits by an
  /// exception, the members are destroyed and the destructor, which would
  /// join them, never runs).
  const ValueDecl *Container = nullptr;
  /// The loop that fills it.
  const Stmt *Loop = nullptr;
  /// The constructor, for a member.
  const CXXConstructorDecl *Constructor = nullptr;
};

/// For a spawn into a container of std::thread (HandleKind::Container): is
/// it the shape above? Not when a `try` in the function encloses the loop
/// (its handler may join the threads), for containers of std::jthread
/// (their destructors join), or for members filled outside a constructor
/// (the object survives the exception, and whatever joins its threads
/// later still can).
std::optional<UnwoundThreadContainer>
unwoundThreadContainer(const SpawnSite &Site, ASTContext &Context);

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_THREADSPAWNS_H
