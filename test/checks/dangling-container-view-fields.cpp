// RUN: %check_concguard -std=c++17 %s concguard-dangling-container-view %t

// A view into a local container handed to a member function that keeps it
// in a field of `this` (jsoncpp's Reader::parse(std::istream &) before 1.9.6):
// the field dangles once the local is destroyed, and other member functions
// read it later.

#include <istream>
#include <iterator>
#include <string>
#include <vector>

class Reader {
public:
  bool parse(std::istream &In) {
    std::string Doc(std::istreambuf_iterator<char>(In), {});
    return parse(Doc.data(), Doc.data() + Doc.size());
    // CHECK-NOTES: :[[@LINE-1]]:18: warning: 'Doc.data()' points into the local 'Doc', and 'Reader::parse' keeps it in the member 'Begin', which outlives 'Doc': 'Begin' dangles once this function returns [concguard-dangling-container-view]
    // CHECK-NOTES: :[[@LINE+11]]:5: note: kept in 'Begin' here
    // CHECK-NOTES: :[[@LINE+18]]:26: note: and read here, in 'Reader::errorLine', after 'Doc' is destroyed
  }

  // Clean twin: the document is copied into a member first.
  bool parse(const std::string &Text) {
    Document = Text;
    return parse(Document.data(), Document.data() + Document.size());
  }

  bool parse(const char *BeginDoc, const char *EndDoc) {
    Begin = BeginDoc;
    End = EndDoc;
    Current = Begin;
    return Current != End;
  }

  int errorLine() const {
    int Line = 1;
    for (const char *P = Begin; P != Current; ++P)
      Line += *P == '\n';
    return Line;
  }

  // Clean twin: the field is reset before the local dies.
  int countLines(const std::vector<char> &Text) {
    std::vector<char> Copy(Text);
    remember(Copy.data());
    int N = scan();
    Seen = nullptr;
    return N;
  }

  // Clean twin: a callee that only reads the view.
  int peek(const std::vector<char> &Text) {
    std::vector<char> Copy(Text);
    return first(Copy.data());
  }

  // Clean twin: a callee that resets the field before returning.
  void probe(const std::vector<char> &Text) {
    std::vector<char> Copy(Text);
    scratch(Copy.data());
  }

private:
  void remember(const char *P) { Seen = P; }
  int scan() const { return Seen ? 1 : 0; }
  int first(const char *P) const { return P ? *P : 0; }
  void scratch(const char *P) {
    Probe = P;
    Probe = nullptr;
  }
  int probed() const { return Probe ? 1 : 0; }

  std::string Document;
  const char *Begin = nullptr;
  const char *End = nullptr;
  const char *Current = nullptr;
  const char *Seen = nullptr;
  const char *Probe = nullptr;
};

// Clean twin: the field dangles after count() returns, but only a private
// helper of the callee reads it, while the local is alive; the next run()
// sets it again before any read.
class Tokenizer {
public:
  int count(const std::string &Text) {
    std::string Copy = Text + " ";
    return run(Copy.c_str());
  }

private:
  int run(const char *P) {
    Cur = P;
    int N = 0;
    while (next())
      ++N;
    return N;
  }
  bool next() { return *Cur++ != 0; }

  const char *Cur = nullptr;
};
