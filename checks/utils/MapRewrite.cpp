//===--- MapRewrite.cpp - plan the rewrite of racy maps -------------------===//

#include "MapRewrite.h"
#include "ThreadSpawns.h"

#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Analysis/Analyses/ExprMutationAnalyzer.h"
#include "clang/Basic/CharInfo.h"
#include "clang/Index/USRGeneration.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <functional>
#include <map>
#include <optional>
#include <tuple>

namespace clang::tidy::concguard::utils {

namespace {

std::string usrOf(const Decl *D) {
  llvm::SmallString<128> USR;
  if (index::generateUSRForDecl(D, USR))
    return "";
  return std::string(USR);
}

std::string where(SourceLocation Loc, const SourceManager &SM) {
  PresumedLoc P = SM.getPresumedLoc(SM.getExpansionLoc(Loc));
  if (P.isInvalid())
    return "<unknown>";
  return llvm::formatv("{0}:{1}:{2}", P.getFilename(), P.getLine(),
                       P.getColumn());
}

/// The map type of a flagged declaration, printed as written.
struct MapType {
  bool Ordered = false; ///< std::map (iteration in key order)
  std::string Key, Value, Hash, Equal;
};

std::optional<MapType> mapTypeOf(QualType T, const ASTContext &Context,
                                 std::string &Reason) {
  T = T.getNonReferenceType();
  const CXXRecordDecl *Record = T->getAsCXXRecordDecl();
  if (!Record || !Record->isInStdNamespace() || !Record->getIdentifier())
    return std::nullopt;
  MapType Result;
  if (Record->getName() == "map")
    Result.Ordered = true;
  else if (Record->getName() != "unordered_map")
    return std::nullopt;
  const auto *Written = T->getAs<TemplateSpecializationType>();
  if (!Written) {
    Reason = "its type is not spelled as a std::map or std::unordered_map "
             "specialization";
    return std::nullopt;
  }
  PrintingPolicy Policy(Context.getLangOpts());
  Policy.SuppressUnwrittenScope = true;
  llvm::ArrayRef<TemplateArgument> Args = Written->template_arguments();
  auto Print = [&](const TemplateArgument &Arg) {
    return Arg.getKind() == TemplateArgument::Type
               ? Arg.getAsType().getAsString(Policy)
               : std::string();
  };
  if (Args.size() < 2) {
    Reason = "its template arguments are not spelled out";
    return std::nullopt;
  }
  Result.Key = Print(Args[0]);
  Result.Value = Print(Args[1]);
  if (Result.Ordered && Args.size() > 2) {
    Reason = "it has a custom comparator";
    return std::nullopt;
  }
  if (!Result.Ordered && Args.size() > 2)
    Result.Hash = Print(Args[2]);
  if (!Result.Ordered && Args.size() > 3)
    Result.Equal = Print(Args[3]);
  if ((Result.Ordered && Args.size() > 3) || Args.size() > 4) {
    Reason = "it has a custom allocator";
    return std::nullopt;
  }
  if (Result.Key.empty() || Result.Value.empty()) {
    Reason = "its template arguments are not types";
    return std::nullopt;
  }
  return Result;
}

/// Is \p T (a reference to) a std::map or std::unordered_map?
bool isStdMap(QualType T) {
  const CXXRecordDecl *Record = T.getNonReferenceType()->getAsCXXRecordDecl();
  return Record && Record->isInStdNamespace() && Record->getIdentifier() &&
         (Record->getName() == "map" || Record->getName() == "unordered_map");
}

/// Is \p T (a reference to) a standard container that a flagged variable
/// or member can be turned into a concguard::synchronized<T> of: a
/// sequence, a string or a set (a map becomes a concurrent map instead)?
bool isSynchronizable(QualType T) {
  const CXXRecordDecl *Record = T.getNonReferenceType()->getAsCXXRecordDecl();
  if (!Record || !Record->isInStdNamespace() || !Record->getIdentifier())
    return false;
  return llvm::is_contained({"vector", "deque", "list", "forward_list",
                             "basic_string", "set", "multiset", "unordered_set",
                             "unordered_multiset"},
                            Record->getName());
}

std::string quoted(const NamedDecl &D) {
  return "'" + D.getQualifiedNameAsString() + "'";
}

/// Why the parameter \p Index of \p Callee cannot be rewritten with the map
/// (or with \p Container, the container that is not a map) passed to it;
/// empty when it can: a plain lvalue reference parameter of a function of
/// the project that is neither virtual nor a template.
std::string whyParameterStays(const FunctionDecl &Callee, unsigned Index,
                              const SourceManager &SM, bool Container = false) {
  std::string What = Container ? "container" : "map";
  std::string Passed = "the " + What + " is passed to " + quoted(Callee);
  for (const FunctionDecl *D : Callee.redecls())
    if (SM.isInSystemHeader(D->getLocation()))
      return Passed + ", which is declared in a system header";
  if (Index >= Callee.getNumParams())
    return Passed + " as a variadic argument";
  if (Callee.isTemplated() || Callee.getTemplateInstantiationPattern() ||
      Callee.isFunctionTemplateSpecialization())
    return Passed + ", a template";
  if (const auto *Method = dyn_cast<CXXMethodDecl>(&Callee);
      Method && Method->isVirtual())
    return Passed + ", a virtual function";
  QualType T = Callee.getParamDecl(Index)->getType();
  if (!T->isReferenceType())
    return "the " + What + " is passed by value to " + quoted(Callee);
  if (!T->isLValueReferenceType())
    return "the " + What + " is passed by rvalue reference to " +
           quoted(Callee);
  if (!(Container ? isSynchronizable(T) : isStdMap(T)) ||
      T.getNonReferenceType().isVolatileQualified())
    return Passed + ", whose parameter is not a reference to the " + What +
           "'s type";
  return "";
}

/// `std::thread t(f, args...)` (or std::jthread, also through a binder:
/// `std::thread t(std::bind(f, args...))`) naming a function of the
/// project: \p f is called with the arguments that follow it (the bound
/// ones).
struct ThreadStart {
  const FunctionDecl *Callee = nullptr;
  const Expr *CalleeRef = nullptr;
  llvm::SmallVector<const Expr *, 4> Args; ///< the arguments after the callable
};

/// `std::bind(f, ...)` / `std::bind_front(f, ...)`: the call, when \p E is
/// one.
const CallExpr *asBinder(const Expr &E) {
  const auto *Call = dyn_cast<CallExpr>(E.IgnoreImplicit()->IgnoreParens());
  const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
  if (!Callee || !Callee->isInStdNamespace() || !Callee->getIdentifier() ||
      (Callee->getName() != "bind" && Callee->getName() != "bind_front") ||
      Call->getNumArgs() < 1)
    return nullptr;
  return Call;
}

/// The thread start \p Spawn is, resolved by the shared thread model
/// (analyzeSpawn), when it runs a function of the project named directly
/// (not a member function, a lambda or a functor).
std::optional<ThreadStart> threadStartOf(const CXXConstructExpr &Spawn,
                                         ASTContext &Context) {
  if ((!isStdThreadType(Spawn.getType()) &&
       !isStdJThreadType(Spawn.getType())) ||
      Spawn.getNumArgs() < 1)
    return std::nullopt;
  std::optional<SpawnSite> Site = analyzeSpawn(&Spawn, Context, {});
  if (!Site || !Site->Callable || !Site->Entry.Function || Site->Entry.Lambda ||
      Site->Entry.Object || isa<CXXMethodDecl>(Site->Entry.Function))
    return std::nullopt;
  // The function's name: the callable, or a binder's first argument.
  const Expr *Callable = Site->Callable;
  if (Site->Entry.BoundArguments) {
    const CallExpr *Binder = asBinder(*Callable);
    if (!Binder)
      return std::nullopt;
    Callable = Binder->getArg(0);
  }
  Callable = Callable->IgnoreParenImpCasts();
  if (const auto *AddressOf = dyn_cast<UnaryOperator>(Callable);
      AddressOf && AddressOf->getOpcode() == UO_AddrOf)
    Callable = AddressOf->getSubExpr()->IgnoreParenImpCasts();
  const auto *Ref = dyn_cast<DeclRefExpr>(Callable);
  if (!Ref || Ref->getDecl() != Site->Entry.Function)
    return std::nullopt;
  return ThreadStart{Site->Entry.Function, Ref, Site->Arguments};
}

/// The thread start whose argument \p Arg is (through temporaries and a
/// binder).
std::optional<std::pair<ThreadStart, unsigned>>
threadArgument(const Expr &Arg, ASTContext &Context) {
  const Expr *E = &Arg;
  for (DynTypedNodeList Up = Context.getParents(*E); !Up.empty();
       Up = Context.getParents(*E)) {
    if (const auto *Construct = Up[0].get<CXXConstructExpr>()) {
      std::optional<ThreadStart> Start = threadStartOf(*Construct, Context);
      if (!Start)
        return std::nullopt;
      for (unsigned I = 0; I < Start->Args.size(); ++I)
        if (Start->Args[I]->IgnoreImplicit() == Arg.IgnoreImplicit())
          return std::make_pair(*Start, I);
      return std::nullopt;
    }
    const auto *Parent = Up[0].get<Expr>();
    if (!Parent || (!isa<MaterializeTemporaryExpr, CXXBindTemporaryExpr,
                         ImplicitCastExpr, ParenExpr>(Parent) &&
                    !asBinder(*Parent)))
      return std::nullopt;
    E = Parent;
  }
  return std::nullopt;
}

/// `std::ref(m)` / `std::cref(m)`: the call, when \p E is one.
const CallExpr *asRefWrapper(const Expr &E) {
  const auto *Call = dyn_cast<CallExpr>(E.IgnoreImplicit()->IgnoreParens());
  const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
  if (!Callee || !Callee->isInStdNamespace() || !Callee->getIdentifier() ||
      (Callee->getName() != "ref" && Callee->getName() != "cref") ||
      Call->getNumArgs() != 1)
    return nullptr;
  return Call;
}

/// The references to \p Var in \p Within.
std::vector<const DeclRefExpr *> referencesTo(const VarDecl &Var,
                                              const Stmt &Within) {
  class Refs : public RecursiveASTVisitor<Refs> {
  public:
    explicit Refs(const VarDecl &Var) : Var(Var) {}
    std::vector<const DeclRefExpr *> Found;
    bool VisitDeclRefExpr(DeclRefExpr *Ref) {
      if (Ref->getDecl() == &Var)
        Found.push_back(Ref);
      return true;
    }

  private:
    const VarDecl &Var;
  } Finder(Var);
  Finder.TraverseStmt(const_cast<Stmt *>(&Within));
  return std::move(Finder.Found);
}

} // namespace

std::string parameterId(llvm::StringRef FunctionUSR, unsigned Index) {
  return ("param:" + FunctionUSR + "#" + llvm::Twine(Index)).str();
}

bool matchesOnly(const std::string &Name,
                 const std::vector<std::string> &Only) {
  if (Only.empty())
    return true;
  return llvm::any_of(Only, [&](const std::string &Wanted) {
    llvm::StringRef W(Wanted);
    W.consume_front("::");
    return W == Name;
  });
}

namespace {

bool isParameterId(llvm::StringRef Id) { return Id.starts_with("param:"); }

/// The parameterId() of \p Param; empty when it is not a function's.
std::string parameterIdOf(const ParmVarDecl &Param) {
  const auto *Function = dyn_cast<FunctionDecl>(Param.getDeclContext());
  if (!Function)
    return "";
  std::string USR = usrOf(Function);
  return USR.empty() ? "" : parameterId(USR, Param.getFunctionScopeIndex());
}

/// The node that an argument passed to a map parameter stands for: the
/// variable, member or parameter it names, or nothing ("") for any other
/// expression (and for an argument of another type, converted).
std::string argumentNode(const Expr &Arg, QualType Param,
                         const ASTContext &Context) {
  const Expr *E = Arg.IgnoreParenImpCasts();
  if (!Context.hasSameUnqualifiedType(E->getType(),
                                      Param.getNonReferenceType()))
    return "";
  if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
    if (const auto *Param = dyn_cast<ParmVarDecl>(Ref->getDecl()))
      return parameterIdOf(*Param);
    if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl()))
      return usrOf(Var);
  }
  if (const auto *Member = dyn_cast<MemberExpr>(E))
    if (const auto *Field = dyn_cast<FieldDecl>(Member->getMemberDecl()))
      return usrOf(Field);
  return "";
}

/// Finds every expression that names a target declaration.
class UseFinder : public RecursiveASTVisitor<UseFinder> {
public:
  UseFinder(const SourceManager &SM,
            const llvm::DenseMap<const Decl *, unsigned> &Targets)
      : SM(SM), Targets(Targets) {}

  std::vector<std::pair<unsigned, const Expr *>> Uses;
  std::vector<std::pair<unsigned, const DeclaratorDecl *>> Decls;

  bool shouldVisitTemplateInstantiations() const { return false; }

  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    note(Ref->getDecl(), Ref);
    return true;
  }
  bool VisitMemberExpr(MemberExpr *Member) {
    note(Member->getMemberDecl(), Member);
    return true;
  }
  bool VisitDeclaratorDecl(DeclaratorDecl *D) {
    // A parameter's declarations are planned with its function's.
    if (isa<VarDecl, FieldDecl>(D) && !isa<ParmVarDecl>(D) &&
        !SM.isInSystemHeader(D->getLocation()))
      if (auto It = Targets.find(D->getCanonicalDecl()); It != Targets.end())
        Decls.push_back({It->second, D});
    return true;
  }

private:
  const SourceManager &SM;
  const llvm::DenseMap<const Decl *, unsigned> &Targets;

  void note(const Decl *D, const Expr *E) {
    if (!D || SM.isInSystemHeader(E->getBeginLoc()))
      return;
    auto It = Targets.find(D->getCanonicalDecl());
    if (It != Targets.end())
      Uses.push_back({It->second, E});
  }
};

class Planner {
public:
  Planner(ASTContext &Context, MapPlan &Plan, const MapType &Type,
          bool Snapshot)
      : Context(Context), SM(Context.getSourceManager()),
        LangOpts(Context.getLangOpts()), Plan(Plan), Type(Type),
        Snapshot(Snapshot) {}

  /// Plans the edit of one use; false (with Plan.Reason set) when it cannot
  /// be rewritten faithfully.
  bool use(const Expr *Use);
  bool declaration(const DeclaratorDecl &D);
  /// One declaration of a parameter rewritten with the maps passed to it:
  /// its type (keeping `const` and `&`).
  bool parameter(const ParmVarDecl &Param);
  void addInclude(const DeclaratorDecl &D);

  std::string newType() const {
    if (!Synchronized.empty())
      return "concguard::synchronized<" + Synchronized + ">";
    std::string Args = Type.Key + ", " + Type.Value;
    if (Snapshot) {
      if (Type.Ordered)
        return "concguard::snapshot_map<" + Args + ", std::map<" + Args + ">>";
      return "concguard::snapshot_map<" + Args + ">";
    }
    if (!Type.Hash.empty())
      Args += ", " + Type.Hash;
    if (!Type.Equal.empty())
      Args += ", " + Type.Equal;
    return "concguard::sharded_map<" + Args + ">";
  }

private:
  ASTContext &Context;
  const SourceManager &SM;
  const LangOptions &LangOpts;
  MapPlan &Plan;
  const MapType &Type;
  bool Snapshot;
  llvm::DenseSet<const Expr *> Consumed;

  bool skip(const Stmt *At, llvm::StringRef Reason) {
    return skipAt(At ? At->getBeginLoc() : SourceLocation(), Reason);
  }
  bool skipAt(SourceLocation Loc, llvm::StringRef Reason) {
    Plan.Reason = Reason.str();
    Plan.ReasonLocation = where(Loc, SM);
    Plan.ReasonLoc = Loc;
    return false;
  }

  std::string text(SourceRange Range) const {
    return Lexer::getSourceText(CharSourceRange::getTokenRange(Range), SM,
                                LangOpts)
        .str();
  }

  /// Is \p Loc in \p Range, its ends included?
  bool within(SourceLocation Loc, SourceRange Range) const {
    return !SM.isBeforeInTranslationUnit(Loc, Range.getBegin()) &&
           !SM.isBeforeInTranslationUnit(Range.getEnd(), Loc);
  }

  bool replace(SourceRange Range, llvm::StringRef Text, const Stmt *At) {
    CharSourceRange Chars = CharSourceRange::getTokenRange(Range);
    if (Range.getBegin().isMacroID() || Range.getEnd().isMacroID())
      return skip(At, "a use is inside a macro expansion");
    Plan.Edits.emplace_back(SM, Chars, Text, LangOpts);
    return true;
  }

  const Stmt *parent(const Stmt *S) const {
    DynTypedNodeList Parents = Context.getParents(*S);
    return Parents.empty() ? nullptr : Parents[0].get<Stmt>();
  }

  /// The parent, skipping implicit nodes.
  const Stmt *semanticParent(const Expr *E, const Expr *&Child) const {
    Child = E;
    const Stmt *P = parent(E);
    while (P && isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr,
                    CXXBindTemporaryExpr, ExprWithCleanups>(P)) {
      Child = cast<Expr>(P);
      P = parent(P);
    }
    return P;
  }

  /// Is the value of \p E bound to a reference variable, or returned by
  /// reference (a view into the map that outlives the expression)?
  bool boundToReference(const Expr *E) const {
    DynTypedNodeList Parents = Context.getParents(*E);
    while (!Parents.empty()) {
      if (const auto *Var = Parents[0].get<VarDecl>())
        return Var->getType()->isReferenceType();
      const auto *S = Parents[0].get<Stmt>();
      if (const auto *Return = dyn_cast_or_null<ReturnStmt>(S)) {
        (void)Return;
        for (DynTypedNodeList Up = Context.getParents(*S); !Up.empty();
             Up = Context.getParents(Up[0]))
          if (const auto *F = Up[0].get<FunctionDecl>())
            return F->getReturnType()->isReferenceType();
        return false;
      }
      if (!S || !isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr,
                     CXXBindTemporaryExpr, ExprWithCleanups>(S))
        return false;
      Parents = Context.getParents(Parents[0]);
    }
    return false;
  }

  /// Is \p E evaluated only for its side effects, as a statement?
  bool isStatement(const Expr *E) const {
    const Expr *Child = nullptr;
    const Stmt *P = semanticParent(E, Child);
    if (!P)
      return false;
    if (isa<CompoundStmt, LabelStmt, CaseStmt, DefaultStmt>(P))
      return true;
    if (const auto *If = dyn_cast<IfStmt>(P))
      return If->getThen() == Child || If->getElse() == Child;
    if (const auto *For = dyn_cast<ForStmt>(P))
      return For->getBody() == Child || For->getInc() == Child;
    if (const auto *While = dyn_cast<WhileStmt>(P))
      return While->getBody() == Child;
    if (const auto *Range = dyn_cast<CXXForRangeStmt>(P))
      return Range->getBody() == Child;
    if (const auto *Do = dyn_cast<DoStmt>(P))
      return Do->getBody() == Child;
    return false;
  }

  /// A name for the lambda parameter that none of \p Texts uses.
  static std::string freshName(llvm::ArrayRef<std::string> Texts) {
    for (const char *Candidate : {"value", "element", "concguard_value"}) {
      bool Used = llvm::any_of(Texts, [&](const std::string &T) {
        return llvm::StringRef(T).contains(Candidate);
      });
      if (!Used)
        return Candidate;
    }
    return "concguard_value_";
  }

  /// What the code around an element of the map (`m.at(k)`, `m[k]`,
  /// `It->second`, an lvalue) does with it, decided by the use, not by the
  /// constness of the overload a non-const map selects.
  enum class ElementUse {
    Read,     ///< only read, within the full expression
    Modified, ///< written: assigned, ++, a non-const call, a non-const
              ///< reference parameter (ExprMutationAnalyzer)
    Escapes,  ///< a reference, pointer or iterator into it outlives the
              ///< full expression
  };
  struct ElementChain {
    ElementUse Use = ElementUse::Read;
    /// Where it is modified or escapes.
    const Stmt *At = nullptr;
  };
  ElementChain elementUse(const Expr &Element) const;
  /// `<full expression using m[k]>;` -> `m.upsert(k, [&](auto &value) {
  /// <the same with value for m[k]>; })`: one callback under the write lock.
  bool upsertStatement(const CXXOperatorCallExpr &Sub, const std::string &Map,
                       const std::string &Key,
                       llvm::ArrayRef<const CXXOperatorCallExpr *> Same = {});
  /// `<full expression modifying m.at(k)>;` -> `if (!m.update(k, [&](auto
  /// &value) { <the same with value for m.at(k)>; })) throw
  /// std::out_of_range(...);`: at() throws for a missing key, update()
  /// says whether the key was there.
  bool updateThroughAt(const CXXMemberCallExpr &At, const std::string &Map);
  /// The statement around \p Elements (each `m[k]` or `m.at(k)` of one key,
  /// whose map uses are \p MapUses) as the body of one callback: the text
  /// of the full expression with each element spelled \p Name. \p What
  /// names the update in the reasons ("of m[k]", "through at()").
  std::optional<std::string>
  callbackBody(const Expr &Full, llvm::ArrayRef<const Expr *> Elements,
               llvm::ArrayRef<const Expr *> MapUses, llvm::StringRef What,
               llvm::ArrayRef<std::string> Avoid, std::string &Name);
  /// An operand of \p Full that C++17 may evaluate before \p Element (or
  /// unsequenced with it) and that has side effects: the right side of an
  /// assignment to it, another argument of a call it is passed to. Null
  /// when there is none (a member call's arguments come after its object).
  const Expr *sideEffectBefore(const Expr &Element, const Expr &Full) const;
  /// `auto it = m.find(k); if (it != m.end()) it->second += x;` (and the
  /// shapes in the docs) -> `m.update(k, [&](auto &value) { value += x;
  /// });`: the statements that write through the iterator in one callback.
  bool iteratorUpdate(const CXXMemberCallExpr &Find, const Expr *Use,
                      const VarDecl &It, const FunctionDecl &Function);
  /// `It->first` or `It->second` around the reference \p Ref to an
  /// iterator; null for any other use of it.
  const MemberExpr *arrowMember(const DeclRefExpr &Ref) const {
    const Stmt *P = parent(&Ref);
    while (P && isa<ImplicitCastExpr, ParenExpr>(P))
      P = parent(P);
    const auto *Op = dyn_cast_or_null<CXXOperatorCallExpr>(P);
    if (!Op || Op->getOperator() != OO_Arrow)
      return nullptr;
    const auto *Member = dyn_cast_or_null<MemberExpr>(parent(Op));
    if (!Member || !Member->getMemberDecl()->getIdentifier() ||
        (Member->getMemberDecl()->getName() != "first" &&
         Member->getMemberDecl()->getName() != "second"))
      return nullptr;
    return Member;
  }
  /// The variable \p E initializes (through implicit nodes); null if none.
  const VarDecl *initializedVariable(const Expr &E) const {
    DynTypedNodeList Up = Context.getParents(E);
    while (!Up.empty()) {
      if (const auto *Var = Up[0].get<VarDecl>())
        return Var;
      const auto *P = Up[0].get<Expr>();
      if (!P || !isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr,
                     CXXBindTemporaryExpr, ExprWithCleanups>(P))
        return nullptr;
      Up = Context.getParents(*P);
    }
    return nullptr;
  }
  /// The other uses of the map inside \p Within when each is `m[k]` with
  /// the key of \p Sub (`m[k] = m[k] + 1`); nullopt when one is not.
  std::optional<std::vector<const CXXOperatorCallExpr *>>
  sameElement(const CXXOperatorCallExpr &Sub, const Expr &Within,
              const Expr *Use) const;
  /// `if (!m.count(k)) m[k] = v;` -> `m.try_emplace(k, v);` (atomic); false
  /// when \p Condition is not such an if's condition.
  std::optional<bool> insertIfAbsent(const Expr &Condition, const Expr &Key,
                                     const std::string &Map);
  /// `for (auto it = m.begin(); it != m.end();) if (p) it = m.erase(it);
  /// else ++it;` -> `m.erase_if(...)`.
  std::optional<bool> eraseLoop(const CXXMemberCallExpr &Begin,
                                const std::string &Map);
  /// `auto &v = m[k]; <statements using v>` -> `m.upsert(k, [&](auto &v) {
  /// <the statements> });` (a `return E;` ending them returns the value the
  /// callback stored); `const auto &v = m[k];` read only -> a copy. With
  /// \p ThroughAt, `auto &v = m.at(k); ...` -> `if (!m.update(k, [&](auto
  /// &v) { ... })) throw std::out_of_range(...);` (at() throws before any
  /// of the statements runs, update() runs none of them), and `const auto
  /// &v = m.at(k);` read only keeps the copy the runtime's at() returns.
  /// \p Element is `m[k]` or `m.at(k)`, \p MapUse its use of the map.
  std::optional<bool> localReference(const Expr &Element, const Expr &MapUse,
                                     const std::string &Map,
                                     const std::string &Key, bool ThroughAt);
  /// The statement that stands for at()'s throw after an update() that
  /// found no key: the runtime's own exception and text.
  std::string throwOutOfRange() const {
    return std::string("throw std::out_of_range(\"concguard::") +
           (Snapshot ? "snapshot_map" : "sharded_map") +
           "::at: key not found\");";
  }
  /// The outermost expression around \p E (its full expression).
  const Expr *fullExpression(const Expr &E) const {
    const Expr *Full = &E;
    for (DynTypedNodeList Up = Context.getParents(*Full);
         !Up.empty() && Up[0].get<Expr>(); Up = Context.getParents(*Full))
      Full = Up[0].get<Expr>();
    return Full;
  }

  bool subscript(const CXXOperatorCallExpr &Sub, const Expr *Use);
  bool memberCall(const CXXMemberCallExpr &Call, const Expr *Use);
  bool rangeFor(const CXXForRangeStmt &For, const Expr *Use);
  bool keptIterator(const CXXMemberCallExpr &Find, const Expr *Use,
                    const VarDecl &It);
  std::optional<std::string> stableKey(const CXXMemberCallExpr &Find,
                                       const FunctionDecl &Function);
  bool forEach(const CXXForRangeStmt &For, const Expr *Use,
               const std::string &Map);
  bool
  elementMembers(const VarDecl &Element, const Stmt &Body, std::string &KeyName,
                 std::string &ValueName,
                 std::vector<std::pair<SourceRange, std::string>> &Renames);
  bool passedTo(const CallExpr &Call, const Expr *Use);

  // A container that becomes a concguard::synchronized<T>.
  /// What a statement does with the container through one use of it.
  enum class Access {
    Read,    ///< only reads it (a shared lock is enough)
    Write,   ///< may modify it, or hands out a non-const view into it
    Escapes, ///< a reference, pointer or iterator into it outlives the scope
  };
  struct ContainerAccess {
    Access Kind = Access::Read;
    const Stmt *At = nullptr;
    /// The expression the use ends in when its value is only copied out (a
    /// value `v.size()`, an element read `v.back()`, a member of a result
    /// `s.insert(x).second`), holding no view into the container.
    const Expr *CopiedValue = nullptr;
  };
  /// The statement that holds \p Use and becomes one callback: the
  /// innermost statement of a block (or a branch or body of an if, loop or
  /// switch) around it, taking in the if, loop or switch whose condition,
  /// header or range uses it. Null outside a function body.
  const Stmt *statementOf(const Expr &Use) const;
  /// What \p Use does with the container within \p Scope (the statement
  /// or expression that becomes the callback).
  ContainerAccess containerAccess(const Expr &Use, const Stmt &Scope) const;
  /// Does \p E (a part of the container, or a view into it when \p IsView)
  /// reach something that outlives \p Scope: a reference or view variable
  /// declared outside it, a return of a reference or view, a view assigned
  /// to a variable outside it or stored in another object? \p At is where.
  bool outlives(const Expr &E, bool IsView, const Stmt &Scope,
                const Stmt *&At) const;
  bool declaredInside(const VarDecl &Var, const Stmt &Scope) const;
  /// Why \p Use hands the container itself to code that could keep it
  /// beyond the lock; empty when it does not.
  std::string passedAway(const Expr &Use) const;
  /// The function that \p Use is passed to, when its parameter is rewritten
  /// with this container (one of its group): the call stays as it is, and
  /// the function takes the synchronized<T> itself. That includes a thread's
  /// function given the container with std::ref (`std::thread t(f,
  /// std::ref(v))`, also through std::bind), as for a direct call of f.
  /// Null otherwise.
  const FunctionDecl *handedToGroup(const Expr &Use) const {
    const Expr *Child = nullptr;
    const auto *Call = dyn_cast_or_null<CallExpr>(semanticParent(&Use, Child));
    if (!Call || isa<CXXOperatorCallExpr>(Call) || !ParamGroups)
      return nullptr;
    if (asRefWrapper(*Call)) {
      auto Started = threadArgument(*Call, Context);
      if (!Started)
        return nullptr;
      const FunctionDecl *Thread = Started->first.Callee;
      auto It = ParamGroups->find(parameterId(usrOf(Thread), Started->second));
      return It != ParamGroups->end() && It->second == Group ? Thread : nullptr;
    }
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return nullptr;
    for (unsigned I = 0; I < Call->getNumArgs(); ++I)
      if (Call->getArg(I)->IgnoreParenImpCasts() == Use.IgnoreParenImpCasts()) {
        auto It = ParamGroups->find(parameterId(usrOf(Callee), I));
        return It != ParamGroups->end() && It->second == Group ? Callee
                                                               : nullptr;
      }
    return nullptr;
  }
  /// The location just after \p S, its `;` included.
  std::optional<SourceLocation> statementEnd(const Stmt &S) const;
  /// The one expression of \p S that can become a value-returning
  /// callback when \p S itself cannot (a declaration's initializer, a
  /// return's value, a condition); null when there is none.
  const Expr *valueOf(const Stmt &S) const;
  /// `<S>` -> `c.with_lock([&](auto &c) { <S> });` (with_shared_lock and
  /// `const auto &` when it only reads), or for a declaration, a return or a
  /// statement that jumps out, the value of its one expression.
  bool wrapStatement(const Stmt &S, llvm::ArrayRef<const Expr *> Uses);

public:
  /// The container's type as written, when it is not a map and becomes a
  /// concguard::synchronized of it; empty for a map.
  std::string Synchronized;
  /// Plans every use of a container that becomes a synchronized<T>: each
  /// statement that uses it becomes one callback, holding the lock across
  /// the whole statement (`if (!v.empty()) x = v.back();` stays atomic).
  bool containerUses(llvm::ArrayRef<const Expr *> Uses);

  /// Every use of the map in this translation unit, in source order, and of
  /// whatever may be the same object: for a parameter, every map and
  /// parameter of its group; for a map, the parameters of its group.
  std::vector<const Expr *> AllUses;
  /// The group of the map or parameter planned, and that of every
  /// parameter rewritten with maps (parameterId() -> group).
  unsigned Group = 0;
  const llvm::StringMap<unsigned> *ParamGroups = nullptr;
  /// Every use of every map and parameter planned in this translation unit.
  std::vector<const Expr *> EveryUse;
  /// The declarations (canonical) of what may be the same object as the
  /// map, those whose uses are AllUses: a call that reaches one of them
  /// keeps a loop from becoming for_each.
  llvm::DenseSet<const Decl *> SameObject;
  /// How many calls deep a for_each body's calls are followed (the
  /// analysis's MaxCallDepth).
  unsigned MaxCallDepth = 3;
};

bool Planner::declaration(const DeclaratorDecl &D) {
  TypeSourceInfo *TSI = D.getTypeSourceInfo();
  if (!TSI)
    return skipAt(D.getLocation(), "its type is not written in the source");
  if (const auto *Var = dyn_cast<VarDecl>(&D); Var && Var->hasInit()) {
    const auto *Construct =
        dyn_cast<CXXConstructExpr>(Var->getInit()->IgnoreImplicit());
    if (!Construct || Construct->getNumArgs() > 0)
      return skip(Var->getInit(), "it has an initializer");
  }
  if (const auto *Field = dyn_cast<FieldDecl>(&D);
      Field && Field->hasInClassInitializer())
    return skipAt(D.getLocation(), "it has an initializer");
  if (D.getType().isConstQualified() || D.getType()->isReferenceType())
    return skipAt(D.getLocation(), "it is a reference or const");
  // `std::vector<int> a, b;`: one written type for both, which an edit of
  // it would change for both.
  for (const Decl *Other : D.getDeclContext()->decls())
    if (const auto *Declarator = dyn_cast<DeclaratorDecl>(Other);
        Declarator && Declarator != &D &&
        Declarator->getBeginLoc() == D.getBeginLoc())
      return skipAt(D.getLocation(),
                    "it is declared together with other variables");
  SourceRange TypeRange = TSI->getTypeLoc().getSourceRange();
  if (TypeRange.getBegin().isMacroID() || TypeRange.getEnd().isMacroID())
    return skipAt(D.getLocation(), "its type is spelled by a macro");
  Plan.Edits.emplace_back(SM, CharSourceRange::getTokenRange(TypeRange),
                          newType(), LangOpts);
  return true;
}

bool Planner::parameter(const ParmVarDecl &Param) {
  TypeSourceInfo *TSI = Param.getTypeSourceInfo();
  if (!TSI)
    return skipAt(Param.getLocation(),
                  "whose parameter's type is not written in the source");
  auto Reference = TSI->getTypeLoc().getAsAdjusted<LValueReferenceTypeLoc>();
  if (!Reference)
    return skipAt(Param.getLocation(), "whose parameter is not a reference");
  // `const std::unordered_map<K, V> &`: only the map's own type changes.
  SourceRange TypeRange =
      Reference.getPointeeLoc().getUnqualifiedLoc().getSourceRange();
  if (TypeRange.isInvalid() || TypeRange.getBegin().isMacroID() ||
      TypeRange.getEnd().isMacroID())
    return skipAt(Param.getLocation(),
                  "whose parameter's type is spelled by a macro");
  Plan.Edits.emplace_back(SM, CharSourceRange::getTokenRange(TypeRange),
                          newType(), LangOpts);
  return true;
}

/// `f(m)`: nothing changes at the call when f's parameter is rewritten with
/// the map (it is in the map's group); otherwise the map stays.
bool Planner::passedTo(const CallExpr &Call, const Expr *Use) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee)
    return skip(Use, "the map is passed to a function through a pointer");
  // std::thread t(f, std::ref(m)): f's reference parameter is rewritten
  // with the map, as for a direct call of f.
  if (asRefWrapper(Call))
    if (auto Started = threadArgument(Call, Context)) {
      const FunctionDecl *Thread = Started->first.Callee;
      unsigned Index = Started->second;
      std::string Why = whyParameterStays(*Thread, Index, SM);
      if (!Why.empty())
        return skip(Use, Why);
      std::string USR = usrOf(Thread);
      auto It = ParamGroups ? ParamGroups->find(parameterId(USR, Index))
                            : llvm::StringMap<unsigned>::const_iterator();
      if (!ParamGroups || It == ParamGroups->end() || It->second != Group)
        return skip(Use, "the map is passed to " + quoted(*Thread));
      return true;
    }
  // std::thread t(std::bind(f, m)): the binder keeps a copy of the map.
  if (asBinder(Call))
    if (auto Started = threadArgument(*Use, Context))
      return skip(Use, "the map is copied for the thread that runs " +
                           quoted(*Started->first.Callee) +
                           " (pass it with std::ref to a reference "
                           "parameter)");
  auto IsUse = [&](const Expr *Arg) {
    Arg = Arg->IgnoreParenImpCasts();
    if (const auto *Copy = dyn_cast<CXXConstructExpr>(Arg->IgnoreImplicit());
        Copy && Copy->getNumArgs() == 1)
      Arg = Copy->getArg(0)->IgnoreParenImpCasts();
    return Arg == Use->IgnoreParenImpCasts();
  };
  unsigned Index = 0;
  while (Index < Call.getNumArgs() && !IsUse(Call.getArg(Index)))
    ++Index;
  if (Index == Call.getNumArgs())
    return skip(Use, "a use the rewriter does not understand");
  std::string Why = whyParameterStays(*Callee, Index, SM);
  if (!Why.empty())
    return skip(Use, Why);
  const ParmVarDecl *Param = Callee->getParamDecl(Index);
  if (!Context.hasSameUnqualifiedType(Use->getType(),
                                      Param->getType().getNonReferenceType()))
    return skip(Use, "the map is passed to " + quoted(*Callee) +
                         ", whose parameter has another type");
  std::string USR = usrOf(Callee);
  auto It = ParamGroups ? ParamGroups->find(parameterId(USR, Index))
                        : llvm::StringMap<unsigned>::const_iterator();
  if (!ParamGroups || It == ParamGroups->end() || It->second != Group)
    return skip(Use, "the map is passed to " + quoted(*Callee));
  return true;
}

bool Planner::use(const Expr *Use) {
  if (Consumed.count(Use))
    return true;
  if (Use->getBeginLoc().isMacroID())
    return skip(Use, "a use is inside a macro expansion");
  // The range of a range-for initializes the hidden `__range` variable.
  for (DynTypedNodeList Parents = Context.getParents(*Use); !Parents.empty();) {
    if (const auto *Range = Parents[0].get<VarDecl>()) {
      for (DynTypedNodeList Up = Context.getParents(*Range); !Up.empty();
           Up = Context.getParents(Up[0]))
        if (const auto *For = Up[0].get<CXXForRangeStmt>())
          return rangeFor(*For, Use);
        else if (!Up[0].get<DeclStmt>())
          break;
      break;
    }
    const auto *E = Parents[0].get<Expr>();
    if (!E || !isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr>(E))
      break;
    Parents = Context.getParents(*E);
  }
  const Expr *Child = nullptr;
  const Stmt *P = semanticParent(Use, Child);
  if (!P)
    return skip(Use, "a use the rewriter does not understand");
  // An explicit capture: by reference the lambda's uses are rewritten like
  // any other; a copy of a concurrent map does not exist.
  if (const auto *Lambda = dyn_cast<LambdaExpr>(P)) {
    auto Init = Lambda->capture_init_begin();
    for (const LambdaCapture &Capture : Lambda->captures()) {
      if (*Init && (*Init)->IgnoreImplicit() == Use->IgnoreImplicit())
        return Capture.getCaptureKind() == LCK_ByRef
                   ? true
                   : skip(Use, "the map is captured by copy");
      ++Init;
    }
    return skip(Use, "a use the rewriter does not understand");
  }
  if (const auto *Member = dyn_cast<MemberExpr>(P)) {
    if (const auto *Call = dyn_cast_or_null<CXXMemberCallExpr>(parent(Member));
        Call && Call->getCallee()->IgnoreParens() == Member)
      return memberCall(*Call, Use);
    return skip(Use, "a member of the map is used without a call");
  }
  if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(P)) {
    if (Op->getOperator() == OO_Subscript && Op->getNumArgs() == 2 &&
        Op->getArg(0)->IgnoreImplicit() == Use->IgnoreImplicit())
      return subscript(*Op, Use);
    if (Op->getOperator() == OO_Call &&
        Op->getArg(0)->IgnoreImplicit() != Use->IgnoreImplicit())
      return skip(Use, "the map is passed to a lambda or a function object");
    return skip(Use, "the map is used with an operator the concurrent map "
                     "does not have");
  }
  if (const auto *Call = dyn_cast<CallExpr>(P))
    return passedTo(*Call, Use);
  if (const auto *Construct = dyn_cast<CXXConstructExpr>(P)) {
    // A copy: an argument taken by value, or a new map.
    if (Construct->getNumArgs() == 1 && isStdMap(Construct->getType())) {
      const Expr *CopyChild = nullptr;
      if (const auto *Call =
              dyn_cast_or_null<CallExpr>(semanticParent(Construct, CopyChild)))
        return passedTo(*Call, Use);
      return skip(Use, "the map is copied");
    }
    if (std::optional<ThreadStart> Start = threadStartOf(*Construct, Context))
      return skip(Use, "the map is copied for the thread that runs " +
                           quoted(*Start->Callee) +
                           " (pass it with std::ref to a reference "
                           "parameter)");
    return skip(Use, "the map is passed to a constructor of " +
                         quoted(*Construct->getConstructor()->getParent()));
  }
  if (const auto *Unary = dyn_cast<UnaryOperator>(P);
      Unary && Unary->getOpcode() == UO_AddrOf)
    return skip(Use, "the map's address is taken");
  return skip(Use, "a use the rewriter does not understand");
}

bool Planner::subscript(const CXXOperatorCallExpr &Sub, const Expr *Use) {
  std::string Map = text(Use->getSourceRange());
  std::string Key = text(Sub.getArg(1)->getSourceRange());
  const Expr *Child = nullptr;
  const Stmt *P = semanticParent(&Sub, Child);

  // m[k] = v;  ->  m.insert_or_assign(k, v);
  auto IsLhs = [&](const Expr *Lhs) {
    return Lhs->IgnoreImplicit() == Sub.IgnoreImplicit();
  };
  // m[k] = m[k] + 1;  ->  m.upsert(k, [&](auto &value) { value = value + 1;
  // }): the read and the write of the element in one callback, atomic.
  const Expr *Assigned = nullptr;
  if (const auto *Assign = dyn_cast_or_null<CXXOperatorCallExpr>(P);
      Assign && Assign->isAssignmentOp() && Assign->getNumArgs() == 2 &&
      IsLhs(Assign->getArg(0)))
    Assigned = Assign->getArg(1);
  if (const auto *Assign = dyn_cast_or_null<BinaryOperator>(P);
      Assign && Assign->isAssignmentOp() && IsLhs(Assign->getLHS()))
    Assigned = Assign->getRHS();
  if (Assigned && isStatement(cast<Expr>(P))) {
    if (auto Same = sameElement(Sub, *Assigned, Use); Same && !Same->empty()) {
      for (const CXXOperatorCallExpr *Other : *Same) {
        Consumed.insert(Other->getArg(0));
        Consumed.insert(Other->getArg(0)->IgnoreImplicit());
      }
      return upsertStatement(Sub, Map, Key, *Same);
    }
  }
  if (const auto *Assign = dyn_cast_or_null<CXXOperatorCallExpr>(P);
      Assign && Assign->getNumArgs() == 2 && IsLhs(Assign->getArg(0))) {
    if (!isStatement(Assign))
      return skip(Assign, "the result of an assignment to m[k] is used");
    std::string Rhs = text(Assign->getArg(1)->getSourceRange());
    if (Assign->getOperator() == OO_Equal)
      return replace(Assign->getSourceRange(),
                     Map + ".insert_or_assign(" + Key + ", " + Rhs + ")",
                     Assign);
    std::string Name = freshName({Key, Rhs});
    std::string Spelling = getOperatorSpelling(Assign->getOperator());
    return replace(Assign->getSourceRange(),
                   Map + ".upsert(" + Key + ", [&](auto &" + Name + ") { " +
                       Name + " " + Spelling + " " + Rhs + "; })",
                   Assign);
  }
  if (const auto *Assign = dyn_cast_or_null<BinaryOperator>(P);
      Assign && Assign->isAssignmentOp() && IsLhs(Assign->getLHS())) {
    if (!isStatement(Assign))
      return skip(Assign, "the result of an assignment to m[k] is used");
    std::string Rhs = text(Assign->getRHS()->getSourceRange());
    if (Assign->getOpcode() == BO_Assign)
      return replace(Assign->getSourceRange(),
                     Map + ".insert_or_assign(" + Key + ", " + Rhs + ")",
                     Assign);
    std::string Name = freshName({Key, Rhs});
    return replace(Assign->getSourceRange(),
                   Map + ".upsert(" + Key + ", [&](auto &" + Name + ") { " +
                       Name + " " + Assign->getOpcodeStr().str() + " " + Rhs +
                       "; })",
                   Assign);
  }
  // ++m[k];  ->  m.upsert(k, [&](auto &value) { ++value; });
  if (const auto *Unary = dyn_cast_or_null<UnaryOperator>(P);
      Unary && Unary->isIncrementDecrementOp()) {
    if (!isStatement(Unary))
      return skip(Unary, "the result of ++/-- on m[k] is used");
    std::string Name = freshName({Key});
    std::string Op = Unary->isIncrementOp() ? "++" : "--";
    return replace(Unary->getSourceRange(),
                   Map + ".upsert(" + Key + ", [&](auto &" + Name + ") { " +
                       Op + Name + "; })",
                   Unary);
  }
  // What the statement does with the element: `m[k].f(args);`,
  // `m[k].hits++;`, `m[k].last = x;`, `f(m[k]);` with a non-const reference
  // parameter write it, in one callback; a read (`m[k].size()`,
  // `m[k].hits`, `m[k].front().c_str()` inside the expression) works on a
  // copy.
  if (std::optional<bool> Done = localReference(
          Sub, *Sub.getArg(0)->IgnoreImplicit(), Map, Key, false))
    return *Done;
  ElementChain Chain = elementUse(Sub);
  if (Chain.Use == ElementUse::Modified)
    return upsertStatement(Sub, Map, Key);
  if (Chain.Use == ElementUse::Escapes)
    return skip(Chain.At, "a reference into the map escapes");
  // A read of m[k] inserts a default value when the key is missing; so does
  // get_or_insert_default, which returns a copy.
  return replace(Sub.getSourceRange(),
                 Map + ".get_or_insert_default(" + Key + ")", &Sub);
}

bool Planner::memberCall(const CXXMemberCallExpr &Call, const Expr *Use) {
  const CXXMethodDecl *Method = Call.getMethodDecl();
  if (!Method || !Method->getIdentifier())
    return skip(&Call, "an operator of the map is called");
  llvm::StringRef Name = Method->getName();
  std::string Map = text(Use->getSourceRange());
  auto Arg = [&](unsigned I) { return text(Call.getArg(I)->getSourceRange()); };
  auto KeyArg = [&](unsigned I) {
    QualType T = Call.getArg(I)->getType().getCanonicalType();
    return !T->isRecordType() || !T->getAsCXXRecordDecl()->getIdentifier() ||
           !T->getAsCXXRecordDecl()->getName().contains("iterator");
  };

  if (Name == "size" || Name == "empty" || Name == "clear")
    return true; // same name and meaning
  if ((Name == "count" || Name == "contains") && Call.getNumArgs() == 1) {
    // if (!m.count(k)) m[k] = v;  ->  m.insert(k, v);
    const Expr *Child = nullptr;
    const Stmt *P = semanticParent(&Call, Child);
    const Expr *Absent = nullptr;
    if (const auto *Not = dyn_cast_or_null<UnaryOperator>(P);
        Not && Not->getOpcode() == UO_LNot)
      Absent = Not;
    if (const auto *Zero = dyn_cast_or_null<BinaryOperator>(P);
        Zero && Zero->getOpcode() == BO_EQ)
      if (const auto *Literal =
              dyn_cast<IntegerLiteral>(Zero->getRHS()->IgnoreParenImpCasts());
          Literal && Literal->getValue() == 0)
        Absent = Zero;
    if (Absent)
      if (std::optional<bool> Done =
              insertIfAbsent(*Absent, *Call.getArg(0), Map))
        return *Done;
    return true;
  }
  if (Name == "begin" && Call.getNumArgs() == 0)
    if (std::optional<bool> Done = eraseLoop(Call, Map))
      return *Done;
  if (Name == "erase" && Call.getNumArgs() == 1 && KeyArg(0))
    return true;
  if (Name == "reserve" && !Snapshot)
    return true;
  if (Name == "at" && Call.getNumArgs() == 1) {
    // The concurrent map's at() returns a copy: fine where the element is
    // only read, whichever overload the map's constness selected
    // (`m.at(k).size()`, `m.at(k).front().c_str()` inside the expression).
    // auto &v = m.at(k); v.push_back(x); ...  ->  one update() callback.
    if (std::optional<bool> Done = localReference(
            Call, *Call.getImplicitObjectArgument()->IgnoreImplicit(), Map,
            Arg(0), /*ThroughAt=*/true))
      return *Done;
    ElementChain Chain = elementUse(Call);
    if (Chain.Use == ElementUse::Modified)
      return updateThroughAt(Call, Map);
    if (Chain.Use == ElementUse::Escapes)
      return skip(Chain.At, "a reference into the map escapes");
    return true;
  }
  if ((Name == "emplace" || Name == "try_emplace" ||
       Name == "insert_or_assign") &&
      Call.getNumArgs() >= 2 && KeyArg(0)) {
    if (!isStatement(&Call))
      return skip(&Call,
                  "the iterator returned by " + Name.str() + "() is used");
    return true;
  }
  if (Name == "insert" && Call.getNumArgs() == 1) {
    if (!isStatement(&Call))
      return skip(&Call, "the iterator returned by insert() is used");
    const Expr *Value = Call.getArg(0)->IgnoreImplicit();
    if (const auto *Construct = dyn_cast<CXXConstructExpr>(Value);
        Construct && Construct->getNumArgs() == 1)
      Value = Construct->getArg(0)->IgnoreImplicit();
    std::string Key, Mapped;
    if (const auto *Init = dyn_cast<InitListExpr>(Value);
        Init && Init->getNumInits() == 2) {
      Key = text(Init->getInit(0)->getSourceRange());
      Mapped = text(Init->getInit(1)->getSourceRange());
    } else if (const auto *Make = dyn_cast<CallExpr>(Value);
               Make && Make->getDirectCallee() &&
               Make->getDirectCallee()->getIdentifier() &&
               Make->getDirectCallee()->getName() == "make_pair" &&
               Make->getNumArgs() == 2) {
      Key = text(Make->getArg(0)->getSourceRange());
      Mapped = text(Make->getArg(1)->getSourceRange());
    } else if (const auto *Pair = dyn_cast<CXXConstructExpr>(Value);
               Pair && Pair->getNumArgs() == 2) {
      // `{k, v}` and `std::pair<K, V>(k, v)` construct the pair in place.
      Key = text(Pair->getArg(0)->getSourceRange());
      Mapped = text(Pair->getArg(1)->getSourceRange());
    } else {
      return skip(&Call, "insert() of a value that is not a {key, value} pair");
    }
    return replace(Call.getSourceRange(),
                   Map + ".insert(" + Key + ", " + Mapped + ")", &Call);
  }
  if (Name == "find" && Call.getNumArgs() == 1) {
    // m.find(k) != m.end()  ->  m.contains(k)
    const Expr *Child = nullptr;
    const Stmt *P = semanticParent(&Call, Child);
    const Expr *Other = nullptr;
    bool Equal = false;
    SourceRange Whole;
    const Expr *WholeExpr = nullptr;
    if (const auto *Op = dyn_cast_or_null<CXXOperatorCallExpr>(P);
        Op &&
        (Op->getOperator() == OO_ExclaimEqual ||
         Op->getOperator() == OO_EqualEqual) &&
        Op->getNumArgs() == 2) {
      Equal = Op->getOperator() == OO_EqualEqual;
      Other = Op->getArg(0)->IgnoreImplicit() == Call.IgnoreImplicit()
                  ? Op->getArg(1)
                  : Op->getArg(0);
      Whole = Op->getSourceRange();
      WholeExpr = Op;
    } else if (const auto *Bin = dyn_cast_or_null<BinaryOperator>(P);
               Bin && Bin->isEqualityOp()) {
      Equal = Bin->getOpcode() == BO_EQ;
      Other = Bin->getLHS()->IgnoreImplicit() == Call.IgnoreImplicit()
                  ? Bin->getRHS()
                  : Bin->getLHS();
      Whole = Bin->getSourceRange();
      WholeExpr = Bin;
    }
    // C++20 rewrites `a != b` into `!(a == b)`.
    if (Other)
      for (DynTypedNodeList Up = Context.getParents(*P); !Up.empty();
           Up = Context.getParents(Up[0])) {
        if (const auto *Rewritten = Up[0].get<CXXRewrittenBinaryOperator>()) {
          Equal = Rewritten->getOpcode() == BO_EQ;
          Whole = Rewritten->getSourceRange();
          WholeExpr = Rewritten;
          break;
        }
        const auto *Unary = Up[0].get<UnaryOperator>();
        if (!Unary || Unary->getOpcode() != UO_LNot)
          if (!Up[0].get<ImplicitCastExpr>() && !Up[0].get<ParenExpr>())
            break;
      }
    const auto *End =
        Other ? dyn_cast<CXXMemberCallExpr>(Other->IgnoreImplicit()) : nullptr;
    if (End && End->getMethodDecl() && End->getMethodDecl()->getIdentifier() &&
        (End->getMethodDecl()->getName() == "end" ||
         End->getMethodDecl()->getName() == "cend") &&
        text(End->getImplicitObjectArgument()->getSourceRange()) == Map) {
      Consumed.insert(End->getImplicitObjectArgument()->IgnoreImplicit());
      Consumed.insert(End->getImplicitObjectArgument());
      // if (m.find(k) == m.end()) m[k] = v;  ->  m.insert(k, v);
      if (Equal && WholeExpr)
        if (std::optional<bool> Done =
                insertIfAbsent(*WholeExpr, *Call.getArg(0), Map))
          return *Done;
      return replace(
          Whole, (Equal ? "!" : "") + Map + ".contains(" + Arg(0) + ")", &Call);
    }
    // auto it = m.find(k); ... it == m.end() ... it->second ...
    for (DynTypedNodeList Up = Context.getParents(Call); !Up.empty();
         Up = Context.getParents(Up[0])) {
      if (const auto *It = Up[0].get<VarDecl>())
        return keptIterator(Call, Use, *It);
      const auto *E = Up[0].get<Expr>();
      if (!E || !isa<ImplicitCastExpr, ExprWithCleanups, CXXConstructExpr,
                     MaterializeTemporaryExpr, CXXBindTemporaryExpr>(E))
        break;
    }
    return skip(&Call, "an iterator from find() is kept");
  }
  return skip(&Call, "the concurrent map has no equivalent of " + Name.str() +
                         "() here");
}

bool Planner::rangeFor(const CXXForRangeStmt &For, const Expr *Use) {
  // The loop runs over a copy: the body must not modify the elements.
  const VarDecl *LoopVar = For.getLoopVariable();
  ExprMutationAnalyzer Mutations(*For.getBody(), Context);
  if (LoopVar) {
    if (Mutations.isMutated(LoopVar))
      return skip(&For, "the loop modifies the map's elements");
    if (const auto *Decomp = dyn_cast<DecompositionDecl>(LoopVar))
      for (const BindingDecl *Binding : Decomp->bindings())
        if (Mutations.isMutated(Binding))
          return skip(&For, "the loop modifies the map's elements");
  }
  std::string Map = text(Use->getSourceRange());
  if (forEach(For, Use, Map))
    return true;
  return replace(Use->getSourceRange(),
                 Snapshot ? "*" + Map + ".snapshot()" : Map + ".snapshot()",
                 &For);
}

namespace {
/// Collects what keeps a loop body from becoming a for_each callback.
class BodyScan : public RecursiveASTVisitor<BodyScan> {
public:
  bool Blocked = false; ///< return, goto, a break of the loop itself
  std::vector<const ContinueStmt *> Continues; ///< of the loop itself
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }
  bool TraverseReturnStmt(ReturnStmt *) {
    Blocked = true;
    return false;
  }
  bool TraverseCoreturnStmt(CoreturnStmt *) {
    Blocked = true;
    return false;
  }
  bool TraverseGotoStmt(GotoStmt *) {
    Blocked = true;
    return false;
  }
  bool TraverseIndirectGotoStmt(IndirectGotoStmt *) {
    Blocked = true;
    return false;
  }
  bool TraverseBreakStmt(BreakStmt *) {
    if (Depth == 0 && SwitchDepth == 0)
      Blocked = true;
    return !Blocked;
  }
  bool TraverseContinueStmt(ContinueStmt *Continue) {
    if (Depth == 0)
      Continues.push_back(Continue);
    return true;
  }
  /// Counts the loops entered while it lives.
  struct NestedLoop {
    explicit NestedLoop(unsigned &Depth) : Depth(Depth) { ++Depth; }
    ~NestedLoop() { --Depth; }
    NestedLoop(const NestedLoop &) = delete;
    NestedLoop &operator=(const NestedLoop &) = delete;
    unsigned &Depth;
  };
  bool TraverseForStmt(ForStmt *S) {
    NestedLoop Inside(Depth);
    return RecursiveASTVisitor::TraverseForStmt(S);
  }
  bool TraverseWhileStmt(WhileStmt *S) {
    NestedLoop Inside(Depth);
    return RecursiveASTVisitor::TraverseWhileStmt(S);
  }
  bool TraverseDoStmt(DoStmt *S) {
    NestedLoop Inside(Depth);
    return RecursiveASTVisitor::TraverseDoStmt(S);
  }
  bool TraverseCXXForRangeStmt(CXXForRangeStmt *S) {
    NestedLoop Inside(Depth);
    return RecursiveASTVisitor::TraverseCXXForRangeStmt(S);
  }
  bool TraverseSwitchStmt(SwitchStmt *S) {
    ++SwitchDepth;
    bool Result = RecursiveASTVisitor::TraverseSwitchStmt(S);
    --SwitchDepth;
    return Result;
  }

private:
  unsigned Depth = 0;
  unsigned SwitchDepth = 0;
};

/// Whether the body of a for_each callback may reach the map through a
/// call. The callback runs under a shard's read lock: a function that uses
/// the map would take a lock of it again (a deadlock for a write, undefined
/// behaviour for a second read lock of a std::shared_mutex). Follows the
/// functions whose definitions the translation unit holds (calls, member
/// and operator calls, constructors, the destructors of the objects the
/// code creates, functions named without a call), \p MaxCallDepth calls
/// deep. A call it cannot follow (no definition here, a virtual or
/// indirect call, deeper than the limit) may reach the map, except a call
/// of a function of a system header none of whose arguments can call back
/// into the project (a function pointer, a function object): a standard
/// function only reaches a map of the project through what it is given.
class ReentrySearch {
public:
  ReentrySearch(ASTContext &Context,
                const llvm::DenseSet<const Decl *> &SameObject,
                unsigned MaxCallDepth)
      : Context(Context), SM(Context.getSourceManager()),
        SameObject(SameObject), MaxCallDepth(MaxCallDepth) {}

  /// May \p Body reach the map (or whatever may be the same object)? The
  /// uses in \p Rewritten are the ones the rewrite replaces (the `m` of
  /// `m[k]` in a statement that becomes an upsert), not calls back.
  bool mayReach(const Stmt &Body, llvm::ArrayRef<const Expr *> Rewritten) {
    Ignored.insert(Rewritten.begin(), Rewritten.end());
    return mayReach(Body);
  }
  bool mayReach(const Stmt &Body);

private:
  ASTContext &Context;
  const SourceManager &SM;
  const llvm::DenseSet<const Decl *> &SameObject;
  unsigned MaxCallDepth;
  bool Reached = false;
  /// Definitions scanned or being scanned: each is scanned once, which
  /// also ends recursion.
  llvm::DenseSet<const FunctionDecl *> Visited;
  llvm::DenseSet<const Expr *> Ignored;

  /// A builtin, an implicit declaration (`operator new`), or a function
  /// declared in a system header and not defined in the project.
  bool isSystemFunction(const FunctionDecl &F) const {
    if (F.getBuiltinID())
      return true;
    auto InSystemHeader = [&](const FunctionDecl &D) {
      SourceLocation Loc = D.getLocation();
      return Loc.isInvalid() ? D.isImplicit()
                             : SM.isInSystemHeader(SM.getExpansionLoc(Loc));
    };
    if (!InSystemHeader(*F.getFirstDecl()))
      return false;
    const FunctionDecl *Definition = nullptr;
    return !F.hasBody(Definition) || !Definition || InSystemHeader(*Definition);
  }

  /// \p F is called (or may be) from code \p From calls deep.
  void follow(const FunctionDecl *F, unsigned From) {
    if (Reached || !F || isSystemFunction(*F) || F->isDeleted() ||
        F->isTrivial())
      return;
    const FunctionDecl *Definition = nullptr;
    if (!F->hasBody(Definition) || !Definition) {
      Reached = true;
      return;
    }
    if (!Visited.insert(Definition).second)
      return;
    if (From >= MaxCallDepth) {
      Reached = true;
      return;
    }
    scan(*Definition, From + 1);
  }

  /// The destruction of an object of type \p T by code \p From calls deep.
  void destroy(QualType T, unsigned From) {
    const CXXRecordDecl *Record =
        Context.getBaseElementType(T)->getAsCXXRecordDecl();
    if (Record && Record->hasDefinition() && !Record->hasTrivialDestructor())
      follow(Record->getDestructor(), From);
  }

  class Scanner;

  /// Everything a call of \p F runs: its body, a constructor's
  /// initializers, a destructor's destruction of members and bases, the
  /// destruction of parameters taken by value.
  void scan(const FunctionDecl &F, unsigned Level);
};

class ReentrySearch::Scanner : public RecursiveASTVisitor<Scanner> {
public:
  Scanner(ReentrySearch &Search, unsigned Level)
      : Search(Search), Level(Level) {}

  // Implicit code runs too: default arguments and member initializers,
  // conversions, the semantic form of a rewritten `a != b`.
  bool shouldVisitImplicitCode() const { return true; }

  /// A lambda's body is part of the code that creates it (it is only ever
  /// called from there or from what it is passed to); of a generic lambda,
  /// the bodies of the calls that were instantiated.
  bool TraverseLambdaExpr(LambdaExpr *Lambda) {
    for (Expr *Init : Lambda->capture_inits())
      if (Init && !TraverseStmt(Init))
        return false;
    if (const FunctionTemplateDecl *Generic =
            Lambda->getCallOperator()->getDescribedFunctionTemplate()) {
      for (FunctionDecl *Instance : Generic->specializations())
        if (!TraverseStmt(Instance->getBody()))
          return false;
      return true;
    }
    return TraverseStmt(Lambda->getBody());
  }

  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    return reference(Ref->getDecl(), *Ref);
  }
  bool VisitMemberExpr(MemberExpr *Member) {
    return reference(Member->getMemberDecl(), *Member);
  }

  bool VisitCallExpr(CallExpr *Call) {
    const Expr *CalleeExpr = Call->getCallee()->IgnoreParenImpCasts();
    Callees.insert(CalleeExpr);
    if (isa<CXXPseudoDestructorExpr>(CalleeExpr))
      return true;
    // Through a pointer or a reference to a function, or a call that is
    // only resolved in an instantiation.
    const auto *Callee = dyn_cast_or_null<FunctionDecl>(Call->getCalleeDecl());
    if (!Callee)
      return reach();
    const Expr *Object = nullptr;
    if (const auto *MemberCall = dyn_cast<CXXMemberCallExpr>(Call))
      Object = MemberCall->getImplicitObjectArgument();
    else if (isa<CXXOperatorCallExpr>(Call) && isa<CXXMethodDecl>(Callee))
      Object = Call->getArg(0);
    // A virtual call runs the override of the object's dynamic type,
    // unless the call names the function (`Base::f()`) or that type is
    // known.
    if (const auto *Method = dyn_cast<CXXMethodDecl>(Callee);
        Method && Method->isVirtual()) {
      const auto *Member = dyn_cast<MemberExpr>(CalleeExpr);
      if (!Member || !Member->hasQualifier()) {
        Callee =
            Object ? Method->getDevirtualizedMethod(Object, false) : nullptr;
        if (!Callee)
          return reach();
      }
    }
    if (Search.isSystemFunction(*Callee)) {
      if (isa<CXXMemberCallExpr>(Call) && Object && mayCallBack(*Object))
        return reach();
      for (const Expr *Arg : Call->arguments())
        if (mayCallBack(*Arg))
          return reach();
      return !Search.Reached;
    }
    Search.follow(Callee, Level);
    return !Search.Reached;
  }

  bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
    const CXXConstructorDecl *Constructor = Construct->getConstructor();
    if (Search.isSystemFunction(*Constructor)) {
      for (const Expr *Arg : Construct->arguments())
        if (mayCallBack(*Arg))
          return reach();
      return true;
    }
    Search.follow(Constructor, Level);
    return !Search.Reached;
  }
  bool VisitCXXInheritedCtorInitExpr(CXXInheritedCtorInitExpr *Init) {
    Search.follow(Init->getConstructor(), Level);
    return !Search.Reached;
  }
  // The destructors of the temporaries and variables the code creates.
  bool VisitCXXBindTemporaryExpr(CXXBindTemporaryExpr *Bind) {
    Search.follow(Bind->getTemporary()->getDestructor(), Level);
    return !Search.Reached;
  }
  bool VisitVarDecl(VarDecl *Var) {
    if (!Var->getType()->isReferenceType())
      Search.destroy(Var->getType(), Level);
    return !Search.Reached;
  }
  bool VisitCXXNewExpr(CXXNewExpr *New) {
    Search.follow(New->getOperatorNew(), Level);
    return !Search.Reached;
  }
  bool VisitCXXDeleteExpr(CXXDeleteExpr *Delete) {
    Search.follow(Delete->getOperatorDelete(), Level);
    QualType Destroyed = Delete->getDestroyedType();
    if (const CXXRecordDecl *Record =
            Destroyed.isNull() ? nullptr : Destroyed->getAsCXXRecordDecl();
        Record && Record->hasDefinition() && !Record->hasTrivialDestructor()) {
      const CXXDestructorDecl *Destructor = Record->getDestructor();
      // A virtual destructor runs the dynamic type's.
      if (Destructor && Destructor->isVirtual() &&
          !Record->hasAttr<FinalAttr>())
        return reach();
      Search.follow(Destructor, Level);
    }
    return !Search.Reached;
  }
  // The rest of a coroutine runs after a suspension, wherever it resumes.
  bool VisitCoroutineSuspendExpr(CoroutineSuspendExpr *) { return reach(); }

private:
  ReentrySearch &Search;
  unsigned Level;
  /// The callees of the calls seen (a function named there is followed by
  /// the call).
  llvm::DenseSet<const Expr *> Callees;

  bool reach() {
    Search.Reached = true;
    return false;
  }

  bool reference(const ValueDecl *D, const Expr &Ref) {
    if (!D || Search.Ignored.count(&Ref))
      return true;
    if (Search.SameObject.count(D->getCanonicalDecl()))
      return reach();
    // A function named without a call here (`&f`, `std::thread t(f)`):
    // whoever receives it may call it.
    if (const auto *F = dyn_cast<FunctionDecl>(D); F && !Callees.count(&Ref)) {
      if (const auto *Method = dyn_cast<CXXMethodDecl>(F);
          Method && Method->isVirtual())
        return reach();
      Search.follow(F, Level);
    }
    return !Search.Reached;
  }

  /// Can a function of a system header call back into the project through
  /// \p Arg: a function pointer it does not name, or a function object
  /// whose call operator may reach the map? A function it names, and the
  /// call operators of the project's function objects, are followed.
  bool mayCallBack(const Expr &Arg) {
    const Expr *E = &Arg;
    // Through conversions, temporaries and copies.
    while (true) {
      E = E->IgnoreImplicit()->IgnoreParens();
      if (const auto *Copy = dyn_cast<CXXConstructExpr>(E);
          Copy && Copy->getNumArgs() == 1 &&
          Copy->getConstructor()->isCopyOrMoveConstructor()) {
        E = Copy->getArg(0);
        continue;
      }
      // A lambda converted to a function pointer.
      if (const auto *Convert = dyn_cast<CXXMemberCallExpr>(E);
          Convert &&
          isa_and_nonnull<CXXConversionDecl>(Convert->getMethodDecl()) &&
          isa<LambdaExpr>(Convert->getImplicitObjectArgument()
                              ->IgnoreImplicit()
                              ->IgnoreParens())) {
        E = Convert->getImplicitObjectArgument();
        continue;
      }
      break;
    }
    // Its body is part of the code scanned.
    if (isa<LambdaExpr>(E))
      return false;
    QualType T = Arg.getType().getNonReferenceType();
    if (T->isFunctionPointerType() || T->isFunctionType() ||
        T->isMemberFunctionPointerType() || T->isBlockPointerType()) {
      const Expr *Named = E->IgnoreParenImpCasts();
      if (const auto *AddressOf = dyn_cast<UnaryOperator>(Named);
          AddressOf && AddressOf->getOpcode() == UO_AddrOf)
        Named = AddressOf->getSubExpr()->IgnoreParenImpCasts();
      // A function named here is followed where it is named.
      const auto *Ref = dyn_cast<DeclRefExpr>(Named);
      return !Ref || !isa<FunctionDecl>(Ref->getDecl());
    }
    const CXXRecordDecl *Record = T->getAsCXXRecordDecl();
    if (!Record || !Record->hasDefinition())
      return false;
    bool MayReach = false;
    auto CallOperators = [&](const CXXRecordDecl *Class) {
      for (const Decl *Member : Class->decls()) {
        const auto *Template = dyn_cast<FunctionTemplateDecl>(Member);
        const auto *Method = dyn_cast<CXXMethodDecl>(
            Template ? Template->getTemplatedDecl() : Member);
        if (!Method || Method->getOverloadedOperator() != OO_Call)
          continue;
        // std::function, std::bind, ...: whatever they hold.
        if (Search.isSystemFunction(*Method) || Method->isVirtual()) {
          MayReach = true;
          return false;
        }
        if (Template)
          for (const FunctionDecl *Instance : Template->specializations())
            Search.follow(Instance, Level);
        else
          Search.follow(Method, Level);
      }
      return true;
    };
    if (CallOperators(Record))
      Record->forallBases(CallOperators);
    return MayReach || Search.Reached;
  }
};

bool ReentrySearch::mayReach(const Stmt &Body) {
  Scanner(*this, 0).TraverseStmt(const_cast<Stmt *>(&Body));
  return Reached;
}

void ReentrySearch::scan(const FunctionDecl &F, unsigned Level) {
  Scanner Code(*this, Level);
  if (const auto *Constructor = dyn_cast<CXXConstructorDecl>(&F))
    for (const CXXCtorInitializer *Init : Constructor->inits())
      if (!Code.TraverseStmt(Init->getInit()))
        return;
  if (!Code.TraverseStmt(F.getBody()))
    return;
  for (const ParmVarDecl *Param : F.parameters())
    if (!Param->getType()->isReferenceType())
      destroy(Param->getType(), Level);
  if (const auto *Destructor = dyn_cast<CXXDestructorDecl>(&F)) {
    const CXXRecordDecl *Record = Destructor->getParent();
    for (const FieldDecl *Field : Record->fields())
      destroy(Field->getType(), Level);
    for (const CXXBaseSpecifier &Base : Record->bases())
      destroy(Base.getType(), Level);
    for (const CXXBaseSpecifier &Base : Record->vbases())
      destroy(Base.getType(), Level);
  }
}
} // namespace

namespace {
/// Does \p Method only give access to a part of its object, so that a
/// non-const object selects it though nothing is written: its class has a
/// const member of the same name taking the same parameters (`front()`,
/// `at(i)`, `operator[]`, `begin()`, `data()`).
bool isAccessor(const CXXMethodDecl &Method, const ASTContext &Context) {
  if (Method.isConst() || Method.isStatic())
    return true;
  for (const NamedDecl *Found :
       Method.getParent()->lookup(Method.getDeclName())) {
    const auto *Other = dyn_cast<CXXMethodDecl>(Found->getUnderlyingDecl());
    if (!Other || Other == &Method || !Other->isConst() ||
        Other->getNumParams() != Method.getNumParams())
      continue;
    bool SameParameters = true;
    for (unsigned I = 0; I < Method.getNumParams(); ++I)
      SameParameters = SameParameters &&
                       Context.hasSameType(Other->getParamDecl(I)->getType(),
                                           Method.getParamDecl(I)->getType());
    if (SameParameters)
      return true;
  }
  return false;
}

/// Is a value of type \p T a view into the object it came from: a
/// reference, a pointer, or an iterator?
bool isView(QualType T) {
  if (T->isReferenceType() || T->isPointerType())
    return true;
  const CXXRecordDecl *Record = T->getAsCXXRecordDecl();
  return Record && Record->getIdentifier() &&
         Record->getName().contains_insensitive("iterator");
}

/// Is \p T a view, or a std::pair, std::tuple or std::optional holding one
/// (`std::pair<iterator, bool>` from a set's insert)?
bool holdsView(QualType T) {
  if (isView(T))
    return true;
  const auto *Holder = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      T->getAsCXXRecordDecl());
  if (!Holder || !Holder->isInStdNamespace() || !Holder->getIdentifier() ||
      !llvm::is_contained({"pair", "tuple", "optional"}, Holder->getName()))
    return false;
  std::function<bool(const TemplateArgument &)> Holds =
      [&](const TemplateArgument &Arg) {
        if (Arg.getKind() == TemplateArgument::Pack)
          return llvm::any_of(Arg.pack_elements(), Holds);
        return Arg.getKind() == TemplateArgument::Type &&
               holdsView(Arg.getAsType());
      };
  return llvm::any_of(Holder->getTemplateArgs().asArray(), Holds);
}
} // namespace

Planner::ElementChain Planner::elementUse(const Expr &Element) const {
  // Walk up through the member accesses and accessor calls that only reach
  // a part of the element (`.hits`, `.front()`, `.c_str()`), to the
  // expression that uses it.
  const Expr *Current = &Element;
  bool CurrentIsView = false; // a pointer or iterator value, not an lvalue
  while (true) {
    const Expr *Child = nullptr;
    const Stmt *P = semanticParent(Current, Child);
    if (const auto *Member = dyn_cast_or_null<MemberExpr>(P)) {
      const auto *Call = dyn_cast_or_null<CXXMemberCallExpr>(parent(Member));
      if (Call && Call->getCallee()->IgnoreParens() == Member) {
        const CXXMethodDecl *Method = Call->getMethodDecl();
        if (!Method || !isAccessor(*Method, Context))
          return {ElementUse::Modified, Call};
        // A copy (`size()`, `substr()`) reads; a reference, pointer or
        // iterator (`front()`, `c_str()`, `begin()`) is followed.
        if (!isView(Call->getType()) && !Call->isLValue())
          return {ElementUse::Read, Call};
        CurrentIsView = !Call->isLValue();
        Current = Call;
        continue;
      }
      if (Member->isArrow() && !CurrentIsView)
        return {ElementUse::Escapes, Member};
      // A data member of the element, or of what a view points to.
      CurrentIsView = false;
      Current = Member;
      continue;
    }
    if (const auto *Op = dyn_cast_or_null<CXXOperatorCallExpr>(P);
        Op && Op->getNumArgs() > 0 &&
        Op->getArg(0)->IgnoreImplicit() == Current->IgnoreImplicit() &&
        (Op->getOperator() == OO_Subscript || Op->getOperator() == OO_Arrow ||
         Op->getOperator() == OO_Star)) {
      const auto *Method = dyn_cast_or_null<CXXMethodDecl>(Op->getCalleeDecl());
      if (!Method || !isAccessor(*Method, Context))
        return {ElementUse::Modified, Op};
      CurrentIsView = !Op->isLValue() && isView(Op->getType());
      if (!Op->isLValue() && !CurrentIsView)
        return {ElementUse::Read, Op};
      Current = Op;
      continue;
    }
    break;
  }
  // What the outermost part does: bound to a reference or returned by one,
  // its address taken, a view kept beyond the full expression, or a write.
  if (boundToReference(Current))
    return {ElementUse::Escapes, Current};
  {
    const Expr *Child = nullptr;
    if (const auto *AddressOf =
            dyn_cast_or_null<UnaryOperator>(semanticParent(Current, Child));
        AddressOf && AddressOf->getOpcode() == UO_AddrOf)
      return {ElementUse::Escapes, AddressOf};
  }
  if (CurrentIsView) {
    for (const Expr *E = Current;;) {
      const Expr *Child = nullptr;
      const Stmt *P = semanticParent(E, Child);
      if (const auto *Conditional = dyn_cast_or_null<ConditionalOperator>(P)) {
        E = Conditional;
        continue;
      }
      if (const auto *Copy = dyn_cast_or_null<CXXConstructExpr>(P);
          Copy && Copy->getNumArgs() == 1 &&
          Copy->getConstructor()->isCopyOrMoveConstructor()) {
        E = Copy;
        continue;
      }
      if (!P || isa<ReturnStmt, InitListExpr, LambdaExpr, DeclStmt>(P))
        return {ElementUse::Escapes, Current};
      if (const auto *Assign = dyn_cast<BinaryOperator>(P);
          Assign && Assign->isAssignmentOp())
        return {ElementUse::Escapes, Current};
      if (const auto *Assign = dyn_cast<CXXOperatorCallExpr>(P);
          Assign && Assign->isAssignmentOp())
        return {ElementUse::Escapes, Current};
      // A variable initialized with it.
      if (Context.getParents(*E).size() == 1 &&
          Context.getParents(*E)[0].get<VarDecl>())
        return {ElementUse::Escapes, Current};
      break;
    }
  }
  const Expr *Full = fullExpression(*Current);
  if (const Stmt *Mutation =
          ExprMutationAnalyzer(*Full, Context).findMutation(Current))
    return {ElementUse::Modified, Mutation};
  return {ElementUse::Read, Current};
}

namespace {
/// Every identifier-like word of \p Text.
llvm::StringSet<> spelledIdentifiers(llvm::StringRef Text) {
  llvm::StringSet<> Spelled;
  for (size_t I = 0; I < Text.size();) {
    if (!isAsciiIdentifierStart(Text[I])) {
      ++I;
      continue;
    }
    size_t J = I;
    while (J < Text.size() && isAsciiIdentifierContinue(Text[J]))
      ++J;
    Spelled.insert(Text.slice(I, J));
    I = J;
  }
  return Spelled;
}

/// \p E without implicit nodes and converting constructions (an iterator
/// converted to a const_iterator).
const Expr *stripConversions(const Expr *E) {
  while (true) {
    E = E->IgnoreImplicit()->IgnoreParens();
    const auto *Construct = dyn_cast<CXXConstructExpr>(E);
    if (!Construct || Construct->getNumArgs() != 1 ||
        isa<CXXTemporaryObjectExpr>(Construct))
      return E;
    E = Construct->getArg(0);
  }
}

/// Does \p E name \p Var?
bool names(const Expr *E, const VarDecl &Var) {
  const auto *Ref = dyn_cast<DeclRefExpr>(stripConversions(E));
  return Ref && Ref->getDecl() == &Var;
}

/// The only statement of \p S when it is a block of one, else \p S.
const Stmt *single(const Stmt *S) {
  if (const auto *Block = dyn_cast_or_null<CompoundStmt>(S))
    S = Block->size() == 1 ? Block->body_front() : nullptr;
  if (const auto *E = dyn_cast_or_null<Expr>(S))
    return E->IgnoreImplicit();
  return S;
}

/// The operands of an assignment `L = R` (built-in or overloaded).
std::optional<std::pair<const Expr *, const Expr *>>
assignmentOperands(const Stmt *S) {
  if (const auto *Op = dyn_cast_or_null<CXXOperatorCallExpr>(S);
      Op && Op->getOperator() == OO_Equal && Op->getNumArgs() == 2)
    return std::make_pair(Op->getArg(0), Op->getArg(1));
  if (const auto *Bin = dyn_cast_or_null<BinaryOperator>(S);
      Bin && Bin->getOpcode() == BO_Assign)
    return std::make_pair(Bin->getLHS(), Bin->getRHS());
  return std::nullopt;
}

/// The operands of `L != R` (also the C++20 rewritten form).
std::optional<std::pair<const Expr *, const Expr *>>
notEqualOperands(const Expr *E) {
  E = E->IgnoreImplicit()->IgnoreParens();
  if (const auto *Rewritten = dyn_cast<CXXRewrittenBinaryOperator>(E)) {
    CXXRewrittenBinaryOperator::DecomposedForm Form =
        Rewritten->getDecomposedForm();
    if (Form.Opcode != BO_NE)
      return std::nullopt;
    return std::make_pair(Form.LHS, Form.RHS);
  }
  if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E);
      Op && Op->getOperator() == OO_ExclaimEqual && Op->getNumArgs() == 2)
    return std::make_pair(Op->getArg(0), Op->getArg(1));
  if (const auto *Bin = dyn_cast<BinaryOperator>(E);
      Bin && Bin->getOpcode() == BO_NE)
    return std::make_pair(Bin->getLHS(), Bin->getRHS());
  return std::nullopt;
}

/// A call of the member \p Name with \p Args arguments.
const CXXMemberCallExpr *memberCallNamed(const Expr *E, llvm::StringRef Name,
                                         unsigned Args) {
  const auto *Call = dyn_cast<CXXMemberCallExpr>(stripConversions(E));
  if (!Call || Call->getNumArgs() != Args || !Call->getMethodDecl() ||
      !Call->getMethodDecl()->getIdentifier() ||
      Call->getMethodDecl()->getName() != Name)
    return nullptr;
  return Call;
}
} // namespace

std::optional<bool> Planner::insertIfAbsent(const Expr &Condition,
                                            const Expr &Key,
                                            const std::string &Map) {
  const Expr *Child = nullptr;
  const auto *If = dyn_cast_or_null<IfStmt>(semanticParent(&Condition, Child));
  if (!If || If->getElse() || If->getInit() || If->getConditionVariable() ||
      If->isConstexpr() || If->isConsteval() ||
      If->getCond()->IgnoreParenImpCasts() != Condition.IgnoreParenImpCasts())
    return std::nullopt;
  auto Operands = assignmentOperands(single(If->getThen()));
  if (!Operands)
    return std::nullopt;
  const auto *Sub =
      dyn_cast<CXXOperatorCallExpr>(Operands->first->IgnoreImplicit());
  if (!Sub || Sub->getOperator() != OO_Subscript || Sub->getNumArgs() != 2 ||
      text(Sub->getArg(0)->getSourceRange()) != Map ||
      text(Sub->getArg(1)->getSourceRange()) != text(Key.getSourceRange()))
    return std::nullopt;
  // The same key in the test and the assignment (texts alike evaluate alike
  // only without side effects).
  const Expr *Value = Operands->second;
  if (Key.HasSideEffects(Context) || Value->getBeginLoc().isMacroID() ||
      Value->getEndLoc().isMacroID())
    return std::nullopt;
  const Expr *MapUse = Sub->getArg(0)->IgnoreImplicit();
  for (const Expr *Other : AllUses)
    if (within(Other->getBeginLoc(), Value->getSourceRange()))
      return std::nullopt;
  Consumed.insert(Sub->getArg(0));
  Consumed.insert(MapUse);
  // insert() evaluates the value even when the key is present. A value
  // with side effects (`nextId()`) keeps the test, evaluated as before; the
  // assignment becomes insert(), so a value another thread inserted in between
  // is kept, as the first one is in a serial run.
  if (Value->HasSideEffects(Context)) {
    const Expr *Assignment = cast<Expr>(single(If->getThen()));
    if (!replace(Assignment->getSourceRange(),
                 Map + ".insert(" + text(Sub->getArg(1)->getSourceRange()) +
                     ", " + text(Value->getSourceRange()) + ")",
                 Assignment))
      return false;
    return std::nullopt;
  }
  std::string Text = Map + ".insert(" + text(Key.getSourceRange()) + ", " +
                     text(Value->getSourceRange()) + ")";
  if (isa<CompoundStmt>(If->getThen()))
    Text += ";";
  return replace(If->getSourceRange(), Text, If);
}

std::optional<bool> Planner::eraseLoop(const CXXMemberCallExpr &Begin,
                                       const std::string &Map) {
  // `auto It = m.begin()` in the init of a for with no increment.
  const VarDecl *It = nullptr;
  for (DynTypedNodeList Up = Context.getParents(Begin); !Up.empty();
       Up = Context.getParents(Up[0])) {
    It = Up[0].get<VarDecl>();
    if (It)
      break;
    const auto *E = Up[0].get<Expr>();
    if (!E || !isa<ImplicitCastExpr, ExprWithCleanups, CXXConstructExpr,
                   MaterializeTemporaryExpr, CXXBindTemporaryExpr>(E))
      return std::nullopt;
  }
  if (!It)
    return std::nullopt;
  DynTypedNodeList DeclParents = Context.getParents(*It);
  const auto *Declared =
      DeclParents.empty() ? nullptr : DeclParents[0].get<DeclStmt>();
  if (!Declared || !Declared->isSingleDecl())
    return std::nullopt;
  DynTypedNodeList ForParents = Context.getParents(*Declared);
  const auto *For = ForParents.empty() ? nullptr : ForParents[0].get<ForStmt>();
  if (!For || For->getInit() != Declared || For->getInc() ||
      For->getConditionVariable() || !For->getCond())
    return std::nullopt;
  // It != m.end()
  auto Compared = notEqualOperands(For->getCond());
  if (!Compared || !names(Compared->first, *It))
    return std::nullopt;
  const CXXMemberCallExpr *End = memberCallNamed(Compared->second, "end", 0);
  if (!End)
    End = memberCallNamed(Compared->second, "cend", 0);
  if (!End || text(End->getImplicitObjectArgument()->getSourceRange()) != Map)
    return std::nullopt;
  // if (pred) It = m.erase(It); else ++It;
  const auto *If = dyn_cast_or_null<IfStmt>(single(For->getBody()));
  if (!If || !If->getElse() || If->getInit() || If->getConditionVariable() ||
      If->isConstexpr() || If->isConsteval())
    return std::nullopt;
  auto Erased = assignmentOperands(single(If->getThen()));
  if (!Erased || !names(Erased->first, *It))
    return std::nullopt;
  const CXXMemberCallExpr *Erase = memberCallNamed(Erased->second, "erase", 1);
  if (!Erase ||
      text(Erase->getImplicitObjectArgument()->getSourceRange()) != Map ||
      !names(Erase->getArg(0), *It))
    return std::nullopt;
  const Stmt *Step = single(If->getElse());
  bool Increments = false;
  if (const auto *Op = dyn_cast_or_null<CXXOperatorCallExpr>(Step))
    Increments = Op->getOperator() == OO_PlusPlus && names(Op->getArg(0), *It);
  else if (const auto *Unary = dyn_cast_or_null<UnaryOperator>(Step))
    Increments = Unary->isIncrementOp() && names(Unary->getSubExpr(), *It);
  if (!Increments)
    return std::nullopt;
  // The predicate reads the element only through It->first / It->second,
  // and does not use the map (erase_if calls it under the map's lock).
  const Expr *Predicate = If->getCond();
  if (Predicate->getBeginLoc().isMacroID() ||
      Predicate->getEndLoc().isMacroID() || For->getBeginLoc().isMacroID() ||
      For->getEndLoc().isMacroID())
    return std::nullopt;
  for (const Expr *Other : AllUses)
    if (within(Other->getBeginLoc(), Predicate->getSourceRange()))
      return skip(Other, "the erase loop's condition uses the map");
  if (ReentrySearch(Context, SameObject, MaxCallDepth).mayReach(*Predicate))
    return skip(Predicate, "the erase loop's condition calls a function that "
                           "may use the map, which would run under its lock");
  std::string PredicateText = text(Predicate->getSourceRange());
  llvm::StringSet<> Spelled = spelledIdentifiers(PredicateText);
  bool Capitalized = isUppercase(It->getName().front());
  std::string KeyName = Capitalized ? "Key" : "key";
  std::string ValueName = Capitalized ? "Value" : "value";
  if (Spelled.contains(KeyName) || Spelled.contains(ValueName)) {
    KeyName = (It->getName() + "Key").str();
    ValueName = (It->getName() + "Value").str();
    if (Spelled.contains(KeyName) || Spelled.contains(ValueName))
      return std::nullopt;
  }
  unsigned PredicateBegin = SM.getFileOffset(Predicate->getBeginLoc());
  std::vector<std::tuple<unsigned, unsigned, std::string>> Renames;
  std::vector<const DeclRefExpr *> Refs = referencesTo(*It, *For);
  // The loop's own: the condition, the erase and its argument, the step.
  unsigned Accounted = 4;
  for (const DeclRefExpr *Ref : Refs) {
    if (!within(Ref->getBeginLoc(), Predicate->getSourceRange()))
      continue;
    ++Accounted;
    const Expr *Child = nullptr;
    const auto *Arrow =
        dyn_cast_or_null<CXXOperatorCallExpr>(semanticParent(Ref, Child));
    if (!Arrow || Arrow->getOperator() != OO_Arrow)
      return std::nullopt;
    const auto *Member = dyn_cast_or_null<MemberExpr>(parent(Arrow));
    if (!Member || !Member->getMemberDecl()->getIdentifier() ||
        Member->getEndLoc().isMacroID())
      return std::nullopt;
    llvm::StringRef Field = Member->getMemberDecl()->getName();
    if ((Field != "first" && Field != "second") ||
        elementUse(*Member).Use != ElementUse::Read)
      return std::nullopt;
    unsigned From = SM.getFileOffset(Member->getBeginLoc()) - PredicateBegin;
    unsigned To = SM.getFileOffset(Lexer::getLocForEndOfToken(
                      Member->getEndLoc(), 0, SM, LangOpts)) -
                  PredicateBegin;
    if (To > PredicateText.size())
      return std::nullopt;
    Renames.emplace_back(From, To, Field == "first" ? KeyName : ValueName);
  }
  if (Refs.size() != Accounted)
    return std::nullopt;
  llvm::sort(Renames);
  for (auto Rename = Renames.rbegin(); Rename != Renames.rend(); ++Rename)
    PredicateText.replace(std::get<0>(*Rename),
                          std::get<1>(*Rename) - std::get<0>(*Rename),
                          std::get<2>(*Rename));
  for (const Expr *Object :
       {End->getImplicitObjectArgument(), Erase->getImplicitObjectArgument()}) {
    Consumed.insert(Object);
    Consumed.insert(Object->IgnoreImplicit());
  }
  std::string Text = Map + ".erase_if([&](const auto &" + KeyName +
                     ", const auto &" + ValueName + ") { return " +
                     PredicateText + "; })";
  if (llvm::StringRef(text(For->getSourceRange())).ends_with("}"))
    Text += ";";
  return replace(For->getSourceRange(), Text, For);
}

std::optional<bool> Planner::localReference(const Expr &Element,
                                            const Expr &MapUse,
                                            const std::string &Map,
                                            const std::string &Key,
                                            bool ThroughAt) {
  DynTypedNodeList Up = Context.getParents(Element);
  while (!Up.empty() &&
         (Up[0].get<ImplicitCastExpr>() || Up[0].get<ParenExpr>() ||
          Up[0].get<ExprWithCleanups>()))
    Up = Context.getParents(Up[0]);
  const auto *Ref = Up.empty() ? nullptr : Up[0].get<VarDecl>();
  if (!Ref || !Ref->getType()->isLValueReferenceType() ||
      Ref->getInit()->IgnoreImplicit()->IgnoreParens() != &Element ||
      !Ref->getIdentifier())
    return std::nullopt;
  const FunctionDecl *Function = nullptr;
  for (DynTypedNodeList Outer = Context.getParents(*Ref);
       !Outer.empty() && !Function; Outer = Context.getParents(Outer[0]))
    Function = Outer[0].get<FunctionDecl>();
  // `const auto &v = m[k];` only read: a copy bound to it lives as long, when
  // the map is not used again while it is (the reference would see that).
  if (Ref->getType().getNonReferenceType().isConstQualified() && Function &&
      Function->getBody()) {
    SourceLocation Last = Element.getEndLoc();
    for (const DeclRefExpr *Use : referencesTo(*Ref, *Function->getBody())) {
      if (SM.isBeforeInTranslationUnit(Last, Use->getBeginLoc()))
        Last = Use->getBeginLoc();
      // The copy dies with the reference: nothing may keep a view of it.
      if (elementUse(*Use).Use == ElementUse::Escapes)
        return skip(Use, "a reference into the map escapes");
    }
    for (const Expr *Other : AllUses)
      if (Other != &MapUse &&
          within(Other->getBeginLoc(), SourceRange(Element.getEndLoc(), Last)))
        return skip(Other, "the map is used while a reference to an element "
                           "is kept");
    // The runtime's at() returns a copy and throws like the standard one.
    if (ThroughAt)
      return true;
    return replace(Element.getSourceRange(),
                   Map + ".get_or_insert_default(" + Key + ")", &Element);
  }
  DynTypedNodeList DeclParents = Context.getParents(*Ref);
  const auto *Declared =
      DeclParents.empty() ? nullptr : DeclParents[0].get<DeclStmt>();
  if (!Declared || !Declared->isSingleDecl())
    return skip(&Element, "a reference into the map escapes");
  DynTypedNodeList BlockParents = Context.getParents(*Declared);
  const auto *Block =
      BlockParents.empty() ? nullptr : BlockParents[0].get<CompoundStmt>();
  if (!Block)
    return skip(&Element, "a reference into the map escapes");
  auto Refuse = [&](const Stmt *At) {
    return skip(At, "a reference to an element is kept in a way the rewriter "
                    "cannot put in one callback");
  };
  // The statements from the declaration to the last use of the reference.
  llvm::ArrayRef<Stmt *> Body(Block->body_begin(), Block->body_end());
  auto DeclAt = llvm::find(Body, Declared);
  std::vector<const Stmt *> Scope;
  size_t LastUse = 0;
  for (auto It = std::next(DeclAt); It != Body.end(); ++It) {
    Scope.push_back(*It);
    if (!referencesTo(*Ref, **It).empty())
      LastUse = Scope.size();
  }
  Scope.resize(LastUse);
  // Every use of it reads or writes the element inside the statements, and
  // nothing of it leaves them.
  for (const Stmt *S : Scope)
    for (const DeclRefExpr *Use : referencesTo(*Ref, *S))
      if (elementUse(*Use).Use == ElementUse::Escapes)
        return Refuse(Use);
  if (Scope.empty())
    return Refuse(&Element);
  // No jump out of the callback but a final `return E;`.
  const auto *Return = dyn_cast<ReturnStmt>(Scope.back());
  for (const Stmt *S : Scope) {
    if (S == Return)
      continue;
    BodyScan Jumps;
    Jumps.TraverseStmt(const_cast<Stmt *>(S));
    if (Jumps.Blocked || !Jumps.Continues.empty() || isa<ReturnStmt>(S))
      return Refuse(S);
  }
  QualType Result;
  if (Return) {
    if (!Return->getRetValue() || !Function)
      return Refuse(Return);
    Result = Function->getReturnType();
    if (Result->isReferenceType() || Result->isVoidType() ||
        Result->getContainedAutoType() || Result->isDependentType())
      return Refuse(Return);
  }
  // The callback runs under the map's lock: it must not use the map, nor
  // declare what the statements after it use.
  SourceRange Covered(Declared->getBeginLoc(), Scope.back()->getEndLoc());
  for (const Expr *Other : AllUses)
    if (Other != &MapUse && within(Other->getBeginLoc(), Covered))
      return skip(Other, "the map is used while a reference to an element "
                         "is kept");
  for (const Stmt *S : Scope) {
    if (ReentrySearch(Context, SameObject, MaxCallDepth).mayReach(*S))
      return skip(S, "a reference to an element is kept across a call of a "
                     "function that may use the map");
    if (const auto *Local = dyn_cast<DeclStmt>(S))
      for (const Decl *D : Local->decls())
        if (const auto *Var = dyn_cast<VarDecl>(D))
          for (auto After =
                   Body.begin() + (DeclAt - Body.begin()) + 1 + Scope.size();
               After != Body.end(); ++After)
            if (!referencesTo(*Var, **After).empty())
              return Refuse(S);
  }
  if (Covered.getBegin().isMacroID() || Covered.getEnd().isMacroID())
    return skip(&Element, "a use is inside a macro expansion");
  // The text of the statements, up to the `;` ending the last one.
  SourceLocation StatementsBegin =
      Lexer::getLocForEndOfToken(Declared->getEndLoc(), 0, SM, LangOpts);
  SourceLocation End = Lexer::findLocationAfterToken(
      Scope.back()->getEndLoc(), tok::semi, SM, LangOpts, false);
  if (End.isInvalid())
    End =
        Lexer::getLocForEndOfToken(Scope.back()->getEndLoc(), 0, SM, LangOpts);
  if (isa<DeclStmt>(Scope.back()))
    End =
        Lexer::getLocForEndOfToken(Scope.back()->getEndLoc(), 0, SM, LangOpts);
  auto Between = [&](SourceLocation From, SourceLocation To) {
    return Lexer::getSourceText(CharSourceRange::getCharRange(From, To), SM,
                                LangOpts)
        .str();
  };
  std::string Name = Ref->getName().str();
  // m[k] inserts a default element when the key is missing, as upsert()
  // does; m.at(k) throws before the statements run, and update() runs none
  // of them when the key is missing.
  std::string Open = (ThroughAt ? "if (!" : "") + Map +
                     (ThroughAt ? ".update(" : ".upsert(") + Key +
                     ", [&](auto &" + Name + ") {";
  std::string Close =
      ThroughAt ? "\n}))\n" + throwOutOfRange() : std::string("\n});");
  std::string Text;
  if (Return) {
    // `return E;` inside the callback stores E; the function returns it
    // after the lock is released.
    std::string Stored = "concguard_result";
    PrintingPolicy Policy(LangOpts);
    Policy.SuppressUnwrittenScope = true;
    std::string Before = Between(StatementsBegin, Return->getBeginLoc());
    Text = "std::optional<" + Result.getAsString(Policy) + "> " + Stored +
           ";\n" + Open + Before + Stored + ".emplace(" +
           text(Return->getRetValue()->getSourceRange()) + ");" + Close +
           "\nreturn std::move(*" + Stored + ");";
    if (Between(StatementsBegin, End).find(Stored) != std::string::npos)
      return Refuse(Return);
  } else {
    Text = Open + Between(StatementsBegin, End) + Close;
  }
  Plan.Edits.emplace_back(
      SM, CharSourceRange::getCharRange(Declared->getBeginLoc(), End), Text,
      LangOpts);
  return true;
}

std::optional<std::vector<const CXXOperatorCallExpr *>>
Planner::sameElement(const CXXOperatorCallExpr &Sub, const Expr &Within,
                     const Expr *Use) const {
  const Expr *Key = Sub.getArg(1);
  if (Key->HasSideEffects(Context))
    return std::nullopt;
  std::string KeyText = text(Key->getSourceRange());
  std::string Map = text(Use->getSourceRange());
  std::vector<const CXXOperatorCallExpr *> Found;
  for (const Expr *Other : AllUses) {
    if (Other == Use || !within(Other->getBeginLoc(), Within.getSourceRange()))
      continue;
    const Expr *Child = nullptr;
    const auto *OtherSub =
        dyn_cast_or_null<CXXOperatorCallExpr>(semanticParent(Other, Child));
    if (!OtherSub || OtherSub->getOperator() != OO_Subscript ||
        OtherSub->getNumArgs() != 2 ||
        OtherSub->getArg(0)->IgnoreImplicit() != Other->IgnoreImplicit() ||
        text(Other->getSourceRange()) != Map ||
        text(OtherSub->getArg(1)->getSourceRange()) != KeyText ||
        elementUse(*OtherSub).Use != ElementUse::Read)
      return std::nullopt;
    Found.push_back(OtherSub);
  }
  return Found;
}

std::optional<std::string>
Planner::callbackBody(const Expr &Full, llvm::ArrayRef<const Expr *> Elements,
                      llvm::ArrayRef<const Expr *> MapUses,
                      llvm::StringRef What, llvm::ArrayRef<std::string> Avoid,
                      std::string &Name) {
  auto Refuse = [&](const Stmt *At, const std::string &Reason) {
    skip(At, Reason);
    return std::nullopt;
  };
  if (!isStatement(&Full))
    return Refuse(&Full,
                  "the result of a modification " + What.str() + " is used");
  // The callback runs under the map's write lock: nothing in it may use the
  // map again.
  if (ReentrySearch(Context, SameObject, MaxCallDepth).mayReach(Full, MapUses))
    return Refuse(&Full, "the update " + What.str() +
                             " calls a function that may use the map, which "
                             "would run under the map's lock");
  SourceRange FullRange = Full.getSourceRange();
  if (FullRange.getBegin().isMacroID() || FullRange.getEnd().isMacroID())
    return Refuse(&Full, "a use is inside a macro expansion");
  std::string FullText = text(FullRange);
  unsigned FullBegin = SM.getFileOffset(FullRange.getBegin());
  std::vector<std::string> Texts(Avoid.begin(), Avoid.end());
  Texts.push_back(FullText);
  Name = freshName(Texts);
  // Every element of the statement (`m[k] = m[k] + 1`) is the callback's
  // parameter, from the last one back so that the offsets stay valid.
  std::vector<std::pair<unsigned, unsigned>> Spans;
  for (const Expr *Element : Elements) {
    if (Element->getBeginLoc().isMacroID() || Element->getEndLoc().isMacroID())
      return Refuse(Element, "a use is inside a macro expansion");
    unsigned Begin = SM.getFileOffset(Element->getBeginLoc());
    unsigned End = SM.getFileOffset(
        Lexer::getLocForEndOfToken(Element->getEndLoc(), 0, SM, LangOpts));
    if (Begin < FullBegin || End - FullBegin > FullText.size())
      return Refuse(Element, "a use the rewriter does not understand");
    Spans.push_back({Begin - FullBegin, End - FullBegin});
  }
  llvm::sort(Spans);
  std::string Body = FullText;
  for (auto Span = Spans.rbegin(); Span != Spans.rend(); ++Span)
    Body.replace(Span->first, Span->second - Span->first, Name);
  return Body;
}

bool Planner::upsertStatement(
    const CXXOperatorCallExpr &Sub, const std::string &Map,
    const std::string &Key, llvm::ArrayRef<const CXXOperatorCallExpr *> Same) {
  const Expr *Full = fullExpression(Sub);
  llvm::SmallVector<const Expr *, 2> Elements = {&Sub};
  llvm::SmallVector<const Expr *, 2> MapUses = {
      Sub.getArg(0)->IgnoreImplicit()};
  for (const CXXOperatorCallExpr *Other : Same) {
    Elements.push_back(Other);
    MapUses.push_back(Other->getArg(0)->IgnoreImplicit());
  }
  std::string Name;
  std::optional<std::string> Body =
      callbackBody(*Full, Elements, MapUses, "of m[k]", {Key}, Name);
  if (!Body)
    return false;
  return replace(Full->getSourceRange(),
                 Map + ".upsert(" + Key + ", [&](auto &" + Name + ") { " +
                     *Body + "; })",
                 Full);
}

namespace {
/// May evaluating \p E have an effect that a program could observe, other
/// than through its value? Definite effects (assignments, ++, volatile
/// reads), and calls, except those the standard library makes without
/// effects of its own: a const member function (`s.size()`, `s.substr(i)`),
/// a constructor, or a function of namespace std taking only values and
/// const references (`std::to_string(i)`, `a + b` of strings). A function
/// of the project may do anything.
bool mayHaveSideEffects(const Expr &E, const ASTContext &Context) {
  if (E.HasSideEffects(Context, /*IncludePossibleEffects=*/false))
    return true;
  class Calls : public RecursiveASTVisitor<Calls> {
  public:
    explicit Calls(const SourceManager &SM) : SM(SM) {}
    bool Effect = false;
    bool VisitCallExpr(CallExpr *Call) {
      const auto *Callee =
          dyn_cast_or_null<FunctionDecl>(Call->getCalleeDecl());
      if (!Callee || !harmless(*Callee))
        Effect = true;
      return !Effect;
    }
    bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
      if (!inStandardLibrary(*Construct->getConstructor()))
        Effect = true;
      return !Effect;
    }
    bool TraverseLambdaExpr(LambdaExpr *) {
      Effect = true;
      return false;
    }

  private:
    const SourceManager &SM;
    bool inStandardLibrary(const FunctionDecl &F) const {
      return F.getBuiltinID() ||
             SM.isInSystemHeader(SM.getExpansionLoc(F.getLocation()));
    }
    bool harmless(const FunctionDecl &F) const {
      if (!inStandardLibrary(F) || F.isVariadic())
        return false;
      if (const auto *Method = dyn_cast<CXXMethodDecl>(&F);
          Method && Method->isInstance())
        return Method->isConst();
      if (!F.isInStdNamespace())
        return false;
      return llvm::all_of(F.parameters(), [](const ParmVarDecl *Param) {
        QualType T = Param->getType();
        if (T->isReferenceType())
          return T.getNonReferenceType().isConstQualified();
        return !T->isPointerType();
      });
    }
  } Finder(Context.getSourceManager());
  Finder.TraverseStmt(const_cast<Expr *>(&E));
  return Finder.Effect;
}
} // namespace

const Expr *Planner::sideEffectBefore(const Expr &Element,
                                      const Expr &Full) const {
  const Expr *Current = &Element;
  while (Current != &Full) {
    const auto *P = dyn_cast_or_null<Expr>(parent(Current));
    if (!P)
      return nullptr;
    // Is \p Current sequenced before every other operand of P?
    bool First = false;
    if (isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr,
            CXXBindTemporaryExpr, ExprWithCleanups, MemberExpr, UnaryOperator,
            CXXFunctionalCastExpr, CXXStaticCastExpr>(P))
      First = true;
    else if (const auto *Call = dyn_cast<CXXMemberCallExpr>(P))
      First = Call->getCallee() == Current;
    else if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(P))
      First = Op->getNumArgs() > 0 && Op->getArg(0) == Current &&
              llvm::is_contained({OO_Subscript, OO_Arrow, OO_ArrowStar, OO_Call,
                                  OO_LessLess, OO_GreaterGreater, OO_Comma,
                                  OO_AmpAmp, OO_PipePipe},
                                 Op->getOperator());
    else if (const auto *Bin = dyn_cast<BinaryOperator>(P))
      First = Bin->getLHS() == Current &&
              llvm::is_contained({BO_Comma, BO_LAnd, BO_LOr, BO_Shl, BO_Shr},
                                 Bin->getOpcode());
    if (!First)
      for (const Stmt *Child : P->children())
        if (const auto *Operand = dyn_cast_or_null<Expr>(Child);
            Operand && Operand != Current &&
            mayHaveSideEffects(*Operand, Context))
          return Operand;
    Current = P;
  }
  return nullptr;
}

bool Planner::updateThroughAt(const CXXMemberCallExpr &At,
                              const std::string &Map) {
  const Expr *Full = fullExpression(At);
  const Expr *KeyArg = At.getArg(0);
  std::string Key = text(KeyArg->getSourceRange());
  // When the key is missing, at() throws before the rest of the statement
  // runs, but after what C++17 evaluates first: the right side of an
  // assignment, the other arguments of a call. update() would not evaluate
  // them at all.
  if (const Expr *Before = sideEffectBefore(At, *Full))
    return skip(Before, "a modification through at() evaluates an operand "
                        "with side effects before at() would throw");
  std::string Name;
  std::optional<std::string> Body =
      callbackBody(*Full, {&At}, {At.getImplicitObjectArgument()},
                   "through at()", {Key}, Name);
  if (!Body)
    return false;
  std::string Text = "if (!" + Map + ".update(" + Key + ", [&](auto &" + Name +
                     ") { " + *Body + "; }))\n " + throwOutOfRange();
  // A branch or a loop body becomes a block: an `if` there would take the
  // `else` that follows it. A for loop's increment cannot hold an `if`.
  const Expr *Child = nullptr;
  const Stmt *P = semanticParent(Full, Child);
  if (const auto *For = dyn_cast_or_null<ForStmt>(P);
      For && For->getInc() == Child)
    return skip(Full, "a modification through at() is a for loop's "
                      "increment, where no throw can be written");
  if (!isa_and_nonnull<CompoundStmt, LabelStmt, CaseStmt, DefaultStmt>(P))
    Text = "{\n" + Text + "\n}";
  std::optional<SourceLocation> End = statementEnd(*Full);
  if (!End || End->isMacroID())
    return skip(Full, "a use is inside a macro expansion");
  Plan.Edits.emplace_back(
      SM, CharSourceRange::getCharRange(Full->getBeginLoc(), *End), Text,
      LangOpts);
  return true;
}

/// For `for (decl p : m) body`: is `p` a std::pair used in \p Body only as
/// `p.first` and `p.second`, read (their address not taken), outside any
/// expression that another map's rewrite replaces? Then \p Renames turns
/// them into \p KeyName and \p ValueName, names the body does not use.
bool Planner::elementMembers(
    const VarDecl &Element, const Stmt &Body, std::string &KeyName,
    std::string &ValueName,
    std::vector<std::pair<SourceRange, std::string>> &Renames) {
  const auto *Pair = Element.getType().getNonReferenceType()->getAsRecordDecl();
  if (!Pair || !Pair->isInStdNamespace() || !Pair->getIdentifier() ||
      Pair->getName() != "pair" || !Element.getIdentifier())
    return false;
  std::vector<const DeclRefExpr *> ElementRefs = referencesTo(Element, Body);
  // The full expressions that other maps' rewrites may replace: a renamed
  // member inside one would be lost.
  llvm::SmallVector<SourceRange, 4> Replaced;
  for (const Expr *Other : EveryUse) {
    if (!within(Other->getBeginLoc(), Body.getSourceRange()))
      continue;
    const Expr *Full = Other;
    for (DynTypedNodeList Up = Context.getParents(*Full);
         !Up.empty() && Up[0].get<Expr>(); Up = Context.getParents(*Full))
      Full = Up[0].get<Expr>();
    Replaced.push_back(Full->getSourceRange());
  }
  std::vector<std::pair<SourceRange, bool>> Members; // (range, is key)
  for (const DeclRefExpr *Ref : ElementRefs) {
    if (Ref->getBeginLoc().isMacroID())
      return false;
    const Stmt *P = parent(Ref);
    while (P && isa<ImplicitCastExpr, ParenExpr>(P))
      P = parent(P);
    const auto *Member = dyn_cast_or_null<MemberExpr>(P);
    if (!Member || Member->isArrow() ||
        !Member->getMemberDecl()->getIdentifier())
      return false;
    llvm::StringRef Name = Member->getMemberDecl()->getName();
    if (Name != "first" && Name != "second")
      return false;
    const Expr *Child = nullptr;
    if (const auto *Unary =
            dyn_cast_or_null<UnaryOperator>(semanticParent(Member, Child));
        Unary && Unary->getOpcode() == UO_AddrOf)
      return false;
    if (Member->getEndLoc().isMacroID())
      return false;
    for (SourceRange Range : Replaced)
      if (within(Member->getBeginLoc(), Range))
        return false;
    Members.push_back({Member->getSourceRange(), Name == "first"});
  }
  // Parameter names that no identifier of the body is spelled like, so that
  // they hide nothing the body uses.
  llvm::StringSet<> Spelled = spelledIdentifiers(text(Body.getSourceRange()));
  llvm::StringRef Var = Element.getName();
  bool Capitalized = isUppercase(Var.front());
  std::pair<std::string, std::string> Candidates[] = {
      {Capitalized ? "Key" : "key", Capitalized ? "Value" : "value"},
      {Capitalized ? "K" : "k", Capitalized ? "V" : "v"},
      {(Var + "Key").str(), (Var + "Value").str()},
  };
  for (const auto &[Key, Value] : Candidates)
    if (!Spelled.contains(Key) && !Spelled.contains(Value)) {
      KeyName = Key;
      ValueName = Value;
      for (const auto &[Range, IsKey] : Members)
        Renames.push_back({Range, IsKey ? KeyName : ValueName});
      return true;
    }
  return false;
}

/// `for (const auto &[K, V] : m) body` -> `m.for_each([&](const auto &K,
/// const auto &V) { body });` with the loop's own `continue`s turned into
/// `return`: no copy of the map. Only when the body has no `return`,
/// `goto` or `break` of the loop, and neither uses the map nor calls what
/// may use it (ReentrySearch): a callback runs under the map's lock and
/// must not call back into it.
bool Planner::forEach(const CXXForRangeStmt &For, const Expr *Use,
                      const std::string &Map) {
  const Stmt *Body = For.getBody();
  if (Body->getBeginLoc().isMacroID() || Body->getEndLoc().isMacroID() ||
      For.getBeginLoc().isMacroID())
    return false;
  std::string KeyName, ValueName;
  // `p.first` and `p.second` of a loop variable that is not a structured
  // binding, and the parameter names that replace them.
  std::vector<std::pair<SourceRange, std::string>> Renames;
  if (const auto *Decomp =
          dyn_cast_or_null<DecompositionDecl>(For.getLoopVariable())) {
    if (Decomp->bindings().size() != 2)
      return false;
    QualType Bound = Decomp->getType();
    if (!Bound->isReferenceType() ||
        !Bound->getPointeeType().isConstQualified())
      return false;
    KeyName = Decomp->bindings()[0]->getName().str();
    ValueName = Decomp->bindings()[1]->getName().str();
  } else if (!For.getLoopVariable() ||
             !elementMembers(*For.getLoopVariable(), *Body, KeyName, ValueName,
                             Renames)) {
    return false;
  }
  BodyScan Scan;
  Scan.TraverseStmt(const_cast<Stmt *>(Body));
  if (Scan.Blocked)
    return false;
  for (const Expr *Other : AllUses)
    if (Other != Use && within(Other->getBeginLoc(), Body->getSourceRange()))
      return false;
  // Nor through a call: a function that uses the map would take its lock
  // again.
  if (ReentrySearch(Context, SameObject, MaxCallDepth).mayReach(*Body))
    return false;
  // Edits around the body, so that everything inside it (comments too)
  // stays: the header becomes the call, the loop's own `continue`s become
  // `return`s, and the call is closed after the body.
  if (For.getRParenLoc().isInvalid())
    return false;
  std::string Header = Map + ".for_each([&](const auto &" + KeyName +
                       ", const auto &" + ValueName + ")";
  std::vector<tooling::Replacement> Edits;
  Edits.emplace_back(
      SM, CharSourceRange::getTokenRange(For.getBeginLoc(), For.getRParenLoc()),
      Header, LangOpts);
  for (const auto &[Range, Name] : Renames)
    Edits.emplace_back(SM, CharSourceRange::getTokenRange(Range), Name,
                       LangOpts);
  for (const ContinueStmt *Continue : Scan.Continues) {
    if (Continue->getBeginLoc().isMacroID())
      return false;
    Edits.emplace_back(SM,
                       CharSourceRange::getTokenRange(Continue->getBeginLoc(),
                                                      Continue->getBeginLoc()),
                       "return", LangOpts);
  }
  SourceLocation AfterBody =
      Lexer::getLocForEndOfToken(Body->getEndLoc(), 0, SM, LangOpts);
  if (AfterBody.isInvalid())
    return false;
  if (isa<CompoundStmt>(Body)) {
    Edits.emplace_back(SM, AfterBody, 0, ");");
  } else {
    // An expression body's `;` is outside its range: it ends the call.
    Edits.emplace_back(SM, Body->getBeginLoc(), 0, "{ ");
    Edits.emplace_back(SM, AfterBody, 0, "; })");
  }
  for (tooling::Replacement &Edit : Edits)
    Plan.Edits.push_back(std::move(Edit));
  return true;
}

/// `auto It = m.find(k);` whose only uses compare it with `m.end()` and read
/// `It->second`, with no other use of the map in between, becomes
/// `auto It = m.get(k);` (a std::optional copy): `It != m.end()` ->
/// `It.has_value()`, `It->second` -> `(*It)`. The copy is taken where the
/// iterator was, and nothing touches the map until its last use, so the
/// values read are the same.
bool Planner::keptIterator(const CXXMemberCallExpr &Find, const Expr *Use,
                           const VarDecl &It) {
  auto Skip = [&] { return skip(&Find, "an iterator from find() is kept"); };
  const FunctionDecl *Function = nullptr;
  for (DynTypedNodeList Up = Context.getParents(It); !Up.empty() && !Function;
       Up = Context.getParents(Up[0]))
    Function = Up[0].get<FunctionDecl>();
  if (!Function || !Function->getBody())
    return Skip();
  // Every use of the iterator.
  std::vector<const DeclRefExpr *> ItRefs =
      referencesTo(It, *Function->getBody());
  if (ItRefs.empty())
    return Skip();
  // An element written through it: the statements doing so become one
  // update() callback, or the map is refused.
  for (const DeclRefExpr *Ref : ItRefs)
    if (const MemberExpr *Member = arrowMember(*Ref);
        Member && elementUse(*Member).Use == ElementUse::Modified)
      return iteratorUpdate(Find, Use, It, *Function);
  TypeSourceInfo *TSI = It.getTypeSourceInfo();
  if (!TSI || !TSI->getType()->getContainedAutoType() ||
      It.getType()->isReferenceType())
    return Skip();
  std::string Map = text(Use->getSourceRange());
  std::vector<std::pair<SourceRange, std::string>> Edits;
  llvm::SmallVector<const Expr *, 4> EndObjects;
  SourceLocation Last = Find.getEndLoc();
  for (const DeclRefExpr *Ref : ItRefs) {
    if (SM.isBeforeInTranslationUnit(Last, Ref->getEndLoc()))
      Last = Ref->getEndLoc();
    // Climb to the comparison or the `->` access.
    const Stmt *P = parent(Ref);
    while (P && isa<ImplicitCastExpr, ParenExpr>(P))
      P = parent(P);
    const auto *Op = dyn_cast_or_null<CXXOperatorCallExpr>(P);
    if (!Op)
      return Skip();
    if (Op->getOperator() == OO_Arrow) {
      const auto *Member = dyn_cast_or_null<MemberExpr>(parent(Op));
      if (!Member || !Member->getMemberDecl()->getIdentifier())
        return Skip();
      llvm::StringRef Field = Member->getMemberDecl()->getName();
      // `It->first` is the key that find() looked up, when that is a value
      // that cannot change meanwhile.
      std::optional<std::string> Key;
      if (Field == "first") {
        Key = stableKey(Find, *Function);
        if (!Key)
          return Skip();
      } else if (Field != "second") {
        return Skip();
      }
      // Only read (`It->second.front()` on a non-const map reads too): the
      // copy in the optional stands for the element. A const reference to
      // it lives as long as the copy, within the function.
      ElementChain Chain = elementUse(*Member);
      if (Chain.Use == ElementUse::Modified)
        return Skip();
      if (Chain.Use == ElementUse::Escapes &&
          (Chain.At != Member || !boundToReference(Member) ||
           !Member->getType().isConstQualified()))
        return Skip();
      Edits.push_back({Member->getSourceRange(),
                       Key ? *Key : "(*" + text(Ref->getSourceRange()) + ")"});
      continue;
    }
    if (Op->getOperator() != OO_EqualEqual &&
        Op->getOperator() != OO_ExclaimEqual)
      return Skip();
    const Expr *Other = Op->getArg(0)->IgnoreImplicit() == Ref->IgnoreImplicit()
                            ? Op->getArg(1)
                            : Op->getArg(0);
    const auto *End = dyn_cast<CXXMemberCallExpr>(Other->IgnoreImplicit());
    if (!End || !End->getMethodDecl() ||
        !End->getMethodDecl()->getIdentifier() ||
        End->getMethodDecl()->getName() != "end" ||
        text(End->getImplicitObjectArgument()->getSourceRange()) != Map)
      return Skip();
    bool Equal = Op->getOperator() == OO_EqualEqual;
    SourceRange Whole = Op->getSourceRange();
    for (DynTypedNodeList Up = Context.getParents(*Op); !Up.empty();
         Up = Context.getParents(Up[0])) {
      if (const auto *Rewritten = Up[0].get<CXXRewrittenBinaryOperator>()) {
        Equal = Rewritten->getOpcode() == BO_EQ;
        Whole = Rewritten->getSourceRange();
        break;
      }
      const auto *Unary = Up[0].get<UnaryOperator>();
      if ((!Unary || Unary->getOpcode() != UO_LNot) &&
          !Up[0].get<ImplicitCastExpr>() && !Up[0].get<ParenExpr>())
        break;
    }
    EndObjects.push_back(End->getImplicitObjectArgument());
    Edits.push_back({Whole, (Equal ? "!" : "") + text(Ref->getSourceRange()) +
                                ".has_value()"});
  }
  // No other use of the map between the lookup and the iterator's last use.
  for (const Expr *Other : AllUses) {
    if (Other == Use || llvm::any_of(EndObjects, [&](const Expr *E) {
          return E->IgnoreImplicit() == Other->IgnoreImplicit();
        }))
      continue;
    if (SM.isBeforeInTranslationUnit(Find.getEndLoc(), Other->getBeginLoc()) &&
        SM.isBeforeInTranslationUnit(Other->getBeginLoc(), Last))
      return skip(Other, "the map is used while an iterator from find() is "
                         "kept");
  }
  for (const Expr *E : EndObjects) {
    Consumed.insert(E);
    Consumed.insert(E->IgnoreImplicit());
  }
  if (!replace(Find.getSourceRange(),
               Map + ".get(" + text(Find.getArg(0)->getSourceRange()) + ")",
               &Find))
    return false;
  for (const auto &[Range, Text] : Edits)
    if (!replace(Range, Text, &Find))
      return false;
  return true;
}

namespace {
/// Does \p S always leave the statements that follow it: a return, break,
/// continue, goto or throw, or a block ending with one?
bool alwaysJumps(const Stmt *S) {
  if (const auto *Block = dyn_cast_or_null<CompoundStmt>(S))
    return !Block->body_empty() && alwaysJumps(Block->body_back());
  if (const auto *E = dyn_cast_or_null<Expr>(S))
    return isa<CXXThrowExpr>(E->IgnoreImplicit());
  return isa_and_nonnull<ReturnStmt, BreakStmt, ContinueStmt, GotoStmt>(S);
}

/// `It == m.end()` or `It != m.end()` (also `cend()`, either side, the
/// C++20 rewritten form): the call of end(), with \p Equal set; null for
/// any other condition.
const CXXMemberCallExpr *endTest(const Expr &Condition, const VarDecl &It,
                                 bool &Equal) {
  const Expr *E = Condition.IgnoreImplicit()->IgnoreParens();
  const Expr *Left = nullptr;
  const Expr *Right = nullptr;
  std::optional<BinaryOperatorKind> Opcode;
  if (const auto *Rewritten = dyn_cast<CXXRewrittenBinaryOperator>(E)) {
    CXXRewrittenBinaryOperator::DecomposedForm Form =
        Rewritten->getDecomposedForm();
    Opcode = Form.Opcode;
    Left = Form.LHS;
    Right = Form.RHS;
  } else if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E);
             Op && Op->getNumArgs() == 2 &&
             (Op->getOperator() == OO_EqualEqual ||
              Op->getOperator() == OO_ExclaimEqual)) {
    Opcode = Op->getOperator() == OO_EqualEqual ? BO_EQ : BO_NE;
    Left = Op->getArg(0);
    Right = Op->getArg(1);
  } else if (const auto *Bin = dyn_cast<BinaryOperator>(E);
             Bin && Bin->isEqualityOp()) {
    Opcode = Bin->getOpcode();
    Left = Bin->getLHS();
    Right = Bin->getRHS();
  }
  if (!Opcode || (*Opcode != BO_EQ && *Opcode != BO_NE))
    return nullptr;
  if (!names(Left, It))
    std::swap(Left, Right);
  if (!names(Left, It))
    return nullptr;
  const CXXMemberCallExpr *End = memberCallNamed(Right, "end", 0);
  if (!End)
    End = memberCallNamed(Right, "cend", 0);
  Equal = *Opcode == BO_EQ;
  return End;
}
} // namespace

bool Planner::iteratorUpdate(const CXXMemberCallExpr &Find, const Expr *Use,
                             const VarDecl &It, const FunctionDecl &Function) {
  auto Shape = [&](const Stmt *At) {
    return skip(At, "an iterator from find() is written through, but not "
                    "in an if that tests it right after the find()");
  };
  std::string Map = text(Use->getSourceRange());
  // `if (auto It = m.find(k); <test>)`, or the declaration followed by the
  // if in a block.
  DynTypedNodeList DeclParents = Context.getParents(It);
  const auto *Declared =
      DeclParents.empty() ? nullptr : DeclParents[0].get<DeclStmt>();
  if (!Declared || !Declared->isSingleDecl())
    return Shape(&Find);
  DynTypedNodeList Outer = Context.getParents(*Declared);
  if (Outer.empty())
    return Shape(&Find);
  const IfStmt *If = nullptr;
  const CompoundStmt *Block = Outer[0].get<CompoundStmt>();
  if (const auto *WithInit = Outer[0].get<IfStmt>();
      WithInit && WithInit->getInit() == Declared) {
    If = WithInit;
  } else if (Block) {
    const auto *At = llvm::find(Block->body(), Declared);
    if (At != Block->body_end() && std::next(At) != Block->body_end())
      If = dyn_cast<IfStmt>(*std::next(At));
    if (If && If->getInit())
      If = nullptr;
  }
  if (!If || If->getConditionVariable() || If->isConstexpr() ||
      If->isConsteval())
    return Shape(&Find);
  bool Equal = false;
  const CXXMemberCallExpr *End = endTest(*If->getCond(), It, Equal);
  if (!End || text(End->getImplicitObjectArgument()->getSourceRange()) != Map)
    return Shape(If);
  // The statements that run when the key is there: the branch of `!=`, or
  // after an `if (It == m.end())` that always leaves, those that follow it.
  std::vector<const Stmt *> Present;
  if (!Equal) {
    if (const auto *Body = dyn_cast<CompoundStmt>(If->getThen()))
      Present.assign(Body->body_begin(), Body->body_end());
    else
      Present.push_back(If->getThen());
  } else if (const Stmt *Else = If->getElse()) {
    // `if (It == m.end()) A else B`: B runs when the key is there, A when
    // it is missing (after update() returned false).
    if (const auto *Body = dyn_cast<CompoundStmt>(Else))
      Present.assign(Body->body_begin(), Body->body_end());
    else
      Present.push_back(Else);
  } else {
    if (!alwaysJumps(If->getThen()) || !Block)
      return Shape(If);
    for (const auto *At = std::next(llvm::find(Block->body(), If));
         At != Block->body_end(); ++At)
      Present.push_back(*At);
  }
  // The callback holds them up to the last one that uses the iterator, or a
  // reference declared among them (`auto &V = It->second;`).
  size_t Held = 0;
  llvm::SmallVector<const VarDecl *, 2> Kept = {&It};
  for (size_t Seen = 0; Seen < Kept.size(); ++Seen) {
    for (size_t I = 0; I < Present.size(); ++I)
      if (!referencesTo(*Kept[Seen], *Present[I]).empty())
        Held = std::max(Held, I + 1);
    for (size_t I = 0; I < Held; ++I)
      if (const auto *Local = dyn_cast<DeclStmt>(Present[I]))
        for (const Decl *D : Local->decls())
          if (const auto *Var = dyn_cast<VarDecl>(D);
              Var && Var->getType()->isReferenceType() &&
              !llvm::is_contained(Kept, Var))
            Kept.push_back(Var);
  }
  if (Held == 0)
    return Shape(If);
  llvm::ArrayRef<const Stmt *> Callback(Present.data(), Held);
  llvm::ArrayRef<const Stmt *> Rest =
      llvm::ArrayRef<const Stmt *>(Present).drop_front(Held);
  SourceRange Covered(Callback.front()->getBeginLoc(),
                      Callback.back()->getEndLoc());
  if (Declared->getBeginLoc().isMacroID() || If->getBeginLoc().isMacroID() ||
      Covered.getBegin().isMacroID() || Covered.getEnd().isMacroID() ||
      If->getCond()->getEndLoc().isMacroID())
    return skip(If, "a use is inside a macro expansion");
  // Every other use of the iterator is `It->second` or `It->first` inside
  // the callback, and no reference into the element leaves it.
  std::vector<std::pair<const MemberExpr *, bool>> Parts; // (use, is the key)
  for (const DeclRefExpr *Ref : referencesTo(It, *Function.getBody())) {
    if (within(Ref->getBeginLoc(), If->getCond()->getSourceRange()))
      continue;
    if (!within(Ref->getBeginLoc(), Covered))
      return skip(Ref, "an iterator from find() is used after the statements "
                       "that one update() callback can hold");
    const MemberExpr *Member = arrowMember(*Ref);
    if (!Member)
      return skip(Ref, "an iterator from find() is used other than as "
                       "it->first or it->second");
    ElementChain Chain = elementUse(*Member);
    if (Chain.Use == ElementUse::Escapes) {
      // `auto &V = It->second;` used only inside the callback.
      const VarDecl *Local =
          Chain.At == Member ? initializedVariable(*Member) : nullptr;
      bool Inside = Local && within(Local->getLocation(), Covered);
      if (Inside)
        for (const DeclRefExpr *LocalRef :
             referencesTo(*Local, *Function.getBody()))
          Inside = Inside && within(LocalRef->getBeginLoc(), Covered) &&
                   elementUse(*LocalRef).Use != ElementUse::Escapes;
      if (!Inside)
        return skip(Chain.At, "a reference into the map escapes");
    }
    Parts.push_back({Member, Member->getMemberDecl()->getName() == "first"});
  }
  // No jump out of the callback.
  for (const Stmt *S : Callback) {
    BodyScan Jumps;
    Jumps.TraverseStmt(const_cast<Stmt *>(S));
    if (Jumps.Blocked || !Jumps.Continues.empty() || isa<ReturnStmt>(S))
      return skip(S, "the statements that write through an iterator from "
                     "find() jump out of them (return, break, continue or "
                     "goto), which a callback cannot");
  }
  // The callback runs under the map's write lock: it must not use the map,
  // nor call what may use it, nor declare what is used after it.
  for (const Expr *Other : AllUses)
    if (Other != Use && within(Other->getBeginLoc(), Covered))
      return skip(Other, "the map is used while an iterator from find() is "
                         "kept");
  for (const Stmt *S : Callback) {
    if (ReentrySearch(Context, SameObject, MaxCallDepth).mayReach(*S))
      return skip(S, "the update through an iterator from find() calls a "
                     "function that may use the map, which would run under "
                     "the map's lock");
    if (const auto *Local = dyn_cast<DeclStmt>(S))
      for (const Decl *D : Local->decls())
        if (const auto *Var = dyn_cast<VarDecl>(D))
          for (const DeclRefExpr *Ref : referencesTo(*Var, *Function.getBody()))
            if (!within(Ref->getBeginLoc(), Covered))
              return skip(Ref, "an iterator from find() is used after the "
                               "statements that one update() callback can "
                               "hold");
  }
  std::optional<SourceLocation> BodyEnd = statementEnd(*Callback.back());
  if (!BodyEnd || BodyEnd->isMacroID())
    return skip(If, "a use is inside a macro expansion");
  // The callback's body: the statements, with the element and the key
  // spelled as its parameters.
  CharSourceRange BodyRange =
      CharSourceRange::getCharRange(Covered.getBegin(), *BodyEnd);
  std::string Body = Lexer::getSourceText(BodyRange, SM, LangOpts).str();
  std::string Key = text(Find.getArg(0)->getSourceRange());
  std::string ValueName = freshName({Body, Key});
  std::string KeyName = "key";
  for (const char *Candidate : {"key", "element_key", "concguard_key"}) {
    KeyName = Candidate;
    if (!llvm::StringRef(Body).contains(Candidate) &&
        !llvm::StringRef(Key).contains(Candidate))
      break;
  }
  unsigned BodyBegin = SM.getFileOffset(Covered.getBegin());
  llvm::sort(Parts, [&](const auto &A, const auto &B) {
    return SM.getFileOffset(A.first->getBeginLoc()) >
           SM.getFileOffset(B.first->getBeginLoc());
  });
  bool UsesKey = false;
  for (const auto &[Member, IsKey] : Parts) {
    if (Member->getBeginLoc().isMacroID() || Member->getEndLoc().isMacroID())
      return skip(Member, "a use is inside a macro expansion");
    unsigned Begin = SM.getFileOffset(Member->getBeginLoc()) - BodyBegin;
    unsigned End = SM.getFileOffset(Lexer::getLocForEndOfToken(
                       Member->getEndLoc(), 0, SM, LangOpts)) -
                   BodyBegin;
    if (End > Body.size())
      return skip(Member, "a use the rewriter does not understand");
    Body.replace(Begin, End - Begin, IsKey ? KeyName : ValueName);
    UsesKey = UsesKey || IsKey;
  }
  std::string Call = Map + ".update(" + Key + ", [&](" +
                     (UsesKey ? "const auto &" + KeyName + ", " : "") +
                     "auto &" + ValueName + ") {\n" + Body + "\n})";
  Consumed.insert(End->getImplicitObjectArgument());
  Consumed.insert(End->getImplicitObjectArgument()->IgnoreImplicit());
  SourceLocation Start =
      If->getInit() ? If->getBeginLoc() : Declared->getBeginLoc();
  auto Edit = [&](SourceLocation From, SourceLocation To,
                  const std::string &Text) {
    Plan.Edits.emplace_back(SM, CharSourceRange::getCharRange(From, To), Text,
                            LangOpts);
  };
  if (Equal && If->getElse()) {
    // `if (It == m.end()) A else { S...; R... }`  ->  `if (!m.update(k,
    // [&](auto &value) { S... })) A else { R... }`, the else gone with R
    // empty.
    Edit(
        Start,
        Lexer::getLocForEndOfToken(If->getCond()->getEndLoc(), 0, SM, LangOpts),
        "if (!" + Call);
    if (!Rest.empty()) {
      Edit(Covered.getBegin(), Rest.front()->getBeginLoc(), "");
      return true;
    }
    std::optional<SourceLocation> ThenEnd = statementEnd(*If->getThen());
    std::optional<SourceLocation> ElseEnd = statementEnd(*If->getElse());
    if (!ThenEnd || !ElseEnd || ThenEnd->isMacroID() || ElseEnd->isMacroID())
      return skip(If, "a use is inside a macro expansion");
    Edit(*ThenEnd, *ElseEnd, "");
    return true;
  }
  if (Equal) {
    // `if (It == m.end()) return ...; S...`  ->  `if (!m.update(k, [&](auto
    // &value) { S... })) return ...;`
    Edit(
        Start,
        Lexer::getLocForEndOfToken(If->getCond()->getEndLoc(), 0, SM, LangOpts),
        "if (!" + Call);
    Edit(Covered.getBegin(),
         Rest.empty() ? *BodyEnd : Rest.front()->getBeginLoc(), "");
    return true;
  }
  if (!Rest.empty()) {
    // The statements after the last use stay in the branch.
    Edit(Start, Rest.front()->getBeginLoc(), "if (" + Call + ") {\n");
    return true;
  }
  if (If->getElse()) {
    Edit(Start, Lexer::getLocForEndOfToken(If->getElseLoc(), 0, SM, LangOpts),
         "if (!" + Call + ")");
    return true;
  }
  std::optional<SourceLocation> IfEnd = statementEnd(*If);
  if (!IfEnd || IfEnd->isMacroID())
    return skip(If, "a use is inside a macro expansion");
  Edit(Start, *IfEnd, Call + ";");
  return true;
}

/// The text that can stand for `It->first` of `auto It = m.find(k)`: `k`
/// itself, when it is a constant or a local variable (or parameter, not a
/// reference) that nothing in \p Function modifies and no other declaration
/// there is named like; and when a key equal to `k` is identical to it (an
/// integer, enumeration, pointer or std::string key, with the map's own
/// hash and equality) and `k` has the key's own type, so that the
/// expressions built on `It->first` mean the same.
std::optional<std::string> Planner::stableKey(const CXXMemberCallExpr &Find,
                                              const FunctionDecl &Function) {
  const CXXMethodDecl *Method = Find.getMethodDecl();
  if (!Method || Method->getNumParams() != 1 || !Type.Hash.empty() ||
      !Type.Equal.empty())
    return std::nullopt;
  QualType KeyType = Method->getParamDecl(0)
                         ->getType()
                         .getNonReferenceType()
                         .getUnqualifiedType();
  bool Identical =
      KeyType->isIntegralOrEnumerationType() || KeyType->isPointerType();
  if (const auto *Record = KeyType->getAsCXXRecordDecl();
      Record && Record->isInStdNamespace() && Record->getIdentifier() &&
      Record->getName() == "basic_string")
    if (const auto *String = dyn_cast<ClassTemplateSpecializationDecl>(Record))
      Identical =
          String->getTemplateArgs()[0].getKind() == TemplateArgument::Type &&
          String->getTemplateArgs()[0].getAsType()->isCharType();
  if (!Identical)
    return std::nullopt;
  const Expr *Arg = Find.getArg(0)->IgnoreParenImpCasts();
  if (!Context.hasSameUnqualifiedType(Arg->getType(), KeyType) ||
      Arg->getBeginLoc().isMacroID() || Arg->getEndLoc().isMacroID())
    return std::nullopt;
  std::string Text = text(Find.getArg(0)->getSourceRange());
  const Expr *Literal = Arg;
  if (const auto *Sign = dyn_cast<UnaryOperator>(Arg);
      Sign && (Sign->getOpcode() == UO_Minus || Sign->getOpcode() == UO_Plus))
    Literal = Sign->getSubExpr()->IgnoreParenImpCasts();
  if (isa<IntegerLiteral, CharacterLiteral, CXXBoolLiteralExpr,
          CXXNullPtrLiteralExpr>(Literal))
    return Literal == Arg ? Text : "(" + Text + ")";
  const auto *Ref = dyn_cast<DeclRefExpr>(Arg);
  if (!Ref || !Ref->getDecl()->getIdentifier() || !Function.getBody())
    return std::nullopt;
  if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl())) {
    if (!Var->hasLocalStorage() || Var->getType()->isReferenceType() ||
        Var->getType().isVolatileQualified() ||
        ExprMutationAnalyzer(*Function.getBody(), Context).isMutated(Var))
      return std::nullopt;
  } else if (!isa<EnumConstantDecl>(Ref->getDecl())) {
    return std::nullopt;
  }
  // Another declaration of the name could hide it where `It->first` is.
  class SameName : public RecursiveASTVisitor<SameName> {
  public:
    explicit SameName(const NamedDecl &Named) : Named(Named) {}
    bool Found = false;
    bool VisitNamedDecl(NamedDecl *D) {
      if (D != &Named && D->getIdentifier() && D->getName() == Named.getName())
        Found = true;
      return !Found;
    }

  private:
    const NamedDecl &Named;
  } Names(*Ref->getDecl());
  Names.TraverseStmt(Function.getBody());
  if (Names.Found)
    return std::nullopt;
  return Text;
}

const Stmt *Planner::statementOf(const Expr &Use) const {
  DynTypedNode Child = DynTypedNode::create(Use);
  for (DynTypedNodeList Up = Context.getParents(Use); !Up.empty();
       Up = Context.getParents(Up[0])) {
    const Stmt *ChildStmt = Child.get<Stmt>();
    if (const auto *S = Up[0].get<Stmt>()) {
      // A statement of a block, or a branch or body: the callback stays
      // inside the loop or branch it is in (a loop is never swallowed
      // whole for a use in its body: the lock would be held across it).
      if (isa<CompoundStmt>(S))
        return ChildStmt;
      if (const auto *Case = dyn_cast<SwitchCase>(S);
          Case && Case->getSubStmt() == ChildStmt)
        return ChildStmt;
      if (const auto *Label = dyn_cast<LabelStmt>(S);
          Label && Label->getSubStmt() == ChildStmt)
        return ChildStmt;
      if (const auto *If = dyn_cast<IfStmt>(S);
          If && (If->getThen() == ChildStmt || If->getElse() == ChildStmt))
        return ChildStmt;
      if (const auto *For = dyn_cast<ForStmt>(S);
          For && For->getBody() == ChildStmt)
        return ChildStmt;
      if (const auto *While = dyn_cast<WhileStmt>(S);
          While && While->getBody() == ChildStmt)
        return ChildStmt;
      if (const auto *Do = dyn_cast<DoStmt>(S);
          Do && Do->getBody() == ChildStmt)
        return ChildStmt;
      if (const auto *Range = dyn_cast<CXXForRangeStmt>(S);
          Range && Range->getBody() == ChildStmt)
        return ChildStmt;
      if (const auto *Switch = dyn_cast<SwitchStmt>(S);
          Switch && Switch->getBody() == ChildStmt)
        return ChildStmt;
    } else if (const auto *Var = Up[0].get<VarDecl>()) {
      // A local variable's initializer is part of its declaration; any
      // other (a global's, a static member's) runs outside a function.
      if (!Var->isLocalVarDeclOrParm() || isa<ParmVarDecl>(Var))
        return nullptr;
    } else if (!Up[0].get<DeclStmt>()) {
      return nullptr;
    }
    Child = Up[0];
  }
  return nullptr;
}

bool Planner::declaredInside(const VarDecl &Var, const Stmt &Scope) const {
  if (const auto *Declaration = dyn_cast<DeclStmt>(&Scope))
    if (llvm::is_contained(Declaration->decls(), &Var))
      return false;
  SourceLocation Loc = Var.getLocation();
  return Loc.isValid() && within(Loc, Scope.getSourceRange());
}

namespace {
/// Does the function or lambda around \p Return return a reference?
bool returnsReference(const Stmt &Return, ASTContext &Context) {
  for (DynTypedNodeList Up = Context.getParents(Return); !Up.empty();
       Up = Context.getParents(Up[0])) {
    if (const auto *Lambda = Up[0].get<LambdaExpr>())
      return Lambda->getCallOperator()->getReturnType()->isReferenceType();
    if (const auto *F = Up[0].get<FunctionDecl>())
      return F->getReturnType()->isReferenceType();
  }
  return false;
}
} // namespace

bool Planner::outlives(const Expr &E, bool IsView, const Stmt &Scope,
                       const Stmt *&At) const {
  const Expr *Current = &E;
  while (true) {
    DynTypedNodeList Up = Context.getParents(*Current);
    if (Up.empty())
      return false;
    if (const auto *Var = Up[0].get<VarDecl>()) {
      if (!IsView && !Var->getType()->isReferenceType())
        return false; // a copy
      At = Current;
      return !declaredInside(*Var, Scope);
    }
    const auto *S = Up[0].get<Stmt>();
    if (!S)
      return false;
    if (isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr,
            CXXBindTemporaryExpr, ExprWithCleanups>(S)) {
      Current = cast<Expr>(S);
      continue;
    }
    if (const auto *Conditional = dyn_cast<ConditionalOperator>(S);
        Conditional && Conditional->getCond() != Current) {
      Current = Conditional;
      continue;
    }
    if (const auto *Construct = dyn_cast<CXXConstructExpr>(S)) {
      // An iterator copied is still a view; anything else built from it is
      // a copy of the value.
      if (IsView && Construct->getNumArgs() == 1 &&
          Construct->getConstructor()->isCopyOrMoveConstructor()) {
        Current = Construct;
        continue;
      }
      return false;
    }
    if (const auto *AddressOf = dyn_cast<UnaryOperator>(S);
        AddressOf && AddressOf->getOpcode() == UO_AddrOf) {
      IsView = true;
      Current = AddressOf;
      continue;
    }
    if (isa<ReturnStmt>(S)) {
      At = S;
      return IsView || returnsReference(*S, Context);
    }
    const Expr *Assigned = nullptr;
    if (const auto *Assign = dyn_cast<BinaryOperator>(S);
        Assign && Assign->isAssignmentOp() && Assign->getRHS() == Current)
      Assigned = Assign->getLHS();
    if (const auto *Assign = dyn_cast<CXXOperatorCallExpr>(S);
        Assign && Assign->getOperator() == OO_Equal &&
        Assign->getNumArgs() == 2 && Assign->getArg(1) == Current)
      Assigned = Assign->getArg(0);
    if (Assigned) {
      if (!IsView)
        return false; // a copy
      const auto *Ref = dyn_cast<DeclRefExpr>(Assigned->IgnoreParenImpCasts());
      const auto *Var = Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
      At = S;
      return !Var || !declaredInside(*Var, Scope);
    }
    if (isa<InitListExpr, LambdaExpr, CXXNewExpr>(S)) {
      At = S;
      return IsView;
    }
    if (const auto *Call = dyn_cast<CallExpr>(S);
        Call && llvm::is_contained(Call->arguments(), Current)) {
      // What a call gives back from a view or a reference it is given
      // (`std::find(v.begin(), v.end(), x)`, `std::max(v[0], v[1])`) may
      // be a view into it too.
      if (Call->isLValue() || isView(Call->getType())) {
        IsView = !Call->isLValue();
        Current = Call;
        continue;
      }
      // A pointer handed to a modifying member of another object
      // (`Pointers.push_back(&v[0])`) may be kept there.
      if (const auto *Member = dyn_cast<CXXMemberCallExpr>(Call);
          Member && IsView && Current->getType()->isPointerType() &&
          Member->getMethodDecl() && !Member->getMethodDecl()->isConst()) {
        At = Call;
        return true;
      }
      return false;
    }
    return false;
  }
}

Planner::ContainerAccess Planner::containerAccess(const Expr &Use,
                                                  const Stmt &Scope) const {
  // Through the accessors that only reach a part of it (`back()`, `[i]`,
  // `front().size()`), as for a map's element; a modifying member
  // (`push_back`, `insert`, `clear`) writes it.
  const Expr *Current = &Use;
  bool IsView = false, Write = false;
  while (true) {
    const Expr *Child = nullptr;
    const Stmt *P = semanticParent(Current, Child);
    const CXXMethodDecl *Method = nullptr;
    const Expr *Result = nullptr;
    if (const auto *Member = dyn_cast_or_null<MemberExpr>(P)) {
      const auto *Call = dyn_cast_or_null<CXXMemberCallExpr>(parent(Member));
      if (!Call || Call->getCallee()->IgnoreParens() != Member) {
        // A data member of an element (`v[0].hits`).
        Current = Member;
        continue;
      }
      Method = Call->getMethodDecl();
      Result = Call;
    } else if (const auto *Op = dyn_cast_or_null<CXXOperatorCallExpr>(P);
               Op && Op->getNumArgs() > 0 &&
               Op->getArg(0)->IgnoreImplicit() == Current->IgnoreImplicit() &&
               (Op->getOperator() == OO_Subscript ||
                Op->getOperator() == OO_Arrow ||
                Op->getOperator() == OO_Star)) {
      Method = dyn_cast_or_null<CXXMethodDecl>(Op->getCalleeDecl());
      Result = Op;
    } else {
      break;
    }
    if (!Method)
      return {Access::Write, Result};
    if (!isAccessor(*Method, Context))
      Write = true;
    if (Result->isLValue()) {
      Current = Result; // a reference into it: what is done with it counts
      continue;
    }
    if (isView(Result->getType())) {
      // A non-const iterator or pointer may be written through anywhere in
      // the statement: the write lock.
      Write = Write || !Method->isConst();
      IsView = true;
      Current = Result;
      break;
    }
    // A value: what is read of it (`insert(x).second`) is a copy too.
    const Expr *End = Result;
    while (true) {
      const Expr *MemberChild = nullptr;
      const auto *Member =
          dyn_cast_or_null<MemberExpr>(semanticParent(End, MemberChild));
      if (!Member || isa<CXXMemberCallExpr>(parent(Member)))
        break;
      End = Member;
    }
    ContainerAccess Found{Write ? Access::Write : Access::Read, Result};
    if (!End->getType()->isVoidType() && !holdsView(End->getType()))
      Found.CopiedValue = End;
    return Found;
  }
  const Stmt *At = Current;
  if (outlives(*Current, IsView, Scope, At))
    return {Access::Escapes, At};
  if (!Write && !IsView)
    if (const Stmt *Mutation =
            ExprMutationAnalyzer(Scope, Context).findMutation(Current))
      return {Access::Write, Mutation};
  ContainerAccess Found{Write ? Access::Write : Access::Read, Current};
  // An element (or the container) read into a copy: `x = v.back()`,
  // `auto copy = v;`.
  if (!IsView && Current != &Use && !holdsView(Current->getType())) {
    DynTypedNodeList Up = Context.getParents(*Current);
    const auto *Cast = Up.empty() ? nullptr : Up[0].get<ImplicitCastExpr>();
    const auto *Copy = Up.empty() ? nullptr : Up[0].get<CXXConstructExpr>();
    if ((Cast && Cast->getCastKind() == CK_LValueToRValue) ||
        (Copy && Copy->getNumArgs() == 1 &&
         Copy->getConstructor()->isCopyOrMoveConstructor()))
      Found.CopiedValue = Current;
  }
  return Found;
}

std::string Planner::passedAway(const Expr &Use) const {
  const Expr *Child = nullptr;
  const Stmt *P = semanticParent(&Use, Child);
  if (const auto *AddressOf = dyn_cast_or_null<UnaryOperator>(P);
      AddressOf && AddressOf->getOpcode() == UO_AddrOf)
    return "the container's address is taken (pass the "
           "concguard::synchronized itself by reference, by hand)";
  // A copy made for a parameter taken by value is fine.
  if (const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(P)) {
    if (Construct->getNumArgs() == 1 &&
        Construct->getConstructor()->isCopyOrMoveConstructor())
      return "";
    const CXXConstructorDecl *Constructor = Construct->getConstructor();
    if (SM.isInSystemHeader(Constructor->getLocation()))
      return "";
    return "the container is passed by reference to a constructor of " +
           quoted(*Constructor->getParent()) +
           " (give it a copy, or the concguard::synchronized itself, by hand)";
  }
  const auto *Call = dyn_cast_or_null<CallExpr>(P);
  if (!Call || isa<CXXMemberCallExpr>(Call))
    return "";
  unsigned Index = 0;
  while (Index < Call->getNumArgs() &&
         Call->getArg(Index)->IgnoreParenImpCasts() !=
             Use.IgnoreParenImpCasts())
    ++Index;
  if (Index == Call->getNumArgs())
    return "";
  const FunctionDecl *Callee = Call->getDirectCallee();
  if (!Callee)
    return "the container is passed to a function through a pointer";
  // A member operator of the container (`v = w`, `v == w`).
  if (isa<CXXOperatorCallExpr>(Call) && isa<CXXMethodDecl>(Callee) &&
      Index == 0)
    return "";
  if (asRefWrapper(*Call))
    return "the container is passed with " + quoted(*Callee) +
           ", by reference, to code that may keep it beyond the lock (pass "
           "the concguard::synchronized itself, by hand)";
  if (SM.isInSystemHeader(SM.getExpansionLoc(Callee->getLocation())))
    return ""; // std::size(v), std::swap(v, w), std::erase(v, x)
  unsigned ParamIndex = Index;
  if (isa<CXXOperatorCallExpr>(Call) && isa<CXXMethodDecl>(Callee))
    --ParamIndex;
  if (ParamIndex < Callee->getNumParams() &&
      !Callee->getParamDecl(ParamIndex)->getType()->isReferenceType())
    return "";
  return "the container is passed by reference to " + quoted(*Callee) +
         " (give it a copy, or make it take the concguard::synchronized, by "
         "hand)";
}

std::optional<SourceLocation> Planner::statementEnd(const Stmt &S) const {
  if (const auto *If = dyn_cast<IfStmt>(&S))
    return statementEnd(If->getElse() ? *If->getElse() : *If->getThen());
  if (const auto *For = dyn_cast<ForStmt>(&S))
    return statementEnd(*For->getBody());
  if (const auto *While = dyn_cast<WhileStmt>(&S))
    return statementEnd(*While->getBody());
  if (const auto *Range = dyn_cast<CXXForRangeStmt>(&S))
    return statementEnd(*Range->getBody());
  if (const auto *Switch = dyn_cast<SwitchStmt>(&S))
    return statementEnd(*Switch->getBody());
  if (const auto *Case = dyn_cast<SwitchCase>(&S))
    return statementEnd(*Case->getSubStmt());
  if (const auto *Label = dyn_cast<LabelStmt>(&S))
    return statementEnd(*Label->getSubStmt());
  if (isa<CompoundStmt, DeclStmt, NullStmt>(S))
    return Lexer::getLocForEndOfToken(S.getEndLoc(), 0, SM, LangOpts);
  // An expression, a return, a do-while: its `;`.
  SourceLocation After =
      Lexer::findLocationAfterToken(S.getEndLoc(), tok::semi, SM, LangOpts,
                                    /*SkipTrailingWhitespaceAndNewLine=*/false);
  if (After.isInvalid())
    return std::nullopt;
  return After;
}

const Expr *Planner::valueOf(const Stmt &S) const {
  if (const auto *Return = dyn_cast<ReturnStmt>(&S))
    return Return->getRetValue();
  if (const auto *Declaration = dyn_cast<DeclStmt>(&S)) {
    const auto *Var = Declaration->isSingleDecl()
                          ? dyn_cast<VarDecl>(Declaration->getSingleDecl())
                          : nullptr;
    if (!Var || !Var->hasInit() || Var->getInitStyle() != VarDecl::CInit)
      return nullptr;
    return Var->getInit();
  }
  if (const auto *If = dyn_cast<IfStmt>(&S);
      If && !If->getInit() && !If->getConditionVariable())
    return If->getCond();
  if (const auto *While = dyn_cast<WhileStmt>(&S);
      While && !While->getConditionVariable())
    return While->getCond();
  if (const auto *Do = dyn_cast<DoStmt>(&S))
    return Do->getCond();
  if (const auto *Switch = dyn_cast<SwitchStmt>(&S);
      Switch && !Switch->getInit() && !Switch->getConditionVariable())
    return Switch->getCond();
  return nullptr;
}

bool Planner::containerUses(llvm::ArrayRef<const Expr *> Uses) {
  // Each use's statement; a statement inside another one that uses the
  // container (`do { v.push_back(1); } while (v.size() < 3);`) goes with
  // the outer one.
  std::vector<std::pair<const Stmt *, const Expr *>> Placed;
  // `fill(v)` where fill's parameter becomes a synchronized<T> with `v`:
  // the call stays, and no callback may hold it.
  std::vector<std::pair<const Expr *, const FunctionDecl *>> Handed;
  for (const Expr *Use : Uses) {
    if (Use->getBeginLoc().isMacroID() || Use->getEndLoc().isMacroID())
      return skip(Use, "a use is inside a macro expansion");
    if (const FunctionDecl *Callee = handedToGroup(*Use)) {
      Handed.push_back({Use, Callee});
      continue;
    }
    const Expr *Child = nullptr;
    const Stmt *Around = semanticParent(Use, Child);
    // `[v]` copies it through a constructor.
    if (const auto *Copy = dyn_cast_or_null<CXXConstructExpr>(Around))
      if (const auto *Lambda = dyn_cast_or_null<LambdaExpr>(parent(Copy));
          Lambda && llvm::is_contained(Lambda->capture_inits(), Copy))
        return skip(Use, "the container is captured by copy (capture it by "
                         "reference, or copy it into a local first)");
    if (const auto *Lambda = dyn_cast_or_null<LambdaExpr>(Around)) {
      // `[&v]`: the lambda's own uses are rewritten like any other.
      auto Init = Lambda->capture_init_begin();
      bool ByReference = false, Found = false;
      for (const LambdaCapture &Capture : Lambda->captures()) {
        if (*Init && (*Init)->IgnoreImplicit() == Use->IgnoreImplicit()) {
          Found = true;
          ByReference = Capture.getCaptureKind() == LCK_ByRef;
        }
        ++Init;
      }
      if (!Found)
        return skip(Use, "a use the rewriter does not understand");
      if (!ByReference)
        return skip(Use, "the container is captured by copy");
      continue;
    }
    const Stmt *S = statementOf(*Use);
    if (!S)
      return skip(Use, "the container is used outside a function body");
    Placed.push_back({S, Use});
  }
  auto Inside = [&](const Stmt *Inner, const Stmt *Outer) {
    return Inner != Outer &&
           within(Inner->getBeginLoc(), Outer->getSourceRange()) &&
           within(Inner->getEndLoc(), Outer->getSourceRange());
  };
  std::vector<const Stmt *> Statements;
  for (const auto &Entry : Placed) {
    const Stmt *S = Entry.first;
    if (!llvm::is_contained(Statements, S) &&
        llvm::none_of(
            Placed, [&](const auto &Other) { return Inside(S, Other.first); }))
      Statements.push_back(S);
  }
  for (const auto &[Use, Callee] : Handed)
    for (const Stmt *S : Statements)
      if (within(Use->getBeginLoc(), S->getSourceRange()))
        return skip(Use, "the container is passed to " + quoted(*Callee) +
                             " in a statement that also uses it otherwise, "
                             "whose callback would hold its lock (split the "
                             "statement)");
  for (const Stmt *S : Statements) {
    std::vector<const Expr *> Mine;
    for (const auto &[Other, Use] : Placed)
      if (Other == S || Inside(Other, S))
        Mine.push_back(Use);
    if (!wrapStatement(*S, Mine))
      return false;
  }
  return true;
}

bool Planner::wrapStatement(const Stmt &S, llvm::ArrayRef<const Expr *> Uses) {
  const char *Outlives = "a reference, pointer or iterator into the container "
                         "outlives the statement (copy the element, or do the "
                         "work in one statement)";
  // One object: `a.Items` and `b.Items` are two locks.
  auto ObjectOf = [&](const Expr *Use) -> std::string {
    const auto *Member = dyn_cast<MemberExpr>(Use->IgnoreParenImpCasts());
    if (!Member || isa<CXXThisExpr>(Member->getBase()->IgnoreParenImpCasts()))
      return "";
    return text(Member->getBase()->getSourceRange());
  };
  for (const Expr *Use : Uses) {
    if (ObjectOf(Use) != ObjectOf(Uses.front()))
      return skip(Use, "one statement uses the container of two different "
                       "objects (two locks)");
    // A lambda written in the statement may run after the lock is
    // released (a thread, a stored callback).
    for (DynTypedNodeList Up = Context.getParents(*Use); !Up.empty();
         Up = Context.getParents(Up[0])) {
      const auto *P = Up[0].get<Stmt>();
      if (P == &S)
        break;
      if (P && isa<LambdaExpr>(P))
        return skip(Use, "the container is used inside a lambda written in "
                         "a statement that also uses it outside the lambda");
    }
    std::string Why = passedAway(*Use);
    if (!Why.empty())
      return skip(Use, Why);
  }

  // The whole statement, unless it leaves the callback (return, break,
  // continue, goto) or declares what follows it uses: then only its one
  // expression that uses the container.
  BodyScan Jumps;
  Jumps.TraverseStmt(const_cast<Stmt *>(&S));
  bool Leaves = Jumps.Blocked || !Jumps.Continues.empty();
  const Stmt *Scope = &S;
  const Expr *Value = nullptr;
  // A statement that uses the container once, for a value it copies out
  // (`std::printf("%zu", v.size())`, `x = v.back()`): only that expression
  // runs under the lock, as one callback returning the copy.
  if (Uses.size() == 1) {
    ContainerAccess Single = containerAccess(*Uses.front(), S);
    if (Single.Kind != Access::Escapes && Single.CopiedValue &&
        within(Single.CopiedValue->getEndLoc(), S.getSourceRange()))
      Value = Single.CopiedValue;
  }
  if (Value) {
    Scope = Value;
  } else if (Leaves || isa<DeclStmt, ReturnStmt>(S)) {
    Value = valueOf(S);
    if (!Value || llvm::any_of(Uses, [&](const Expr *Use) {
          return !within(Use->getBeginLoc(), Value->getSourceRange());
        }))
      return skip(&S, isa<DeclStmt>(S)
                          ? "a declaration that uses the container is not "
                            "`T x = <expression>;`"
                          : "a statement that uses the container returns, "
                            "breaks, continues or jumps out of it, and uses "
                            "it outside one condition or returned value "
                            "(copy what the jump needs into a local first)");
    const Expr *Inner = Value->IgnoreImplicit();
    if (isa<InitListExpr>(Inner) ||
        (isa<CXXConstructExpr>(Inner) &&
         cast<CXXConstructExpr>(Inner)->isListInitialization()))
      return skip(Value, "a braced list that uses the container is "
                         "returned or initializes a variable");
    if (holdsView(Value->getType()) ||
        (Value->isGLValue() && isa<ReturnStmt>(S) &&
         returnsReference(S, Context)))
      return skip(Value, Outlives);
    Scope = Value;
  }
  bool Write = false;
  for (const Expr *Use : Uses) {
    ContainerAccess Found = containerAccess(*Use, *Scope);
    if (Found.Kind == Access::Escapes)
      return skip(Found.At, Outlives);
    Write = Write || Found.Kind == Access::Write;
  }
  // Through a const object (a const member function's `Items`) nothing is
  // written, whatever the analysis of the statement supposes.
  if (Uses.front()->getType().isConstQualified())
    Write = false;
  // The callback runs under the container's lock: nothing it calls may use
  // the container again.
  if (ReentrySearch(Context, SameObject, MaxCallDepth).mayReach(*Scope, Uses))
    return skip(Scope, "the statement calls a function that may use the "
                       "container, which would run under its lock (call it "
                       "into a local first)");

  // The text of the scope, every use replaced by the callback's parameter.
  SourceLocation Begin = Scope->getBeginLoc();
  std::optional<SourceLocation> End =
      Value ? std::optional<SourceLocation>(Lexer::getLocForEndOfToken(
                  Value->getEndLoc(), 0, SM, LangOpts))
            : statementEnd(S);
  if (!End || End->isInvalid() || Begin.isMacroID() || End->isMacroID())
    return skip(Scope, "a use is inside a macro expansion");
  unsigned From = SM.getFileOffset(Begin), To = SM.getFileOffset(*End);
  llvm::StringRef Source = SM.getBufferData(SM.getFileID(Begin));
  if (To < From || To > Source.size())
    return skip(Scope, "a use the rewriter does not understand");
  std::vector<std::pair<unsigned, unsigned>> Spans;
  for (const Expr *Use : Uses) {
    unsigned UseBegin = SM.getFileOffset(Use->getBeginLoc());
    unsigned UseEnd = SM.getFileOffset(
        Lexer::getLocForEndOfToken(Use->getEndLoc(), 0, SM, LangOpts));
    if (UseBegin < From || UseEnd > To)
      return skip(Use, "a use the rewriter does not understand");
    Spans.push_back({UseBegin - From, UseEnd - From});
  }
  llvm::sort(Spans);
  std::string Body = Source.substr(From, To - From).str();
  const auto *Named = dyn_cast<NamedDecl>(
      isa<MemberExpr>(Uses.front()->IgnoreParenImpCasts())
          ? cast<MemberExpr>(Uses.front()->IgnoreParenImpCasts())
                ->getMemberDecl()
          : cast<DeclRefExpr>(Uses.front()->IgnoreParenImpCasts())->getDecl());
  std::string Name =
      Named && Named->getIdentifier() ? Named->getName().str() : "value";
  // The parameter keeps the container's name, unless the statement spells
  // that name for something else too.
  std::string Marked = Body;
  for (auto Span = Spans.rbegin(); Span != Spans.rend(); ++Span)
    Marked.replace(Span->first, Span->second - Span->first, "\x01");
  if (spelledIdentifiers(Marked).contains(Name))
    Name = freshName({Marked});
  for (auto Span = Spans.rbegin(); Span != Spans.rend(); ++Span)
    Body.replace(Span->first, Span->second - Span->first, Name);
  std::string Object = text(Uses.front()->getSourceRange());
  std::string Lambda =
      Write ? Object + ".with_lock([&](auto &" + Name + ") { "
            : Object + ".with_shared_lock([&](const auto &" + Name + ") { ";
  std::string Replacement;
  if (!Value)
    Replacement = Lambda + Body + " });";
  else if (!Write && Body == Name)
    Replacement = Object + ".copy()"; // `auto copy = v;`, `return v;`
  else
    Replacement = Lambda + "return " + Body + "; })";
  Plan.Edits.emplace_back(SM, CharSourceRange::getCharRange(Begin, *End),
                          Replacement, LangOpts);
  return true;
}

void Planner::addInclude(const DeclaratorDecl &D) {
  // A marker replacement: the driver turns it into an #include placed by
  // tooling::HeaderIncludes in the declaring file.
  std::string Header = !Synchronized.empty() ? "<concguard/synchronized.hpp>"
                       : Snapshot            ? "<concguard/snapshot_map.hpp>"
                                             : "<concguard/sharded_map.hpp>";
  SourceLocation Loc = SM.getExpansionLoc(D.getLocation());
  llvm::StringRef File = SM.getFilename(Loc);
  Plan.Edits.emplace_back(File, UINT_MAX, 0, "#include " + Header);
}

/// The policy rule of --policy=auto: a std::map keeps its order only in a
/// snapshot_map over a std::map; otherwise a map whose writes are all
/// outside loops and are at most a quarter of its uses is read-mostly and
/// becomes a snapshot_map; every other map becomes a sharded_map.
bool chooseSnapshot(const SharedContainer &Container, const MapType &Type,
                    MapPolicy Policy, ASTContext &Context, std::string &Why) {
  if (Policy != MapPolicy::Auto) {
    Why = Policy == MapPolicy::Snapshot ? "--policy=snapshot"
                                        : "--policy=sharded";
    return Policy == MapPolicy::Snapshot;
  }
  if (Type.Ordered) {
    Why = "a std::map: only a snapshot_map keeps its key order";
    return true;
  }
  unsigned Reads = 0, Writes = 0;
  bool WriteInLoop = false;
  for (const auto *Access : Container.Accesses) {
    if (Access->Kind == AccessKind::Read) {
      ++Reads;
      continue;
    }
    ++Writes;
    // In a loop of its function, or of a function on the way to it (a
    // helper written through a parameter, called in a loop).
    llvm::SmallVector<const Stmt *, 4> Places = {Access->Operation};
    Places.append(Access->CallPath.begin(), Access->CallPath.end());
    for (const Stmt *Place : Places)
      for (DynTypedNodeList Parents = Context.getParents(*Place);
           !Parents.empty(); Parents = Context.getParents(Parents[0])) {
        if (Parents[0].get<FunctionDecl>())
          break;
        const auto *S = Parents[0].get<Stmt>();
        if (S && isa<ForStmt, WhileStmt, DoStmt, CXXForRangeStmt>(S))
          WriteInLoop = true;
      }
  }
  std::string Counts =
      llvm::formatv("{0} of its {1} accesses write it", Writes, Reads + Writes);
  if (WriteInLoop) {
    Why = "written in a loop";
    return false;
  }
  if (Writes * 4 > Reads + Writes) {
    Why = Counts + ", more than a quarter";
    return false;
  }
  Why = "read-mostly: " + Counts + ", none in a loop";
  return true;
}

} // namespace

std::vector<FlaggedMap> findFlaggedMaps(ASTContext &Context,
                                        const RewriteOptions &Options) {
  return findFlaggedMaps(Context, Options,
                         analyzeSharedContainers(Context, Options.Analysis));
}

namespace {
/// The flagged maps of \p Found, with the declarations the analysis
/// reports them at.
std::vector<std::pair<const ValueDecl *, FlaggedMap>>
flaggedMapsOf(ASTContext &Context, const RewriteOptions &Options,
              const SharedContainerResult &Found) {
  std::vector<std::pair<const ValueDecl *, FlaggedMap>> Result;
  for (const SharedContainer &Container : Found.Racy) {
    const ValueDecl *D = Container.Decl;
    if (!isa<VarDecl, FieldDecl>(D))
      continue;
    std::string Reason;
    const auto *Param = dyn_cast<ParmVarDecl>(D);
    // A container that is not a map becomes a synchronized<T>; its
    // parameters are not followed (the caller's container is).
    bool Synchronized = !Param && isSynchronizable(D->getType());
    if (!isStdMap(D->getType()) && !Synchronized)
      continue;
    std::string Name = D->getQualifiedNameAsString();
    if (!matchesOnly(Name, Options.Only))
      continue;
    FlaggedMap Map;
    Map.Name = Name;
    Map.Location = where(D->getLocation(), Context.getSourceManager());
    Map.Synchronized = Synchronized;
    // A parameter is rewritten with the maps its callers pass.
    Map.USR = Param ? parameterIdOf(*Param) : usrOf(D);
    if (Synchronized) {
      Map.Policy = "not a map: one reader-writer lock for the whole "
                   "container";
    } else if (std::optional<MapType> Type =
                   mapTypeOf(D->getType(), Context, Reason)) {
      Map.Snapshot =
          chooseSnapshot(Container, *Type, Options.Policy, Context, Map.Policy);
    }
    Result.push_back({D, std::move(Map)});
  }
  return Result;
}
} // namespace

std::vector<FlaggedMap> findFlaggedMaps(ASTContext &Context,
                                        const RewriteOptions &Options,
                                        const SharedContainerResult &Found) {
  std::vector<FlaggedMap> Result;
  for (auto &[Decl, Map] : flaggedMapsOf(Context, Options, Found))
    Result.push_back(std::move(Map));
  return Result;
}

std::vector<ParamFlow> findParamFlows(ASTContext &Context) {
  class FlowFinder : public RecursiveASTVisitor<FlowFinder> {
  public:
    explicit FlowFinder(ASTContext &Context)
        : Context(Context), SM(Context.getSourceManager()) {}
    std::vector<ParamFlow> Flows;

    bool shouldVisitTemplateInstantiations() const { return false; }

    bool VisitCallExpr(CallExpr *Call) {
      // An operator's operands are not parameters the rewriter follows.
      if (isa<CXXOperatorCallExpr>(Call) ||
          SM.isInSystemHeader(Call->getBeginLoc()))
        return true;
      const FunctionDecl *Callee = Call->getDirectCallee();
      if (!Callee)
        return true;
      for (unsigned I = 0; I < Call->getNumArgs(); ++I)
        addFlow(*Callee, I, *Call->getArg(I), Call->getArg(I));
      return true;
    }

    // std::thread t(f, std::ref(m)): m flows to f's parameter; any other
    // argument (a copy made for the thread) is not a rewritten map.
    bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
      if (SM.isInSystemHeader(Construct->getBeginLoc()))
        return true;
      std::optional<ThreadStart> Start = threadStartOf(*Construct, Context);
      if (!Start)
        return true;
      const FunctionDecl *Callee = Start->Callee;
      for (unsigned I = 0; I < Start->Args.size(); ++I) {
        // Only an argument given with std::ref is the caller's container;
        // any other (a copy made for the thread) is not rewritten, but the
        // flow still keeps the function's other callers from changing its
        // parameter under it, and a container that is not a map given with
        // std::ref is refused where it is given.
        const CallExpr *Ref = asRefWrapper(*Start->Args[I]);
        addFlow(*Callee, I, *Start->Args[I], Ref ? Ref->getArg(0) : nullptr);
      }
      return true;
    }

  private:
    /// Records that \p Argument, given for \p Callee's parameter \p Index,
    /// flows into it when that parameter is a map, or a reference to
    /// another container (rewritten into a synchronized<T> with the flagged
    /// containers its callers pass), and can change type. \p Passed is the
    /// caller's object the parameter then names, or null when it names none
    /// of the caller's objects.
    void addFlow(const FunctionDecl &Callee, unsigned Index,
                 const Expr &Argument, const Expr *Passed) {
      if (Index >= Callee.getNumParams())
        return;
      QualType Type = Callee.getParamDecl(Index)->getType();
      bool Container = !isStdMap(Type) && isSynchronizable(Type) &&
                       Type->isLValueReferenceType();
      if ((!isStdMap(Type) && !Container) ||
          !whyParameterStays(Callee, Index, SM, Container).empty())
        return;
      std::string USR = usrOf(&Callee);
      if (USR.empty())
        return;
      ParamFlow Flow{Passed ? argumentNode(*Passed, Type, Context) : "",
                     parameterId(USR, Index), Callee.getQualifiedNameAsString(),
                     where(Argument.getBeginLoc(), SM)};
      Flow.Container = Container;
      Flows.push_back(std::move(Flow));
    }

    ASTContext &Context;
    const SourceManager &SM;
  } Finder(Context);
  Finder.TraverseDecl(Context.getTranslationUnitDecl());
  return std::move(Finder.Flows);
}

RewriteTargets groupTargets(std::vector<FlaggedMap> Maps,
                            std::vector<ParamFlow> Flows) {
  // Union-find over the maps and parameters that calls connect.
  llvm::StringMap<unsigned> Index;
  std::vector<unsigned> Parent;
  std::vector<std::string> Ids;
  auto Node = [&](llvm::StringRef Id) {
    auto [It, Inserted] = Index.try_emplace(Id, Ids.size());
    if (Inserted) {
      Ids.push_back(Id.str());
      Parent.push_back(It->second);
    }
    return It->second;
  };
  auto Root = [&](unsigned N) {
    while (Parent[N] != N)
      N = Parent[N] = Parent[Parent[N]];
    return N;
  };
  for (const FlaggedMap &Map : Maps)
    Node(Map.USR);
  for (const ParamFlow &Flow : Flows) {
    unsigned To = Node(Flow.To);
    if (!Flow.From.empty())
      Parent[Root(Node(Flow.From))] = Root(To);
  }

  RewriteTargets Result;
  std::map<unsigned, unsigned> GroupOfRoot;
  std::vector<bool> Snapshot;
  llvm::StringSet<> Flagged;
  for (FlaggedMap &Map : Maps) {
    auto [It, Inserted] =
        GroupOfRoot.try_emplace(Root(Node(Map.USR)), Result.Groups.size());
    if (Inserted) {
      Result.Groups.emplace_back();
      Snapshot.push_back(true);
    }
    Map.Group = It->second;
    // One parameter takes one type: a sharded_map if any map passed to it
    // becomes one (the rule for a map flagged in several translation units).
    Snapshot[Map.Group] = Snapshot[Map.Group] && Map.Snapshot;
    Flagged.insert(Map.USR);
  }
  for (FlaggedMap &Map : Maps) {
    if (Map.Snapshot && !Snapshot[Map.Group])
      Map.Policy = "a sharded_map like another map its parameters take";
    Map.Snapshot = Snapshot[Map.Group];
  }

  auto GroupOf = [&](llvm::StringRef Id) -> std::optional<unsigned> {
    auto It = GroupOfRoot.find(Root(Node(Id)));
    if (It == GroupOfRoot.end())
      return std::nullopt;
    return It->second;
  };
  llvm::StringSet<> Params;
  for (const ParamFlow &Flow : Flows) {
    std::optional<unsigned> Group = GroupOf(Flow.To);
    if (!Group)
      continue;
    TargetGroup &G = Result.Groups[*Group];
    if (G.BlockedAt.Function.empty() &&
        (Flow.From.empty() ||
         (!isParameterId(Flow.From) && !Flagged.contains(Flow.From)))) {
      G.BlockedAt.Function = Flow.Function;
      G.BlockedAt.Clause =
          (llvm::Twine("which is also called with a ") +
           (Flow.Container ? "container" : "map") + " that is not rewritten")
              .str();
      G.BlockedAt.Location = Flow.Location;
    }
    if (!Params.insert(Flow.To).second)
      continue;
    llvm::StringRef Id = Flow.To, FunctionUSR, Position;
    std::tie(FunctionUSR, Position) =
        Id.drop_front(llvm::StringRef("param:").size()).rsplit('#');
    ParamTarget Target;
    Target.Id = Flow.To;
    Target.FunctionUSR = FunctionUSR.str();
    Position.getAsInteger(10, Target.Index);
    Target.Function = Flow.Function;
    Target.Snapshot = Snapshot[*Group];
    Target.Group = *Group;
    Target.Synchronized = Flow.Container;
    Result.Params.push_back(std::move(Target));
  }
  // A flagged parameter that no call reaches is still planned as one.
  for (const FlaggedMap &Map : Maps) {
    if (!isParameterId(Map.USR) || !Params.insert(Map.USR).second)
      continue;
    llvm::StringRef FunctionUSR, Position;
    std::tie(FunctionUSR, Position) =
        llvm::StringRef(Map.USR)
            .drop_front(llvm::StringRef("param:").size())
            .rsplit('#');
    ParamTarget Target;
    Target.Id = Map.USR;
    Target.FunctionUSR = FunctionUSR.str();
    Position.getAsInteger(10, Target.Index);
    Target.Snapshot = Map.Snapshot;
    Target.Group = Map.Group;
    Result.Params.push_back(std::move(Target));
  }
  Result.Maps = std::move(Maps);
  Result.Flows = std::move(Flows);
  return Result;
}

namespace {
/// Is \p Ref (naming a function) the callee of a call?
bool isCallee(const Expr &Ref, ASTContext &Context) {
  DynTypedNodeList Parents = Context.getParents(Ref);
  const Expr *Child = &Ref;
  while (!Parents.empty()) {
    // The function a binder given to a std::thread binds: the thread
    // start below calls it.
    if (const auto *Call = Parents[0].get<CallExpr>();
        Call && !(asBinder(*Call) && Call->getArg(0) == Child))
      return Call->getCallee()->IgnoreParenImpCasts() == &Ref;
    // The function a std::thread runs, with the arguments it is given
    // (findParamFlows records them as calls).
    if (const auto *Construct = Parents[0].get<CXXConstructExpr>()) {
      std::optional<ThreadStart> Start = threadStartOf(*Construct, Context);
      return Start && Start->CalleeRef == &Ref;
    }
    const auto *E = Parents[0].get<Expr>();
    if (!E || !(isa<ImplicitCastExpr, ParenExpr, UnaryOperator,
                    MaterializeTemporaryExpr, CXXBindTemporaryExpr>(E) ||
                asBinder(*E)))
      return false;
    Child = E;
    Parents = Context.getParents(*E);
  }
  return false;
}

/// Reports, with the edits and the reason, that two edits of a plan
/// overlap (`m[a] = m[b]`: they cannot both apply).
bool editsOverlap(const MapPlan &Plan) {
  std::vector<const tooling::Replacement *> Sorted;
  for (const tooling::Replacement &R : Plan.Edits)
    if (R.getOffset() != UINT_MAX)
      Sorted.push_back(&R);
  llvm::sort(Sorted, [](const auto *A, const auto *B) {
    return std::make_pair(A->getFilePath(), A->getOffset()) <
           std::make_pair(B->getFilePath(), B->getOffset());
  });
  for (size_t J = 1; J < Sorted.size(); ++J)
    if (Sorted[J]->getFilePath() == Sorted[J - 1]->getFilePath() &&
        Sorted[J]->getOffset() <
            Sorted[J - 1]->getOffset() + Sorted[J - 1]->getLength())
      return true;
  return false;
}
/// What a container planned by planSynchronized may be the same object as,
/// and the parameters rewritten with it.
struct SynchronizedGroup {
  unsigned Group = 0;
  const llvm::StringMap<unsigned> *ParamGroups = nullptr;
  /// Is the node given what may be the same object (this container, or a
  /// parameter or container of its group)?
  llvm::function_ref<bool(unsigned)> SameObject;
};

/// The plan of a flagged container that is not a map: its declarations
/// become concguard::synchronized<T> of the type as written, and every
/// statement that uses it one callback. For a parameter that flagged
/// containers are passed to (\p Params, its declarations), each
/// declaration's type becomes a reference to the synchronized<T> of the
/// type it refers to, and its uses in the function's body are planned the
/// same way.
void planSynchronized(
    ASTContext &Context, const RewriteOptions &Options, MapPlan &Plan,
    const DeclaratorDecl &Canonical,
    llvm::ArrayRef<std::pair<unsigned, const DeclaratorDecl *>> Decls,
    llvm::ArrayRef<std::pair<unsigned, const Expr *>> Uses, unsigned Node,
    const llvm::DenseMap<const Decl *, unsigned> &TargetDecls,
    const SynchronizedGroup &Same,
    llvm::ArrayRef<const ParmVarDecl *> Params = {},
    SourceLocation AddressTaken = {}) {
  const SourceManager &SM = Context.getSourceManager();
  auto Refuse = [&](SourceLocation Loc, llvm::StringRef Reason) {
    Plan.Reason = Reason.str();
    Plan.ReasonLocation = where(Loc, SM);
    Plan.ReasonLoc = Loc;
    Plan.Edits.clear();
  };
  const TypeSourceInfo *TSI = Canonical.getTypeSourceInfo();
  if (!TSI)
    return Refuse(Canonical.getLocation(),
                  "its type is not written in the source");
  SourceRange TypeRange = TSI->getTypeLoc().getSourceRange();
  if (!Params.empty()) {
    // `const std::vector<int> &p`: the container's type, without the
    // reference and the const.
    auto Reference = TSI->getTypeLoc().getAsAdjusted<LValueReferenceTypeLoc>();
    if (!Reference)
      return Refuse(Canonical.getLocation(), "whose parameter is not a "
                                             "reference");
    TypeRange = Reference.getPointeeLoc().getUnqualifiedLoc().getSourceRange();
  }
  if (TypeRange.isInvalid() || TypeRange.getBegin().isMacroID() ||
      TypeRange.getEnd().isMacroID())
    return Refuse(Canonical.getLocation(), "its type is spelled by a macro");
  MapType None;
  Planner P(Context, Plan, None, /*Snapshot=*/false);
  P.Synchronized =
      Lexer::getSourceText(CharSourceRange::getTokenRange(TypeRange), SM,
                           Context.getLangOpts())
          .str();
  P.Group = Same.Group;
  P.ParamGroups = Same.ParamGroups;
  Plan.Target = P.newType();
  for (const auto &[D, Other] : TargetDecls)
    if (Other == Node || Same.SameObject(Other))
      P.SameObject.insert(D);
  P.MaxCallDepth = Options.Analysis.MaxCallDepth;
  if (!Params.empty()) {
    if (AddressTaken.isValid())
      return Refuse(AddressTaken, "whose address is taken");
    for (const ParmVarDecl *Param : Params) {
      if (!P.parameter(*Param)) {
        Plan.Edits.clear();
        return;
      }
      P.addInclude(*Param);
    }
  }
  for (const auto &[Declared, Declaration] : Decls) {
    if (Declared != Node || !Params.empty())
      continue;
    // `std::vector<int> a, b;`: the type is written once for both.
    if (const auto *Var = dyn_cast<VarDecl>(Declaration))
      for (DynTypedNodeList Up = Context.getParents(*Var); !Up.empty();) {
        if (const auto *Statement = Up[0].get<DeclStmt>();
            Statement && !Statement->isSingleDecl())
          return Refuse(Var->getLocation(),
                        "it is declared together with other variables");
        break;
      }
    if (!P.declaration(*Declaration))
      return;
    P.addInclude(*Declaration);
  }
  std::vector<const Expr *> Mine;
  for (const auto &[Other, Use] : Uses) {
    if (Other == Node)
      Mine.push_back(Use);
    if (Other == Node || Same.SameObject(Other))
      P.AllUses.push_back(Use);
  }
  if (!P.containerUses(Mine)) {
    Plan.Edits.clear();
    // Inside the function: "the container is passed to 'f', where ..."
    if (!Params.empty())
      Plan.Reason = "where " + Plan.Reason;
    return;
  }
  if (editsOverlap(Plan))
    return Refuse(Canonical.getLocation(),
                  "two uses of it cannot be rewritten together");
  Plan.Rewritten = true;
}

} // namespace

std::vector<MapPlan> planMapRewrites(ASTContext &Context,
                                     const RewriteOptions &Options,
                                     const RewriteTargets &Targets) {
  const SourceManager &SM = Context.getSourceManager();
  // The nodes: flagged variables and members, then parameters (a flagged
  // parameter is planned as a parameter).
  struct Node {
    std::string Id, Name, Location;
    bool Snapshot = false;
    unsigned Group = 0;
    const ParamTarget *Param = nullptr;
    bool Synchronized = false;
  };
  std::vector<Node> Nodes;
  llvm::StringMap<unsigned> MapNodes;
  llvm::StringMap<llvm::SmallVector<unsigned, 1>> ParamsOfFunction;
  llvm::StringMap<unsigned> ParamGroups;
  for (const FlaggedMap &Map : Targets.Maps)
    if (!isParameterId(Map.USR)) {
      MapNodes[Map.USR] = Nodes.size();
      Nodes.push_back({Map.USR, Map.Name, Map.Location, Map.Snapshot, Map.Group,
                       nullptr, Map.Synchronized});
    }
  for (const ParamTarget &Param : Targets.Params) {
    ParamsOfFunction[Param.FunctionUSR].push_back(Nodes.size());
    ParamGroups[Param.Id] = Param.Group;
    Nodes.push_back({Param.Id, "", "", Param.Snapshot, Param.Group, &Param,
                     Param.Synchronized});
  }

  // The declarations of this translation unit that are targets: a map's
  // canonical declaration, a parameter of a function's definition.
  struct Index {
    llvm::DenseMap<const Decl *, unsigned> TargetDecls;
    std::vector<const Decl *> MapDecl;
    std::vector<std::vector<const ParmVarDecl *>> ParamDecls;
    std::vector<const FunctionDecl *> Definition;
    std::vector<SourceLocation> AddressTaken;
    std::vector<unsigned> Position; ///< of each parameter node
  } Found;
  Found.MapDecl.assign(Nodes.size(), nullptr);
  Found.ParamDecls.resize(Nodes.size());
  Found.Definition.assign(Nodes.size(), nullptr);
  Found.AddressTaken.resize(Nodes.size());
  class DeclIndex : public RecursiveASTVisitor<DeclIndex> {
  public:
    DeclIndex(ASTContext &Context, const llvm::StringMap<unsigned> &MapNodes,
              const llvm::StringMap<llvm::SmallVector<unsigned, 1>> &Params,
              Index &Out)
        : Context(Context), SM(Context.getSourceManager()), MapNodes(MapNodes),
          Params(Params), Out(Out) {}
    bool VisitDeclaratorDecl(DeclaratorDecl *D) {
      if (!isa<VarDecl, FieldDecl>(D) || isa<ParmVarDecl>(D) ||
          MapNodes.empty())
        return true;
      auto It = MapNodes.find(usrOf(D));
      if (It != MapNodes.end()) {
        Out.TargetDecls[D->getCanonicalDecl()] = It->second;
        Out.MapDecl[It->second] = D->getCanonicalDecl();
      }
      return true;
    }
    bool VisitFunctionDecl(FunctionDecl *F) {
      for (unsigned N : nodesOf(*F)) {
        if (Out.Position[N] >= F->getNumParams())
          continue;
        const ParmVarDecl *Param = F->getParamDecl(Out.Position[N]);
        Out.ParamDecls[N].push_back(Param);
        if (F->doesThisDeclarationHaveABody()) {
          Out.Definition[N] = F;
          Out.TargetDecls[Param] = N;
        }
      }
      return true;
    }
    // A function whose address is taken may be called with anything.
    bool VisitDeclRefExpr(DeclRefExpr *Ref) {
      if (const auto *F = dyn_cast<FunctionDecl>(Ref->getDecl()))
        noteReference(*F, *Ref);
      return true;
    }
    bool VisitMemberExpr(MemberExpr *Member) {
      if (const auto *F = dyn_cast<FunctionDecl>(Member->getMemberDecl()))
        noteReference(*F, *Member);
      return true;
    }

  private:
    ASTContext &Context;
    const SourceManager &SM;
    const llvm::StringMap<unsigned> &MapNodes;
    const llvm::StringMap<llvm::SmallVector<unsigned, 1>> &Params;
    Index &Out;
    llvm::DenseMap<const FunctionDecl *, llvm::ArrayRef<unsigned>> Cache;

    llvm::ArrayRef<unsigned> nodesOf(const FunctionDecl &F) {
      if (Params.empty())
        return {};
      const FunctionDecl *Canonical = F.getCanonicalDecl();
      auto [It, Inserted] = Cache.try_emplace(Canonical);
      if (Inserted && !SM.isInSystemHeader(Canonical->getLocation()))
        if (auto Found = Params.find(usrOf(Canonical)); Found != Params.end())
          It->second = Found->second;
      return It->second;
    }
    void noteReference(const FunctionDecl &F, const Expr &Ref) {
      for (unsigned N : nodesOf(F))
        if (Out.AddressTaken[N].isInvalid() && !isCallee(Ref, Context))
          Out.AddressTaken[N] = Ref.getBeginLoc();
    }
  };
  Found.Position.assign(Nodes.size(), 0);
  for (unsigned N = 0; N < Nodes.size(); ++N)
    if (Nodes[N].Param)
      Found.Position[N] = Nodes[N].Param->Index;
  DeclIndex(Context, MapNodes, ParamsOfFunction, Found)
      .TraverseDecl(Context.getTranslationUnitDecl());
  bool Any = !Found.TargetDecls.empty() ||
             llvm::any_of(Found.ParamDecls,
                          [](const auto &Decls) { return !Decls.empty(); });
  if (!Any)
    return {};

  UseFinder Finder(SM, Found.TargetDecls);
  Finder.TraverseDecl(Context.getTranslationUnitDecl());
  // Uses in source order, so that a consumed `m.end()` follows its find().
  std::vector<std::pair<unsigned, const Expr *>> Uses = Finder.Uses;
  llvm::sort(Uses, [&](const auto &A, const auto &B) {
    if (A.second->getBeginLoc() != B.second->getBeginLoc())
      return SM.isBeforeInTranslationUnit(A.second->getBeginLoc(),
                                          B.second->getBeginLoc());
    return A.first < B.first;
  });

  std::vector<MapPlan> Plans;
  for (unsigned N = 0; N < Nodes.size(); ++N) {
    const Node &Target = Nodes[N];
    bool IsParam = Target.Param != nullptr;
    if (IsParam ? Found.ParamDecls[N].empty() : !Found.MapDecl[N])
      continue;
    MapPlan Plan;
    Plan.USR = Target.Id;
    Plan.Name = Target.Name;
    Plan.Location = Target.Location;
    const ValueDecl *Typed = nullptr;
    if (IsParam) {
      const FunctionDecl *Definition = Found.Definition[N];
      const ParmVarDecl *Param =
          Definition ? Definition->getParamDecl(Target.Param->Index)
                     : Found.ParamDecls[N].front();
      const auto *Function = cast<FunctionDecl>(Param->getDeclContext());
      Plan.Name = Param->getName().str();
      Plan.Location = where(Param->getLocation(), SM);
      Plan.Function = Function->getQualifiedNameAsString();
      Plan.HasDefinition = Definition != nullptr;
      Typed = Param;
    } else {
      Typed = cast<ValueDecl>(Found.MapDecl[N]);
    }
    auto InMainFile = [&](SourceLocation Loc) {
      return SM.isInMainFile(SM.getExpansionLoc(Loc));
    };
    Plan.InMainFile =
        IsParam ? llvm::all_of(Found.ParamDecls[N],
                               [&](const ParmVarDecl *Param) {
                                 return InMainFile(Param->getLocation());
                               })
                : llvm::all_of(Finder.Decls, [&](const auto &Declared) {
                    return Declared.first != N ||
                           InMainFile(Declared.second->getLocation());
                  });
    Plan.InMainFile =
        Plan.InMainFile && llvm::all_of(Uses, [&](const auto &Use) {
          return Use.first != N || InMainFile(Use.second->getBeginLoc());
        });
    if (Target.Synchronized) {
      Plan.Synchronized = true;
      // A parameter may be any container of its group, and any parameter
      // of its group may be this container.
      auto SameObject = [&](unsigned Other) {
        return Other != N && Nodes[Other].Group == Target.Group &&
               (IsParam || Nodes[Other].Param != nullptr);
      };
      SynchronizedGroup Same{Target.Group, &ParamGroups, SameObject};
      if (IsParam)
        planSynchronized(Context, Options, Plan, *cast<DeclaratorDecl>(Typed),
                         Finder.Decls, Uses, N, Found.TargetDecls, Same,
                         Found.ParamDecls[N], Found.AddressTaken[N]);
      else
        planSynchronized(Context, Options, Plan, *cast<DeclaratorDecl>(Typed),
                         Finder.Decls, Uses, N, Found.TargetDecls, Same);
      Plans.push_back(std::move(Plan));
      continue;
    }
    std::string Reason;
    std::optional<MapType> Type = mapTypeOf(Typed->getType(), Context, Reason);
    if (!Type) {
      Plan.Reason =
          Reason.empty() ? "not a std::map or std::unordered_map" : Reason;
      if (IsParam)
        Plan.Reason = "whose parameter's type: " + Plan.Reason;
      Plan.ReasonLocation = Plan.Location;
      Plan.ReasonLoc = Typed->getLocation();
      Plans.push_back(std::move(Plan));
      continue;
    }
    Planner P(Context, Plan, *Type, Target.Snapshot);
    P.Group = Target.Group;
    P.ParamGroups = &ParamGroups;
    Plan.Target = P.newType();
    bool Ok = true;
    if (IsParam) {
      if (Found.AddressTaken[N].isValid()) {
        Plan.Reason = "whose address is taken";
        Plan.ReasonLocation = where(Found.AddressTaken[N], SM);
        Plan.ReasonLoc = Found.AddressTaken[N];
        Ok = false;
      }
      for (const ParmVarDecl *Param : Found.ParamDecls[N])
        if (Ok) {
          if (!Param->getType()->isReferenceType()) {
            Plan.Reason = "which takes it by value";
            Plan.ReasonLocation = where(Param->getLocation(), SM);
            Plan.ReasonLoc = Param->getLocation();
            Ok = false;
            break;
          }
          Ok = P.parameter(*Param);
          if (Ok)
            P.addInclude(*Param);
        }
    } else {
      for (const auto &[Declared, Declaration] : Finder.Decls)
        if (Declared == N && Ok) {
          Ok = P.declaration(*Declaration);
          if (Ok)
            P.addInclude(*Declaration);
        }
    }
    // What may be the same object as this map: a parameter may be any map
    // of its group, and any of its parameters may be this map.
    for (const auto &[Other, Use] : Uses)
      if (Other == N || (Nodes[Other].Group == Target.Group &&
                         (IsParam || Nodes[Other].Param != nullptr)))
        P.AllUses.push_back(Use);
    for (const auto &Use : Uses)
      P.EveryUse.push_back(Use.second);
    for (const auto &[D, Other] : Found.TargetDecls)
      if (Other == N || (Nodes[Other].Group == Target.Group &&
                         (IsParam || Nodes[Other].Param != nullptr)))
        P.SameObject.insert(D);
    P.MaxCallDepth = Options.Analysis.MaxCallDepth;
    bool UsesOk = true;
    for (const auto &[Other, Use] : Uses)
      if (Other == N && Ok && UsesOk)
        UsesOk = P.use(Use);
    // Inside the function: "the map is passed to 'f', where ..."
    if (!UsesOk) {
      Ok = false;
      if (IsParam)
        Plan.Reason = "where " + Plan.Reason;
    }
    // Two edits of one expression (`m[a] = m[b]`) cannot both apply.
    if (Ok && editsOverlap(Plan)) {
      Plan.Reason = IsParam ? "where the map is used twice in one expression "
                              "that must be rewritten"
                            : "the map is used twice in one expression that "
                              "must be rewritten";
      Plan.ReasonLocation = Plan.Location;
      Plan.ReasonLoc = Typed->getLocation();
      Ok = false;
    }
    Plan.Rewritten = Ok;
    if (!Ok)
      Plan.Edits.clear();
    Plans.push_back(std::move(Plan));
  }
  return Plans;
}

std::optional<TargetGroup::Blocker>
groupBlocker(const RewriteTargets &Targets, unsigned Group,
             llvm::ArrayRef<GroupMember> Members, bool NeedDefinitions) {
  auto FlowInto = [&](llvm::StringRef Id) -> const ParamFlow * {
    for (const ParamFlow &Flow : Targets.Flows)
      if (Flow.To == Id)
        return &Flow;
    return nullptr;
  };
  for (const GroupMember &M : Members) {
    if (M.Group != Group || !M.IsParam)
      continue;
    if (M.Planned && !M.Rewritten)
      return TargetGroup::Blocker{M.Function, M.Reason, M.ReasonLocation,
                                  M.ReasonLoc};
    if (NeedDefinitions && !M.HasDefinition) {
      const ParamFlow *Flow = FlowInto(M.Id);
      return TargetGroup::Blocker{
          M.Function, "whose definition is not in the files being rewritten",
          Flow ? Flow->Location : M.Location, SourceLocation()};
    }
  }
  if (Group < Targets.Groups.size() &&
      !Targets.Groups[Group].BlockedAt.Function.empty())
    return Targets.Groups[Group].BlockedAt;
  for (const GroupMember &M : Members) {
    if (M.Group != Group || !M.Flagged || M.IsParam || !M.Planned ||
        M.Rewritten)
      continue;
    for (const ParamFlow &Flow : Targets.Flows)
      if (Flow.From == M.Id)
        return TargetGroup::Blocker{Flow.Function,
                                    "which is also called with '" + M.Name +
                                        "', which is not rewritten",
                                    Flow.Location, SourceLocation()};
  }
  return std::nullopt;
}

std::string memberReason(const GroupMember &Member,
                         const std::optional<TargetGroup::Blocker> &Blocker) {
  if (Member.Planned && !Member.Rewritten)
    return Member.IsParam ? "it is a parameter of '" + Member.Function + "', " +
                                Member.Reason
                          : Member.Reason;
  if (!Blocker)
    return "";
  if (Blocker->Function.empty())
    return Blocker->Clause;
  if (Member.IsParam && Member.Function == Blocker->Function)
    return "it is a parameter of '" + Blocker->Function + "', " +
           Blocker->Clause;
  return std::string(Member.Synchronized ? "the container" : "the map") +
         " is passed to '" + Blocker->Function + "', " + Blocker->Clause;
}

std::string overlappingEditsReason(bool Synchronized) {
  return Synchronized ? "a statement that must be rewritten uses it and "
                        "another flagged container (two locks)"
                      : "an expression that must be rewritten uses it and "
                        "another map";
}

std::vector<MainFileRewrite>
planMainFileRewrites(ASTContext &Context, const RewriteOptions &Options,
                     const SharedContainerResult &Found) {
  std::vector<std::pair<const ValueDecl *, FlaggedMap>> Flagged =
      flaggedMapsOf(Context, Options, Found);
  if (Flagged.empty())
    return {};
  // The passes of concguard-rewrite, over this translation unit alone.
  std::vector<FlaggedMap> Maps;
  Maps.reserve(Flagged.size());
  for (const auto &[Decl, Map] : Flagged)
    Maps.push_back(Map);
  RewriteTargets Targets =
      groupTargets(std::move(Maps), findParamFlows(Context));
  std::vector<MapPlan> Plans = planMapRewrites(Context, Options, Targets);
  llvm::StringMap<const MapPlan *> PlanOf;
  for (const MapPlan &Plan : Plans)
    PlanOf[Plan.USR] = &Plan;

  // What each group shows, decided as concguard-rewrite decides it for a
  // whole project (groupBlocker, memberReason): a group is rewritten whole
  // or not at all.
  std::vector<GroupMember> Members;
  auto AddMember = [&](const std::string &Id, const std::string &Name,
                       unsigned Group, bool IsParam, bool Flagged,
                       bool Synchronized) {
    GroupMember M;
    M.Id = Id;
    M.Name = Name;
    M.Group = Group;
    M.IsParam = IsParam;
    M.Flagged = Flagged;
    M.Synchronized = Synchronized;
    if (const MapPlan *Plan = PlanOf.lookup(Id)) {
      M.Planned = true;
      M.Rewritten = Plan->Rewritten;
      M.HasDefinition = Plan->HasDefinition;
      M.Function = Plan->Function;
      M.Location = Plan->Location;
      M.Reason = Plan->Reason;
      M.ReasonLocation = Plan->ReasonLocation;
      M.ReasonLoc = Plan->ReasonLoc;
    }
    Members.push_back(std::move(M));
  };
  for (const ParamTarget &Param : Targets.Params) {
    AddMember(Param.Id, Param.Function, Param.Group, /*IsParam=*/true,
              /*Flagged=*/false, Param.Synchronized);
    if (Members.back().Function.empty())
      Members.back().Function = Param.Function;
  }
  for (const FlaggedMap &Map : Targets.Maps)
    if (!isParameterId(Map.USR)) // planned with the parameters
      AddMember(Map.USR, Map.Name, Map.Group, /*IsParam=*/false,
                /*Flagged=*/true, Map.Synchronized);

  struct GroupState {
    bool InMainFile = true;
    std::optional<TargetGroup::Blocker> Blocked;
    std::vector<tooling::Replacement> Edits;
    std::string Header;
  };
  std::vector<GroupState> Groups(Targets.Groups.size());
  for (unsigned G = 0; G < Groups.size(); ++G)
    Groups[G].Blocked =
        groupBlocker(Targets, G, Members, /*NeedDefinitions=*/false);
  for (const GroupMember &M : Members) {
    GroupState &Group = Groups[M.Group];
    const MapPlan *Plan = PlanOf.lookup(M.Id);
    // Nothing of it in this translation unit, or a parameter whose body is
    // elsewhere: it reaches another file.
    if (!Plan || (M.IsParam && Plan->Rewritten && !Plan->HasDefinition)) {
      Group.InMainFile = false;
      continue;
    }
    Group.InMainFile = Group.InMainFile && Plan->InMainFile;
    for (const tooling::Replacement &Edit : Plan->Edits) {
      if (Edit.getOffset() == UINT_MAX)
        Group.Header = Edit.getReplacementText()
                           .drop_front(llvm::StringRef("#include ").size())
                           .str();
      else
        Group.Edits.push_back(Edit);
    }
  }

  // Two groups' edits of one expression cannot both apply: the first group
  // keeps its edits, as in the driver.
  tooling::Replacements Taken;
  for (GroupState &Group : Groups) {
    if (Group.Blocked || !Group.InMainFile)
      continue;
    tooling::Replacements Mine = Taken;
    bool Conflict = false;
    for (const tooling::Replacement &Edit : Group.Edits)
      if (llvm::Error E = Mine.add(Edit)) {
        llvm::consumeError(std::move(E));
        Conflict = true;
        break;
      }
    if (Conflict)
      Group.Blocked = TargetGroup::Blocker{
          "",
          overlappingEditsReason(Group.Header ==
                                 "<concguard/synchronized.hpp>"),
          "", SourceLocation()};
    else
      Taken = std::move(Mine);
  }

  std::vector<MainFileRewrite> Result;
  for (const auto &[Decl, Map] : Flagged) {
    MainFileRewrite Entry;
    Entry.Decl = Decl;
    // groupTargets numbered the groups in this order.
    const FlaggedMap *Target = nullptr;
    for (const FlaggedMap &Candidate : Targets.Maps)
      if (Candidate.USR == Map.USR)
        Target = &Candidate;
    if (!Target)
      continue;
    Entry.Group = Target->Group;
    const GroupState &Group = Groups[Target->Group];
    const MapPlan *Own = PlanOf.lookup(Map.USR);
    // A flagged parameter is a member of its group as a parameter.
    auto Member = llvm::find_if(
        Members, [&](const GroupMember &M) { return M.Id == Map.USR; });
    // Every flagged map is a member of its group (groupTargets makes a
    // flagged parameter a ParamTarget even when no call reaches it).
    if (Member == Members.end())
      continue;
    const GroupMember &Self = *Member;
    if (Own && !Own->Rewritten) {
      Entry.Reason = memberReason(Self, std::nullopt);
      Entry.ReasonLoc = Own->ReasonLoc;
    } else if (Group.Blocked) {
      Entry.Reason = memberReason(Self, Group.Blocked);
      Entry.ReasonLoc = Group.Blocked->Loc;
    } else if (Own && Group.InMainFile && !Group.Header.empty()) {
      Entry.Offered = true;
      Entry.Edits = Group.Edits;
      Entry.Header = Group.Header;
    }
    Result.push_back(std::move(Entry));
  }
  return Result;
}

} // namespace clang::tidy::concguard::utils
