// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t -- -- -isystem %runtime_include

// Which operations write, which read, and how threads are ordered.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

void use(std::size_t);

void eraseOnThreadFindInParent() {
  std::map<int, int> M{{1, 1}};
  std::thread T([&] { M.erase(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'M' is modified here on the thread started at line [[@LINE-1]] while it is read in 'eraseOnThreadFindInParent'
  use(M.find(1) != M.end());
  T.join();
}

void clearOnThreadIterateInParent() {
  std::set<int> S{1, 2};
  std::thread T([&] { S.clear(); });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'S' is modified here on the thread started at line [[@LINE-1]] while it is read in 'clearOnThreadIterateInParent'
  for (int X : S)
    use(X);
  T.join();
}

void stringAppend() {
  std::string Text;
  std::thread T([&] { Text += "x"; });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'Text' is modified here on the thread started at line [[@LINE-1]] while it is read in 'stringAppend'
  use(Text.size());
  T.join();
}

void assignment() {
  std::vector<int> V;
  std::thread T([&] { V = {1, 2, 3}; });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'V' is modified here on the thread started at line [[@LINE-1]] while it is read in 'assignment'
  use(V.empty());
  T.join();
}

void swapped() {
  std::vector<int> V, W;
  std::thread T([&] { std::swap(V, W); });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'V' is modified here on the thread started at line [[@LINE-1]] while it is read in 'swapped'
  use(V.size());
  T.join();
}

void throughLocalReference() {
  std::unordered_map<int, int> M;
  std::thread T([&] {
    auto &Alias = M;
    Alias[1] = 2;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'M' is modified here on the thread started at line [[@LINE-3]] while it is read in 'throughLocalReference'
  });
  use(M.size());
  T.join();
}

// Both threads write: the first write found on the first thread is reported
// once, with the other thread's write as the note.
void twoWriters() {
  std::vector<int> V;
  std::thread A([&] { V.push_back(1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'V' is modified here on the thread started at line [[@LINE-1]] while it is modified on the thread started at line [[@LINE+1]]
  std::thread B([&] { V.push_back(2); });
  A.join();
  B.join();
}

// The second thread starts after the first is joined: ordered.
void threadsInSequence() {
  std::vector<int> V;
  std::thread A([&] { V.push_back(1); });
  A.join();
  std::thread B([&] { V.push_back(2); });
  B.join();
}

// Both threads only read.
void twoReaders() {
  std::map<int, int> M{{1, 2}};
  std::thread A([&] { use(M.count(1)); });
  std::thread B([&] { use(M.at(1)); });
  A.join();
  B.join();
}

// A jthread on `this` with a stop token.
class Indexer {
public:
  Indexer()
      : Worker([this](std::stop_token Stop) {
          while (!Stop.stop_requested())
            Index[Next++] = "page";
          // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: 'Index' is modified here on the thread started at line [[@LINE-3]] while it is read in 'Indexer::pages', which may run concurrently with the thread started at line [[@LINE-3]]
        }) {}
  std::size_t pages() const { return Index.size(); }

private:
  int Next = 0;
  std::map<int, std::string> Index;
  std::jthread Worker;
};

// Reduced from rocksdb's CompactionJob: a container handed on through a
// library template's forwarding reference (std::make_unique, emplace_back)
// is accessed as the final callee takes it. A `const &` constructor
// parameter only reads it; a non-const one may modify it.
struct ReadsSnapshots {
  ReadsSnapshots(const std::vector<int> &Snapshots, const std::string *Trim)
      : Snapshots(&Snapshots), Trim(Trim) {}
  const std::vector<int> *Snapshots;
  const std::string *Trim;
};
struct AppendsSnapshot {
  explicit AppendsSnapshot(std::vector<int> &Snapshots) {
    Snapshots.push_back(1);
  }
};
void consume(const ReadsSnapshots &);

class ForwardedForReading {
public:
  void run() {
    std::vector<std::thread> Pool;
    for (int I = 0; I < 3; ++I)
      Pool.emplace_back(&ForwardedForReading::process, this);
    process();
    for (std::thread &T : Pool)
      T.join();
  }
  void process() {
    auto Reader = std::make_unique<ReadsSnapshots>(Snapshots, &Trim);
    std::vector<ReadsSnapshots> Readers;
    Readers.emplace_back(Snapshots, &Trim);
    if (!Trim.empty() && !Snapshots.empty())
      consume(*Reader);
  }
  std::vector<int> Snapshots;
  std::string Trim;
};

class ForwardedForWriting {
public:
  void run() {
    std::vector<std::thread> Pool;
    for (int I = 0; I < 3; ++I)
      Pool.emplace_back(&ForwardedForWriting::process, this);
    for (std::thread &T : Pool)
      T.join();
  }
  void process() {
    auto Writer = std::make_unique<AppendsSnapshot>(Snapshots);
    // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: 'Snapshots' is modified here on the thread started at line [[@LINE-6]] while another thread started at the same line may access it too
  }
  std::vector<int> Snapshots;
};

// The fix-its: concguard-rewrite's rewrite of the maps used in this file
// alone (see unsynchronized-container-fixits.cpp).
// CHECK-FIXES:      #include <concguard/snapshot_map.hpp>
// CHECK-FIXES-NEXT: #include <map>
// CHECK-FIXES: Index.insert_or_assign(Next++, "page");
// CHECK-FIXES: concguard::snapshot_map<int, std::string, std::map<int, std::string>> Index;
