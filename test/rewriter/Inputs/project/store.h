#pragma once
#include <string>
#include <thread>
#include <unordered_map>

class Store {
public:
  void start();
  void stop();
  std::size_t size(const std::string &Key) const;

private:
  void fill();
  std::unordered_map<std::string, std::string> Values;
  std::thread Filler;
};
