//===--- CheckSeverity.cpp - how severe each check's findings are ---------===//

#include "CheckSeverity.h"

#include "llvm/ADT/StringSwitch.h"

namespace concguard::audit {

// The scores are CVSS 3.1 base scores of the consequence, with the vector
// written beside each. A finding does not show how input reaches the code,
// so the attack vector is local (AV:L), no privileges or user interaction;
// corrupting a container's memory can give read, write and crash (C:H, I:H,
// A:H). A race needs a timing window (AC:H); a dangling view does not
// (AC:L).
CheckSeverity checkSeverity(llvm::StringRef Check) {
  return llvm::StringSwitch<CheckSeverity>(Check)
      // Concurrent modification of a container: memory corruption (a
      // rehash or reallocation under a reader). CWE-362, race condition.
      // AV:L/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H
      .Case("concguard-unsynchronized-container", {"error", "7.4", "362"})
      // A view used after its container may have reallocated: use after
      // free, with no timing needed. CWE-416.
      // AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
      .Case("concguard-dangling-container-view", {"error", "8.4", "416"})
      // A reference into lock-guarded data used after the lock is released:
      // the same race as an unsynchronized container, on data that other
      // threads modify under that lock. CWE-362.
      // AV:L/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H
      .Case("concguard-escaping-guarded-reference", {"error", "7.4", "362"})
      // A thread nobody can stop: a hang at shutdown, a leak, or
      // std::terminate for a joinable std::thread destroyed; no memory
      // corruption, so not a security rating.
      .Case("concguard-uncancellable-thread", {"warning", "", ""})
      .Default({"warning", "", ""});
}

llvm::StringRef moreSevere(llvm::StringRef A, llvm::StringRef B) {
  auto Rank = [](llvm::StringRef S) {
    return llvm::StringSwitch<int>(S)
        .Case("error", 2)
        .Case("warning", 1)
        .Default(0);
  };
  return Rank(B) > Rank(A) ? B : A;
}

} // namespace concguard::audit
