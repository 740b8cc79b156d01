#include "service.h"

void Service::record(int Value) { Samples.push_back(Value); }
