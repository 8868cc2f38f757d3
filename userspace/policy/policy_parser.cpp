#include "policy/policy_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "common/closest_word.h"
#include "common/json_document.h"
#include "common/json_nesting.h"
#include "policy/builtin_detectors.h"

namespace shadowai {
namespace {

// Ordered, so problems come out in the order they stand in the file.
using Json = nlohmann::ordered_json;
using Keys = std::vector<std::string_view>;

const Keys kTopKeys = {"version", "detectors", "rules", "comment"};
const Keys kDetectorKeys = {"name",     "label", "description",    "comment",   "pattern",
                            "caseless", "words", "case_sensitive", "max_length"};
// The built-in detector file (builtin_detectors.h): no rules, and what only built-ins may say.
const Keys kBuiltinTopKeys = {"version", "detectors", "comment"};
const Keys kBuiltinOnlyDetectorKeys = {"category",           "validator",          "replace_value_only",
                                       "value_marker",       "extends_to_value_end", "whole_number_token",
                                       "end_pass_pattern",   "end_pass_database",  "default_replacement"};
const Keys kBuiltinCategories = {"secret", "pii"};
const Keys kRuleKeys = {"id", "description", "comment", "match", "mask", "block", "allow"};
const Keys kMatchKeys = {"workload", "call"};
const Keys kWorkloadKeys = {"cgroup", "unit", "container", "uid", "user", "exe"};
const Keys kCallKeys = {"provider", "host", "api", "model"};
const Keys kMaskKeys = {"detectors", "replacement", "replacements", "on"};
const Keys kBlockKeys = {"patterns", "words", "case_sensitive", "models", "providers", "message"};
const Keys kAllowKeys = {"detectors", "rules"};
const Keys kSites = {"request", "response"};
const Keys kStyles = {"placeholder", "pseudonym", "redact"};

// uid_t's (uid_t)-1 means "no uid" to the kernel, so the largest real uid is one below.
constexpr uint64_t kMaxUid = std::numeric_limits<uint32_t>::max() - 1;

// Names and values quoted from the file are cut (printableExcerpt): a 10 MB key is still one short line.
std::string inQuotes(std::string_view text) { return "\"" + printableExcerpt(text) + "\""; }

// "LINE:COLUMN" of the byte at OFFSET, both from 1.
std::string textPosition(std::string_view text, size_t offset) {
  std::string_view before = text.substr(0, std::min(offset, text.size()));
  size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  size_t newline = before.rfind('\n');
  size_t column = newline == std::string_view::npos ? before.size() + 1 : before.size() - newline;
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " +
         std::to_string(offset + 1) + ")";
}

// nlohmann's message without its "[json.exception...] parse error at ...: " prefix. It quotes the
// token it stopped at, which may be the rest of the file: cut.
std::string libraryMessage(const Json::exception& error) {
  std::string_view what = error.what();
  if (size_t cut = what.find(": "); cut != std::string_view::npos) {
    what.remove_prefix(cut + 2);
  } else if (size_t bracket = what.find("] "); bracket != std::string_view::npos) {
    what.remove_prefix(bracket + 2);
  }
  return printableExcerpt(what);
}

class DocumentReader {
 public:
  // BUILTINS: the built-in detectors a policy file's detectors must not clash with; null while the
  // built-in file itself is read.
  DocumentReader(const std::string& file, std::vector<PolicyProblem>& problems, const BuiltinDetectors* builtins)
      : file_(file), problems_(problems), builtins_(builtins) {}

  PolicyDocument read(const Json& root) {
    PolicyDocument document;
    document.file = file_;
    if (!root.is_object()) {
      problem("", "expected a JSON object with \"version\" and \"rules\"");
      return document;
    }
    checkKeys(root, "", kTopKeys);
    checkComment(root, "");
    readVersion(root);
    if (const Json* detectors = member(root, "", "detectors", &Json::is_array, "expected an array of detectors")) {
      for (size_t i = 0; i < detectors->size(); ++i) {
        readDetector((*detectors)[i], childPointer("/detectors", i), document);
      }
    }
    if (const Json* rules = member(root, "", "rules", &Json::is_array, "expected an array of rules")) {
      for (size_t i = 0; i < rules->size(); ++i) readRule((*rules)[i], childPointer("/rules", i), document);
    }
    return document;
  }

  // The built-in detector file: {"version": 1, "comment": ..., "detectors": [...]}.
  std::vector<Detector> readBuiltins(const Json& root) {
    std::vector<Detector> detectors;
    if (!root.is_object()) {
      problem("", "expected a JSON object with \"version\" and \"detectors\"");
      return detectors;
    }
    checkKeys(root, "", kBuiltinTopKeys);
    checkComment(root, "");
    readVersion(root);
    const Json* list = member(root, "", "detectors", &Json::is_array, "expected an array of detectors");
    if (!root.contains("detectors")) problem("", "missing \"detectors\"");
    if (list && list->empty()) problem("/detectors", "empty list: the built-in detectors are the point of this file");
    if (!list) return detectors;
    PolicyDocument document;
    std::map<std::string, std::string, std::less<>> firstAt;  // name -> pointer
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string pointer = childPointer("/detectors", i);
      readDetector((*list)[i], pointer, document);
      if (document.detectors.empty()) continue;
      Detector detector = std::move(document.detectors.back().detector);
      document.detectors.pop_back();
      if (detector.name.empty()) continue;
      if (auto first = firstAt.find(detector.name); first != firstAt.end()) {
        problem(childPointer(pointer, "name"),
                "duplicate detector name " + inQuotes(detector.name) + " (first at " + first->second + ")");
        continue;
      }
      firstAt.emplace(detector.name, pointer);
      detectors.push_back(std::move(detector));
    }
    return detectors;
  }

 private:
  bool readingBuiltinFile() const { return builtins_ == nullptr; }

  void problem(const std::string& pointer, std::string message) {
    problems_.push_back(PolicyProblem{file_, pointer, std::move(message)});
  }

  void checkKeys(const Json& object, const std::string& pointer, const Keys& known) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      problem(childPointer(pointer, key), "unknown key " + inQuotes(key) + didYouMean(key, known));
    }
  }

  void checkComment(const Json& object, const std::string& pointer) {
    auto it = object.find("comment");
    if (it == object.end() || it->is_string()) return;
    if (it->is_array() && std::all_of(it->begin(), it->end(), [](const Json& line) { return line.is_string(); })) {
      return;
    }
    problem(childPointer(pointer, "comment"), "expected a string or an array of strings");
  }

  // OBJECT[KEY] when present and of the right type; a problem (and null) when of another type.
  const Json* member(const Json& object, const std::string& pointer, std::string_view key,
                     bool (Json::*isType)() const noexcept, std::string_view expected) {
    auto it = object.find(key);
    if (it == object.end()) return nullptr;
    if (!((*it).*isType)()) {
      problem(childPointer(pointer, key), std::string(expected));
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> readString(const Json& object, const std::string& pointer, std::string_view key) {
    const Json* value = member(object, pointer, key, &Json::is_string, "expected a string");
    if (!value) return std::nullopt;
    return value->get<std::string>();
  }

  std::optional<bool> readBool(const Json& object, const std::string& pointer, std::string_view key) {
    const Json* value = member(object, pointer, key, &Json::is_boolean, "expected true or false");
    if (!value) return std::nullopt;
    return value->get<bool>();
  }

  // A non-empty array of non-empty strings. An empty list is refused rather than read as "no
  // restriction" or "nothing": either reading would surprise someone.
  std::vector<std::string> readStrings(const Json& object, const std::string& pointer, std::string_view key) {
    std::vector<std::string> strings;
    const Json* list = member(object, pointer, key, &Json::is_array, "expected an array of strings");
    if (!list) return strings;
    const std::string listPointer = childPointer(pointer, key);
    if (list->empty()) problem(listPointer, "empty list: give at least one value or leave the key out");
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& item = (*list)[i];
      if (!item.is_string()) {
        problem(childPointer(listPointer, i), "expected a string");
      } else if (item.get_ref<const std::string&>().empty()) {
        problem(childPointer(listPointer, i), "empty string");
      } else {
        strings.push_back(item.get<std::string>());
      }
    }
    return strings;
  }

  std::vector<DetectorReference> readReferences(const Json& object, const std::string& pointer, std::string_view key) {
    std::vector<DetectorReference> references;
    const Json* list = member(object, pointer, key, &Json::is_array, "expected an array of strings");
    if (!list) return references;
    const std::string listPointer = childPointer(pointer, key);
    if (list->empty()) problem(listPointer, "empty list: give at least one value or leave the key out");
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& item = (*list)[i];
      if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
        problem(childPointer(listPointer, i), "expected a non-empty string");
        continue;
      }
      references.push_back(DetectorReference{item.get<std::string>(), childPointer(listPointer, i)});
    }
    return references;
  }

  std::optional<ReplacementStyle> readStyle(const Json& value, const std::string& pointer) {
    if (!value.is_string()) {
      problem(pointer, "expected one of \"placeholder\", \"pseudonym\", \"redact\"");
      return std::nullopt;
    }
    const std::string& name = value.get_ref<const std::string&>();
    auto style = replacementStyleFromString(name);
    if (!style) {
      problem(pointer, "unknown replacement " + inQuotes(name) + didYouMean(name, kStyles) +
                           "; expected placeholder, pseudonym or redact");
    }
    return style;
  }

  void readVersion(const Json& root) {
    auto it = root.find("version");
    if (it == root.end()) {
      problem("", "missing \"version\": this build reads version " + std::to_string(kPolicyFormatVersion));
      return;
    }
    if (!it->is_number_integer() || it->get<int64_t>() != kPolicyFormatVersion) {
      problem("/version", "unsupported version " + printableExcerpt(it->dump()) + ": this build reads version " +
                              std::to_string(kPolicyFormatVersion));
    }
  }

  void readDetector(const Json& value, const std::string& pointer, PolicyDocument& document) {
    if (!value.is_object()) {
      problem(pointer, "expected a detector object");
      return;
    }
    if (!readingBuiltinFile()) {
      checkKeys(value, pointer, kDetectorKeys);
    } else {
      Keys keys = kDetectorKeys;
      keys.insert(keys.end(), kBuiltinOnlyDetectorKeys.begin(), kBuiltinOnlyDetectorKeys.end());
      checkKeys(value, pointer, keys);
    }
    checkComment(value, pointer);
    CustomDetector custom{.detector = {}, .file = file_, .pointer = pointer};
    Detector& detector = custom.detector;
    detector.category = DetectorCategory::kCustom;
    const size_t problemsBefore = problems_.size();
    auto name = readString(value, pointer, "name");
    auto label = readString(value, pointer, "label");
    if (!value.contains("name")) problem(pointer, "missing \"name\"");
    if (!value.contains("label")) problem(pointer, "missing \"label\"");
    detector.name = name.value_or("");
    detector.label = label.value_or("");
    detector.description = readString(value, pointer, "description").value_or("");
    detector.pattern = readString(value, pointer, "pattern").value_or("");
    detector.caseless = readBool(value, pointer, "caseless").value_or(false);
    detector.words = readStrings(value, pointer, "words");
    detector.caseSensitive = readBool(value, pointer, "case_sensitive").value_or(false);
    if (const Json* maxLength =
            member(value, pointer, "max_length", &Json::is_number_unsigned, "expected a positive integer (bytes)")) {
      detector.maxLength = maxLength->get<size_t>();
      if (detector.maxLength == 0) problem(childPointer(pointer, "max_length"), "expected a positive integer (bytes)");
    }
    if (readingBuiltinFile()) readBuiltinFields(value, pointer, detector);
    if (name && builtins_ && builtins_->find(*name)) {
      problem(childPointer(pointer, "name"),
              "detector name " + inQuotes(*name) + " is taken by a built-in detector; choose another name");
    }
    // checkDetector would repeat what is already reported (a missing name, an empty list).
    if (problems_.size() == problemsBefore) {
      if (auto checked = checkDetector(detector); !checked) {
        problem(detectorProblemPointer(pointer, checked.error().message), checked.error().message);
      }
    }
    document.detectors.push_back(std::move(custom));
  }

  // What only the built-in file says of a detector (docs/policy.md, "The built-in detectors").
  void readBuiltinFields(const Json& value, const std::string& pointer, Detector& detector) {
    const std::string name = detector.name.empty() ? std::string() : " of detector " + inQuotes(detector.name);
    if (const Json* category = member(value, pointer, "category", &Json::is_string, "expected \"secret\" or \"pii\"")) {
      const std::string& text = category->get_ref<const std::string&>();
      auto parsed = detectorCategoryFromString(text);
      if (!parsed) {
        problem(childPointer(pointer, "category"), "unknown category " + inQuotes(text) + name +
                                                       didYouMean(text, kBuiltinCategories) +
                                                       "; expected \"secret\" or \"pii\"");
      } else if (*parsed == DetectorCategory::kCustom) {
        problem(childPointer(pointer, "category"),
                "category \"custom\"" + name + " is for a policy's own detectors; expected \"secret\" or \"pii\"");
      } else {
        detector.category = *parsed;
      }
    } else if (!value.contains("category")) {
      problem(pointer, "missing \"category\"");
    }
    if (const Json* validator = member(value, pointer, "validator", &Json::is_string, "expected a validator name")) {
      const std::string& text = validator->get_ref<const std::string&>();
      if (auto parsed = matchValidatorFromString(text)) {
        detector.validator = *parsed;
      } else {
        const std::vector<std::string_view> names = matchValidatorNames();
        std::string expected;
        for (std::string_view known : names) expected += (expected.empty() ? "" : ", ") + std::string(known);
        problem(childPointer(pointer, "validator"),
                "unknown validator " + inQuotes(text) + name + didYouMean(text, names) + "; expected one of " + expected);
      }
    }
    detector.replaceValueOnly = readBool(value, pointer, "replace_value_only").value_or(false);
    detector.valueMarker = readNonEmptyString(value, pointer, "value_marker");
    detector.extendsToValueEnd = readBool(value, pointer, "extends_to_value_end").value_or(false);
    detector.wholeNumberToken = readBool(value, pointer, "whole_number_token").value_or(false);
    detector.endPassPattern = readNonEmptyString(value, pointer, "end_pass_pattern");
    detector.endPassDatabase = readNonEmptyString(value, pointer, "end_pass_database");
    if (auto it = value.find("default_replacement"); it != value.end()) {
      if (auto style = readStyle(*it, childPointer(pointer, "default_replacement"))) detector.defaultStyle = *style;
    }
  }

  std::string readNonEmptyString(const Json& object, const std::string& pointer, std::string_view key) {
    std::string text = readString(object, pointer, key).value_or("");
    if (text.empty() && object.contains(key) && object.find(key)->is_string()) {
      problem(childPointer(pointer, key), "empty string: give a value or leave the key out");
    }
    return text;
  }

  // checkDetector's message names the field it is about; point at that field.
  static std::string detectorProblemPointer(const std::string& pointer, std::string_view message) {
    if (message.starts_with("end-pass pattern")) return childPointer(pointer, "end_pass_pattern");
    if (message.starts_with("value marker")) return childPointer(pointer, "value_marker");
    for (std::string_view field : {"name", "label", "pattern"}) {
      if (message.starts_with(field)) return childPointer(pointer, field);
    }
    if (message.starts_with("word")) return childPointer(pointer, "words");
    return pointer;
  }

  void readRule(const Json& value, const std::string& pointer, PolicyDocument& document) {
    if (!value.is_object()) {
      problem(pointer, "expected a rule object");
      return;
    }
    checkKeys(value, pointer, kRuleKeys);
    checkComment(value, pointer);
    PolicyRule rule;
    rule.file = file_;
    rule.pointer = pointer;
    if (auto id = readString(value, pointer, "id")) {
      rule.id = *id;
      if (!validRuleId(rule.id)) {
        problem(childPointer(pointer, "id"), "rule id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
      }
    } else if (!value.contains("id")) {
      problem(pointer, "missing \"id\"");
    }
    rule.description = readString(value, pointer, "description").value_or("");
    if (const Json* match = member(value, pointer, "match", &Json::is_object, "expected an object")) {
      readSelector(*match, childPointer(pointer, "match"), rule.match);
    }

    std::vector<std::string_view> actions;
    for (std::string_view action : {"mask", "block", "allow"}) {
      if (value.contains(action)) actions.push_back(action);
    }
    if (actions.empty()) {
      problem(pointer, "needs one of \"mask\", \"block\" or \"allow\"");
    } else if (actions.size() > 1) {
      problem(pointer, "has both \"" + std::string(actions[0]) + "\" and \"" + std::string(actions[1]) +
                           "\": a rule does one thing; split it into two rules");
    } else if (actions[0] == "mask") {
      rule.action = RuleAction::kMask;
      readMask(value["mask"], childPointer(pointer, "mask"), rule.mask);
    } else if (actions[0] == "block") {
      rule.action = RuleAction::kBlock;
      readBlock(value["block"], childPointer(pointer, "block"), rule.block);
    } else {
      rule.action = RuleAction::kAllow;
      readAllow(value["allow"], childPointer(pointer, "allow"), rule.allow);
    }
    document.rules.push_back(std::move(rule));
  }

  // Ids go into journald fields and alerts, so keep them to a plain alphabet.
  static bool validRuleId(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
             c == '-';
    });
  }

  void readSelector(const Json& match, const std::string& pointer, RuleSelector& selector) {
    checkKeys(match, pointer, kMatchKeys);
    if (const Json* workload = member(match, pointer, "workload", &Json::is_object, "expected an object")) {
      const std::string at = childPointer(pointer, "workload");
      checkKeys(*workload, at, kWorkloadKeys);
      WorkloadSelector& w = selector.workload;
      w.cgroups = readStrings(*workload, at, "cgroup");
      for (size_t i = 0; i < w.cgroups.size(); ++i) {
        if (!w.cgroups[i].starts_with('/')) {
          problem(childPointer(childPointer(at, "cgroup"), i),
                  "expected a cgroup path from the cgroup v2 root, starting with '/'");
        }
      }
      w.units = readStrings(*workload, at, "unit");
      w.containers = readStrings(*workload, at, "container");
      w.uids = readUids(*workload, at);
      w.users = readStrings(*workload, at, "user");
      w.exes = readStrings(*workload, at, "exe");
    }
    if (const Json* call = member(match, pointer, "call", &Json::is_object, "expected an object")) {
      const std::string at = childPointer(pointer, "call");
      checkKeys(*call, at, kCallKeys);
      CallSelector& c = selector.call;
      c.providers = readStrings(*call, at, "provider");
      c.hosts = readStrings(*call, at, "host");
      c.apis = readStrings(*call, at, "api");
      c.models = readStrings(*call, at, "model");
      checkApis(*call, at);
    }
  }

  std::vector<uint32_t> readUids(const Json& workload, const std::string& pointer) {
    std::vector<uint32_t> uids;
    const Json* list = member(workload, pointer, "uid", &Json::is_array, "expected an array of uids");
    if (!list) return uids;
    const std::string listPointer = childPointer(pointer, "uid");
    if (list->empty()) problem(listPointer, "empty list: give at least one value or leave the key out");
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& item = (*list)[i];
      // is_number_unsigned: JSON's 1000 but neither -1 nor 1000.5.
      if (!item.is_number_unsigned() || item.get<uint64_t>() > kMaxUid) {
        problem(childPointer(listPointer, i), "expected a uid: an integer from 0 to " + std::to_string(kMaxUid));
        continue;
      }
      uids.push_back(static_cast<uint32_t>(item.get<uint64_t>()));
    }
    return uids;
  }

  void checkApis(const Json& call, const std::string& pointer) {
    std::vector<std::string_view> known;
    for (int kind = 0; kind <= static_cast<int>(ApiKind::kUnknown); ++kind) {
      known.push_back(apiKindName(static_cast<ApiKind>(kind)));
    }
    auto found = call.find("api");
    if (found == call.end() || !found->is_array()) return;
    const Json& list = *found;
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string()) continue;
      const std::string& api = list[i].get_ref<const std::string&>();
      if (api.empty() || std::find(known.begin(), known.end(), api) != known.end()) continue;
      std::string names;
      for (std::string_view name : known) names += (names.empty() ? "" : ", ") + std::string(name);
      problem(childPointer(childPointer(pointer, "api"), i),
              "unknown api " + inQuotes(api) + didYouMean(api, known) + "; expected one of " + names);
    }
  }

  void readMask(const Json& value, const std::string& pointer, MaskAction& mask) {
    if (!value.is_object()) {
      problem(pointer, "expected an object");
      return;
    }
    checkKeys(value, pointer, kMaskKeys);
    mask.detectors = readReferences(value, pointer, "detectors");
    if (!value.contains("detectors")) problem(pointer, "missing \"detectors\"");
    if (auto it = value.find("replacement"); it != value.end()) {
      mask.replacement = readStyle(*it, childPointer(pointer, "replacement"));
    }
    mask.replacementsPointer = childPointer(pointer, "replacements");
    if (const Json* replacements =
            member(value, pointer, "replacements", &Json::is_object, "expected an object of detector: replacement")) {
      if (replacements->empty()) problem(mask.replacementsPointer, "empty object: name a detector or leave it out");
      for (const auto& [name, style] : replacements->items()) {
        if (auto parsed = readStyle(style, childPointer(mask.replacementsPointer, name))) {
          mask.replacements[name] = *parsed;
        }
      }
    }
    if (value.contains("on")) {
      readStrings(value, pointer, "on");  // its type and emptiness; the sites are read below
      mask.onRequest = mask.onResponse = false;
      const std::string onPointer = childPointer(pointer, "on");
      const Json& list = value["on"];
      if (!list.is_array()) return;
      for (size_t i = 0; i < list.size(); ++i) {
        if (!list[i].is_string() || list[i].get_ref<const std::string&>().empty()) continue;
        const std::string& site = list[i].get_ref<const std::string&>();
        if (site == "request") {
          mask.onRequest = true;
        } else if (site == "response") {
          mask.onResponse = true;
        } else {
          problem(childPointer(onPointer, i), "unknown site " + inQuotes(site) + didYouMean(site, kSites) +
                                                  "; expected \"request\" or \"response\"");
        }
      }
    }
  }

  void readBlock(const Json& value, const std::string& pointer, BlockAction& block) {
    if (!value.is_object()) {
      problem(pointer, "expected an object");
      return;
    }
    checkKeys(value, pointer, kBlockKeys);
    block.patterns = readStrings(value, pointer, "patterns");
    block.words = readStrings(value, pointer, "words");
    // A blank word would match everywhere; report it (at its own index in the file) and drop it.
    auto blank = [](const std::string& word) {
      return std::all_of(word.begin(), word.end(), [](unsigned char c) { return std::isspace(c) != 0; });
    };
    if (auto list = value.find("words"); list != value.end() && list->is_array()) {
      for (size_t i = 0; i < list->size(); ++i) {
        const Json& word = (*list)[i];
        if (word.is_string() && !word.get_ref<const std::string&>().empty() && blank(word.get<std::string>())) {
          problem(childPointer(childPointer(pointer, "words"), i), "blank word");
        }
      }
    }
    std::erase_if(block.words, blank);
    block.caseSensitive = readBool(value, pointer, "case_sensitive").value_or(false);
    block.models = readStrings(value, pointer, "models");
    block.providers = readStrings(value, pointer, "providers");
    block.message = readString(value, pointer, "message").value_or("");
  }

  void readAllow(const Json& value, const std::string& pointer, AllowAction& allow) {
    if (!value.is_object()) {
      problem(pointer, "expected an object");
      return;
    }
    checkKeys(value, pointer, kAllowKeys);
    allow.detectors = readReferences(value, pointer, "detectors");
    allow.rules = readReferences(value, pointer, "rules");
  }

  const std::string& file_;
  std::vector<PolicyProblem>& problems_;
  const BuiltinDetectors* builtins_;
};

// TEXT as JSON, or null with the problem reported.
std::optional<Json> parseJson(std::string_view text, const std::string& file, std::vector<PolicyProblem>& problems) {
  if (jsonNestsDeeperThan(text)) {
    problems.push_back(PolicyProblem{file, "", jsonTooDeepMessage("the file")});
    return std::nullopt;
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& error) {
    // parse_error.byte counts from 1 and points at the last byte read.
    size_t offset = error.byte > 0 ? error.byte - 1 : 0;
    problems.push_back(PolicyProblem{file, textPosition(text, offset), "invalid JSON: " + libraryMessage(error)});
  } catch (const Json::exception& error) {
    // A number too large for a double ("1e999") fails while the value is built, without a position.
    problems.push_back(PolicyProblem{file, "", "invalid JSON: " + libraryMessage(error)});
  }
  return std::nullopt;
}

}  // namespace

PolicyDocument parsePolicyDocument(std::string_view text, const std::string& file, const BuiltinDetectors& builtins,
                                   std::vector<PolicyProblem>& problems) {
  std::optional<Json> root = parseJson(text, file, problems);
  if (!root) return PolicyDocument{.file = file, .detectors = {}, .rules = {}};
  return DocumentReader(file, problems, &builtins).read(*root);
}

std::vector<Detector> parseBuiltinDetectorDocument(std::string_view text, const std::string& file,
                                                   std::vector<PolicyProblem>& problems) {
  std::optional<Json> root = parseJson(text, file, problems);
  if (!root) return {};
  return DocumentReader(file, problems, nullptr).readBuiltins(*root);
}

}  // namespace shadowai
