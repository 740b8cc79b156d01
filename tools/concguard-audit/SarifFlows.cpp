//===--- SarifFlows.cpp - SARIF code flows of race findings ---------------===//

#include "SarifFlows.h"

namespace concguard::audit {
namespace json = llvm::json;
using llvm::StringRef;

namespace {

constexpr StringRef RaceCheck = "concguard-unsynchronized-container";
// The two note texts that delimit the parts (see SarifFlows.h). Per unit
// the check writes them bare; the whole-program phase adds the names
// ("reached through this call of 'f' in 'g'", "thread started here,
// running 'g'").
constexpr StringRef CallStepText = "reached through this call";
constexpr StringRef SpawnText = "thread started here";

bool isCallStep(const Note &N) {
  return StringRef(N.Message).starts_with(CallStepText);
}
bool isSpawn(const Note &N) {
  return StringRef(N.Message).starts_with(SpawnText);
}

} // namespace

std::optional<RaceShape> raceShape(const Finding &F) {
  if (F.Check != RaceCheck)
    return std::nullopt;
  std::optional<unsigned> Spawn;
  for (unsigned I = 0; I < F.Notes.size(); ++I)
    if (isSpawn(F.Notes[I])) {
      if (Spawn) // one thread per race: two spawns is not the known shape
        return std::nullopt;
      Spawn = I;
    }
  if (!Spawn)
    return std::nullopt;
  RaceShape Shape;
  Shape.Spawn = *Spawn;
  unsigned I = 0;
  for (; I < *Spawn && isCallStep(F.Notes[I]); ++I)
    Shape.ReportedPath.push_back(I);
  if (I < *Spawn) {
    Shape.OtherAccess = I++;
    for (; I < *Spawn; ++I) {
      if (!isCallStep(F.Notes[I])) // a second access: not the known shape
        return std::nullopt;
      Shape.OtherPath.push_back(I);
    }
  }
  // After the spawn come the declaration and the rewriter's reason; a call
  // step there would mean an order this code does not know.
  for (I = *Spawn + 1; I < F.Notes.size(); ++I)
    if (isCallStep(F.Notes[I]))
      return std::nullopt;
  return Shape;
}

std::optional<json::Array>
sarifCodeFlows(const Finding &F,
               llvm::function_ref<json::Value(const SourceLocation &)> Locate) {
  std::optional<RaceShape> Shape = raceShape(F);
  if (!Shape)
    return std::nullopt;

  auto Step = [&](const SourceLocation &Loc, StringRef Message, StringRef Kind,
                  unsigned Nesting, bool Essential) {
    json::Value L = Locate(Loc);
    (*L.getAsObject())["message"] = json::Object{{"text", Message}};
    json::Object Out{{"location", std::move(L)},
                     {"kinds", json::Array{Kind}},
                     {"nestingLevel", Nesting}};
    if (Essential)
      Out["importance"] = "essential";
    return Out;
  };
  // One context's path: the calls from its root (nesting 0) down to the
  // access, which is as deep as the number of calls before it.
  auto Path = [&](llvm::ArrayRef<unsigned> Calls, const SourceLocation &At,
                  StringRef AccessMessage) {
    json::Array Locations;
    unsigned Depth = 0;
    for (unsigned Call : Calls)
      Locations.push_back(Step(F.Notes[Call].Loc, F.Notes[Call].Message, "call",
                               Depth++, false));
    Locations.push_back(Step(At, AccessMessage, "memory", Depth, true));
    return Locations;
  };

  json::Array Threads;
  // First the reported access: a viewer that shows one thread flow shows
  // this one.
  Threads.push_back(json::Object{
      {"message", json::Object{{"text", "the access reported here"}}},
      {"locations",
       Path(Shape->ReportedPath, F.Loc, "the access reported here")}});
  if (Shape->OtherAccess) {
    const Note &Other = F.Notes[*Shape->OtherAccess];
    Threads.push_back(json::Object{
        {"message", json::Object{{"text", "the other access"}}},
        {"locations", Path(Shape->OtherPath, Other.Loc, Other.Message)}});
  }
  // The start of the thread, as a context of its own: the notes do not say
  // which of the two accesses runs on the started thread (only the message
  // does, in words), and the thread that starts it is a third context
  // unless the other access follows the start in the same function.
  const Note &Spawn = F.Notes[Shape->Spawn];
  Threads.push_back(json::Object{
      {"message", json::Object{{"text", "the start of the thread"}}},
      {"locations",
       json::Array{Step(Spawn.Loc, Spawn.Message, "call", 0, false)}}});

  return json::Array{json::Object{
      {"message",
       json::Object{{"text", Shape->OtherAccess
                                 ? "two accesses that can run at once"
                                 : "an access that two threads started at "
                                   "the same place can make at once"}}},
      {"threadFlows", std::move(Threads)}}};
}

} // namespace concguard::audit
