// Headers that only clang's resource directory provides.
#include <stdatomic.h>
#include <x86intrin.h>

int answer() { return 42; }
