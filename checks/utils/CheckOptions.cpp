//===--- CheckOptions.cpp - every concguard option, declared once ---------===//

#include "CheckOptions.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/YAMLParser.h"

namespace clang::tidy::concguard::utils {

namespace {

enum class OptionType {
  Flag,              ///< true / false
  Count,             ///< a non-negative integer
  SpawnList,         ///< `name` or `name:index` entries
  ContainerList,     ///< `Name=family` entries
  ContainerNameList, ///< `Name` or `Name=family` entries
  NameList,          ///< class names
  GuardList,         ///< `Name` or `Name:shared` entries
  IncludeStyle,      ///< llvm / google
  Path,              ///< a file name (any text)
};

/// One option of one check. Project names the project-wide key
/// (`concguard.<Project>`) the check also reads, if any.
struct OptionSpec {
  llvm::StringLiteral Check;
  llvm::StringLiteral Name;
  OptionType Type;
  llvm::StringLiteral Default;
  llvm::StringLiteral Project;
};

// Every option of every concguard check. The checks read nothing else, and
// test/tools/options.test feeds each check's --dump-config back through the
// validation, so a check cannot grow an option that is missing here.
constexpr OptionSpec Specs[] = {
    {"concguard-dangling-container-view", "ContainerFamilies",
     OptionType::ContainerList, "", "ContainerTypes"},
    {"concguard-dangling-container-view", "AssumeUnknownCallsInvalidate",
     OptionType::Flag, "true", ""},
    {"concguard-escaping-guarded-reference", "MutexTypes", OptionType::NameList,
     "", "MutexTypes"},
    {"concguard-escaping-guarded-reference", "LockGuardTypes",
     OptionType::GuardList, "", "LockGuardTypes"},
    {"concguard-escaping-guarded-reference", "ContainerTypes",
     OptionType::ContainerNameList, "", "ContainerTypes"},
    {"concguard-uncancellable-thread", "SpawnFunctions", OptionType::SpawnList,
     "", "SpawnFunctions"},
    {"concguard-uncancellable-thread", "ReportDetach", OptionType::Flag, "true",
     ""},
    {"concguard-uncancellable-thread", "MaxCallDepth", OptionType::Count, "3",
     ""},
    {"concguard-unsynchronized-container", "SpawnFunctions",
     OptionType::SpawnList, "", "SpawnFunctions"},
    {"concguard-unsynchronized-container", "ContainerTypes",
     OptionType::ContainerList, "", "ContainerTypes"},
    {"concguard-unsynchronized-container", "MutexTypes", OptionType::NameList,
     "", "MutexTypes"},
    {"concguard-unsynchronized-container", "LockGuardTypes",
     OptionType::GuardList, "", "LockGuardTypes"},
    {"concguard-unsynchronized-container", "StrictElementAccess",
     OptionType::Flag, "false", ""},
    {"concguard-unsynchronized-container", "MaxCallDepth", OptionType::Count,
     "3", ""},
    {"concguard-unsynchronized-container", "IncludeStyle",
     OptionType::IncludeStyle, "llvm", ""},
    {"concguard-unsynchronized-container", "IndexFile", OptionType::Path, "",
     "IndexFile"},
    {"concguard-uncancellable-thread", "IndexFile", OptionType::Path, "",
     "IndexFile"},
    {"concguard-escaping-guarded-reference", "IndexFile", OptionType::Path, "",
     "IndexFile"},
};

/// The project-wide options, with the syntax every check accepts (the
/// strictest of the checks that read them).
struct ProjectSpec {
  llvm::StringLiteral Name;
  OptionType Type;
};
constexpr ProjectSpec ProjectSpecs[] = {
    {"SpawnFunctions", OptionType::SpawnList},
    {"ContainerTypes", OptionType::ContainerList},
    {"MutexTypes", OptionType::NameList},
    {"LockGuardTypes", OptionType::GuardList},
    {"IndexFile", OptionType::Path},
};

const OptionSpec *findSpec(llvm::StringRef Check, llvm::StringRef Name) {
  for (const OptionSpec &S : Specs)
    if (S.Check == Check && S.Name == Name)
      return &S;
  return nullptr;
}

const ProjectSpec *findProjectSpec(llvm::StringRef Name) {
  for (const ProjectSpec &S : ProjectSpecs)
    if (S.Name == Name)
      return &S;
  return nullptr;
}

llvm::StringRef allowed(OptionType Type) {
  switch (Type) {
  case OptionType::Flag:
    return "true or false";
  case OptionType::Count:
    return "a non-negative integer";
  case OptionType::SpawnList:
    return "'qualified::name' or 'qualified::name:index' entries separated "
           "by ';'";
  case OptionType::ContainerList:
    return "'qualified::Name=family' entries separated by ';', family one of "
           "vector, string, deque, unordered, map, set, list, forward_list, "
           "node, array";
  case OptionType::ContainerNameList:
    return "'qualified::Name' or 'qualified::Name=family' entries separated "
           "by ';'";
  case OptionType::NameList:
    return "qualified class names separated by ';'";
  case OptionType::GuardList:
    return "'qualified::Name' or 'qualified::Name:shared' entries separated "
           "by ';'";
  case OptionType::IncludeStyle:
    return "llvm or google";
  case OptionType::Path:
    return "a file name";
  }
  return "";
}

/// The entries of a list option: separated by ';' or ',', trimmed, empty
/// ones dropped.
llvm::SmallVector<llvm::StringRef, 8> listEntries(llvm::StringRef Value) {
  llvm::SmallVector<llvm::StringRef, 8> Entries;
  for (llvm::StringRef Part : llvm::split(Value, ';'))
    for (llvm::StringRef Piece : llvm::split(Part, ','))
      if (!Piece.trim().empty())
        Entries.push_back(Piece.trim());
  return Entries;
}

/// `a::b::C`, `::C`: identifiers separated by `::`.
bool isQualifiedName(llvm::StringRef Name) {
  Name.consume_front("::");
  if (Name.empty())
    return false;
  for (llvm::StringRef Part : llvm::split(Name, "::")) {
    if (Part.empty() || llvm::isDigit(Part.front()))
      return false;
    if (!llvm::all_of(Part,
                      [](char C) { return llvm::isAlnum(C) || C == '_'; }))
      return false;
  }
  return true;
}

/// Splits `Name:suffix` at the last ':' that is not part of a `::`.
std::pair<llvm::StringRef, std::optional<llvm::StringRef>>
splitSuffix(llvm::StringRef Entry) {
  size_t Colon = Entry.rfind(':');
  if (Colon == llvm::StringRef::npos || Colon == 0 || Entry[Colon - 1] == ':')
    return {Entry, std::nullopt};
  return {Entry.take_front(Colon).trim(), Entry.drop_front(Colon + 1).trim()};
}

std::optional<bool> parseFlag(llvm::StringRef Value) {
  Value = Value.trim();
  if (Value == "1")
    return true;
  if (Value == "0")
    return false;
  return llvm::yaml::parseBool(Value);
}

/// The parts of \p Value that do not fit \p Type: the whole value for a
/// scalar, the bad entries of a list. Empty when it parses.
std::vector<std::string> badParts(OptionType Type, llvm::StringRef Value) {
  std::vector<std::string> Bad;
  auto CheckEntries = [&](auto IsGood) {
    for (llvm::StringRef Entry : listEntries(Value))
      if (!IsGood(Entry))
        Bad.push_back(Entry.str());
  };
  switch (Type) {
  case OptionType::Flag:
    if (!parseFlag(Value))
      Bad.push_back(Value.str());
    break;
  case OptionType::Count: {
    unsigned N;
    if (Value.trim().getAsInteger(10, N))
      Bad.push_back(Value.str());
    break;
  }
  case OptionType::IncludeStyle:
    if (Value.trim() != "llvm" && Value.trim() != "google")
      Bad.push_back(Value.str());
    break;
  case OptionType::Path:
    break; // whether it can be read is said when it is read
  case OptionType::SpawnList:
    CheckEntries([](llvm::StringRef Entry) {
      auto [Name, Index] = splitSuffix(Entry);
      unsigned N;
      return isQualifiedName(Name) && (!Index || !Index->getAsInteger(10, N));
    });
    break;
  case OptionType::ContainerList:
  case OptionType::ContainerNameList:
    CheckEntries([&](llvm::StringRef Entry) {
      auto [Name, Family] = Entry.split('=');
      if (!isQualifiedName(Name.trim()))
        return false;
      if (!Entry.contains('='))
        return Type == OptionType::ContainerNameList;
      std::vector<std::string> Invalid;
      parseContainerFamilies(Entry, &Invalid);
      return Invalid.empty();
    });
    break;
  case OptionType::NameList:
    CheckEntries(isQualifiedName);
    break;
  case OptionType::GuardList:
    CheckEntries([](llvm::StringRef Entry) {
      auto [Name, Mode] = splitSuffix(Entry);
      return isQualifiedName(Name) && (!Mode || *Mode == "shared");
    });
    break;
  }
  return Bad;
}

bool isList(OptionType Type) {
  return Type != OptionType::Flag && Type != OptionType::Count &&
         Type != OptionType::IncludeStyle && Type != OptionType::Path;
}

void checkValue(llvm::StringRef Key, OptionType Type, llvm::StringRef Value,
                std::vector<OptionProblem> &Out) {
  for (const std::string &Bad : badParts(Type, Value)) {
    std::string Message =
        isList(Type) ? ("invalid entry '" + Bad + "' in option '" + Key +
                        "' (value '" + Value + "'): expected " + allowed(Type))
                           .str()
                     : ("invalid value '" + Value + "' for option '" + Key +
                        "': expected " + allowed(Type))
                           .str();
    Out.push_back({Key.str(), Value.str(), std::move(Message)});
  }
}

/// Every known key, for suggestions.
std::vector<std::string> knownKeys() {
  std::vector<std::string> Keys;
  for (const OptionSpec &S : Specs)
    Keys.push_back((S.Check + "." + S.Name).str());
  for (const ProjectSpec &S : ProjectSpecs)
    Keys.push_back((ProjectOptionPrefix + S.Name).str());
  return Keys;
}

std::string closestKey(llvm::StringRef Key) {
  // Beyond this many edits the key is not a typo of a known one.
  unsigned Limit = 1 + Key.size() / 6;
  std::string Best;
  unsigned BestDistance = Limit + 1;
  for (const std::string &Known : knownKeys()) {
    unsigned D = Key.edit_distance(Known, /*AllowReplacements=*/true, Limit);
    if (D < BestDistance) {
      Best = Known;
      BestDistance = D;
    }
  }
  return Best;
}

} // namespace

std::vector<OptionProblem>
validateOptions(const ClangTidyOptions::OptionMap &Options) {
  // Sorted by key, so that the messages come in a stable order.
  std::vector<std::pair<std::string, std::string>> Entries;
  for (const auto &Entry : Options) {
    llvm::StringRef Key = Entry.getKey();
    if (Key.starts_with("concguard-") || Key.starts_with(ProjectOptionPrefix))
      Entries.emplace_back(Key.str(), Entry.getValue().Value);
  }
  llvm::sort(Entries);
  std::vector<OptionProblem> Problems;
  for (const auto &[Key, Value] : Entries) {
    llvm::StringRef K = Key;
    if (K.consume_front(ProjectOptionPrefix)) {
      if (const ProjectSpec *S = findProjectSpec(K)) {
        checkValue(Key, S->Type, Value, Problems);
        continue;
      }
    } else {
      auto [Check, Name] = llvm::StringRef(Key).split('.');
      if (const OptionSpec *S = findSpec(Check, Name)) {
        checkValue(Key, S->Type, Value, Problems);
        continue;
      }
    }
    std::string Message = "unknown option '" + Key + "'";
    std::string Suggestion = closestKey(Key);
    if (!Suggestion.empty())
      Message += "; did you mean '" + Suggestion + "'?";
    else
      Message += " (see docs/checks/ for the options of each check)";
    Problems.push_back({Key, Value, std::move(Message)});
  }
  return Problems;
}

std::string formatProblems(llvm::ArrayRef<OptionProblem> Problems) {
  std::string Out;
  for (const OptionProblem &P : Problems)
    Out += P.Message + "\n";
  return Out;
}

CheckOptionReader::CheckOptionReader(const ClangTidyOptions::OptionMap &Options,
                                     llvm::StringRef CheckName)
    : Options(Options), CheckName(CheckName.str()) {}

std::optional<std::string>
CheckOptionReader::sourceKey(llvm::StringRef Name) const {
  std::string Local = CheckName + "." + Name.str();
  if (Options.count(Local))
    return Local;
  const OptionSpec *S = findSpec(CheckName, Name);
  if (S && !S->Project.empty()) {
    std::string Project = (ProjectOptionPrefix + S->Project).str();
    if (Options.count(Project))
      return Project;
  }
  return std::nullopt;
}

std::string CheckOptionReader::text(llvm::StringRef Name) const {
  if (std::optional<std::string> Key = sourceKey(Name))
    return Options.find(*Key)->getValue().Value;
  const OptionSpec *S = findSpec(CheckName, Name);
  assert(S && "option not declared in CheckOptions.cpp");
  return S ? S->Default.str() : "";
}

void CheckOptionReader::noteProblem(llvm::StringRef Name) {
  std::optional<std::string> Key = sourceKey(Name);
  if (!Key)
    return; // a default never has a problem
  llvm::StringRef K = *Key;
  OptionType Type;
  if (K.consume_front(ProjectOptionPrefix))
    Type = findProjectSpec(K)->Type;
  else
    Type = findSpec(CheckName, Name)->Type;
  checkValue(*Key, Type, text(Name), Problems);
}

bool CheckOptionReader::flag(llvm::StringRef Name) {
  noteProblem(Name);
  if (std::optional<bool> Value = parseFlag(text(Name)))
    return *Value;
  return *parseFlag(findSpec(CheckName, Name)->Default);
}

unsigned CheckOptionReader::count(llvm::StringRef Name) {
  noteProblem(Name);
  unsigned Value;
  if (!llvm::StringRef(text(Name)).trim().getAsInteger(10, Value))
    return Value;
  llvm::StringRef(findSpec(CheckName, Name)->Default).getAsInteger(10, Value);
  return Value;
}

std::vector<SpawnFunction>
CheckOptionReader::spawnFunctions(llvm::StringRef Name) {
  noteProblem(Name);
  return parseSpawnFunctions(text(Name));
}

std::vector<UserContainer> CheckOptionReader::containers(llvm::StringRef Name) {
  noteProblem(Name);
  return parseContainerFamilies(text(Name));
}

std::vector<std::string>
CheckOptionReader::containerNames(llvm::StringRef Name) {
  noteProblem(Name);
  std::vector<std::string> Names;
  std::string Value = text(Name); // the entries below point into it
  for (llvm::StringRef Entry : listEntries(Value)) {
    llvm::StringRef Qualified = Entry.split('=').first.trim();
    if (!Qualified.empty())
      Names.push_back(Qualified.str());
  }
  return Names;
}

LockOptions CheckOptionReader::locks(llvm::StringRef MutexName,
                                     llvm::StringRef GuardName) {
  noteProblem(MutexName);
  noteProblem(GuardName);
  return LockOptions::parse(text(MutexName), text(GuardName));
}

SharedContainerOptions CheckOptionReader::sharedContainerOptions() {
  SharedContainerOptions Result;
  Result.SpawnFunctions = spawnFunctions("SpawnFunctions");
  Result.ContainerTypes = containers("ContainerTypes");
  Result.Locks = locks("MutexTypes", "LockGuardTypes");
  Result.StrictElementAccess = flag("StrictElementAccess");
  Result.MaxCallDepth = count("MaxCallDepth");
  return Result;
}

} // namespace clang::tidy::concguard::utils
