// The model of the credentials file: which real key the proxy puts on a workload's calls to a
// provider, and what happens when there is none. Format and rules: docs/credentials.md.
#pragma once

#include <string>

#include "credentials/secret_string.h"

namespace shadowai {

// What the proxy does with a call from an enforced workload that no managed key covers.
enum class CredentialMode {
  kPassThrough,     // the client's own credential goes upstream unchanged
  kRequireManaged,  // the call is refused with a 403 in the provider's error shape
};

// "pass-through", "require-managed": the spelling of the credentials file.
const char* toString(CredentialMode mode);

// Which workloads a key is for. A unit selector is exact; a cgroup selector covers that cgroup and
// everything below it.
struct KeySelector {
  enum class Kind { kProviderWide, kCgroup, kUnit };
  Kind kind = Kind::kProviderWide;
  std::string value;  // the cgroup path or the unit name; empty when provider-wide

  // "provider-wide", "cgroup /system.slice/x.service", "unit x.service"
  std::string describe() const;
  bool operator==(const KeySelector&) const = default;
};

struct ManagedKey {
  std::string providerId;  // a catalog endpoint id: "openai", "anthropic", "google-gemini"
  KeySelector selector;
  std::string label;  // the operator's name for the key, for alerts; "" when not given
  std::string source;  // where it was defined: "/etc/shadowai/credentials.json: /keys/2"
  SecretString key;

  // "openai key \"billing\" for unit x.service <secret sha256:0123456789ab>": never the key.
  std::string describe() const;
};

}  // namespace shadowai
