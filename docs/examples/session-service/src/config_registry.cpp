// Configuration values shared by every request handler.
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace service {

class ConfigRegistry {
public:
  // BUG (concguard-escaping-guarded-reference): the reference outlives the
  // lock; a concurrent set() may rehash or overwrite the value under it.
  const std::string &get(const std::string &Key) {
    std::lock_guard<std::mutex> Lock(Mutex);
    return Values[Key];
  }

  // Clean: a copy made under the lock.
  std::optional<std::string> find(const std::string &Key) const {
    std::lock_guard<std::mutex> Lock(Mutex);
    auto It = Values.find(Key);
    if (It == Values.end())
      return std::nullopt;
    return It->second;
  }

  void set(const std::string &Key, std::string Value) {
    std::lock_guard<std::mutex> Lock(Mutex);
    Values[Key] = std::move(Value);
  }

private:
  mutable std::mutex Mutex;
  std::map<std::string, std::string> Values;
};

ConfigRegistry &registry() {
  static ConfigRegistry Registry;
  return Registry;
}

} // namespace service
