//===--- ThreadSpawns.cpp - where threads start and what they run ---------===//

#include "ThreadSpawns.h"

#include "ContainerModel.h"
#include "ExprUtils.h"
#include "LockScopes.h"
#include "StdNames.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/ASTMatchers/ASTMatchers.h"
#include "clang/Analysis/CFG.h"
#include "clang/Index/USRGeneration.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace clang::ast_matchers;

namespace clang::tidy::concguard::utils {

std::vector<SpawnFunction>
parseSpawnFunctions(llvm::StringRef Option, std::vector<std::string> *Invalid) {
  std::vector<SpawnFunction> Result;
  llvm::SmallVector<llvm::StringRef, 8> Entries;
  std::string Normalized = Option.str();
  std::replace(Normalized.begin(), Normalized.end(), ',', ';');
  llvm::StringRef(Normalized).split(Entries, ';', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef Entry : Entries) {
    Entry = Entry.trim();
    if (Entry.empty())
      continue;
    SpawnFunction Function;
    // The index follows the last ':' that is not part of a '::'.
    size_t Colon = Entry.rfind(':');
    bool HasIndex =
        Colon != llvm::StringRef::npos && Colon > 0 && Entry[Colon - 1] != ':';
    llvm::StringRef Name = HasIndex ? Entry.take_front(Colon) : Entry;
    if (HasIndex && Entry.drop_front(Colon + 1).trim().getAsInteger(
                        10, Function.CallableIndex)) {
      if (Invalid)
        Invalid->push_back(Entry.str());
      continue;
    }
    Name = Name.trim();
    if (Name.empty() || Name.ends_with(":")) {
      if (Invalid)
        Invalid->push_back(Entry.str());
      continue;
    }
    Function.QualifiedName = Name.str();
    Result.push_back(std::move(Function));
  }
  return Result;
}

std::string formatSpawnFunctions(llvm::ArrayRef<SpawnFunction> Functions) {
  std::string Result;
  for (const SpawnFunction &Function : Functions) {
    if (!Result.empty())
      Result += ';';
    Result +=
        Function.QualifiedName + ":" + std::to_string(Function.CallableIndex);
  }
  return Result;
}

static const CXXRecordDecl *recordOf(QualType T) {
  if (T.isNull())
    return nullptr;
  return T.getNonReferenceType().getCanonicalType()->getAsCXXRecordDecl();
}

bool isStdThreadType(QualType T) { return isStdRecordType(T, {"thread"}); }

/// Is \p Record the class boost::<Name>?
static bool isBoostRecord(const CXXRecordDecl *Record, llvm::StringRef Name) {
  if (!Record || !Record->getIdentifier() || Record->getName() != Name)
    return false;
  const auto *Boost = dyn_cast<NamespaceDecl>(Record->getDeclContext());
  return Boost && Boost->getIdentifier() && Boost->getName() == "boost" &&
         Boost->getParent()->getRedeclContext()->isTranslationUnit();
}

/// Is \p T (ignoring references) the class boost::<Name>?
static bool isBoostRecordType(QualType T, llvm::StringRef Name) {
  return isBoostRecord(recordOf(T), Name);
}

bool isBoostThreadType(QualType T) { return isBoostRecordType(T, "thread"); }
bool isBoostThreadGroupType(QualType T) {
  if (T.isNull())
    return false;
  // Through a pointer or a smart pointer to the group.
  T = T.getNonReferenceType();
  if (T->isPointerType())
    T = T->getPointeeType();
  else if (const auto *Smart =
               dyn_cast_or_null<ClassTemplateSpecializationDecl>(recordOf(T));
           Smart && Smart->getIdentifier() &&
           llvm::is_contained({"unique_ptr", "shared_ptr", "scoped_ptr"},
                              Smart->getName()) &&
           Smart->getTemplateArgs().size() > 0 &&
           Smart->getTemplateArgs()[0].getKind() == TemplateArgument::Type)
    T = Smart->getTemplateArgs()[0].getAsType();
  return isBoostRecordType(T, "thread_group");
}
bool isStdJThreadType(QualType T) { return isStdRecordType(T, {"jthread"}); }
bool isStopTokenType(QualType T) { return isStdRecordType(T, {"stop_token"}); }

/// Is \p T (ignoring references) something a pool or a spawn wrapper can
/// take as the work to run: a function or function pointer, a
/// std::function / boost::function / std::move_only_function, a
/// std::packaged_task, or a class with a call operator (a lambda, a binder's
/// result, a functor)?
static bool isCallableType(QualType T) {
  if (T.isNull())
    return false;
  T = T.getNonReferenceType().getCanonicalType();
  if (T->isFunctionType() || T->isFunctionPointerType())
    return true;
  const CXXRecordDecl *Record = T->getAsCXXRecordDecl();
  if (!Record)
    return false;
  if (isStdRecordType(T, {"function", "move_only_function", "copyable_function",
                          "packaged_task"}))
    return true;
  Record = Record->getDefinition();
  if (!Record)
    return false;
  if (Record->isLambda())
    return true;
  for (const Decl *D : Record->decls()) {
    const auto *Method = dyn_cast<CXXMethodDecl>(D);
    if (const auto *Template = dyn_cast<FunctionTemplateDecl>(D))
      Method = dyn_cast<CXXMethodDecl>(Template->getTemplatedDecl());
    if (Method && Method->getOverloadedOperator() == OO_Call)
      return true;
  }
  return false;
}

namespace {
/// A function with a parameter of callable type: a call of it may submit a
/// task to a pool or start a thread through a wrapper (analyzeSpawn
/// decides).
AST_MATCHER(FunctionDecl, hasCallableParameter) {
  return llvm::any_of(Node.parameters(), [](const ParmVarDecl *Param) {
    return isCallableType(Param->getType());
  });
}
} // namespace

/// The direct thread starts: every start the shared model knows except the
/// configured and inferred spawn functions and the pools.
static StatementMatcher directThreadStartMatcher() {
  auto ThreadClass = cxxRecordDecl(
      hasAnyName("::std::thread", "::std::jthread", "::boost::thread"));
  auto StartingConstructor =
      cxxConstructExpr(hasDeclaration(cxxConstructorDecl(
                           ofClass(ThreadClass), unless(isCopyConstructor()),
                           unless(isMoveConstructor()))),
                       argumentCountAtLeast(1));
  auto ThreadContainer = classTemplateSpecializationDecl(hasTemplateArgument(
      0, refersToType(qualType(hasDeclaration(ThreadClass)))));
  auto EmplaceIntoContainer = cxxMemberCallExpr(
      callee(
          cxxMethodDecl(hasAnyName("emplace_back", "emplace_front", "emplace"),
                        ofClass(ThreadContainer))),
      argumentCountAtLeast(1));
  auto StdFunctions = callExpr(
      callee(functionDecl(hasAnyName("::std::async", "::pthread_create"))));
  auto MakeThread = callExpr(
      callee(functionDecl(
          hasAnyName("::std::make_unique", "::std::make_shared",
                     "::boost::make_shared", "::boost::make_unique"),
          hasTemplateArgument(
              0, refersToType(qualType(hasDeclaration(ThreadClass)))))),
      argumentCountAtLeast(1));
  // Library thread objects (threadObjectStart decides).
  auto ObjectStart = cxxMemberCallExpr(callee(cxxMethodDecl(
      hasAnyName("start", "startFunc", "tryStart"),
      ofClass(hasAnyName("::QThread", "::QThreadPool", "::Poco::Thread",
                         "::Poco::ThreadPool")))));
  auto ConcurrentRun =
      callExpr(callee(functionDecl(hasName("::QtConcurrent::run"))),
               argumentCountAtLeast(1));
  auto CreateInGroup = cxxMemberCallExpr(
      callee(cxxMethodDecl(hasName("create_thread"),
                           ofClass(hasName("::boost::thread_group")))),
      argumentCountAtLeast(1));
  return expr(anyOf(StartingConstructor, EmplaceIntoContainer, StdFunctions,
                    MakeThread, CreateInGroup, ObjectStart, ConcurrentRun))
      .bind("spawn");
}

static bool isAsioAsyncOperation(const FunctionDecl *F);

/// Is \p Call a parallel algorithm, whose function-object argument runs on
/// several threads at once: a standard algorithm given the execution policy
/// `std::execution::par` or `par_unseq` (`std::for_each(par, B, E, f)`,
/// `std::transform(par, ...)`), or TBB's `parallel_for`,
/// `parallel_for_each` and `parallel_do`? (`seq` and `unseq` run on the
/// calling thread.)
static bool isParallelAlgorithmCall(const CallExpr &Call) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee || !Callee->getIdentifier())
    return false;
  if (Callee->isInStdNamespace()) {
    if (Call.getNumArgs() < 2)
      return false;
    const CXXRecordDecl *Policy = Call.getArg(0)
                                      ->getType()
                                      .getNonReferenceType()
                                      .getCanonicalType()
                                      ->getAsCXXRecordDecl();
    if (!Policy || !Policy->getIdentifier() ||
        (Policy->getName() != "parallel_policy" &&
         Policy->getName() != "parallel_unsequenced_policy"))
      return false;
    // libstdc++ declares the policies in __pstl::execution.
    return Policy->isInStdNamespace() ||
           outermostNamespaceName(Policy) == "__pstl";
  }
  return llvm::is_contained(
             {"parallel_for", "parallel_for_each", "parallel_do"},
             Callee->getName()) &&
         outermostNamespaceName(Callee) == "tbb";
}

/// Is \p Call `run(f)` on a tbb::task_group (or structured_task_group):
/// a task that runs on TBB's workers until the group's `wait()`?
static bool isTaskGroupRun(const CallExpr &Call) {
  const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call);
  const CXXMethodDecl *Method = Member ? Member->getMethodDecl() : nullptr;
  if (!Method || !Method->getIdentifier() || Method->getName() != "run" ||
      Member->getNumArgs() != 1)
    return false;
  const CXXRecordDecl *Group = Method->getParent();
  return Group && Group->getIdentifier() &&
         (Group->getName() == "task_group" ||
          Group->getName() == "structured_task_group") &&
         outermostNamespaceName(Group) == "tbb";
}

namespace {
AST_MATCHER(FunctionDecl, asioAsyncOperation) {
  return isAsioAsyncOperation(&Node);
}
AST_MATCHER(CallExpr, parallelWork) {
  return isParallelAlgorithmCall(Node) || isTaskGroupRun(Node);
}
} // namespace

/// Handlers posted to boost::asio (the member functions `post`/`dispatch`
/// of io_context and its strand are project-independent methods outside
/// std, which the inferred-start matcher already sees), and the completion
/// handlers of its asynchronous operations (`Timer.async_wait(h)`,
/// `async_write(Socket, Buffers, h)`).
static StatementMatcher asioPostMatcher() {
  return callExpr(anyOf(callee(functionDecl(hasAnyName(
                            "::boost::asio::post", "::boost::asio::dispatch",
                            "::boost::asio::defer", "::boost::asio::spawn"))),
                        callee(functionDecl(asioAsyncOperation()))),
                  argumentCountAtLeast(1));
}

/// Parallel algorithms and tbb::task_group tasks (isParallelAlgorithmCall,
/// isTaskGroupRun).
static StatementMatcher parallelWorkMatcher() {
  return callExpr(parallelWork());
}

StatementMatcher
spawnExpressionMatcher(llvm::ArrayRef<SpawnFunction> SpawnFunctions) {
  // Calls of project functions that take a callable: pool submits and
  // spawn wrappers are among them (inferred in analyzeSpawn).
  // A pool may come from a header on the system include path (an installed
  // header-only pool); a spawn wrapper is looked for in project code only.
  auto Inferred = callExpr(
      unless(cxxOperatorCallExpr()),
      callee(functionDecl(hasCallableParameter(),
                          anyOf(unless(isExpansionInSystemHeader()),
                                cxxMethodDecl(unless(isInStdNamespace()))))));
  std::vector<llvm::StringRef> Names;
  for (const SpawnFunction &Function : SpawnFunctions)
    if (!Function.QualifiedName.empty())
      Names.push_back(Function.QualifiedName);
  if (Names.empty())
    return expr(anyOf(directThreadStartMatcher(), asioPostMatcher(),
                      parallelWorkMatcher(), Inferred))
        .bind("spawn");
  auto Configured = callExpr(
      callee(functionDecl(hasAnyName(llvm::ArrayRef<llvm::StringRef>(Names)))));
  return expr(anyOf(directThreadStartMatcher(), asioPostMatcher(),
                    parallelWorkMatcher(), Configured, Inferred))
      .bind("spawn");
}

static const FunctionDecl *definitionOrDecl(const FunctionDecl *F) {
  if (!F)
    return nullptr;
  if (const FunctionDecl *Definition = F->getDefinition())
    return Definition;
  return F;
}

/// Is \p D a binder: std::bind, std::bind_front, std::bind_back or
/// boost::bind? Sets \p Front for the binders whose call arguments follow
/// the bound ones instead of reaching them through placeholders.
static bool isBinder(const FunctionDecl *D, bool &Front) {
  if (!D || !D->getIdentifier())
    return false;
  Front = D->getName() == "bind_front";
  if (isStdDeclNamed(D, {"bind", "bind_front"}))
    return true;
  // boost::bind itself, not the other libraries' binders inside boost.
  const auto *Namespace = dyn_cast<NamespaceDecl>(D->getDeclContext());
  return D->getName() == "bind" && Namespace && Namespace->getIdentifier() &&
         Namespace->getName() == "boost" &&
         Namespace->getParent()->getRedeclContext()->isTranslationUnit();
}

/// For a placeholder argument of a binder (`std::placeholders::_2`,
/// boost's `_2`): its number, counted from 1.
static std::optional<unsigned> placeholderNumber(const Expr *E) {
  const auto *Ref = dyn_cast_or_null<DeclRefExpr>(ignoreWrappers(E));
  const auto *Var = Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
  if (!Var || !Var->getIdentifier())
    return std::nullopt;
  llvm::StringRef Name = Var->getName();
  unsigned Number = 0;
  if (!Name.consume_front("_") || Name.getAsInteger(10, Number) || Number == 0)
    return std::nullopt;
  // Only the libraries' placeholder objects, not any variable named `_1`.
  const CXXRecordDecl *Type = Var->getType()->getAsCXXRecordDecl();
  if (!isStdOrBoostDecl(Type))
    return std::nullopt;
  return Number;
}

/// A std::function (or boost::function) constructed from a callable: the
/// callable. Copies and moves of another function object are not.
static const Expr *functionWrapperOperand(const Expr *E) {
  const auto *Construct = dyn_cast<CXXConstructExpr>(E);
  if (!Construct || Construct->getNumArgs() != 1 ||
      Construct->getConstructor()->isCopyOrMoveConstructor())
    return nullptr;
  const CXXRecordDecl *Record = Construct->getConstructor()->getParent();
  if (!Record || !Record->getIdentifier() || Record->getName() != "function" ||
      !isStdOrBoostDecl(Record))
    return nullptr;
  return Construct->getArg(0);
}

static ThreadEntry resolveCallableImpl(const Expr *Callable,
                                       llvm::ArrayRef<const Expr *> Arguments,
                                       unsigned Depth) {
  ThreadEntry Entry;
  const Expr *E = ignoreCallableCopies(Callable);
  if (!E || Depth > 4)
    return Entry;

  // `std::function<void()> f(g)`: whatever it was made from runs.
  if (const Expr *Wrapped = functionWrapperOperand(E))
    return resolveCallableImpl(Wrapped, Arguments, Depth + 1);

  // `std::bind(&C::run, this, x)`: the bound callable runs with the bound
  // arguments, placeholders standing for the arguments of the call.
  if (const auto *Bind = dyn_cast<CallExpr>(E)) {
    bool Front = false;
    if (isBinder(Bind->getDirectCallee(), Front) && Bind->getNumArgs() > 0) {
      llvm::SmallVector<const Expr *, 4> Bound;
      bool Known = true;
      for (const Expr *Arg : llvm::drop_begin(Bind->arguments())) {
        if (std::optional<unsigned> Number = placeholderNumber(Arg)) {
          // A placeholder without a matching argument (an asio completion
          // handler's `_1`, given the error code later): the arguments
          // from there on are not known; those before it are
          // (`std::bind(&C::handle, this, _1)` still runs on `this`).
          if (*Number > Arguments.size()) {
            Known = false;
            break;
          }
          Bound.push_back(Arguments[*Number - 1]);
          continue;
        }
        Bound.push_back(Arg);
      }
      if (Front && Known)
        Bound.append(Arguments.begin(), Arguments.end());
      Entry = resolveCallableImpl(Bind->getArg(0), Bound, Depth + 1);
      if (!Entry.BoundArguments)
        Entry.BoundArguments.emplace(Bound.begin(), Bound.end());
      return Entry;
    }
  }

  if (const auto *Lambda = dyn_cast<LambdaExpr>(E)) {
    Entry.Lambda = Lambda;
    Entry.Function = Lambda->getCallOperator();
  } else if (const auto *AddrOf = dyn_cast<UnaryOperator>(E);
             AddrOf && AddrOf->getOpcode() == UO_AddrOf) {
    if (const auto *Ref =
            dyn_cast<DeclRefExpr>(AddrOf->getSubExpr()->IgnoreParens())) {
      if (const auto *Method = dyn_cast<CXXMethodDecl>(Ref->getDecl());
          Method && !Method->isStatic()) {
        Entry.Function = definitionOrDecl(Method);
        if (!Arguments.empty())
          Entry.Object = Arguments.front();
      } else if (const auto *Function =
                     dyn_cast<FunctionDecl>(Ref->getDecl())) {
        Entry.Function = definitionOrDecl(Function);
      }
    }
  } else if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
    if (const auto *Function = dyn_cast<FunctionDecl>(Ref->getDecl())) {
      Entry.Function = definitionOrDecl(Function);
    } else if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl())) {
      // `auto worker = [&] {...}; std::thread t(worker);`,
      // `auto task = std::bind(&C::run, this); std::thread t(task);`
      if (Var->getInit())
        Entry = resolveCallableImpl(Var->getInit(), Arguments, Depth + 1);
    }
  }

  // A functor: an object whose class has exactly one call operator.
  if (!Entry.Function) {
    if (const CXXRecordDecl *Record = recordOf(E->getType());
        Record && Record->hasDefinition() && !Record->isLambda()) {
      const CXXMethodDecl *Call = nullptr;
      unsigned Count = 0;
      for (const CXXMethodDecl *Method : Record->methods())
        if (Method->getOverloadedOperator() == OO_Call) {
          Call = Method;
          ++Count;
        }
      if (Count == 1)
        Entry.Function = definitionOrDecl(Call);
    }
  }

  if (Entry.Function && Entry.Function->getNumParams() > 0 &&
      isStopTokenType(Entry.Function->getParamDecl(0)->getType()))
    Entry.StopToken = Entry.Function->getParamDecl(0);
  return Entry;
}

ThreadEntry resolveCallable(const Expr *Callable,
                            llvm::ArrayRef<const Expr *> Arguments) {
  return resolveCallableImpl(Callable, Arguments, 0);
}

const FunctionDecl *enclosingFunction(const Stmt &S, ASTContext &Context) {
  DynTypedNodeList Parents = Context.getParents(S);
  while (!Parents.empty()) {
    const DynTypedNode &Parent = Parents[0];
    if (const auto *Function = Parent.get<FunctionDecl>())
      return Function;
    if (const auto *Lambda = Parent.get<LambdaExpr>())
      return Lambda->getCallOperator();
    Parents = Context.getParents(Parent);
  }
  return nullptr;
}

/// Skips the nodes that wrap a spawn expression without changing what it
/// is, returning the first parent that does.
static DynTypedNode skipWrappers(DynTypedNode Node, ASTContext &Context) {
  while (true) {
    DynTypedNodeList Parents = Context.getParents(Node);
    if (Parents.empty())
      return Node;
    const DynTypedNode &Parent = Parents[0];
    const auto *E = Parent.get<Expr>();
    if (E &&
        (isa<ExprWithCleanups, MaterializeTemporaryExpr, CXXBindTemporaryExpr,
             ImplicitCastExpr, ParenExpr, CXXFunctionalCastExpr>(E))) {
      Node = Parent;
      continue;
    }
    // An elidable copy or move of the temporary (C++14 and earlier).
    if (const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(E);
        Construct && Construct->getNumArgs() == 1 &&
        Construct->getConstructor()->isCopyOrMoveConstructor()) {
      Node = Parent;
      continue;
    }
    return Parent;
  }
}

/// The variable or field an assignment or `reset()` stores into.
static const ValueDecl *storedInto(const Expr *Target) {
  Target = ignoreWrappers(Target);
  if (const auto *Ref = dyn_cast_or_null<DeclRefExpr>(Target))
    return dyn_cast<VarDecl>(Ref->getDecl());
  if (const auto *Member = dyn_cast_or_null<MemberExpr>(Target))
    return dyn_cast<FieldDecl>(Member->getMemberDecl());
  return nullptr;
}

/// For a thread created on the heap (`new std::thread(f)`,
/// `std::make_unique<std::thread>(f)`): the variable or field that owns the
/// pointer, through a smart pointer's construction, an assignment or
/// `reset()` (`T = new std::thread(f)`, `T.reset(new std::thread(f))`,
/// `std::unique_ptr<std::thread> T(new std::thread(f))`).
static const ValueDecl *heapThreadOwner(DynTypedNode Node,
                                        ASTContext &Context) {
  for (unsigned Depth = 0; Depth < 4; ++Depth) {
    DynTypedNode Parent = skipWrappers(Node, Context);
    if (const auto *Construct = Parent.get<CXXConstructExpr>();
        Construct && Construct->getNumArgs() == 1 &&
        isOwningPointerType(Construct->getType())) {
      Node = Parent;
      continue;
    }
    if (const auto *Var = Parent.get<VarDecl>())
      return Var;
    if (const auto *Init = Parent.get<CXXCtorInitializer>())
      return Init->getMember();
    if (const auto *Ctor = Parent.get<CXXConstructorDecl>()) {
      const auto *Self = Node.get<Expr>();
      for (const CXXCtorInitializer *Init : Ctor->inits())
        if (Self && Init->getInit() &&
            Init->getInit()->IgnoreImplicit() == Self->IgnoreImplicit())
          return Init->getMember();
      return nullptr;
    }
    if (const auto *Assign = Parent.get<BinaryOperator>();
        Assign && Assign->getOpcode() == BO_Assign)
      return storedInto(Assign->getLHS());
    if (const auto *Assign = Parent.get<CXXOperatorCallExpr>();
        Assign && Assign->getOperator() == OO_Equal &&
        Assign->getNumArgs() == 2)
      return storedInto(Assign->getArg(0));
    if (const auto *Reset = Parent.get<CXXMemberCallExpr>();
        Reset && Reset->getMethodDecl() &&
        Reset->getMethodDecl()->getIdentifier() &&
        Reset->getMethodDecl()->getName() == "reset" &&
        isOwningPointerType(Reset->getImplicitObjectArgument()->getType()))
      return storedInto(Reset->getImplicitObjectArgument());
    return nullptr;
  }
  return nullptr;
}

/// The declaration a thread handle expression names (`W`, `this->W`, a
/// raw pointer `P` for `P->`): the handle of \p Site.
static void setObjectHandle(SpawnSite &Site, const Expr *Object) {
  Object = ignoreWrappers(Object);
  if (const auto *Ref = dyn_cast_or_null<DeclRefExpr>(Object)) {
    if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl())) {
      Site.HandleDecl = Var;
      Site.Handle =
          Var->hasLocalStorage() ? HandleKind::Local : HandleKind::Global;
    }
  } else if (const auto *Member = dyn_cast_or_null<MemberExpr>(Object)) {
    if (const auto *Field = dyn_cast<FieldDecl>(Member->getMemberDecl())) {
      Site.HandleDecl = Field;
      Site.Handle = HandleKind::Member;
    }
  }
}

static void findHandle(SpawnSite &Site, ASTContext &Context) {
  if (Site.Handle == HandleKind::Container)
    return;
  DynTypedNode Self = DynTypedNode::create(*Site.Spawn);
  if (Site.Handle == HandleKind::Heap) {
    Site.HandleDecl = heapThreadOwner(Self, Context);
    return;
  }
  DynTypedNode Parent = skipWrappers(Self, Context);
  if (const auto *Var = Parent.get<VarDecl>()) {
    Site.HandleDecl = Var;
    Site.Handle =
        Var->hasLocalStorage() ? HandleKind::Local : HandleKind::Global;
    return;
  }
  // A member initializer: the parent map reports the constructor itself.
  const CXXCtorInitializer *Init = Parent.get<CXXCtorInitializer>();
  if (const auto *Ctor = Parent.get<CXXConstructorDecl>(); Ctor && !Init) {
    for (const CXXCtorInitializer *Candidate : Ctor->inits())
      if (Candidate->getInit() && Candidate->getInit()->IgnoreImplicit() ==
                                      Site.Spawn->IgnoreImplicit())
        Init = Candidate;
  }
  if (Init) {
    if (Init->getMember()) {
      Site.HandleDecl = Init->getMember();
      Site.Handle = HandleKind::Member;
    }
    return;
  }
  // `Group.add_thread(new boost::thread(f))`: a thread of the group, joined
  // by its join_all().
  if (Parent.get<CXXNewExpr>())
    if (const auto *Add =
            skipWrappers(Parent, Context).get<CXXMemberCallExpr>();
        Add && Add->getMethodDecl() && Add->getMethodDecl()->getIdentifier() &&
        Add->getMethodDecl()->getName() == "add_thread" &&
        isBoostRecord(Add->getMethodDecl()->getParent(), "thread_group")) {
      Site.Handle = HandleKind::Container;
      return;
    }
  if (Parent.get<CXXNewExpr>()) {
    Site.Handle = HandleKind::Heap;
    Site.HandleDecl = heapThreadOwner(Parent, Context);
    return;
  }
  if (const auto *Assign = Parent.get<CXXOperatorCallExpr>();
      Assign && Assign->getOperator() == OO_Equal &&
      Assign->getNumArgs() == 2) {
    setObjectHandle(Site, Assign->getArg(0));
    return;
  }
  if (const auto *Call = Parent.get<CXXMemberCallExpr>()) {
    if (const CXXRecordDecl *Record = Call->getRecordDecl();
        Record && Record->isInStdNamespace()) {
      Site.Handle = HandleKind::Container;
      return;
    }
  }
  // `std::async(...);` or `(void)std::async(...);`: the future is a
  // temporary destroyed at the end of the statement.
  if (const auto *Cast = Parent.get<CStyleCastExpr>();
      Cast && Cast->getType()->isVoidType()) {
    Site.ResultDiscarded = true;
    return;
  }
  if (Parent.get<CompoundStmt>() || Parent.get<LabelStmt>() ||
      Parent.get<CaseStmt>() || Parent.get<DefaultStmt>())
    Site.ResultDiscarded = true;
}

/// For std::async: does the launch policy allow a new thread? A policy that
/// evaluates to a constant without the `async` bit (launch::deferred) runs
/// the task lazily on the waiting thread instead.
static bool asyncPolicyStartsThread(const Expr *Policy, ASTContext &Context) {
  const EnumDecl *Launch = nullptr;
  if (const auto *Enum = Policy->getType()->getAs<EnumType>())
    Launch = Enum->getDecl();
  if (!Launch)
    return true;
  std::optional<llvm::APSInt> AsyncBit;
  for (const EnumConstantDecl *Constant : Launch->enumerators())
    if (Constant->getName() == "async")
      AsyncBit = Constant->getInitVal();
  Expr::EvalResult Result;
  if (!AsyncBit || Policy->isValueDependent() ||
      !Policy->EvaluateAsInt(Result, Context))
    return true;
  return (Result.Val.getInt() & *AsyncBit) != 0;
}

/// The object of a member call, through ignoreWrappers and, for `P->f()`
/// on a std::unique_ptr / std::shared_ptr, the smart pointer P.
static const Expr *memberCallObject(const CXXMemberCallExpr &Call) {
  const Expr *Object = ignoreWrappers(Call.getImplicitObjectArgument());
  if (const auto *Arrow = dyn_cast_or_null<CXXOperatorCallExpr>(Object);
      Arrow && Arrow->getOperator() == OO_Arrow && Arrow->getNumArgs() == 1)
    Object = ignoreWrappers(Arrow->getArg(0));
  return Object;
}

//===----------------------------------------------------------------------===//
// boost::asio: handlers posted to an execution context
//===----------------------------------------------------------------------===//

namespace {
/// The boost::asio classes the handler model knows.
enum class AsioClass {
  None,
  IoContext,  ///< io_context (io_service is a typedef of it)
  ThreadPool, ///< thread_pool
  Strand,     ///< io_context::strand, strand<Executor>
  Executor,   ///< io_context's or thread_pool's executor type
};
} // namespace

/// Is \p DC the namespace boost::asio?
static bool isAsioNamespace(const DeclContext *DC) {
  const auto *Asio = dyn_cast_or_null<NamespaceDecl>(DC);
  if (!Asio || !Asio->getIdentifier() || Asio->getName() != "asio")
    return false;
  const auto *Boost = dyn_cast<NamespaceDecl>(Asio->getParent());
  return Boost && Boost->getIdentifier() && Boost->getName() == "boost" &&
         Boost->getParent()->getRedeclContext()->isTranslationUnit();
}

static AsioClass asioClassOf(const CXXRecordDecl *Record) {
  if (!Record || !Record->getIdentifier())
    return AsioClass::None;
  llvm::StringRef Name = Record->getName();
  const DeclContext *Parent = Record->getDeclContext();
  if (isAsioNamespace(Parent))
    return llvm::StringSwitch<AsioClass>(Name)
        .Case("io_context", AsioClass::IoContext)
        .Case("thread_pool", AsioClass::ThreadPool)
        .Case("strand", AsioClass::Strand)
        .Default(AsioClass::None);
  // The classes nested in the contexts.
  const auto *Outer = dyn_cast<CXXRecordDecl>(Parent);
  if (!Outer || !Outer->getIdentifier() ||
      !isAsioNamespace(Outer->getDeclContext()) ||
      (Outer->getName() != "io_context" && Outer->getName() != "thread_pool"))
    return AsioClass::None;
  if (Name == "strand" && Outer->getName() == "io_context")
    return AsioClass::Strand;
  if (Name == "executor_type" || Name == "basic_executor_type")
    return AsioClass::Executor;
  return AsioClass::None;
}

static AsioClass asioClassOf(QualType T) { return asioClassOf(recordOf(T)); }

bool isAsioThreadPoolType(QualType T) {
  return asioClassOf(T) == AsioClass::ThreadPool;
}

static bool isAsioFunction(const FunctionDecl *F,
                           llvm::ArrayRef<llvm::StringRef> Names) {
  return F && F->getIdentifier() && llvm::is_contained(Names, F->getName()) &&
         isAsioNamespace(F->getDeclContext()->getRedeclContext());
}

/// Is \p DC boost::asio or a namespace or class inside it (boost::asio::ip,
/// basic_stream_socket, ...)?
static bool isWithinAsio(const DeclContext *DC) {
  for (; DC && !DC->isTranslationUnit(); DC = DC->getParent())
    if (isAsioNamespace(DC))
      return true;
  return false;
}

/// Is \p F an asynchronous operation of boost::asio, whose last argument is
/// its completion handler: a member function `async_*` of an I/O object
/// (`async_wait`, `async_read_some`, `async_accept`, `async_connect`, ...)
/// or a free function `async_*` whose first argument is the stream
/// (`async_read`, `async_write`, `async_read_until`, ...)?
static bool isAsioAsyncOperation(const FunctionDecl *F) {
  if (!F || !F->getIdentifier() || !F->getName().starts_with("async_") ||
      !isWithinAsio(F->getDeclContext()))
    return false;
  // The machinery the operations are built from, not operations.
  return !llvm::is_contained({"async_initiate", "async_compose"}, F->getName());
}

bool isAsioRunMethod(const FunctionDecl *F) {
  const auto *Method = dyn_cast_or_null<CXXMethodDecl>(F);
  if (!Method || !Method->getIdentifier())
    return false;
  switch (asioClassOf(Method->getParent())) {
  case AsioClass::IoContext:
    return llvm::is_contained(
        {"run", "run_one", "run_for", "run_until", "poll", "poll_one"},
        Method->getName());
  case AsioClass::ThreadPool:
    return Method->getName() == "attach";
  default:
    return false;
  }
}

const Expr *asioRunObject(const CallExpr &Call) {
  const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call);
  if (!Member || !isAsioRunMethod(Member->getMethodDecl()))
    return nullptr;
  return memberCallObject(*Member);
}

/// What a named strand, executor or thread pool was initialized with: a
/// variable's initializer, or a data member's member initializers in the
/// constructors of its class defined in the unit (else its default member
/// initializer).
static void initializersOf(const ValueDecl &D,
                           llvm::SmallVectorImpl<const Expr *> &Out) {
  if (const auto *Var = dyn_cast<VarDecl>(&D)) {
    if (!isa<ParmVarDecl>(Var) && Var->getInit())
      Out.push_back(Var->getInit());
    return;
  }
  const auto *Field = dyn_cast<FieldDecl>(&D);
  if (!Field)
    return;
  const auto *Class = dyn_cast<CXXRecordDecl>(Field->getParent());
  bool Written = false;
  if (Class)
    for (const CXXConstructorDecl *Ctor : Class->ctors()) {
      const CXXConstructorDecl *Definition =
          dyn_cast_or_null<CXXConstructorDecl>(Ctor->getDefinition());
      if (!Definition || Definition->isImplicit())
        continue;
      for (const CXXCtorInitializer *Init : Definition->inits())
        if (Init->isWritten() && Init->getMember() == Field &&
            Init->getInit()) {
          Out.push_back(Init->getInit());
          Written = true;
        }
    }
  if (!Written && Field->hasInClassInitializer() &&
      Field->getInClassInitializer())
    Out.push_back(Field->getInClassInitializer());
}

/// Follows an execution context, executor or strand expression back to the
/// context: `Ctx`, `Ctx.get_executor()`, `make_strand(Ctx)`,
/// `io_context::strand(Ctx)`, a named strand or executor through its
/// initializer. Sets Out.Strand to the first named strand on the way.
static void resolveAsioTarget(const Expr *E, AsioSubmission &Out,
                              unsigned Depth) {
  // A copy of a strand or executor is the same strand or executor.
  E = ignoreCallableCopies(E);
  if (!E || Depth > 4)
    return;
  AsioClass Class = asioClassOf(E->getType());
  switch (Class) {
  case AsioClass::IoContext:
    Out.Context = E;
    return;
  case AsioClass::ThreadPool:
    Out.Context = E;
    Out.ThreadPool = true;
    return;
  case AsioClass::Strand:
  case AsioClass::Executor:
    break;
  case AsioClass::None:
    return; // any_io_executor, system_executor, ...: not followed
  }
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(E)) {
    if (const CXXMethodDecl *Method = Member->getMethodDecl();
        Method && Method->getIdentifier() &&
        Method->getName() == "get_executor")
      resolveAsioTarget(memberCallObject(*Member), Out, Depth + 1);
    return;
  }
  if (const auto *Call = dyn_cast<CallExpr>(E)) {
    if (isAsioFunction(Call->getDirectCallee(), {"make_strand"}) &&
        Call->getNumArgs() > 0)
      resolveAsioTarget(Call->getArg(0), Out, Depth + 1);
    return;
  }
  if (const auto *Construct = dyn_cast<CXXConstructExpr>(E)) {
    if (Construct->getNumArgs() > 0)
      resolveAsioTarget(Construct->getArg(0), Out, Depth + 1);
    return;
  }
  const ValueDecl *Named = nullptr;
  if (const auto *Ref = dyn_cast<DeclRefExpr>(E))
    Named = Ref->getDecl();
  else if (const auto *Member = dyn_cast<MemberExpr>(E))
    Named = Member->getMemberDecl();
  if (!Named)
    return;
  if (Class == AsioClass::Strand && !Out.Strand)
    Out.Strand = E;
  llvm::SmallVector<const Expr *, 2> Inits;
  initializersOf(*Named, Inits);
  if (!Inits.empty())
    resolveAsioTarget(Inits.front(), Out, Depth + 1);
}

/// For a handler wrapped for a strand (`bind_executor(S, f)`, `S.wrap(f)`):
/// records the strand (and its context) in \p Out and returns f; otherwise
/// returns \p Handler.
static const Expr *unwrapAsioHandler(const Expr *Handler, AsioSubmission &Out) {
  const Expr *E = ignoreCallableCopies(Handler);
  const Expr *Target = nullptr, *Inner = nullptr;
  if (const auto *Member = dyn_cast_or_null<CXXMemberCallExpr>(E)) {
    const CXXMethodDecl *Method = Member->getMethodDecl();
    if (Method && Method->getIdentifier() && Method->getName() == "wrap" &&
        Member->getNumArgs() == 1 &&
        asioClassOf(Method->getParent()) == AsioClass::Strand) {
      Target = memberCallObject(*Member);
      Inner = Member->getArg(0);
    }
  } else if (const auto *Call = dyn_cast_or_null<CallExpr>(E);
             Call && Call->getNumArgs() >= 2 &&
             isAsioFunction(Call->getDirectCallee(), {"bind_executor"})) {
    Target = Call->getArg(0);
    Inner = Call->getArg(1);
  }
  if (!Target)
    return Handler;
  AsioSubmission Bound;
  resolveAsioTarget(Target, Bound, 0);
  // The strand's context runs the handler, whatever it was posted to.
  if (Bound.Context) {
    Out.Context = Bound.Context;
    Out.ThreadPool = Bound.ThreadPool;
  }
  Out.Strand = Bound.Strand;
  return Inner;
}

/// The context whose threads run the completion handlers of the I/O object
/// \p IoObject (a timer, socket, acceptor, resolver, stream, ...): the
/// context, executor or strand it was constructed with, in a variable's
/// initializer or a constructor's member initializer (`Timer(Ctx)`,
/// `Socket(make_strand(Ctx))`). An object made from a strand runs all its
/// handlers through it: a temporary strand (`make_strand(Ctx)`) is the
/// object's own, so Out.Strand is then the object itself. An object made
/// otherwise (moved from another, from a polymorphic executor) is not
/// followed.
static void resolveIoObjectContext(const Expr *IoObject, AsioSubmission &Out) {
  const Expr *E = ignoreWrappers(IoObject);
  const ValueDecl *Named = nullptr;
  if (const auto *Ref = dyn_cast_or_null<DeclRefExpr>(E))
    Named = Ref->getDecl();
  else if (const auto *Member = dyn_cast_or_null<MemberExpr>(E))
    Named = Member->getMemberDecl();
  if (!Named || Named->getType()->isPointerType())
    return;
  llvm::SmallVector<const Expr *, 2> Inits;
  initializersOf(*Named, Inits);
  if (Inits.empty())
    return;
  const auto *Construct =
      dyn_cast_or_null<CXXConstructExpr>(ignoreWrappers(Inits.front()));
  if (!Construct || Construct->getNumArgs() == 0)
    return;
  const Expr *Made = Construct->getArg(0);
  // An I/O object keeps a polymorphic executor (any_io_executor): the
  // strand or executor it was made from is converted into one.
  // (Boost 1.74's any_executor takes a defaulted SFINAE argument after it.)
  while (const auto *Converted =
             dyn_cast_or_null<CXXConstructExpr>(ignoreWrappers(Made))) {
    if (Converted->getNumArgs() == 0 ||
        asioClassOf(Converted->getType()) != AsioClass::None ||
        !llvm::all_of(
            llvm::drop_begin(Converted->arguments()),
            [](const Expr *Arg) { return isa<CXXDefaultArgExpr>(Arg); }))
      break;
    Made = Converted->getArg(0);
  }
  resolveAsioTarget(Made, Out, 0);
  if (Out.Context && !Out.Strand &&
      asioClassOf(ignoreCallableCopies(Made)->getType()) == AsioClass::Strand)
    Out.Strand = E;
}

/// For a call of an asynchronous operation of boost::asio: the submission
/// of its completion handler (the last argument, unwrapped from a strand's
/// wrapper) in \p Handler. A defaulted completion token is no handler, and
/// a token that is not a callable (`use_future`, `detached`, a coroutine's
/// `yield`) resolves to no function later.
static std::optional<AsioSubmission> asioCompletion(const CallExpr &Call,
                                                    const Expr *&Handler) {
  const Expr *IoObject = nullptr;
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call))
    IoObject = memberCallObject(*Member);
  else if (Call.getNumArgs() > 1)
    IoObject = Call.getArg(0);
  if (!IoObject)
    return std::nullopt;
  // The completion token is the operation's forwarding-reference parameter
  // (`WriteHandler&& handler`); a defaulted one is no handler, and the
  // defaulted SFINAE parameters after it are none either.
  const FunctionDecl *Callee = Call.getDirectCallee();
  const FunctionTemplateDecl *Primary = Callee->getPrimaryTemplate();
  if (!Primary)
    return std::nullopt;
  const FunctionDecl *Pattern = Primary->getTemplatedDecl();
  const Expr *Last = nullptr;
  // A member call's arguments are the parameters'; a free function's too.
  for (unsigned I = 0; I < Call.getNumArgs() && I < Pattern->getNumParams();
       ++I) {
    const auto *Forwarding =
        Pattern->getParamDecl(I)->getType()->getAs<RValueReferenceType>();
    if (Forwarding &&
        Forwarding->getPointeeType()->getAs<TemplateTypeParmType>())
      Last = Call.getArg(I);
  }
  if (!Last || isa<CXXDefaultArgExpr>(Last))
    return std::nullopt;
  AsioSubmission Out;
  resolveIoObjectContext(IoObject, Out);
  AsioSubmission Wrapped;
  Handler = unwrapAsioHandler(Last, Wrapped);
  // `bind_executor(S, h)`: the strand S runs it, whatever the object's.
  if (Wrapped.Context)
    Out = Wrapped;
  return Out;
}

/// For a call that posts a handler to boost::asio: the submission, and the
/// handler (unwrapped from a strand's wrapper) in \p Handler.
static std::optional<AsioSubmission> asioSubmission(const CallExpr &Call,
                                                    const Expr *&Handler) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (isAsioAsyncOperation(Callee))
    return asioCompletion(Call, Handler);
  static constexpr llvm::StringRef Posts[] = {"post", "dispatch", "defer"};
  const Expr *Target = nullptr;
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call)) {
    // io_context::post/dispatch, io_context::strand::post/dispatch (Boost
    // before 1.80): the handler is the only argument.
    const CXXMethodDecl *Method = Member->getMethodDecl();
    AsioClass Class =
        Method ? asioClassOf(Method->getParent()) : AsioClass::None;
    if ((Class != AsioClass::IoContext && Class != AsioClass::Strand) ||
        !Method->getIdentifier() ||
        !llvm::is_contained(Posts, Method->getName()) ||
        Member->getNumArgs() != 1)
      return std::nullopt;
    Target = memberCallObject(*Member);
    Handler = Member->getArg(0);
  } else {
    // post(Ctx or Executor, handler) (and a defaulted SFINAE argument);
    // post(handler) runs on the handler's associated executor, which is
    // not followed. spawn(Ctx or Strand, f) runs the stackful coroutine f
    // on the context's threads, as a handler.
    if (!(isAsioFunction(Callee, Posts) || isAsioFunction(Callee, {"spawn"})) ||
        Call.getNumArgs() < 2 || isa<CXXDefaultArgExpr>(Call.getArg(1)))
      return std::nullopt;
    Target = Call.getArg(0);
    Handler = Call.getArg(1);
  }
  AsioSubmission Out;
  resolveAsioTarget(Target, Out, 0);
  if (Out.Strand) {
    // Posted through a strand: a strand wrapper inside adds nothing.
    AsioSubmission Ignored;
    Handler = unwrapAsioHandler(Handler, Ignored);
  } else {
    Handler = unwrapAsioHandler(Handler, Out);
  }
  return Out;
}

std::optional<uint64_t> asioThreadPoolThreads(const ValueDecl &Pool,
                                              ASTContext &Context) {
  if (!isAsioThreadPoolType(Pool.getType()) ||
      Pool.getType()->isReferenceType())
    return std::nullopt;
  llvm::SmallVector<const Expr *, 2> Inits;
  initializersOf(Pool, Inits);
  std::optional<uint64_t> Threads;
  for (const Expr *Init : Inits) {
    const auto *Construct =
        dyn_cast_or_null<CXXConstructExpr>(ignoreWrappers(Init));
    Expr::EvalResult Result;
    if (!Construct || Construct->getNumArgs() != 1 ||
        Construct->getArg(0)->isValueDependent() ||
        !Construct->getArg(0)->EvaluateAsInt(Result, Context))
      return std::nullopt;
    uint64_t Count = Result.Val.getInt().getZExtValue();
    if (Threads && *Threads != Count)
      return std::nullopt;
    Threads = Count;
  }
  return Threads;
}

/// Is \p Record the class \p Name of namespace \p Namespace (empty: the
/// global namespace)?
static bool isRecordNamed(const CXXRecordDecl *Record, llvm::StringRef Name,
                          llvm::StringRef Namespace) {
  if (!Record || !Record->getIdentifier() || Record->getName() != Name)
    return false;
  const DeclContext *Parent = Record->getDeclContext()->getRedeclContext();
  if (Namespace.empty())
    return Parent->isTranslationUnit();
  const auto *NS = dyn_cast<NamespaceDecl>(Parent);
  return NS && NS->getIdentifier() && NS->getName() == Namespace &&
         NS->getParent()->getRedeclContext()->isTranslationUnit();
}

/// Does \p Record derive from (or is it) a class \p Base accepts?
static bool derivesFrom(const CXXRecordDecl *Record,
                        llvm::function_ref<bool(const CXXRecordDecl *)> Base,
                        unsigned Depth = 0) {
  if (!Record || Depth > 8)
    return false;
  Record = Record->getDefinition();
  if (!Record)
    return false;
  if (Base(Record))
    return true;
  for (const CXXBaseSpecifier &Spec : Record->bases())
    if (derivesFrom(Spec.getType()->getAsCXXRecordDecl(), Base, Depth + 1))
      return true;
  return false;
}

/// The `run()` that a thread object of static class \p Record runs: the
/// nearest definition of a `run` without parameters in \p Record or its
/// bases, short of the library's own class (\p Library: QThread's default
/// run() runs an event loop, Poco::Runnable's is pure).
static const FunctionDecl *
runOverrider(const CXXRecordDecl *Record,
             llvm::function_ref<bool(const CXXRecordDecl *)> Library,
             unsigned Depth = 0) {
  if (!Record || Depth > 8)
    return nullptr;
  Record = Record->getDefinition();
  if (!Record || Library(Record))
    return nullptr;
  for (const CXXMethodDecl *Method : Record->methods())
    if (Method->getIdentifier() && Method->getName() == "run" &&
        Method->getNumParams() == 0 && !Method->isStatic())
      if (const FunctionDecl *Definition = Method->getDefinition())
        return Definition;
  for (const CXXBaseSpecifier &Spec : Record->bases())
    if (const FunctionDecl *Found = runOverrider(
            Spec.getType()->getAsCXXRecordDecl(), Library, Depth + 1))
      return Found;
  return nullptr;
}

static bool isQThread(const CXXRecordDecl *R) {
  return isRecordNamed(R, "QThread", "");
}
static bool isPocoRunnable(const CXXRecordDecl *R) {
  return isRecordNamed(R, "Runnable", "Poco");
}

static bool isQRunnable(const CXXRecordDecl *R) {
  return isRecordNamed(R, "QRunnable", "");
}

/// The `QThread::create(f, args...)` call that made the QThread \p Object
/// names: the call itself, or the initializer of the local pointer
/// (`QThread *T = QThread::create(f);`). Null otherwise.
static const CallExpr *qthreadCreateOf(const Expr *Object) {
  Object = ignoreWrappers(Object);
  if (const auto *Ref = dyn_cast_or_null<DeclRefExpr>(Object))
    if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
        Var && Var->hasLocalStorage() && Var->getType()->isPointerType() &&
        Var->getInit())
      Object = ignoreWrappers(Var->getInit());
  const auto *Call = dyn_cast_or_null<CallExpr>(Object);
  const auto *Create =
      Call ? dyn_cast_or_null<CXXMethodDecl>(Call->getDirectCallee()) : nullptr;
  return Create && Create->isStatic() && Create->getIdentifier() &&
                 Create->getName() == "create" &&
                 isQThread(Create->getParent()) && Call->getNumArgs() > 0
             ? Call
             : nullptr;
}

/// A thread started through a library's thread object (SpawnKind::
/// ThreadObject): `W.start()` on a QThread subclass that defines run(), or
/// on a QThread made by `QThread::create(f, args...)` (f with its args),
/// `T.start(R)` on a Poco::Thread with a Poco::Runnable (its run()),
/// `T.startFunc(f)`, `T.start(fn, data)`; and QtConcurrent::run(f,
/// args...) (also with an object and a member function pointer first). A
/// Poco::ThreadPool's start(R) is a task of the pool until its joinAll().
/// Fills the kind, handle and callable of \p Site; false when \p Call is
/// none of these or the function it runs cannot be seen.
static bool threadObjectStart(const CallExpr &Call, SpawnSite &Site,
                              llvm::SmallVectorImpl<const Expr *> &Args,
                              unsigned &CallableIndex) {
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call)) {
    const CXXMethodDecl *Method = Member->getMethodDecl();
    if (!Method || !Method->getIdentifier())
      return false;
    const CXXRecordDecl *Class = Method->getParent();
    const Expr *Object = memberCallObject(*Member);
    if (!Object)
      return false;
    if (isQThread(Class) && Method->getName() == "start") {
      const CXXRecordDecl *Static =
          Object->getType()->isPointerType()
              ? Object->getType()->getPointeeCXXRecordDecl()
              : Object->getType()->getAsCXXRecordDecl();
      const FunctionDecl *Run = runOverrider(Static, isQThread);
      if (!Run) {
        // QThread::create(f, args...): its run() calls f(args...).
        if (const CallExpr *Create = qthreadCreateOf(Object)) {
          Args.assign(Create->arg_begin(), Create->arg_end());
          CallableIndex = 0;
          Site.Kind = SpawnKind::ThreadObject;
          setObjectHandle(Site, Object);
          return true;
        }
        return false; // QThread's own run(): an event loop
      }
      Site.Kind = SpawnKind::ThreadObject;
      Site.Entry.Function = Run;
      Site.Entry.Object = Object;
      setObjectHandle(Site, Object);
      return true;
    }
    if (isRecordNamed(Class, "QThreadPool", "") &&
        llvm::is_contained({"start", "tryStart"}, Method->getName()) &&
        Member->getNumArgs() > 0) {
      // start(QRunnable *) runs the runnable's run() on it, start(f) and
      // tryStart(f) run f: a task of the pool until its waitForDone().
      const Expr *Target = Member->getArg(0)->IgnoreParenImpCasts();
      if (const CXXRecordDecl *Runnable =
              Target->getType()->getPointeeCXXRecordDecl();
          Runnable && derivesFrom(Runnable, isQRunnable)) {
        const FunctionDecl *Run = runOverrider(Runnable, isQRunnable);
        if (!Run)
          return false;
        Site.Entry.Function = Run;
        Site.Entry.Object = Target;
      } else if (isCallableType(Member->getArg(0)->getType())) {
        Args.assign({Member->getArg(0)});
        CallableIndex = 0;
      } else {
        return false;
      }
      Site.Kind = SpawnKind::PoolTask;
      Site.PoolObject = Object;
      return true;
    }
    bool PocoThread = isRecordNamed(Class, "Thread", "Poco");
    bool PocoPool = isRecordNamed(Class, "ThreadPool", "Poco");
    if ((!PocoThread && !PocoPool) || Member->getNumArgs() == 0)
      return false;
    // The runnable's own class, under the conversion to Runnable &.
    const Expr *Target = Member->getArg(0)->IgnoreParenImpCasts();
    const CXXRecordDecl *TargetClass =
        Target->getType().getNonReferenceType()->getAsCXXRecordDecl();
    if (Method->getName() == "start" && TargetClass &&
        derivesFrom(TargetClass, isPocoRunnable)) {
      // start(Runnable &): the target's run(), on the target.
      const FunctionDecl *Run = runOverrider(TargetClass, isPocoRunnable);
      if (!Run)
        return false;
      Site.Entry.Function = Run;
      Site.Entry.Object = Target;
    } else if (PocoThread) {
      // startFunc(f), start(fn, data): a callable with its argument.
      Args.assign(Member->arg_begin(), Member->arg_end());
      CallableIndex = 0;
    } else {
      return false;
    }
    if (PocoPool) {
      Site.Kind = SpawnKind::PoolTask;
      Site.PoolObject = Object;
    } else {
      Site.Kind = SpawnKind::ThreadObject;
      setObjectHandle(Site, Object);
    }
    return true;
  }
  const FunctionDecl *Callee = Call.getDirectCallee();
  const auto *NS = Callee ? dyn_cast<NamespaceDecl>(
                                Callee->getDeclContext()->getRedeclContext())
                          : nullptr;
  if (!Callee || !Callee->getIdentifier() || Callee->getName() != "run" ||
      !NS || !NS->getIdentifier() || NS->getName() != "QtConcurrent")
    return false;
  // QtConcurrent::run(f, args...), run(pool, f, args...),
  // run(object, &C::f, args...): a task of Qt's global pool, waited for
  // through the QFuture it returns.
  Args.assign(Call.arg_begin(), Call.arg_end());
  CallableIndex = 0;
  if (!Args.empty() && Args[0]->getType()->isPointerType() &&
      isRecordNamed(Args[0]->getType()->getPointeeCXXRecordDecl(),
                    "QThreadPool", ""))
    CallableIndex = 1;
  if (CallableIndex + 1 < Args.size() &&
      Args[CallableIndex + 1]->getType()->isMemberFunctionPointerType()) {
    // (object, &C::f, args...): the member function on the object.
    std::swap(Args[CallableIndex], Args[CallableIndex + 1]);
  }
  Site.Kind = SpawnKind::ThreadObject;
  return true;
}

/// The entry of \p SpawnFunctions for a pool submit method or spawn wrapper
/// of another unit (SpawnFunction::Indexed), when \p Callee (declared
/// here, defined elsewhere) is one.
static const SpawnFunction *
indexedSpawnFunction(const FunctionDecl &Callee,
                     llvm::ArrayRef<SpawnFunction> SpawnFunctions) {
  if (Callee.hasBody() || llvm::none_of(SpawnFunctions, [](const auto &F) {
        return F.Indexed.has_value();
      }))
    return nullptr;
  llvm::SmallString<128> USR;
  if (index::generateUSRForDecl(Callee.getCanonicalDecl(), USR))
    return nullptr;
  for (const SpawnFunction &Function : SpawnFunctions)
    if (Function.Indexed && Function.Indexed->USR == USR)
      return &Function;
  return nullptr;
}

/// \p Infer: also the pool submits and spawn wrappers inferred from the
/// callee's body (off inside that inference, which looks only for direct
/// thread starts).
static std::optional<SpawnSite>
analyzeSpawnImpl(const Expr *Spawn, ASTContext &Context,
                 llvm::ArrayRef<SpawnFunction> SpawnFunctions, bool Infer) {
  SpawnSite Site;
  Site.Spawn = Spawn;
  unsigned CallableIndex = 0;
  llvm::SmallVector<const Expr *, 8> Args;

  if (const auto *Construct = dyn_cast<CXXConstructExpr>(Spawn)) {
    Site.Kind = isStdJThreadType(Construct->getType()) ? SpawnKind::JThread
                : isBoostThreadType(Construct->getType())
                    ? SpawnKind::BoostThread
                    : SpawnKind::StdThread;
    for (const Expr *Arg : Construct->arguments())
      Args.push_back(Arg);
    // boost::thread(Attributes, F, Args...): the stack size and such first.
    if (Site.Kind == SpawnKind::BoostThread && !Args.empty()) {
      const CXXRecordDecl *First =
          Args.front()->getType().getNonReferenceType()->getAsCXXRecordDecl();
      if (First && isRecordNamed(First, "thread_attributes", "boost"))
        Args.erase(Args.begin());
    }
  } else if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Spawn);
             Member && Member->getMethodDecl() &&
             Member->getMethodDecl()->getParent()->isInStdNamespace() &&
             Member->getMethodDecl()->getName().starts_with("emplace")) {
    const CXXRecordDecl *Container = Member->getRecordDecl();
    const auto *Specialization =
        dyn_cast_or_null<ClassTemplateSpecializationDecl>(Container);
    if (!Specialization || Specialization->getTemplateArgs().size() == 0)
      return std::nullopt;
    QualType Element = Specialization->getTemplateArgs()[0].getAsType();
    // Only a container of threads starts one: `Writers.emplace_back(Mu,
    // Callback)` into a std::deque<Writer> builds a Writer from a callable
    // (found as a false positive on rocksdb's VersionSet::LogAndApply).
    if (!isStdThreadType(Element) && !isStdJThreadType(Element) &&
        !isBoostThreadType(Element))
      return std::nullopt;
    Site.Kind = isStdJThreadType(Element)    ? SpawnKind::JThread
                : isBoostThreadType(Element) ? SpawnKind::BoostThread
                                             : SpawnKind::StdThread;
    Site.Handle = HandleKind::Container;
    for (const Expr *Arg : Member->arguments())
      Args.push_back(Arg);
    // `emplace(position, callable, args...)`.
    if (Member->getMethodDecl()->getName() == "emplace")
      CallableIndex = 1;
  } else if (const auto *Call = dyn_cast<CallExpr>(Spawn);
             Call && threadObjectStart(*Call, Site, Args, CallableIndex)) {
    if (Site.Entry.Function) {
      // The run() of a thread object: no callable argument to resolve.
      Site.EnclosingFunction = enclosingFunction(*Spawn, Context);
      if (Site.Kind == SpawnKind::ThreadObject && !Site.HandleDecl)
        findHandle(Site, Context);
      return Site;
    }
  } else if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Spawn);
             Member && Member->getMethodDecl() &&
             Member->getMethodDecl()->getIdentifier() &&
             Member->getMethodDecl()->getName() == "create_thread" &&
             isBoostRecord(Member->getMethodDecl()->getParent(),
                           "thread_group")) {
    // boost::thread_group::create_thread(f): a thread of the group, joined
    // by its join_all().
    Site.Kind = SpawnKind::BoostThread;
    Site.Handle = HandleKind::Container;
    for (const Expr *Arg : Member->arguments())
      Args.push_back(Arg);
  } else if (const auto *Call = dyn_cast<CallExpr>(Spawn)) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return std::nullopt;
    for (const Expr *Arg : Call->arguments())
      Args.push_back(Arg);
    std::string Name = Callee->getQualifiedNameAsString();
    const TemplateArgumentList *Made = Callee->getTemplateSpecializationArgs();
    if (Callee->getIdentifier() && Callee->getName().starts_with("make_") &&
        Made && Made->size() > 0 &&
        Made->get(0).getKind() == TemplateArgument::Type &&
        (isStdThreadType(Made->get(0).getAsType()) ||
         isStdJThreadType(Made->get(0).getAsType()) ||
         isBoostThreadType(Made->get(0).getAsType()))) {
      // std::make_unique<std::thread>(f, args...).
      QualType Thread = Made->get(0).getAsType();
      Site.Kind = isStdJThreadType(Thread)    ? SpawnKind::JThread
                  : isBoostThreadType(Thread) ? SpawnKind::BoostThread
                                              : SpawnKind::StdThread;
      Site.Handle = HandleKind::Heap;
    } else if (isStdDeclNamed(Callee, {"async"})) {
      Site.Kind = SpawnKind::Async;
      if (!Args.empty() && Args[0]->getType()->isEnumeralType()) {
        if (!asyncPolicyStartsThread(Args[0], Context))
          return std::nullopt;
        CallableIndex = 1;
      }
    } else if (Callee->getIdentifier() &&
               Callee->getName() == "pthread_create" &&
               Callee->getDeclContext()
                   ->getRedeclContext()
                   ->isTranslationUnit()) {
      Site.Kind = SpawnKind::PthreadCreate;
      CallableIndex = 2;
    } else if (isParallelAlgorithmCall(*Call)) {
      // The body: the last argument that is a callable with a body of the
      // project's (iterators, ranges, partitioners and policies are not).
      Site.Kind = SpawnKind::ParallelAlgorithm;
      const SourceManager &SM = Context.getSourceManager();
      std::optional<unsigned> Body;
      for (unsigned I = Args.size(); I-- > 1;) {
        ThreadEntry Entry = resolveCallable(Args[I], {});
        if (Entry.Function && Entry.Function->hasBody() &&
            !SM.isInSystemHeader(Entry.Function->getLocation())) {
          Body = I;
          break;
        }
      }
      if (!Body)
        return std::nullopt;
      // The algorithm supplies the body's arguments (elements, ranges).
      Args.resize(*Body + 1);
      CallableIndex = *Body;
    } else if (isTaskGroupRun(*Call)) {
      // A task of TBB's workers, until the group's wait().
      Site.Kind = SpawnKind::PoolTask;
      Site.PoolObject = memberCallObject(*cast<CXXMemberCallExpr>(Call));
      CallableIndex = 0;
    } else if (const Expr *Handler = nullptr;
               std::optional<AsioSubmission> Asio =
                   asioSubmission(*Call, Handler)) {
      // A handler posted to boost::asio: a task of the context's threads.
      Site.Kind = SpawnKind::PoolTask;
      Site.Asio = Asio;
      Site.PoolObject = Asio->Context;
      Args.assign({Handler});
      CallableIndex = 0;
    } else {
      Site.Kind = SpawnKind::SpawnFunction;
      bool Found = false;
      for (const SpawnFunction &Function : SpawnFunctions) {
        llvm::StringRef Wanted = Function.QualifiedName;
        Wanted.consume_front("::");
        if (!Function.Indexed && Wanted == Name) {
          CallableIndex = Function.CallableIndex;
          Found = true;
          break;
        }
      }
      const auto *Member = dyn_cast<CXXMemberCallExpr>(Call);
      // The submit method of a pool, or a spawn wrapper, defined in
      // another unit, which the whole-program facts know.
      if (const SpawnFunction *Indexed =
              Found ? nullptr : indexedSpawnFunction(*Callee, SpawnFunctions)) {
        CallableIndex = Indexed->CallableIndex;
        Found = true;
        Site.FromOtherUnit = true;
        if (!Indexed->Indexed->Pool) {
          Site.InferredWrapper = true;
        } else if (Member && Member->getMethodDecl()) {
          ThreadPoolShape Pool;
          Pool.Class = Member->getMethodDecl()->getParent();
          Pool.Submit = Member->getMethodDecl();
          Pool.CallableIndex = Indexed->CallableIndex;
          Pool.SingleWorker = Indexed->Indexed->SingleWorker;
          Pool.WorkerStartInIndex = Indexed->Indexed->WorkerStart;
          Pool.BarriersInIndex = Indexed->Indexed->Barriers;
          Site.Kind = SpawnKind::PoolTask;
          Site.Pool = std::move(Pool);
          Site.PoolObject = memberCallObject(*Member);
        } else {
          Found = false;
          Site.FromOtherUnit = false;
        }
      }
      // Not configured: a pool's submit method, or a spawn wrapper.
      if (!Found && Infer && Member && Member->getMethodDecl())
        if (std::optional<ThreadPoolShape> Pool =
                threadPoolSubmit(*Member->getMethodDecl(), Context)) {
          Site.Kind = SpawnKind::PoolTask;
          CallableIndex = Pool->CallableIndex;
          Site.Pool = Pool;
          Site.PoolObject = memberCallObject(*Member);
          Found = true;
        }
      if (!Found && Infer && !isa<CXXOperatorCallExpr>(Call))
        if (std::optional<unsigned> Index =
                inferredSpawnWrapper(*Callee, Context)) {
          CallableIndex = *Index;
          Site.InferredWrapper = true;
          Found = true;
        }
      if (!Found)
        return std::nullopt;
    }
  } else {
    return std::nullopt;
  }

  if (CallableIndex >= Args.size())
    return std::nullopt;
  Site.Callable = Args[CallableIndex];
  for (const Expr *Arg : llvm::ArrayRef(Args).drop_front(CallableIndex + 1))
    Site.Arguments.push_back(Arg);
  Site.Entry = resolveCallable(Site.Callable, Site.Arguments);
  if (Site.Entry.BoundArguments)
    Site.Arguments.assign(Site.Entry.BoundArguments->begin(),
                          Site.Entry.BoundArguments->end());
  if (Site.Kind != SpawnKind::JThread)
    Site.Entry.StopToken = nullptr;
  findHandle(Site, Context);
  Site.EnclosingFunction = enclosingFunction(*Spawn, Context);
  return Site;
}

std::optional<SpawnSite>
analyzeSpawn(const Expr *Spawn, ASTContext &Context,
             llvm::ArrayRef<SpawnFunction> SpawnFunctions) {
  return analyzeSpawnImpl(Spawn, Context, SpawnFunctions, /*Infer=*/true);
}

//===----------------------------------------------------------------------===//
// Inferred executors: thread pools and spawn wrappers
//===----------------------------------------------------------------------===//

namespace {
/// The calls of one body, with the local variables it declares.
class BodyScan : public RecursiveASTVisitor<BodyScan> {
public:
  bool VisitCallExpr(CallExpr *Call) {
    Calls.push_back(Call);
    return true;
  }
  bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
    Constructs.push_back(Construct);
    return true;
  }
  bool VisitVarDecl(VarDecl *Var) {
    if (Var->hasLocalStorage() && !isa<ParmVarDecl>(Var) && Var->getInit())
      Locals.push_back(Var);
    return true;
  }
  std::vector<const CallExpr *> Calls;
  std::vector<const CXXConstructExpr *> Constructs;
  std::vector<const VarDecl *> Locals;
};
} // namespace

static bool refersToAny(const Stmt *S,
                        const llvm::DenseSet<const Decl *> &Decls) {
  return !Decls.empty() && refersToDecl(S, [&](const Decl *Named) {
    return Decls.count(Named->getCanonicalDecl()) != 0;
  });
}

/// \p Param and the locals of the body made from it, also through other
/// such locals (`auto task = std::make_shared<std::packaged_task<R()>>(
/// std::bind(std::forward<F>(f), args...))`).
static llvm::DenseSet<const Decl *> madeFrom(const ParmVarDecl &Param,
                                             const BodyScan &Scan) {
  llvm::DenseSet<const Decl *> Made;
  Made.insert(Param.getCanonicalDecl());
  for (unsigned Round = 0; Round < 3; ++Round) {
    bool Grew = false;
    for (const VarDecl *Var : Scan.Locals)
      if (!Made.count(Var->getCanonicalDecl()) &&
          refersToAny(Var->getInit(), Made)) {
        Made.insert(Var->getCanonicalDecl());
        Grew = true;
      }
    if (!Grew)
      break;
  }
  return Made;
}

/// Does a body wait for work it started: a join of a thread, or a wait for
/// a std::future? (A condition variable's wait is not one: a bounded queue
/// waits for room, not for the task.)
static bool waitsForWork(const BodyScan &Scan) {
  return llvm::any_of(Scan.Calls, [](const CallExpr *Call) {
    std::optional<ThreadLifetimeCall> Lifetime = threadLifetimeCall(*Call);
    if (!Lifetime)
      return false;
    if (Lifetime->Op == ThreadLifetimeOp::Join)
      return Lifetime->IsPthread ||
             isStdThreadType(Lifetime->Handle->getType()) ||
             isStdJThreadType(Lifetime->Handle->getType()) ||
             isBoostThreadType(Lifetime->Handle->getType()) ||
             isBoostThreadGroupType(Lifetime->Handle->getType()) ||
             isOwningPointerType(Lifetime->Handle->getType()) ||
             Lifetime->Handle->getType()->isPointerType();
    return Lifetime->Op == ThreadLifetimeOp::Wait &&
           isStdRecordType(Lifetime->Handle->getType(),
                           {"future", "shared_future"});
  });
}

static bool inProjectCode(const Decl &D, const SourceManager &SM) {
  SourceLocation Loc = SM.getExpansionLoc(D.getLocation());
  return Loc.isValid() && !SM.isInSystemHeader(Loc);
}

/// The data member a member call acts on (`Q.push(x)`, `Pool.Q.front()`).
static const FieldDecl *calledOnField(const CXXMemberCallExpr &Call) {
  const auto *Member = dyn_cast_or_null<MemberExpr>(
      ignoreWrappers(Call.getImplicitObjectArgument()));
  const auto *Field =
      Member ? dyn_cast<FieldDecl>(Member->getMemberDecl()) : nullptr;
  return Field ? Field->getCanonicalDecl() : nullptr;
}

static bool methodNamed(const CXXMemberCallExpr &Call,
                        llvm::ArrayRef<llvm::StringRef> Names) {
  const CXXMethodDecl *Method = Call.getMethodDecl();
  return Method && Method->getIdentifier() &&
         llvm::is_contained(Names, Method->getName());
}

/// Is \p S inside a loop of its function?
static bool inLoop(const Stmt &S, ASTContext &Context) {
  DynTypedNodeList Parents = Context.getParents(S);
  while (!Parents.empty()) {
    const DynTypedNode &Parent = Parents[0];
    if (Parent.get<FunctionDecl>() || Parent.get<LambdaExpr>())
      return false;
    if (const auto *Loop = Parent.get<Stmt>();
        Loop && isa<ForStmt, WhileStmt, DoStmt, CXXForRangeStmt>(Loop))
      return true;
    Parents = Context.getParents(Parent);
  }
  return false;
}

namespace {
/// What a pool's worker does: takes an element out of the queue, invokes a
/// callable.
struct WorkerSteps {
  bool TakesOut = false;
  bool Invokes = false;
};
} // namespace

static void scanWorker(const FunctionDecl &F, const FieldDecl &Queue,
                       ASTContext &Context, unsigned Depth,
                       llvm::SmallPtrSetImpl<const FunctionDecl *> &Seen,
                       WorkerSteps &Steps) {
  const FunctionDecl *Definition = F.getDefinition();
  if (!Definition || !Definition->hasBody() || Definition->isInStdNamespace() ||
      !Seen.insert(Definition).second)
    return;
  BodyScan Scan;
  Scan.TraverseStmt(Definition->getBody());
  for (const CallExpr *Call : Scan.Calls) {
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Call)) {
      if (calledOnField(*Member) == &Queue &&
          methodNamed(*Member, {"front", "back", "top", "pop", "pop_front",
                                "pop_back", "extract", "try_pop",
                                "wait_and_pop", "take", "dequeue"}))
        Steps.TakesOut = true;
    } else if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(Call)) {
      // `task()`, `(*task)()` on a std::function, a packaged_task, a
      // functor taken from the queue (not a lambda of the worker itself).
      if (Op->getOperator() == OO_Call && Op->getNumArgs() > 0) {
        const CXXRecordDecl *Record = Op->getArg(0)
                                          ->getType()
                                          .getNonReferenceType()
                                          ->getAsCXXRecordDecl();
        if (Record && !Record->isLambda() &&
            isCallableType(Op->getArg(0)->getType()))
          Steps.Invokes = true;
      }
    } else if (!Call->getDirectCallee()) {
      // Through a function pointer taken from the queue.
      if (Call->getCallee()->getType()->isFunctionPointerType())
        Steps.Invokes = true;
    } else if (isStdDeclNamed(Call->getDirectCallee(), {"invoke"})) {
      Steps.Invokes = true;
    }
  }
  if ((Steps.TakesOut && Steps.Invokes) || Depth == 0)
    return;
  for (const CallExpr *Call : Scan.Calls)
    if (const FunctionDecl *Callee = Call->getDirectCallee();
        Callee && !isa<CXXOperatorCallExpr>(Call))
      scanWorker(*Callee, Queue, Context, Depth - 1, Seen, Steps);
}

/// The worker threads of a pool class: threads started by its member
/// functions whose functions take elements out of \p Queue and invoke a
/// callable (one or two calls deep).
static std::optional<ThreadPoolShape>
findPoolWorkers(const CXXRecordDecl &Class, const FieldDecl &Queue,
                ASTContext &Context) {
  std::optional<ThreadPoolShape> Shape;
  unsigned Workers = 0;
  for (const CXXMethodDecl *Method : Class.methods()) {
    const FunctionDecl *Definition = Method->getDefinition();
    if (!Definition || !Definition->hasBody())
      continue;
    // The body, and a constructor's member initializers
    // (`Worker([this] { run(); })`).
    llvm::SmallVector<const Stmt *, 4> Roots{Definition->getBody()};
    if (const auto *Ctor = dyn_cast<CXXConstructorDecl>(Definition))
      for (const CXXCtorInitializer *Init : Ctor->inits())
        if (Init->isWritten() && Init->getInit())
          Roots.push_back(Init->getInit());
    std::vector<BoundNodes> Found;
    for (const Stmt *Root : Roots)
      llvm::append_range(
          Found, match(findAll(directThreadStartMatcher()), *Root, Context));
    for (const BoundNodes &Nodes : Found) {
      const auto *Start = Nodes.getNodeAs<Expr>("spawn");
      std::optional<SpawnSite> Site =
          Start ? analyzeSpawnImpl(Start, Context, {}, /*Infer=*/false)
                : std::nullopt;
      if (!Site || !Site->Entry.Function)
        continue;
      WorkerSteps Steps;
      llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
      scanWorker(*Site->Entry.Function, Queue, Context, /*Depth=*/2, Seen,
                 Steps);
      if (!Steps.TakesOut || !Steps.Invokes)
        continue;
      ++Workers;
      if (!Shape) {
        Shape.emplace();
        Shape->WorkerStart = Start;
        Shape->SingleWorker =
            Site->Handle != HandleKind::Container && !inLoop(*Start, Context);
      }
    }
  }
  if (Shape && Workers > 1)
    Shape->SingleWorker = false;
  return Shape;
}

/// Does \p Method override \p Target, directly or not?
static bool overrides(const CXXMethodDecl &Method,
                      const CXXMethodDecl &Target) {
  for (const CXXMethodDecl *Overridden : Method.overridden_methods())
    if (Overridden->getCanonicalDecl() == Target.getCanonicalDecl() ||
        overrides(*Overridden, Target))
      return true;
  return false;
}

/// The overriders of \p Target defined in the unit's project code.
static void collectOverriders(const DeclContext &Scope,
                              const CXXMethodDecl &Target,
                              llvm::SmallVectorImpl<const CXXMethodDecl *> &Out,
                              unsigned Depth) {
  for (const Decl *D : Scope.decls()) {
    // Not the standard library's classes (nor its implementation's).
    if (const auto *Namespace = dyn_cast<NamespaceDecl>(D);
        Namespace &&
        (Namespace->isStdNamespace() || Namespace->getName().starts_with("__")))
      continue;
    if (isa<NamespaceDecl, LinkageSpecDecl>(D)) {
      collectOverriders(*cast<DeclContext>(D), Target, Out, Depth);
      continue;
    }
    const auto *Record = dyn_cast<CXXRecordDecl>(D);
    if (!Record || !Record->isThisDeclarationADefinition() || Depth > 3)
      continue;
    for (const CXXMethodDecl *Method : Record->methods())
      if (Method->isVirtual() && overrides(*Method, Target))
        Out.push_back(Method);
    collectOverriders(*Record, Target, Out, Depth + 1);
  }
}

static std::optional<ThreadPoolShape>
threadPoolSubmitImpl(const CXXMethodDecl &Method, ASTContext &Context,
                     unsigned Depth) {
  if (Depth > 2 || Method.isStatic() ||
      isa<CXXConstructorDecl, CXXDestructorDecl>(Method) ||
      Method.getParent()->isInStdNamespace() ||
      !llvm::any_of(Method.parameters(), [](const ParmVarDecl *Param) {
        return isCallableType(Param->getType());
      }))
    return std::nullopt;
  const auto *Definition =
      dyn_cast_or_null<CXXMethodDecl>(Method.getDefinition());
  if (!Definition || !Definition->hasBody()) {
    // `Queue->enqueue(f)` through an abstract base: its overriders here.
    if (!Method.isVirtual() || Depth > 0)
      return std::nullopt;
    llvm::SmallVector<const CXXMethodDecl *, 4> Overriders;
    collectOverriders(*Context.getTranslationUnitDecl(), Method, Overriders, 0);
    std::optional<ThreadPoolShape> First;
    for (const CXXMethodDecl *Overrider : Overriders) {
      std::optional<ThreadPoolShape> Shape =
          threadPoolSubmitImpl(*Overrider, Context, Depth + 1);
      if (!Shape || Shape->CallableIndex >= Method.getNumParams())
        return std::nullopt;
      if (!First)
        First = Shape;
    }
    return First;
  }

  BodyScan Scan;
  Scan.TraverseStmt(Definition->getBody());
  if (waitsForWork(Scan))
    return std::nullopt;
  const CXXRecordDecl *Class = Definition->getParent();
  for (unsigned Index = 0; Index < Definition->getNumParams(); ++Index) {
    const ParmVarDecl *Param = Definition->getParamDecl(Index);
    if (!isCallableType(Param->getType()))
      continue;
    llvm::DenseSet<const Decl *> Made = madeFrom(*Param, Scan);
    for (const CallExpr *Call : Scan.Calls) {
      const auto *Member = dyn_cast<CXXMemberCallExpr>(Call);
      if (!Member || !Member->getMethodDecl())
        continue;
      // Into a member container of the class.
      const FieldDecl *Queue = calledOnField(*Member);
      if (Queue && Queue->getParent() == Class &&
          methodNamed(*Member, {"push", "push_back", "push_front", "emplace",
                                "emplace_back", "emplace_front", "insert"}) &&
          llvm::any_of(Member->arguments(), [&](const Expr *Arg) {
            return refersToAny(Arg, Made);
          })) {
        if (std::optional<ThreadPoolShape> Shape =
                findPoolWorkers(*Class, *Queue, Context)) {
          Shape->Class = Class;
          Shape->Submit = Definition;
          Shape->CallableIndex = Index;
          Shape->Queue = Queue;
          return Shape;
        }
        continue;
      }
      // Handed to another submit method of the class, on this object.
      const CXXMethodDecl *Other = Member->getMethodDecl();
      if (Other->getParent() != Class ||
          Other->getCanonicalDecl() == Definition->getCanonicalDecl() ||
          !isa<CXXThisExpr>(
              ignoreWrappers(Member->getImplicitObjectArgument())))
        continue;
      if (std::optional<ThreadPoolShape> Shape =
              threadPoolSubmitImpl(*Other, Context, Depth + 1);
          Shape && Shape->CallableIndex < Member->getNumArgs() &&
          refersToAny(Member->getArg(Shape->CallableIndex), Made)) {
        Shape->Submit = Definition;
        Shape->CallableIndex = Index;
        return Shape;
      }
    }
  }
  return std::nullopt;
}

std::optional<ThreadPoolShape> threadPoolSubmit(const CXXMethodDecl &Method,
                                                ASTContext &Context) {
  return threadPoolSubmitImpl(Method, Context, 0);
}

bool isPoolBarrier(const CXXMethodDecl &Method) {
  if (Method.getIdentifier()) {
    std::string Name = Method.getName().lower();
    if (llvm::StringRef(Name).contains("wait") ||
        llvm::is_contained(
            {"join", "join_all", "joinall", "shutdown", "stop", "drain"}, Name))
      return true;
  }
  // A method that joins the pool's threads, itself or one call deep into
  // its own class.
  const FunctionDecl *Definition = Method.getDefinition();
  if (!Definition || !Definition->hasBody())
    return false;
  BodyScan Scan;
  Scan.TraverseStmt(Definition->getBody());
  for (const CallExpr *Call : Scan.Calls) {
    std::optional<ThreadLifetimeCall> Lifetime = threadLifetimeCall(*Call);
    if (Lifetime && Lifetime->Op == ThreadLifetimeOp::Join)
      return true;
  }
  for (const CallExpr *Call : Scan.Calls)
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Call);
        Member && Member->getMethodDecl() &&
        Member->getMethodDecl()->getParent() == Method.getParent() &&
        Member->getMethodDecl()->getCanonicalDecl() !=
            Method.getCanonicalDecl())
      if (const FunctionDecl *Callee = Member->getMethodDecl()->getDefinition();
          Callee && Callee->hasBody()) {
        BodyScan Inner;
        Inner.TraverseStmt(Callee->getBody());
        for (const CallExpr *InnerCall : Inner.Calls) {
          std::optional<ThreadLifetimeCall> Lifetime =
              threadLifetimeCall(*InnerCall);
          if (Lifetime && Lifetime->Op == ThreadLifetimeOp::Join)
            return true;
        }
      }
  return false;
}

/// Does the thread \p Site starts in a wrapper outlive the wrapper? A
/// std::jthread or std::async future joins at the end of its scope unless
/// it leaves: returned, or stored in a member, a global or on the heap.
static bool outlivesWrapper(const SpawnSite &Site, ASTContext &Context) {
  if (Site.Kind != SpawnKind::JThread && Site.Kind != SpawnKind::Async)
    return true;
  if (Site.Handle == HandleKind::Member || Site.Handle == HandleKind::Global ||
      Site.Handle == HandleKind::Heap)
    return true;
  return skipWrappers(DynTypedNode::create(*Site.Spawn), Context)
             .get<ReturnStmt>() != nullptr;
}

static std::optional<unsigned>
inferredSpawnWrapperImpl(const FunctionDecl &Function, ASTContext &Context,
                         unsigned Depth) {
  const FunctionDecl *Definition = Function.getDefinition();
  if (Depth > 1 || !Definition || !Definition->hasBody() ||
      !inProjectCode(*Definition, Context.getSourceManager()) ||
      isa<CXXConstructorDecl, CXXDestructorDecl>(Definition))
    return std::nullopt;
  llvm::SmallVector<unsigned, 2> Callables;
  for (unsigned Index = 0; Index < Definition->getNumParams(); ++Index)
    if (isCallableType(Definition->getParamDecl(Index)->getType()))
      Callables.push_back(Index);
  if (Callables.empty())
    return std::nullopt;
  BodyScan Scan;
  Scan.TraverseStmt(Definition->getBody());
  if (waitsForWork(Scan))
    return std::nullopt;
  // The direct starts, resolved once.
  std::vector<SpawnSite> Starts;
  for (const BoundNodes &Nodes : match(findAll(directThreadStartMatcher()),
                                       *Definition->getBody(), Context))
    if (const auto *Start = Nodes.getNodeAs<Expr>("spawn"))
      if (std::optional<SpawnSite> Site =
              analyzeSpawnImpl(Start, Context, {}, /*Infer=*/false);
          Site && Site->Kind != SpawnKind::BoostThread &&
          Site->Kind != SpawnKind::ThreadObject &&
          Site->Kind != SpawnKind::ParallelAlgorithm &&
          outlivesWrapper(*Site, Context))
        Starts.push_back(std::move(*Site));
  for (unsigned Index : Callables) {
    llvm::DenseSet<const Decl *> Made =
        madeFrom(*Definition->getParamDecl(Index), Scan);
    for (const SpawnSite &Site : Starts)
      if (refersToAny(Site.Callable, Made))
        return Index;
    // Handed on to another wrapper.
    for (const CallExpr *Call : Scan.Calls) {
      const FunctionDecl *Callee = Call->getDirectCallee();
      if (!Callee || isa<CXXOperatorCallExpr>(Call) ||
          Callee->getCanonicalDecl() == Definition->getCanonicalDecl() ||
          !llvm::any_of(Call->arguments(), [&](const Expr *Arg) {
            return refersToAny(Arg, Made);
          }))
        continue;
      if (std::optional<unsigned> Inner =
              inferredSpawnWrapperImpl(*Callee, Context, Depth + 1);
          Inner && *Inner < Call->getNumArgs() &&
          refersToAny(Call->getArg(*Inner), Made))
        return Index;
    }
  }
  return std::nullopt;
}

std::optional<unsigned> inferredSpawnWrapper(const FunctionDecl &Function,
                                             ASTContext &Context) {
  return inferredSpawnWrapperImpl(Function, Context, 0);
}

std::optional<ThreadLifetimeCall> threadLifetimeCall(const CallExpr &Call) {
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call)) {
    const CXXMethodDecl *Method = Member->getMethodDecl();
    if (!Method || !Method->getIdentifier())
      return std::nullopt;
    std::optional<ThreadLifetimeOp> Op =
        llvm::StringSwitch<std::optional<ThreadLifetimeOp>>(Method->getName())
            .Case("join", ThreadLifetimeOp::Join)
            // boost::thread's timed joins, boost::thread_group's join_all.
            .Case("timed_join", ThreadLifetimeOp::Join)
            .Case("try_join_for", ThreadLifetimeOp::Join)
            .Case("try_join_until", ThreadLifetimeOp::Join)
            .Case("join_all", ThreadLifetimeOp::Join)
            .Case("detach", ThreadLifetimeOp::Detach)
            .Case("swap", ThreadLifetimeOp::Swap)
            .Case("joinable", ThreadLifetimeOp::JoinableQuery)
            .Case("get", ThreadLifetimeOp::Wait)
            .Case("wait", ThreadLifetimeOp::Wait)
            .Default(std::nullopt);
    if (!Op)
      return std::nullopt;
    // `P->join()` on a std::unique_ptr / std::shared_ptr: the handle is the
    // smart pointer (a raw pointer is its own handle already).
    const Expr *Object = ignoreWrappers(Member->getImplicitObjectArgument());
    if (const auto *Arrow = dyn_cast_or_null<CXXOperatorCallExpr>(Object);
        Arrow && Arrow->getOperator() == OO_Arrow && Arrow->getNumArgs() == 1)
      Object = ignoreWrappers(Arrow->getArg(0));
    return ThreadLifetimeCall{*Op, Object, false};
  }
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee || !Callee->getIdentifier() || Call.getNumArgs() == 0 ||
      !Callee->getDeclContext()->getRedeclContext()->isTranslationUnit())
    return std::nullopt;
  // The timed and non-blocking joins count as joins: where they fail, the
  // code around them decides what happens next (often a cancel and join).
  std::optional<ThreadLifetimeOp> Op =
      llvm::StringSwitch<std::optional<ThreadLifetimeOp>>(Callee->getName())
          .Cases("pthread_join", "pthread_timedjoin_np", "pthread_tryjoin_np",
                 ThreadLifetimeOp::Join)
          .Case("pthread_detach", ThreadLifetimeOp::Detach)
          .Case("pthread_cancel", ThreadLifetimeOp::Cancel)
          .Default(std::nullopt);
  if (!Op)
    return std::nullopt;
  return ThreadLifetimeCall{*Op, ignoreWrappers(Call.getArg(0)), true};
}

bool releasesThread(ThreadLifetimeOp Op) {
  return Op == ThreadLifetimeOp::Join || Op == ThreadLifetimeOp::Detach ||
         Op == ThreadLifetimeOp::Swap;
}

const CXXMemberCallExpr *containerCall(const SpawnSite &Site,
                                       ASTContext &Context) {
  if (Site.Handle != HandleKind::Container)
    return nullptr;
  // The emplace into a container of threads is the spawn itself (a pool's
  // submit or a spawn function is a member call too, but not that one).
  if (const auto *Call = dyn_cast<CXXMemberCallExpr>(Site.Spawn);
      Call &&
      (Site.Kind == SpawnKind::StdThread || Site.Kind == SpawnKind::JThread ||
       Site.Kind == SpawnKind::BoostThread))
    return Call;
  DynTypedNode Parent =
      skipWrappers(DynTypedNode::create(*Site.Spawn), Context);
  // `Group.add_thread(new boost::thread(f))`.
  if (Parent.get<CXXNewExpr>())
    Parent = skipWrappers(Parent, Context);
  return Parent.get<CXXMemberCallExpr>();
}

std::optional<UnwoundThreadContainer>
unwoundThreadContainer(const SpawnSite &Site, ASTContext &Context) {
  if (Site.Handle != HandleKind::Container ||
      Site.Kind != SpawnKind::StdThread || !Site.EnclosingFunction ||
      !Site.EnclosingFunction->hasBody())
    return std::nullopt;
  const CXXMemberCallExpr *Call = containerCall(Site, Context);
  if (!Call)
    return std::nullopt;
  UnwoundThreadContainer Result;
  const Expr *Object = ignoreWrappers(Call->getImplicitObjectArgument());
  if (const auto *Ref = dyn_cast_or_null<DeclRefExpr>(Object)) {
    const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
    if (!Var || !Var->isLocalVarDecl() || Var->isStaticLocal() ||
        Var->getType()->isReferenceType())
      return std::nullopt;
    Result.Container = Var;
  } else if (const auto *Member = dyn_cast_or_null<MemberExpr>(Object)) {
    const auto *Ctor = dyn_cast<CXXConstructorDecl>(Site.EnclosingFunction);
    const auto *Field = dyn_cast<FieldDecl>(Member->getMemberDecl());
    if (!Ctor || !Field || Field->getType()->isReferenceType() ||
        !isa<CXXThisExpr>(ignoreWrappers(Member->getBase())) ||
        isa<CXXTryStmt>(Ctor->getBody()))
      return std::nullopt;
    Result.Container = Field;
    Result.Constructor = Ctor;
  } else {
    return std::nullopt;
  }

  // Walk up from the spawn to the function body: the nearest loop fills
  // the container; any `try` on the way may handle the exception.
  DynTypedNode Node = DynTypedNode::create(*Site.Spawn);
  const Stmt *Body = Site.EnclosingFunction->getBody();
  for (unsigned Depth = 0; Depth < 64; ++Depth) {
    DynTypedNodeList Parents = Context.getParents(Node);
    if (Parents.empty())
      return std::nullopt;
    const DynTypedNode &Parent = Parents[0];
    const auto *S = Parent.get<Stmt>();
    if (!S || isa<LambdaExpr>(S))
      return std::nullopt;
    if (isa<CXXTryStmt>(S))
      return std::nullopt;
    if (!Result.Loop && isa<ForStmt, WhileStmt, DoStmt, CXXForRangeStmt>(S)) {
      // The loop's own condition or increment is not its body.
      const Stmt *LoopBody = nullptr;
      if (const auto *For = dyn_cast<ForStmt>(S))
        LoopBody = For->getBody();
      else if (const auto *While = dyn_cast<WhileStmt>(S))
        LoopBody = While->getBody();
      else if (const auto *Do = dyn_cast<DoStmt>(S))
        LoopBody = Do->getBody();
      else
        LoopBody = cast<CXXForRangeStmt>(S)->getBody();
      const auto *Child = Node.get<Stmt>();
      if (Child && Child == LoopBody)
        Result.Loop = S;
    }
    if (S == Body)
      break;
    Node = Parent;
  }
  if (!Result.Loop)
    return std::nullopt;
  // A local container declared inside the loop holds one thread at a time.
  if (const auto *Var = dyn_cast<VarDecl>(Result.Container);
      Var && Result.Loop->getSourceRange().fullyContains(Var->getSourceRange()))
    return std::nullopt;
  return Result;
}

namespace {
/// The pthread cancels, and the joins and detaches, of one handle in a body.
/// Handles are compared by the lock model's object key (the declaration
/// chain that names them; `&H` names H).
class HandleCallFinder : public RecursiveASTVisitor<HandleCallFinder> {
public:
  explicit HandleCallFinder(MutexKey Handle) : Handle(std::move(Handle)) {}
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }
  bool VisitCallExpr(CallExpr *Call) {
    std::optional<ThreadLifetimeCall> Lifetime = threadLifetimeCall(*Call);
    if (Lifetime && Lifetime->IsPthread &&
        LockScopeAnalysis::keyOf(Lifetime->Handle) == Handle)
      (Lifetime->Op == ThreadLifetimeOp::Cancel ? Cancels : Releases)
          .insert(Call);
    return true;
  }
  MutexKey Handle;
  llvm::SmallPtrSet<const Stmt *, 4> Cancels, Releases;
};
} // namespace

const CallExpr *cancelledHandleOverwritten(const SpawnSite &Site,
                                           ASTContext &Context) {
  const auto *Create = dyn_cast<CallExpr>(Site.Spawn);
  const FunctionDecl *Function = Site.EnclosingFunction;
  if (Site.Kind != SpawnKind::PthreadCreate || !Create ||
      Create->getNumArgs() == 0 || !Function || !Function->hasBody())
    return nullptr;
  std::optional<MutexKey> Handle = LockScopeAnalysis::keyOf(Create->getArg(0));
  if (!Handle)
    return nullptr;

  // Cheap test first: is there a cancel of this handle at all?
  HandleCallFinder Finder(*Handle);
  Finder.TraverseStmt(Function->getBody());
  if (Finder.Cancels.empty())
    return nullptr;

  CFG::BuildOptions Options;
  Options.setAllAlwaysAdd();
  std::unique_ptr<CFG> Graph =
      CFG::buildCFG(Function, Function->getBody(), &Context, Options);
  if (!Graph)
    return nullptr;
  for (const CFGBlock *Start : *Graph) {
    for (unsigned I = 0; I < Start->size(); ++I) {
      std::optional<CFGStmt> S = (*Start)[I].getAs<CFGStmt>();
      if (!S || !Finder.Cancels.count(S->getStmt()))
        continue;
      // Forward from the cancel: is the start reached before a release?
      llvm::DenseSet<const CFGBlock *> Visited;
      llvm::SmallVector<std::pair<const CFGBlock *, unsigned>, 8> Worklist;
      Worklist.push_back({Start, I + 1});
      while (!Worklist.empty()) {
        auto [Block, From] = Worklist.pop_back_val();
        bool Stopped = false;
        for (unsigned J = From; J < Block->size() && !Stopped; ++J) {
          std::optional<CFGStmt> Element = (*Block)[J].getAs<CFGStmt>();
          if (!Element)
            continue;
          if (Element->getStmt() == Create)
            return cast<CallExpr>(S->getStmt());
          Stopped = Finder.Releases.count(Element->getStmt()) > 0;
        }
        if (Stopped)
          continue;
        for (const CFGBlock *Next : Block->succs())
          if (Next && Visited.insert(Next).second)
            Worklist.push_back({Next, 0});
      }
    }
  }
  return nullptr;
}

} // namespace clang::tidy::concguard::utils
