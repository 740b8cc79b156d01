// concguard's Boost compatibility header for boost::is_signed (not part of
// Boost): why, in concguard_sign_of.hpp. Boost 1.90 and later get Boost's
// own header.
#include <boost/version.hpp>

#if BOOST_VERSION < 109000
#ifndef BOOST_TT_IS_SIGNED_HPP_INCLUDED
#define BOOST_TT_IS_SIGNED_HPP_INCLUDED
#include "concguard_sign_of.hpp"

// Boost's own header includes it; code may rely on it.
#include <climits>

namespace boost {
template <class T>
struct is_signed
    : public integral_constant<
          bool, ::boost::concguard_compat::sign_of_type<T>::is_signed> {};
} // namespace boost
#endif
#else
#include_next <boost/type_traits/is_signed.hpp>
#endif
