#include "credentials/managed_key.h"

namespace shadowai {

const char* toString(CredentialMode mode) {
  switch (mode) {
    case CredentialMode::kPassThrough:
      return "pass-through";
    case CredentialMode::kRequireManaged:
      return "require-managed";
  }
  return "unknown";
}

std::string KeySelector::describe() const {
  switch (kind) {
    case Kind::kProviderWide:
      return "provider-wide";
    case Kind::kCgroup:
      return "cgroup " + value;
    case Kind::kUnit:
      return "unit " + value;
  }
  return "unknown";
}

std::string ManagedKey::describe() const {
  std::string text = providerId + " key";
  if (!label.empty()) text += " \"" + label + "\"";
  text += selector.kind == KeySelector::Kind::kProviderWide ? " (provider-wide) " : " for " + selector.describe() + " ";
  return text + key.describe();
}

}  // namespace shadowai
