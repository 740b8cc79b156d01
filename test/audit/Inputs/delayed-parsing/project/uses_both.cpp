// Errors in the library header and in the project's own template: not
// retried, since the flag would hide the project's own error.
#include "own_template.h"
#include "strref.h"

int both() { return StrRef<char>("x", 1).Length + Holder<int>().Size; }
