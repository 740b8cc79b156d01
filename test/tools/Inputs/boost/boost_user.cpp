// A unit of the kind that fails under clang 20+ with Debian 12's Boost 1.74:
// boost::lexical_cast and boost::numeric_cast reach
// boost/numeric/conversion, and boost::asio is what real daemons include.
// boost::make_unsigned of an enumeration (as serialisation code does) asks
// boost::is_unsigned about it, which no Boost up to 1.89 compiles under
// clang 21+.
// It also has a concguard finding, so the analysis is seen to run.
#include <boost/asio/io_context.hpp>
#include <boost/lexical_cast.hpp>
#include <boost/numeric/conversion/cast.hpp>
#include <boost/type_traits/make_unsigned.hpp>

#include <thread>

int parse(const char *Text) {
  return boost::numeric_cast<int>(boost::lexical_cast<double>(Text));
}

enum Level { Low, High };

unsigned levelBits(Level L) {
  return static_cast<boost::make_unsigned<Level>::type>(L);
}

void startTicker() {
  std::thread Ticker([] {
    for (;;) {
    }
  });
  Ticker.detach();
}

int main() {
  boost::asio::io_context Context;
  startTicker();
  Context.run();
  return parse("1.5");
}
