// A spawn wrapper whose code lives in src/spawn.cpp.
#pragma once
#include <functional>
#include <thread>

/// Starts a thread that runs Work; the caller joins it.
std::thread startWorker(std::function<void()> Work);
