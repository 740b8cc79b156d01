// RUN: %check_concguard -std=c++20 %s concguard-unsynchronized-container %t

// Which operations write, which read, and how threads are ordered.

#include <map>
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
