// A library header that GCC and clang before 20 accept and clang 20+ rejects
// where the template is defined (the shape of rapidjson 1.1.0's
// GenericStringRef::operator=, which assigns to const members).
#pragma once
template <typename Ch> struct StrRef {
  StrRef(const Ch *S, unsigned N) : S(S), Length(N) {}
  StrRef &operator=(const StrRef &Rhs) {
    Length = Rhs.Length;
    return *this;
  }
  const Ch *const S;
  const unsigned Length;
};
