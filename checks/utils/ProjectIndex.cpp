//===--- ProjectIndex.cpp - the project index every front end reads -------===//

#include "ProjectIndex.h"

#include "SharedContainers.h"

#include "clang-tidy/ClangTidyCheck.h"

#include "clang/Basic/FileManager.h"
#include "clang/Basic/SourceManager.h"
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
