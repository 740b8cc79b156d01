#include "own_template.h"

int size() { return Holder<int>().Size; }
