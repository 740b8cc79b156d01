//===--- StdNames.h - is this declaration the standard library's X? -------===//
//
// The one test every analysis uses to recognise a standard library entity by
// name (std::thread, std::vector, std::ref, ...): a named declaration in
// namespace std, including its inline namespaces (libstdc++'s __cxx11,
// libc++'s __1).
//
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CHECKS_UTILS_STDNAMES_H
#define CONCGUARD_CHECKS_UTILS_STDNAMES_H

#include "clang/AST/Decl.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/Type.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"

namespace clang::tidy::concguard::utils {

/// Is \p D declared in namespace std with one of \p Names? Null and unnamed
/// declarations (operators, constructors) are not.
inline bool isStdDeclNamed(const NamedDecl *D,
                           llvm::ArrayRef<llvm::StringRef> Names) {
  return D && D->getIdentifier() && D->isInStdNamespace() &&
         llvm::is_contained(Names, D->getName());
}

/// Is \p T, or the type a reference \p T refers to, the standard record
/// class (or a specialisation of the template) named one of \p Names?
inline bool isStdRecordType(QualType T, llvm::ArrayRef<llvm::StringRef> Names) {
  if (T.isNull())
    return false;
  return isStdDeclNamed(
      T.getNonReferenceType().getCanonicalType()->getAsCXXRecordDecl(), Names);
}

/// The outermost named namespace \p D is declared in (`tbb` for
/// tbb::detail::d1::parallel_for), or an empty name.
inline llvm::StringRef outermostNamespaceName(const Decl *D) {
  if (!D)
    return {};
  const auto *Namespace = dyn_cast<NamespaceDecl>(
      D->getDeclContext()->getEnclosingNamespaceContext());
  while (Namespace &&
         !Namespace->getParent()->getRedeclContext()->isTranslationUnit())
    Namespace = dyn_cast<NamespaceDecl>(Namespace->getParent());
  return Namespace && Namespace->getIdentifier() ? Namespace->getName()
                                                 : llvm::StringRef();
}

/// Is \p D declared in namespace std or in boost (whose bind, function,
/// placeholders and smart pointers behave as the standard ones do)?
inline bool isStdOrBoostDecl(const Decl *D) {
  if (!D)
    return false;
  return D->isInStdNamespace() || outermostNamespaceName(D) == "boost";
}

} // namespace clang::tidy::concguard::utils

#endif // CONCGUARD_CHECKS_UTILS_STDNAMES_H
