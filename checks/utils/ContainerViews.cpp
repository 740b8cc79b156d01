//===--- ContainerViews.cpp - views into containers that may change -------===//
//
// The analysis, per function that creates a view:
//  1. one pass over the body finds the views (a local variable, a field of a
//     local aggregate, or the hidden iterator of a range-for, initialised or
//     assigned from an expression that points into a container), the
//     operations that may invalidate views (container members, calls that
//     reach a container through a non-const reference, pointer or `this`),
//     and the uses of each view;
//  2. a forward may-analysis on the CFG carries, per view, where it was
//     obtained and whether an invalidating operation has been seen since;
//     a use of an invalidated view is a StaleViewUse, with both places.
// Containers are named by access paths (`m`, `this->items`, `m[k]`), so a
// view into an inner container is invalidated by operations on that inner
// container, and by operations on the outer one only when they destroy or
// relocate the inner element.
//

#include "utils/ContainerViews.h"
#include "utils/ExprUtils.h"
#include "utils/StdNames.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Analysis/CFG.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/FoldingSet.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <map>
#include <memory>
#include <tuple>

using namespace clang::ast_matchers;

namespace clang::tidy::concguard::utils {

namespace {

using utils::ContainerFamily;
using utils::ContainerOp;
using utils::ViewScope;

/// How deep calls are followed to find an invalidation in a callee.
constexpr unsigned MaxCallDepth = 3;

//===----------------------------------------------------------------------===//
// Access paths
//===----------------------------------------------------------------------===//

/// One step of an access path: a root (a variable or `this`), a field, or an
/// element selected by a key (`[k]`, `.at(k)`, `.front()`, `.back()`).
struct Step {
  enum KindTy : unsigned char { Var, This, Field, Elem } Kind;
  const void *Decl = nullptr; ///< VarDecl (Var) or FieldDecl (Field)
  unsigned Key = 0;           ///< Elem: hash of the key expression
  /// The family of the object this prefix of the path denotes, if a
  /// container.
  std::optional<ContainerFamily> Family;

  bool operator==(const Step &Other) const {
    return Kind == Other.Kind && Decl == Other.Decl && Key == Other.Key;
  }
  bool operator!=(const Step &Other) const { return !(*this == Other); }
};
using Path = llvm::SmallVector<Step, 4>;

constexpr unsigned FrontKey = 0x46524f4e; // arbitrary tags for front()/back()
constexpr unsigned BackKey = 0x4241434b;

bool isViewType(QualType T) {
  return utils::isStdRecordType(T, {"basic_string_view", "span"});
}

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

enum class ViewKind { Iterator, Reference };
/// Which element a view designates, as far as the syntax tells.
enum class Origin { Unknown, Begin, End, Front, Back, Whole, Key, Iter };

struct ViewInfo {
  Path Container;
  ContainerFamily Family = ContainerFamily::Vector;
  ViewKind Kind = ViewKind::Reference;
  Origin Where = Origin::Unknown;
  unsigned Key = 0;                    ///< Origin::Key
  const VarDecl *IterVar = nullptr;    ///< Origin::Iter
  const Expr *ContainerExpr = nullptr; ///< for the container's name
};

/// A view slot: a variable, or a field of a local aggregate.
using Slot = std::pair<const VarDecl *, const FieldDecl *>;

/// Where a view is created (or overwritten by a non-view).
struct Creation {
  Slot Target;
  std::optional<ViewInfo> View; ///< none: the slot stops being a view
  const Stmt *Site = nullptr;
  /// One of several views the slot may hold from here on (a copy of a
  /// pointer field that may point into several containers): it does not
  /// replace the views created with it.
  bool Alternative = false;
  /// The slot copies this pointer field, and \c StoredAt stores a view
  /// into the container in it.
  const FieldDecl *ViaField = nullptr;
  const Stmt *StoredAt = nullptr;
};

//===----------------------------------------------------------------------===//
// Invalidating operations
//===----------------------------------------------------------------------===//

struct OpEvent {
  Path Container;
  ContainerFamily Family = ContainerFamily::Vector;
  ContainerOp Op = ContainerOp::Unknown;
  /// erase(it): the iterator variable erased; Advanced for erase(it++).
  const VarDecl *EraseIter = nullptr;
  bool EraseAdvanced = false;
  /// erase(key) on a map or set.
  std::optional<unsigned> EraseKey;
  /// erase(c.begin()): everything shifts.
  bool EraseAtBegin = false;
  /// Found through a call rather than on the container itself.
  const FunctionDecl *Callee = nullptr;
  /// reserve(n) with a constant n.
  std::optional<uint64_t> Amount;
  /// push_back/emplace_back: exactly one element more.
  bool SingleInsert = false;
};

ViewInvalidation reasonOf(const OpEvent &E) {
  if (E.Op == ContainerOp::Unknown)
    return ViewInvalidation::Call;
  switch (E.Op) {
  case ContainerOp::Erase:
  case ContainerOp::EraseBack:
  case ContainerOp::EraseFront:
    return ViewInvalidation::Erase;
  case ContainerOp::Clear:
  case ContainerOp::Assign:
  case ContainerOp::Swap:
    return ViewInvalidation::Destroy;
  default:
    return E.Family == ContainerFamily::Unordered
               ? ViewInvalidation::Rehash
               : ViewInvalidation::Reallocate;
  }
}

/// Does scope \p Scope of an operation reach a view designating \p Where?
bool scopeHits(ViewScope Scope, const OpEvent &E, ContainerFamily Family,
               const Slot &View, Origin Where, unsigned Key,
               const VarDecl *IterVar) {
  // The view is the erased iterator itself (not advanced past it), or was
  // obtained by dereferencing it.
  bool IsErasedIter =
      E.EraseIter &&
      ((View.first == E.EraseIter && !View.second && !E.EraseAdvanced) ||
       (Where == Origin::Iter && IterVar == E.EraseIter));
  // `v.erase(it++)` leaves `it` after the erased position.
  bool IsAfterErased = E.EraseIter && E.EraseAdvanced &&
                       View.first == E.EraseIter && !View.second;
  switch (Scope) {
  case ViewScope::None:
    return false;
  case ViewScope::All:
    return true;
  case ViewScope::AtOrAfter:
    return E.EraseAtBegin || Where == Origin::End || Where == Origin::Back ||
           Where == Origin::Whole || IsErasedIter || IsAfterErased;
  case ViewScope::Erased:
    return IsErasedIter ||
           (E.EraseKey && Where == Origin::Key && Key == *E.EraseKey);
  case ViewScope::Back:
    return Where == Origin::Back ||
           (Family != ContainerFamily::Node &&
            (Where == Origin::End || Where == Origin::Whole));
  case ViewScope::Front:
    return Where == Origin::Front || Where == Origin::Begin ||
           (Family != ContainerFamily::Node && Where == Origin::Whole);
  }
  return false;
}

/// Does \p E invalidate the view \p V held in \p Target?
///
/// \p NoRealloc: the operation is a single insertion at the end of a vector
/// whose capacity is known to suffice, so it only moves end().
bool invalidates(const OpEvent &E, const ViewInfo &V, const Slot &Target,
                 bool NoRealloc) {
  const Path &PE = E.Container, &PV = V.Container;
  if (PE.size() > PV.size() || !std::equal(PE.begin(), PE.end(), PV.begin()))
    return false;
  if (NoRealloc)
    return PE.size() == PV.size() && V.Kind == ViewKind::Iterator &&
           V.Where == Origin::End;
  if (PE.size() == PV.size()) {
    utils::Invalidation Inv = utils::invalidationOf(V.Family, E.Op);
    ViewScope Scope =
        V.Kind == ViewKind::Iterator ? Inv.Iterators : Inv.References;
    return scopeHits(Scope, E, V.Family, Target, V.Where, V.Key, V.IterVar);
  }
  // The operation is on an outer container; the view is into the element
  // PV[PE.size()] (or deeper). That element is hit like a reference to it.
  const Step &Element = PV[PE.size()];
  if (Element.Kind != Step::Elem)
    return false;
  utils::Invalidation Inv = utils::invalidationOf(E.Family, E.Op);
  Origin Where = Element.Key == FrontKey  ? Origin::Front
                 : Element.Key == BackKey ? Origin::Back
                                          : Origin::Key;
  if (!scopeHits(Inv.References, E, E.Family, Slot{}, Where, Element.Key,
                 nullptr))
    return false;
  if (utils::destroysElements(E.Op))
    return true;
  // Relocation moves the inner container: its heap buffer survives a move,
  // except for small strings and libstdc++'s deque (not nothrow-movable, so
  // copied).
  return Element.Family && (*Element.Family == ContainerFamily::String ||
                            *Element.Family == ContainerFamily::Deque);
}

//===----------------------------------------------------------------------===//
// The per-function model
//===----------------------------------------------------------------------===//

/// Caches what each callee may invalidate, as events whose paths start at
/// the callee's parameters, `this`, or variables it shares with the caller.
class SummaryCache {
public:
  SummaryCache(const utils::ContainerModel &Model, ASTContext &Context,
               bool AssumeUnknown)
      : Model(Model), Context(Context), AssumeUnknown(AssumeUnknown) {}

  const std::vector<OpEvent> &summary(const FunctionDecl &F, unsigned Depth);

  /// The view into a container of its own object that the method \p F
  /// returns (`T *front() { return &Items[Head]; }`), its path rooted at
  /// `this`; none when it returns something else, or on recursion.
  const std::optional<ViewInfo> &returnedView(const FunctionDecl &F,
                                              unsigned Depth);

  const utils::ContainerModel &Model;
  ASTContext &Context;
  const bool AssumeUnknown;

private:
  llvm::DenseMap<const FunctionDecl *, std::unique_ptr<std::vector<OpEvent>>>
      Cache;
  std::map<const FunctionDecl *, std::optional<ViewInfo>> ReturnedViews;
};

/// Resolves expressions to paths, views and operations within one function.
class Resolver {
public:
  Resolver(SummaryCache &Cache, const FunctionDecl &Function)
      : Cache(Cache), Model(Cache.Model), Context(Cache.Context),
        Function(Function) {}

  /// Views known per variable (the first creation), for derived views.
  llvm::DenseMap<const VarDecl *, ViewInfo> VarViews;

  unsigned keyOf(const Expr *E) const {
    llvm::FoldingSetNodeID ID;
    E->IgnoreParenImpCasts()->Profile(ID, Context, /*Canonical=*/true);
    return ID.ComputeHash();
  }

  /// The access path of the object \p E denotes (through pointers for `->`).
  std::optional<Path> pathOf(const Expr *E, const Expr **Named = nullptr,
                             unsigned Depth = 0) const {
    E = utils::ignoreWrappersAndExplicitCasts(E);
    if (!E || Depth > 8)
      return std::nullopt;
    auto Finish = [&](Path P) -> std::optional<Path> {
      P.back().Family = Model.classifyContainer(E->getType());
      return P;
    };
    if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
      const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
      if (!Var)
        return std::nullopt;
      // A reference bound to a container (or element) is an alias of it.
      if (Var->getType()->isReferenceType() && Var->getInit() &&
          !isa<ParmVarDecl>(Var))
        if (std::optional<Path> Aliased =
                pathOf(Var->getInit(), Named, Depth + 1))
          return Aliased;
      if (Named && !*Named)
        *Named = E;
      return Finish(Path{Step{Step::Var, Var, 0, std::nullopt}});
    }
    if (Named && !*Named)
      *Named = E;
    if (isa<CXXThisExpr>(E))
      return Path{Step{Step::This, nullptr, 0, std::nullopt}};
    if (const auto *Member = dyn_cast<MemberExpr>(E)) {
      const auto *Field = dyn_cast<FieldDecl>(Member->getMemberDecl());
      if (!Field)
        return std::nullopt;
      std::optional<Path> Base = pathOf(Member->getBase(), nullptr, Depth + 1);
      if (!Base)
        return std::nullopt;
      Base->push_back(Step{Step::Field, Field, 0, std::nullopt});
      return Finish(std::move(*Base));
    }
    if (const auto *Unary = dyn_cast<UnaryOperator>(E);
        Unary && Unary->getOpcode() == UO_Deref)
      return pathOf(Unary->getSubExpr(), nullptr, Depth + 1);
    // An element that is itself a container: m[k], v.at(i), v.front().
    if (std::optional<std::pair<const Expr *, unsigned>> Elem =
            elementAccess(E)) {
      std::optional<Path> Base = pathOf(Elem->first, nullptr, Depth + 1);
      if (!Base)
        return std::nullopt;
      Base->push_back(Step{Step::Elem, nullptr, Elem->second, std::nullopt});
      return Finish(std::move(*Base));
    }
    return std::nullopt;
  }

  /// If \p E is `c[k]`, `c.at(k)`, `c.front()` or `c.back()` on a container
  /// c: c and the element's key.
  std::optional<std::pair<const Expr *, unsigned>>
  elementAccess(const Expr *E) const {
    if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E)) {
      if (Op->getOperator() == OO_Subscript && Op->getNumArgs() == 2 &&
          isContainer(Op->getArg(0)))
        return std::make_pair(Op->getArg(0), keyOf(Op->getArg(1)));
      return std::nullopt;
    }
    const auto *Call = dyn_cast<CXXMemberCallExpr>(E);
    if (!Call || !Call->getMethodDecl() ||
        !Call->getMethodDecl()->getIdentifier() ||
        !isContainer(Call->getImplicitObjectArgument()))
      return std::nullopt;
    llvm::StringRef Name = Call->getMethodDecl()->getName();
    if (Name == "at" && Call->getNumArgs() == 1)
      return std::make_pair(Call->getImplicitObjectArgument(),
                            keyOf(Call->getArg(0)));
    if (Name == "front")
      return std::make_pair(Call->getImplicitObjectArgument(), FrontKey);
    if (Name == "back")
      return std::make_pair(Call->getImplicitObjectArgument(), BackKey);
    return std::nullopt;
  }

  std::optional<ContainerFamily> familyOf(const Expr *E) const {
    if (!E)
      return std::nullopt;
    QualType T = E->getType();
    if (T->isPointerType())
      T = T->getPointeeType();
    return Model.classifyContainer(T);
  }

  bool isContainer(const Expr *E) const { return familyOf(E).has_value(); }

  /// A view into container expression \p Object.
  std::optional<ViewInfo> viewInto(const Expr *Object, ViewKind Kind,
                                   Origin Where, unsigned Key = 0) const {
    std::optional<ContainerFamily> Family = familyOf(Object);
    if (!Family || *Family == ContainerFamily::Array)
      return std::nullopt;
    const Expr *Named = nullptr;
    std::optional<Path> P = pathOf(Object, &Named);
    if (!P)
      return std::nullopt;
    ViewInfo V;
    V.Container = std::move(*P);
    V.Family = *Family;
    V.Kind = Kind;
    V.Where = Where;
    V.Key = Key;
    V.ContainerExpr = Named ? Named : Object;
    return V;
  }

  /// The view held by the pointer, iterator or view variable \p Var.
  std::optional<ViewInfo> viewOfVar(const VarDecl *Var) const {
    if (Var->getType()->isReferenceType())
      return std::nullopt; // a reference to an element: its value is a copy
    auto It = VarViews.find(Var);
    if (It == VarViews.end())
      return std::nullopt;
    return It->second;
  }

  /// A view that a method of a class wrapping a container returns, in this
  /// function's terms: the method's container path with `this` replaced by
  /// the object it is called on (`RB.front()` is into `RB.Items`). The
  /// class is a container by its shape; its methods that change the
  /// container are found by callEffects() the same way.
  std::optional<ViewInfo> methodView(const CXXMemberCallExpr &Call,
                                     unsigned Depth) const {
    const CXXMethodDecl *Method = Call.getMethodDecl();
    const Expr *Object = Call.getImplicitObjectArgument();
    if (!Method || !Object || Method->isStatic() || isContainer(Object) ||
        Depth >= MaxCallDepth ||
        (Method->isVirtual() && !Method->hasAttr<FinalAttr>() &&
         !Method->getParent()->hasAttr<FinalAttr>()))
      return std::nullopt;
    const FunctionDecl *Definition = Method->getDefinition();
    if (!Definition || !Definition->hasBody() ||
        Definition->isDependentContext() ||
        Context.getSourceManager().isInSystemHeader(Definition->getLocation()))
      return std::nullopt;
    const std::optional<ViewInfo> &Inner =
        Cache.returnedView(*Definition, Depth + 1);
    if (!Inner)
      return std::nullopt;
    const Expr *Named = nullptr;
    std::optional<Path> Base = pathOf(Object, &Named);
    if (!Base)
      return std::nullopt;
    ViewInfo V = *Inner;
    V.Container.erase(V.Container.begin());
    V.Container.insert(V.Container.begin(), Base->begin(), Base->end());
    return V;
  }

  /// \p E's value points into a container: pointer, iterator, string_view or
  /// span.
  std::optional<ViewInfo> viewValue(const Expr *E, unsigned Depth = 0) const {
    E = utils::ignoreWrappersAndExplicitCasts(E);
    if (!E || Depth > 8)
      return std::nullopt;
    if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
      const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
      return Var ? viewOfVar(Var) : std::nullopt;
    }
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E)) {
      const CXXMethodDecl *Method = Call->getMethodDecl();
      const Expr *Object = Call->getImplicitObjectArgument();
      if (!Method || !Object)
        return std::nullopt;
      if (isa<CXXConversionDecl>(Method))
        return isViewType(Call->getType())
                   ? viewInto(Object, ViewKind::Reference, Origin::Whole)
                   : std::nullopt;
      if (!Method->getIdentifier())
        return std::nullopt;
      llvm::StringRef Name = Method->getName();
      if (isContainer(Object)) {
        QualType Result = Call->getType();
        if (Result->isReferenceType() || Result->isVoidType() ||
            Result->isIntegralOrEnumerationType() || Result->isBooleanType())
          return std::nullopt;
        if (Name == "begin" || Name == "cbegin" || Name == "rend" ||
            Name == "crend" || Name == "before_begin")
          return viewInto(Object, ViewKind::Iterator, Origin::Begin);
        if (Name == "end" || Name == "cend" || Name == "rbegin" ||
            Name == "crbegin")
          return viewInto(Object, ViewKind::Iterator, Origin::End);
        if ((Name == "find" || Name == "lower_bound" || Name == "upper_bound" ||
             Name == "equal_range") &&
            Call->getNumArgs() >= 1)
          return viewInto(Object, ViewKind::Iterator, Origin::Key,
                          keyOf(Call->getArg(0)));
        if (Name == "insert" || Name == "emplace" || Name == "emplace_hint" ||
            Name == "try_emplace" || Name == "insert_or_assign" ||
            Name == "erase" || Name == "insert_after" ||
            Name == "emplace_after" || Name == "erase_after")
          return viewInto(Object, ViewKind::Iterator, Origin::Unknown);
        if (Name == "data" || Name == "c_str")
          return viewInto(Object, ViewKind::Reference, Origin::Whole);
        return std::nullopt;
      }
      // Sub-views of a view: sv.substr(), sp.subspan(), sp.first(n), ...
      if (isViewType(Object->getType()) && isViewType(Call->getType()))
        return viewValue(Object, Depth + 1);
      if (isViewType(Object->getType()) &&
          (Name == "data" || Name == "begin" || Name == "end"))
        return viewValue(Object, Depth + 1);
      if (!Call->isLValue())
        return methodView(*Call, Depth);
      return std::nullopt;
    }
    if (const auto *Construct = dyn_cast<CXXConstructExpr>(E)) {
      if (Construct->getNumArgs() == 0)
        return std::nullopt;
      const Expr *Arg = Construct->getArg(0);
      if (isViewType(Construct->getType())) {
        if (isContainer(Arg) && !isViewType(Arg->getType()))
          return viewInto(Arg, ViewKind::Reference, Origin::Whole);
        if (std::optional<ViewInfo> Inner = viewValue(Arg, Depth + 1)) {
          Inner->Kind = ViewKind::Reference;
          return Inner;
        }
        return std::nullopt;
      }
      if (Construct->getConstructor() &&
          Construct->getConstructor()->isCopyOrMoveConstructor())
        return viewValue(Arg, Depth + 1);
      return std::nullopt;
    }
    if (const auto *Unary = dyn_cast<UnaryOperator>(E)) {
      switch (Unary->getOpcode()) {
      case UO_AddrOf:
        return elementLValue(Unary->getSubExpr(), Depth + 1);
      case UO_PreInc:
      case UO_PreDec:
      case UO_PostInc:
      case UO_PostDec:
        return derived(Unary->getSubExpr(), Depth);
      default:
        return std::nullopt;
      }
    }
    if (const auto *Binary = dyn_cast<BinaryOperator>(E)) {
      if (Binary->getOpcode() == BO_Add || Binary->getOpcode() == BO_Sub) {
        if (Binary->getLHS()->getType()->isPointerType())
          return derived(Binary->getLHS(), Depth);
        if (Binary->getRHS()->getType()->isPointerType())
          return derived(Binary->getRHS(), Depth);
      }
      return std::nullopt;
    }
    if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E)) {
      switch (Op->getOperator()) {
      case OO_Plus:
      case OO_Minus:
        if (Op->getNumArgs() == 2 && !isIntegral(Op))
          return derived(Op->getArg(0), Depth);
        return std::nullopt;
      case OO_PlusPlus:
      case OO_MinusMinus:
      case OO_Arrow:
        return derived(Op->getArg(0), Depth);
      default:
        return std::nullopt;
      }
    }
    if (const auto *Call = dyn_cast<CallExpr>(E)) {
      const FunctionDecl *Callee = Call->getDirectCallee();
      if (!Callee || Call->getNumArgs() == 0)
        return std::nullopt;
      const Expr *Arg = Call->getArg(0);
      if (utils::isStdDeclNamed(Callee, {"begin", "cbegin"}))
        return viewInto(Arg, ViewKind::Iterator, Origin::Begin);
      if (utils::isStdDeclNamed(Callee, {"end", "cend"}))
        return viewInto(Arg, ViewKind::Iterator, Origin::End);
      if (utils::isStdDeclNamed(Callee, {"data"}))
        return viewInto(Arg, ViewKind::Reference, Origin::Whole);
      if (utils::isStdDeclNamed(Callee, {"next", "prev"}))
        return derived(Arg, Depth);
      if (utils::isStdDeclNamed(Callee, {"addressof"}))
        return elementLValue(Arg, Depth + 1);
      if (utils::isStdDeclNamed(Callee, {"to_address"}))
        if (std::optional<ViewInfo> V = derived(Arg, Depth)) {
          V->Kind = ViewKind::Reference;
          return V;
        }
      return std::nullopt;
    }
    return std::nullopt;
  }

  static bool isIntegral(const CXXOperatorCallExpr *Op) {
    // `it - it2` is a distance, not a view.
    return Op->getType()->isIntegralOrEnumerationType();
  }

  /// A view computed from the view \p E (arithmetic, std::next, ...): same
  /// container, unknown element.
  std::optional<ViewInfo> derived(const Expr *E, unsigned Depth) const {
    std::optional<ViewInfo> V = viewValue(E, Depth + 1);
    if (V)
      V->Where = Origin::Unknown;
    return V;
  }

  /// \p E denotes an element of a container (or a subobject of one).
  std::optional<ViewInfo> elementLValue(const Expr *E,
                                        unsigned Depth = 0) const {
    if (const auto *Cleanups = dyn_cast_or_null<ExprWithCleanups>(E))
      E = Cleanups->getSubExpr();
    E = E ? E->IgnoreParens() : nullptr;
    while (const auto *Cast = dyn_cast_or_null<ImplicitCastExpr>(E)) {
      if (Cast->getCastKind() != CK_NoOp &&
          Cast->getCastKind() != CK_DerivedToBase &&
          Cast->getCastKind() != CK_UncheckedDerivedToBase)
        return std::nullopt;
      E = Cast->getSubExpr()->IgnoreParens();
    }
    if (isa_and_nonnull<MaterializeTemporaryExpr>(E))
      return std::nullopt; // a temporary copy, not an element
    if (!E || Depth > 8)
      return std::nullopt;
    if (std::optional<std::pair<const Expr *, unsigned>> Elem =
            elementAccess(E)) {
      Origin Where = Elem->second == FrontKey  ? Origin::Front
                     : Elem->second == BackKey ? Origin::Back
                                               : Origin::Key;
      return viewInto(Elem->first, ViewKind::Reference, Where, Elem->second);
    }
    if (const auto *Ref = dyn_cast<DeclRefExpr>(E)) {
      const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
      if (Var && Var->getType()->isReferenceType())
        if (auto It = VarViews.find(Var); It != VarViews.end())
          return It->second;
      return std::nullopt;
    }
    // A method of a class wrapping a container that returns a reference to
    // one of its elements.
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E);
        Call && Call->isLValue())
      if (std::optional<ViewInfo> V = methodView(*Call, Depth))
        return V;
    // C++17 emplace_back/emplace_front return a reference to the new element.
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E);
        Call && Call->isLValue() && Call->getMethodDecl() &&
        Call->getMethodDecl()->getIdentifier() &&
        isContainer(Call->getImplicitObjectArgument())) {
      llvm::StringRef Name = Call->getMethodDecl()->getName();
      if (Name == "emplace_back")
        return viewInto(Call->getImplicitObjectArgument(), ViewKind::Reference,
                        Origin::Back);
      if (Name == "emplace_front")
        return viewInto(Call->getImplicitObjectArgument(), ViewKind::Reference,
                        Origin::Front);
    }
    const Expr *Pointer = nullptr;
    if (const auto *Unary = dyn_cast<UnaryOperator>(E);
        Unary && Unary->getOpcode() == UO_Deref)
      Pointer = Unary->getSubExpr();
    else if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E);
             Op && Op->getOperator() == OO_Star && Op->getNumArgs() == 1)
      Pointer = Op->getArg(0);
    else if (const auto *Subscript = dyn_cast<ArraySubscriptExpr>(E))
      Pointer = Subscript->getBase();
    else if (const auto *Member = dyn_cast<MemberExpr>(E)) {
      if (!isa<FieldDecl>(Member->getMemberDecl()))
        return std::nullopt;
      if (Member->isArrow())
        Pointer = Member->getBase();
      else
        return elementLValue(Member->getBase(), Depth + 1);
    }
    if (!Pointer)
      return std::nullopt;
    std::optional<ViewInfo> V = viewValue(Pointer, Depth + 1);
    if (!V)
      return std::nullopt;
    V->Kind = ViewKind::Reference;
    const auto *Ref =
        dyn_cast<DeclRefExpr>(utils::ignoreWrappersAndExplicitCasts(Pointer));
    const auto *IterVar = Ref ? dyn_cast<VarDecl>(Ref->getDecl()) : nullptr;
    if (IterVar && VarViews.count(IterVar) &&
        VarViews.find(IterVar)->second.Kind == ViewKind::Iterator) {
      V->Where = Origin::Iter;
      V->IterVar = IterVar;
    } else if (V->Where == Origin::Begin || V->Where == Origin::Whole) {
      V->Where = isa<ArraySubscriptExpr>(E) ? Origin::Unknown : Origin::Front;
    } else if (V->Where == Origin::End) {
      V->Where = Origin::Back;
    }
    return V;
  }

  /// The operation \p E performs directly on a container, if any.
  std::optional<OpEvent> directOp(const Expr *E) const {
    const Expr *Object = nullptr;
    std::optional<ContainerOp> Op;
    llvm::ArrayRef<const Expr *> Args;
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E)) {
      Op = Model.classify(*Call);
      Object = Call->getImplicitObjectArgument();
      Args = llvm::ArrayRef(Call->getArgs(), Call->getNumArgs());
    } else if (const auto *OpCall = dyn_cast<CXXOperatorCallExpr>(E)) {
      Op = Model.classify(*OpCall);
      if (OpCall->getNumArgs() > 0)
        Object = OpCall->getArg(0);
    }
    if (!Op || !Object || *Op == ContainerOp::Read)
      return std::nullopt;
    std::optional<Path> P = pathOf(Object);
    std::optional<ContainerFamily> Family = familyOf(Object);
    if (!P || !Family)
      return std::nullopt;
    OpEvent Event;
    Event.Container = std::move(*P);
    Event.Family = *Family;
    Event.Op = *Op;
    // forward_list::erase_after(pos) erases the element after pos: pos and
    // whatever it designates stay valid, and which view (if any) designates
    // the erased element is not known, so nothing is taken as erased.
    bool ErasesAfter = false;
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E);
        Call && Call->getMethodDecl() && Call->getMethodDecl()->getIdentifier())
      ErasesAfter = Call->getMethodDecl()->getName() == "erase_after";
    if (*Op == ContainerOp::Erase && !Args.empty() && !ErasesAfter)
      describeErase(Event, Object, Args[0]);
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(E);
        Call && *Op == ContainerOp::InsertBack && Call->getMethodDecl() &&
        Call->getMethodDecl()->getIdentifier())
      Event.SingleInsert = Call->getMethodDecl()->getName() == "push_back" ||
                           Call->getMethodDecl()->getName() == "emplace_back";
    if (*Op == ContainerOp::Reserve && Args.size() == 1)
      if (std::optional<llvm::APSInt> N =
              Args[0]->getIntegerConstantExpr(Context))
        if (N->isNonNegative() && N->getActiveBits() <= 32)
          Event.Amount = N->getZExtValue();
    return Event;
  }

  void describeErase(OpEvent &Event, const Expr *Object,
                     const Expr *Arg) const {
    auto Unwrap = [](const Expr *E) {
      // iterator -> const_iterator conversions
      E = utils::ignoreWrappersAndExplicitCasts(E);
      if (const auto *Construct = dyn_cast<CXXConstructExpr>(E);
          Construct && Construct->getNumArgs() == 1)
        E = utils::ignoreWrappersAndExplicitCasts(Construct->getArg(0));
      return E;
    };
    const Expr *Stripped = Unwrap(Arg);
    bool Advanced = false;
    if (const auto *Unary = dyn_cast<UnaryOperator>(Stripped);
        Unary && Unary->getOpcode() == UO_PostInc) {
      Stripped = Unwrap(Unary->getSubExpr());
      Advanced = true;
    } else if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(Stripped);
               Op && Op->getOperator() == OO_PlusPlus &&
               Op->getNumArgs() == 2) {
      Stripped = Unwrap(Op->getArg(0));
      Advanced = true;
    }
    Stripped = Unwrap(Stripped);
    if (const auto *Ref = dyn_cast<DeclRefExpr>(Stripped)) {
      const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
      if (Var && VarViews.count(Var) &&
          VarViews.find(Var)->second.Kind == ViewKind::Iterator) {
        Event.EraseIter = Var;
        Event.EraseAdvanced = Advanced;
        return;
      }
      // erase(x) where x is a reference to a set element from *it.
      if (Var)
        if (auto It = VarViews.find(Var);
            It != VarViews.end() && It->second.Where == Origin::Iter) {
          Event.EraseIter = It->second.IterVar;
          return;
        }
    }
    // erase(x.first) where x refers to a map element obtained from *it.
    if (const auto *Member = dyn_cast<MemberExpr>(Stripped))
      if (const auto *Ref = dyn_cast<DeclRefExpr>(
              utils::ignoreWrappersAndExplicitCasts(Member->getBase())))
        if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl()))
          if (auto It = VarViews.find(Var);
              It != VarViews.end() && It->second.Where == Origin::Iter) {
            Event.EraseIter = It->second.IterVar;
            return;
          }
    if (const auto *Call = dyn_cast<CXXMemberCallExpr>(Stripped);
        Call && Call->getMethodDecl() &&
        Call->getMethodDecl()->getIdentifier() &&
        (Call->getMethodDecl()->getName() == "begin" ||
         Call->getMethodDecl()->getName() == "cbegin")) {
      std::optional<Path> Erased = pathOf(Call->getImplicitObjectArgument());
      std::optional<Path> Self = pathOf(Object);
      if (Erased && Self && *Erased == *Self) {
        Event.EraseAtBegin = true;
        return;
      }
    }
    if ((Event.Family == ContainerFamily::Unordered ||
         Event.Family == ContainerFamily::Node) &&
        !Arg->getType()->isRecordType())
      Event.EraseKey = keyOf(Arg);
    else if (Event.Family == ContainerFamily::Unordered ||
             Event.Family == ContainerFamily::Node) {
      // A key of class type (std::string): not an iterator of this container.
      const auto *Record = Arg->getType()->getAsCXXRecordDecl();
      if (Record && !Record->getName().contains("iterator"))
        Event.EraseKey = keyOf(Arg);
    }
  }

  /// What a call that is not a container member may invalidate, in this
  /// function's terms.
  std::vector<OpEvent> callEffects(const Expr *E, unsigned Depth) const;

  SummaryCache &Cache;
  const utils::ContainerModel &Model;
  ASTContext &Context;
  const FunctionDecl &Function;
};

/// Is \p Var local to \p F (a parameter or a local of F itself)?
bool isLocalTo(const VarDecl *Var, const FunctionDecl &F) {
  if (!Var->isLocalVarDeclOrParm())
    return false;
  const DeclContext *DC = Var->getDeclContext();
  while (DC && !isa<FunctionDecl>(DC))
    DC = DC->getParent();
  return DC == &F;
}

std::vector<OpEvent> Resolver::callEffects(const Expr *E,
                                           unsigned Depth) const {
  std::vector<OpEvent> Result;
  const FunctionDecl *Callee = nullptr;
  llvm::SmallVector<const Expr *, 4> Args;
  const Expr *Object = nullptr;
  bool IsLambda = false;
  if (const auto *Member = dyn_cast<CXXMemberCallExpr>(E)) {
    Callee = Member->getMethodDecl();
    Object = Member->getImplicitObjectArgument();
    Args.append(Member->arg_begin(), Member->arg_end());
  } else if (const auto *Op = dyn_cast<CXXOperatorCallExpr>(E)) {
    Callee = Op->getDirectCallee();
    const auto *Method = dyn_cast_or_null<CXXMethodDecl>(Callee);
    if (Method && Op->getNumArgs() > 0) {
      Object = Op->getArg(0);
      Args.append(Op->arg_begin() + 1, Op->arg_end());
      IsLambda = Method->getParent()->isLambda();
    } else {
      Args.append(Op->arg_begin(), Op->arg_end());
    }
  } else if (const auto *Call = dyn_cast<CallExpr>(E)) {
    Callee = Call->getDirectCallee();
    Args.append(Call->arg_begin(), Call->arg_end());
  } else if (const auto *Construct = dyn_cast<CXXConstructExpr>(E)) {
    Callee = Construct->getConstructor();
    Args.append(Construct->arg_begin(), Construct->arg_end());
  }
  if (!Callee)
    return Result;
  if (Object && isContainer(Object))
    return Result; // a container member: directOp() handles it

  // std::back_inserter(c) and friends exist to insert into c.
  if (utils::isStdDeclNamed(Callee,
                            {"back_inserter", "front_inserter", "inserter"}) &&
      !Args.empty()) {
    if (std::optional<Path> P = pathOf(Args[0]))
      if (std::optional<ContainerFamily> F = familyOf(Args[0])) {
        OpEvent Event;
        Event.Container = std::move(*P);
        Event.Family = *F;
        Event.Op = ContainerOp::Insert;
        Event.Callee = Callee;
        Result.push_back(std::move(Event));
      }
    return Result;
  }

  // Bind the parameters that can reach a caller's object.
  llvm::DenseMap<const VarDecl *, Path> Bindings;
  llvm::SmallVector<std::pair<Path, ContainerFamily>, 2> UnknownTargets;
  for (unsigned I = 0; I < Args.size() && I < Callee->getNumParams(); ++I) {
    const ParmVarDecl *Param = Callee->getParamDecl(I);
    QualType T = Param->getType();
    const Expr *Arg = Args[I];
    std::optional<Path> P;
    if (T->isReferenceType() && !T.getNonReferenceType().isConstQualified())
      P = pathOf(Arg);
    else if (T->isPointerType() && !T->getPointeeType().isConstQualified()) {
      const Expr *Stripped = utils::ignoreWrappersAndExplicitCasts(Arg);
      if (const auto *Unary = dyn_cast<UnaryOperator>(Stripped);
          Unary && Unary->getOpcode() == UO_AddrOf)
        P = pathOf(Unary->getSubExpr());
      else if (isa<CXXThisExpr>(Stripped))
        P = pathOf(Stripped);
    }
    if (!P)
      continue;
    if (std::optional<ContainerFamily> F = Model.classifyContainer(
            T->isPointerType() ? T->getPointeeType() : T.getNonReferenceType()))
      UnknownTargets.push_back({*P, *F});
    Bindings[Param] = std::move(*P);
  }
  std::optional<Path> ThisPath;
  if (IsLambda)
    ThisPath = Path{Step{Step::This, nullptr, 0, std::nullopt}};
  else if (Object && isa<CXXMethodDecl>(Callee) &&
           !cast<CXXMethodDecl>(Callee)->isConst() &&
           !cast<CXXMethodDecl>(Callee)->isStatic())
    ThisPath = pathOf(Object);

  const FunctionDecl *Definition = Callee->getDefinition();
  if (!Definition || !Definition->hasBody()) {
    if (Cache.AssumeUnknown)
      for (auto &[P, F] : UnknownTargets) {
        OpEvent Event;
        Event.Container = P;
        Event.Family = F;
        Event.Op = ContainerOp::Unknown;
        Event.Callee = Callee;
        Result.push_back(std::move(Event));
      }
    return Result;
  }
  if (Depth >= MaxCallDepth)
    return Result;
  // Library internals that cannot reach a caller's container are skipped.
  if (Bindings.empty() && Callee->isInStdNamespace())
    return Result;

  for (const OpEvent &Inner : Cache.summary(*Definition, Depth + 1)) {
    const Step &Root = Inner.Container.front();
    Path Mapped;
    if (Root.Kind == Step::This) {
      if (!ThisPath)
        continue;
      Mapped = *ThisPath;
    } else if (Root.Kind == Step::Var) {
      const auto *Var = static_cast<const VarDecl *>(Root.Decl);
      if (const auto *Param = dyn_cast<ParmVarDecl>(Var);
          Param && isLocalTo(Param, *Definition)) {
        auto It = Bindings.find(Param);
        if (It == Bindings.end())
          continue;
        Mapped = It->second;
      } else {
        Mapped.push_back(Root); // a global, or a variable a lambda captured
      }
    } else {
      continue;
    }
    Mapped.append(Inner.Container.begin() + 1, Inner.Container.end());
    OpEvent Event = Inner;
    Event.Container = std::move(Mapped);
    if (!Event.Callee)
      Event.Callee = Callee;
    Result.push_back(std::move(Event));
  }
  return Result;
}

/// Collects the invalidating operations anywhere in a callee's body.
class SummaryCollector : public RecursiveASTVisitor<SummaryCollector> {
public:
  SummaryCollector(const Resolver &R, unsigned Depth, std::vector<OpEvent> &Out)
      : R(R), Depth(Depth), Out(Out) {}
  bool shouldVisitImplicitCode() const { return true; }
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }

  bool VisitExpr(Expr *E) {
    if (!isa<CallExpr>(E) && !isa<CXXConstructExpr>(E))
      return true;
    if (std::optional<OpEvent> Event = R.directOp(E)) {
      keep(std::move(*Event));
      return true;
    }
    for (OpEvent &Event : R.callEffects(E, Depth))
      keep(std::move(Event));
    return true;
  }

private:
  void keep(OpEvent Event) {
    const Step &Root = Event.Container.front();
    if (Root.Kind == Step::Var) {
      const auto *Var = static_cast<const VarDecl *>(Root.Decl);
      if (isLocalTo(Var, R.Function) && !isa<ParmVarDecl>(Var))
        return; // the callee's own locals are invisible to the caller
    }
    // Element identities are the callee's: drop them.
    Event.EraseIter = nullptr;
    Event.EraseKey.reset();
    Event.EraseAtBegin = false;
    Out.push_back(std::move(Event));
  }

  const Resolver &R;
  unsigned Depth;
  std::vector<OpEvent> &Out;
};

const std::vector<OpEvent> &SummaryCache::summary(const FunctionDecl &F,
                                                  unsigned Depth) {
  auto [It, Inserted] = Cache.try_emplace(&F, nullptr);
  if (!Inserted) {
    static const std::vector<OpEvent> Empty;
    return It->second ? *It->second : Empty; // recursion: in progress
  }
  auto Events = std::make_unique<std::vector<OpEvent>>();
  if (const Stmt *Body = F.getBody()) {
    Resolver R(*this, F);
    SummaryCollector Collector(R, Depth, *Events);
    Collector.TraverseStmt(const_cast<Stmt *>(Body));
  }
  auto &Slot = Cache[&F];
  Slot = std::move(Events);
  return *Slot;
}

const std::optional<ViewInfo> &SummaryCache::returnedView(const FunctionDecl &F,
                                                          unsigned Depth) {
  auto [It, Inserted] = ReturnedViews.try_emplace(&F, std::nullopt);
  if (!Inserted)
    return It->second; // known, or in progress (recursion)
  std::optional<ViewInfo> Found;
  QualType Result = F.getReturnType();
  Resolver R(*this, F);
  // The first return that hands out a view into a container of `this`.
  auto Visit = [&](const ReturnStmt &Return) {
    const Expr *Value = Return.getRetValue();
    if (Found || !Value)
      return;
    std::optional<ViewInfo> V = Result->isReferenceType()
                                    ? R.elementLValue(Value, Depth)
                                    : R.viewValue(Value, Depth);
    if (!V || V->Container.empty() || V->Container.front().Kind != Step::This)
      return;
    // A key of the callee's own (`Items[Head]`) means nothing to a caller:
    // an element of a sequence is then somewhere, of a map unknown.
    if (V->Where == Origin::Key) {
      if (V->Family != ContainerFamily::Vector &&
          V->Family != ContainerFamily::Deque &&
          V->Family != ContainerFamily::String)
        return;
      V->Where = Origin::Unknown;
    }
    if (V->Where == Origin::Iter)
      V->Where = Origin::Unknown;
    V->IterVar = nullptr;
    Found = std::move(V);
  };
  struct ReturnFinder : RecursiveASTVisitor<ReturnFinder> {
    llvm::function_ref<void(const ReturnStmt &)> Visit;
    bool TraverseLambdaExpr(LambdaExpr *) { return true; }
    bool VisitReturnStmt(ReturnStmt *Return) {
      Visit(*Return);
      return true;
    }
  } Finder;
  Finder.Visit = Visit;
  Finder.TraverseStmt(F.getBody());
  auto &Slot = ReturnedViews[&F];
  Slot = std::move(Found);
  return Slot;
}

//===----------------------------------------------------------------------===//
// Pass 1 over the analysed function
//===----------------------------------------------------------------------===//

struct FunctionFacts {
  llvm::DenseMap<const Stmt *, std::vector<const Creation *>> CreationsAt;
  llvm::DenseMap<const VarDecl *, std::vector<const Creation *>> CreationsOfVar;
  llvm::DenseMap<const Stmt *, std::vector<OpEvent>> OpsAt;
  llvm::DenseMap<const Stmt *, std::vector<Slot>> UsesAt;
  /// The hidden begin/end iterators of range-for loops.
  llvm::DenseMap<const VarDecl *, const CXXForRangeStmt *> HiddenIterators;
  llvm::DenseSet<const VarDecl *> SlotVars;
  std::vector<std::unique_ptr<Creation>> Storage;
};

/// A view the unit's code stores in a pointer field.
struct StoredView {
  /// Its container: the path is rooted at `this` when it is relative to the
  /// object that holds the field (`Cur = &Nodes.back()` points into the
  /// same object's Nodes), else at a global.
  ViewInfo View;
  bool Relative = false;
  const Stmt *Site = nullptr;
};

bool isDataPointer(QualType T) {
  return T->isPointerType() && !T->isFunctionPointerType() &&
         !T->getPointeeType()->isVoidType();
}

/// A field that is a pointer, or an array of pointers.
bool holdsPointers(const FieldDecl &Field) {
  QualType T = Field.getType();
  const auto *Array =
      dyn_cast_or_null<ConstantArrayType>(T->getAsArrayTypeUnsafe());
  return isDataPointer(T) || (Array && isDataPointer(Array->getElementType()));
}

/// A read of or store into a pointer field: `o.f` or `p->f` for a pointer
/// field f, or `o.f[i]` for an array of pointers f. The field and its
/// member expression; none for anything else.
std::pair<const FieldDecl *, const MemberExpr *>
pointerFieldRead(const Expr *E) {
  E = E ? E->IgnoreParenImpCasts() : nullptr;
  bool Element = false;
  if (const auto *Subscript = dyn_cast_or_null<ArraySubscriptExpr>(E)) {
    E = Subscript->getBase()->IgnoreParenImpCasts();
    Element = true;
  }
  const auto *Member = dyn_cast_or_null<MemberExpr>(E);
  const auto *Field =
      Member ? dyn_cast<FieldDecl>(Member->getMemberDecl()) : nullptr;
  if (!Field)
    return {nullptr, nullptr};
  QualType T = Field->getType();
  if (Element) {
    const auto *Array =
        dyn_cast_or_null<ConstantArrayType>(T->getAsArrayTypeUnsafe());
    if (!Array || !isDataPointer(Array->getElementType()))
      return {nullptr, nullptr};
  } else if (!isDataPointer(T)) {
    return {nullptr, nullptr};
  }
  return {Field, Member};
}

class FieldStoreFinder;

} // namespace

/// Where the pointer fields of the classes defined in the main file may
/// point (`int *last_child`, set to `&Children.back().next` in one function
/// and copied into a local in another): the containers whose elements the
/// unit's code stores in them. A field qualifies only when every store into
/// it is seen and understood: a class of the main file (no other unit can
/// name it), each store null, a view into a container of the same object or
/// of a global, or a copy of another such field, and the field never bound
/// to a reference or its address taken. Anything else makes the field
/// unknown, and an unknown field yields no view.
class FieldViewModel {
public:
  FieldViewModel(const utils::ContainerModel &Model, ASTContext &Context)
      : Model(Model), Context(Context) {}

  ASTContext &context() const { return Context; }

  /// The views a read of a pointer field (`o.f`, `p->f`, `o.f[i]`) may
  /// hold, in \p R's terms; empty when the field is not known.
  std::vector<StoredView> viewsRead(const Expr *Read, const Resolver &R);

private:
  struct Copy {
    const FieldDecl *From;
    bool SameOwner;
  };
  struct FieldFacts {
    std::vector<StoredView> Views;
    std::vector<Copy> Copies;
    bool Unknown = false;
  };

  bool isCandidate(const FieldDecl *Field) const;
  /// An initialiser that stores nothing but null pointers.
  bool isNullInit(const Expr *Init) const;
  void build();
  void scanFunction(const FunctionDecl &F);
  /// Marks the fields that \p Finder saw used in ways not followed.
  void noteUntracked(const FieldStoreFinder &Finder);
  void addStore(FieldFacts &Facts, const std::optional<Path> &Owner,
                const Expr *Value, const Stmt *Site, const Resolver &R,
                const llvm::SmallPtrSetImpl<const VarDecl *> &AssignedLocals,
                unsigned Depth);
  void resolveCopies();

  const utils::ContainerModel &Model;
  ASTContext &Context;
  bool Built = false;
  bool Building = false;
  std::map<const FieldDecl *, FieldFacts> Fields;
  /// Classes copied or moved as a whole by an implicit member: a relative
  /// view then points into the source object, not the copy.
  llvm::SmallPtrSet<const RecordDecl *, 4> CopiedWhole;
};

namespace {

class FunctionCollector : public RecursiveASTVisitor<FunctionCollector> {
public:
  FunctionCollector(Resolver &R, FunctionFacts &Facts,
                    FieldViewModel *FieldViews = nullptr)
      : R(R), Facts(Facts), FieldViews(FieldViews) {}
  bool shouldVisitImplicitCode() const { return true; }

  bool TraverseLambdaExpr(LambdaExpr *Lambda) {
    // The body is analysed as its own function; captures are uses here.
    for (Expr *Init : Lambda->capture_inits())
      if (Init)
        TraverseStmt(Init);
    return true;
  }

  bool VisitCXXForRangeStmt(CXXForRangeStmt *For) {
    if (const VarDecl *Begin = For->getBeginStmt()
                                   ? dyn_cast_or_null<VarDecl>(
                                         For->getBeginStmt()->getSingleDecl())
                                   : nullptr)
      Facts.HiddenIterators[Begin] = For;
    if (const VarDecl *End =
            For->getEndStmt()
                ? dyn_cast_or_null<VarDecl>(For->getEndStmt()->getSingleDecl())
                : nullptr)
      Facts.HiddenIterators[End] = For;
    return true;
  }

  bool VisitVarDecl(VarDecl *Var) {
    if (!Var->hasLocalStorage() || isa<ParmVarDecl>(Var) || !Var->getInit())
      return true;
    QualType T = Var->getType();
    const Expr *Init = Var->getInit();
    if (!T->isReferenceType() && R.Model.classifyContainer(T))
      return true; // a copy of a container is no view
    std::optional<ViewInfo> View;
    if (T->isReferenceType()) {
      View = R.elementLValue(Init);
      if (!View && isViewType(T))
        View = R.viewValue(Init);
    } else if (T->isPointerType() || T->isRecordType()) {
      View = R.viewValue(Init);
      if (!View && T->isRecordType())
        if (const auto *List = dyn_cast<InitListExpr>(
                utils::ignoreWrappersAndExplicitCasts(Init)))
          aggregate(Var, List);
    }
    if (View)
      record(Slot{Var, nullptr}, std::move(View), nullptr);
    else if (T->isPointerType())
      recordFieldCopy(Slot{Var, nullptr}, Init, nullptr);
    return true;
  }

  /// The slot \p Target copies the pointer field read by \p Value: it holds
  /// one of the views stored in that field.
  bool recordFieldCopy(Slot Target, const Expr *Value, const Stmt *Site) {
    if (!FieldViews)
      return false;
    std::vector<StoredView> Stored = FieldViews->viewsRead(Value, R);
    const FieldDecl *Field = pointerFieldRead(Value).first;
    for (size_t I = 0; I < Stored.size(); ++I)
      record(Target, std::move(Stored[I].View), Site, I > 0, Field,
             Stored[I].Site);
    return !Stored.empty();
  }

  /// `S s{v.data(), ...}`: views stored in the fields of a local aggregate.
  void aggregate(const VarDecl *Var, const InitListExpr *List) {
    const auto *Record = Var->getType()->getAsCXXRecordDecl();
    if (!Record || Record->isUnion())
      return;
    if (List->isSyntacticForm() && List->getSemanticForm())
      List = List->getSemanticForm();
    // The initialisers of an aggregate's bases come first.
    unsigned Index = Record->getNumBases();
    for (const FieldDecl *Field : Record->fields()) {
      if (Index >= List->getNumInits())
        break;
      const Expr *Init = List->getInit(Index++);
      std::optional<ViewInfo> View = Field->getType()->isReferenceType()
                                         ? R.elementLValue(Init)
                                         : R.viewValue(Init);
      if (View)
        record(Slot{Var, Field}, std::move(View), nullptr);
    }
  }

  bool VisitBinaryOperator(BinaryOperator *Op) {
    if (Op->getOpcode() == BO_Assign)
      assignment(Op->getLHS(), Op->getRHS(), Op);
    return true;
  }

  bool VisitCXXOperatorCallExpr(CXXOperatorCallExpr *Op) {
    if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2)
      assignment(Op->getArg(0), Op->getArg(1), Op);
    return true;
  }

  void assignment(const Expr *LHS, const Expr *RHS, const Stmt *Site) {
    LHS = LHS->IgnoreParenImpCasts();
    Slot Target;
    QualType T;
    if (const auto *Ref = dyn_cast<DeclRefExpr>(LHS)) {
      const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
      if (!Var || !Var->hasLocalStorage() || Var->getType()->isReferenceType())
        return; // assigning through a reference writes the element
      Target = {Var, nullptr};
      T = Var->getType();
      AssignTargets.insert(Ref);
    } else if (const auto *Member = dyn_cast<MemberExpr>(LHS)) {
      const auto *Field = dyn_cast<FieldDecl>(Member->getMemberDecl());
      const auto *Base =
          Member->isArrow()
              ? nullptr
              : dyn_cast<DeclRefExpr>(Member->getBase()->IgnoreParenImpCasts());
      const auto *Var = Base ? dyn_cast<VarDecl>(Base->getDecl()) : nullptr;
      if (!Field || !Var || !Var->hasLocalStorage() ||
          Var->getType()->isReferenceType() ||
          Field->getType()->isReferenceType())
        return;
      Target = {Var, Field};
      T = Field->getType();
      AssignTargets.insert(Base);
    } else {
      return;
    }
    if (R.Model.classifyContainer(T))
      return;
    std::optional<ViewInfo> View = R.viewValue(RHS);
    if (!View && T->isPointerType() && recordFieldCopy(Target, RHS, Site))
      return;
    record(Target, std::move(View), Site);
  }

  /// Records that \p Target becomes \p View (or stops being a view) at
  /// \p Site, or at its declaration when \p Site is null.
  void record(Slot Target, std::optional<ViewInfo> View, const Stmt *Site,
              bool Alternative = false, const FieldDecl *ViaField = nullptr,
              const Stmt *StoredAt = nullptr) {
    auto C = std::make_unique<Creation>();
    C->Target = Target;
    C->View = std::move(View);
    C->Site = Site;
    C->Alternative = Alternative;
    C->ViaField = ViaField;
    C->StoredAt = StoredAt;
    if (C->View && !Target.second && !R.VarViews.count(Target.first))
      R.VarViews[Target.first] = *C->View;
    if (C->View)
      Facts.SlotVars.insert(Target.first);
    if (Site)
      Facts.CreationsAt[Site].push_back(C.get());
    else
      Facts.CreationsOfVar[Target.first].push_back(C.get());
    Facts.Storage.push_back(std::move(C));
  }

  bool VisitMemberExpr(MemberExpr *Member) {
    if (const auto *Base =
            dyn_cast<DeclRefExpr>(Member->getBase()->IgnoreParenImpCasts()))
      if (const auto *Field = dyn_cast<FieldDecl>(Member->getMemberDecl()))
        MemberBases[Base] = Field;
    return true;
  }

  bool VisitExpr(Expr *E) {
    if (isa<CallExpr>(E) || isa<CXXConstructExpr>(E))
      Calls.push_back(E);
    return true;
  }

  /// What the calls may invalidate; computed only once the function is known
  /// to create a view, since following callees is the expensive part.
  void collectOperations() {
    for (const Expr *E : Calls) {
      std::vector<OpEvent> Events;
      if (std::optional<OpEvent> Event = R.directOp(E))
        Events.push_back(std::move(*Event));
      else
        Events = R.callEffects(E, 0);
      if (Events.empty())
        continue;
      auto &Slot = Facts.OpsAt[E];
      for (OpEvent &Event : Events)
        Slot.push_back(std::move(Event));
    }
  }

  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    const ValueDecl *D = Ref->getDecl();
    if (const auto *Binding = dyn_cast<BindingDecl>(D))
      D = Binding->getDecomposedDecl();
    const auto *Var = dyn_cast_or_null<VarDecl>(D);
    if (!Var)
      return true;
    RefsToResolve.push_back({Ref, Var});
    return true;
  }

  /// After the traversal (the assignment and member marks are complete).
  void finish() {
    for (auto [Ref, Var] : RefsToResolve) {
      if (!Facts.SlotVars.count(Var))
        continue;
      auto Member = MemberBases.find(Ref);
      if (AssignTargets.count(Ref)) {
        // `p = ...` overwrites the view; `s.f = ...` uses no field.
        continue;
      }
      if (Member != MemberBases.end()) {
        // `s.f` uses the view in field f; `r.first` of a pair-valued view
        // (from insert()) uses the whole view.
        Facts.UsesAt[Ref].push_back(Slot{Var, Member->second});
        Facts.UsesAt[Ref].push_back(Slot{Var, nullptr});
        continue;
      }
      // The whole variable: itself, and every view stored in its fields.
      Facts.UsesAt[Ref].push_back(Slot{Var, nullptr});
      for (const auto &C : Facts.Storage)
        if (C->Target.first == Var && C->Target.second)
          Facts.UsesAt[Ref].push_back(C->Target);
    }
  }

private:
  Resolver &R;
  FunctionFacts &Facts;
  FieldViewModel *FieldViews;
  llvm::SmallPtrSet<const DeclRefExpr *, 8> AssignTargets;
  llvm::DenseMap<const DeclRefExpr *, const FieldDecl *> MemberBases;
  std::vector<std::pair<const DeclRefExpr *, const VarDecl *>> RefsToResolve;
  std::vector<const Expr *> Calls;
};

} // namespace

//===----------------------------------------------------------------------===//
// Views kept in pointer fields
//===----------------------------------------------------------------------===//

bool FieldViewModel::isNullInit(const Expr *Init) const {
  if (!Init)
    return true;
  Init = Init->IgnoreParenImpCasts();
  if (isa<ImplicitValueInitExpr>(Init) ||
      Init->isNullPointerConstant(Context, Expr::NPC_ValueDependentIsNotNull))
    return true;
  if (const auto *List = dyn_cast<InitListExpr>(Init))
    return llvm::all_of(List->inits(),
                        [&](const Expr *E) { return isNullInit(E); }) &&
           isNullInit(List->getArrayFiller());
  return false;
}

bool FieldViewModel::isCandidate(const FieldDecl *Field) const {
  const RecordDecl *Record = Field ? Field->getParent() : nullptr;
  if (!Record || Record->isUnion() || Record->isLambda())
    return false;
  if (!holdsPointers(*Field))
    return false;
  const SourceManager &SM = Context.getSourceManager();
  return SM.isInMainFile(SM.getExpansionLoc(Record->getBeginLoc()));
}

std::vector<StoredView> FieldViewModel::viewsRead(const Expr *Read,
                                                  const Resolver &R) {
  auto [Field, Member] = pointerFieldRead(Read);
  if (!Field || Building || !isCandidate(Field))
    return {};
  if (!Built)
    build();
  auto It = Fields.find(Field);
  if (It == Fields.end() || It->second.Unknown)
    return {};
  std::optional<Path> Owner;
  std::vector<StoredView> Out;
  for (const StoredView &Stored : It->second.Views) {
    StoredView Mapped = Stored;
    if (Stored.Relative) {
      if (!Owner)
        Owner = R.pathOf(Member->getBase());
      if (!Owner)
        return {}; // the object is not one the flow analysis can name
      Path P = *Owner;
      P.append(Stored.View.Container.begin() + 1, Stored.View.Container.end());
      Mapped.View.Container = std::move(P);
    }
    Out.push_back(std::move(Mapped));
  }
  return Out;
}

namespace {

/// One function's stores into pointer fields, and the reads of those fields
/// in places other than a plain read or a store (which make them unknown).
class FieldStoreFinder : public RecursiveASTVisitor<FieldStoreFinder> {
public:
  struct Store {
    const FieldDecl *Field;
    const MemberExpr *Member;
    const Expr *Value;
    const Stmt *Site;
  };
  std::vector<Store> Stores;
  std::vector<std::pair<const FieldDecl *, const Expr *>> Accesses;
  llvm::SmallPtrSet<const Expr *, 16> Allowed;
  llvm::SmallPtrSet<const VarDecl *, 8> AssignedLocals;
  std::vector<const InitListExpr *> AggregateInits;

  bool VisitBinaryOperator(BinaryOperator *Op) {
    if (!Op->isAssignmentOp())
      return true;
    const Expr *LHS = Op->getLHS()->IgnoreParens();
    Allowed.insert(LHS);
    if (const auto *Ref = dyn_cast<DeclRefExpr>(LHS))
      if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl()))
        AssignedLocals.insert(Var);
    // `f += n` moves within the same storage: no new store.
    if (Op->getOpcode() == BO_Assign)
      if (auto [Field, Member] = pointerFieldRead(LHS); Field)
        Stores.push_back({Field, Member, Op->getRHS(), Op});
    return true;
  }

  bool VisitUnaryOperator(UnaryOperator *Op) {
    const Expr *Operand = Op->getSubExpr()->IgnoreParens();
    if (Op->isIncrementDecrementOp())
      Allowed.insert(Operand);
    else if (Op->getOpcode() == UO_AddrOf)
      if (const auto *Ref = dyn_cast<DeclRefExpr>(Operand))
        if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl()))
          AssignedLocals.insert(Var); // may be changed through the address
    return true;
  }

  bool VisitImplicitCastExpr(ImplicitCastExpr *Cast) {
    if (Cast->getCastKind() == CK_LValueToRValue)
      Allowed.insert(Cast->getSubExpr()->IgnoreParens());
    return true;
  }

  bool VisitArraySubscriptExpr(ArraySubscriptExpr *Subscript) {
    if (auto [Field, Member] = pointerFieldRead(Subscript); Field) {
      Allowed.insert(Member);
      Accesses.push_back({Field, Subscript});
    }
    return true;
  }

  bool VisitMemberExpr(MemberExpr *Member) {
    const auto *Field = dyn_cast<FieldDecl>(Member->getMemberDecl());
    if (!Field)
      return true;
    // An array of pointers is allowed only under a subscript.
    if (holdsPointers(*Field))
      Accesses.push_back({Field, Member});
    return true;
  }

  bool VisitInitListExpr(InitListExpr *List) {
    const InitListExpr *Semantic =
        List->isSemanticForm() ? List : List->getSemanticForm();
    if (Semantic && SeenInits.insert(Semantic).second)
      AggregateInits.push_back(Semantic);
    return true;
  }

  /// A pointer to member (`&S::f`) can store anything through `.*`.
  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    if (const auto *Field = dyn_cast<FieldDecl>(Ref->getDecl()))
      MemberPointers.push_back(Field);
    return true;
  }

  std::vector<const FieldDecl *> MemberPointers;

private:
  llvm::SmallPtrSet<const InitListExpr *, 8> SeenInits;
};

} // namespace

void FieldViewModel::addStore(
    FieldFacts &Facts, const std::optional<Path> &Owner, const Expr *Value,
    const Stmt *Site, const Resolver &R,
    const llvm::SmallPtrSetImpl<const VarDecl *> &AssignedLocals,
    unsigned Depth) {
  if (!Value || Depth > 4) {
    Facts.Unknown = true;
    return;
  }
  if (Value->isNullPointerConstant(Context,
                                   Expr::NPC_ValueDependentIsNotNull) ||
      isa<ImplicitValueInitExpr>(Value->IgnoreParenImpCasts()))
    return;
  const Expr *Stripped = utils::ignoreWrappersAndExplicitCasts(Value);
  // A copy of another pointer field.
  if (auto [From, Member] = pointerFieldRead(Stripped); From) {
    if (!isCandidate(From)) {
      Facts.Unknown = true;
      return;
    }
    std::optional<Path> FromOwner = R.pathOf(Member->getBase());
    Facts.Copies.push_back({From, Owner && FromOwner && *Owner == *FromOwner});
    return;
  }
  // A local pointer that is never assigned after its initialisation (a
  // saved copy put back: `int *Old = S.f; ...; S.f = Old;`).
  if (const auto *Ref = dyn_cast<DeclRefExpr>(Stripped))
    if (const auto *Var = dyn_cast<VarDecl>(Ref->getDecl());
        Var && Var->hasLocalStorage() && !isa<ParmVarDecl>(Var) &&
        isDataPointer(Var->getType()) && Var->getInit() &&
        !AssignedLocals.count(Var)) {
      addStore(Facts, Owner, Var->getInit(), Site, R, AssignedLocals,
               Depth + 1);
      return;
    }
  std::optional<ViewInfo> View = R.viewValue(Stripped);
  if (!View || View->Container.empty()) {
    Facts.Unknown = true;
    return;
  }
  // The element it designates is not known to the reader.
  View->Kind = ViewKind::Reference;
  View->Where = Origin::Unknown;
  View->Key = 0;
  View->IterVar = nullptr;
  const Path &P = View->Container;
  if (Owner && P.size() > Owner->size() &&
      std::equal(Owner->begin(), Owner->end(), P.begin())) {
    Path Relative{Step{Step::This, nullptr, 0, std::nullopt}};
    Relative.append(P.begin() + Owner->size(), P.end());
    View->Container = std::move(Relative);
    Facts.Views.push_back({std::move(*View), true, Site});
    return;
  }
  const Step &Root = P.front();
  const auto *Global = Root.Kind == Step::Var
                           ? static_cast<const VarDecl *>(Root.Decl)
                           : nullptr;
  if (Global && Global->hasGlobalStorage()) {
    Facts.Views.push_back({std::move(*View), false, Site});
    return;
  }
  Facts.Unknown = true;
}

void FieldViewModel::noteUntracked(const FieldStoreFinder &Finder) {
  for (const auto &[Field, Access] : Finder.Accesses)
    if (isCandidate(Field) && !Finder.Allowed.count(Access))
      Fields[Field].Unknown = true;
  for (const FieldDecl *Field : Finder.MemberPointers)
    if (isCandidate(Field))
      Fields[Field].Unknown = true;
  for (const InitListExpr *List : Finder.AggregateInits) {
    const RecordDecl *Record = List->getType()->getAsRecordDecl();
    if (!Record || Record->isUnion())
      continue;
    // The initialisers of an aggregate's bases come first.
    unsigned Index = 0;
    if (const auto *Class = dyn_cast<CXXRecordDecl>(Record))
      Index = Class->getNumBases();
    for (const FieldDecl *Field : Record->fields()) {
      if (Index >= List->getNumInits())
        break;
      const Expr *Init = List->getInit(Index++);
      if (isCandidate(Field) && !isNullInit(Init))
        Fields[Field].Unknown = true;
    }
  }
}

void FieldViewModel::scanFunction(const FunctionDecl &F) {
  FieldStoreFinder Finder;
  Finder.TraverseStmt(F.getBody());
  // The constructor's initialisers of candidate fields that store more than
  // null.
  llvm::SmallVector<const CXXCtorInitializer *, 2> Inits;
  if (const auto *Constructor = dyn_cast<CXXConstructorDecl>(&F))
    for (const CXXCtorInitializer *Init : Constructor->inits())
      if (Init->isWritten() && Init->getMember() &&
          isCandidate(Init->getMember()) && !isNullInit(Init->getInit()))
        Inits.push_back(Init);
  noteUntracked(Finder);
  bool Relevant =
      !Inits.empty() || llvm::any_of(Finder.Stores, [&](const auto &S) {
        return isCandidate(S.Field);
      });
  if (!Relevant)
    return;
  // The views of the function's locals (`auto &C = V.emplace_back();` then
  // `S.f = &C.next;`).
  SummaryCache Cache(Model, Context, /*AssumeUnknown=*/false);
  Resolver R(Cache, F);
  FunctionFacts Facts;
  FunctionCollector Collector(R, Facts);
  Collector.TraverseStmt(F.getBody());
  for (const FieldStoreFinder::Store &Store : Finder.Stores) {
    if (!isCandidate(Store.Field))
      continue;
    addStore(Fields[Store.Field], R.pathOf(Store.Member->getBase()),
             Store.Value, Store.Site, R, Finder.AssignedLocals, 0);
  }
  for (const CXXCtorInitializer *Init : Inits) {
    FieldFacts &Facts = Fields[Init->getMember()];
    if (!isDataPointer(Init->getMember()->getType())) {
      Facts.Unknown = true; // an array of pointers set as a whole
      continue;
    }
    // `F{V}` and `F(V)` store V.
    const Expr *Value = Init->getInit();
    if (const auto *List = dyn_cast<InitListExpr>(Value->IgnoreParenImpCasts()))
      Value = List->getNumInits() == 1 ? List->getInit(0) : nullptr;
    addStore(Facts, Path{Step{Step::This, nullptr, 0, std::nullopt}}, Value,
             Init->getInit(), R, Finder.AssignedLocals, 0);
  }
}

void FieldViewModel::build() {
  Building = true;
  struct FunctionFinder : RecursiveASTVisitor<FunctionFinder> {
    std::vector<const FunctionDecl *> Functions;
    std::vector<const CXXRecordDecl *> Records;
    bool VisitFunctionDecl(FunctionDecl *F) {
      if (F->doesThisDeclarationHaveABody() && !F->isDependentContext() &&
          !F->isInvalidDecl())
        Functions.push_back(F);
      return true;
    }
    bool VisitCXXRecordDecl(CXXRecordDecl *Record) {
      if (Record->hasDefinition() && Record == Record->getDefinition())
        Records.push_back(Record);
      return true;
    }
    bool VisitVarDecl(VarDecl *Var) {
      if (!Var->isLocalVarDeclOrParm() && Var->getInit() &&
          !Var->getInit()->isValueDependent())
        GlobalInits.push_back(Var->getInit());
      return true;
    }
    std::vector<const Expr *> GlobalInits;
  } Finder;
  Finder.TraverseDecl(Context.getTranslationUnitDecl());
  const SourceManager &SM = Context.getSourceManager();
  for (const FunctionDecl *F : Finder.Functions)
    if (!SM.isInSystemHeader(SM.getExpansionLoc(F->getLocation())))
      scanFunction(*F);
  // Initialisers of globals and static members: an aggregate holding a
  // view, `&S::f`, a store in a lambda: none of them is followed.
  for (const Expr *Init : Finder.GlobalInits) {
    if (SM.isInSystemHeader(SM.getExpansionLoc(Init->getBeginLoc())))
      continue;
    FieldStoreFinder Stores;
    Stores.TraverseStmt(const_cast<Expr *>(Init));
    noteUntracked(Stores);
    for (const FieldStoreFinder::Store &Store : Stores.Stores)
      if (isCandidate(Store.Field))
        Fields[Store.Field].Unknown = true;
  }
  for (const CXXRecordDecl *Record : Finder.Records) {
    for (const FieldDecl *Field : Record->fields())
      if (isCandidate(Field) && Field->hasInClassInitializer() &&
          !isNullInit(Field->getInClassInitializer()))
        Fields[Field].Unknown = true;
    // An implicit (or defaulted) copy or move that is used copies the
    // fields as they are.
    for (const CXXMethodDecl *Method : Record->methods()) {
      bool Copies = false;
      if (const auto *Ctor = dyn_cast<CXXConstructorDecl>(Method))
        Copies = Ctor->isCopyOrMoveConstructor();
      else
        Copies = Method->isCopyAssignmentOperator() ||
                 Method->isMoveAssignmentOperator();
      if (Copies && !Method->isUserProvided() && Method->isUsed())
        CopiedWhole.insert(Record);
    }
  }
  resolveCopies();
  Building = false;
  Built = true;
}

void FieldViewModel::resolveCopies() {
  auto SameView = [](const StoredView &A, const StoredView &B) {
    return A.Relative == B.Relative && A.View.Container == B.View.Container;
  };
  bool Changed = true;
  for (unsigned Round = 0; Changed && Round < 16; ++Round) {
    Changed = false;
    for (auto &[Field, Facts] : Fields) {
      if (Facts.Unknown)
        continue;
      for (const Copy &C : Facts.Copies) {
        auto From = Fields.find(C.From);
        if (From == Fields.end())
          continue; // never stored: only null
        if (From->second.Unknown) {
          Facts.Unknown = Changed = true;
          break;
        }
        for (const StoredView &V : From->second.Views) {
          if (V.Relative && !C.SameOwner) {
            Facts.Unknown = Changed = true;
            break;
          }
          if (llvm::none_of(Facts.Views, [&](const StoredView &Known) {
                return SameView(Known, V);
              })) {
            Facts.Views.push_back(V);
            Changed = true;
          }
        }
        if (Facts.Unknown)
          break;
      }
    }
  }
  if (Changed) // no fixpoint within the bound: trust nothing
    for (auto &[Field, Facts] : Fields)
      Facts.Unknown = true;
  for (auto &[Field, Facts] : Fields)
    if (CopiedWhole.count(Field->getParent()) &&
        llvm::any_of(Facts.Views,
                     [](const StoredView &V) { return V.Relative; }))
      Facts.Unknown = true;
}

namespace {

//===----------------------------------------------------------------------===//
// Pass 2: the flow analysis
//===----------------------------------------------------------------------===//

/// What one view may be at a program point: obtained at Creation, and
/// invalidated by the operation Op at OpSite (if any).
struct Fact {
  const Creation *From = nullptr;
  const Stmt *OpSite = nullptr;
  const OpEvent *Op = nullptr;
  bool operator<(const Fact &Other) const {
    return std::tie(From, OpSite, Op) <
           std::tie(Other.From, Other.OpSite, Other.Op);
  }
  bool operator==(const Fact &Other) const {
    return From == Other.From && OpSite == Other.OpSite && Op == Other.Op;
  }
};
/// What is known of a local vector's size and capacity: an upper bound on
/// the size and a lower bound on the capacity (for `reserve` then
/// `push_back`, which does not reallocate while the capacity suffices).
struct Capacity {
  bool Known = false;
  uint64_t Size = 0;
  uint64_t Cap = 0;
  bool operator==(const Capacity &O) const {
    return Known == O.Known && (!Known || (Size == O.Size && Cap == O.Cap));
  }
};

struct State {
  std::map<Slot, std::vector<Fact>> Views;
  std::map<const VarDecl *, Capacity> Caps;
};

void addFact(std::vector<Fact> &Facts, const Fact &F) {
  auto It = std::lower_bound(Facts.begin(), Facts.end(), F);
  if (It == Facts.end() || !(*It == F))
    Facts.insert(It, F);
}

bool joinInto(State &Into, const State &From) {
  bool Changed = false;
  for (const auto &[Var, C] : From.Caps) {
    auto [It, Inserted] = Into.Caps.try_emplace(Var, C);
    if (Inserted) {
      Changed = true;
      continue;
    }
    Capacity &T = It->second;
    if (!T.Known)
      continue;
    // Different facts from different paths: give up rather than iterate
    // (this is also the widening that ends loops that push_back).
    if (!C.Known || C.Size != T.Size || C.Cap != T.Cap) {
      T.Known = false;
      Changed = true;
    }
  }
  for (const auto &[Key, Facts] : From.Views) {
    std::vector<Fact> &Target = Into.Views[Key];
    for (const Fact &F : Facts) {
      size_t Before = Target.size();
      addFact(Target, F);
      Changed |= Target.size() != Before;
    }
  }
  return Changed;
}

/// The size and capacity of a local vector right after its declaration:
/// empty, or built from an initializer list.
std::optional<Capacity> initialCapacity(const VarDecl &Var) {
  if (!Var.hasLocalStorage() || Var.getType()->isReferenceType() ||
      !utils::isStdRecordType(Var.getType(), {"vector"}))
    return std::nullopt;
  const auto *Construct = dyn_cast_or_null<CXXConstructExpr>(
      Var.getInit() ? utils::ignoreWrappersAndExplicitCasts(Var.getInit())
                    : nullptr);
  if (!Construct)
    return std::nullopt;
  if (Construct->getNumArgs() == 0 ||
      (Construct->getNumArgs() == 1 &&
       isa<CXXDefaultArgExpr>(Construct->getArg(0))))
    return Capacity{true, 0, 0};
  if (Construct->getNumArgs() >= 1)
    if (const auto *List = dyn_cast<CXXStdInitializerListExpr>(
            utils::ignoreWrappersAndExplicitCasts(Construct->getArg(0))))
      if (const auto *Array = dyn_cast<InitListExpr>(
              utils::ignoreWrappersAndExplicitCasts(List->getSubExpr())))
        return Capacity{true, Array->getNumInits(), Array->getNumInits()};
  return std::nullopt;
}

/// Applies \p Event to the tracked sizes and capacities; returns whether it
/// is an insertion at the end that cannot reallocate.
bool updateCapacity(State &S, const OpEvent &Event) {
  const Step &Root = Event.Container.front();
  if (Root.Kind != Step::Var || Event.Container.size() != 1)
    return false;
  auto It = S.Caps.find(static_cast<const VarDecl *>(Root.Decl));
  if (It == S.Caps.end() || !It->second.Known)
    return false;
  Capacity &C = It->second;
  // A callee may insert any number of times.
  if (Event.Callee) {
    C.Known = false;
    return false;
  }
  switch (Event.Op) {
  case ContainerOp::InsertBack: {
    if (!Event.SingleInsert) {
      C.Known = false;
      return false;
    }
    bool Fits = C.Size + 1 <= C.Cap;
    C.Size += 1;
    C.Cap = std::max(C.Cap, C.Size);
    return Fits;
  }
  case ContainerOp::Reserve:
    if (Event.Amount)
      C.Cap = std::max(C.Cap, *Event.Amount);
    else
      C.Known = false;
    return false;
  case ContainerOp::EraseBack:
    C.Size = C.Size ? C.Size - 1 : 0;
    return false;
  case ContainerOp::Clear:
    C.Size = 0;
    return false;
  default:
    C.Known = false;
    return false;
  }
}

struct Finding {
  Slot View;
  const Stmt *Use;
  Fact Cause;
};

} // namespace

//===----------------------------------------------------------------------===//
// The analysis' entry points
//===----------------------------------------------------------------------===//

ContainerViewAnalysis::ContainerViewAnalysis(const ContainerModel &Model,
                                             bool AssumeUnknownCallsInvalidate)
    : Model(Model), AssumeUnknownCallsInvalidate(AssumeUnknownCallsInvalidate) {
}

ContainerViewAnalysis::~ContainerViewAnalysis() = default;

void ContainerViewAnalysis::endUnit() { FieldViews.reset(); }

static std::string sourceText(const Expr *E, const ASTContext &Context) {
  if (!E)
    return "the container";
  CharSourceRange Range = CharSourceRange::getTokenRange(E->getSourceRange());
  if (Range.isInvalid() || Range.getBegin().isMacroID() ||
      Range.getEnd().isMacroID())
    return "the container";
  StringRef Text = Lexer::getSourceText(Range, Context.getSourceManager(),
                                        Context.getLangOpts());
  if (Text.empty() || Text.size() > 60 || Text.contains('\n'))
    return "the container";
  return Text.str();
}

/// The assignments `Field = Param` (through `this`, casts looked through)
/// in \p Body, by field, in source order.
static std::vector<std::pair<const FieldDecl *, const BinaryOperator *>>
fieldAssignments(const Stmt &Body, ASTContext &Context) {
  std::vector<std::pair<const FieldDecl *, const BinaryOperator *>> Out;
  for (const BoundNodes &Nodes :
       match(findAll(binaryOperator(isAssignmentOperator(),
                                    hasLHS(ignoringParenImpCasts(memberExpr(
                                        hasObjectExpression(cxxThisExpr()),
                                        member(fieldDecl().bind("field"))))))
                         .bind("assign")),
             Body, Context))
    Out.push_back({Nodes.getNodeAs<FieldDecl>("field"),
                   Nodes.getNodeAs<BinaryOperator>("assign")});
  const SourceManager &SM = Context.getSourceManager();
  llvm::sort(Out, [&](const auto &A, const auto &B) {
    return SM.isBeforeInTranslationUnit(A.second->getBeginLoc(),
                                        B.second->getBeginLoc());
  });
  return Out;
}

std::vector<ViewKeptInField>
ContainerViewAnalysis::viewsKeptInFields(const CXXMethodDecl &Method,
                                         ASTContext &Context) const {
  std::vector<ViewKeptInField> Found;
  const CXXRecordDecl *Class = Method.getParent();
  if (Method.isStatic() || !Class || Class->isLambda() ||
      !Class->hasDefinition())
    return Found;
  SummaryCache Cache(Model, Context, AssumeUnknownCallsInvalidate);
  Resolver R(Cache, Method);
  const SourceManager &SM = Context.getSourceManager();
  auto Calls = match(findAll(cxxMemberCallExpr(on(cxxThisExpr())).bind("call")),
                     *Method.getBody(), Context);
  for (const BoundNodes &Nodes : Calls) {
    const auto *Call = Nodes.getNodeAs<CXXMemberCallExpr>("call");
    const CXXMethodDecl *Callee = Call->getMethodDecl();
    const FunctionDecl *Definition = Callee ? Callee->getDefinition() : nullptr;
    if (!Definition || !Definition->getBody() || Definition == &Method ||
        Callee->getParent()->getCanonicalDecl() != Class->getCanonicalDecl())
      continue;
    for (unsigned I = 0;
         I < Call->getNumArgs() && I < Definition->getNumParams(); ++I) {
      // A pointer, iterator or view into a container that is a local of
      // this function (not a reference, not static): it dies on return.
      std::optional<ViewInfo> View = R.viewValue(Call->getArg(I));
      if (!View || View->Container.size() != 1 ||
          View->Container[0].Kind != Step::Var)
        continue;
      const auto *Local = static_cast<const VarDecl *>(View->Container[0].Decl);
      if (!Local || !Local->hasLocalStorage() || isa<ParmVarDecl>(Local) ||
          Local->getType()->isReferenceType() ||
          Local->getParentFunctionOrMethod() != &Method)
        continue;
      const ParmVarDecl *Param = Definition->getParamDecl(I);
      // The callee keeps the parameter in a field of `this`, and does not
      // overwrite that field before it returns.
      auto Stores = fieldAssignments(*Definition->getBody(), Context);
      for (size_t S = 0; S < Stores.size(); ++S) {
        const auto *Ref = dyn_cast<DeclRefExpr>(
            Stores[S].second->getRHS()->IgnoreParenImpCasts());
        if (!Ref || Ref->getDecl() != Param)
          continue;
        const FieldDecl *Field = Stores[S].first;
        bool Overwritten = llvm::any_of(
            llvm::drop_begin(Stores, S + 1),
            [&](const auto &Later) { return Later.first == Field; });
        // ... nor does this function after the call.
        for (const auto &[Assigned, Assign] :
             fieldAssignments(*Method.getBody(), Context))
          if (Assigned == Field &&
              SM.isBeforeInTranslationUnit(Call->getEndLoc(),
                                           Assign->getBeginLoc()))
            Overwritten = true;
        if (Overwritten)
          continue;
        // Some other member function reads the field after the caller
        // returned: a public one, or one that a public member function
        // other than the caller and the callee calls (a private helper
        // that only the callee uses runs while the local is alive).
        auto OtherBody = [&](const CXXMethodDecl *M) -> const FunctionDecl * {
          const FunctionDecl *Body = M->getDefinition();
          if (!Body || !Body->getBody() || Body == Definition ||
              Body == &Method || isa<CXXConstructorDecl>(M) ||
              isa<CXXDestructorDecl>(M))
            return nullptr;
          return Body;
        };
        auto CalledByPublic = [&](const CXXMethodDecl *M) {
          return llvm::any_of(Class->methods(), [&](const CXXMethodDecl *P) {
            const FunctionDecl *Body = OtherBody(P);
            return Body && P->getAccess() == AS_public &&
                   !match(findAll(cxxMemberCallExpr(callee(cxxMethodDecl(
                              equalsNode(M->getCanonicalDecl()))))),
                          *Body->getBody(), Context)
                        .empty();
          });
        };
        const MemberExpr *LaterRead = nullptr;
        const CXXMethodDecl *Reader = nullptr;
        for (const CXXMethodDecl *Other : Class->methods()) {
          const FunctionDecl *Body = OtherBody(Other);
          if (!Body)
            continue;
          auto Reads =
              match(findAll(memberExpr(member(equalsNode(Field))).bind("read")),
                    *Body->getBody(), Context);
          if (!Reads.empty() &&
              (Other->getAccess() == AS_public || CalledByPublic(Other))) {
            LaterRead = Reads.front().getNodeAs<MemberExpr>("read");
            Reader = Other;
            break;
          }
        }
        if (!LaterRead)
          continue;
        SourceLocation Loc = Call->getArg(I)->getBeginLoc();
        if (Loc.isInvalid())
          continue;
        ViewKeptInField Kept;
        Kept.Loc = Loc;
        Kept.View = sourceText(Call->getArg(I), Context);
        Kept.Local = Local->getName().str();
        Kept.Keeper = Callee->getQualifiedNameAsString();
        Kept.Field = Field->getName().str();
        Kept.KeptAt = Stores[S].second->getBeginLoc();
        Kept.ReadAt = LaterRead->getMemberLoc();
        Kept.Reader = Reader->getQualifiedNameAsString();
        Kept.Call = Call;
        Found.push_back(std::move(Kept));
        break; // the argument's first store that lasts
      }
    }
  }
  return Found;
}

std::vector<StaleViewUse>
ContainerViewAnalysis::staleUses(const FunctionDecl &Function,
                                 ASTContext &Context) {
  std::vector<StaleViewUse> Stale;
  SummaryCache Cache(Model, Context, AssumeUnknownCallsInvalidate);
  Resolver R(Cache, Function);
  FunctionFacts Facts;
  if (!FieldViews || &FieldViews->context() != &Context)
    FieldViews = std::make_unique<FieldViewModel>(Model, Context);
  FunctionCollector Collector(R, Facts, FieldViews.get());
  Collector.TraverseStmt(Function.getBody());
  // Only functions that create a view pay for a CFG.
  if (Facts.SlotVars.empty())
    return Stale;
  Collector.finish();
  Collector.collectOperations();

  CFG::BuildOptions Options;
  Options.setAllAlwaysAdd();
  Options.AddImplicitDtors = false;
  Options.AddLifetime = false;
  Options.AddCXXDefaultInitExprInCtors = true;
  std::unique_ptr<CFG> Graph =
      CFG::buildCFG(&Function, Function.getBody(), &Context, Options);
  if (!Graph)
    return Stale;

  std::vector<State> Entry(Graph->getNumBlockIDs());
  std::vector<bool> Seen(Graph->getNumBlockIDs(), false);
  std::vector<Finding> Findings;
  // Per view, the uses at which it may be invalid and why.
  std::map<Slot, llvm::DenseMap<const Stmt *, Fact>> Candidates;
  llvm::SmallPtrSet<const CXXForRangeStmt *, 4> ReportedLoops;

  auto Transfer = [&](const CFGBlock &Block, State S, bool Record) {
    auto Create = [&](const Creation &C) {
      std::vector<Fact> &Target = S.Views[C.Target];
      if (!C.Alternative)
        Target.clear();
      if (C.View)
        Target.push_back(Fact{&C, nullptr, nullptr});
      // Overwriting a whole aggregate drops the views in its fields.
      if (!C.Target.second)
        for (auto &[Key, Facts] : S.Views)
          if (Key.first == C.Target.first && Key.second && !C.View)
            Facts.clear();
    };
    for (const CFGElement &Element : Block) {
      std::optional<CFGStmt> CS = Element.getAs<CFGStmt>();
      if (!CS)
        continue;
      const Stmt *St = CS->getStmt();
      bool Touched = false;
      if (auto It = Facts.UsesAt.find(St); It != Facts.UsesAt.end() && Record)
        for (const Slot &Used : It->second) {
          auto Found = S.Views.find(Used);
          if (Found == S.Views.end())
            continue;
          for (const Fact &F : Found->second)
            if (F.Op) {
              Candidates[Used].try_emplace(St, F);
              break;
            }
        }
      if (auto It = Facts.OpsAt.find(St); It != Facts.OpsAt.end())
        for (const OpEvent &Event : It->second) {
          Touched = true;
          bool NoRealloc = updateCapacity(S, Event);
          for (auto &[Key, List] : S.Views)
            for (Fact &F : List)
              if (!F.Op && F.From->View &&
                  invalidates(Event, *F.From->View, Key, NoRealloc)) {
                F.Op = &Event;
                F.OpSite = St;
              }
        }
      if (auto It = Facts.CreationsAt.find(St); It != Facts.CreationsAt.end())
        for (const Creation *C : It->second) {
          Touched = true;
          Create(*C);
        }
      if (const auto *Decl = dyn_cast<DeclStmt>(St))
        for (const class Decl *D : Decl->decls())
          if (const auto *Var = dyn_cast<VarDecl>(D)) {
            if (std::optional<Capacity> C = initialCapacity(*Var))
              S.Caps[Var] = *C;
            if (auto It = Facts.CreationsOfVar.find(Var);
                It != Facts.CreationsOfVar.end())
              for (const Creation *C : It->second) {
                Touched = true;
                Create(*C);
              }
          }
      if (!Touched)
        continue;
      // Facts lists must stay sorted after in-place updates.
      for (auto &[Key, List] : S.Views) {
        std::sort(List.begin(), List.end());
        List.erase(std::unique(List.begin(), List.end()), List.end());
      }
    }
    return S;
  };

  // Fixpoint over the blocks in reverse post-order.
  // Reverse post-order (llvm::ReversePostOrderTraversal would follow the
  // null successors that stand for pruned edges).
  std::vector<const CFGBlock *> Order;
  {
    std::vector<bool> Visited(Graph->getNumBlockIDs(), false);
    llvm::SmallVector<std::pair<const CFGBlock *, unsigned>, 32> Stack;
    Stack.push_back({&Graph->getEntry(), 0});
    Visited[Graph->getEntry().getBlockID()] = true;
    while (!Stack.empty()) {
      auto &[Block, Next] = Stack.back();
      if (Next < Block->succ_size()) {
        const CFGBlock *Succ = Block->succ_begin()[Next++].getReachableBlock();
        if (Succ && !Visited[Succ->getBlockID()]) {
          Visited[Succ->getBlockID()] = true;
          Stack.push_back({Succ, 0});
        }
        continue;
      }
      Order.push_back(Block);
      Stack.pop_back();
    }
    std::reverse(Order.begin(), Order.end());
  }
  bool Changed = true;
  Seen[Graph->getEntry().getBlockID()] = true;
  unsigned Rounds = 0;
  while (Changed && Rounds++ < 64) {
    Changed = false;
    for (const CFGBlock *Block : Order) {
      if (!Block || !Seen[Block->getBlockID()])
        continue;
      State Out = Transfer(*Block, Entry[Block->getBlockID()], false);
      for (const CFGBlock::AdjacentBlock &Succ : Block->succs()) {
        const CFGBlock *Next = Succ.getReachableBlock();
        if (!Next)
          continue;
        bool First = !Seen[Next->getBlockID()];
        Seen[Next->getBlockID()] = true;
        if (joinInto(Entry[Next->getBlockID()], Out) || First)
          Changed = true;
      }
    }
  }
  // Report from the fixpoint states.
  for (const CFGBlock *Block : Order)
    if (Block && Seen[Block->getBlockID()])
      Transfer(*Block, Entry[Block->getBlockID()], true);

  // Report, per view, the use that comes first after the invalidation:
  // breadth-first from the invalidating statement.
  std::vector<const CFGBlock *> ByID(Graph->getNumBlockIDs(), nullptr);
  llvm::DenseMap<const Stmt *, std::pair<unsigned, unsigned>> Position;
  for (const CFGBlock *Block : *Graph) {
    ByID[Block->getBlockID()] = Block;
    unsigned Index = 0;
    for (const CFGElement &Element : *Block) {
      if (std::optional<CFGStmt> CS = Element.getAs<CFGStmt>())
        Position.try_emplace(CS->getStmt(), Block->getBlockID(), Index);
      ++Index;
    }
  }
  for (auto &[View, Uses] : Candidates) {
    // The invalidation of the textually first candidate use.
    const Stmt *FirstUse = nullptr;
    Fact FirstFact;
    for (const auto &[Use, Why] : Uses)
      if (!FirstUse || Use->getBeginLoc() < FirstUse->getBeginLoc()) {
        FirstUse = Use;
        FirstFact = Why;
      }
    if (!FirstUse)
      continue;
    const Stmt *Chosen = nullptr;
    auto Start = Position.find(FirstFact.OpSite);
    if (Start != Position.end()) {
      llvm::SmallVector<std::pair<unsigned, unsigned>, 16> Queue;
      std::vector<bool> Queued(ByID.size(), false);
      Queue.push_back(Start->second);
      for (size_t Next = 0; Next < Queue.size() && !Chosen; ++Next) {
        auto [ID, From] = Queue[Next];
        const CFGBlock *Block = ByID[ID];
        if (!Block)
          continue;
        unsigned Index = 0;
        for (const CFGElement &Element : *Block) {
          if (Index++ < From)
            continue;
          if (std::optional<CFGStmt> CS = Element.getAs<CFGStmt>())
            if (Uses.count(CS->getStmt())) {
              Chosen = CS->getStmt();
              break;
            }
        }
        for (const CFGBlock::AdjacentBlock &Succ : Block->succs())
          if (const CFGBlock *To = Succ.getReachableBlock();
              To && !Queued[To->getBlockID()]) {
            Queued[To->getBlockID()] = true;
            Queue.push_back({To->getBlockID(), 0});
          }
      }
    }
    if (!Chosen)
      Chosen = FirstUse;
    Findings.push_back(Finding{View, Chosen, Uses.find(Chosen)->second});
  }
  llvm::sort(Findings, [](const Finding &A, const Finding &B) {
    return A.Use->getBeginLoc() < B.Use->getBeginLoc();
  });

  for (const Finding &F : Findings) {
    const Creation &C = *F.Cause.From;
    const OpEvent &Op = *F.Cause.Op;
    StaleViewUse Use;
    Use.Why = reasonOf(Op);
    Use.Container = sourceText(C.View->ContainerExpr, Context);
    Use.UseLoc = F.Use->getBeginLoc();
    auto Hidden = Facts.HiddenIterators.find(F.View.first);
    if (Hidden != Facts.HiddenIterators.end()) {
      const CXXForRangeStmt *Loop = Hidden->second;
      if (!ReportedLoops.insert(Loop).second)
        continue;
      Use.RangeFor = true;
      Use.Container = sourceText(Loop->getRangeInit(), Context);
      Use.UseLoc = Loop->getRangeInit() ? Loop->getRangeInit()->getBeginLoc()
                                        : Loop->getBeginLoc();
    } else {
      Use.View = F.View.first->getName().str();
      // A structured binding is named by the binding, not the hidden object.
      if (const auto *Ref = dyn_cast<DeclRefExpr>(F.Use);
          Ref && isa<BindingDecl>(Ref->getDecl()))
        Use.View = Ref->getDecl()->getName().str();
      if (F.View.second)
        Use.View += "." + F.View.second->getName().str();
      Use.CreatedAt =
          C.Site ? C.Site->getBeginLoc() : C.Target.first->getLocation();
      if (C.ViaField && C.StoredAt) {
        Use.ViaField = C.ViaField->getName().str();
        Use.StoredAt = C.StoredAt->getBeginLoc();
      }
    }
    if (Use.UseLoc.isInvalid())
      continue;
    if (const auto *Method = dyn_cast_or_null<CXXMethodDecl>(Op.Callee);
        Method && Method->getParent()->isLambda())
      Use.InLambda = true;
    else if (Op.Callee)
      Use.Callee = Op.Callee->getNameAsString();
    Use.OpLoc = F.Cause.OpSite->getBeginLoc();
    if (const auto *Member = dyn_cast<CXXMemberCallExpr>(F.Cause.OpSite))
      if (const auto *Callee =
              dyn_cast<MemberExpr>(Member->getCallee()->IgnoreParens());
          Callee && Callee->getMemberLoc().isValid())
        Use.OpLoc = Callee->getMemberLoc();
    Stale.push_back(std::move(Use));
  }
  return Stale;
}

} // namespace clang::tidy::concguard::utils
