// RUN: %check_concguard -std=c++17 %s concguard-escaping-guarded-reference %t

// Pointers into lock-guarded data handed to a library function that keeps
// them after it returns (utils::retainedPointerArgument): the environment,
// a stream's buffer, thread-specific data. Shaped after Poco's
// EnvironmentImpl::setImpl (Environment_UNIX.cpp), which gave putenv() a
// pointer into its mutex-guarded map (poco#5187).

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <pthread.h>
#include <string>
#include <vector>

class Environment {
public:
  static void set(const std::string &Name, const std::string &Value) {
    std::lock_guard<std::mutex> Lock(Mu);
    std::string Var = Name + "=" + Value;
    std::swap(Vars[Name], Var);
    putenv((char *)Vars[Name].c_str());
    // CHECK-NOTES: :[[@LINE-1]]:12: warning: pointer into 'Environment::Vars' passed to 'putenv', which keeps it in the process environment, outlives the lock on 'Environment::Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-5]]:5: note: lock on 'Environment::Mu' taken here
    // CHECK-NOTES: :[[@LINE+1]]:3: note: 'Lock' releases 'Environment::Mu' here, at the end of its scope
  }

  // setenv copies its arguments: nothing is kept.
  static void setCopied(const std::string &Name, const std::string &Value) {
    std::lock_guard<std::mutex> Lock(Mu);
    Vars[Name] = Name + "=" + Value;
    setenv(Name.c_str(), Vars[Name].c_str(), 1);
  }

  // The string handed to putenv is not guarded data: a copy the program
  // leaks on purpose.
  static void setLeaked(const std::string &Name, const std::string &Value) {
    std::lock_guard<std::mutex> Lock(Mu);
    std::string Var = Name + "=" + Value;
    Vars[Name] = Var;
    putenv(strdup(Var.c_str()));
  }

  // The lock is never released here (taken by hand and kept for the
  // caller): nothing outlives it in this function.
  static void setLocked(const std::string &Name) {
    Mu.lock();
    putenv(&Vars[Name][0]);
  }

private:
  static std::mutex Mu;
  static std::map<std::string, std::string> Vars;
};

class LogFile {
public:
  void open(std::FILE *File) {
    std::lock_guard<std::mutex> Lock(Mu);
    Buffer.resize(4096);
    std::setvbuf(File, Buffer.data(), _IOFBF, Buffer.size());
    // CHECK-NOTES: :[[@LINE-1]]:24: warning: pointer into 'Buffer' passed to 'setvbuf', which keeps it in the stream, as its buffer, outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-4]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE+1]]:3: note: 'Lock' releases 'Mu' here, at the end of its scope
  }

  // The stream is given no buffer of ours.
  void openUnbuffered(std::FILE *File) {
    std::lock_guard<std::mutex> Lock(Mu);
    Buffer.clear();
    std::setvbuf(File, nullptr, _IONBF, 0);
  }

  void remember(pthread_key_t Key) {
    std::lock_guard<std::mutex> Lock(Mu);
    pthread_setspecific(Key, &Sessions.back());
    // CHECK-NOTES: :[[@LINE-1]]:30: warning: pointer into 'Sessions' passed to 'pthread_setspecific', which keeps it in the thread-specific data of its key, outlives the lock on 'Mu' that guards it [concguard-escaping-guarded-reference]
    // CHECK-NOTES: :[[@LINE-3]]:5: note: lock on 'Mu' taken here
    // CHECK-NOTES: :[[@LINE+1]]:3: note: 'Lock' releases 'Mu' here, at the end of its scope
  }

private:
  std::mutex Mu;
  std::vector<char> Buffer;
  std::vector<int> Sessions;
};

// A project's own function named like the library's keeps nothing that the
// model knows of.
namespace app {
int putenv(char *Var);
} // namespace app

class Settings {
public:
  void apply() {
    std::lock_guard<std::mutex> Lock(Mu);
    app::putenv(&Line[0]);
  }

private:
  std::mutex Mu;
  std::string Line;
};
