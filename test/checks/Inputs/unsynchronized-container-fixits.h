// Used by unsynchronized-container-fixits.cpp: a header that declares and
// uses a map the main file defines. A fix-it in the main file alone would
// leave this declaration and use a std::unordered_map.
#include <unordered_map>

extern std::unordered_map<int, int> Registry;

inline bool isRegistered(int Key) { return Registry.count(Key) != 0; }
