// A class declared in a header: other units may store into its fields, so
// the unit's own stores do not tell where they point.
#include <vector>

struct HeaderCursor {
  std::vector<int> Items;
  int *At = nullptr;
  void toBack() { At = &Items.back(); }
};
