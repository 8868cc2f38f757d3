// Parsing the credentials file (/etc/shadowai/credentials.json): the managed keys and the mode per
// provider. Format: docs/credentials.md. Errors name the source and the JSON pointer of the first bad
// value and never quote a key: a syntax error gives only the line and column, because the parser's own
// message would quote the text around the fault, which may be a key.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "credentials/managed_key.h"

namespace shadowai {

struct CredentialFile {
  CredentialMode mode = CredentialMode::kPassThrough;
  std::map<std::string, CredentialMode, std::less<>> providerModes;  // overrides of `mode`
  std::vector<ManagedKey> keys;  // in file order
};

// TEXT is the file's content; SOURCENAME prefixes every error ("/etc/shadowai/credentials.json").
// The key strings of the parsed JSON tree are wiped before it is freed; the caller wipes TEXT.
Result<CredentialFile> parseCredentialFile(std::string_view text, const std::string& sourceName);

// Lower-case letters, digits, '-', '_' and '.', 1..64 bytes: the catalog's endpoint ids.
bool isProviderId(std::string_view text);

// A systemd unit name: "name.type" with a known type, characters systemd allows, at most 255 bytes.
bool isUnitName(std::string_view text);

}  // namespace shadowai
