//===--- ThreadSpawns.cpp - where threads start and what they run ---------===//

#include "ThreadSpawns.h"

#include "ExprUtils.h"
#include "StdNames.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/ASTMatchers/ASTMatchers.h"
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
bool isStdJThreadType(QualType T) { return isStdRecordType(T, {"jthread"}); }
bool isStopTokenType(QualType T) { return isStdRecordType(T, {"stop_token"}); }

StatementMatcher
spawnExpressionMatcher(llvm::ArrayRef<SpawnFunction> SpawnFunctions) {
  auto ThreadClass =
      cxxRecordDecl(hasAnyName("::std::thread", "::std::jthread"));
  // The constructor template that takes a callable; copy and move
  // constructors move an existing thread and start nothing.
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

  std::vector<llvm::StringRef> Names;
  for (const SpawnFunction &Function : SpawnFunctions)
    Names.push_back(Function.QualifiedName);
  if (Names.empty())
    return expr(anyOf(StartingConstructor, EmplaceIntoContainer, StdFunctions))
        .bind("spawn");
  auto Configured = callExpr(
      callee(functionDecl(hasAnyName(llvm::ArrayRef<llvm::StringRef>(Names)))));
  return expr(anyOf(StartingConstructor, EmplaceIntoContainer, StdFunctions,
                    Configured))
      .bind("spawn");
}

static const FunctionDecl *definitionOrDecl(const FunctionDecl *F) {
  if (!F)
    return nullptr;
  if (const FunctionDecl *Definition = F->getDefinition())
    return Definition;
  return F;
}

static ThreadEntry resolveCallableImpl(const Expr *Callable,
                                       llvm::ArrayRef<const Expr *> Arguments,
                                       unsigned Depth) {
  ThreadEntry Entry;
  const Expr *E = ignoreCallableCopies(Callable);
  if (!E || Depth > 4)
    return Entry;

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
      // `auto worker = [&] {...}; std::thread t(worker);`
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

static void findHandle(SpawnSite &Site, ASTContext &Context) {
  if (Site.Handle == HandleKind::Container)
    return;
  DynTypedNode Self = DynTypedNode::create(*Site.Spawn);
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
  if (Parent.get<CXXNewExpr>()) {
    Site.Handle = HandleKind::Heap;
    return;
  }
  if (const auto *Assign = Parent.get<CXXOperatorCallExpr>();
      Assign && Assign->getOperator() == OO_Equal &&
      Assign->getNumArgs() == 2) {
    const Expr *Target = Assign->getArg(0)->IgnoreParenImpCasts();
    if (const auto *Ref = dyn_cast<DeclRefExpr>(Target)) {
      if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl())) {
        Site.HandleDecl = Var;
        Site.Handle =
            Var->hasLocalStorage() ? HandleKind::Local : HandleKind::Global;
      }
    } else if (const auto *Member = dyn_cast<MemberExpr>(Target)) {
      if (const auto *Field = dyn_cast<FieldDecl>(Member->getMemberDecl())) {
        Site.HandleDecl = Field;
        Site.Handle = HandleKind::Member;
      }
    }
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

std::optional<SpawnSite>
analyzeSpawn(const Expr *Spawn, ASTContext &Context,
             llvm::ArrayRef<SpawnFunction> SpawnFunctions) {
  SpawnSite Site;
  Site.Spawn = Spawn;
  unsigned CallableIndex = 0;
  llvm::SmallVector<const Expr *, 8> Args;

  if (const auto *Construct = dyn_cast<CXXConstructExpr>(Spawn)) {
    Site.Kind = isStdJThreadType(Construct->getType()) ? SpawnKind::JThread
                                                       : SpawnKind::StdThread;
    for (const Expr *Arg : Construct->arguments())
      Args.push_back(Arg);
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
    Site.Kind =
        isStdJThreadType(Element) ? SpawnKind::JThread : SpawnKind::StdThread;
    Site.Handle = HandleKind::Container;
    for (const Expr *Arg : Member->arguments())
      Args.push_back(Arg);
    // `emplace(position, callable, args...)`.
    if (Member->getMethodDecl()->getName() == "emplace")
      CallableIndex = 1;
  } else if (const auto *Call = dyn_cast<CallExpr>(Spawn)) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return std::nullopt;
    for (const Expr *Arg : Call->arguments())
      Args.push_back(Arg);
    std::string Name = Callee->getQualifiedNameAsString();
    if (isStdDeclNamed(Callee, {"async"})) {
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
    } else {
      Site.Kind = SpawnKind::SpawnFunction;
      bool Found = false;
      for (const SpawnFunction &Function : SpawnFunctions) {
        llvm::StringRef Wanted = Function.QualifiedName;
        Wanted.consume_front("::");
        if (Wanted == Name) {
          CallableIndex = Function.CallableIndex;
          Found = true;
          break;
        }
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
  if (Site.Kind != SpawnKind::JThread)
    Site.Entry.StopToken = nullptr;
  findHandle(Site, Context);
  Site.EnclosingFunction = enclosingFunction(*Spawn, Context);
  return Site;
}

std::optional<ThreadLifetimeCall> threadLifetimeCall(const CallExpr &Call) {
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(&Call)) {
    const CXXMethodDecl *Method = Member->getMethodDecl();
    if (!Method || !Method->getIdentifier())
      return std::nullopt;
    std::optional<ThreadLifetimeOp> Op =
        llvm::StringSwitch<std::optional<ThreadLifetimeOp>>(Method->getName())
            .Case("join", ThreadLifetimeOp::Join)
            .Case("detach", ThreadLifetimeOp::Detach)
            .Case("swap", ThreadLifetimeOp::Swap)
            .Case("joinable", ThreadLifetimeOp::JoinableQuery)
            .Case("get", ThreadLifetimeOp::Wait)
            .Case("wait", ThreadLifetimeOp::Wait)
            .Default(std::nullopt);
    if (!Op)
      return std::nullopt;
    return ThreadLifetimeCall{
        *Op, ignoreWrappers(Member->getImplicitObjectArgument()), false};
  }
  if (const FunctionDecl *Callee = Call.getDirectCallee();
      Callee && Callee->getIdentifier() &&
      Callee->getName() == "pthread_join" && Call.getNumArgs() > 0)
    return ThreadLifetimeCall{ThreadLifetimeOp::Join,
                              ignoreWrappers(Call.getArg(0)), true};
  return std::nullopt;
}

bool releasesThread(ThreadLifetimeOp Op) {
  return Op == ThreadLifetimeOp::Join || Op == ThreadLifetimeOp::Detach ||
         Op == ThreadLifetimeOp::Swap;
}

} // namespace clang::tidy::concguard::utils
