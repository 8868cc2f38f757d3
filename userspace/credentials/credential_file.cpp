#include "credentials/credential_file.h"

#include <algorithm>
#include <array>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "cgroup/cgroup_path.h"
#include "common/json_document.h"

namespace shadowai {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxLabelBytes = 64;
constexpr size_t kMaxKeyBytes = 4096;

// Bytes an HTTP header value can carry without quoting and a key never needs: visible ASCII. This
// also keeps CR and LF out, so a key cannot smuggle a header into the upstream request.
bool isHeaderToken(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

bool isPrintableAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

// Wipes every "key" string of a parsed document before nlohmann frees them.
class KeyWiper {
 public:
  explicit KeyWiper(Json& document) : document_(document) {}
  ~KeyWiper() {
    if (!document_.is_object() || !document_.contains("keys") || !document_["keys"].is_array()) return;
    for (Json& entry : document_["keys"]) {
      if (entry.is_object() && entry.contains("key") && entry["key"].is_string()) {
        wipeString(entry["key"].get_ref<std::string&>());
      }
    }
  }
  KeyWiper(const KeyWiper&) = delete;
  KeyWiper& operator=(const KeyWiper&) = delete;

 private:
  Json& document_;
};

class CredentialFileReader : public JsonSchemaReader {
 public:
  // Unknown field names are withheld: a key pasted where a field name belongs would be printed.
  explicit CredentialFileReader(const std::string& sourceName)
      : JsonSchemaReader(sourceName, UnknownFieldNames::kWithheld) {}

  Result<CredentialFile> read(const Json& document) {
    CredentialFile file;
    if (!document.is_object()) return fail("", "expected a JSON object");
    if (auto known = checkKnownFields(document, "", {"comment", "schema", "mode", "providers", "keys"}); !known) {
      return known.error();
    }
    if (auto comment = checkComment(document, ""); !comment) return comment.error();
    if (document.contains("schema")) {
      const Json& schema = document["schema"];
      if (!schema.is_number_unsigned() || schema.get<uint64_t>() != 1) return fail("/schema", "expected 1");
    }
    if (!document.contains("mode")) {
      return fail("/mode", "missing: say \"require-managed\" or \"pass-through\"");
    }
    if (auto mode = readMode(document["mode"], "/mode"); mode) {
      file.mode = *mode;
    } else {
      return mode.error();
    }
    if (document.contains("providers")) {
      if (auto status = readProviders(document["providers"], file); !status) return status.error();
    }
    if (document.contains("keys")) {
      if (auto status = readKeys(document["keys"], file); !status) return status.error();
    }
    return file;
  }

 private:



  Result<CredentialMode> readMode(const Json& value, const std::string& pointer) const {
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      if (text == "require-managed") return CredentialMode::kRequireManaged;
      if (text == "pass-through") return CredentialMode::kPassThrough;
    }
    return fail(pointer, "expected \"require-managed\" or \"pass-through\"");
  }

  Status readProviders(const Json& providers, CredentialFile& file) const {
    if (!providers.is_object()) return fail("/providers", "expected an object of provider id -> settings");
    for (const auto& [providerId, settings] : providers.items()) {
      // A name that is not a provider id may be a key pasted in the wrong place: not shown. A provider
      // id is a name shadowai shows anyway (status, alerts), so errors below point at it.
      if (!isProviderId(providerId)) {
        return fail("/providers", "a name is not a provider id like \"openai\" (lower-case letters, digits, '-', "
                                  "'_', '.'; the name is withheld: the file holds keys)");
      }
      const std::string pointer = childPointer("/providers", providerId);
      if (!settings.is_object()) return fail(pointer, "expected an object");
      if (auto known = checkKnownFields(settings, pointer, {"comment", "mode"}); !known) return known.error();
      if (auto comment = checkComment(settings, pointer); !comment) return comment.error();
      if (!settings.contains("mode")) return fail(childPointer(pointer, "mode"), "missing");
      auto mode = readMode(settings["mode"], childPointer(pointer, "mode"));
      if (!mode) return mode.error();
      file.providerModes.emplace(providerId, *mode);
    }
    return {};
  }

  Status readKeys(const Json& keys, CredentialFile& file) const {
    if (!keys.is_array()) return fail("/keys", "expected an array of keys");
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::string pointer = childPointer("/keys", i);
      ManagedKey key;
      if (auto status = readKey(keys[i], pointer, key); !status) return status.error();
      for (size_t earlier = 0; earlier < file.keys.size(); ++earlier) {
        if (file.keys[earlier].providerId == key.providerId && file.keys[earlier].selector == key.selector) {
          return fail(pointer, "same provider and selector as /keys/" + std::to_string(earlier));
        }
      }
      file.keys.push_back(std::move(key));
    }
    return {};
  }

  Status readKey(const Json& entry, const std::string& pointer, ManagedKey& out) const {
    if (!entry.is_object()) return fail(pointer, "expected an object");
    if (auto known = checkKnownFields(entry, pointer, {"comment", "provider", "key", "label", "selector"}); !known) {
      return known.error();
    }
    if (auto comment = checkComment(entry, pointer); !comment) return comment.error();

    const std::string providerPointer = childPointer(pointer, "provider");
    if (!entry.contains("provider")) return fail(providerPointer, "missing");
    if (!entry["provider"].is_string() || !isProviderId(entry["provider"].get_ref<const std::string&>())) {
      return fail(providerPointer, "expected a provider id like \"openai\" (lower-case letters, digits, '-', '_', '.')");
    }
    out.providerId = entry["provider"].get<std::string>();

    // The messages about the key say what is wrong with it in general terms, never what it holds.
    const std::string keyPointer = childPointer(pointer, "key");
    if (!entry.contains("key")) return fail(keyPointer, "missing");
    const Json& key = entry["key"];
    if (!key.is_string()) return fail(keyPointer, "expected a string");
    const auto& keyText = key.get_ref<const std::string&>();
    if (keyText.empty()) return fail(keyPointer, "is empty");
    if (keyText.size() > kMaxKeyBytes) return fail(keyPointer, "longer than 4096 bytes");
    if (!isHeaderToken(keyText)) {
      return fail(keyPointer, "holds a space, a control byte or a non-ASCII byte (keys are visible ASCII)");
    }
    out.key = SecretString(keyText);

    if (entry.contains("label")) {
      const Json& label = entry["label"];
      if (!label.is_string() || label.get_ref<const std::string&>().size() > kMaxLabelBytes ||
          !isPrintableAscii(label.get_ref<const std::string&>())) {
        return fail(childPointer(pointer, "label"), "expected printable ASCII text of at most 64 bytes");
      }
      out.label = label.get<std::string>();
    }

    if (entry.contains("selector")) {
      if (auto status = readSelector(entry["selector"], childPointer(pointer, "selector"), out.selector); !status) {
        return status.error();
      }
    }
    out.source = sourceName_ + ": " + pointer;
    return {};
  }

  Status readSelector(const Json& selector, const std::string& pointer, KeySelector& out) const {
    static constexpr const char* kExpected = "expected {\"cgroup\": PATH} or {\"unit\": NAME}";
    if (!selector.is_object()) return fail(pointer, kExpected);
    if (auto known = checkKnownFields(selector, pointer, {"cgroup", "unit"}); !known) return known.error();
    if (selector.size() != 1) return fail(pointer, kExpected);
    if (selector.contains("cgroup")) {
      const Json& path = selector["cgroup"];
      if (!path.is_string() || !isCanonicalCgroupPath(path.get_ref<const std::string&>())) {
        return fail(childPointer(pointer, "cgroup"),
                    "expected a cgroup path from the cgroup v2 root, like \"/system.slice/x.service\"");
      }
      out = KeySelector{KeySelector::Kind::kCgroup, path.get<std::string>()};
      return {};
    }
    const Json& unit = selector["unit"];
    if (!unit.is_string() || !isUnitName(unit.get_ref<const std::string&>())) {
      return fail(childPointer(pointer, "unit"), "expected a systemd unit name, like \"billing-etl.service\"");
    }
    out = KeySelector{KeySelector::Kind::kUnit, unit.get<std::string>()};
    return {};
  }

};

// "SOURCE:LINE:COLUMN" of a parseJsonDocument error, or SOURCE when it has no position.
std::string syntaxErrorLocation(const std::string& message, const std::string& sourceName) {
  if (!message.starts_with(sourceName + ":")) return sourceName;
  std::string_view rest = std::string_view(message).substr(sourceName.size() + 1);
  auto digitsAt = [rest](size_t start) {
    size_t end = start;
    while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9') ++end;
    return end - start;
  };
  size_t lineDigits = digitsAt(0);
  if (lineDigits == 0 || lineDigits >= rest.size() || rest[lineDigits] != ':') return sourceName;
  size_t columnDigits = digitsAt(lineDigits + 1);
  if (columnDigits == 0) return sourceName;
  return sourceName + ":" + std::string(rest.substr(0, lineDigits + 1 + columnDigits));
}

}  // namespace

bool isProviderId(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

bool isUnitName(std::string_view text) {
  static constexpr std::array<std::string_view, 11> kTypes = {".service", ".socket", ".device", ".mount",
                                                              ".automount", ".swap", ".target", ".path",
                                                              ".timer", ".slice", ".scope"};
  if (text.size() > 255) return false;
  bool typed = std::any_of(kTypes.begin(), kTypes.end(),
                           [text](std::string_view type) { return text.size() > type.size() && text.ends_with(type); });
  if (!typed) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '-' ||
           c == '_' || c == '.' || c == '\\' || c == '@';
  });
}

Result<CredentialFile> parseCredentialFile(std::string_view text, const std::string& sourceName) {
  auto document = parseJsonDocument(text, sourceName);
  if (!document) {
    // The library's message quotes the bytes it stopped at; in this file those may be a key.
    return makeError(syntaxErrorLocation(document.error().message, sourceName) +
                     ": not valid JSON (details withheld: the file holds keys)");
  }
  KeyWiper wiper(*document);
  return CredentialFileReader(sourceName).read(*document);
}

}  // namespace shadowai
