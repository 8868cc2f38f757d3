#include "catalog/catalog_parser.h"

#include <algorithm>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "catalog/host_pattern.h"
#include "common/json_document.h"

namespace shadowai {
namespace {

using Json = nlohmann::json;

// Lower-case identifiers: provider ids and API families, used as journald field values and keys.
bool isIdentifier(std::string_view text) {
  if (text.empty() || text.front() == '-' || text.back() == '-') return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool isEnvName(std::string_view text) {
  if (text.empty() || (text.front() >= '0' && text.front() <= '9')) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

class DocumentReader : public JsonSchemaReader {
 public:
  explicit DocumentReader(const std::string& sourceName) : JsonSchemaReader(sourceName) {}

  Result<std::vector<ParsedEntry>> read(const Json& document) {
    if (!document.is_object()) return fail("", "expected a JSON object");
    if (auto known = checkKnownFields(document, "", {"schema", "version", "comment", "endpoints"}); !known) {
      return known.error();
    }
    if (!document.contains("schema")) return fail("", "missing \"schema\"");
    const Json& schema = document["schema"];
    if (!schema.is_number_integer() || schema.get<int64_t>() != kCatalogSchemaVersion) {
      return fail("/schema", "unsupported schema (this build reads schema " +
                                 std::to_string(kCatalogSchemaVersion) + ")");
    }
    if (document.contains("version") && !document["version"].is_string()) {
      return fail("/version", "expected a string");
    }
    if (auto comment = checkComment(document, ""); !comment) return comment.error();
    if (!document.contains("endpoints")) return fail("", "missing \"endpoints\"");
    const Json& endpoints = document["endpoints"];
    if (!endpoints.is_array()) return fail("/endpoints", "expected an array");

    std::vector<ParsedEntry> entries;
    entries.reserve(endpoints.size());
    for (size_t i = 0; i < endpoints.size(); ++i) {
      auto entry = readEntry(endpoints[i], childPointer("/endpoints", i));
      if (!entry) return entry.error();
      entries.push_back(std::move(entry.value()));
    }
    return entries;
  }

 private:
  Error fail(const std::string& pointer, std::string_view message) const override {
    return catalogSchemaError(sourceName_, pointer, message);
  }



  // An optional non-empty string field; "" when absent.
  Result<std::string> optionalString(const Json& object, const std::string& pointer, const char* key) const {
    if (!object.contains(key)) return std::string();
    const Json& value = object[key];
    if (!value.is_string()) return fail(childPointer(pointer, key), "expected a string");
    if (value.get_ref<const std::string&>().empty()) return fail(childPointer(pointer, key), "must not be empty");
    return value.get<std::string>();
  }

  Result<ParsedEntry> readEntry(const Json& object, const std::string& pointer) const {
    if (!object.is_object()) return fail(pointer, "expected an object");
    if (auto known = checkKnownFields(
            object, pointer, {"id", "name", "apiFamily", "category", "hosts", "ports", "envKeys", "comment"});
        !known) {
      return known.error();
    }
    if (auto comment = checkComment(object, pointer); !comment) return comment.error();

    ParsedEntry parsed;
    parsed.pointer = pointer;
    CatalogEntry& entry = parsed.entry;
    entry.sourceFile = sourceName_;

    if (!object.contains("id")) return fail(pointer, "missing \"id\"");
    auto id = optionalString(object, pointer, "id");
    if (!id) return id.error();
    if (!isIdentifier(*id)) return fail(pointer + "/id", "expected lower-case letters, digits and '-'");
    entry.providerId = std::move(*id);

    auto name = optionalString(object, pointer, "name");
    if (!name) return name.error();
    entry.providerName = std::move(*name);

    auto family = optionalString(object, pointer, "apiFamily");
    if (!family) return family.error();
    if (!family->empty() && !isIdentifier(*family)) {
      return fail(pointer + "/apiFamily", "expected lower-case letters, digits and '-'");
    }
    entry.apiFamily = std::move(*family);

    auto category = optionalString(object, pointer, "category");
    if (!category) return category.error();
    if (*category == "hosted") {
      parsed.category = EndpointCategory::kHosted;
    } else if (*category == "local") {
      parsed.category = EndpointCategory::kLocal;
    } else if (!category->empty()) {
      return fail(pointer + "/category", "expected \"hosted\" or \"local\"");
    }

    if (auto hosts = readHosts(object, pointer, entry); !hosts) return hosts.error();
    if (auto ports = readPorts(object, pointer, entry); !ports) return ports.error();
    if (auto envKeys = readEnvKeys(object, pointer, entry); !envKeys) return envKeys.error();
    return parsed;
  }

  Status readHosts(const Json& object, const std::string& pointer, CatalogEntry& entry) const {
    const std::string hostsPointer = pointer + "/hosts";
    if (!object.contains("hosts")) return fail(pointer, "missing \"hosts\"");
    const Json& hosts = object["hosts"];
    if (!hosts.is_array()) return fail(hostsPointer, "expected an array of host names");
    if (hosts.empty()) return fail(hostsPointer, "expected at least one host");
    for (size_t i = 0; i < hosts.size(); ++i) {
      if (!hosts[i].is_string()) return fail(childPointer(hostsPointer, i), "expected a string");
      auto pattern = parseHostPattern(hosts[i].get_ref<const std::string&>());
      if (!pattern) return fail(childPointer(hostsPointer, i), pattern.error().message);
      // Kept even when repeated, so a host's index stays its JSON index for later messages.
      entry.hosts.push_back(std::move(*pattern));
    }
    return {};
  }

  Status readPorts(const Json& object, const std::string& pointer, CatalogEntry& entry) const {
    if (!object.contains("ports")) return {};
    const std::string portsPointer = pointer + "/ports";
    const Json& ports = object["ports"];
    if (!ports.is_array()) return fail(portsPointer, "expected an array of port numbers");
    if (ports.empty()) return fail(portsPointer, "expected at least one port");
    for (size_t i = 0; i < ports.size(); ++i) {
      const Json& port = ports[i];
      if (!port.is_number_unsigned() || port.get<uint64_t>() < 1 || port.get<uint64_t>() > 65535) {
        return fail(childPointer(portsPointer, i), "expected a port number from 1 to 65535");
      }
      entry.ports.push_back(static_cast<uint16_t>(port.get<uint64_t>()));
    }
    std::sort(entry.ports.begin(), entry.ports.end());
    entry.ports.erase(std::unique(entry.ports.begin(), entry.ports.end()), entry.ports.end());
    return {};
  }

  Status readEnvKeys(const Json& object, const std::string& pointer, CatalogEntry& entry) const {
    if (!object.contains("envKeys")) return {};
    const std::string envPointer = pointer + "/envKeys";
    const Json& keys = object["envKeys"];
    if (!keys.is_array()) return fail(envPointer, "expected an array of variable names");
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!keys[i].is_string()) return fail(childPointer(envPointer, i), "expected a string");
      const auto& key = keys[i].get_ref<const std::string&>();
      if (!isEnvName(key)) return fail(childPointer(envPointer, i), "expected an environment variable name");
      if (std::find(entry.envKeys.begin(), entry.envKeys.end(), key) == entry.envKeys.end()) {
        entry.envKeys.push_back(key);
      }
    }
    return {};
  }

};

}  // namespace

Error catalogSchemaError(const std::string& sourceName, const std::string& pointer, std::string_view message) {
  return makeError(sourceName + ": " + (pointer.empty() ? std::string("top level") : pointer) + ": " +
                   std::string(message));
}

Result<std::vector<ParsedEntry>> parseCatalogDocument(std::string_view json, const std::string& sourceName) {
  auto document = parseJsonDocument(json, sourceName);
  if (!document) return document.error();
  return DocumentReader(sourceName).read(*document);
}

}  // namespace shadowai
