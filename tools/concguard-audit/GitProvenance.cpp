//===--- GitProvenance.cpp - the git checkout a report was made from ------===//

#include "GitProvenance.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

namespace concguard::audit {

namespace {

/// `git -C Root Args...`'s first line of output, or none when it fails.
std::optional<std::string> gitLine(llvm::StringRef Git, llvm::StringRef Root,
                                   llvm::ArrayRef<llvm::StringRef> Args) {
  llvm::SmallString<128> Out;
  int FD;
  if (llvm::sys::fs::createTemporaryFile("concguard-git", "txt", FD, Out))
    return std::nullopt;
  llvm::FileRemover Remove(Out);
  if (llvm::sys::fs::closeFile(FD))
    return std::nullopt;
  std::vector<llvm::StringRef> Argv{Git, "-C", Root};
  Argv.insert(Argv.end(), Args.begin(), Args.end());
  std::optional<llvm::StringRef> Redirects[] = {
      llvm::StringRef(""), llvm::StringRef(Out), llvm::StringRef("")};
  if (llvm::sys::ExecuteAndWait(Git, Argv, /*Env=*/std::nullopt, Redirects) !=
      0)
    return std::nullopt;
  auto Buf = llvm::MemoryBuffer::getFile(Out);
  if (!Buf)
    return std::nullopt;
  llvm::StringRef Line = (*Buf)->getBuffer().split('\n').first.trim();
  if (Line.empty())
    return std::nullopt;
  return Line.str();
}

/// \p Url without the secret part of its user information: all of it for
/// http(s), where CI systems put access tokens (`https://ci-token:T@host`,
/// `https://T@host`), the password for other schemes (`ssh://git@host`
/// keeps its user name). The log is uploaded and shared; a token must not be.
std::string withoutCredentials(llvm::StringRef Url) {
  auto [Scheme, Rest] = Url.split("://");
  size_t AuthorityEnd = Rest.find_first_of("/?#");
  llvm::StringRef Authority = Rest.take_front(AuthorityEnd);
  size_t At = Authority.rfind('@');
  if (At == llvm::StringRef::npos)
    return Url.str();
  llvm::StringRef UserInfo = Authority.take_front(At);
  llvm::StringRef HostAndPath = Rest.drop_front(At + 1);
  std::string Prefix = Scheme.str() + "://";
  if (Scheme.equals_insensitive("http") || Scheme.equals_insensitive("https"))
    return Prefix + HostAndPath.str();
  return Prefix + UserInfo.split(':').first.str() + "@" + HostAndPath.str();
}

/// A remote as a URI (SARIF wants one): scp-like `user@host:path` becomes
/// `ssh://user@host/path`, a local path `file://...`; credentials are left
/// out.
std::string remoteUri(llvm::StringRef Url) {
  if (Url.contains("://"))
    return withoutCredentials(Url);
  if (llvm::sys::path::is_absolute(Url))
    return "file://" + Url.str();
  auto [Host, Path] = Url.split(':');
  if (!Path.empty() && !Host.contains('/'))
    return "ssh://" + Host.str() + "/" + Path.ltrim('/').str();
  return Url.str();
}

} // namespace

std::optional<GitProvenance> findGitProvenance(llvm::StringRef Root) {
  llvm::ErrorOr<std::string> Git = llvm::sys::findProgramByName("git");
  if (!Git)
    return std::nullopt;
  std::optional<std::string> TopLevel =
      gitLine(*Git, Root, {"rev-parse", "--show-toplevel"});
  std::optional<std::string> Revision =
      gitLine(*Git, Root, {"rev-parse", "HEAD"});
  if (!TopLevel || !Revision)
    return std::nullopt;
  GitProvenance P;
  P.RevisionId = *Revision;
  if (std::optional<std::string> Url =
          gitLine(*Git, Root, {"remote", "get-url", "origin"}))
    P.RepositoryUri = remoteUri(*Url);
  else
    P.RepositoryUri = "file://" + *TopLevel;
  if (std::optional<std::string> Branch =
          gitLine(*Git, Root, {"symbolic-ref", "--short", "-q", "HEAD"}))
    P.Branch = *Branch;
  llvm::SmallString<256> RealTop, RealRoot;
  P.RootIsTopLevel = !llvm::sys::fs::real_path(*TopLevel, RealTop) &&
                     !llvm::sys::fs::real_path(Root, RealRoot) &&
                     RealTop == RealRoot;
  return P;
}

} // namespace concguard::audit
