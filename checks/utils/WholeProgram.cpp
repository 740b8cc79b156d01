//===--- WholeProgram.cpp - the whole-program phase -----------------------===//

#include "WholeProgram.h"

#include "SharedContainers.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace clang::tidy::concguard::utils {

void Program::addUnit(UnitFacts Unit) {
  removeUnit(Unit.File);
  Units.push_back(std::move(Unit));
}

void Program::removeUnit(llvm::StringRef File) {
  llvm::erase_if(Units, [&](const UnitFacts &U) { return U.File == File; });
}

std::string describeLocation(const FactLocation &Loc) {
  return llvm::formatv("{0}:{1}", llvm::sys::path::filename(Loc.File),
                       Loc.Line);
}

namespace {

constexpr llvm::StringLiteral RaceCheck = "concguard-unsynchronized-container";
constexpr llvm::StringLiteral ThreadCheck = "concguard-uncancellable-thread";
constexpr llvm::StringLiteral EscapeCheck =
    "concguard-escaping-guarded-reference";

/// A function of the program and the units that define it.
struct Definition {
  const FunctionFacts *Facts = nullptr;
  llvm::SmallVector<unsigned, 2> Units;
};

/// Monitor: the public member functions of a class whose objects its own
/// code locks (the lock-evidence rule), without any thread start.
enum class ContextKind { Thread, Region, Methods, Monitor };

/// A spawn: the function that holds it and its index there.
struct SpawnRef {
  const FunctionFacts *Function = nullptr;
  unsigned Index = 0;
  unsigned Unit = 0;
  const FactSpawn &spawn() const { return Function->Spawns[Index]; }
};

struct Context {
  ContextKind Kind = ContextKind::Thread;
  SpawnRef Spawn;
  std::string Class; ///< for Methods
};

/// One step of a call path: the call and the function that makes it.
struct Step {
  const FactCall *Call = nullptr;
  const FunctionFacts *Caller = nullptr;
};

struct Access {
  const FactAccess *Fact = nullptr;
  const FunctionFacts *Function = nullptr;
  unsigned Context = 0;
  FactKey Key;
  std::vector<FactLock> Locks;
  llvm::SmallVector<Step, 2> Path;
};

/// How keys of one function translate into keys of the context's root.
struct Frame {
  std::optional<FactKey> This;
  bool ThisUnknown = false;
  std::map<std::string, FactKey> Params;
  /// The class of the object `this` stands for, when the context knows it
  /// (the member functions of one class): virtual calls on `this` reach
  /// that class's overriders.
  std::string DynamicClass;
};

std::optional<FactKey> rebase(const FactKey &Key, const Frame &F) {
  if (Key.empty())
    return std::nullopt;
  const std::string &Root = Key.front();
  auto Append = [&](FactKey Base) {
    Base.insert(Base.end(), std::next(Key.begin()), Key.end());
    return Base;
  };
  if (Root == "this") {
    if (F.ThisUnknown)
      return std::nullopt;
    return F.This ? Append(*F.This) : Key;
  }
  if (auto It = F.Params.find(Root); It != F.Params.end())
    return Append(It->second);
  return Key;
}

bool conflicting(FactAccessKind A, FactAccessKind B, bool Strict) {
  if (A == FactAccessKind::StructuralWrite ||
      B == FactAccessKind::StructuralWrite)
    return true;
  return Strict && (A == FactAccessKind::ElementWrite ||
                    B == FactAccessKind::ElementWrite);
}

bool holds(const Access &A, const FactKey &Mutex, bool NeedExclusive) {
  return llvm::any_of(A.Locks, [&](const FactLock &L) {
    return L.Key == Mutex && (!NeedExclusive || !L.Shared);
  });
}

bool guarded(const Access &A, const Access &B) {
  return llvm::any_of(A.Locks, [&](const FactLock &L) {
    return holds(A, L.Key, A.Fact->Kind != FactAccessKind::Read) &&
           holds(B, L.Key, B.Fact->Kind != FactAccessKind::Read);
  });
}

bool before(const FactLocation &A, const FactLocation &B) {
  return std::tie(A.File, A.Line, A.Column) <
         std::tie(B.File, B.Line, B.Column);
}

std::string quoted(llvm::StringRef Name) { return ("'" + Name + "'").str(); }

class Analysis {
public:
  Analysis(llvm::ArrayRef<UnitFacts> Units, const WholeProgramOptions &Options)
      : Units(Units), Options(Options) {
    for (unsigned U = 0; U < Units.size(); ++U)
      for (const FunctionFacts &F : Units[U].Functions) {
        Definition &D = Definitions[F.USR];
        if (!D.Facts)
          D.Facts = &F;
        if (!llvm::is_contained(D.Units, U))
          D.Units.push_back(U);
        if (D.Units.size() != 1)
          continue;
        if (F.IsMethod && !F.IsStatic && !F.IsCtorOrDtor && !F.IsPrivate)
          MethodsOf[F.Class].push_back(F.USR);
        if (F.IsMethod)
          AllMethodsOf[F.Class].push_back(&F);
      }
    for (const UnitFacts &Unit : Units)
      for (const FactClass &C : Unit.Classes)
        Classes.try_emplace(C.USR, &C);
    // Who calls each function, and with a lock held or not.
    for (const auto &[USR, D] : Definitions)
      for (const FactCall &Call : D.Facts->Calls) {
        CallerLocks &C = CallersOf[Call.Callee];
        ++C.Calls;
        // A caller that itself runs under its caller's lock holds it too.
        if (!Call.Locks.empty() || D.Facts->RequiresLock)
          ++C.Locked;
      }
  }

  std::vector<ProgramFinding> run() {
    if (Options.Races) {
      findRaces();
      findLockInconsistencies();
      findGlobalInconsistencies();
    }
    if (Options.EndlessThreads)
      findEndlessThreads();
    if (Options.Escapes)
      findLockHandOvers();
    return std::move(Findings);
  }

private:
  llvm::ArrayRef<UnitFacts> Units;
  const WholeProgramOptions &Options;
  std::map<std::string, Definition> Definitions;
  std::map<std::string, std::vector<std::string>> MethodsOf;
  /// Every member function with facts, private ones included, by class.
  std::map<std::string, std::vector<const FunctionFacts *>> AllMethodsOf;
  std::map<std::string, const FactClass *> Classes;
  struct CallerLocks {
    unsigned Calls = 0, Locked = 0;
  };
  std::map<std::string, CallerLocks> CallersOf;
  /// Where the thread-evidence races found a write (reported here or left
  /// to the per-unit check): the lock-evidence rule does not report the
  /// same access again.
  std::set<std::tuple<std::string, unsigned, unsigned>> ThreadRaceWrites;
  std::vector<ProgramFinding> Findings;

  /// \p Class and its bases, nearest first (each once).
  std::vector<const FactClass *> classChain(const std::string &Class) const {
    std::vector<const FactClass *> Chain;
    std::vector<std::string> Queue{Class};
    std::set<std::string> Seen{Class};
    for (size_t I = 0; I < Queue.size(); ++I) {
      auto It = Classes.find(Queue[I]);
      if (It == Classes.end())
        continue;
      Chain.push_back(It->second);
      for (const std::string &Base : It->second->Bases)
        if (Seen.insert(Base).second)
          Queue.push_back(Base);
    }
    return Chain;
  }

  /// The function a virtual call of \p Virtual on an object of class
  /// \p Class runs: the overrider nearest to \p Class, if its body is
  /// known.
  const Definition *overrider(const std::string &Class,
                              const std::string &Virtual) const {
    for (const FactClass *C : classChain(Class)) {
      auto It = AllMethodsOf.find(C->USR);
      if (It == AllMethodsOf.end())
        continue;
      for (const FunctionFacts *M : It->second)
        if (M->USR == Virtual || llvm::is_contained(M->Overrides, Virtual))
          return lookup(M->USR);
    }
    return nullptr;
  }

  std::vector<Context> Contexts;
  std::vector<std::vector<Access>> ByContext;
  std::vector<std::set<std::string>> FunctionsOf;

  const Definition *lookup(const std::string &USR) const {
    auto It = Definitions.find(USR);
    return It == Definitions.end() ? nullptr : &It->second;
  }

  /// Can an object with this (rebased) key be seen by two threads?
  bool shareable(const FactKey &Key, const Context &Ctx) const {
    const std::string &Root = Key.front();
    if (Root == "this")
      return true;
    if (!llvm::StringRef(Root).starts_with("local:"))
      return true; // a global or static
    if (Ctx.Kind == ContextKind::Methods || Ctx.Kind == ContextKind::Monitor)
      return false;
    // A local is shared only by the threads of the function that owns it.
    const FactSpawn &S = Ctx.Spawn.spawn();
    if (!llvm::StringRef(Root).starts_with("local:" + Ctx.Spawn.Function->USR +
                                           "|"))
      return false;
    // A capture by copy is the thread's own copy.
    return !(Ctx.Kind == ContextKind::Thread &&
             llvm::is_contained(S.CopiedLocals, Root));
  }

  void walk(const FunctionFacts &F, const Frame &Scope,
            llvm::ArrayRef<FactLock> Inherited,
            llvm::SmallVectorImpl<Step> &Path, unsigned Depth, unsigned Ctx,
            const std::vector<unsigned> *Accesses,
            const std::vector<unsigned> *Calls, llvm::StringSet<> &OnStack) {
    if (!OnStack.insert(F.USR).second)
      return;
    FunctionsOf[Ctx].insert(F.USR);
    auto Rebased = [&](llvm::ArrayRef<FactLock> Local) {
      std::vector<FactLock> Out(Inherited.begin(), Inherited.end());
      for (const FactLock &Lock : Local)
        if (std::optional<FactKey> Key = rebase(Lock.Key, Scope))
          Out.push_back(
              {std::move(*Key), Lock.Shared, Lock.Name, Lock.Conditional});
      return Out;
    };
    for (unsigned I = 0; I < F.Accesses.size(); ++I) {
      if (Accesses &&
          !std::binary_search(Accesses->begin(), Accesses->end(), I))
        continue;
      const FactAccess &Local = F.Accesses[I];
      std::optional<FactKey> Key = rebase(Local.Key, Scope);
      if (!Key || !shareable(*Key, Contexts[Ctx]))
        continue;
      Access A;
      A.Fact = &Local;
      A.Function = &F;
      A.Context = Ctx;
      A.Key = std::move(*Key);
      A.Locks = Rebased(Local.Locks);
      A.Path.assign(Path.begin(), Path.end());
      ByContext[Ctx].push_back(std::move(A));
    }
    if (Depth > 0)
      for (unsigned I = 0; I < F.Calls.size(); ++I) {
        if (Calls && !std::binary_search(Calls->begin(), Calls->end(), I))
          continue;
        const FactCall &Call = F.Calls[I];
        const Definition *Callee = lookup(Call.Callee);
        if (Call.OnThis && Call.Virtual && !Scope.DynamicClass.empty())
          if (const Definition *Overrider =
                  overrider(Scope.DynamicClass, Call.Callee))
            Callee = Overrider;
        if (!Callee)
          continue;
        Frame Next;
        if (Call.OnThis) {
          Next.This = Scope.This;
          Next.ThisUnknown = Scope.ThisUnknown;
          Next.DynamicClass = Scope.DynamicClass;
        } else if (Call.Object) {
          Next.This = rebase(*Call.Object, Scope);
          Next.ThisUnknown = !Next.This;
        } else {
          Next.ThisUnknown =
              Callee->Facts->IsMethod && !Callee->Facts->IsStatic;
        }
        for (const auto &[Index, Key] : Call.Bound)
          if (Index < Callee->Facts->Params.size())
            if (std::optional<FactKey> Bound = rebase(Key, Scope))
              Next.Params[Callee->Facts->Params[Index]] = std::move(*Bound);
        std::vector<FactLock> Locks = Rebased(Call.Locks);
        Path.push_back({&Call, &F});
        walk(*Callee->Facts, Next, Locks, Path, Depth - 1, Ctx, nullptr,
             nullptr, OnStack);
        Path.pop_back();
      }
    OnStack.erase(F.USR);
  }

  unsigned addContext(Context Ctx) {
    Contexts.push_back(std::move(Ctx));
    ByContext.emplace_back();
    FunctionsOf.emplace_back();
    return Contexts.size() - 1;
  }

  void walkRoot(const FunctionFacts &F, const Frame &Scope, unsigned Ctx,
                const std::vector<unsigned> *Accesses = nullptr,
                const std::vector<unsigned> *Calls = nullptr) {
    llvm::SmallVector<Step, 4> Path;
    llvm::StringSet<> OnStack;
    walk(F, Scope, {}, Path, Options.MaxCallDepth, Ctx, Accesses, Calls,
         OnStack);
  }

  /// Does one unit define every function of \p Functions? Then the
  /// per-unit analysis of that unit sees the whole finding.
  bool heldByOneUnit(llvm::ArrayRef<const FunctionFacts *> Functions) const {
    std::optional<llvm::SmallVector<unsigned, 2>> Common;
    for (const FunctionFacts *F : Functions) {
      const Definition *D = lookup(F->USR);
      if (!D)
        return false;
      if (!Common) {
        Common = D->Units;
        continue;
      }
      llvm::erase_if(*Common, [&](unsigned U) {
        return !llvm::is_contained(D->Units, U);
      });
    }
    return Common && !Common->empty();
  }

  std::string describe(const Access &A, const SpawnRef &Thread) const {
    const Context &Ctx = Contexts[A.Context];
    const FactSpawn &Site =
        Ctx.Kind == ContextKind::Thread || Ctx.Kind == ContextKind::Region
            ? Ctx.Spawn.spawn()
            : Thread.spawn();
    std::string Where = describeLocation(Site.Loc);
    switch (Ctx.Kind) {
    case ContextKind::Thread:
      return "on the thread started at " + Where;
    case ContextKind::Region:
      return llvm::formatv("in {0} after it starts the thread at {1}",
                           quoted(Ctx.Spawn.Function->Name), Where);
    case ContextKind::Methods:
      return llvm::formatv("in {0}, which may run concurrently with the "
                           "thread started at {1}",
                           quoted(A.Function->Name), Where);
    case ContextKind::Monitor:
      break; // described by reportInconsistency
    }
    return "";
  }

  void findRaces() {
    struct PerSpawn {
      SpawnRef Ref;
      unsigned Thread = 0, Region = 0;
      std::optional<unsigned> Methods;
    };
    std::vector<PerSpawn> Spawns;
    std::map<std::pair<const FunctionFacts *, unsigned>, unsigned> ThreadOf;
    std::map<std::string, unsigned> MethodContexts;

    for (const auto &[USR, D] : Definitions) {
      const FunctionFacts &F = *D.Facts;
      for (unsigned I = 0; I < F.Spawns.size(); ++I) {
        const FactSpawn &S = F.Spawns[I];
        const Definition *Entry = lookup(S.Entry);
        if (!Entry)
          continue; // its body is in no unit we have
        PerSpawn P;
        P.Ref = {&F, I, D.Units.front()};
        P.Thread = addContext({ContextKind::Thread, P.Ref, ""});
        Frame ThreadScope;
        if (!S.OnThis && Entry->Facts->IsMethod && !Entry->Facts->IsStatic) {
          ThreadScope.This = S.Object;
          ThreadScope.ThisUnknown = !S.Object;
        }
        for (const auto &[Index, Key] : S.Bound)
          if (Index < Entry->Facts->Params.size())
            ThreadScope.Params[Entry->Facts->Params[Index]] = Key;
        walkRoot(*Entry->Facts, ThreadScope, P.Thread);

        P.Region = addContext({ContextKind::Region, P.Ref, ""});
        walkRoot(F, Frame(), P.Region, &S.RegionAccesses, &S.RegionCalls);

        if (S.OnThis && !S.ThreadClass.empty()) {
          auto [It, Inserted] = MethodContexts.try_emplace(S.ThreadClass, 0);
          if (Inserted) {
            It->second =
                addContext({ContextKind::Methods, P.Ref, S.ThreadClass});
            for (const std::string &Method : MethodsOf[S.ThreadClass])
              if (const Definition *M = lookup(Method))
                walkRoot(*M->Facts, Frame(), It->second);
          }
          P.Methods = It->second;
        }
        ThreadOf[{&F, I}] = P.Thread;
        Spawns.push_back(P);
      }
    }

    struct Pair {
      unsigned A, B;
      unsigned Spawn; ///< index into Spawns: the thread the pair is about
      bool ExcludeThreadFunctions = false;
    };
    std::vector<Pair> Pairs;
    for (unsigned I = 0; I < Spawns.size(); ++I) {
      const PerSpawn &P = Spawns[I];
      const FactSpawn &S = P.Ref.spawn();
      Pairs.push_back({P.Thread, P.Region, I});
      if (S.MultiInstance)
        Pairs.push_back({P.Thread, P.Thread, I});
      for (unsigned Other : S.RegionSpawns)
        if (auto It = ThreadOf.find({P.Ref.Function, Other});
            It != ThreadOf.end())
          Pairs.push_back({P.Thread, It->second, I});
      if (P.Methods)
        Pairs.push_back({P.Thread, *P.Methods, I, true});
    }

    std::set<std::tuple<std::string, unsigned, unsigned, std::string, unsigned,
                        unsigned>>
        Reported;
    for (const Pair &Pair : Pairs) {
      std::vector<std::pair<const Access *, const Access *>> Candidates;
      for (const Access &A : ByContext[Pair.A])
        for (const Access &B : ByContext[Pair.B]) {
          if (Pair.ExcludeThreadFunctions &&
              FunctionsOf[Pair.A].count(B.Function->USR))
            continue;
          if (A.Key != B.Key)
            continue;
          if (Pair.A == Pair.B && A.Fact->Kind == FactAccessKind::Read &&
              B.Fact->Kind == FactAccessKind::Read)
            continue;
          if (!conflicting(A.Fact->Kind, B.Fact->Kind,
                           Options.StrictElementAccess) ||
              guarded(A, B))
            continue;
          Candidates.push_back({&A, &B});
        }
      // The first race in source order, a write first.
      auto Write = [](const std::pair<const Access *, const Access *> &C) {
        return C.first->Fact->Kind != FactAccessKind::Read ? C.first : C.second;
      };
      auto Other = [&](const std::pair<const Access *, const Access *> &C) {
        return Write(C) == C.first ? C.second : C.first;
      };
      llvm::stable_sort(Candidates, [&](const auto &X, const auto &Y) {
        if (Write(X)->Fact->Loc.File != Write(Y)->Fact->Loc.File ||
            Write(X)->Fact->Loc.Line != Write(Y)->Fact->Loc.Line ||
            Write(X)->Fact->Loc.Column != Write(Y)->Fact->Loc.Column)
          return before(Write(X)->Fact->Loc, Write(Y)->Fact->Loc);
        return before(Other(X)->Fact->Loc, Other(Y)->Fact->Loc);
      });
      std::set<FactKey> Containers;
      const PerSpawn &Thread = Spawns[Pair.Spawn];
      for (const auto &Candidate : Candidates) {
        const Access &W = *Write(Candidate);
        const Access &O = *Other(Candidate);
        if (!Containers.insert(W.Key).second)
          continue;
        for (const Access *Side : {&W, &O})
          ThreadRaceWrites.insert({Side->Fact->Loc.File, Side->Fact->Loc.Line,
                                   Side->Fact->Loc.Column});
        // Everything the finding rests on: held by one unit, the per-unit
        // check reports it there.
        llvm::SmallVector<const FunctionFacts *, 8> Evidence{
            Thread.Ref.Function, W.Function, O.Function};
        if (const Definition *Entry = lookup(Thread.Ref.spawn().Entry))
          Evidence.push_back(Entry->Facts);
        for (const Step &S : W.Path)
          Evidence.push_back(S.Caller);
        for (const Step &S : O.Path)
          Evidence.push_back(S.Caller);
        if (heldByOneUnit(Evidence))
          continue;
        // One report per pair of places, whichever contexts found it.
        const FactLocation &WL = W.Fact->Loc, &OL = O.Fact->Loc;
        auto Id =
            WL.File < OL.File || (WL.File == OL.File && WL.Line <= OL.Line)
                ? std::make_tuple(WL.File, WL.Line, WL.Column, OL.File, OL.Line,
                                  OL.Column)
                : std::make_tuple(OL.File, OL.Line, OL.Column, WL.File, WL.Line,
                                  WL.Column);
        if (!Reported.insert(Id).second)
          continue;
        report(W, O, Pair.A == Pair.B, Thread.Ref);
      }
    }
  }

  /// The entry point an access was reached from: the function at the
  /// root of its call path.
  static const FunctionFacts *rootOf(const Access &A) {
    return A.Path.empty() ? A.Function : A.Path.front().Caller;
  }

  /// Is \p F run only with a lock held by its caller: it says so
  /// (RequiresLock), or every call of it in the program holds a lock?
  bool callerLocked(const FunctionFacts &F) const {
    if (F.RequiresLock)
      return true;
    unsigned Calls = 0, Locked = 0;
    auto Count = [&](const std::string &USR) {
      if (auto It = CallersOf.find(USR); It != CallersOf.end()) {
        Calls += It->second.Calls;
        Locked += It->second.Locked;
      }
    };
    Count(F.USR);
    for (const std::string &Overridden : F.Overrides)
      Count(Overridden);
    return Calls > 0 && Locked == Calls;
  }

  /// Set-up and test hooks run before the object is shared or in tests
  /// that drive one thread: `Init`, `Initialize`, `SetUp`, `Open`,
  /// `Start`, `Recover`, `TEST_Foo` (the name after the last `::`).
  static bool isSetUpName(llvm::StringRef Qualified) {
    llvm::StringRef Name = Qualified.rsplit("::").second;
    if (Name.empty())
      Name = Qualified;
    std::string Folded = normalizedName(Name);
    llvm::StringRef F(Folded);
    return F.starts_with("init") || F.starts_with("setup") ||
           F.starts_with("open") || F.starts_with("start") ||
           F.starts_with("recover") || Name.starts_with("TEST") ||
           Name.starts_with("test");
  }

  /// A write that can race (conflicting(): structural, or an element write
  /// with StrictElementAccess).
  bool countsAsWrite(FactAccessKind Kind) const {
    return conflicting(Kind, Kind, Options.StrictElementAccess);
  }

  /// A lock of the object itself: a mutex member (`this`, field, ...) or
  /// the object when it is a monitor locked through `*this` (`this`),
  /// taken unconditionally. A lock taken only when a flag asks for it
  /// (`ThreadSafe ? &Mu : nullptr`) protects the accesses under it but says
  /// the class is shared only when the flag is set, which the facts do not
  /// know: as evidence it turned zeromq's radio_t, server_t and xpub_t into
  /// shared classes and their unlocked callbacks into false positives.
  static bool isObjectLock(const FactLock &L) {
    return !L.Key.empty() && L.Key.front() == "this" && !L.Conditional;
  }

  /// A lock that shows a global is shared when a write holds it: exclusive
  /// and unconditional (isObjectLock says why).
  static bool isEvidenceForGlobal(const FactLock &L) {
    return !L.Shared && !L.Conditional;
  }

  /// Is one lock of the object held at accesses in two different functions?
  /// A lock held by one function around all it does (a close or shutdown
  /// mutex) says nothing about the members that function happens to touch.
  static bool guardedInTwoFunctions(llvm::ArrayRef<const Access *> Locked) {
    std::map<FactKey, std::set<std::string>> FunctionsUnder;
    for (const Access *A : Locked)
      for (const FactLock &L : A->Locks)
        if (isObjectLock(L) &&
            FunctionsUnder[L.Key].insert(A->Function->USR).second &&
            FunctionsUnder[L.Key].size() >= 2)
          return true;
    return false;
  }

  /// The lock-evidence rule (RacerD's reasoning for classes that lock):
  /// when a class's own code holds a lock at some access to a container
  /// member, its author shares the class's objects between threads, so an
  /// access to that member from another public member function with no
  /// lock at all, which conflicts with the locked one, is a race though no
  /// thread start is in sight. Deliberately narrow, because a false
  /// positive costs more than a miss:
  ///  - only an unlocked write (structural; element writes too with
  ///    StrictElementAccess), or an unlocked read that copies the whole
  ///    container against a locked structural write;
  ///  - only containers the class locks somewhere with a lock of the
  ///    object itself (a mutex member: a static lock guards global state,
  ///    not this object), compared with such a locked access (two unlocked
  ///    accesses prove nothing);
  ///  - entry points are public, non-static member functions (inherited
  ///    ones too, with virtual calls on `this` reaching the class's
  ///    overriders), never constructors or destructors;
  ///  - a function whose callers hold the lock (RequiresLock: an attribute,
  ///    a `REQUIRES:` comment, a `...Locked` name; or every call of it in
  ///    the program holds a lock) is not an unlocked side;
  ///  - accesses that a thread-evidence race already reports are left to it.
  void findLockInconsistencies() {
    // A finding per member and function holding the unlocked access. An
    // access reached through calls is reported at the entry's call (the
    // notes lead to the access), unless a function on the way is itself an
    // entry point reported for the member, which fixes every caller too.
    struct Candidate {
      const Access *Unlocked = nullptr, *Locked = nullptr;
      const FactClass *Class = nullptr;
      auto rank() const {
        // The class whose member function the unlocked access is reached
        // from describes it best.
        bool OtherClass = rootOf(*Unlocked)->Class != Class->USR;
        return std::make_tuple(
            Unlocked->Path.size(), OtherClass, Locked->Path.size(),
            Unlocked->Fact->Loc.File, Unlocked->Fact->Loc.Line,
            Unlocked->Fact->Loc.Column, Locked->Fact->Loc.File,
            Locked->Fact->Loc.Line, Locked->Fact->Loc.Column);
      }
    };
    std::vector<Candidate> All;
    auto ByPlace = [](const Access *X, const Access *Y) {
      return before(X->Fact->Loc, Y->Fact->Loc);
    };
    for (const auto &[ClassUSR, Class] : Classes) {
      std::vector<const FactClass *> Chain = classChain(ClassUSR);
      // Cheap filter first: some member function of the class or of a base
      // holds a lock.
      bool Locks = false;
      for (const FactClass *C : Chain)
        if (auto It = AllMethodsOf.find(C->USR); It != AllMethodsOf.end())
          for (const FunctionFacts *M : It->second)
            Locks = Locks ||
                    llvm::any_of(
                        M->Accesses,
                        [](const FactAccess &A) { return !A.Locks.empty(); }) ||
                    llvm::any_of(M->Calls, [](const FactCall &C) {
                      return !C.Locks.empty();
                    });
      if (!Locks)
        continue;
      // The entry points: public member functions of the class and of its
      // bases that no nearer class overrides.
      std::vector<const FunctionFacts *> Entries;
      std::set<std::string> Overridden;
      for (const FactClass *C : Chain) {
        auto It = AllMethodsOf.find(C->USR);
        if (It == AllMethodsOf.end())
          continue;
        std::vector<const FunctionFacts *> Here;
        for (const FunctionFacts *M : It->second) {
          if (Overridden.count(M->USR) || M->IsStatic || M->IsCtorOrDtor ||
              M->IsPrivate || M->IsProtected)
            continue;
          Here.push_back(M);
        }
        for (const FunctionFacts *M : It->second)
          Overridden.insert(M->Overrides.begin(), M->Overrides.end());
        llvm::append_range(Entries, Here);
      }
      if (Entries.empty())
        continue;
      unsigned Ctx = addContext({ContextKind::Monitor, SpawnRef(), ClassUSR});
      for (const FunctionFacts *Entry : Entries) {
        Frame Scope;
        Scope.DynamicClass = ClassUSR;
        walkRoot(*Entry, Scope, Ctx);
      }
      // Per member: the locked accesses (the evidence) and the unlocked
      // ones.
      // (The pointers stay valid while later classes add contexts: a
      // context's accesses move with their vector, not one by one.)
      std::map<FactKey, std::vector<const Access *>> LockedOf, UnlockedOf,
          CopiedOf;
      for (const Access &A : ByContext[Ctx]) {
        if (A.Key.size() < 2 || A.Key.front() != "this")
          continue;
        if (!A.Locks.empty()) {
          // The evidence is a lock of the object itself (a mutex member, or
          // one of a member): a global or static lock guards global state,
          // and says nothing about whether this object is shared.
          if (llvm::any_of(A.Locks, isObjectLock))
            LockedOf[A.Key].push_back(&A);
          continue;
        }
        // Reached only through calls on `this` (the class's own helpers):
        // through another object or a free function, the object the access
        // touches is that callee's business, not this class's.
        if (!llvm::all_of(A.Path,
                          [](const Step &S) { return S.Call->OnThis; }) ||
            isSetUpName(rootOf(A)->Name))
          continue;
        // After the function joined a thread it tears the object down (a
        // pool's JoinThreads clearing the vector of the threads it joined):
        // the threads that shared the member are gone. Found as a false
        // positive on rocksdb's ThreadPoolImpl::Impl::JoinThreads.
        if (A.Fact->AfterJoin)
          continue;
        if (callerLocked(*rootOf(A)) || A.Function->RequiresLock ||
            llvm::any_of(
                A.Path, [](const Step &S) { return S.Caller->RequiresLock; }) ||
            ThreadRaceWrites.count(
                {A.Fact->Loc.File, A.Fact->Loc.Line, A.Fact->Loc.Column}))
          continue;
        // An unprotected write (RacerD's "unprotected write"), or a read
        // that copies the whole container. Other unlocked reads beside
        // locked writes are too often a protocol the types do not show (a
        // flag handshake on `empty()`, a single writer thread, a read after
        // shutdown); measured on rocksdb, 5 of its 8 were. A copy walks
        // the storage a locked structural write may free, and a getter
        // that returns a copy is the class's interface to other threads.
        // Not in a function that starts threads: it orders its own reads
        // with them (the thread-evidence rule knows its joins).
        if (countsAsWrite(A.Fact->Kind))
          UnlockedOf[A.Key].push_back(&A);
        else if (A.Fact->CopiesWhole && A.Function->Spawns.empty() &&
                 rootOf(A)->Spawns.empty())
          CopiedOf[A.Key].push_back(&A);
      }
      for (auto &[Key, Unlocked] : UnlockedOf) {
        auto LockedIt = LockedOf.find(Key);
        if (LockedIt == LockedOf.end() ||
            !guardedInTwoFunctions(LockedIt->second))
          continue;
        llvm::stable_sort(Unlocked, ByPlace);
        llvm::stable_sort(LockedIt->second, ByPlace);
        for (const Access *U : Unlocked)
          for (const Access *L : LockedIt->second) {
            if (!conflicting(U->Fact->Kind, L->Fact->Kind,
                             Options.StrictElementAccess))
              continue;
            All.push_back({U, L, Class});
          }
      }
      // An unlocked copy against a structural write under the object's
      // lock. The write may be the member's only locked access (a setter
      // that assigns it under the lock its other members share), so the
      // evidence is that lock guarding accesses or calls in two member
      // functions of the class, not one function's own mutex.
      std::map<FactKey, std::set<std::string>> FunctionsUnderLock;
      for (const FactClass *C : Chain)
        if (auto It = AllMethodsOf.find(C->USR); It != AllMethodsOf.end())
          for (const FunctionFacts *M : It->second) {
            // Constructors and destructors run before and after the object
            // is shared; a static function locks no object.
            if (M->IsCtorOrDtor || M->IsStatic)
              continue;
            auto Note = [&](const std::vector<FactLock> &Locks) {
              for (const FactLock &L : Locks)
                if (isObjectLock(L))
                  FunctionsUnderLock[L.Key].insert(M->USR);
            };
            for (const FactAccess &A : M->Accesses)
              Note(A.Locks);
            for (const FactCall &Call : M->Calls)
              Note(Call.Locks);
          }
      for (auto &[Key, Copies] : CopiedOf) {
        auto LockedIt = LockedOf.find(Key);
        if (LockedIt == LockedOf.end())
          continue;
        llvm::stable_sort(Copies, ByPlace);
        llvm::stable_sort(LockedIt->second, ByPlace);
        for (const Access *U : Copies)
          for (const Access *L : LockedIt->second)
            if (L->Fact->Kind == FactAccessKind::StructuralWrite &&
                llvm::any_of(L->Locks, [&](const FactLock &Lock) {
                  auto It = FunctionsUnderLock.find(Lock.Key);
                  return isObjectLock(Lock) && !Lock.Shared &&
                         It != FunctionsUnderLock.end() &&
                         It->second.size() >= 2;
                }))
              All.push_back({U, L, Class});
      }
    }
    std::set<std::pair<std::string, FactKey>> Entries;
    for (const Candidate &C : All)
      Entries.insert({rootOf(*C.Unlocked)->USR, C.Unlocked->Key});
    // Reported at a called entry point instead?
    auto CalleeReported = [&](const Access &U) {
      if (U.Path.empty())
        return false;
      for (const Step &S : llvm::ArrayRef<Step>(U.Path).drop_front())
        if (Entries.count({S.Caller->USR, U.Key}))
          return true;
      return Entries.count({U.Function->USR, U.Key}) != 0;
    };
    // One finding per member and function holding the unlocked accesses (a
    // helper that many entry points call is one place to fix, reported at
    // the call of the first entry).
    std::map<std::pair<std::string, FactKey>, Candidate> Best;
    for (const Candidate &C : All) {
      if (CalleeReported(*C.Unlocked))
        continue;
      const Access &U = *C.Unlocked;
      std::pair<std::string, FactKey> Where{U.Function->USR, U.Key};
      auto [It, Inserted] = Best.try_emplace(Where, C);
      if (!Inserted && C.rank() < It->second.rank())
        It->second = C;
    }
    for (const auto &[Id, C] : Best)
      reportInconsistency(*C.Unlocked, *C.Locked, C.Class->Name);
  }

  /// The lock-evidence rule for globals and statics: a container that
  /// some function modifies with a lock held is shared between threads by
  /// its author; a function that reads it with no lock at all races with
  /// that write. Narrower than the class rule, because any function may
  /// touch a global: only an unlocked read against a locked structural
  /// write (an unlocked write is most often start-up code that runs before
  /// the threads), each in its own function's locks; not in `main`, a
  /// function that starts threads (the thread-evidence rule knows its
  /// joins), a constructor or destructor (static initialisation), or a
  /// function whose callers hold the lock.
  void findGlobalInconsistencies() {
    auto IsGlobal = [](const FactKey &Key) {
      return !Key.empty() && Key.front() != "this" &&
             !llvm::StringRef(Key.front()).starts_with("local:");
    };
    std::map<FactKey,
             std::vector<std::pair<const FactAccess *, const FunctionFacts *>>>
        LockedWrites, UnlockedReads;
    for (const auto &[USR, D] : Definitions) {
      const FunctionFacts &F = *D.Facts;
      bool MayRead = !F.IsCtorOrDtor && F.Spawns.empty() && F.Name != "main" &&
                     !callerLocked(F);
      for (const FactAccess &A : F.Accesses) {
        if (!IsGlobal(A.Key))
          continue;
        if (llvm::any_of(A.Locks, isEvidenceForGlobal) && countsAsWrite(A.Kind))
          LockedWrites[A.Key].push_back({&A, &F});
        else if (A.Locks.empty() && A.Kind == FactAccessKind::Read && MayRead)
          UnlockedReads[A.Key].push_back({&A, &F});
      }
    }
    auto ByPlace = [](const auto &X, const auto &Y) {
      return before(X.first->Loc, Y.first->Loc);
    };
    for (auto &[Key, Reads] : UnlockedReads) {
      auto Writes = LockedWrites.find(Key);
      if (Writes == LockedWrites.end())
        continue;
      llvm::stable_sort(Reads, ByPlace);
      llvm::stable_sort(Writes->second, ByPlace);
      const auto &[Write, Writer] = Writes->second.front();
      std::set<std::string> Reported;
      for (const auto &[Read, Reader] : Reads) {
        // One finding per function: the place to take the lock.
        if (!Reported.insert(Reader->USR).second ||
            ThreadRaceWrites.count(
                {Read->Loc.File, Read->Loc.Line, Read->Loc.Column}))
          continue;
        const FactLock &Lock =
            *llvm::find_if(Write->Locks, isEvidenceForGlobal);
        ProgramFinding Out;
        Out.Check = RaceCheck.str();
        Out.Loc = Read->Loc;
        Out.Message = llvm::formatv(
            "{0} is read here with no lock held, in {1}, while {2} modifies "
            "it with {3} held: the program locks {3} around its changes, so "
            "it is shared between threads; hold {3} here too",
            quoted(Read->Name), quoted(Reader->Name), quoted(Writer->Name),
            quoted(Lock.Name));
        Out.Notes.push_back({Write->Loc, "modified here with " +
                                             quoted(Lock.Name) + " held, in " +
                                             quoted(Writer->Name)});
        Findings.push_back(std::move(Out));
      }
    }
  }

  void reportInconsistency(const Access &U, const Access &L,
                           llvm::StringRef ClassName) {
    ProgramFinding F;
    F.Check = RaceCheck.str();
    const FactLock &Lock = *llvm::find_if(L.Locks, isObjectLock);
    // An unlocked read is reported only when it copies the container.
    std::string Unlocked = U.Fact->Kind == FactAccessKind::Read
                               ? std::string("copied")
                               : describeAccessKind(U.Fact->Kind);
    std::string Where;
    if (U.Path.empty()) {
      F.Loc = U.Fact->Loc;
      Where = llvm::formatv("{0} here with no lock held, in {1}", Unlocked,
                            quoted(U.Function->Name));
    } else {
      const Step &First = U.Path.front();
      F.Loc = First.Call->Loc;
      Where = llvm::formatv("{0} with no lock held in {1}, which {2} calls "
                            "here",
                            Unlocked, quoted(U.Function->Name),
                            quoted(First.Caller->Name));
    }
    F.Message = llvm::formatv(
        "{0} is {1}, while {2} {3} it with {4} held: {5} locks {4} around "
        "its other accesses, so its objects are shared between threads; "
        "hold {4} here too",
        quoted(U.Fact->Name), Where, quoted(L.Function->Name),
        L.Fact->Kind == FactAccessKind::Read           ? "reads"
        : L.Fact->Kind == FactAccessKind::ElementWrite ? "writes to"
                                                       : "modifies",
        quoted(Lock.Name), quoted(ClassName));
    if (!U.Path.empty()) {
      addPathNotes(F, llvm::ArrayRef<Step>(U.Path).drop_front());
      F.Notes.push_back({U.Fact->Loc, Unlocked +
                                          " here with no lock held, in " +
                                          quoted(U.Function->Name)});
    }
    F.Notes.push_back({L.Fact->Loc, describeAccessKind(L.Fact->Kind) +
                                        " here with " + quoted(Lock.Name) +
                                        " held, in " +
                                        quoted(L.Function->Name)});
    addPathNotes(F, L.Path);
    Findings.push_back(std::move(F));
  }

  void addPathNotes(ProgramFinding &F, llvm::ArrayRef<Step> Path) {
    for (const Step &S : Path)
      F.Notes.push_back({S.Call->Loc, "reached through this call of " +
                                          quoted(S.Call->CalleeName) + " in " +
                                          quoted(S.Caller->Name)});
  }

  void report(const Access &W, const Access &O, bool SameInstance,
              const SpawnRef &Thread) {
    ProgramFinding F;
    F.Check = RaceCheck.str();
    F.Loc = W.Fact->Loc;
    std::string OtherSide =
        SameInstance ? "another thread started at the same line may access "
                       "it too"
                     : "it is " + describeAccessKind(O.Fact->Kind) + " " +
                           describe(O, Thread);
    F.Message = llvm::formatv(
        "{0} is {1} here {2} while {3}, with no mutex held at both "
        "accesses; guard every access with the same mutex",
        quoted(W.Fact->Name), describeAccessKind(W.Fact->Kind),
        describe(W, Thread), OtherSide);
    addPathNotes(F, W.Path);
    if (!SameInstance) {
      F.Notes.push_back({O.Fact->Loc, describeAccessKind(O.Fact->Kind) +
                                          " here, in " +
                                          quoted(O.Function->Name)});
      addPathNotes(F, O.Path);
    }
    F.Notes.push_back(
        {Thread.spawn().Loc,
         "thread started here, running " + quoted(Thread.spawn().EntryName)});
    Findings.push_back(std::move(F));
  }

  /// The first endless loop reached from \p Entry through calls, breadth
  /// first, with the calls that lead to it.
  std::optional<std::pair<const FunctionFacts *, llvm::SmallVector<Step, 4>>>
  endlessFrom(const FunctionFacts &Entry) const {
    struct Item {
      const FunctionFacts *F;
      llvm::SmallVector<Step, 4> Path;
    };
    std::vector<Item> Level{{&Entry, {}}};
    llvm::StringSet<> Seen;
    Seen.insert(Entry.USR);
    for (unsigned Depth = 0; !Level.empty(); ++Depth) {
      for (const Item &I : Level)
        if (I.F->EndlessLoop)
          return std::make_pair(I.F, I.Path);
      if (Depth == Options.MaxCallDepth)
        break;
      std::vector<Item> Next;
      for (const Item &I : Level)
        for (const FactCall &Call : I.F->Calls)
          if (const Definition *Callee = lookup(Call.Callee);
              Callee && Seen.insert(Call.Callee).second) {
            Item Deeper{Callee->Facts, I.Path};
            Deeper.Path.push_back({&Call, I.F});
            Next.push_back(std::move(Deeper));
          }
      Level = std::move(Next);
    }
    return std::nullopt;
  }

  /// The object bound to parameter \p Index at \p Call, if known.
  static const FactKey *boundAt(const FactCall &Call, unsigned Index) {
    for (const auto &[I, Key] : Call.Bound)
      if (I == Index)
        return &Key;
    return nullptr;
  }

  /// A caller holds a lock and passes its mutex to a callee that releases it
  /// for a while (`Mu->Unlock(); use(Ref); Mu->Lock();`), and binds to a
  /// reference parameter that the callee reads while the mutex is released
  /// an object of its own (a member of `this` or a global) that is assigned
  /// somewhere after construction: the lock the caller holds does not cover
  /// that read, so another thread can change the object under it (rocksdb's
  /// NotifyOnErrorRecoveryEnd, reading `bg_error_` after unlocking the DB
  /// mutex). The object counts as guarded because the caller uses it under
  /// the lock (RacerD's inference); an object never assigned after
  /// construction (options, configuration) is left out.
  void findLockHandOvers() {
    // Assigned objects: `this` keys by the class of the assigning function,
    // globals alone.
    // (class or "", key) -> the object's name, for messages.
    std::map<std::pair<std::string, std::string>, std::string> Assigned;
    for (const auto &[USR, D] : Definitions) {
      const FunctionFacts &F = *D.Facts;
      if (F.IsCtorOrDtor)
        continue;
      for (const FactAccess &Write : F.ObjectWrites)
        Assigned.try_emplace(
            {Write.Key.front() == "this" ? F.Class : std::string(),
             formatKey(Write.Key)},
            Write.Name);
    }
    auto AssignedName = [&](const FunctionFacts &Caller,
                            const FactKey &Key) -> const std::string * {
      std::string Formatted = formatKey(Key);
      std::vector<std::string> Owners{std::string()};
      if (Key.front() == "this") {
        Owners = {Caller.Class};
        for (const FactClass *C : classChain(Caller.Class))
          Owners.push_back(C->USR);
      }
      for (const std::string &Owner : Owners)
        if (auto It = Assigned.find({Owner, Formatted}); It != Assigned.end())
          return &It->second;
      return nullptr;
    };
    for (const auto &[USR, D] : Definitions) {
      const FunctionFacts &Caller = *D.Facts;
      for (const FactCall &Call : Caller.Calls) {
        const Definition *Callee = lookup(Call.Callee);
        if (!Callee || Callee->Facts->ParamReleases.empty())
          continue;
        bool Reported = false;
        for (const FactParamRelease &Release : Callee->Facts->ParamReleases) {
          const FactKey *Mutex = boundAt(Call, Release.LockParam);
          if (!Mutex || Reported)
            continue;
          auto Held = llvm::find_if(
              Call.Locks, [&](const FactLock &L) { return L.Key == *Mutex; });
          if (Held == Call.Locks.end())
            continue;
          for (const auto &[Index, ReadLoc] : Release.Reads) {
            const FactKey *Object = boundAt(Call, Index);
            if (!Object || Object->empty() || *Object == *Mutex ||
                llvm::StringRef(Object->front()).starts_with("local:"))
              continue;
            const std::string *Name = AssignedName(Caller, *Object);
            if (!Name)
              continue;
            ProgramFinding Out;
            Out.Check = EscapeCheck.str();
            Out.Loc = Call.Loc;
            Out.Message =
                llvm::formatv("{0} is passed by reference to {1}, which "
                              "releases {2} and then reads it: another "
                              "thread can change {0} while {1} reads it",
                              quoted(*Name), quoted(Call.CalleeName),
                              quoted(Held->Name))
                    .str();
            Out.Notes.push_back(
                {Release.ReleasedAt,
                 llvm::formatv("{0} is released here, in {1} ({2})",
                               quoted(Held->Name), quoted(Callee->Facts->Name),
                               describeLocation(Release.ReleasedAt))
                     .str()});
            Out.Notes.push_back(
                {ReadLoc, llvm::formatv("and read here, while {0} is "
                                        "released",
                                        quoted(Held->Name))
                              .str()});
            Findings.push_back(std::move(Out));
            Reported = true;
            break;
          }
        }
      }
    }
  }

  void findEndlessThreads() {
    for (const auto &[USR, D] : Definitions) {
      const FunctionFacts &F = *D.Facts;
      for (const FactSpawn &S : F.Spawns) {
        // A pool task (an inferred pool's submit, an asio handler) runs on
        // the pool's threads, which the pool stops, and a parallel
        // algorithm's body on the library's: not a thread of its own, as in
        // the per-unit check. A boost::thread can be interrupted, and a
        // library's thread object (QThread, Poco::Thread) has its own stop
        // requests, which the facts do not say.
        if (S.Kind == "pool task" || S.Kind == "parallel algorithm" ||
            S.Kind == "boost::thread" || S.Kind == "thread object")
          continue;
        const Definition *Entry = lookup(S.Entry);
        if (!Entry)
          continue;
        auto Found = endlessFrom(*Entry->Facts);
        if (!Found)
          continue;
        const auto &[LoopFunction, Path] = *Found;
        llvm::SmallVector<const FunctionFacts *, 8> Evidence{&F, Entry->Facts,
                                                             LoopFunction};
        for (const Step &Step : Path)
          Evidence.push_back(Step.Caller);
        if (heldByOneUnit(Evidence))
          continue;
        ProgramFinding Out;
        Out.Check = ThreadCheck.str();
        Out.Loc = S.Loc;
        if (S.Kind == "std::jthread")
          Out.Message = "std::jthread runs a loop that can never end: its "
                        "destructor will request a stop the thread never "
                        "sees and wait forever";
        else if (S.Kind == "std::async" && S.ResultDiscarded)
          Out.Message = "the future returned by std::async is discarded and "
                        "its task never ends: this statement blocks forever";
        else if (S.Kind == "std::async")
          Out.Message = "std::async task runs a loop that can never end: "
                        "waiting for its future never returns";
        else
          Out.Message = "thread runs a loop that can never end: nothing can "
                        "stop the thread or wait for it to finish";
        for (const Step &Step : Path)
          Out.Notes.push_back(
              {Step.Call->Loc,
               "the thread calls " + quoted(Step.Call->CalleeName) + " here"});
        Out.Notes.push_back(
            {*LoopFunction->EndlessLoop,
             "this loop in " + quoted(LoopFunction->Name) +
                 " can never end: no exit is reachable and nothing it "
                 "checks can change"});
        Findings.push_back(std::move(Out));
      }
    }
  }
};

} // namespace

std::vector<ProgramFinding>
Program::analyze(const WholeProgramOptions &Options) const {
  std::vector<ProgramFinding> Findings = Analysis(Units, Options).run();
  llvm::stable_sort(Findings, [](const ProgramFinding &A,
                                 const ProgramFinding &B) {
    return std::tie(A.Loc.File, A.Loc.Line, A.Loc.Column, A.Check, A.Message) <
           std::tie(B.Loc.File, B.Loc.Line, B.Loc.Column, B.Check, B.Message);
  });
  return Findings;
}

} // namespace clang::tidy::concguard::utils
