// CredentialStore: the managed keys the proxy injects into enforced workloads' LLM calls, loaded from
// a root-only file. Format, selection rules and the permission checks: docs/credentials.md.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "credentials/credential_file.h"
#include "credentials/managed_key.h"

namespace shadowai {

class CredentialStore {
 public:
  static constexpr const char* kDefaultPath = "/etc/shadowai/credentials.json";
  static constexpr size_t kMaxFileBytes = 1024 * 1024;

  // Reads PATH. It must be a regular file (a symbolic link is followed, and the file it leads to is
  // what is checked), owned by root or by the daemon's effective uid, with no permission bits for
  // group or others; else one line naming the file and what to do. A missing file is an empty store
  // in pass-through mode: installing the package must not break workloads that use their own keys.
  static Result<CredentialStore> load(const std::string& path = kDefaultPath);

  // load(), trusting files owned by TRUSTEDOWNERS instead of {root, euid}, so a test that runs as root
  // can see a foreign owner refused.
  static Result<CredentialStore> loadWithTrustedOwnersForTest(const std::string& path,
                                                              std::vector<uid_t> trustedOwners);

  // A store of an already parsed file; SOURCE is what describe() names.
  CredentialStore(CredentialFile file, std::string source);
  // An empty store: no keys, pass-through.
  CredentialStore() = default;

  // The key for a call to PROVIDERID from the workload in cgroup CGROUPPATH (from the cgroup v2 root)
  // whose systemd unit is UNITNAME ("" when none), or nullptr. The selector nearest the workload wins:
  // a cgroup selector covers its cgroup and everything below, a unit selector stands for the unit's
  // cgroup (the component of CGROUPPATH named like the unit); of two matches the deeper cgroup wins, a
  // cgroup selector beats a unit selector for the same cgroup, and a unit whose name is not in
  // CGROUPPATH beats every cgroup selector. Provider-wide keys come last.
  const ManagedKey* lookup(std::string_view providerId, std::string_view cgroupPath,
                           std::string_view unitName) const;

  // The mode for calls to PROVIDERID that no key covers: its own entry in "providers", else the file's.
  CredentialMode modeFor(std::string_view providerId) const;

  const std::vector<ManagedKey>& keys() const { return file_.keys; }
  // The provider ids the file names, sorted and unique, for the daemon to check against its catalog.
  std::vector<std::string> providerIds() const;

  // "/etc/shadowai/credentials.json: 3 keys (anthropic, openai), mode require-managed" or
  // "no credentials file (/etc/shadowai/credentials.json): no managed keys, mode pass-through". No keys.
  std::string describe() const;

 private:
  static Result<CredentialStore> loadTrusting(const std::string& path, const std::vector<uid_t>& trustedOwners);

  CredentialFile file_;
  std::string source_;
  bool fromFile_ = false;
};

}  // namespace shadowai
