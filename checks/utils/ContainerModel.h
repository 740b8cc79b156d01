//===--- ContainerModel.h - standard containers and their invalidation ---===//
//
// The shared model of C++ containers: which types are containers (the
// standard ones and the user types mapped onto a family by the
// `ContainerFamilies` option), which member calls read, write elements or
// change the structure, and which views (iterators vs references/pointers)
// each operation invalidates, following the standard's rules
// ([vector.modifiers], [deque.modifiers], [unord.req], [associative.reqmts],
// [list.modifiers], [string.require]). The table is data: one row per
// family, one column per operation.
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_CONTAINERMODEL_H
#define CONCGUARD_CHECKS_UTILS_CONTAINERMODEL_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/Type.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::concguard::utils {

/// Container families: containers of one family invalidate views alike.
enum class ContainerFamily {
  Vector,    ///< std::vector: contiguous, reallocates on growth
  String,    ///< std::basic_string: like vector, plus small-string storage
             ///< (swap and move relocate the characters)
  Deque,     ///< std::deque: end insertions keep references, not iterators
  Unordered, ///< std::unordered_{map,set,multimap,multiset}: node-stable,
             ///< rehashing invalidates iterators
  Node,      ///< std::{map,set,multimap,multiset,list,forward_list}
  Array,     ///< std::array: fixed storage, nothing invalidates views
};

/// What an operation does to a container, as far as views are concerned.
enum class ContainerOp {
  Read,         ///< observers, lookups, element access, begin/end/data
  MapSubscript, ///< operator[] of a map: inserts when the key is missing
  InsertBack,   ///< push_back, emplace_back, append, +=
  InsertFront,  ///< push_front, emplace_front
  Insert,       ///< insert/emplace anywhere, splice, merge, replace
  EraseBack,    ///< pop_back
  EraseFront,   ///< pop_front
  Erase,        ///< erase, extract, remove(_if), unique
  Clear,        ///< clear
  Assign,       ///< assign, operator=
  Reserve,      ///< reserve
  Rehash,       ///< rehash, max_load_factor(f)
  Resize,       ///< resize
  ShrinkToFit,  ///< shrink_to_fit
  Swap,         ///< swap
  Reorder,      ///< list sort/reverse: relinks nodes, moves no element
  Unknown,      ///< a non-const member the model does not know
};
constexpr unsigned NumContainerOps =
    static_cast<unsigned>(ContainerOp::Unknown) + 1;

/// Coarse access kind, for race analyses (concguard-unsynchronized-container).
enum class AccessKind {
  Read,            ///< reads the container or its elements
  ElementWrite,    ///< writes an element in place, structure unchanged
  StructuralWrite, ///< changes size, layout or node links
};

/// Which views of a kind (iterators, or references/pointers) an operation
/// invalidates.
enum class ViewScope {
  None,      ///< none
  All,       ///< every view (the operation may reallocate or destroy all)
  AtOrAfter, ///< views at or after the modified position (vector erase)
  Erased,    ///< only views of the erased element(s)
  Back,      ///< views of the last element (and, for sequences, end())
  Front,     ///< views of the first element
};

struct Invalidation {
  ViewScope Iterators = ViewScope::None;
  ViewScope References = ViewScope::None;
};

/// The standard's rule: what \p Op on a container of \p Family invalidates.
Invalidation invalidationOf(ContainerFamily Family, ContainerOp Op);

/// Does \p Op destroy elements (rather than only relocate them)?
bool destroysElements(ContainerOp Op);

/// Is \p Op known to remove elements, destroying them (erase, pop, clear,
/// assign, resize, swap)? Unlike destroysElements, a member the model does
/// not know is not counted: this is evidence, not a possibility.
bool removesElements(ContainerOp Op);

/// Is \p T an owning pointer, whose pointee lives as long as it (or, when
/// it is shared, as long as its last copy)? std::unique_ptr and
/// std::shared_ptr, boost's shared_ptr, intrusive_ptr and scoped_ptr, and a
/// project's own by its shape: a class with `operator*` returning a
/// reference, `operator->` returning a pointer, a pointer data member and a
/// destructor written by hand (Poco's AutoPtr and SharedPtr). A lock holder
/// (a guard member, an implicit destructor) and an iterator (no destructor
/// of its own) are not owning pointers.
bool isOwningPointerType(QualType T);

/// A user type mapped onto a family (option `ContainerFamilies`).
struct UserContainer {
  std::string QualifiedName; ///< without leading "::"
  ContainerFamily Family;
};

/// Parses `ContainerFamilies`: `Name=family` entries separated by ';' or ','
/// (family: vector, string, deque, unordered, map, set, list, forward_list,
/// node, array). Unparsable entries go to \p Invalid.
std::vector<UserContainer>
parseContainerFamilies(llvm::StringRef Option,
                       std::vector<std::string> *Invalid = nullptr);

llvm::StringRef familyName(ContainerFamily Family);
llvm::StringRef opName(ContainerOp Op);

/// The container model: standard containers plus configured user types.
class ContainerModel {
public:
  ContainerModel() = default;
  explicit ContainerModel(std::vector<UserContainer> User)
      : User(std::move(User)) {}

  /// The family of \p Type (references and cv-qualifiers ignored), or none
  /// when it is not a (known) container or is dependent.
  std::optional<ContainerFamily> classifyContainer(QualType Type) const;

  /// Classifies a member call on a container by the called method's name and
  /// constness; std::nullopt when the object is not a container.
  std::optional<ContainerOp> classify(const CXXMemberCallExpr &Call) const;

  /// Classifies an overloaded operator whose first argument is a container
  /// (`=`, `+=`, `[]`); std::nullopt when it is not one.
  std::optional<ContainerOp> classify(const CXXOperatorCallExpr &Call) const;

  /// Classifies a method of a container of \p Family by name and constness.
  static ContainerOp classifyMethod(ContainerFamily Family,
                                    const CXXMethodDecl &Method);

  /// The coarse access kind of \p Op (Read for element accessors: whether the
  /// returned element is then written is decided in its context, by
  /// ContainerAccessClassifier in ContainerAccess.h).
  static AccessKind accessKind(ContainerOp Op);

private:
  std::vector<UserContainer> User;
};

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_CONTAINERMODEL_H
