//===--- SarifFlows.cpp - code flows of race findings ---------------------===//

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

std::optional<CodeFlow> codeFlow(const Finding &F) {
  std::optional<RaceShape> Shape = raceShape(F);
  if (!Shape)
    return std::nullopt;

  auto NoteStep = [&](unsigned Note, StringRef Kind, unsigned Nesting) {
    return FlowStep{F.Notes[Note].Loc,
                    F.Notes[Note].Message,
                    Kind,
                    Nesting,
                    /*Essential=*/Kind == "memory",
                    Note};
  };
  // One context's path: the calls from its root (nesting 0) down to the
  // access, which is as deep as the number of calls before it.
  auto Path = [&](llvm::ArrayRef<unsigned> Calls, FlowStep Access) {
    std::vector<FlowStep> Steps;
    for (unsigned Call : Calls)
      Steps.push_back(NoteStep(Call, "call", Steps.size()));
    Access.Nesting = Steps.size();
    Steps.push_back(std::move(Access));
    return Steps;
  };

  CodeFlow Flow;
  Flow.Message = Shape->OtherAccess ? "two accesses that can run at once"
                                    : "an access that two threads started at "
                                      "the same place can make at once";
  // First the reported access: a viewer that shows one thread flow shows
  // this one.
  constexpr StringRef Reported = "the access reported here";
  Flow.Threads.push_back(
      {Reported.str(),
       Path(Shape->ReportedPath,
            FlowStep{F.Loc, Reported.str(), "memory", 0, true, std::nullopt})});
  if (Shape->OtherAccess)
    Flow.Threads.push_back(
        {"the other access",
         Path(Shape->OtherPath, NoteStep(*Shape->OtherAccess, "memory", 0))});
  // The start of the thread, as a context of its own: the notes do not say
  // which of the two accesses runs on the started thread (only the message
  // does, in words), and the thread that starts it is a third context
  // unless the other access follows the start in the same function.
  Flow.Threads.push_back(
      {"the start of the thread", {NoteStep(Shape->Spawn, "call", 0)}});
  return Flow;
}

json::Array
sarifCodeFlows(const CodeFlow &Flow,
               llvm::function_ref<json::Value(const SourceLocation &)> Locate) {
  json::Array Threads;
  for (const ThreadFlow &Thread : Flow.Threads) {
    json::Array Locations;
    for (const FlowStep &Step : Thread.Steps) {
      json::Value L = Locate(Step.Loc);
      (*L.getAsObject())["message"] = json::Object{{"text", Step.Message}};
      json::Object Out{{"location", std::move(L)},
                       {"kinds", json::Array{Step.Kind}},
                       {"nestingLevel", Step.Nesting}};
      if (Step.Essential)
        Out["importance"] = "essential";
      Locations.push_back(std::move(Out));
    }
    Threads.push_back(
        json::Object{{"message", json::Object{{"text", Thread.Message}}},
                     {"locations", std::move(Locations)}});
  }
  return json::Array{
      json::Object{{"message", json::Object{{"text", Flow.Message}}},
                   {"threadFlows", std::move(Threads)}}};
}

json::Value htmlCodeFlow(const Finding &F, const CodeFlow &Flow) {
  json::Array Threads;
  for (const ThreadFlow &Thread : Flow.Threads) {
    json::Array Steps;
    for (const FlowStep &Step : Thread.Steps) {
      json::Object Out{{"path", Step.Loc.Path},      {"line", Step.Loc.Line},
                       {"column", Step.Loc.Column},  {"message", Step.Message},
                       {"kind", Step.Kind},          {"nesting", Step.Nesting},
                       {"essential", Step.Essential}};
      StringRef Code =
          Step.Note ? StringRef(F.Notes[*Step.Note].Code) : sourceLineAt(F);
      if (!Code.empty())
        Out["code"] = Code;
      Steps.push_back(std::move(Out));
    }
    Threads.push_back(
        json::Object{{"message", Thread.Message}, {"steps", std::move(Steps)}});
  }
  return json::Object{{"message", Flow.Message},
                      {"threads", std::move(Threads)}};
}

} // namespace concguard::audit
