//===--- LockScopesTest.cpp - unit tests of the lock-scope analysis -------===//
//
// Each test analyses one function of a snippet that includes the real
// <mutex>/<shared_mutex> headers and asks which locks are held at the calls
// `probe(N)`: "mu" is mu held exclusively, "mu:shared" held shared,
// "mu:conditional" held when a run-time choice gave the guard mu, not null.
//
//===----------------------------------------------------------------------===//

#include "utils/LockScopes.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/ASTMatchers/ASTMatchers.h"
#include "clang/Frontend/ASTUnit.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/ADT/StringExtras.h"

#include "gtest/gtest.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace clang;
using namespace clang::ast_matchers;
using namespace clang::tidy::concguard::utils;

namespace {

constexpr const char *Prelude = R"cpp(
#include <chrono>
#include <mutex>
#include <shared_mutex>
void probe(int);
bool cond();
void work();
)cpp";

class Analysed {
public:
  Analysed(llvm::StringRef Code, llvm::StringRef FunctionName,
           const LockOptions &Options = {}) {
    std::vector<std::string> Args = {
        "-std=c++20", "-resource-dir=" CONCGUARD_CLANG_RESOURCE_DIR};
    AST = tooling::buildASTFromCodeWithArgs(std::string(Prelude) + Code.str(),
                                            Args, "input.cc");
    if (!AST)
      return;
    ASTContext &Context = AST->getASTContext();
    // "lambda" selects the call operator of the snippet's lambda.
    auto Functions =
        FunctionName == "lambda"
            ? match(
                  findAll(cxxMethodDecl(ofClass(cxxRecordDecl(isLambda())),
                                        isDefinition(), isExpansionInMainFile())
                              .bind("f")),
                  *Context.getTranslationUnitDecl(), Context)
            : match(
                  functionDecl(hasName(FunctionName), isDefinition()).bind("f"),
                  Context);
    if (Functions.empty())
      return;
    Function = Functions.front().getNodeAs<FunctionDecl>("f");
    Analysis = LockScopeAnalysis::analyze(*Function, Context, Options);
    auto Probes =
        match(findAll(callExpr(callee(functionDecl(hasName("probe"))),
                               hasArgument(0, integerLiteral().bind("n")))
                          .bind("probe")),
              *Function->getBody(), Context);
    for (const BoundNodes &Node : Probes) {
      const auto *N = Node.getNodeAs<IntegerLiteral>("n");
      ProbeCalls[N->getValue().getZExtValue()] =
          Node.getNodeAs<CallExpr>("probe");
    }
  }

  bool ok() const { return AST && Function && Analysis; }

  /// The locks held at probe(N), as "a,b:shared".
  std::string at(unsigned N) const {
    auto It = ProbeCalls.find(N);
    if (!ok() || It == ProbeCalls.end())
      return "<no probe>";
    return describe(Analysis->locksHeldAt(It->second));
  }

  static std::string describe(const LockSet &Set) {
    std::vector<std::string> Parts;
    for (const HeldLock &L : Set)
      Parts.push_back(L.Key.name() +
                      (L.Mode == LockMode::Shared ? ":shared" : "") +
                      (L.Conditional ? ":conditional" : ""));
    return llvm::join(Parts, ",");
  }

  const CallExpr *probe(unsigned N) const {
    auto It = ProbeCalls.find(N);
    return It == ProbeCalls.end() ? nullptr : It->second;
  }

  /// Line of a source location (1-based, in the snippet after the prelude).
  unsigned line(SourceLocation Loc) const {
    const SourceManager &SM = AST->getSourceManager();
    return SM.getSpellingLineNumber(Loc) - PreludeLines;
  }

  std::unique_ptr<ASTUnit> AST;
  const FunctionDecl *Function = nullptr;
  std::unique_ptr<LockScopeAnalysis> Analysis;
  std::map<unsigned, const CallExpr *> ProbeCalls;

private:
  static constexpr unsigned PreludeLines = 7;
};

TEST(LockScopes, LockGuardHeldInItsScopeOnly) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  probe(1);
  {
    std::lock_guard<std::mutex> g(mu);
    probe(2);
  }
  probe(3);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "");
  EXPECT_EQ(A.at(2), "mu");
  EXPECT_EQ(A.at(3), "");
}

TEST(LockScopes, GuardGivenMutexOrNullIsConditional) {
  Analysed A(R"cpp(
class OptionalLock {
public:
  explicit OptionalLock(std::mutex *M) : M(M) { if (M) M->lock(); }
  ~OptionalLock() { if (M) M->unlock(); }
private:
  std::mutex *M;
};
std::mutex mu, other;
void f(bool safe) {
  {
    OptionalLock g(safe ? &mu : nullptr);
    probe(1);
  }
  {
    OptionalLock g(safe ? NULL : &mu);
    probe(2);
  }
  {
    OptionalLock g(safe ? &mu : &other);
    probe(3);
  }
  {
    OptionalLock g(&mu);
    probe(4);
  }
  probe(5);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu:conditional");
  EXPECT_EQ(A.at(2), "mu:conditional");
  // Two mutexes to choose from: neither is named, neither is held.
  EXPECT_EQ(A.at(3), "");
  EXPECT_EQ(A.at(4), "mu");
  EXPECT_EQ(A.at(5), "");
}

TEST(LockScopes, EarlyReturnAndBranches) {
  Analysed A(R"cpp(
std::mutex mu;
void f(bool c) {
  if (c) {
    std::lock_guard g(mu);
    probe(1);
    return;
  }
  probe(2);
  std::lock_guard g(mu);
  if (c)
    probe(3);
  else
    probe(4);
  probe(5);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
  EXPECT_EQ(A.at(2), "");
  EXPECT_EQ(A.at(3), "mu");
  EXPECT_EQ(A.at(4), "mu");
  EXPECT_EQ(A.at(5), "mu");
}

TEST(LockScopes, JoinIsAnIntersection) {
  Analysed A(R"cpp(
std::mutex a, b;
void f(bool c) {
  if (c) {
    a.lock();
    b.lock();
  } else {
    b.lock();
  }
  probe(1);
  b.unlock();
  if (c)
    a.unlock();
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "b");
}

TEST(LockScopes, UniqueLockDeferLockUnlock) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  std::unique_lock<std::mutex> l(mu, std::defer_lock);
  probe(1);
  l.lock();
  probe(2);
  l.unlock();
  probe(3);
  l.lock();
  probe(4);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "");
  EXPECT_EQ(A.at(2), "mu");
  EXPECT_EQ(A.at(3), "");
  EXPECT_EQ(A.at(4), "mu");
}

TEST(LockScopes, UniqueLockTryToLockHeldOnlyWhenOwned) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  std::unique_lock<std::mutex> l(mu, std::try_to_lock);
  probe(1);
  if (l.owns_lock())
    probe(2);
  else
    probe(3);
  if (!l)
    return;
  probe(4);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "");
  EXPECT_EQ(A.at(2), "mu");
  EXPECT_EQ(A.at(3), "");
  EXPECT_EQ(A.at(4), "mu");
}

TEST(LockScopes, UniqueLockTimedConstructorAndTryLock) {
  Analysed A(R"cpp(
std::timed_mutex mu;
void f() {
  std::unique_lock<std::timed_mutex> l(mu, std::chrono::milliseconds(5));
  probe(1);
  if (l)
    probe(2);
  std::unique_lock<std::timed_mutex> k(mu, std::defer_lock);
  if (k.try_lock())
    probe(3);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "");
  EXPECT_EQ(A.at(2), "mu");
  EXPECT_EQ(A.at(3), "mu");
}

TEST(LockScopes, AdoptLockGuardReleasesAHandTakenLock) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  mu.lock();
  probe(1);
  {
    std::lock_guard<std::mutex> g(mu, std::adopt_lock);
    probe(2);
  }
  probe(3);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
  EXPECT_EQ(A.at(2), "mu");
  EXPECT_EQ(A.at(3), "");
}

TEST(LockScopes, ReleaseKeepsTheMutexLocked) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  {
    std::unique_lock<std::mutex> l(mu);
    l.release();
  }
  probe(1);
  mu.unlock();
  probe(2);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
  EXPECT_EQ(A.at(2), "");
}

TEST(LockScopes, ScopedLockOverSeveralMutexes) {
  Analysed A(R"cpp(
std::mutex a, b;
std::mutex c;
void f() {
  {
    std::scoped_lock l(a, b);
    probe(1);
  }
  std::lock(a, c);
  std::scoped_lock l(std::adopt_lock, a, c);
  probe(2);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "a,b");
  EXPECT_EQ(A.at(2), "a,c");
}

TEST(LockScopes, SharedLockIsShared) {
  Analysed A(R"cpp(
std::shared_mutex mu;
void f() {
  {
    std::shared_lock l(mu);
    probe(1);
    l.unlock();
    probe(2);
  }
  std::unique_lock w(mu);
  probe(3);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu:shared");
  EXPECT_EQ(A.at(2), "");
  EXPECT_EQ(A.at(3), "mu");
}

TEST(LockScopes, ManualLockAndLockShared) {
  Analysed A(R"cpp(
std::shared_mutex mu;
void f(bool c) {
  mu.lock();
  probe(1);
  mu.unlock();
  probe(2);
  mu.lock_shared();
  probe(3);
  mu.unlock_shared();
  if (c)
    mu.lock();
  else
    mu.lock_shared();
  probe(4);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
  EXPECT_EQ(A.at(2), "");
  EXPECT_EQ(A.at(3), "mu:shared");
  // Exclusive on one path, shared on the other: only shared is certain.
  EXPECT_EQ(A.at(4), "mu:shared");
}

TEST(LockScopes, TryLockHeldOnlyOnSuccess) {
  Analysed A(R"cpp(
std::mutex mu;
std::shared_mutex rw;
void f() {
  if (mu.try_lock()) {
    probe(1);
    mu.unlock();
  } else {
    probe(2);
  }
  probe(3);
  if (!rw.try_lock_shared())
    return;
  probe(4);
  while (!mu.try_lock())
    work();
  probe(5);
  if (mu.try_lock() && cond())
    probe(6);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
  EXPECT_EQ(A.at(2), "");
  EXPECT_EQ(A.at(3), "");
  EXPECT_EQ(A.at(4), "rw:shared");
  EXPECT_EQ(A.at(5), "rw:shared,mu");
  EXPECT_EQ(A.at(6), "rw:shared,mu");
}

TEST(LockScopes, LoopKeepsTheLockAcrossUnlockRelock) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  std::unique_lock<std::mutex> l(mu);
  while (cond()) {
    probe(1);
    l.unlock();
    probe(2);
    work();
    l.lock();
  }
  probe(3);
  for (int i = 0; i < 3; ++i) {
    std::lock_guard<std::mutex> inner(mu);
    if (cond())
      break;
    probe(4);
  }
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
  EXPECT_EQ(A.at(2), "");
  EXPECT_EQ(A.at(3), "mu");
  EXPECT_EQ(A.at(4), "mu");
}

TEST(LockScopes, MutexKeys) {
  Analysed A(R"cpp(
struct Inner { std::mutex mu; };
struct S {
  std::mutex mu_;
  Inner inner_;
  static std::mutex global_;
  void f(Inner &param, Inner *ptr);
};
void S::f(Inner &param, Inner *ptr) {
  std::lock_guard a(mu_);
  std::lock_guard b(this->inner_.mu);
  std::lock_guard c(global_);
  std::lock_guard d(param.mu);
  std::lock_guard e(ptr->mu);
  probe(1);
  std::mutex &alias = (*ptr).mu;
  alias.unlock();
  probe(2);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu_,inner_.mu,S::global_,param.mu,ptr.mu");
  // `alias` is bound to (*ptr).mu, the same key as ptr->mu.
  EXPECT_EQ(A.at(2), "mu_,inner_.mu,S::global_,param.mu");
  const LockSet &Held = A.Analysis->locksHeldAt(A.probe(1));
  std::vector<bool> ThisMember;
  for (const HeldLock &L : Held)
    ThisMember.push_back(L.Key.isThisMember());
  EXPECT_EQ(ThisMember, (std::vector<bool>{true, true, false, false, false}));
}

TEST(LockScopes, ProjectGuardAndMutexTypesFromOptions) {
  const char *Code = R"cpp(
namespace base {
class Mutex {
public:
  void Lock();
  void Unlock();
  void ReaderLock();
  void ReaderUnlock();
};
class MutexLock {
public:
  explicit MutexLock(Mutex *m);
  ~MutexLock();
};
class ReaderMutexLock {
public:
  explicit ReaderMutexLock(Mutex *m);
  ~ReaderMutexLock();
};
} // namespace base
base::Mutex mu;
void f() {
  {
    base::MutexLock l(&mu);
    probe(1);
  }
  {
    base::ReaderMutexLock l(&mu);
    probe(2);
  }
  mu.ReaderLock();
  probe(3);
  mu.ReaderUnlock();
  std::lock_guard<base::Mutex> *none = nullptr;
  (void)none;
  probe(4);
}
)cpp";
  Analysed Plain(Code, "f");
  ASSERT_TRUE(Plain.ok());
  // Without options, base::Mutex is a mutex by its shape (ReaderLock /
  // ReaderUnlock), but its guards, declared without bodies, are not guards.
  EXPECT_EQ(Plain.at(1), "");
  EXPECT_EQ(Plain.at(2), "");
  EXPECT_EQ(Plain.at(3), "mu:shared");
  LockOptions Options = LockOptions::parse(
      "base::Mutex", "::base::MutexLock;base::ReaderMutexLock:shared");
  ASSERT_EQ(Options.GuardTypes.size(), 2u);
  EXPECT_EQ(Options.formatGuardTypes(),
            "::base::MutexLock;base::ReaderMutexLock:shared");
  Analysed A(Code, "f", Options);
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
  EXPECT_EQ(A.at(2), "mu:shared");
  EXPECT_EQ(A.at(3), "mu:shared");
  EXPECT_EQ(A.at(4), "");
}

TEST(LockScopes, OptionsParseAndFormat) {
  LockOptions Options =
      LockOptions::parse(" ::a::M ; b::N,Plain ", "G, ::x::R:shared;y::W:x");
  EXPECT_EQ(Options.MutexTypes,
            (std::vector<std::string>{"::a::M", "b::N", "Plain"}));
  ASSERT_EQ(Options.GuardTypes.size(), 3u);
  EXPECT_EQ(Options.GuardTypes[0].Name, "G");
  EXPECT_EQ(Options.GuardTypes[1].Name, "::x::R");
  EXPECT_EQ(Options.GuardTypes[1].Mode, LockMode::Shared);
  // Only `:shared` is a mode; anything else stays part of the name.
  EXPECT_EQ(Options.GuardTypes[2].Name, "y::W:x");
  EXPECT_EQ(Options.GuardTypes[2].Mode, LockMode::Exclusive);
  EXPECT_EQ(Options.formatMutexTypes(), "::a::M;b::N;Plain");
}

TEST(LockScopes, TypePredicates) {
  Analysed A(R"cpp(
namespace a { struct M { void lock(); void unlock(); }; }
namespace a { struct FileLock { bool lock(const char *path); void unlock(); }; }
namespace a { struct Weak { int *lock() const; }; }
struct Guard { explicit Guard(a::M &); };
struct ShapeGuard {
  explicit ShapeGuard(a::M &m) : m(m) { m.lock(); }
  ~ShapeGuard() { m.unlock(); }
  a::M &m;
};
std::mutex m1;
std::recursive_timed_mutex m2;
std::shared_timed_mutex m3;
a::M m4;
a::FileLock m5;
a::Weak m6;
void f() {
  std::lock_guard<std::mutex> g1(m1);
  std::shared_lock<std::shared_timed_mutex> g2(m3);
  Guard g3(m4);
  ShapeGuard g4(m4);
  probe(1);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  ASTContext &Context = A.AST->getASTContext();
  auto TypeOf = [&](llvm::StringRef Name) {
    auto Found = match(varDecl(hasName(Name)).bind("v"), Context);
    return Found.empty() ? QualType()
                         : Found[0].getNodeAs<VarDecl>("v")->getType();
  };
  LockOptions None;
  LockOptions Custom = LockOptions::parse("a::M", "Guard");
  EXPECT_TRUE(isMutexType(TypeOf("m1"), None));
  EXPECT_TRUE(isMutexType(TypeOf("m2"), None));
  EXPECT_TRUE(isMutexType(TypeOf("m3"), None));
  // a::M has lock()/unlock(): a mutex by its shape, configured or not.
  EXPECT_TRUE(isMutexType(TypeOf("m4"), None));
  EXPECT_TRUE(isMutexType(TypeOf("m4"), Custom));
  // A lock that takes an argument, or returns a pointer without an unlock,
  // is not a mutex's.
  EXPECT_FALSE(isMutexType(TypeOf("m5"), None));
  EXPECT_FALSE(isMutexType(TypeOf("m6"), None));
  EXPECT_TRUE(isLockGuardType(TypeOf("g1"), None));
  EXPECT_TRUE(isLockGuardType(TypeOf("g2"), None));
  // A guard by shape needs its destructor's body to show the unlock.
  EXPECT_FALSE(isLockGuardType(TypeOf("g3"), None));
  EXPECT_TRUE(isLockGuardType(TypeOf("g4"), None));
  EXPECT_FALSE(isMutexType(TypeOf("g4"), None));
  EXPECT_TRUE(isLockGuardType(TypeOf("g3"), Custom));
  EXPECT_FALSE(isLockGuardType(TypeOf("m1"), Custom));
  Analysed B(R"cpp(
namespace a { struct M { void lock(); void unlock(); }; }
struct Guard { explicit Guard(a::M &); };
a::M m4;
void f() {
  Guard g3(m4);
  probe(1);
}
)cpp",
             "f", Custom);
  ASSERT_TRUE(B.ok());
  EXPECT_EQ(B.at(1), "m4");
}

TEST(LockScopes, StdGuardOverAnyLockable) {
  Analysed A(R"cpp(
struct SpinLock {
  void lock();
  void unlock();
  bool try_lock();
};
SpinLock spin;
void f() {
  std::lock_guard<SpinLock> g(spin);
  probe(1);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "spin");
}

TEST(LockScopes, MovedGuards) {
  Analysed A(R"cpp(
std::mutex mu;
struct Holder { std::unique_lock<std::mutex> lock; int *p; };
std::unique_lock<std::mutex> take() {
  std::unique_lock<std::mutex> a(mu);
  std::unique_lock<std::mutex> b(std::move(a));
  probe(1);
  std::unique_lock<std::mutex> c;
  c = std::move(b);
  probe(2);
  return c;
}
Holder give(int *p) {
  std::unique_lock<std::mutex> a(mu);
  Holder h{std::move(a), p};
  probe(3);
  return h;
}
)cpp",
             "take");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
  EXPECT_EQ(A.at(2), "mu");
  const LockSet &Held = A.Analysis->locksHeldAt(A.probe(2));
  ASSERT_EQ(Held.size(), 1u);
  ASSERT_TRUE(Held.begin()->Guard);
  EXPECT_EQ(Held.begin()->Guard->getName(), "c");

  Analysed G(R"cpp(
std::mutex mu;
struct Holder { std::unique_lock<std::mutex> lock; int *p; };
Holder give(int *p) {
  std::unique_lock<std::mutex> a(mu);
  Holder h{std::move(a), p};
  probe(3);
  return h;
}
)cpp",
             "give");
  ASSERT_TRUE(G.ok());
  // Still locked, but by `h` now: no destructor of ours releases it.
  EXPECT_EQ(G.at(3), "mu");
  const LockSet &Moved = G.Analysis->locksHeldAt(G.probe(3));
  ASSERT_EQ(Moved.size(), 1u);
  EXPECT_EQ(Moved.begin()->Guard, nullptr);
  EXPECT_FALSE(G.Analysis->findRelease(G.probe(3), Moved.begin()->Key));
}

// Reduced from rocksdb's SstFileManagerImpl::ClearError: a guard's mutex
// unlocked and re-locked by hand on one branch is held after the branch, and
// the guard still releases it at the end of its scope.
TEST(LockScopes, GuardLockRetakenByHandOnOneBranch) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  std::lock_guard<std::mutex> l(mu);
  if (cond()) {
    mu.unlock();
    probe(1);
    mu.lock();
  }
  probe(2);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "");
  EXPECT_EQ(A.at(2), "mu");
  const HeldLock &Held = *A.Analysis->locksHeldAt(A.probe(2)).begin();
  std::optional<ReleaseSite> Release =
      A.Analysis->findRelease(A.probe(2), Held.Key);
  ASSERT_TRUE(Release);
  EXPECT_EQ(A.line(Release->Loc), 11u);
}

TEST(LockScopes, GuardSitesAndFindRelease) {
  Analysed A(R"cpp(
std::mutex mu;
int f(bool c) {
  std::unique_lock<std::mutex> l(mu);
  probe(1);
  if (c) {
    l.unlock();
    probe(2);
    return 1;
  }
  probe(3);
  return 0;
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  ASSERT_EQ(A.Analysis->guards().size(), 1u);
  const GuardInfo &G = A.Analysis->guards()[0];
  EXPECT_EQ(G.Var->getName(), "l");
  ASSERT_EQ(G.Acquisitions.size(), 1u);
  EXPECT_EQ(A.line(G.Acquisitions[0]->getBeginLoc()), 4u);
  // Released by unlock() (line 7) and by the destructor at `return 0`
  // (line 12); not at `return 1`, where it is no longer owned.
  ASSERT_EQ(G.Releases.size(), 2u);
  std::vector<unsigned> Lines;
  for (const ReleaseSite &R : G.Releases)
    Lines.push_back(A.line(R.Loc));
  llvm::sort(Lines);
  EXPECT_EQ(Lines, (std::vector<unsigned>{7, 12}));

  const HeldLock &Held = *A.Analysis->locksHeldAt(A.probe(3)).begin();
  EXPECT_EQ(A.line(Held.AcquiredAt->getBeginLoc()), 4u);
  std::optional<ReleaseSite> FromThree =
      A.Analysis->findRelease(A.probe(3), Held.Key);
  ASSERT_TRUE(FromThree);
  EXPECT_EQ(A.line(FromThree->Loc), 12u);
  EXPECT_TRUE(FromThree->OnReturn);
  std::optional<ReleaseSite> FromOne =
      A.Analysis->findRelease(A.probe(1), Held.Key);
  ASSERT_TRUE(FromOne);
  EXPECT_EQ(A.line(FromOne->Loc), 7u);
  EXPECT_FALSE(FromOne->OnReturn);
}

TEST(LockScopes, ScopeEndReleaseSite) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  {
    std::lock_guard<std::mutex> g(mu);
    probe(1);
  }
  probe(2);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  const HeldLock &Held = *A.Analysis->locksHeldAt(A.probe(1)).begin();
  std::optional<ReleaseSite> Site =
      A.Analysis->findRelease(A.probe(1), Held.Key);
  ASSERT_TRUE(Site);
  EXPECT_EQ(A.line(Site->Loc), 7u);
  ASSERT_TRUE(Site->Guard);
  EXPECT_EQ(Site->Guard->getName(), "g");
}

TEST(LockScopes, NestedLambdaDoesNotInheritLocks) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  std::lock_guard<std::mutex> g(mu);
  auto l = [] { probe(1); };
  l();
  probe(2);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "");
  EXPECT_EQ(A.at(2), "mu");
}

TEST(LockScopes, LambdaBodyAnalysedOnItsOwn) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  auto l = [] {
    std::lock_guard<std::mutex> g(mu);
    probe(1);
  };
  l();
}
)cpp",
             "lambda");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
}

TEST(LockScopes, FunctionWithoutLocksBuildsNoCFG) {
  Analysed A(R"cpp(
void f() { probe(1); }
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_FALSE(A.Analysis->holdsAnyLock());
  EXPECT_EQ(A.at(1), "");
}

TEST(LockScopes, TemporaryGuardLocksNothingLasting) {
  Analysed A(R"cpp(
std::mutex mu;
void f() {
  std::lock_guard<std::mutex>{mu};
  probe(1);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "");
}

TEST(LockScopes, StatementsThatAreNotElements) {
  Analysed A(R"cpp(
std::mutex mu;
int f(bool c) {
  std::lock_guard<std::mutex> g(mu);
  if (c) {
    probe(1);
  }
  return 0;
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  auto Ifs = match(findAll(ifStmt().bind("if")), *A.Function->getBody(),
                   A.AST->getASTContext());
  ASSERT_EQ(Ifs.size(), 1u);
  EXPECT_EQ(Analysed::describe(
                A.Analysis->locksHeldAt(Ifs[0].getNodeAs<IfStmt>("if"))),
            "mu");
}

// --- requiresHeldLock: what the project says about its callers -------------

/// Which of the snippet's functions (by name) requiresHeldLock accepts.
std::vector<std::string> requiringLock(llvm::StringRef Code) {
  std::unique_ptr<ASTUnit> AST = tooling::buildASTFromCodeWithArgs(
      std::string(Prelude) + Code.str(),
      {"-std=c++20", "-resource-dir=" CONCGUARD_CLANG_RESOURCE_DIR},
      "input.cc");
  std::vector<std::string> Names;
  if (!AST)
    return {"<no AST>"};
  ASTContext &Context = AST->getASTContext();
  for (const BoundNodes &Node :
       match(findAll(functionDecl(isExpansionInMainFile(), unless(isImplicit()))
                         .bind("f")),
             *Context.getTranslationUnitDecl(), Context)) {
    const auto *F = Node.getNodeAs<FunctionDecl>("f");
    if (F->isFirstDecl() && requiresHeldLock(*F))
      Names.push_back(F->getNameAsString());
  }
  return Names;
}

TEST(RequiresHeldLock, AttributesCommentsAndNames) {
  EXPECT_EQ(requiringLock(R"cpp(
std::mutex mu;
struct __attribute__((capability("mutex"))) Mutex {};
Mutex m;
void attributed() __attribute__((requires_capability(m)));
// REQUIRES: mu held.
void googleComment();
void trailing(); // the caller must hold mu
/// Not thread-safe: callers synchronise.
void notThreadSafe();
void FlushLocked();
void pop_nolock();
int unsafeGet();
// REQUIRES: mu not held (takes it itself).
void takesItItself();
// Locks mu and clears the table.
void locksItself();
void lockedOut(); // unrelated comment
// must be held

void separatedByABlankLine();
void unlock();
)cpp"),
            (std::vector<std::string>{"attributed", "googleComment", "trailing",
                                      "notThreadSafe", "FlushLocked",
                                      "pop_nolock", "unsafeGet"}));
}

TEST(RequiresHeldLock, BodiesThatAssertOrSaySo) {
  EXPECT_EQ(
      requiringLock(R"cpp(
struct Mutex {
  void Lock();
  void Unlock();
  void AssertHeld();
};
struct __attribute__((capability("mutex"))) Cap {
  void assertHeld() __attribute__((assert_capability(this)));
};
Mutex mu;
Cap cap;
void asserts() {
  mu.AssertHeld();
  work();
}
void assertsByAttribute() {
  cap.assertHeld();
  work();
}
void saysSo() {
  // No locking needed: only the constructor calls this.
  work();
}
void assertsLater() {
  work();
  if (cond())
    mu.AssertHeld();
}
void locks() {
  mu.Lock();
  work();
  mu.Unlock();
}
)cpp"),
      (std::vector<std::string>{"asserts", "assertsByAttribute", "saysSo"}));
}

/// Per function of the snippet that has any, its entry locks as
/// "name:mutex[:shared]".
std::vector<std::string> entryLocks(llvm::StringRef Code) {
  std::unique_ptr<ASTUnit> AST = tooling::buildASTFromCodeWithArgs(
      std::string(Prelude) + Code.str(),
      {"-std=c++20", "-resource-dir=" CONCGUARD_CLANG_RESOURCE_DIR},
      "input.cc");
  if (!AST)
    return {"<no AST>"};
  std::vector<std::string> Out;
  ASTContext &Context = AST->getASTContext();
  for (const BoundNodes &Node :
       match(findAll(functionDecl(isExpansionInMainFile(), isDefinition(),
                                  unless(isImplicit()))
                         .bind("f")),
             *Context.getTranslationUnitDecl(), Context)) {
    const auto *F = Node.getNodeAs<FunctionDecl>("f");
    for (const HeldLock &Lock : locksHeldOnEntry(*F))
      Out.push_back(F->getNameAsString() + ":" + Lock.Key.name() +
                    (Lock.Mode == LockMode::Shared ? ":shared" : "") +
                    (Lock.AcquiredAt ? "" : ":nowhere"));
  }
  return Out;
}

TEST(LocksHeldOnEntry, AttributesAndAssertions) {
  EXPECT_EQ(
      entryLocks(R"cpp(
struct __attribute__((capability("mutex"))) Mutex {
  void Lock() __attribute__((acquire_capability()));
  void Unlock() __attribute__((release_capability()));
  void AssertHeld() __attribute__((assert_capability(this)));
  void AssertReaderHeld() __attribute__((assert_shared_capability(this)));
  const Mutex &operator!() const { return *this; }
};
Mutex Global;
struct Table {
  Mutex Mu;
  Mutex *Other;
  void required() __attribute__((requires_capability(Mu))) {}
  void shared() __attribute__((requires_shared_capability(Mu))) {}
  void negative() __attribute__((requires_capability(!Mu))) {}
  void declaredApart();
  void asserts() {
    Other->AssertHeld();
    work();
  }
  void assertsShared() { Mu.AssertReaderHeld(); }
  void assertsLater() {
    work();
    if (cond())
      Mu.AssertHeld();
  }
  void twice() __attribute__((requires_capability(Mu))) { Mu.AssertHeld(); }
  void none() {}
};
void Table::declaredApart() __attribute__((requires_capability(Global))) {}
)cpp"),
      (std::vector<std::string>{"required:Mu", "shared:Mu:shared",
                                "asserts:Other", "assertsShared:Mu:shared",
                                "twice:Mu", "declaredApart:Global"}));
}

TEST(RequiresHeldLock, AnyRedeclarationCounts) {
  // The comment sits on the declaration in the header; the definition
  // elsewhere has none.
  EXPECT_EQ(requiringLock(R"cpp(
struct Table {
  // REQUIRES: the table's mutex is held.
  void rehash();
  void grow();
};
void Table::rehash() {}
void Table::grow() {}
)cpp"),
            (std::vector<std::string>{"rehash"}));
}

} // namespace

//===----------------------------------------------------------------------===//
// Monitors: a class locked through `*this`
//===----------------------------------------------------------------------===//

TEST(LockScopes, MonitorLockedThroughThis) {
  Analysed A(R"cpp(
template <typename T> struct LockT {
  explicit LockT(const T &m) : m(m) { m.lock(); }
  ~LockT() { m.unlock(); }
  const T &m;
};
struct Monitor {
  void lock() const;
  void unlock() const;
};
struct Queue : Monitor {
  int n;
  void f();
};
void Queue::f() {
  {
    LockT<Monitor> sync(*this);
    probe(1);
  }
  probe(2);
  lock();
  probe(3);
  unlock();
  probe(4);
  this->lock();
  probe(5);
  (*this).unlock();
  probe(6);
  {
    std::lock_guard<Monitor> g(*this);
    probe(7);
  }
  probe(8);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "*this");
  EXPECT_EQ(A.at(2), "");
  EXPECT_EQ(A.at(3), "*this");
  EXPECT_EQ(A.at(4), "");
  EXPECT_EQ(A.at(5), "*this");
  EXPECT_EQ(A.at(6), "");
  EXPECT_EQ(A.at(7), "*this");
  EXPECT_EQ(A.at(8), "");
  const LockSet &Held = A.Analysis->locksHeldAt(A.probe(1));
  ASSERT_EQ(Held.size(), 1u);
  const MutexKey &Key = Held.begin()->Key;
  EXPECT_TRUE(Key.isThisObject());
  EXPECT_TRUE(Key.isThisMember()); // it guards the object's members
  EXPECT_EQ(Key.root(), nullptr);
  EXPECT_EQ(Key, MutexKey::thisObject());
  EXPECT_NE(Key, MutexKey());
}

TEST(LockScopes, ClassDerivedFromStdMutexLocksItself) {
  Analysed A(R"cpp(
struct Inbox : std::mutex {
  int n;
  void f();
};
void Inbox::f() {
  std::unique_lock<std::mutex> g(*this);
  probe(1);
  g.unlock();
  probe(2);
  lock();
  probe(3);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "*this");
  EXPECT_EQ(A.at(2), "");
  EXPECT_EQ(A.at(3), "*this");
}

TEST(LockScopes, ThisKeyWithFieldsIsTheMemberKey) {
  Analysed A(R"cpp(
struct S {
  std::mutex mu;
  void f();
};
void S::f() {
  std::lock_guard g(mu);
  probe(1);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  const LockSet &Held = A.Analysis->locksHeldAt(A.probe(1));
  ASSERT_EQ(Held.size(), 1u);
  // `*this` + {mu} names the member mu: what a caller's frame gives when it
  // rebases a callee's member key onto the object `this` points to.
  MutexKey Rebased = MutexKey::thisObject();
  Rebased.Path.append(Held.begin()->Key.Path.begin(),
                      Held.begin()->Key.Path.end());
  EXPECT_EQ(Rebased, Held.begin()->Key);
  EXPECT_FALSE(Rebased.isThisObject());
}

TEST(LockScopes, MutexTypesThroughBases) {
  Analysed A(R"cpp(
namespace base { struct Lock { void Enter(); void Leave(); }; }
struct Derived : base::Lock {};
struct FromStd : std::recursive_mutex {};
struct Plain {};
struct SpinLock { void Acquire(); void Release(); };
struct Limiter { bool Acquire(); void Release(); };
Derived d;
FromStd s;
Plain p;
SpinLock spin;
Limiter limiter;
void f() { probe(1); }
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  ASTContext &Context = A.AST->getASTContext();
  auto TypeOf = [&](llvm::StringRef Name) {
    auto Found = match(varDecl(hasName(Name)).bind("v"), Context);
    return Found.empty() ? QualType()
                         : Found[0].getNodeAs<VarDecl>("v")->getType();
  };
  LockOptions None;
  LockOptions Custom = LockOptions::parse("base::Lock", "");
  EXPECT_FALSE(isMutexType(TypeOf("d"), None));
  EXPECT_TRUE(isMutexType(TypeOf("d"), Custom));
  EXPECT_TRUE(isMutexType(TypeOf("s"), None));
  EXPECT_FALSE(isMutexType(TypeOf("p"), Custom));
  // Acquire/Release is a lock by its shape; a bool Acquire is a counter.
  EXPECT_TRUE(isMutexType(TypeOf("spin"), None));
  EXPECT_FALSE(isMutexType(TypeOf("limiter"), None));
}

//===----------------------------------------------------------------------===//
// Lock effects of called functions
//===----------------------------------------------------------------------===//

TEST(LockEffects, AcquireAndReleaseInCallees) {
  Analysed A(R"cpp(
struct Q {
  std::mutex mu_;
  int n;
  void lockQueue() { mu_.lock(); }
  void unlockQueue() { mu_.unlock(); }
  void f();
};
void Q::f() {
  probe(1);
  lockQueue();
  probe(2);
  unlockQueue();
  probe(3);
  this->lockQueue();
  probe(4);
  this->unlockQueue();
  probe(5);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "");
  EXPECT_EQ(A.at(2), "mu_");
  EXPECT_EQ(A.at(3), "");
  EXPECT_EQ(A.at(4), "mu_");
  EXPECT_EQ(A.at(5), "");
}

TEST(LockEffects, ThroughObjectsParametersAndGlobals) {
  Analysed A(R"cpp(
struct Q {
  std::mutex mu_;
  void lockQueue() { mu_.lock(); }
  void unlockQueue() { mu_.unlock(); }
};
std::mutex g;
void lockGlobal() { g.lock(); }
void unlockGlobal() { g.unlock(); }
void lockIt(std::mutex &m) { m.lock(); }
void unlockIt(std::mutex *m) { m->unlock(); }
void lockShared(std::shared_mutex &m) { m.lock_shared(); }
void f(Q &q, Q *p, std::mutex &mu, std::shared_mutex &rw) {
  q.lockQueue();
  p->lockQueue();
  lockGlobal();
  lockIt(mu);
  lockShared(rw);
  probe(1);
  q.unlockQueue();
  p->unlockQueue();
  unlockGlobal();
  unlockIt(&mu);
  probe(2);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "q.mu_,p.mu_,g,mu,rw:shared");
  EXPECT_EQ(A.at(2), "rw:shared");
}

TEST(LockEffects, BalancedOrConditionalCalleesHaveNoEffect) {
  Analysed A(R"cpp(
std::mutex mu;
void balanced() { mu.lock(); work(); mu.unlock(); }
void guarded() { std::lock_guard<std::mutex> g(mu); work(); }
void maybeLock() { if (cond()) mu.lock(); }
void lockOnOnePath() { if (cond()) { mu.lock(); return; } mu.lock(); mu.unlock(); }
void relock() { mu.unlock(); work(); mu.lock(); }
void maybeUnlock() { if (cond()) mu.unlock(); }
void local() { std::mutex m; m.lock(); }
void f() {
  balanced();
  guarded();
  maybeLock();
  lockOnOnePath();
  probe(1);
  std::lock_guard<std::mutex> g(mu);
  relock();
  probe(2);
  maybeUnlock();
  local();
  probe(3);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "");
  EXPECT_EQ(A.at(2), "mu");
  EXPECT_EQ(A.at(3), "mu");
  ASTContext &Context = A.AST->getASTContext();
  for (const char *Name : {"balanced", "guarded", "maybeLock", "lockOnOnePath",
                           "relock", "maybeUnlock", "local"}) {
    auto Found = match(functionDecl(hasName(Name)).bind("f"), Context);
    ASSERT_FALSE(Found.empty()) << Name;
    EXPECT_TRUE(functionLockEffects(*Found[0].getNodeAs<FunctionDecl>("f"),
                                    Context, LockOptions())
                    .empty())
        << Name;
  }
}

TEST(LockEffects, SummariesSayWhatTheyDo) {
  Analysed A(R"cpp(
struct Q {
  std::mutex mu_;
  void lockQueue() { mu_.lock(); }
  void handOver(std::mutex &other) { other.unlock(); mu_.lock(); }
};
void f() { probe(1); }
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  ASTContext &Context = A.AST->getASTContext();
  auto EffectsOf = [&](llvm::StringRef Name) {
    auto Found = match(
        cxxMethodDecl(hasName(Name), ofClass(hasName("Q"))).bind("f"), Context);
    return functionLockEffects(*Found[0].getNodeAs<FunctionDecl>("f"), Context,
                               LockOptions());
  };
  FunctionLockEffects Lock = EffectsOf("lockQueue");
  ASSERT_EQ(Lock.Acquires.size(), 1u);
  EXPECT_EQ(Lock.Acquires[0].Key.name(), "mu_");
  EXPECT_TRUE(Lock.Releases.empty());
  EXPECT_FALSE(Lock.FromAttributes);
  FunctionLockEffects Swap = EffectsOf("handOver");
  ASSERT_EQ(Swap.Acquires.size(), 1u);
  ASSERT_EQ(Swap.Releases.size(), 1u);
  EXPECT_EQ(Swap.Releases[0].name(), "other");
}

TEST(LockEffects, ThreadSafetyAttributesAreFacts) {
  Analysed A(R"cpp(
struct __attribute__((capability("mutex"))) Mutex {
  void Lock() __attribute__((acquire_capability()));
  void Unlock() __attribute__((release_capability()));
};
struct Q {
  Mutex mu_;
  std::mutex other_;
  void lockQueue() __attribute__((acquire_capability(mu_)));
  void unlockQueue() __attribute__((release_capability(mu_)));
  void lockOld() __attribute__((exclusive_lock_function(other_)));
  void unlockOld() __attribute__((unlock_function(other_)));
  void lockReader() __attribute__((acquire_shared_capability(other_)));
  // The attribute wins over a body that shows nothing.
  void lockLater() __attribute__((acquire_capability(mu_))) { work(); }
  void f();
};
void Q::f() {
  lockQueue();
  lockOld();
  probe(1);
  unlockQueue();
  unlockOld();
  probe(2);
  lockReader();
  lockLater();
  probe(3);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu_,other_");
  EXPECT_EQ(A.at(2), "");
  EXPECT_EQ(A.at(3), "other_:shared,mu_");
}

TEST(LockEffects, NestedCallsUpToTheDepthLimit) {
  static_assert(MaxLockEffectDepth == 4, "the snippet nests five calls");
  Analysed A(R"cpp(
std::mutex mu;
void l1() { mu.lock(); }
void l2() { l1(); }
void l3() { l2(); }
void l4() { l3(); }
void l5() { l4(); }
void u1() { mu.unlock(); }
void u2() { u1(); }
void f() {
  l2();
  probe(1);
  u2();
  probe(2);
  l4();
  probe(3);
  u1();
  l5();
  probe(4);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
  EXPECT_EQ(A.at(2), "");
  EXPECT_EQ(A.at(3), "mu");
  // Five calls deep: past the limit, no effect.
  EXPECT_EQ(A.at(4), "");
}

TEST(LockEffects, RecursionHasNoEffectOfItsOwn) {
  Analysed A(R"cpp(
std::mutex mu;
void spin(int n) { if (n > 0) spin(n - 1); }
void lockThenSpin(int n) { mu.lock(); spin(n); }
void f() {
  lockThenSpin(3);
  probe(1);
}
)cpp",
             "f");
  ASSERT_TRUE(A.ok());
  EXPECT_EQ(A.at(1), "mu");
}
