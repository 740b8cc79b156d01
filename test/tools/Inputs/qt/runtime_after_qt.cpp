// The runtime's headers after Qt's: QtCore defines `signals`, `slots`,
// `emit`, `foreach` and `forever` as macros (unless QT_NO_KEYWORDS), so the
// runtime must not use those words as names. Every map and
// synchronized<T> member the rewriter emits is instantiated.
#include <QtCore/QObject>

#include <concguard/sharded_map.hpp>
#include <concguard/snapshot_map.hpp>
#include <concguard/synchronized.hpp>

#include <map>
#include <string>
#include <vector>

int main() {
  concguard::sharded_map<long, long> Flat;
  Flat.insert_or_assign(1, 2);
  concguard::sharded_map<std::string, std::vector<int>> Nodes;
  Nodes.upsert("a", [](std::vector<int> &V) { V.push_back(1); });
  concguard::snapshot_map<long, long> Snapshot;
  Snapshot.insert_or_assign(1, 2);
  concguard::snapshot_map<int, int, std::map<int, int>> Ordered;
  Ordered.insert_or_assign(1, 2);
  concguard::synchronized<std::vector<int>> Log;
  Log.with_lock([](std::vector<int> &V) { V.push_back(1); });
  return static_cast<int>(Flat.size() + Nodes.size() + Snapshot.size() +
                          Ordered.size() + Log.copy().size()) == 5
             ? 0
             : 1;
}
