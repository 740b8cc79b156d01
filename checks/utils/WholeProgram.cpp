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

/// A function of the program and the units that define it.
struct Definition {
  const FunctionFacts *Facts = nullptr;
  llvm::SmallVector<unsigned, 2> Units;
};

enum class ContextKind { Thread, Region, Methods };

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
        if (D.Units.size() == 1 && F.IsMethod && !F.IsStatic &&
            !F.IsCtorOrDtor && !F.IsPrivate)
          MethodsOf[F.Class].push_back(F.USR);
      }
  }

  std::vector<ProgramFinding> run() {
    if (Options.Races)
      findRaces();
    if (Options.EndlessThreads)
      findEndlessThreads();
    return std::move(Findings);
  }

private:
  llvm::ArrayRef<UnitFacts> Units;
  const WholeProgramOptions &Options;
  std::map<std::string, Definition> Definitions;
  std::map<std::string, std::vector<std::string>> MethodsOf;
  std::vector<ProgramFinding> Findings;

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
    if (Ctx.Kind == ContextKind::Methods)
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
          Out.push_back({std::move(*Key), Lock.Shared, Lock.Name});
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
        if (!Callee)
          continue;
        Frame Next;
        if (Call.OnThis) {
          Next.This = Scope.This;
          Next.ThisUnknown = Scope.ThisUnknown;
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
        Ctx.Kind == ContextKind::Methods ? Thread.spawn() : Ctx.Spawn.spawn();
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

  void findEndlessThreads() {
    for (const auto &[USR, D] : Definitions) {
      const FunctionFacts &F = *D.Facts;
      for (const FactSpawn &S : F.Spawns) {
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
