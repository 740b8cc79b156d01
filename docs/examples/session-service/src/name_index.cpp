// Display names by user index.
#include <string>
#include <vector>

namespace service {

// BUG (concguard-dangling-container-view): `First` refers into `Names`,
// which may reallocate on push_back.
std::size_t addAndMeasure(std::vector<std::string> &Names, std::string Name) {
  const std::string &First = Names.front();
  Names.push_back(std::move(Name));
  return First.size();
}

// Clean: the reference is taken after the growth.
std::size_t addThenMeasure(std::vector<std::string> &Names, std::string Name) {
  Names.push_back(std::move(Name));
  const std::string &First = Names.front();
  return First.size();
}

} // namespace service
