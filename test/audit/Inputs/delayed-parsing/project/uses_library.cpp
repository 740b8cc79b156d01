#include "strref.h"

#include <thread>
#include <vector>

// Analysed once the unit compiles: the thread and the caller both append.
void fill(std::vector<int> &Values) {
  StrRef<char> Name("values", 6);
  std::thread Worker([&Values] { Values.push_back(1); });
  Values.push_back(static_cast<int>(Name.Length));
  Worker.join();
}
