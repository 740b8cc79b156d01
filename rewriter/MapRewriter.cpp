//===--- MapRewriter.cpp - plan the rewrite of racy maps
//-------------------===//

#include "MapRewriter.h"

#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Analysis/Analyses/ExprMutationAnalyzer.h"
#include "clang/Index/USRGeneration.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>
#include <optional>

namespace clang::concguard {

using tidy::concguard::utils::analyzeSharedContainers;
using tidy::concguard::utils::SharedContainer;

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
    if (isa<VarDecl, FieldDecl>(D) && !SM.isInSystemHeader(D->getLocation()))
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
  void addInclude(const DeclaratorDecl &D);

  std::string newType() const {
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
    return false;
  }

  std::string text(SourceRange Range) const {
    return Lexer::getSourceText(CharSourceRange::getTokenRange(Range), SM,
                                LangOpts)
        .str();
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

  bool subscript(const CXXOperatorCallExpr &Sub, const Expr *Use);
  bool memberCall(const CXXMemberCallExpr &Call, const Expr *Use);
  bool rangeFor(const CXXForRangeStmt &For, const Expr *Use);
  bool keptIterator(const CXXMemberCallExpr &Find, const Expr *Use,
                    const VarDecl &It);
  bool forEach(const CXXForRangeStmt &For, const Expr *Use,
               const std::string &Map);

public:
  /// Every use of the map in this translation unit, in source order.
  std::vector<const Expr *> AllUses;
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
  SourceRange TypeRange = TSI->getTypeLoc().getSourceRange();
  if (TypeRange.getBegin().isMacroID() || TypeRange.getEnd().isMacroID())
    return skipAt(D.getLocation(), "its type is spelled by a macro");
  Plan.Edits.emplace_back(SM, CharSourceRange::getTokenRange(TypeRange),
                          newType(), LangOpts);
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
    return skip(Use, "the map is used with an operator the concurrent map "
                     "does not have");
  }
  if (isa<CallExpr>(P))
    return skip(Use, "the map is passed to a function");
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
  // m[k].f(args);  ->  m.upsert(k, [&](auto &value) { value.f(args); });
  if (const auto *Member = dyn_cast_or_null<MemberExpr>(P)) {
    const auto *Call = dyn_cast_or_null<CXXMemberCallExpr>(parent(Member));
    if (!Call || Call->getCallee()->IgnoreParens() != Member)
      return skip(Member, "a member of m[k] is used without a call");
    const CXXMethodDecl *Method = Call->getMethodDecl();
    bool Modifies = Method && !Method->isConst();
    if (Modifies) {
      if (!isStatement(Call))
        return skip(Call, "the result of a modifying call on m[k] is used");
      std::string Name = freshName({Key, text(Call->getSourceRange())});
      std::string Rest =
          Lexer::getSourceText(
              CharSourceRange::getCharRange(
                  Lexer::getLocForEndOfToken(Sub.getEndLoc(), 0, SM, LangOpts),
                  Lexer::getLocForEndOfToken(Call->getEndLoc(), 0, SM,
                                             LangOpts)),
              SM, LangOpts)
              .str();
      return replace(Call->getSourceRange(),
                     Map + ".upsert(" + Key + ", [&](auto &" + Name + ") { " +
                         Name + Rest + "; })",
                     Call);
    }
  }
  // A read of m[k] inserts a default value when the key is missing; so does
  // get_or_insert_default, which returns a copy.
  if (boundToReference(&Sub))
    return skip(&Sub, "a reference into the map escapes");
  if (Sub.isLValue()) {
    // Bound to a reference parameter, or written in another way.
    if (const auto *Call = dyn_cast_or_null<CallExpr>(P)) {
      for (unsigned I = 0; I < Call->getNumArgs(); ++I)
        if (Call->getArg(I)->IgnoreImplicit() == Sub.IgnoreImplicit())
          if (const FunctionDecl *Callee = Call->getDirectCallee();
              !Callee || I >= Callee->getNumParams() ||
              (Callee->getParamDecl(I)->getType()->isReferenceType() &&
               !Callee->getParamDecl(I)
                    ->getType()
                    ->getPointeeType()
                    .isConstQualified()))
            return skip(Call, "m[k] is passed by non-const reference");
    }
    if (const auto *Unary = dyn_cast_or_null<UnaryOperator>(P);
        Unary && Unary->getOpcode() == UO_AddrOf)
      return skip(Unary, "the address of m[k] is taken");
  }
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
  if ((Name == "count" || Name == "contains") && Call.getNumArgs() == 1)
    return true;
  if (Name == "erase" && Call.getNumArgs() == 1 && KeyArg(0))
    return true;
  if (Name == "reserve" && !Snapshot)
    return true;
  if (Name == "at" && Call.getNumArgs() == 1) {
    // The concurrent map's at() returns a copy: fine where the element is
    // only read.
    const Expr *Child = nullptr;
    const Stmt *P = semanticParent(&Call, Child);
    if (boundToReference(&Call))
      return skip(&Call, "a reference into the map escapes");
    if (const auto *Member = dyn_cast_or_null<MemberExpr>(P))
      if (const auto *Inner =
              dyn_cast_or_null<CXXMemberCallExpr>(parent(Member));
          Inner && Inner->getMethodDecl() && !Inner->getMethodDecl()->isConst())
        return skip(Inner, "an element is modified through at()");
    if (const auto *Op = dyn_cast_or_null<CXXOperatorCallExpr>(P);
        Op && Op->isAssignmentOp() && Op->getNumArgs() > 0 &&
        Op->getArg(0)->IgnoreImplicit() == Call.IgnoreImplicit())
      return skip(Op, "an element is assigned through at()");
    if (const auto *Bin = dyn_cast_or_null<BinaryOperator>(P);
        Bin && Bin->isAssignmentOp() &&
        Bin->getLHS()->IgnoreImplicit() == Call.IgnoreImplicit())
      return skip(Bin, "an element is assigned through at()");
    if (const auto *Unary = dyn_cast_or_null<UnaryOperator>(P);
        Unary &&
        (Unary->isIncrementDecrementOp() || Unary->getOpcode() == UO_AddrOf))
      return skip(Unary, "an element is modified through at()");
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
    } else if (const auto *Bin = dyn_cast_or_null<BinaryOperator>(P);
               Bin && Bin->isEqualityOp()) {
      Equal = Bin->getOpcode() == BO_EQ;
      Other = Bin->getLHS()->IgnoreImplicit() == Call.IgnoreImplicit()
                  ? Bin->getRHS()
                  : Bin->getLHS();
      Whole = Bin->getSourceRange();
    }
    // C++20 rewrites `a != b` into `!(a == b)`.
    if (Other)
      for (DynTypedNodeList Up = Context.getParents(*P); !Up.empty();
           Up = Context.getParents(Up[0])) {
        if (const auto *Rewritten = Up[0].get<CXXRewrittenBinaryOperator>()) {
          Equal = Rewritten->getOpcode() == BO_EQ;
          Whole = Rewritten->getSourceRange();
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
#define CONCGUARD_NESTED_LOOP(Class)                                           \
  bool Traverse##Class(Class *S) {                                             \
    ++Depth;                                                                   \
    bool Result = RecursiveASTVisitor::Traverse##Class(S);                     \
    --Depth;                                                                   \
    return Result;                                                             \
  }
  CONCGUARD_NESTED_LOOP(ForStmt)
  CONCGUARD_NESTED_LOOP(WhileStmt)
  CONCGUARD_NESTED_LOOP(DoStmt)
  CONCGUARD_NESTED_LOOP(CXXForRangeStmt)
#undef CONCGUARD_NESTED_LOOP
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
} // namespace

/// `for (const auto &[K, V] : m) body` -> `m.for_each([&](const auto &K,
/// const auto &V) { body });` with the loop's own `continue`s turned into
/// `return`: no copy of the map. Only when the body has no `return`,
/// `goto` or `break` of the loop, and does not use the map (a callback
/// runs under the map's lock and must not call back into it).
bool Planner::forEach(const CXXForRangeStmt &For, const Expr *Use,
                      const std::string &Map) {
  const auto *Decomp =
      dyn_cast_or_null<DecompositionDecl>(For.getLoopVariable());
  if (!Decomp || Decomp->bindings().size() != 2)
    return false;
  QualType Bound = Decomp->getType();
  if (!Bound->isReferenceType() || !Bound->getPointeeType().isConstQualified())
    return false;
  const Stmt *Body = For.getBody();
  if (Body->getBeginLoc().isMacroID() || Body->getEndLoc().isMacroID() ||
      For.getBeginLoc().isMacroID())
    return false;
  BodyScan Scan;
  Scan.TraverseStmt(const_cast<Stmt *>(Body));
  if (Scan.Blocked)
    return false;
  for (const Expr *Other : AllUses)
    if (Other != Use &&
        SM.isBeforeInTranslationUnit(Body->getBeginLoc(),
                                     Other->getBeginLoc()) &&
        SM.isBeforeInTranslationUnit(Other->getBeginLoc(), Body->getEndLoc()))
      return false;
  // Edits around the body, so that everything inside it (comments too)
  // stays: the header becomes the call, the loop's own `continue`s become
  // `return`s, and the call is closed after the body.
  if (For.getRParenLoc().isInvalid())
    return false;
  std::string Header = Map + ".for_each([&](const auto &" +
                       Decomp->bindings()[0]->getName().str() +
                       ", const auto &" +
                       Decomp->bindings()[1]->getName().str() + ")";
  std::vector<tooling::Replacement> Edits;
  Edits.emplace_back(
      SM, CharSourceRange::getTokenRange(For.getBeginLoc(), For.getRParenLoc()),
      Header, LangOpts);
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
  TypeSourceInfo *TSI = It.getTypeSourceInfo();
  if (!TSI || !TSI->getType()->getContainedAutoType() ||
      It.getType()->isReferenceType())
    return Skip();
  const FunctionDecl *Function = nullptr;
  for (DynTypedNodeList Up = Context.getParents(It); !Up.empty();
       Up = Context.getParents(Up[0]))
    if ((Function = Up[0].get<FunctionDecl>()))
      break;
  if (!Function || !Function->getBody())
    return Skip();
  // Every use of the iterator.
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
  } Finder(It);
  Finder.TraverseStmt(const_cast<Stmt *>(Function->getBody()));
  if (Finder.Found.empty())
    return Skip();
  std::string Map = text(Use->getSourceRange());
  std::vector<std::pair<SourceRange, std::string>> Edits;
  llvm::SmallVector<const Expr *, 4> EndObjects;
  SourceLocation Last = Find.getEndLoc();
  for (const DeclRefExpr *Ref : Finder.Found) {
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
      if (!Member || !Member->getMemberDecl()->getIdentifier() ||
          Member->getMemberDecl()->getName() != "second")
        return Skip();
      // Only read: not assigned, incremented or called non-const.
      const Stmt *Up = parent(Member);
      while (Up && isa<ImplicitCastExpr, ParenExpr>(Up))
        Up = parent(Up);
      if (const auto *Bin = dyn_cast_or_null<BinaryOperator>(Up);
          Bin && Bin->isAssignmentOp() &&
          Bin->getLHS()->IgnoreParenImpCasts() == Member)
        return Skip();
      if (const auto *Un = dyn_cast_or_null<UnaryOperator>(Up);
          Un && (Un->isIncrementDecrementOp() || Un->getOpcode() == UO_AddrOf))
        return Skip();
      if (const auto *Call = dyn_cast_or_null<CXXOperatorCallExpr>(Up);
          Call && Call->isAssignmentOp())
        return Skip();
      if (const auto *Inner = dyn_cast_or_null<MemberExpr>(Up))
        if (const auto *Call =
                dyn_cast_or_null<CXXMemberCallExpr>(parent(Inner));
            Call && Call->getMethodDecl() && !Call->getMethodDecl()->isConst())
          return Skip();
      if (boundToReference(Member) && !Member->getType().isConstQualified())
        return Skip();
      Edits.push_back(
          {Member->getSourceRange(), "(*" + text(Ref->getSourceRange()) + ")"});
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

void Planner::addInclude(const DeclaratorDecl &D) {
  // A marker replacement: the driver turns it into an #include placed by
  // tooling::HeaderIncludes in the declaring file.
  std::string Header =
      Snapshot ? "<concguard/snapshot_map.hpp>" : "<concguard/sharded_map.hpp>";
  SourceLocation Loc = SM.getExpansionLoc(D.getLocation());
  llvm::StringRef File = SM.getFilename(Loc);
  Plan.Edits.emplace_back(File, UINT_MAX, 0, "#include " + Header);
}

/// The policy rule of --policy=auto: a std::map keeps its order only in a
/// snapshot_map over a std::map; otherwise a map whose writes are all
/// outside loops and are at most a quarter of its uses is read-mostly and
/// becomes a snapshot_map; every other map becomes a sharded_map.
bool chooseSnapshot(const SharedContainer &Container, const MapType &Type,
                    MapPolicy Policy, ASTContext &Context) {
  if (Policy != MapPolicy::Auto)
    return Policy == MapPolicy::Snapshot;
  if (Type.Ordered)
    return true;
  unsigned Reads = 0, Writes = 0;
  bool WriteInLoop = false;
  for (const auto *Access : Container.Accesses) {
    if (Access->Kind == tidy::concguard::utils::AccessKind::Read) {
      ++Reads;
      continue;
    }
    ++Writes;
    for (DynTypedNodeList Parents = Context.getParents(*Access->Operation);
         !Parents.empty(); Parents = Context.getParents(Parents[0])) {
      if (Parents[0].get<FunctionDecl>())
        break;
      const auto *S = Parents[0].get<Stmt>();
      if (S && isa<ForStmt, WhileStmt, DoStmt, CXXForRangeStmt>(S))
        WriteInLoop = true;
    }
  }
  return !WriteInLoop && Writes * 4 <= Reads + Writes;
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

} // namespace

std::vector<FlaggedMap> findFlaggedMaps(ASTContext &Context,
                                        const RewriteOptions &Options) {
  std::vector<FlaggedMap> Result;
  tidy::concguard::utils::SharedContainerResult Found =
      analyzeSharedContainers(Context, Options.Analysis);
  for (const SharedContainer &Container : Found.Racy) {
    const ValueDecl *D = Container.Decl;
    if (!isa<VarDecl, FieldDecl>(D))
      continue;
    std::string Reason;
    QualType T = D->getType().getNonReferenceType();
    const CXXRecordDecl *Record = T->getAsCXXRecordDecl();
    if (!Record || !Record->isInStdNamespace() || !Record->getIdentifier() ||
        (Record->getName() != "map" && Record->getName() != "unordered_map"))
      continue;
    std::string Name = D->getQualifiedNameAsString();
    if (!matchesOnly(Name, Options.Only))
      continue;
    std::optional<MapType> Type = mapTypeOf(D->getType(), Context, Reason);
    bool Snapshot =
        Type && chooseSnapshot(Container, *Type, Options.Policy, Context);
    Result.push_back({usrOf(D), Name,
                      where(D->getLocation(), Context.getSourceManager()),
                      Snapshot});
  }
  return Result;
}

std::vector<MapPlan> planMapRewrites(ASTContext &Context,
                                     const RewriteOptions &Options,
                                     const std::vector<FlaggedMap> &Targets) {
  const SourceManager &SM = Context.getSourceManager();
  // The declarations of this translation unit that are targets.
  llvm::DenseMap<const Decl *, unsigned> TargetDecls;
  class DeclIndex : public RecursiveASTVisitor<DeclIndex> {
  public:
    DeclIndex(const std::vector<FlaggedMap> &Targets,
              llvm::DenseMap<const Decl *, unsigned> &Out)
        : Targets(Targets), Out(Out) {}
    bool VisitDeclaratorDecl(DeclaratorDecl *D) {
      if (!isa<VarDecl, FieldDecl>(D) || isa<ParmVarDecl>(D))
        return true;
      std::string USR = usrOf(D);
      for (unsigned I = 0; I < Targets.size(); ++I)
        if (Targets[I].USR == USR)
          Out[D->getCanonicalDecl()] = I;
      return true;
    }

  private:
    const std::vector<FlaggedMap> &Targets;
    llvm::DenseMap<const Decl *, unsigned> &Out;
  } Index(Targets, TargetDecls);
  Index.TraverseDecl(Context.getTranslationUnitDecl());
  if (TargetDecls.empty())
    return {};

  UseFinder Finder(SM, TargetDecls);
  Finder.TraverseDecl(Context.getTranslationUnitDecl());

  std::vector<MapPlan> Plans;
  for (const auto &[D, I] : TargetDecls) {
    MapPlan Plan;
    Plan.USR = Targets[I].USR;
    Plan.Name = Targets[I].Name;
    Plan.Location = Targets[I].Location;
    const auto *Declarator = cast<DeclaratorDecl>(D);
    std::string Reason;
    std::optional<MapType> Type =
        mapTypeOf(Declarator->getType(), Context, Reason);
    if (!Type) {
      Plan.Reason =
          Reason.empty() ? "not a std::map or std::unordered_map" : Reason;
      Plan.ReasonLocation = Plan.Location;
      Plans.push_back(std::move(Plan));
      continue;
    }
    bool Snapshot = Targets[I].Snapshot;
    Planner P(Context, Plan, *Type, Snapshot);
    Plan.Target = P.newType();
    bool Ok = true;
    for (const auto &[Target, Declared] : Finder.Decls)
      if (Target == I && Ok) {
        Ok = P.declaration(*Declared);
        if (Ok)
          P.addInclude(*Declared);
      }
    // Uses in source order, so that a consumed `m.end()` follows its find().
    std::vector<const Expr *> Uses;
    for (const auto &[Target, Use] : Finder.Uses)
      if (Target == I)
        Uses.push_back(Use);
    llvm::sort(Uses, [&](const Expr *A, const Expr *B) {
      return SM.isBeforeInTranslationUnit(A->getBeginLoc(), B->getBeginLoc());
    });
    P.AllUses = Uses;
    for (const Expr *Use : Uses)
      if (Ok)
        Ok = P.use(Use);
    // Two edits of one expression (`m[a] = m[b]`) cannot both apply.
    if (Ok) {
      std::vector<const tooling::Replacement *> Sorted;
      for (const tooling::Replacement &R : Plan.Edits)
        if (R.getOffset() != UINT_MAX)
          Sorted.push_back(&R);
      llvm::sort(Sorted, [](const auto *A, const auto *B) {
        return std::make_pair(A->getFilePath(), A->getOffset()) <
               std::make_pair(B->getFilePath(), B->getOffset());
      });
      for (size_t J = 1; J < Sorted.size() && Ok; ++J)
        if (Sorted[J]->getFilePath() == Sorted[J - 1]->getFilePath() &&
            Sorted[J]->getOffset() <
                Sorted[J - 1]->getOffset() + Sorted[J - 1]->getLength()) {
          Plan.Reason = "the map is used twice in one expression that must "
                        "be rewritten";
          Plan.ReasonLocation = Plan.Location;
          Ok = false;
        }
    }
    Plan.Rewritten = Ok;
    if (!Ok)
      Plan.Edits.clear();
    Plans.push_back(std::move(Plan));
  }
  return Plans;
}

} // namespace clang::concguard
