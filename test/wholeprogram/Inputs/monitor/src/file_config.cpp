#include "config.h"

void FileConfig::load(const std::string &Text) {
  clear();
  setRaw("text", Text);
}
