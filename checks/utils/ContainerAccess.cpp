//===--- ContainerAccess.cpp - is this use of a container a write? --------===//

#include "ContainerAccess.h"

#include "ExprUtils.h"

#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/Basic/SourceManager.h"

namespace clang::tidy::concguard::utils {

const Stmt *ContainerAccessClassifier::parentOf(const Stmt *S) {
  // A DeclStmt is the ParentMap's parent of a variable's initializer; it
  // is no operation on the value, like the VarDecl the ASTContext names.
  const Stmt *Parent = BodyParents.getParent(S);
  return isa_and_nonnull<DeclStmt>(Parent) ? nullptr : Parent;
}

const Stmt *ContainerAccessClassifier::semanticParent(const Expr *E,
                                                      const Expr *&Child) {
  Child = E;
  const Stmt *Parent = parentOf(E);
  while (Parent && isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr,
                       CXXBindTemporaryExpr>(Parent)) {
    Child = cast<Expr>(Parent);
    Parent = parentOf(Parent);
  }
  return Parent;
}

/// Is the value \p E (an element handed out by the container) written by
/// its user?
bool ContainerAccessClassifier::resultIsWritten(const Expr *E) {
  const Expr *Child = nullptr;
  const Stmt *Parent = semanticParent(E, Child);
  if (!Parent)
    return false;
  if (const auto *Binary = dyn_cast<BinaryOperator>(Parent))
    return Binary->isAssignmentOp() &&
           Binary->getLHS()->IgnoreParenImpCasts() ==
               Child->IgnoreParenImpCasts();
  if (const auto *Unary = dyn_cast<UnaryOperator>(Parent))
    return Unary->isIncrementDecrementOp();
  if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(Parent)) {
    if (Op->getNumArgs() == 0 ||
        ignoreWrappers(Op->getArg(0)) != ignoreWrappers(Child))
      return false;
    if (Op->isAssignmentOp() || Op->getOperator() == OO_PlusPlus ||
        Op->getOperator() == OO_MinusMinus)
      return true;
    if (const auto *Method =
            dyn_cast_or_null<CXXMethodDecl>(Op->getCalleeDecl()))
      return !Method->isConst() && Op->getOperator() != OO_Subscript &&
             Op->getOperator() != OO_Call;
    return false;
  }
  if (const auto *Member = dyn_cast<MemberExpr>(Parent)) {
    // `elem.push_back(x)`, `elem.field = x`.
    const Stmt *Grand = parentOf(Member);
    if (const auto *Call = dyn_cast_or_null<CXXMemberCallExpr>(Grand)) {
      const CXXMethodDecl *Method = Call->getMethodDecl();
      if (!Method || Method->isConst())
        return false;
      if (std::optional<ContainerOp> Op = Model.classify(*Call))
        return ContainerModel::accessKind(*Op) != AccessKind::Read ||
               resultIsWritten(Call);
      return true;
    }
    if (isa<FieldDecl>(Member->getMemberDecl()))
      return resultIsWritten(Member);
  }
  return false;
}

/// Does the library template \p Callee take its argument \p Index by
/// forwarding reference (`std::make_unique<T>(Args &&...)`, `emplace_back`)
/// and hand it on without modifying it? What happens to a forwarded
/// argument is decided where it arrives (a `const T &` constructor
/// parameter reads it), so the instantiated body is followed with
/// ExprMutationAnalyzer; found as false positives on rocksdb's
/// `std::make_unique<CompactionRangeDelAggregator>(..., snapshots, ...)`.
bool ContainerAccessClassifier::forwardsUnmodified(const FunctionDecl &Callee,
                                                   unsigned Index) {
  const FunctionDecl *Pattern = Callee.getTemplateInstantiationPattern();
  const FunctionDecl *Definition = Callee.getDefinition();
  if (!Pattern || !Definition || !Definition->hasBody() ||
      Index >= Definition->getNumParams())
    return false;
  // The pattern's parameter this one was instantiated from: a pack
  // (`Args &&...args`) covers every argument from its position on.
  const ParmVarDecl *Written = nullptr;
  for (unsigned P = 0; P < Pattern->getNumParams(); ++P) {
    const ParmVarDecl *Candidate = Pattern->getParamDecl(P);
    if (P == Index || (Candidate->isParameterPack() && P <= Index)) {
      Written = Candidate;
      break;
    }
  }
  if (!Written)
    return false;
  QualType Type = Written->getType();
  if (const auto *Expansion = Type->getAs<PackExpansionType>())
    Type = Expansion->getPattern();
  const auto *RValueRef = Type->getAs<RValueReferenceType>();
  QualType Referenced = RValueRef ? RValueRef->getPointeeType() : QualType();
  if (Referenced.isNull() || Referenced.hasQualifiers() ||
      !Referenced->getAs<TemplateTypeParmType>())
    return false; // not a forwarding reference
  FunctionParmMutationAnalyzer *Analyzer =
      FunctionParmMutationAnalyzer::getFunctionParmMutationAnalyzer(
          *Definition, Context, MutationMemo);
  return Analyzer && !Analyzer->isMutated(Definition->getParamDecl(Index));
}

AccessKind ContainerAccessClassifier::classify(const Expr *Object,
                                               const Expr *&Operation) {
  Operation = Object;
  const Expr *Child = nullptr;
  const Stmt *Parent = semanticParent(Object, Child);
  if (!Parent)
    return AccessKind::Read;
  // `m.method(...)`: the object is the base of the callee MemberExpr.
  if (const auto *Member = dyn_cast<MemberExpr>(Parent)) {
    const auto *Call = dyn_cast_or_null<CXXMemberCallExpr>(parentOf(Member));
    if (!Call || Call->getCallee()->IgnoreParens() != Member)
      return AccessKind::Read;
    Operation = Call;
    std::optional<ContainerOp> Op = Model.classify(*Call);
    if (!Op)
      return AccessKind::Read;
    AccessKind Kind = ContainerModel::accessKind(*Op);
    if (Kind == AccessKind::Read && Call->getMethodDecl() &&
        !Call->getMethodDecl()->isConst() &&
        Call->getMethodDecl()->getReturnType()->isReferenceType() &&
        resultIsWritten(Call))
      return AccessKind::ElementWrite;
    return Kind;
  }
  if (const auto *OpCall = dyn_cast<CXXOperatorCallExpr>(Parent)) {
    if (OpCall->getNumArgs() == 0 ||
        ignoreWrappers(OpCall->getArg(0)) != ignoreWrappers(Object))
      return AccessKind::Read;
    Operation = OpCall;
    std::optional<ContainerOp> Op = Model.classify(*OpCall);
    if (!Op)
      return AccessKind::Read;
    AccessKind Kind = ContainerModel::accessKind(*Op);
    if (Kind == AccessKind::Read && resultIsWritten(OpCall))
      return AccessKind::ElementWrite;
    return Kind;
  }
  // Passed to a function: by non-const reference or pointer to code we
  // cannot see counts as a modification; visible callees are followed.
  const Expr *Arg = Child;
  const Stmt *CallSite = Parent;
  if (const auto *AddrOf = dyn_cast<UnaryOperator>(Parent);
      AddrOf && AddrOf->getOpcode() == UO_AddrOf) {
    Arg = AddrOf;
    CallSite = parentOf(AddrOf);
    while (CallSite && isa<ImplicitCastExpr, ParenExpr>(CallSite))
      CallSite = parentOf(CallSite);
  }
  if (const auto *Call = dyn_cast_or_null<CallExpr>(CallSite)) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    unsigned Shift =
        isa<CXXOperatorCallExpr>(Call) && Callee && isa<CXXMethodDecl>(Callee)
            ? 1
            : 0;
    for (unsigned I = 0; I < Call->getNumArgs(); ++I) {
      if (ignoreWrappers(Call->getArg(I)) != ignoreWrappers(Arg))
        continue;
      if (!Callee || I < Shift || I - Shift >= Callee->getNumParams())
        return AccessKind::StructuralWrite;
      QualType Param = Callee->getParamDecl(I - Shift)->getType();
      QualType Pointee = Param->isReferenceType() ? Param->getPointeeType()
                         : Param->isPointerType() ? Param->getPointeeType()
                                                  : QualType();
      if (Pointee.isNull() || Pointee.isConstQualified())
        return AccessKind::Read;
      const FunctionDecl *Definition = Callee->getDefinition();
      if (Definition && Definition->hasBody() &&
          !Context.getSourceManager().isInSystemHeader(
              Definition->getLocation()))
        return AccessKind::Read; // followed as a call
      if (forwardsUnmodified(*Callee, I - Shift))
        return AccessKind::Read;
      Operation = Call;
      // std::swap, std::sort(container), ...: may modify.
      return AccessKind::StructuralWrite;
    }
  }
  return AccessKind::Read;
}

bool ContainerAccessClassifier::copiesWhole(const Expr *Object) {
  const Expr *Child = nullptr;
  const Stmt *Parent = semanticParent(Object, Child);
  if (const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(Parent))
    return Construct->getConstructor()->isCopyConstructor() &&
           Construct->getNumArgs() >= 1 &&
           ignoreWrappers(Construct->getArg(0)) == ignoreWrappers(Object);
  if (const auto *Assign = dyn_cast_or_null<CXXOperatorCallExpr>(Parent)) {
    const auto *Method =
        dyn_cast_or_null<CXXMethodDecl>(Assign->getDirectCallee());
    return Method && Method->isCopyAssignmentOperator() &&
           Assign->getNumArgs() == 2 &&
           ignoreWrappers(Assign->getArg(1)) == ignoreWrappers(Object);
  }
  return false;
}

} // namespace clang::tidy::concguard::utils
