// parseCredentialFile on arbitrary bytes: operators write this file by hand, so every mistake must be
// an error, never a crash, and no error may quote a key. Seeds hold the marker SECRETVALUE in their
// keys; an error message that contains it is a leak.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "credentials/credential_file.h"
#include "credentials/credential_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = shadowai::parseCredentialFile(text, "fuzz.json");
  if (!file) {
    const std::string message = file.error().describe();
    if (message.empty() || message.find("SECRETVALUE") != std::string::npos) std::abort();
    if (message.find('\n') != std::string::npos) std::abort();
    return 0;
  }
  for (const shadowai::ManagedKey& key : file->keys) {
    if (key.key.empty() || key.providerId.empty()) std::abort();
    if (key.describe().find("SECRETVALUE") != std::string::npos) std::abort();
  }
  shadowai::CredentialStore store(std::move(*file), "fuzz.json");
  if (store.describe().find("SECRETVALUE") != std::string::npos) std::abort();
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
