//===--- ProjectIndex.cpp - the project index every front end reads -------===//

#include "ProjectIndex.h"

#include "LockScopes.h"
#include "SharedContainers.h"

#include "clang-tidy/ClangTidyCheck.h"

#include "clang/Basic/FileManager.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Index/USRGeneration.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

namespace clang::tidy::concguard::utils {

namespace fs = llvm::sys::fs;
namespace json = llvm::json;

constexpr llvm::StringLiteral FormatName = "concguard-index";

llvm::Error writeProjectIndex(llvm::StringRef Path,
                              llvm::ArrayRef<UnitFacts> Units) {
  json::Array Array;
  for (const UnitFacts &Unit : Units)
    Array.push_back(toJSON(Unit));
  json::Value Document = json::Object{{"format", FormatName},
                                      {"version", ProjectIndexVersion},
                                      {"units", std::move(Array)}};
  // writeToOutput writes a temporary file beside Path and renames it into
  // place: readers see the old index or the new one, never a mix.
  return llvm::writeToOutput(Path, [&](llvm::raw_ostream &OS) {
    OS << Document;
    return llvm::Error::success();
  });
}

static llvm::Error indexError(llvm::StringRef Path, const llvm::Twine &Why) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "project index '" + Path + "': " + Why);
}

llvm::Expected<std::vector<UnitFacts>> readProjectIndex(llvm::StringRef Path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buffer =
      llvm::MemoryBuffer::getFile(Path);
  if (!Buffer)
    return indexError(Path, Buffer.getError().message());
  llvm::Expected<json::Value> Document = json::parse((*Buffer)->getBuffer());
  if (!Document)
    return indexError(Path, "not a JSON document (truncated or damaged?): " +
                                llvm::toString(Document.takeError()));
  const json::Object *Root = Document->getAsObject();
  std::optional<llvm::StringRef> Format =
      Root ? Root->getString("format") : std::nullopt;
  if (!Format || *Format != FormatName)
    return indexError(Path, "not a concguard index");
  std::optional<int64_t> Version = Root->getInteger("version");
  if (!Version || *Version != ProjectIndexVersion)
    return indexError(
        Path, llvm::formatv("version {0}, but this concguard reads version "
                            "{1}; write it again with this concguard-audit",
                            Version ? std::to_string(*Version) : "?",
                            ProjectIndexVersion));
  const json::Array *Units = Root->getArray("units");
  if (!Units)
    return indexError(Path, "no 'units' array");
  std::vector<UnitFacts> Out;
  for (const json::Value &V : *Units) {
    llvm::Expected<UnitFacts> Unit = unitFactsFromJSON(V);
    if (!Unit)
      return indexError(Path,
                        "damaged unit: " + llvm::toString(Unit.takeError()));
    Out.push_back(std::move(*Unit));
  }
  return Out;
}

namespace {

/// Hashes of files on disk, reused while their size and time stay the same.
class FileHashes {
public:
  std::optional<uint64_t> hash(llvm::StringRef Path) {
    fs::file_status Status;
    if (fs::status(Path, Status))
      return std::nullopt;
    std::lock_guard<std::mutex> Lock(Mutex);
    Entry &E = Entries[Path];
    if (E.Known && E.Size == Status.getSize() &&
        E.Time == Status.getLastModificationTime())
      return E.Hash;
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buffer =
        llvm::MemoryBuffer::getFile(Path);
    if (!Buffer)
      return std::nullopt;
    E = {true, Status.getSize(), Status.getLastModificationTime(),
         hashContent((*Buffer)->getBuffer())};
    return E.Hash;
  }

private:
  struct Entry {
    bool Known = false;
    uint64_t Size = 0;
    llvm::sys::TimePoint<> Time;
    uint64_t Hash = 0;
  };
  std::mutex Mutex;
  llvm::StringMap<Entry> Entries;
};

FileHashes &fileHashes() {
  static FileHashes Hashes;
  return Hashes;
}

thread_local FactsCollector *Collector = nullptr;
thread_local const std::vector<SpawnFunction> *InstalledSpawnFunctions =
    nullptr;
thread_local bool IndexDisabled = false;
thread_local std::shared_ptr<const LockEffectsByUSR> InstalledLockEffects;

/// Indexes loaded by this process, by path; reloaded when the file changes.
class IndexCache {
public:
  struct Loaded {
    std::shared_ptr<const std::vector<UnitFacts>> Units;
    std::string Error;
  };

  Loaded get(llvm::StringRef Path) {
    fs::file_status Status;
    if (std::error_code EC = fs::status(Path, Status))
      return {nullptr, ("project index '" + Path + "': " + EC.message()).str()};
    std::lock_guard<std::mutex> Lock(Mutex);
    Entry &E = Entries[Path];
    if (E.Known && E.Size == Status.getSize() &&
        E.Time == Status.getLastModificationTime())
      return E.Value;
    E.Known = true;
    E.Size = Status.getSize();
    E.Time = Status.getLastModificationTime();
    llvm::Expected<std::vector<UnitFacts>> Units = readProjectIndex(Path);
    if (!Units)
      E.Value = {nullptr, llvm::toString(Units.takeError())};
    else
      E.Value = {
          std::make_shared<const std::vector<UnitFacts>>(std::move(*Units)),
          ""};
    return E.Value;
  }

  /// True the first time \p Message is seen by this process.
  bool firstTime(llvm::StringRef Message) {
    std::lock_guard<std::mutex> Lock(Mutex);
    return Said.insert(Message).second;
  }

private:
  struct Entry {
    bool Known = false;
    uint64_t Size = 0;
    llvm::sys::TimePoint<> Time;
    Loaded Value;
  };
  std::mutex Mutex;
  llvm::StringMap<Entry> Entries;
  llvm::StringSet<> Said;
};

IndexCache &indexCache() {
  static IndexCache Cache;
  return Cache;
}

} // namespace

std::optional<std::string> staleInput(const UnitFacts &Unit) {
  for (const FactInput &Input : Unit.Inputs) {
    std::optional<uint64_t> Now = fileHashes().hash(Input.File);
    if (!Now || *Now != Input.Hash)
      return Input.File;
  }
  return std::nullopt;
}

FactsCollector::~FactsCollector() = default;

FactsCollector *currentFactsCollector() { return Collector; }

void setFactsCollector(FactsCollector *C) { Collector = C; }

static void appendSpawnFunctions(const UnitFacts &Unit,
                                 std::vector<SpawnFunction> &Functions,
                                 llvm::StringSet<> &Seen) {
  for (const FunctionFacts &F : Unit.Functions) {
    if ((!F.PoolSubmit && !F.SpawnWrapper) || !Seen.insert(F.USR).second)
      continue;
    SpawnFunction Function;
    Function.Indexed.emplace();
    Function.Indexed->USR = F.USR;
    Function.Indexed->DefinedIn = F.Loc.File;
    if (F.PoolSubmit) {
      Function.CallableIndex = F.PoolSubmit->CallableIndex;
      Function.Indexed->Pool = true;
      Function.Indexed->SingleWorker = F.PoolSubmit->SingleWorker;
      Function.Indexed->WorkerStart = {F.PoolSubmit->WorkerStart.File,
                                       F.PoolSubmit->WorkerStart.Line,
                                       F.PoolSubmit->WorkerStart.Column};
      Function.Indexed->Barriers = F.PoolSubmit->Barriers;
    } else {
      Function.CallableIndex = *F.SpawnWrapper;
    }
    Functions.push_back(std::move(Function));
  }
}

std::vector<SpawnFunction> spawnFunctionsOf(llvm::ArrayRef<UnitFacts> Units) {
  std::vector<SpawnFunction> Functions;
  llvm::StringSet<> Seen;
  for (const UnitFacts &Unit : Units)
    appendSpawnFunctions(Unit, Functions, Seen);
  return Functions;
}

void setKnownSpawnFunctions(const std::vector<SpawnFunction> *Functions) {
  InstalledSpawnFunctions = Functions;
}

std::vector<SpawnFunction> knownSpawnFunctions(llvm::StringRef IndexFile,
                                               llvm::StringRef BuildDirectory) {
  if (currentFactsCollector())
    return InstalledSpawnFunctions ? *InstalledSpawnFunctions
                                   : std::vector<SpawnFunction>();
  std::string Index = findProjectIndex(IndexFile, BuildDirectory);
  if (Index.empty())
    return {};
  // An unreadable index is said by the whole-program step; a stale unit's
  // spawn functions are left out, as its other facts are.
  IndexCache::Loaded Loaded = indexCache().get(Index);
  if (!Loaded.Units)
    return {};
  std::vector<SpawnFunction> Functions;
  llvm::StringSet<> Seen;
  for (const UnitFacts &Unit : *Loaded.Units)
    if (llvm::any_of(Unit.Functions,
                     [](const FunctionFacts &F) {
                       return F.PoolSubmit || F.SpawnWrapper;
                     }) &&
        !staleInput(Unit))
      appendSpawnFunctions(Unit, Functions, Seen);
  return Functions;
}

void addSpawnFunctionInputs(UnitFacts &Unit,
                            llvm::ArrayRef<SpawnFunction> Functions) {
  llvm::StringSet<> Called, Files;
  for (const FunctionFacts &F : Unit.Functions)
    for (const FactCall &Call : F.Calls)
      Called.insert(Call.Callee);
  for (const FactInput &Input : Unit.Inputs)
    Files.insert(Input.File);
  for (const SpawnFunction &Function : Functions)
    if (Function.Indexed && !Function.Indexed->DefinedIn.empty() &&
        Called.contains(Function.Indexed->USR) &&
        Files.insert(Function.Indexed->DefinedIn).second)
      if (std::optional<uint64_t> Hash =
              fileHashes().hash(Function.Indexed->DefinedIn))
        Unit.Inputs.push_back({Function.Indexed->DefinedIn, *Hash});
}

static void appendLockEffects(const UnitFacts &Unit, LockEffectsByUSR &Out) {
  for (const FunctionFacts &F : Unit.Functions)
    if (F.LockEffects)
      Out.try_emplace(F.USR, IndexedLockEffects{*F.LockEffects, F.Loc.File});
}

/// The field of \p Record (or of one of its bases) whose USR is \p USR.
static const FieldDecl *fieldByUSR(const CXXRecordDecl *Record,
                                   llvm::StringRef USR, unsigned Depth = 0) {
  if (!Record || !Record->hasDefinition() || Depth > 8)
    return nullptr;
  Record = Record->getDefinition();
  for (const FieldDecl *Field : Record->fields()) {
    llvm::SmallString<128> FieldUSR;
    if (!index::generateUSRForDecl(Field, FieldUSR) && FieldUSR == USR)
      return Field;
  }
  for (const CXXBaseSpecifier &Base : Record->bases())
    if (const FieldDecl *Field =
            fieldByUSR(Base.getType()->getAsCXXRecordDecl(), USR, Depth + 1))
      return Field;
  return nullptr;
}

/// The class of the object \p Type names, through references and
/// pointers.
static const CXXRecordDecl *recordOf(QualType Type) {
  if (Type->isReferenceType() || Type->isPointerType())
    Type = Type->getPointeeType();
  return Type->getAsCXXRecordDecl();
}

/// A mutex of \p Declared's indexed lock effects as a MutexKey in its own
/// terms (what LockScopes.cpp maps to a caller's at each call): `this` and
/// its members, a reference or pointer parameter and its members. A global
/// is left out: the unit may not declare it.
static std::optional<MutexKey> mutexKeyOf(const FactKey &Key,
                                          const FunctionDecl &Declared) {
  if (Key.empty())
    return std::nullopt;
  MutexKey Out;
  const CXXRecordDecl *Record = nullptr;
  llvm::StringRef Root = Key.front();
  if (Root == "this") {
    const auto *Method = dyn_cast<CXXMethodDecl>(&Declared);
    if (!Method || Method->isStatic())
      return std::nullopt;
    if (Key.size() == 1)
      return MutexKey::thisObject();
    Record = Method->getParent();
  } else if (Root.consume_front("param:")) {
    unsigned Index = 0;
    if (Root.getAsInteger(10, Index) || Index >= Declared.getNumParams())
      return std::nullopt;
    const ParmVarDecl *Param = Declared.getParamDecl(Index);
    Out.Path.push_back(Param);
    Record = recordOf(Param->getType());
  } else {
    return std::nullopt;
  }
  for (const std::string &USR : llvm::drop_begin(Key)) {
    const FieldDecl *Field = fieldByUSR(Record, USR);
    if (!Field)
      return std::nullopt;
    Out.Path.push_back(Field);
    Record = recordOf(Field->getType());
  }
  return Out;
}

/// ExternalLockEffectsSource over the effects installed for the calling
/// thread.
static std::optional<FunctionLockEffects>
installedEffectsOf(const FunctionDecl &Declared) {
  llvm::SmallString<128> USR;
  if (!InstalledLockEffects ||
      index::generateUSRForDecl(Declared.getCanonicalDecl(), USR))
    return std::nullopt;
  const IndexedLockEffects *Known = knownLockEffects(USR);
  if (!Known)
    return std::nullopt;
  FunctionLockEffects Out;
  for (const FactLock &Lock : Known->Effects.Acquires)
    if (std::optional<MutexKey> Key = mutexKeyOf(Lock.Key, Declared)) {
      HeldLock Held;
      Held.Key = std::move(*Key);
      Held.Mode = Lock.Shared ? LockMode::Shared : LockMode::Exclusive;
      Held.Conditional = Lock.Conditional;
      Out.Acquires.push_back(std::move(Held));
    }
  for (const FactKey &Released : Known->Effects.Releases)
    if (std::optional<MutexKey> Key = mutexKeyOf(Released, Declared))
      Out.Releases.push_back(std::move(*Key));
  if (Out.empty())
    return std::nullopt;
  return Out;
}

LockEffectsByUSR lockEffectsOf(llvm::ArrayRef<UnitFacts> Units) {
  LockEffectsByUSR Out;
  for (const UnitFacts &Unit : Units)
    appendLockEffects(Unit, Out);
  return Out;
}

void setKnownLockEffects(std::shared_ptr<const LockEffectsByUSR> Effects) {
  InstalledLockEffects = std::move(Effects);
  setExternalLockEffects(InstalledLockEffects ? &installedEffectsOf : nullptr);
}

void installIndexedLockEffects(llvm::StringRef IndexFile,
                               llvm::StringRef BuildDirectory) {
  if (currentFactsCollector())
    return;
  std::string Index = findProjectIndex(IndexFile, BuildDirectory);
  IndexCache::Loaded Loaded;
  if (!Index.empty())
    Loaded = indexCache().get(Index);
  if (!Loaded.Units) {
    setKnownLockEffects(nullptr);
    return;
  }
  // Per unit analysed: a stale unit's effects are left out, as its other
  // facts are, and a file may change between two units (the editor).
  auto Effects = std::make_shared<LockEffectsByUSR>();
  for (const UnitFacts &Unit : *Loaded.Units)
    if (llvm::any_of(
            Unit.Functions,
            [](const FunctionFacts &F) { return F.LockEffects.has_value(); }) &&
        !staleInput(Unit))
      appendLockEffects(Unit, *Effects);
  setKnownLockEffects(std::move(Effects));
}

const IndexedLockEffects *knownLockEffects(llvm::StringRef USR) {
  if (!InstalledLockEffects)
    return nullptr;
  auto It = InstalledLockEffects->find(USR);
  return It == InstalledLockEffects->end() ? nullptr : &It->second;
}

bool hasKnownLockEffects() {
  return InstalledLockEffects && !InstalledLockEffects->empty();
}

void addLockEffectInputs(UnitFacts &Unit) {
  if (!hasKnownLockEffects())
    return;
  llvm::StringSet<> Defined, Files;
  for (const FunctionFacts &F : Unit.Functions)
    Defined.insert(F.USR);
  for (const FactInput &Input : Unit.Inputs)
    Files.insert(Input.File);
  for (const FunctionFacts &F : Unit.Functions)
    for (const FactCall &Call : F.Calls) {
      const IndexedLockEffects *Known = knownLockEffects(Call.Callee);
      if (!Known || Defined.contains(Call.Callee) || Known->DefinedIn.empty() ||
          !Files.insert(Known->DefinedIn).second)
        continue;
      if (std::optional<uint64_t> Hash = fileHashes().hash(Known->DefinedIn))
        Unit.Inputs.push_back({Known->DefinedIn, *Hash});
    }
}

void setProjectIndexDisabled(bool Disabled) { IndexDisabled = Disabled; }

std::string findProjectIndex(llvm::StringRef Option,
                             llvm::StringRef BuildDirectory) {
  if (IndexDisabled)
    return "";
  if (!Option.empty())
    return Option.str();
  // Like clangd's index: by convention beside the compilation database, in
  // the build directory of the unit's command or one of its parents.
  llvm::SmallString<256> Dir(BuildDirectory);
  while (!Dir.empty()) {
    llvm::SmallString<256> Database(Dir);
    llvm::sys::path::append(Database, "compile_commands.json");
    if (fs::exists(Database)) {
      llvm::SmallString<256> Index(Dir);
      llvm::sys::path::append(Index, ProjectIndexFileName);
      return fs::exists(Index) ? std::string(Index) : std::string();
    }
    llvm::StringRef Parent = llvm::sys::path::parent_path(Dir);
    if (Parent == Dir)
      break;
    Dir = Parent;
  }
  return "";
}

IndexedFindings wholeProgramFindings(llvm::StringRef IndexPath, UnitFacts Fresh,
                                     const WholeProgramOptions &Options) {
  IndexedFindings Out;
  IndexCache::Loaded Loaded = indexCache().get(IndexPath);
  if (!Loaded.Units) {
    if (indexCache().firstTime(Loaded.Error))
      Out.Error = Loaded.Error;
    return Out;
  }
  Program Whole;
  for (const UnitFacts &Unit : *Loaded.Units) {
    if (Unit.File == Fresh.File)
      continue; // replaced by the facts of the parse at hand
    if (std::optional<std::string> Changed = staleInput(Unit)) {
      std::string Message =
          llvm::formatv("{0} changed since the project index {1} was "
                        "written; its unit {2} is left out of the "
                        "whole-program analysis until the index is rebuilt",
                        *Changed, IndexPath, Unit.File);
      if (indexCache().firstTime(Message))
        Out.NewlyStale.push_back(std::move(Message));
      continue;
    }
    Whole.addUnit(Unit);
  }
  // The findings in the unit's own files: its main file and the project
  // headers it includes (clang-tidy's header filter then decides, as for
  // the per-unit findings).
  llvm::StringSet<> Own;
  Own.insert(Fresh.File);
  for (const FactInput &Input : Fresh.Inputs)
    Own.insert(Input.File);
  Whole.addUnit(std::move(Fresh));
  for (ProgramFinding &F : Whole.analyze(Options))
    if (Own.contains(F.Loc.File))
      Out.Findings.push_back(std::move(F));
  return Out;
}

SourceLocation sourceLocationOf(const FactLocation &Loc, SourceManager &SM) {
  if (!Loc.valid())
    return {};
  llvm::Expected<FileEntryRef> File = SM.getFileManager().getFileRef(Loc.File);
  if (!File) {
    llvm::consumeError(File.takeError());
    return {};
  }
  if (SM.translateFile(*File).isInvalid())
    SM.createFileID(*File, SourceLocation(), SrcMgr::C_User);
  return SM.translateFileLineCol(&File->getFileEntry(), Loc.Line, Loc.Column);
}

std::string escapeForDiagnostic(llvm::StringRef Text) {
  std::string Out;
  for (char C : Text) {
    Out += C;
    if (C == '%')
      Out += '%';
  }
  return Out;
}

void reportIndexedFindings(
    const IndexedFindings &Found, SourceManager &SM,
    llvm::function_ref<void(SourceLocation, llvm::StringRef,
                            DiagnosticIDs::Level)>
        Diag,
    llvm::function_ref<void(llvm::StringRef)> Config) {
  if (!Found.Error.empty())
    Config(escapeForDiagnostic(Found.Error));
  for (const std::string &Stale : Found.NewlyStale)
    Config(escapeForDiagnostic(Stale));
  for (const ProgramFinding &F : Found.Findings) {
    SourceLocation Loc = sourceLocationOf(F.Loc, SM);
    if (Loc.isInvalid())
      continue;
    Diag(Loc, escapeForDiagnostic(F.Message), DiagnosticIDs::Warning);
    for (const ProgramNote &N : F.Notes)
      if (SourceLocation NoteLoc = sourceLocationOf(N.Loc, SM);
          NoteLoc.isValid())
        Diag(NoteLoc, escapeForDiagnostic(N.Message), DiagnosticIDs::Note);
  }
}

void reportWholeProgram(ClangTidyCheck &Check, ASTContext &Context,
                        llvm::StringRef IndexFile,
                        llvm::StringRef BuildDirectory,
                        const SharedContainerOptions &Analysis,
                        llvm::ArrayRef<const Expr *> Spawns,
                        const WholeProgramOptions &Options) {
  if (currentFactsCollector())
    return;
  std::string Index = findProjectIndex(IndexFile, BuildDirectory);
  if (Index.empty())
    return;
  IndexedFindings Found = wholeProgramFindings(
      Index, extractUnitFacts(Context, Analysis, Spawns), Options);
  reportIndexedFindings(
      Found, Context.getSourceManager(),
      [&](SourceLocation Loc, llvm::StringRef Message,
          DiagnosticIDs::Level Level) { Check.diag(Loc, Message, Level); },
      [&](llvm::StringRef Message) { Check.configurationDiag(Message); });
}

} // namespace clang::tidy::concguard::utils
