// parseCredentialFile on arbitrary bytes: operators write this file by hand, so every mistake must be
// an error, never a crash, and no error may quote a key. Seeds hold the marker SECRETVALUE in their
// keys; an error message that contains it is a leak, and so is a key's description that shows it
// when the operator's own names for the key (provider, label, selector) do not hold it.
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {
bool holdsMarker(std::string_view text) { return text.find("SECRETVALUE") != std::string_view::npos; }
}  // namespace

#include "credentials/credential_file.h"
#include "credentials/credential_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = shadowai::parseCredentialFile(text, "fuzz.json");
  if (!file) {
    const std::string message = file.error().describe();
    if (message.empty() || holdsMarker(message)) std::abort();
    if (message.find('\n') != std::string::npos) std::abort();
    return 0;
  }
  for (const shadowai::ManagedKey& key : file->keys) {
    if (key.key.empty() || key.providerId.empty()) std::abort();
    bool namedWithMarker = holdsMarker(key.providerId) || holdsMarker(key.label) || holdsMarker(key.selector.value);
    if (!namedWithMarker && holdsMarker(key.describe())) std::abort();
  }
  shadowai::CredentialStore store(std::move(*file), "fuzz.json");
  bool providerWithMarker = false;
  for (const shadowai::ManagedKey& key : store.keys()) providerWithMarker = providerWithMarker || holdsMarker(key.providerId);
  if (!providerWithMarker && holdsMarker(store.describe())) std::abort();
  for (const shadowai::ManagedKey& key : store.keys()) {
    const shadowai::ManagedKey* found = store.lookup(key.providerId, key.selector.kind == shadowai::KeySelector::Kind::kCgroup
                                                                         ? key.selector.value
                                                                         : "/a/b",
                                                     key.selector.kind == shadowai::KeySelector::Kind::kUnit
                                                         ? key.selector.value
                                                         : "");
    if (found == nullptr) std::abort();  // a key always covers the workload its own selector names
  }
  return 0;
}
