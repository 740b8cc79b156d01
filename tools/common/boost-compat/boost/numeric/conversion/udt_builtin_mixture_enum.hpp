// concguard's Boost compatibility header for udt_builtin_mixture_enum (not part of Boost;
// see tools/common/BoostCompat.h and docs/audit.md, "Boost on Debian 12").
//
// Why: Boost before 1.81 wraps this enumeration in mpl::integral_c<E, V>,
// whose prior/next members compute static_cast<E>(V - 1) and
// static_cast<E>(V + 1). Without a fixed underlying type the enumeration's
// values are 0..3 only, so clang 20 and later reject -1 and 4 as constant
// expressions (a hard error no flag turns off), and every unit that reaches
// boost/numeric/conversion (boost::asio, boost::lexical_cast,
// boost::numeric_cast, ...) fails to compile. The declaration below is the
// same enumeration with `: int` added, which makes those values valid and
// changes nothing else (clang accepts a fixed underlying type before C++11
// too, as an extension). Boost 1.81 stopped using integral_c here; for it
// Boost's own header is used.
#include <boost/version.hpp>

#if BOOST_VERSION < 108100
#ifndef BOOST_NUMERIC_CONVERSION_UDT_BUILTIN_MIXTURE_ENUM_FLC_12NOV2002_HPP
#define BOOST_NUMERIC_CONVERSION_UDT_BUILTIN_MIXTURE_ENUM_FLC_12NOV2002_HPP
// Read only when this replacement is in effect: the front ends count the
// units that read it (--print-stats).
#include "../../../concguard-boost-compat-used.h"

namespace boost {
namespace numeric {
enum udt_builtin_mixture_enum : int {
  builtin_to_builtin, builtin_to_udt, udt_to_builtin, udt_to_udt
};
} // namespace numeric
} // namespace boost
#endif
#else
#include_next <boost/numeric/conversion/udt_builtin_mixture_enum.hpp>
#endif
