#include "catalog/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "common/file_util.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kShippedFile = std::string(SHADOWAI_SOURCE_RULES_DIR) + "/endpoints.json";
const std::string kDataDir = std::string(SHADOWAI_TEST_DATA_DIR) + "/catalog";

// A directory of its own under the test temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = testing::TempDir() + "catalog_test.XXXXXX";
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << content;
    return file;
  }

 private:
  std::string path_;
};

// A one-entry catalog document, for tests about a single field.
std::string document(const std::string& endpoints) {
  return R"({"schema": 1, "endpoints": [)" + endpoints + "]}";
}

Catalog parseOrDie(const std::string& json) {
  auto catalog = Catalog::parse(json, "test.json");
  if (!catalog) ADD_FAILURE() << catalog.error().describe();
  return catalog ? std::move(catalog).value() : Catalog();
}

std::string parseError(const std::string& json) {
  auto catalog = Catalog::parse(json, "test.json");
  if (catalog) return "(parsed without error)";
  return catalog.error().describe();
}

std::string loadError(const std::string& shipped, const std::vector<std::string>& extraDirs = {}) {
  auto catalog = Catalog::load(shipped, extraDirs);
  if (catalog) return "(loaded without error)";
  return catalog.error().describe();
}

// The provider id a host:port matches, or "" for no match.
std::string providerOf(const Catalog& catalog, std::string_view host, uint16_t port = 443) {
  auto match = catalog.matchHost(host, port);
  return match ? match->entry->providerId : "";
}

// --- the shipped catalog -------------------------------------------------------------------------

TEST(ShippedCatalog, LoadsWithAtLeast30HostedProvidersWithUniqueIds) {
  auto catalog = Catalog::load(kShippedFile, {});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  std::set<std::string> ids;
  size_t hosted = 0;
  for (const CatalogEntry& entry : catalog->entries()) {
    EXPECT_TRUE(ids.insert(entry.providerId).second) << "duplicate id " << entry.providerId;
    EXPECT_FALSE(entry.providerName.empty()) << entry.providerId;
    EXPECT_FALSE(entry.apiFamily.empty()) << entry.providerId;
    EXPECT_FALSE(entry.ports.empty()) << entry.providerId;
    EXPECT_EQ(entry.sourceFile, kShippedFile);
    if (entry.category == EndpointCategory::kHosted) ++hosted;
  }
  EXPECT_GE(hosted, 30u);
}

// The scan examples in README.md and docs/quickstart.md show the heading shadowai-scan prints with
// the shipped catalog ("catalog of N providers"): N is its number of provider ids.
TEST(ShippedCatalog, ScanExamplesInTheDocsShowItsProviderCount) {
  auto catalog = Catalog::load(kShippedFile, {});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  std::set<std::string> ids;
  for (const CatalogEntry& entry : catalog->entries()) ids.insert(entry.providerId);
  const std::string expected = "catalog of " + std::to_string(ids.size()) + " providers";
  for (const char* doc : {"README.md", "docs/quickstart.md"}) {
    auto text = readFile(std::string(SHADOWAI_SOURCE_DIR) + "/" + doc);
    ASSERT_TRUE(text) << text.error().describe();
    size_t shown = 0;
    for (size_t at = text->find("catalog of "); at != std::string::npos; at = text->find("catalog of ", at + 1)) {
      const size_t end = text->find(" providers", at);
      if (end == std::string::npos || end - at > 16) continue;  // prose, not the heading
      ++shown;
      EXPECT_EQ(text->substr(at, end + 10 - at), expected) << doc;
    }
    EXPECT_GE(shown, 1u) << doc << " has no scan example heading";
  }
}

TEST(ShippedCatalog, HasTheProvidersOthersRelyOn) {
  auto catalog = Catalog::load(kShippedFile, {});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  std::set<std::string> ids;
  for (const CatalogEntry& entry : catalog->entries()) ids.insert(entry.providerId);
  for (const char* id : {"openai", "azure-openai", "anthropic", "google-gemini", "google-vertex-ai", "aws-bedrock",
                         "mistral", "cohere", "groq", "together", "deepseek", "openrouter", "perplexity", "xai",
                         "fireworks", "huggingface", "replicate", "ai21", "voyage", "cerebras", "deepinfra",
                         "ollama"}) {
    EXPECT_THAT(ids, Contains(id));
  }
}

// Read as plain JSON: "comment" is documentation, not something the Catalog keeps.
TEST(ShippedCatalog, EveryHostedEntryHasAnEnvKeyOrSaysWhyNot) {
  auto text = readFile(kShippedFile);
  ASSERT_TRUE(text) << text.error().describe();
  auto document = nlohmann::json::parse(*text);
  for (const auto& entry : document["endpoints"]) {
    if (entry.value("category", "hosted") != "hosted") continue;
    bool hasKey = entry.contains("envKeys") && !entry["envKeys"].empty();
    bool hasComment = entry.contains("comment");
    EXPECT_TRUE(hasKey || hasComment) << entry["id"];
  }
}

TEST(ShippedCatalog, MatchesWellKnownEndpoints) {
  auto catalog = Catalog::load(kShippedFile, {});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  EXPECT_EQ(providerOf(*catalog, "api.openai.com"), "openai");
  EXPECT_EQ(providerOf(*catalog, "myres.openai.azure.com"), "azure-openai");
  EXPECT_EQ(providerOf(*catalog, "openai.azure.com"), "");
  EXPECT_EQ(providerOf(*catalog, "api.anthropic.com"), "anthropic");
  EXPECT_EQ(providerOf(*catalog, "generativelanguage.googleapis.com"), "google-gemini");
  EXPECT_EQ(providerOf(*catalog, "us-central1-aiplatform.googleapis.com"), "google-vertex-ai");
  EXPECT_EQ(providerOf(*catalog, "bedrock-runtime.us-east-1.amazonaws.com"), "aws-bedrock");
  EXPECT_EQ(providerOf(*catalog, "s3.us-east-1.amazonaws.com"), "");
  EXPECT_EQ(providerOf(*catalog, "integrate.api.nvidia.com"), "nvidia-nim");
  EXPECT_EQ(providerOf(*catalog, "www.googleapis.com"), "");
}

TEST(ShippedCatalog, MapsKeyVariablesToProviders) {
  auto catalog = Catalog::load(kShippedFile, {});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  const auto& keys = catalog->envKeys();
  ASSERT_TRUE(keys.contains("GOOGLE_API_KEY"));
  EXPECT_THAT(keys.at("GOOGLE_API_KEY"), ElementsAre("google-gemini", "google-vertex-ai"));
  EXPECT_THAT(keys.at("OPENAI_API_KEY"), ElementsAre("openai"));
  EXPECT_THAT(keys.at("CO_API_KEY"), ElementsAre("cohere"));
  EXPECT_THAT(keys.at("HF_TOKEN"), ElementsAre("huggingface"));
  EXPECT_THAT(keys.at("AZURE_OPENAI_API_KEY"), ElementsAre("azure-openai"));
}

TEST(ShippedCatalog, LocalServersMatchByDistinctivePortsOnly) {
  auto catalog = Catalog::load(kShippedFile, {});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  auto ollama = catalog->matchPortOnly(11434);
  ASSERT_TRUE(ollama);
  EXPECT_EQ(ollama->entry->providerId, "ollama");
  EXPECT_EQ(ollama->entry->category, EndpointCategory::kLocal);
  EXPECT_EQ(ollama->pattern, "*");
  // Shared with every development web server; see the catalog's comment.
  EXPECT_FALSE(catalog->matchPortOnly(8000));
  EXPECT_FALSE(catalog->matchPortOnly(8080));
  EXPECT_FALSE(catalog->matchPortOnly(443));
}

TEST(ShippedCatalog, ListsPortsAndExactHosts) {
  auto catalog = Catalog::load(kShippedFile, {});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  auto ports = catalog->ports();
  EXPECT_TRUE(std::is_sorted(ports.begin(), ports.end()));
  EXPECT_EQ(std::adjacent_find(ports.begin(), ports.end()), ports.end());
  EXPECT_THAT(ports, Contains(443));
  EXPECT_THAT(ports, Contains(11434));

  auto hosts = catalog->exactHosts();
  EXPECT_TRUE(std::is_sorted(hosts.begin(), hosts.end()));
  EXPECT_THAT(hosts, Contains("api.openai.com"));
  for (const std::string& host : hosts) EXPECT_EQ(host.find('*'), std::string::npos) << host;
}

TEST(ShippedCatalog, DefaultLocations) {
  EXPECT_THAT(Catalog::defaultShippedFile(), testing::EndsWith("/endpoints.json"));
  EXPECT_TRUE(fs::exists(Catalog::defaultShippedFile()));
  EXPECT_EQ(Catalog::defaultExtraDir(), "/etc/shadowai/endpoints.d");
}

// --- matching ------------------------------------------------------------------------------------

const std::string kMatchingCatalog = document(R"(
  {"id": "azure", "name": "Azure", "apiFamily": "azure-openai", "hosts": ["*.openai.azure.com"]},
  {"id": "special", "name": "Special", "apiFamily": "openai-chat", "hosts": ["x.example.com"]},
  {"id": "generic", "name": "Generic", "apiFamily": "openai-chat", "hosts": ["*.example.com"]},
  {"id": "regional", "name": "Regional", "apiFamily": "openai-chat", "hosts": ["*.eu.example.com"]},
  {"id": "alt-port", "name": "Alt port", "apiFamily": "openai-chat", "hosts": ["*.example.org"], "ports": [8443]},
  {"id": "exact-443", "name": "Exact 443", "apiFamily": "openai-chat", "hosts": ["api.example.org"]},
  {"id": "openai", "name": "OpenAI", "apiFamily": "openai-chat", "hosts": ["API.OpenAI.com."]}
)");

TEST(CatalogMatch, WildcardMatchesSubdomainsOnly) {
  Catalog catalog = parseOrDie(kMatchingCatalog);
  auto match = catalog.matchHost("myres.openai.azure.com", 443);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->entry->providerId, "azure");
  EXPECT_EQ(match->pattern, "*.openai.azure.com");
  EXPECT_EQ(providerOf(catalog, "a.b.openai.azure.com"), "azure");  // one or more labels
  EXPECT_EQ(providerOf(catalog, "openai.azure.com"), "");           // not the bare parent
  EXPECT_EQ(providerOf(catalog, "evilopenai.azure.com"), "");       // not without a dot boundary
  EXPECT_EQ(providerOf(catalog, "myres.openai.azure.com.evil.net"), "");
  EXPECT_EQ(providerOf(catalog, "azure.com"), "");
}

TEST(CatalogMatch, IgnoresCaseAndTrailingDot) {
  Catalog catalog = parseOrDie(kMatchingCatalog);
  EXPECT_EQ(providerOf(catalog, "api.openai.com"), "openai");  // pattern was written "API.OpenAI.com."
  EXPECT_EQ(providerOf(catalog, "Api.OpenAI.COM."), "openai");
  EXPECT_EQ(providerOf(catalog, "MyRes.OpenAI.Azure.Com."), "azure");
  EXPECT_EQ(catalog.matchHost("API.OPENAI.COM", 443)->pattern, "api.openai.com");
}

TEST(CatalogMatch, PortMustBeOneOfTheEntrysPorts) {
  Catalog catalog = parseOrDie(kMatchingCatalog);
  EXPECT_EQ(providerOf(catalog, "api.openai.com", 443), "openai");
  EXPECT_EQ(providerOf(catalog, "api.openai.com", 80), "");
  EXPECT_EQ(providerOf(catalog, "a.example.org", 8443), "alt-port");
  EXPECT_EQ(providerOf(catalog, "a.example.org", 443), "");
  // The exact name does not hold 8443, so the wildcard that does wins there.
  EXPECT_EQ(providerOf(catalog, "api.example.org", 443), "exact-443");
  EXPECT_EQ(providerOf(catalog, "api.example.org", 8443), "alt-port");
}

TEST(CatalogMatch, ExactBeatsWildcardAndLongerWildcardBeatsShorter) {
  Catalog catalog = parseOrDie(kMatchingCatalog);
  EXPECT_EQ(providerOf(catalog, "x.example.com"), "special");
  EXPECT_EQ(providerOf(catalog, "y.example.com"), "generic");
  EXPECT_EQ(providerOf(catalog, "y.eu.example.com"), "regional");
  EXPECT_EQ(providerOf(catalog, "eu.example.com"), "generic");
}

TEST(CatalogMatch, GarbageNamesNeverMatch) {
  Catalog catalog = parseOrDie(kMatchingCatalog);
  for (const char* host : {"", ".", "..", "*", "*.openai.azure.com", ".openai.azure.com", "a..openai.azure.com",
                           "a b.openai.azure.com", "a.openai.azure.com..", "api.openai.com\n"}) {
    EXPECT_EQ(providerOf(catalog, host), "") << '"' << host << '"';
  }
  EXPECT_EQ(providerOf(catalog, std::string(250, 'a') + ".openai.azure.com"), "");
  EXPECT_FALSE(catalog.matchPortOnly(443));
}

TEST(CatalogMatch, AnyHostEntriesMatchByPortAlone) {
  Catalog catalog = parseOrDie(document(R"(
    {"id": "ollama", "name": "Ollama", "apiFamily": "ollama", "category": "local", "hosts": ["*"], "ports": [11434]},
    {"id": "box", "name": "Box", "apiFamily": "openai-chat", "category": "local", "hosts": ["box.lan"],
     "ports": [8000]}
  )"));
  EXPECT_EQ(catalog.matchPortOnly(11434)->entry->providerId, "ollama");
  EXPECT_FALSE(catalog.matchPortOnly(8000));  // named local hosts are matched by name
  EXPECT_EQ(providerOf(catalog, "box.lan", 8000), "box");
  EXPECT_EQ(providerOf(catalog, "anything.example.com", 11434), "");
  EXPECT_THAT(catalog.ports(), ElementsAre(8000, 11434));
  EXPECT_TRUE(catalog.exactHosts().empty());  // local names are not pre-resolved
}

// --- extra directories ---------------------------------------------------------------------------

TEST(CatalogLoad, ExtraDirectoryAddsProvidersAndHosts) {
  auto catalog = Catalog::load(kShippedFile, {kDataDir + "/extra"});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  auto shipped = Catalog::load(kShippedFile, {});
  ASSERT_TRUE(shipped);
  EXPECT_EQ(catalog->size(), shipped->size() + 3);

  auto gateway = catalog->matchHost("llm-gateway.corp.example", 8443);
  ASSERT_TRUE(gateway);
  EXPECT_EQ(gateway->entry->providerId, "corp-llm-gateway");
  EXPECT_EQ(gateway->entry->sourceFile, kDataDir + "/extra/10-corp-gateway.json");

  // A second entry of a shipped provider adds a host and inherits name, family and port.
  auto egress = catalog->matchHost("openai-egress.corp.example", 443);
  ASSERT_TRUE(egress);
  EXPECT_EQ(egress->entry->providerId, "openai");
  EXPECT_EQ(egress->entry->providerName, "OpenAI");
  EXPECT_EQ(egress->entry->apiFamily, "openai-chat");
  EXPECT_EQ(providerOf(*catalog, "api.openai.com"), "openai");

  EXPECT_EQ(providerOf(*catalog, "gpu-box.corp.example", 8000), "vllm");
  EXPECT_THAT(catalog->envKeys().at("OPENAI_API_KEY"), ElementsAre("corp-llm-gateway", "openai"));
  EXPECT_THAT(catalog->envKeys().at("CORP_LLM_KEY"), ElementsAre("corp-llm-gateway"));
  EXPECT_THAT(catalog->ports(), Contains(8443));
}

TEST(CatalogLoad, SkipsHiddenFilesOtherNamesAndDirectories) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  dir.write(".#10-lock.json", "{ an editor's lock file");
  dir.write(".20-hidden.json", "{ hidden");
  dir.write("30-notes.txt", "{ not json");
  ASSERT_TRUE(fs::create_directory(dir.path() + "/40-sub.json"));
  dir.write("50-real.json", document(R"({"id": "real", "name": "Real", "apiFamily": "f", "hosts": ["r.example"]})"));
  auto catalog = Catalog::load(kShippedFile, {dir.path()});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  EXPECT_EQ(providerOf(*catalog, "r.example"), "real");
}

TEST(CatalogLoad, MissingExtraDirectoryIsFine) {
  auto catalog = Catalog::load(kShippedFile, {kDataDir + "/no-such-directory"});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  EXPECT_EQ(providerOf(*catalog, "api.openai.com"), "openai");
}

// The packages install rules/endpoints.d/ as /etc/shadowai/endpoints.d/, a conffile for the host's
// own additions: shipped empty, it must load and change nothing.
TEST(CatalogLoad, ShippedLocalAdditionsFileLoadsAndAddsNothing) {
  auto alone = Catalog::load(kShippedFile, {});
  auto withLocal = Catalog::load(kShippedFile, {SHADOWAI_SOURCE_RULES_DIR "/endpoints.d"});
  ASSERT_TRUE(alone) << alone.error().describe();
  ASSERT_TRUE(withLocal) << withLocal.error().describe();
  EXPECT_EQ(withLocal->exactHosts().size(), alone->exactHosts().size());
  EXPECT_EQ(providerOf(*withLocal, "api.openai.com"), "openai");
}

TEST(CatalogLoad, MissingShippedFileIsAnError) {
  EXPECT_THAT(loadError(kDataDir + "/no-such-file.json"),
              StartsWith("cannot open " + kDataDir + "/no-such-file.json: "));
}

TEST(CatalogLoad, ExtraFilesAreReadInNameOrder) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  // File k extends provider k-1 without naming it, which only works once file k-1 is loaded: the
  // load succeeds only in name order, whatever order readdir returns (written here in reverse).
  constexpr int kFiles = 8;
  for (int k = kFiles - 1; k >= 0; --k) {
    std::string entries = R"({"id": "p)" + std::to_string(k) + R"(", "name": "P", "apiFamily": "f", "hosts": ["p)" +
                          std::to_string(k) + R"(.example.com"]})";
    if (k > 0) entries += R"(, {"id": "p)" + std::to_string(k - 1) + R"(", "hosts": ["more)" + std::to_string(k) +
                          R"(.example.com"]})";
    dir.write("1" + std::to_string(k) + "-chain.json", document(entries));
  }
  auto catalog = Catalog::load(kShippedFile, {dir.path()});
  ASSERT_TRUE(catalog) << catalog.error().describe();
  EXPECT_EQ(providerOf(*catalog, "more7.example.com"), "p6");
}

TEST(CatalogLoad, BadFileInExtraDirectoryIsNamed) {
  EXPECT_EQ(loadError(kShippedFile, {kDataDir + "/extra_bad"}),
            kDataDir + "/extra_bad/20-bad.json: /endpoints/0/ports/0: expected a port number from 1 to 65535");
}

TEST(CatalogLoad, DanglingLinkInExtraDirectoryIsAnError) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_EQ(::symlink("/nonexistent/target.json", (dir.path() + "/10-link.json").c_str()), 0);
  EXPECT_THAT(loadError(kShippedFile, {dir.path()}), StartsWith("cannot open " + dir.path() + "/10-link.json: "));
}

TEST(CatalogLoad, ExtraDirectoryThatIsAFileIsAnError) {
  EXPECT_EQ(loadError(kShippedFile, {kDataDir + "/bad_syntax.json"}),
            kDataDir + "/bad_syntax.json is not a directory");
}

TEST(CatalogLoad, ProviderCannotClaimAnotherProvidersHost) {
  EXPECT_EQ(loadError(kShippedFile, {kDataDir + "/extra_conflict"}),
            kDataDir + "/extra_conflict/10-steal-openai.json: /endpoints/0/hosts/1: \"api.openai.com\" port 443 " +
                "already belongs to provider \"openai\" (" + kShippedFile + ")");
}

// --- bad documents -------------------------------------------------------------------------------

TEST(CatalogErrors, SyntaxErrorNamesFileLineAndColumn) {
  // Line 4 is `    { "id": "x" "name": ...`: the parser stops at the second string, which ends at column 22.
  std::string error = loadError(kDataDir + "/bad_syntax.json");
  EXPECT_THAT(error, StartsWith(kDataDir + "/bad_syntax.json:4:22: "));
  EXPECT_THAT(error, HasSubstr("syntax error"));
  EXPECT_THAT(error, Not(HasSubstr("json.exception")));
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST(CatalogErrors, SyntaxErrorOnFirstLineAndAtEnd) {
  EXPECT_THAT(parseError("{,"), StartsWith("test.json:1:2: "));
  EXPECT_THAT(parseError("{\n  \"schema\": 1,\n"), StartsWith("test.json:3:1: "));
  EXPECT_THAT(parseError(""), StartsWith("test.json:1:1: "));
}

TEST(CatalogErrors, SyntaxErrorMessageIsOnePrintableLine) {
  std::string error = parseError("{\"schema\": 1, \"endpoints\": [\"\xff\n\"]}");
  EXPECT_THAT(error, StartsWith("test.json:1:"));
  EXPECT_THAT(error, HasSubstr("\\xff"));
  EXPECT_TRUE(std::all_of(error.begin(), error.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) << error;
}

// The library reports these while building the value, not while parsing, and without a position.
TEST(CatalogErrors, NumberTooLargeIsAnErrorWithAPosition) {
  EXPECT_EQ(parseError("{\"schema\": 1,\n \"endpoints\": [1e999]}"),
            "test.json:2:16: number overflow parsing '1e999'");
}

TEST(CatalogErrors, SchemaErrorsNameTheJsonPointer) {
  EXPECT_EQ(loadError(kDataDir + "/bad_host_type.json"),
            kDataDir + "/bad_host_type.json: /endpoints/3/hosts/0: expected a string");
  EXPECT_EQ(loadError(kDataDir + "/bad_ports_type.json"),
            kDataDir + "/bad_ports_type.json: /endpoints/0/ports: expected an array of port numbers");
  EXPECT_EQ(loadError(kDataDir + "/bad_port_zero.json"),
            kDataDir + "/bad_port_zero.json: /endpoints/0/ports/1: expected a port number from 1 to 65535");
  EXPECT_EQ(loadError(kDataDir + "/bad_port_too_big.json"),
            kDataDir + "/bad_port_too_big.json: /endpoints/0/ports/0: expected a port number from 1 to 65535");
  EXPECT_EQ(loadError(kDataDir + "/bad_empty_host.json"),
            kDataDir + "/bad_empty_host.json: /endpoints/0/hosts/1: empty host");
}

TEST(CatalogErrors, PortsMustBeWholeNumbersInRange) {
  const std::string entry = R"({"id": "a", "name": "A", "apiFamily": "f", "hosts": ["a.example.com"], "ports": )";
  for (const char* ports : {"[-1]", "[443.5]", "[\"443\"]", "[1e10]", "[true]", "[null]"}) {
    EXPECT_EQ(parseError(document(entry + ports + "}")),
              "test.json: /endpoints/0/ports/0: expected a port number from 1 to 65535")
        << ports;
  }
  EXPECT_EQ(parseError(document(entry + "[]}")), "test.json: /endpoints/0/ports: expected at least one port");
  EXPECT_EQ(providerOf(parseOrDie(document(entry + "[1, 65535]}")), "a.example.com", 65535), "a");
}

TEST(CatalogErrors, HostPatternsAreChecked) {
  auto hostError = [](const std::string& host) {
    return parseError(document(R"({"id": "a", "name": "A", "apiFamily": "f", "hosts": [")" + host + R"("]})"));
  };
  const std::string where = "test.json: /endpoints/0/hosts/0: ";
  EXPECT_EQ(hostError(""), where + "empty host");
  EXPECT_EQ(hostError("*.com"), where + "a wildcard needs at least two labels after \"*.\"");
  EXPECT_EQ(hostError("api.*.example.com"), where + "'*' is only allowed as \"*\" or as a leading \"*.\"");
  EXPECT_EQ(hostError("**.example.com"), where + "'*' is only allowed as \"*\" or as a leading \"*.\"");
  EXPECT_EQ(hostError("a..example.com"), where + "empty label in host name");
  EXPECT_EQ(hostError("https://api.example.com"), where + "character ':' is not allowed in a host name");
  EXPECT_EQ(hostError("10.0.0.1"), where + "an IP address is not a host name");
  EXPECT_EQ(hostError(std::string(64, 'a') + ".example.com"), where + "label longer than 63 characters");
  EXPECT_EQ(hostError("*"), where + "\"*\" (any host) is only allowed in a local entry");
  EXPECT_EQ(parseError(document(R"({"id": "a", "name": "A", "apiFamily": "f", "hosts": []})")),
            "test.json: /endpoints/0/hosts: expected at least one host");
}

TEST(CatalogErrors, FieldsAreChecked) {
  EXPECT_EQ(parseError("[]"), "test.json: top level: expected a JSON object");
  EXPECT_EQ(parseError(R"({"endpoints": []})"), "test.json: top level: missing \"schema\"");
  EXPECT_EQ(parseError(R"({"schema": 2, "endpoints": []})"),
            "test.json: /schema: unsupported schema (this build reads schema 1)");
  EXPECT_EQ(parseError(R"({"schema": 1})"), "test.json: top level: missing \"endpoints\"");
  EXPECT_EQ(parseError(R"({"schema": 1, "endpoints": {}})"), "test.json: /endpoints: expected an array");
  EXPECT_EQ(parseError(R"({"schema": 1, "endpoints": [], "endpoint/s~": 1})"),
            "test.json: /endpoint~1s~0: unknown field");
  EXPECT_EQ(parseError(document(R"({"id": "a", "name": "A", "apiFamily": "f", "host": ["a.example.com"]})")),
            "test.json: /endpoints/0/host: unknown field");
  EXPECT_EQ(parseError(document(R"({"id": "A", "name": "A", "apiFamily": "f", "hosts": ["a.example.com"]})")),
            "test.json: /endpoints/0/id: expected lower-case letters, digits and '-'");
  EXPECT_EQ(parseError(document(R"({"name": "A", "apiFamily": "f", "hosts": ["a.example.com"]})")),
            "test.json: /endpoints/0: missing \"id\"");
  EXPECT_EQ(parseError(document(R"({"id": "a", "apiFamily": "f", "hosts": ["a.example.com"]})")),
            "test.json: /endpoints/0: missing \"name\" (required where provider \"a\" first appears)");
  EXPECT_EQ(parseError(document(R"({"id": "a", "name": "A", "hosts": ["a.example.com"]})")),
            "test.json: /endpoints/0: missing \"apiFamily\" (required where provider \"a\" first appears)");
  EXPECT_EQ(
      parseError(document(R"({"id": "a", "name": "A", "apiFamily": "f", "category": "cloud", "hosts": ["a.b.c"]})")),
      "test.json: /endpoints/0/category: expected \"hosted\" or \"local\"");
  EXPECT_EQ(
      parseError(document(R"({"id": "a", "name": "A", "apiFamily": "f", "category": "local", "hosts": ["*"]})")),
            "test.json: /endpoints/0: missing \"ports\" (required for a local entry)");
  EXPECT_EQ(
      parseError(document(R"({"id": "a", "name": "A", "apiFamily": "f", "hosts": ["a.b.c"], "envKeys": ["A-B"]})")),
            "test.json: /endpoints/0/envKeys/0: expected an environment variable name");
  EXPECT_EQ(parseError(document(R"({"id": "a", "name": "", "apiFamily": "f", "hosts": ["a.b.c"]})")),
            "test.json: /endpoints/0/name: must not be empty");
  EXPECT_EQ(parseError(document(R"({"id": "a", "name": "A", "apiFamily": "f", "hosts": ["a.b.c"], "comment": 1})")),
            "test.json: /endpoints/0/comment: expected a string or an array of strings");
}

TEST(CatalogErrors, EntriesOfOneProviderMustAgree) {
  const std::string first = R"({"id": "a", "name": "A", "apiFamily": "f", "hosts": ["a.example.com"]},)";
  EXPECT_EQ(parseError(document(first + R"({"id": "a", "name": "Other", "hosts": ["b.example.com"]})")),
            "test.json: /endpoints/1/name: provider \"a\" is already named \"A\" in test.json");
  EXPECT_EQ(parseError(document(first + R"({"id": "a", "category": "local", "hosts": ["b.lan"], "ports": [1]})")),
            "test.json: /endpoints/1/category: provider \"a\" is already hosted in test.json");
  // Another endpoint of the same provider may speak another protocol, and may repeat a host.
  Catalog catalog = parseOrDie(
      document(first + R"({"id": "a", "apiFamily": "g", "hosts": ["b.example.com", "a.example.com"]})"));
  EXPECT_EQ(catalog.matchHost("b.example.com", 443)->entry->apiFamily, "g");
  EXPECT_EQ(catalog.matchHost("a.example.com", 443)->entry->apiFamily, "f");
}

TEST(CatalogErrors, ProvidersCannotShareAHostAndPort) {
  const std::string first = R"({"id": "a", "name": "A", "apiFamily": "f", "hosts": ["*.example.com"]},)";
  EXPECT_EQ(parseError(document(first + R"({"id": "b", "name": "B", "apiFamily": "f", "hosts": ["*.EXAMPLE.com"]})")),
            "test.json: /endpoints/1/hosts/0: \"*.example.com\" port 443 already belongs to provider \"a\" "
            "(test.json)");
  // The same name on another port is a different endpoint.
  Catalog catalog = parseOrDie(
      document(first + R"({"id": "b", "name": "B", "apiFamily": "f", "hosts": ["*.example.com"], "ports": [8443]})"));
  EXPECT_EQ(providerOf(catalog, "x.example.com", 443), "a");
  EXPECT_EQ(providerOf(catalog, "x.example.com", 8443), "b");
  const std::string local =
      R"({"id": "a", "name": "A", "apiFamily": "f", "category": "local", "hosts": ["*"], "ports": [9]},)";
  EXPECT_EQ(parseError(document(local + R"({"id": "b", "name": "B", "apiFamily": "f", "category": "local",
                                           "hosts": ["*"], "ports": [9]})")),
            "test.json: /endpoints/1/hosts/0: \"*\" port 9 already belongs to provider \"a\" (test.json)");
}

}  // namespace
}  // namespace shadowai
