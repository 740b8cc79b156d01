//===--- ProgramFacts.cpp - per-unit summaries, JSON form -----------------===//

#include "ProgramFacts.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/xxhash.h"

namespace clang::tidy::concguard::utils {

namespace json = llvm::json;

uint64_t hashContent(llvm::StringRef Content) {
  return llvm::xxh3_64bits(Content);
}

std::string formatKey(const FactKey &Key) {
  std::string Out;
  for (const std::string &Element : Key) {
    if (!Out.empty())
      Out += '.';
    Out += Element;
  }
  return Out;
}

// --- to JSON ----------------------------------------------------------------

static json::Value toJSON(const FactLocation &L) {
  return json::Array{L.File, L.Line, L.Column};
}

static json::Value keyToJSON(const FactKey &Key) { return json::Array(Key); }

static json::Value toJSON(const std::vector<FactLock> &Locks) {
  json::Array A;
  for (const FactLock &L : Locks)
    A.push_back(json::Object{{"key", keyToJSON(L.Key)},
                             {"shared", L.Shared},
                             {"name", L.Name},
                             {"conditional", L.Conditional}});
  return A;
}

static json::Value
boundToJSON(const std::vector<std::pair<unsigned, FactKey>> &Bound) {
  json::Array A;
  for (const auto &[Index, Key] : Bound)
    A.push_back(json::Object{{"index", Index}, {"key", keyToJSON(Key)}});
  return A;
}

static json::Value indicesToJSON(const std::vector<unsigned> &Indices) {
  return json::Array(Indices);
}

static json::Value toJSON(const std::vector<FactAccess> &Accesses) {
  json::Array Out;
  for (const FactAccess &A : Accesses) {
    json::Object O{{"key", keyToJSON(A.Key)},
                   {"name", A.Name},
                   {"kind", static_cast<int>(A.Kind)},
                   {"locks", toJSON(A.Locks)},
                   {"loc", toJSON(A.Loc)}};
    if (A.AfterJoin)
      O["afterJoin"] = true; // written only when set: most accesses are not
    if (A.CopiesWhole)
      O["copiesWhole"] = true;
    Out.push_back(std::move(O));
  }
  return Out;
}

static json::Value toJSON(const std::vector<FactParamRelease> &Releases) {
  json::Array Out;
  for (const FactParamRelease &R : Releases) {
    json::Array Reads;
    for (const auto &[Index, Loc] : R.Reads)
      Reads.push_back(json::Object{{"index", Index}, {"loc", toJSON(Loc)}});
    Out.push_back(json::Object{{"lock", R.LockParam},
                               {"loc", toJSON(R.ReleasedAt)},
                               {"reads", std::move(Reads)}});
  }
  return Out;
}

static json::Value toJSON(const FunctionFacts &F) {
  json::Array Calls, Spawns;
  for (const FactCall &C : F.Calls) {
    json::Object O{{"callee", C.Callee},       {"name", C.CalleeName},
                   {"onThis", C.OnThis},       {"bound", boundToJSON(C.Bound)},
                   {"locks", toJSON(C.Locks)}, {"loc", toJSON(C.Loc)},
                   {"virtual", C.Virtual}};
    if (C.Object)
      O["object"] = keyToJSON(*C.Object);
    Calls.push_back(std::move(O));
  }
  for (const FactSpawn &S : F.Spawns) {
    json::Object O{{"entry", S.Entry},
                   {"entryName", S.EntryName},
                   {"onThis", S.OnThis},
                   {"class", S.ThreadClass},
                   {"bound", boundToJSON(S.Bound)},
                   {"copied", json::Array(S.CopiedLocals)},
                   {"multi", S.MultiInstance},
                   {"escapes", S.Escapes},
                   {"regionAccesses", indicesToJSON(S.RegionAccesses)},
                   {"regionCalls", indicesToJSON(S.RegionCalls)},
                   {"regionSpawns", indicesToJSON(S.RegionSpawns)},
                   {"kind", S.Kind},
                   {"discarded", S.ResultDiscarded},
                   {"loc", toJSON(S.Loc)}};
    if (S.Object)
      O["object"] = keyToJSON(*S.Object);
    Spawns.push_back(std::move(O));
  }
  json::Object O{{"usr", F.USR},
                 {"name", F.Name},
                 {"loc", toJSON(F.Loc)},
                 {"class", F.Class},
                 {"method", F.IsMethod},
                 {"ctorOrDtor", F.IsCtorOrDtor},
                 {"private", F.IsPrivate},
                 {"protected", F.IsProtected},
                 {"static", F.IsStatic},
                 {"requiresLock", F.RequiresLock},
                 {"overrides", json::Array(F.Overrides)},
                 {"params", json::Array(F.Params)},
                 {"accesses", toJSON(F.Accesses)},
                 {"writes", toJSON(F.ObjectWrites)},
                 {"releases", toJSON(F.ParamReleases)},
                 {"calls", std::move(Calls)},
                 {"spawns", std::move(Spawns)}};
  if (F.EndlessLoop)
    O["endless"] = toJSON(*F.EndlessLoop);
  if (F.SpawnWrapper)
    O["spawnWrapper"] = *F.SpawnWrapper;
  if (F.PoolSubmit)
    O["poolSubmit"] =
        json::Object{{"barriers", json::Array(F.PoolSubmit->Barriers)},
                     {"callable", F.PoolSubmit->CallableIndex},
                     {"single", F.PoolSubmit->SingleWorker},
                     {"worker", toJSON(F.PoolSubmit->WorkerStart)}};
  if (F.LockEffects) {
    json::Array Releases;
    for (const FactKey &Key : F.LockEffects->Releases)
      Releases.push_back(keyToJSON(Key));
    O["lockEffects"] =
        json::Object{{"acquires", toJSON(F.LockEffects->Acquires)},
                     {"releases", std::move(Releases)}};
  }
  return json::Value(std::move(O));
}

json::Value toJSON(const UnitFacts &Unit) {
  json::Array Inputs, Functions, Classes;
  for (const FactClass &C : Unit.Classes)
    Classes.push_back(json::Object{
        {"usr", C.USR}, {"name", C.Name}, {"bases", json::Array(C.Bases)}});
  for (const FactInput &I : Unit.Inputs)
    // As a string: JSON numbers do not hold 64 bits.
    Inputs.push_back(json::Array{I.File, llvm::utohexstr(I.Hash)});
  for (const FunctionFacts &F : Unit.Functions)
    Functions.push_back(toJSON(F));
  return json::Object{{"file", Unit.File},
                      {"inputs", std::move(Inputs)},
                      {"functions", std::move(Functions)},
                      {"classes", std::move(Classes)}};
}

// --- from JSON --------------------------------------------------------------

namespace {

/// Reads the JSON form back, failing with the path of the first element
/// that does not have the expected shape: a damaged file is an error,
/// never a half-read summary.
class Reader {
public:
  bool unit(const json::Value &V, UnitFacts &Out, json::Path P) {
    const json::Object *O = object(V, P);
    if (!O || !string(*O, "file", Out.File, P))
      return false;
    const json::Array *Inputs = array(*O, "inputs", P);
    const json::Array *Functions = array(*O, "functions", P);
    if (!Inputs || !Functions)
      return false;
    for (size_t I = 0; I < Inputs->size(); ++I) {
      json::Path IP = P.field("inputs").index(I);
      const json::Array *Pair = (*Inputs)[I].getAsArray();
      FactInput In;
      std::optional<llvm::StringRef> File =
          Pair && Pair->size() == 2 ? (*Pair)[0].getAsString() : std::nullopt;
      std::optional<llvm::StringRef> Hash =
          Pair && Pair->size() == 2 ? (*Pair)[1].getAsString() : std::nullopt;
      if (!File || !Hash || Hash->getAsInteger(16, In.Hash)) {
        IP.report("expected [file, hash]");
        return false;
      }
      In.File = File->str();
      Out.Inputs.push_back(std::move(In));
    }
    for (size_t I = 0; I < Functions->size(); ++I) {
      FunctionFacts F;
      if (!function((*Functions)[I], F, P.field("functions").index(I)))
        return false;
      Out.Functions.push_back(std::move(F));
    }
    const json::Array *Classes = array(*O, "classes", P);
    if (!Classes)
      return false;
    for (size_t I = 0; I < Classes->size(); ++I) {
      json::Path CP = P.field("classes").index(I);
      const json::Object *C = object((*Classes)[I], CP);
      FactClass Class;
      if (!C || !string(*C, "usr", Class.USR, CP) ||
          !string(*C, "name", Class.Name, CP) ||
          !strings(*C, "bases", Class.Bases, CP))
        return false;
      Out.Classes.push_back(std::move(Class));
    }
    return true;
  }

private:
  const json::Object *object(const json::Value &V, json::Path P) {
    const json::Object *O = V.getAsObject();
    if (!O)
      P.report("expected an object");
    return O;
  }
  const json::Array *array(const json::Object &O, llvm::StringRef Name,
                           json::Path P) {
    const json::Array *A = O.getArray(Name);
    if (!A)
      P.field(Name).report("expected an array");
    return A;
  }
  bool string(const json::Object &O, llvm::StringRef Name, std::string &Out,
              json::Path P) {
    std::optional<llvm::StringRef> S = O.getString(Name);
    if (!S) {
      P.field(Name).report("expected a string");
      return false;
    }
    Out = S->str();
    return true;
  }
  bool boolean(const json::Object &O, llvm::StringRef Name, bool &Out,
               json::Path P) {
    std::optional<bool> B = O.getBoolean(Name);
    if (!B) {
      P.field(Name).report("expected a boolean");
      return false;
    }
    Out = *B;
    return true;
  }
  bool number(const json::Value &V, unsigned &Out, json::Path P) {
    std::optional<int64_t> N = V.getAsInteger();
    if (!N || *N < 0 || *N > UINT32_MAX) {
      P.report("expected an unsigned number");
      return false;
    }
    Out = static_cast<unsigned>(*N);
    return true;
  }
  bool field(const json::Object &O, llvm::StringRef Name, unsigned &Out,
             json::Path P) {
    const json::Value *V = O.get(Name);
    if (!V) {
      P.field(Name).report("missing");
      return false;
    }
    return number(*V, Out, P.field(Name));
  }
  bool location(const json::Object &O, llvm::StringRef Name, FactLocation &Out,
                json::Path P) {
    const json::Value *V = O.get(Name);
    const json::Array *A = V ? V->getAsArray() : nullptr;
    std::optional<llvm::StringRef> File =
        A && A->size() == 3 ? (*A)[0].getAsString() : std::nullopt;
    if (!File) {
      P.field(Name).report("expected [file, line, column]");
      return false;
    }
    Out.File = File->str();
    return number((*A)[1], Out.Line, P.field(Name).index(1)) &&
           number((*A)[2], Out.Column, P.field(Name).index(2));
  }
  bool key(const json::Value *V, FactKey &Out, json::Path P) {
    const json::Array *A = V ? V->getAsArray() : nullptr;
    if (!A || A->empty()) {
      P.report("expected a non-empty array of strings");
      return false;
    }
    for (const json::Value &E : *A) {
      std::optional<llvm::StringRef> S = E.getAsString();
      if (!S) {
        P.report("expected a non-empty array of strings");
        return false;
      }
      Out.push_back(S->str());
    }
    return true;
  }
  bool optionalKey(const json::Object &O, llvm::StringRef Name,
                   std::optional<FactKey> &Out, json::Path P) {
    const json::Value *V = O.get(Name);
    if (!V)
      return true;
    Out.emplace();
    return key(V, *Out, P.field(Name));
  }
  bool locks(const json::Object &O, std::vector<FactLock> &Out, json::Path P) {
    return locks(O, "locks", Out, P);
  }
  bool locks(const json::Object &O, llvm::StringRef Name,
             std::vector<FactLock> &Out, json::Path P) {
    const json::Array *A = array(O, Name, P);
    if (!A)
      return false;
    for (size_t I = 0; I < A->size(); ++I) {
      json::Path LP = P.field(Name).index(I);
      const json::Object *L = object((*A)[I], LP);
      FactLock Lock;
      if (!L || !key(L->get("key"), Lock.Key, LP.field("key")) ||
          !boolean(*L, "shared", Lock.Shared, LP) ||
          !string(*L, "name", Lock.Name, LP) ||
          !boolean(*L, "conditional", Lock.Conditional, LP))
        return false;
      Out.push_back(std::move(Lock));
    }
    return true;
  }
  bool bound(const json::Object &O,
             std::vector<std::pair<unsigned, FactKey>> &Out, json::Path P) {
    const json::Array *A = array(O, "bound", P);
    if (!A)
      return false;
    for (size_t I = 0; I < A->size(); ++I) {
      json::Path BP = P.field("bound").index(I);
      const json::Object *B = object((*A)[I], BP);
      std::pair<unsigned, FactKey> Entry;
      const json::Value *Index = B ? B->get("index") : nullptr;
      if (!B || !Index || !number(*Index, Entry.first, BP.field("index")) ||
          !key(B->get("key"), Entry.second, BP.field("key")))
        return false;
      Out.push_back(std::move(Entry));
    }
    return true;
  }
  bool indices(const json::Object &O, llvm::StringRef Name,
               std::vector<unsigned> &Out, json::Path P) {
    const json::Array *A = array(O, Name, P);
    if (!A)
      return false;
    for (size_t I = 0; I < A->size(); ++I) {
      unsigned N = 0;
      if (!number((*A)[I], N, P.field(Name).index(I)))
        return false;
      Out.push_back(N);
    }
    return true;
  }
  bool strings(const json::Object &O, llvm::StringRef Name,
               std::vector<std::string> &Out, json::Path P) {
    const json::Array *A = array(O, Name, P);
    if (!A)
      return false;
    for (size_t I = 0; I < A->size(); ++I) {
      std::optional<llvm::StringRef> S = (*A)[I].getAsString();
      if (!S) {
        P.field(Name).index(I).report("expected a string");
        return false;
      }
      Out.push_back(S->str());
    }
    return true;
  }

  bool accesses(const json::Object &O, llvm::StringRef Name,
                std::vector<FactAccess> &Out, json::Path P) {
    const json::Array *List = array(O, Name, P);
    if (!List)
      return false;
    for (size_t I = 0; I < List->size(); ++I) {
      json::Path AP = P.field(Name).index(I);
      const json::Object *A = object((*List)[I], AP);
      FactAccess Access;
      std::optional<int64_t> Kind = A ? A->getInteger("kind") : std::nullopt;
      if (!A || !key(A->get("key"), Access.Key, AP.field("key")) ||
          !string(*A, "name", Access.Name, AP) || !Kind || *Kind < 0 ||
          *Kind > 2 || !locks(*A, Access.Locks, AP) ||
          !location(*A, "loc", Access.Loc, AP)) {
        if (A && (!Kind || *Kind < 0 || *Kind > 2))
          AP.field("kind").report("expected 0, 1 or 2");
        return false;
      }
      Access.Kind = static_cast<FactAccessKind>(*Kind);
      Access.AfterJoin = A->getBoolean("afterJoin").value_or(false);
      Access.CopiesWhole = A->getBoolean("copiesWhole").value_or(false);
      Out.push_back(std::move(Access));
    }
    return true;
  }

  bool releases(const json::Object &O, std::vector<FactParamRelease> &Out,
                json::Path P) {
    const json::Array *List = array(O, "releases", P);
    if (!List)
      return false;
    for (size_t I = 0; I < List->size(); ++I) {
      json::Path RP = P.field("releases").index(I);
      const json::Object *R = object((*List)[I], RP);
      FactParamRelease Release;
      const json::Array *Reads = R ? array(*R, "reads", RP) : nullptr;
      if (!R || !Reads || !field(*R, "lock", Release.LockParam, RP) ||
          !location(*R, "loc", Release.ReleasedAt, RP))
        return false;
      for (size_t J = 0; J < Reads->size(); ++J) {
        json::Path ReadP = RP.field("reads").index(J);
        const json::Object *Read = object((*Reads)[J], ReadP);
        std::pair<unsigned, FactLocation> Entry;
        if (!Read || !field(*Read, "index", Entry.first, ReadP) ||
            !location(*Read, "loc", Entry.second, ReadP))
          return false;
        Release.Reads.push_back(std::move(Entry));
      }
      Out.push_back(std::move(Release));
    }
    return true;
  }

  bool function(const json::Value &V, FunctionFacts &F, json::Path P) {
    const json::Object *O = object(V, P);
    if (!O || !string(*O, "usr", F.USR, P) || !string(*O, "name", F.Name, P) ||
        !location(*O, "loc", F.Loc, P) || !string(*O, "class", F.Class, P) ||
        !boolean(*O, "method", F.IsMethod, P) ||
        !boolean(*O, "ctorOrDtor", F.IsCtorOrDtor, P) ||
        !boolean(*O, "private", F.IsPrivate, P) ||
        !boolean(*O, "protected", F.IsProtected, P) ||
        !boolean(*O, "static", F.IsStatic, P) ||
        !boolean(*O, "requiresLock", F.RequiresLock, P) ||
        !strings(*O, "overrides", F.Overrides, P) ||
        !strings(*O, "params", F.Params, P))
      return false;
    if (O->get("endless")) {
      F.EndlessLoop.emplace();
      if (!location(*O, "endless", *F.EndlessLoop, P))
        return false;
    }
    if (O->get("spawnWrapper")) {
      F.SpawnWrapper.emplace();
      if (!field(*O, "spawnWrapper", *F.SpawnWrapper, P))
        return false;
    }
    if (O->get("poolSubmit")) {
      json::Path PP = P.field("poolSubmit");
      const json::Object *Pool = object(*O->get("poolSubmit"), PP);
      F.PoolSubmit.emplace();
      if (!Pool || !field(*Pool, "callable", F.PoolSubmit->CallableIndex, PP) ||
          !boolean(*Pool, "single", F.PoolSubmit->SingleWorker, PP) ||
          !strings(*Pool, "barriers", F.PoolSubmit->Barriers, PP) ||
          !location(*Pool, "worker", F.PoolSubmit->WorkerStart, PP))
        return false;
    }
    if (O->get("lockEffects")) {
      json::Path EP = P.field("lockEffects");
      const json::Object *Effects = object(*O->get("lockEffects"), EP);
      F.LockEffects.emplace();
      const json::Array *Releases =
          Effects ? array(*Effects, "releases", EP) : nullptr;
      if (!Effects || !Releases ||
          !locks(*Effects, "acquires", F.LockEffects->Acquires, EP))
        return false;
      for (size_t I = 0; I < Releases->size(); ++I) {
        FactKey Key;
        if (!key(&(*Releases)[I], Key, EP.field("releases").index(I)))
          return false;
        F.LockEffects->Releases.push_back(std::move(Key));
      }
    }
    const json::Array *Calls = array(*O, "calls", P);
    const json::Array *Spawns = array(*O, "spawns", P);
    if (!accesses(*O, "accesses", F.Accesses, P) ||
        !accesses(*O, "writes", F.ObjectWrites, P) ||
        !releases(*O, F.ParamReleases, P) || !Calls || !Spawns)
      return false;
    for (size_t I = 0; I < Calls->size(); ++I) {
      json::Path CP = P.field("calls").index(I);
      const json::Object *C = object((*Calls)[I], CP);
      FactCall Call;
      if (!C || !string(*C, "callee", Call.Callee, CP) ||
          !string(*C, "name", Call.CalleeName, CP) ||
          !boolean(*C, "onThis", Call.OnThis, CP) ||
          !optionalKey(*C, "object", Call.Object, CP) ||
          !bound(*C, Call.Bound, CP) || !locks(*C, Call.Locks, CP) ||
          !location(*C, "loc", Call.Loc, CP) ||
          !boolean(*C, "virtual", Call.Virtual, CP))
        return false;
      F.Calls.push_back(std::move(Call));
    }
    for (size_t I = 0; I < Spawns->size(); ++I) {
      json::Path SP = P.field("spawns").index(I);
      const json::Object *S = object((*Spawns)[I], SP);
      FactSpawn Spawn;
      if (!S || !string(*S, "entry", Spawn.Entry, SP) ||
          !string(*S, "entryName", Spawn.EntryName, SP) ||
          !boolean(*S, "onThis", Spawn.OnThis, SP) ||
          !string(*S, "class", Spawn.ThreadClass, SP) ||
          !optionalKey(*S, "object", Spawn.Object, SP) ||
          !bound(*S, Spawn.Bound, SP) ||
          !strings(*S, "copied", Spawn.CopiedLocals, SP) ||
          !boolean(*S, "multi", Spawn.MultiInstance, SP) ||
          !boolean(*S, "escapes", Spawn.Escapes, SP) ||
          !indices(*S, "regionAccesses", Spawn.RegionAccesses, SP) ||
          !indices(*S, "regionCalls", Spawn.RegionCalls, SP) ||
          !indices(*S, "regionSpawns", Spawn.RegionSpawns, SP) ||
          !string(*S, "kind", Spawn.Kind, SP) ||
          !boolean(*S, "discarded", Spawn.ResultDiscarded, SP) ||
          !location(*S, "loc", Spawn.Loc, SP))
        return false;
      F.Spawns.push_back(std::move(Spawn));
    }
    // Indices must point into this function's lists: a damaged file must
    // not make the whole-program phase read out of bounds.
    for (size_t I = 0; I < F.Spawns.size(); ++I) {
      const FactSpawn &S = F.Spawns[I];
      auto InRange = [](const std::vector<unsigned> &Indices, size_t Size) {
        // Sorted too: the whole-program phase looks them up by bisection.
        return llvm::is_sorted(Indices) &&
               llvm::all_of(Indices, [&](unsigned N) { return N < Size; });
      };
      if (!InRange(S.RegionAccesses, F.Accesses.size()) ||
          !InRange(S.RegionCalls, F.Calls.size()) ||
          !InRange(S.RegionSpawns, F.Spawns.size())) {
        P.field("spawns").index(I).report(
            "region indices out of range or unsorted");
        return false;
      }
    }
    return true;
  }
};

} // namespace

llvm::Expected<UnitFacts> unitFactsFromJSON(const json::Value &V) {
  json::Path::Root Root("unit");
  UnitFacts Unit;
  Reader R;
  if (!R.unit(V, Unit, Root))
    return Root.getError();
  return Unit;
}

} // namespace clang::tidy::concguard::utils
