#include "journal.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace {
std::vector<int> Log;
std::vector<int> Audited;
std::mutex AuditMu;
} // namespace

void record(int Entry) { Log.push_back(Entry); }

void recordLocked(int Entry) {
  std::lock_guard<std::mutex> Lock(AuditMu);
  Audited.push_back(Entry);
}

int countOf(int Entry) {
  std::lock_guard<std::mutex> Lock(AuditMu);
  return static_cast<int>(std::count(Audited.begin(), Audited.end(), Entry));
}
