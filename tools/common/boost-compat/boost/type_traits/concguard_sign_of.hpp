// concguard's Boost compatibility header (not part of Boost): the sign test
// behind the replacements of boost/type_traits/is_signed.hpp and
// is_unsigned.hpp in this directory (see tools/common/BoostCompat.h and
// docs/audit.md, "Boost on Debian 12").
//
// Why: Boost up to 1.89 at least decides the sign of an integral or
// enumeration type T by comparing static_cast<T>(-1) with static_cast<T>(0)
// in a constant initialiser. For an enumeration without a fixed underlying
// type whose values do not include -1 (most of them: `enum Color { Red,
// Green }` has the values 0 and 1), that cast is not a constant expression,
// which clang 21 and later make a hard error no flag turns off; every unit
// that asks boost::is_signed or boost::is_unsigned about such an enumeration
// (boost::make_unsigned, boost::lexical_cast, Boost.Log's severity levels,
// serialisation code) fails to compile. The test below gives the answer
// Boost's gives where Boost's compiles: for an integral type the same
// comparison; for an enumeration, -1 converted to its underlying type (the
// value static_cast<E>(-1) holds where it is valid: 255 for
// `enum E : unsigned char`), compared with 0 in the type the enumeration's
// values are compared in (an unscoped one's promoted type, since Boost's
// comparison promotes both sides; a scoped one's underlying type). It uses
// clang builtins (__typeof__, __underlying_type, __is_scoped_enum) so that
// it also holds in C++03.
#ifndef CONCGUARD_BOOST_COMPAT_SIGN_OF_HPP
#define CONCGUARD_BOOST_COMPAT_SIGN_OF_HPP
// Read only when a replacement is in effect: the front ends count the units
// that read it (--print-stats).
#include "../../concguard-boost-compat-used.h"

#include <boost/type_traits/integral_constant.hpp>
#include <boost/type_traits/is_enum.hpp>
#include <boost/type_traits/is_integral.hpp>
#include <boost/type_traits/remove_cv.hpp>

namespace boost {
namespace concguard_compat {

// The integral type an enumeration's values are compared in.
template <class E, bool Scoped = __is_scoped_enum(E)> struct enum_compared {
  typedef __typeof__(+static_cast<E>(0)) type;
};
template <class E> struct enum_compared<E, true> {
  typedef __underlying_type(E) type;
};

template <class T, bool Integral = ::boost::is_integral<T>::value,
          bool Enum = ::boost::is_enum<T>::value>
struct sign_of {
  static const bool is_signed = false;
  static const bool is_unsigned = false;
};
template <class T> struct sign_of<T, true, false> {
  static const bool is_unsigned = static_cast<T>(-1) > static_cast<T>(0);
  static const bool is_signed = !is_unsigned;
};
template <class T> struct sign_of<T, false, true> {
  typedef __underlying_type(T) underlying;
  typedef typename enum_compared<T>::type compared;
  static const bool is_unsigned =
      static_cast<compared>(static_cast<underlying>(-1)) >
      static_cast<compared>(0);
  static const bool is_signed = !is_unsigned;
};

template <class T>
struct sign_of_type : sign_of<typename ::boost::remove_cv<T>::type> {};

} // namespace concguard_compat
} // namespace boost

#endif
