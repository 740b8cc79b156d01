// boost::is_signed and boost::is_unsigned under concguard's replacement
// headers give the answers of Boost's own headers (Boost 1.74, where they
// compile: measured with GCC 12), in C++98 and C++17. Enumerations first:
// the reason for the replacement.
#include <boost/type_traits/is_signed.hpp>
#include <boost/type_traits/is_unsigned.hpp>

#define CAT(A, B) A##B
#define CHECK(N, T, Signed, Unsigned)                                          \
  typedef char CAT(signed_, N)[boost::is_signed<T>::value == Signed ? 1 : -1]; \
  typedef char CAT(unsigned_, N)[boost::is_unsigned<T>::value == Unsigned ? 1 : -1];

enum Color { Red, Green };            // values 0..1: promotes to int
enum Negative { Minus = -1, Plus = 1 };
enum Huge { Big = 0xFFFFFFFFu };      // promotes to unsigned int
struct Object {};

CHECK(1, Color, 1, 0)
CHECK(2, const Color, 1, 0)
CHECK(3, Negative, 1, 0)
CHECK(4, Huge, 0, 1)
CHECK(5, bool, 0, 1)
CHECK(6, signed char, 1, 0)
CHECK(7, unsigned char, 0, 1)
CHECK(8, short, 1, 0)
CHECK(9, unsigned short, 0, 1)
CHECK(10, int, 1, 0)
CHECK(11, const volatile unsigned, 0, 1)
CHECK(12, long long, 1, 0)
CHECK(13, unsigned long long, 0, 1)
CHECK(14, float, 0, 0)
CHECK(15, Object, 0, 0)
CHECK(16, int *, 0, 0)
CHECK(17, void, 0, 0)
CHECK(18, int &, 0, 0)
CHECK(19, char, (char)-1 < 0, (char)-1 > 0)

// A fixed underlying type narrower than int (clang and GCC accept it before
// C++11 too): -1 becomes the type's largest value, which stays positive
// once promoted.
enum Narrow : unsigned char { N0 };
enum NarrowSigned : signed char { S0 };
enum NarrowBool : bool { B0 };
CHECK(25, Narrow, 0, 1)
CHECK(26, NarrowSigned, 1, 0)
CHECK(27, NarrowBool, 0, 1)

// The replacements keep what Boost's headers include.
CHECK(28, char[CHAR_BIT], 0, 0)

#if __cplusplus >= 201103L
enum class Wide : long { A = -1 };
enum class UnsignedWide : unsigned long { A };
enum class Plain { A };               // scoped: int underneath
CHECK(20, Wide, 1, 0)
CHECK(21, UnsignedWide, 0, 1)
CHECK(22, Plain, 1, 0)
CHECK(23, char16_t, 0, 1)
CHECK(24, char32_t, 0, 1)
enum class ScopedNarrow : unsigned char { A };
enum class ScopedNarrowSigned : signed char { A };
CHECK(29, ScopedNarrow, 0, 1)
CHECK(30, ScopedNarrowSigned, 1, 0)
#endif
