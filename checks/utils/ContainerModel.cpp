//===--- ContainerModel.cpp - standard containers and their invalidation -===//

#include "ContainerModel.h"
#include "StdNames.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <initializer_list>

namespace clang::tidy::concguard::utils {

namespace {

using S = ViewScope;
constexpr Invalidation N{S::None, S::None};
constexpr Invalidation All{S::All, S::All};
constexpr Invalidation ItersOnly{S::All, S::None};
constexpr Invalidation AtOrAfter{S::AtOrAfter, S::AtOrAfter};
constexpr Invalidation Erased{S::Erased, S::Erased};
constexpr Invalidation Back{S::Back, S::Back};
constexpr Invalidation Front{S::Front, S::Front};

// One row per family, one column per ContainerOp (in enum order):
//   Read, MapSubscript, InsertBack, InsertFront, Insert, EraseBack,
//   EraseFront, Erase, Clear, Assign, Reserve, Rehash, Resize, ShrinkToFit,
//   Swap, Reorder, Unknown.
// "May reallocate" operations invalidate everything: the check cannot know
// the capacity, and the standard only promises validity when no
// reallocation happens.
constexpr Invalidation Table[][NumContainerOps] = {
    // Vector: [vector.capacity], [vector.modifiers].
    {N, N, All, All, All, Back, AtOrAfter, AtOrAfter, All, All, All, N, All,
     All, N, N, All},
    // String: [string.require]: any non-const member except the element
    // accessors may invalidate; swap moves small strings.
    {N, N, All, All, All, Back, AtOrAfter, AtOrAfter, All, All, All, N, All,
     All, All, N, All},
    // Deque: [deque.modifiers]: insertion at either end invalidates all
    // iterators and no reference; in the middle, everything. Erasing the
    // first or last element only touches that element; resize may grow
    // (iterators) or erase at the back.
    {N, N, ItersOnly, ItersOnly, All, Back, Front, All, All, All, N, N,
     Invalidation{S::All, S::Back}, All, N, N, All},
    // Unordered: [unord.req.general]: insertion and rehash may invalidate
    // iterators, never references; erase only the erased elements.
    {N, ItersOnly, ItersOnly, ItersOnly, ItersOnly, Erased, Erased, Erased, All,
     All, ItersOnly, ItersOnly, N, N, N, N, All},
    // Node: [associative.reqmts.general], [list.modifiers]: insertion
    // invalidates nothing; erase only the erased elements.
    {N, N, N, N, N, Back, Front, Erased, All, All, N, N, Back, N, N, N, All},
    // Array: fixed storage.
    {N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N},
};

bool isConstMethod(const CXXMethodDecl &Method) { return Method.isConst(); }

} // namespace

Invalidation invalidationOf(ContainerFamily Family, ContainerOp Op) {
  return Table[static_cast<unsigned>(Family)][static_cast<unsigned>(Op)];
}

bool destroysElements(ContainerOp Op) {
  switch (Op) {
  case ContainerOp::EraseBack:
  case ContainerOp::EraseFront:
  case ContainerOp::Erase:
  case ContainerOp::Clear:
  case ContainerOp::Assign:
  case ContainerOp::Unknown:
    return true;
  default:
    return false;
  }
}

bool removesElements(ContainerOp Op) {
  // What may destroy elements, less the operations the model does not know,
  // plus those that destroy some only by their arguments.
  return (destroysElements(Op) && Op != ContainerOp::Unknown) ||
         Op == ContainerOp::Resize || Op == ContainerOp::Swap;
}

bool isOwningPointerType(QualType T) {
  if (T.isNull())
    return false;
  const CXXRecordDecl *Record = T.getNonReferenceType()->getAsCXXRecordDecl();
  if (!Record || !Record->hasDefinition())
    return false;
  Record = Record->getDefinition();
  const NamedDecl *Named = Record;
  if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(Record))
    Named = Spec->getSpecializedTemplate();
  if (Named->getIdentifier() && isStdOrBoostDecl(Named))
    return llvm::is_contained(
        {"unique_ptr", "shared_ptr", "intrusive_ptr", "scoped_ptr"},
        Named->getName());
  if (Record->isInStdNamespace())
    return false;
  const CXXDestructorDecl *Dtor = Record->getDestructor();
  if (!Dtor || !Dtor->isUserProvided())
    return false;
  bool Star = false, Arrow = false;
  for (const CXXMethodDecl *Method : Record->methods()) {
    QualType Result = Method->getReturnType();
    if (Method->getOverloadedOperator() == OO_Star && Method->param_empty() &&
        Result->isLValueReferenceType())
      Star = true;
    else if (Method->getOverloadedOperator() == OO_Arrow &&
             Result->isPointerType())
      Arrow = true;
  }
  return Star && Arrow &&
         llvm::any_of(Record->fields(), [](const FieldDecl *F) {
           return F->getType()->isPointerType();
         });
}

llvm::StringRef familyName(ContainerFamily Family) {
  switch (Family) {
  case ContainerFamily::Vector:
    return "vector";
  case ContainerFamily::String:
    return "string";
  case ContainerFamily::Deque:
    return "deque";
  case ContainerFamily::Unordered:
    return "unordered";
  case ContainerFamily::Node:
    return "node";
  case ContainerFamily::Array:
    return "array";
  }
  return "unknown";
}

llvm::StringRef opName(ContainerOp Op) {
  static constexpr const char *Names[NumContainerOps] = {
      "read",     "map-subscript", "insert-back", "insert-front",  "insert",
      "pop-back", "pop-front",     "erase",       "clear",         "assign",
      "reserve",  "rehash",        "resize",      "shrink-to-fit", "swap",
      "reorder",  "unknown"};
  return Names[static_cast<unsigned>(Op)];
}

namespace {

template <typename T>
using NameTable = std::initializer_list<std::pair<const char *, T>>;

template <typename T>
std::optional<T> lookup(NameTable<T> Table, llvm::StringRef Name) {
  for (const auto &[Key, Value] : Table)
    if (Name == Key)
      return Value;
  return std::nullopt;
}

std::optional<ContainerFamily> parseFamily(llvm::StringRef Name) {
  using F = ContainerFamily;
  return lookup<F>({{"vector", F::Vector},
                    {"small_vector", F::Vector},
                    {"string", F::String},
                    {"basic_string", F::String},
                    {"deque", F::Deque},
                    {"unordered", F::Unordered},
                    {"unordered_map", F::Unordered},
                    {"unordered_set", F::Unordered},
                    {"node", F::Node},
                    {"map", F::Node},
                    {"set", F::Node},
                    {"list", F::Node},
                    {"forward_list", F::Node},
                    {"array", F::Array}},
                   Name.lower());
}

} // namespace

std::vector<UserContainer>
parseContainerFamilies(llvm::StringRef Option,
                       std::vector<std::string> *Invalid) {
  std::vector<UserContainer> Result;
  std::string Normalized = Option.str();
  std::replace(Normalized.begin(), Normalized.end(), ',', ';');
  llvm::SmallVector<llvm::StringRef, 8> Entries;
  llvm::StringRef(Normalized).split(Entries, ';', -1, false);
  for (llvm::StringRef Entry : Entries) {
    Entry = Entry.trim();
    if (Entry.empty())
      continue;
    auto [Name, Family] = Entry.split('=');
    Name = Name.trim();
    Name.consume_front("::");
    std::optional<ContainerFamily> Parsed = parseFamily(Family.trim());
    if (Name.empty() || !Parsed) {
      if (Invalid)
        Invalid->push_back(Entry.str());
      continue;
    }
    Result.push_back({Name.str(), *Parsed});
  }
  return Result;
}

std::optional<ContainerFamily>
ContainerModel::classifyContainer(QualType Type) const {
  if (Type.isNull())
    return std::nullopt;
  Type = Type.getNonReferenceType();
  if (Type->isDependentType())
    return std::nullopt;
  const auto *Record = Type->getAsCXXRecordDecl();
  if (!Record)
    return std::nullopt;
  // A specialization is classified by its template's name.
  const NamedDecl *Named = Record;
  if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(Record))
    Named = Spec->getSpecializedTemplate();
  if (!Named->getIdentifier())
    return std::nullopt;
  if (Record->isInStdNamespace()) {
    using F = ContainerFamily;
    if (std::optional<F> Std = lookup<F>({{"vector", F::Vector},
                                          {"basic_string", F::String},
                                          {"deque", F::Deque},
                                          {"unordered_map", F::Unordered},
                                          {"unordered_set", F::Unordered},
                                          {"unordered_multimap", F::Unordered},
                                          {"unordered_multiset", F::Unordered},
                                          {"map", F::Node},
                                          {"set", F::Node},
                                          {"multimap", F::Node},
                                          {"multiset", F::Node},
                                          {"list", F::Node},
                                          {"forward_list", F::Node},
                                          {"array", F::Array}},
                                         Named->getName()))
      return Std;
  }
  if (User.empty())
    return std::nullopt;
  std::string Qualified = Named->getQualifiedNameAsString();
  for (const UserContainer &Entry : User) {
    if (Entry.QualifiedName == Qualified)
      return Entry.Family;
    // An unqualified entry names a type in any namespace.
    if (!llvm::StringRef(Entry.QualifiedName).contains("::") &&
        Entry.QualifiedName == Named->getName())
      return Entry.Family;
  }
  return std::nullopt;
}

ContainerOp ContainerModel::classifyMethod(ContainerFamily Family,
                                           const CXXMethodDecl &Method) {
  if (isa<CXXConversionDecl>(&Method))
    return ContainerOp::Read; // e.g. basic_string -> basic_string_view
  if (Method.isOverloadedOperator()) {
    switch (Method.getOverloadedOperator()) {
    case OO_Equal:
      return ContainerOp::Assign;
    case OO_PlusEqual:
      return ContainerOp::InsertBack;
    case OO_Subscript:
      return (Family == ContainerFamily::Unordered ||
              Family == ContainerFamily::Node) &&
                     !isConstMethod(Method)
                 ? ContainerOp::MapSubscript
                 : ContainerOp::Read;
    default:
      return isConstMethod(Method) ? ContainerOp::Read : ContainerOp::Unknown;
    }
  }
  if (!Method.getIdentifier())
    return isConstMethod(Method) ? ContainerOp::Read : ContainerOp::Unknown;
  llvm::StringRef Name = Method.getName();
  using O = ContainerOp;
  std::optional<O> Op = lookup<O>({{"push_back", O::InsertBack},
                                   {"emplace_back", O::InsertBack},
                                   {"append", O::InsertBack},
                                   {"append_range", O::InsertBack},
                                   {"push_front", O::InsertFront},
                                   {"emplace_front", O::InsertFront},
                                   {"prepend_range", O::InsertFront},
                                   {"insert", O::Insert},
                                   {"emplace", O::Insert},
                                   {"emplace_hint", O::Insert},
                                   {"try_emplace", O::Insert},
                                   {"insert_or_assign", O::Insert},
                                   {"insert_range", O::Insert},
                                   {"insert_after", O::Insert},
                                   {"emplace_after", O::Insert},
                                   {"splice", O::Insert},
                                   {"splice_after", O::Insert},
                                   {"merge", O::Insert},
                                   {"replace", O::Insert},
                                   {"replace_with_range", O::Insert},
                                   {"pop_back", O::EraseBack},
                                   {"pop_front", O::EraseFront},
                                   {"erase", O::Erase},
                                   {"erase_after", O::Erase},
                                   {"extract", O::Erase},
                                   {"remove", O::Erase},
                                   {"remove_if", O::Erase},
                                   {"unique", O::Erase},
                                   {"clear", O::Clear},
                                   {"assign", O::Assign},
                                   {"assign_range", O::Assign},
                                   {"reserve", O::Reserve},
                                   {"rehash", O::Rehash},
                                   {"resize", O::Resize},
                                   {"resize_and_overwrite", O::Resize},
                                   {"shrink_to_fit", O::ShrinkToFit},
                                   {"swap", O::Swap},
                                   {"sort", O::Reorder},
                                   {"reverse", O::Reorder}},
                                  Name);
  if (Op)
    return *Op;
  // max_load_factor(z) may rehash; the getter is const.
  if (Name == "max_load_factor")
    return isConstMethod(Method) ? ContainerOp::Read : ContainerOp::Rehash;
  // Element access and lookups have non-const overloads that modify nothing.
  // Element access and lookups have non-const overloads that modify nothing.
  static constexpr const char *Accessors[] = {"begin",
                                              "end",
                                              "rbegin",
                                              "rend",
                                              "cbegin",
                                              "cend",
                                              "crbegin",
                                              "crend",
                                              "before_begin",
                                              "cbefore_begin",
                                              "front",
                                              "back",
                                              "at",
                                              "data",
                                              "c_str",
                                              "find",
                                              "lower_bound",
                                              "upper_bound",
                                              "equal_range",
                                              "count",
                                              "contains",
                                              "size",
                                              "empty",
                                              "length",
                                              "capacity",
                                              "max_size",
                                              "bucket",
                                              "bucket_count",
                                              "bucket_size",
                                              "load_factor",
                                              "get_allocator",
                                              "substr",
                                              "compare",
                                              "starts_with",
                                              "ends_with",
                                              "copy",
                                              "find_first_of",
                                              "find_last_of",
                                              "rfind",
                                              "find_first_not_of",
                                              "find_last_not_of",
                                              "fill",
                                              "key_comp",
                                              "value_comp",
                                              "hash_function",
                                              "key_eq"};
  bool Accessor = llvm::is_contained(Accessors, Name);
  if (Accessor || isConstMethod(Method))
    return ContainerOp::Read;
  return ContainerOp::Unknown;
}

std::optional<ContainerOp>
ContainerModel::classify(const CXXMemberCallExpr &Call) const {
  const CXXMethodDecl *Method = Call.getMethodDecl();
  const Expr *Object = Call.getImplicitObjectArgument();
  if (!Method || !Object)
    return std::nullopt;
  QualType Type = Object->getType();
  if (Call.getImplicitObjectArgument()->getType()->isPointerType())
    Type = Type->getPointeeType();
  std::optional<ContainerFamily> Family = classifyContainer(Type);
  if (!Family)
    return std::nullopt;
  return classifyMethod(*Family, *Method);
}

std::optional<ContainerOp>
ContainerModel::classify(const CXXOperatorCallExpr &Call) const {
  if (Call.getNumArgs() == 0)
    return std::nullopt;
  const auto *Method = dyn_cast_or_null<CXXMethodDecl>(Call.getDirectCallee());
  if (!Method)
    return std::nullopt;
  std::optional<ContainerFamily> Family =
      classifyContainer(Call.getArg(0)->getType());
  if (!Family)
    return std::nullopt;
  return classifyMethod(*Family, *Method);
}

AccessKind ContainerModel::accessKind(ContainerOp Op) {
  switch (Op) {
  case ContainerOp::Read:
    return AccessKind::Read;
  default:
    // Every other operation may change the size or the node links (a map's
    // operator[] inserts a missing key; assign replaces elements).
    return AccessKind::StructuralWrite;
  }
}

} // namespace clang::tidy::concguard::utils
