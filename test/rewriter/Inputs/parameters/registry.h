#pragma once
#include <string>
#include <unordered_map>

using Registry = std::unordered_map<std::string, int>;

void record(Registry &Events, const std::string &Key);
int lookup(const Registry &Events, const std::string &Key);
int countAll(const Registry &);
