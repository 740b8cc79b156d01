// RUN: %check_concguard -std=c++20 %s concguard-escaping-guarded-reference %t

// Unusual code: macros (reported, never fixed inside them), structured
// bindings, anonymous members, goto and switch, templates that are never
// instantiated, function-try-blocks, and generic lambdas. None may crash.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#define LOCKED_GETTER(Type, Name, Field)                                      \
  const Type &Name() const {                                                  \
    std::lock_guard<std::mutex> Lock(Mu);                                     \
    return Field;                                                             \
  }

#define RETURN_GUARDED(X) return X

class Edge {
public:
  // The return type is written by the macro: reported, no fix-it.
  LOCKED_GETTER(std::string, macroName, Name)
  // CHECK-MESSAGES: :[[@LINE-1]]:41: warning: returned reference into 'Name' outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]

  // The return statement comes from a macro: reported at the argument.
  const int *viaMacro() {
    std::lock_guard<std::mutex> Lock(Mu);
    RETURN_GUARDED(&Counts[0]);
    // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: returned pointer into 'Counts'
  }

  // Structured bindings are not followed (a documented limitation).
  size_t bindings() {
    std::unique_lock<std::mutex> Lock(Mu);
    auto &[Key, Value] = *Names.begin();
    Lock.unlock();
    return Value.size() + static_cast<size_t>(Key);
  }

  // An anonymous struct member.
  int *anonymous() {
    std::lock_guard<std::mutex> Lock(Mu);
    return &Inner.Hidden;
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned pointer into 'Inner'
  }

  // goto and switch.
  const std::string *jump(int K) {
    std::lock_guard<std::mutex> Lock(Mu);
    switch (K) {
    case 0:
      return nullptr;
    case 1:
      goto found;
    default:
      break;
    }
    return nullptr;
  found:
    return &Names[K];
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned pointer into 'Names'
  }

  // Function-try-block.
  const std::string *tryBlock(int K) try {
    std::lock_guard<std::mutex> Lock(Mu);
    return &Names.at(K);
    // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: returned pointer into 'Names'
  } catch (...) {
    return nullptr;
  }

  // A generic lambda and a loop with continue/break under the lock.
  int genericLambda() {
    std::lock_guard<std::mutex> Lock(Mu);
    auto Sum = [](const auto &Container) {
      int Total = 0;
      for (const auto &X : Container)
        Total += static_cast<int>(X.second.size());
      return Total;
    };
    int Result = 0;
    for (int I = 0; I < 3; ++I) {
      if (I == 1)
        continue;
      if (I == 2)
        break;
      Result += Sum(Names);
    }
    return Result;
  }

private:
  mutable std::mutex Mu;
  std::string Name;
  std::vector<int> Counts;
  std::map<int, std::string> Names;
  struct {
    int Hidden;
  } Inner;
};

// A template that is never instantiated is not analysed.
template <typename T> struct NeverUsed {
  std::mutex Mu;
  std::vector<T> Items;
  T *first() {
    std::lock_guard<std::mutex> Lock(Mu);
    return &Items[0];
  }
};

// Reduced from abseil's SampleRecorder: an object with its own mutex links
// itself into a list its mutex guards. A view stored into a field beside the
// mutex is read back under the same lock: no escape.
struct Sample {
  std::mutex InitMu;
  Sample *Dead = nullptr;
  Sample *Next = nullptr;
};

class Recorder {
public:
  Recorder() {
    std::lock_guard<std::mutex> Lock(Graveyard.InitMu);
    Graveyard.Dead = &Graveyard;
  }
  void bury(Sample *S) {
    std::lock_guard<std::mutex> Lock(Graveyard.InitMu);
    S->Dead = Graveyard.Dead;
    Graveyard.Dead = S;
  }
  // Stored in another member, beside no mutex: it does outlive the lock.
  void remember() {
    std::lock_guard<std::mutex> Lock(Graveyard.InitMu);
    Remembered = &Graveyard;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: pointer into 'Graveyard' stored in member 'Remembered' outlives the lock on 'Graveyard.InitMu' that guards it [concguard-escaping-guarded-reference]
  }

private:
  Sample Graveyard;
  Sample *Remembered = nullptr;
};
