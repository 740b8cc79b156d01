// Empty on purpose. The compatibility headers under boost/ include it only
// when they replace Boost's header, so a front end that sees this file read
// knows the unit was analysed with the replacement (tools/common/BoostCompat.h).
