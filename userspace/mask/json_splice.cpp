#include "mask/json_splice.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <simdjson.h>

#include "common/json_document.h"
#include "common/json_nesting.h"

namespace shadowai {

namespace {

namespace ondemand = simdjson::ondemand;
using JsonPointer = nlohmann::json::json_pointer;

static_assert(kJsonReadPadding >= simdjson::SIMDJSON_PADDING);

Error spliceError(std::string_view what, std::string_view pointer, std::string_view problem) {
  return makeError(std::string(what) + ": " + (pointer.empty() ? std::string("/") : std::string(pointer)) + " " +
                   std::string(problem));
}

// What simdjson reads: TEXT where it is when CAPACITY leaves the padding, else a padded copy.
class PaddedText {
 public:
  PaddedText(std::string_view text, size_t capacity) {
    if (capacity >= text.size() + simdjson::SIMDJSON_PADDING) {
      view_ = text;
      capacity_ = capacity;
      return;
    }
    copy_.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    copy_.assign(text);
    view_ = copy_;
    capacity_ = copy_.capacity();
  }
  const char* data() const { return view_.data(); }
  size_t size() const { return view_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  std::string copy_;
  std::string_view view_;
  size_t capacity_ = 0;
};

// One wanted string: where, and (when the caller holds it) the text that must be there.
struct WantedString {
  std::string pointer;
  std::optional<std::string_view> text;
};

// One pass over a document that refuses duplicate keys in any object and finds the token of each
// wanted location, comparing it with the text the caller read there. Strings are compared in place
// when their token holds no escape, so a prompt of many MiB is not decoded into another copy. The
// recursion is bounded: bodies nesting deeper than kMaxJsonNesting are refused before the walk.
class StringTokenWalk {
 public:
  StringTokenWalk(const char* base, const std::vector<WantedString>& wanted, std::string_view what)
      : base_(base), wanted_(wanted), what_(what), spans_(wanted.size()) {
    for (size_t i = 0; i < wanted.size(); ++i) byPointer_[wanted[i].pointer].push_back(i);
  }

  Result<std::vector<JsonStringSpan>> run(ondemand::document& document) {
    ondemand::json_type type;
    if (document.type().get(type) != simdjson::SUCCESS) return unreadable();
    if (type == ondemand::json_type::object || type == ondemand::json_type::array) {
      ondemand::value root;
      if (document.get_value().get(root) != simdjson::SUCCESS) return unreadable();
      if (auto status = walk(root, type); !status) return status.error();
    }
    if (mismatch_) return *mismatch_;
    std::vector<JsonStringSpan> spans;
    spans.reserve(spans_.size());
    for (size_t i = 0; i < spans_.size(); ++i) {
      if (!spans_[i]) return spliceError(what_, wanted_[i].pointer, "cannot be located in the body");
      spans.push_back(*spans_[i]);
    }
    return spans;
  }

 private:
  Error unreadable() const { return makeError(std::string(what_) + " is not valid JSON"); }

  Status walk(ondemand::value value, ondemand::json_type type) {
    if (type == ondemand::json_type::object) return walkObject(value);
    if (type == ondemand::json_type::array) return walkArray(value);
    return {};
  }

  Status walkObject(ondemand::value value) {
    ondemand::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) return unreadable();
    std::unordered_set<std::string> keys;
    for (auto field : object) {
      std::string_view key;
      if (field.error() != simdjson::SUCCESS || field.unescaped_key().get(key) != simdjson::SUCCESS) return unreadable();
      if (!keys.emplace(key).second) return makeError(std::string(what_) + " has an object with a duplicate key");
      ondemand::value member;
      if (field.value().get(member) != simdjson::SUCCESS) return unreadable();
      const size_t pathSize = path_.size();
      appendPointerToken(path_, key);
      auto status = visit(member);
      path_.resize(pathSize);
      if (!status) return status;
    }
    return {};
  }

  Status walkArray(ondemand::value value) {
    ondemand::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) return unreadable();
    size_t index = 0;
    for (auto element : array) {
      ondemand::value item;
      if (element.get(item) != simdjson::SUCCESS) return unreadable();
      const size_t pathSize = path_.size();
      path_ += '/';
      path_ += std::to_string(index++);
      auto status = visit(item);
      path_.resize(pathSize);
      if (!status) return status;
    }
    return {};
  }

  Status visit(ondemand::value& value) {
    ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return unreadable();
    auto wanted = byPointer_.find(path_);
    if (wanted == byPointer_.end()) return walk(value, type);
    if (type != ondemand::json_type::string) return spliceError(what_, path_, "is not a string token");
    std::string_view token = value.raw_json_token();
    // raw_json_token() may run on over whitespace up to the next structural character.
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' || token.back() == '\r')) {
      token.remove_suffix(1);
    }
    if (token.size() < 2 || token.front() != '"' || token.back() != '"') {
      return spliceError(what_, path_, "is not a string token");
    }
    const std::string_view inside = token.substr(1, token.size() - 2);
    const bool compared = std::any_of(wanted->second.begin(), wanted->second.end(),
                                      [this](size_t index) { return wanted_[index].text.has_value(); });
    std::string_view decoded = inside;
    if (compared && inside.find('\\') != std::string_view::npos && value.get_string().get(decoded) != simdjson::SUCCESS) {
      return spliceError(what_, path_, "is not a valid string token");
    }
    const size_t begin = static_cast<size_t>(token.data() - base_);
    for (size_t index : wanted->second) {
      // Reported once the walk is over: a duplicate key later in the body is the better reason.
      if (wanted_[index].text && decoded != *wanted_[index].text && !mismatch_) {
        mismatch_ = spliceError(what_, path_, "does not hold the text that was inspected");
      }
      spans_[index] = JsonStringSpan{begin, begin + token.size()};
    }
    return {};
  }

  const char* base_;
  const std::vector<WantedString>& wanted_;
  std::string_view what_;
  std::unordered_map<std::string, std::vector<size_t>> byPointer_;
  std::vector<std::optional<JsonStringSpan>> spans_;
  std::string path_;
  std::optional<Error> mismatch_;
};

Result<std::vector<JsonStringSpan>> walkStrings(std::string_view body, size_t capacity,
                                                const std::vector<WantedString>& wanted, std::string_view what) {
  for (const auto& one : wanted) {
    if (one.pointer.empty()) return spliceError(what, one.pointer, "is not a string inside the body");
  }
  if (jsonNestsDeeperThan(body)) return makeError(jsonTooDeepMessage(what));
  PaddedText padded(body, capacity);
  ondemand::parser parser;
  ondemand::document document;
  if (parser.iterate(padded.data(), padded.size(), padded.capacity()).get(document) != simdjson::SUCCESS) {
    return makeError(std::string(what) + " is not valid JSON");
  }
  auto spans = StringTokenWalk(padded.data(), wanted, what).run(document);
  if (!spans) return spans.error();
  return spans;
}

// A JSON string token is written here rather than by nlohmann's dump, which needs the text inside a
// json value and returns it as one more string: two more copies of a prompt of many MiB. UTF-8 is
// checked by simdjson and kept as it is; '"', '\' and control characters are escaped.
size_t encodedSize(std::string_view text) {
  size_t size = 2;
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      size += 2;
    } else if (c < 0x20) {
      size += 6;
    } else {
      size += 1;
    }
  }
  return size;
}

void appendEncoded(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[static_cast<unsigned char>(c) >> 4];
          out += kHex[static_cast<unsigned char>(c) & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

void reserveJsonPadding(std::string& body) { body.reserve(body.size() + kJsonReadPadding); }

Result<std::vector<JsonStringSpan>> locateJsonStrings(std::string_view body, size_t bodyCapacity,
                                                      const std::vector<JsonStringAt>& wanted, std::string_view what) {
  std::vector<WantedString> strings;
  strings.reserve(wanted.size());
  for (const auto& one : wanted) strings.push_back(WantedString{one.location->to_string(), one.text});
  return walkStrings(body, bodyCapacity, strings, what);
}

Result<std::string> spliceJsonStrings(std::string_view body, std::vector<JsonStringSplice> splices,
                                      std::string_view what) {
  std::stable_sort(splices.begin(), splices.end(),
                   [](const JsonStringSplice& a, const JsonStringSplice& b) { return a.span.begin < b.span.begin; });
  // The same place named twice is fine only when both ask for the same text.
  std::vector<JsonStringSplice> ordered;
  ordered.reserve(splices.size());
  for (auto& splice : splices) {
    if (!ordered.empty() && splice.span.begin == ordered.back().span.begin) {
      if (splice.span.end != ordered.back().span.end || splice.replacement != ordered.back().replacement) {
        return spliceError(what, splice.location.to_string(), "is rewritten twice in different ways");
      }
      continue;
    }
    if (splice.span.begin > splice.span.end || splice.span.end > body.size() ||
        (!ordered.empty() && splice.span.begin < ordered.back().span.end)) {
      return spliceError(what, splice.location.to_string(), "overlaps another rewritten value");
    }
    if (!simdjson::validate_utf8(splice.replacement.data(), splice.replacement.size())) {
      return spliceError(what, splice.location.to_string(), "replacement is not valid UTF-8");
    }
    ordered.push_back(std::move(splice));
  }
  std::vector<JsonStringSplice>().swap(splices);

  size_t outSize = body.size();
  for (const auto& splice : ordered) outSize += encodedSize(splice.replacement) - (splice.span.end - splice.span.begin);
  std::string out;
  out.reserve(outSize + kJsonReadPadding);
  std::vector<WantedString> written;
  std::vector<JsonStringSpan> writtenSpans;
  written.reserve(ordered.size());
  writtenSpans.reserve(ordered.size());
  size_t copied = 0;
  for (auto& splice : ordered) {
    out.append(body.substr(copied, splice.span.begin - copied));
    const size_t begin = out.size();
    appendEncoded(out, splice.replacement);
    std::string().swap(splice.replacement);
    writtenSpans.push_back(JsonStringSpan{begin, out.size()});
    written.push_back(WantedString{splice.location.to_string(), std::nullopt});
    copied = splice.span.end;
  }
  out.append(body.substr(copied));

  // Read back: the result must be valid JSON without duplicate keys that holds, at each rewritten
  // location, exactly the token written there. Everything else is the body's own bytes.
  auto found = walkStrings(out, out.capacity(), written, what);
  if (!found) return makeError(std::string(what) + " did not read back as masked after rewriting");
  for (size_t i = 0; i < writtenSpans.size(); ++i) {
    if ((*found)[i].begin != writtenSpans[i].begin || (*found)[i].end != writtenSpans[i].end) {
      return makeError(std::string(what) + " did not read back as masked after rewriting");
    }
  }
  return out;
}

Result<std::optional<std::string>> rewriteJsonStrings(std::string_view body,
                                                      std::vector<JsonStringReplacement> replacements,
                                                      std::string_view what) {
  std::vector<JsonStringAt> wanted;
  wanted.reserve(replacements.size());
  for (const auto& replacement : replacements) wanted.push_back(JsonStringAt{&replacement.location, replacement.original});
  auto spans = locateJsonStrings(body, 0, wanted, what);
  if (!spans) return spans.error();
  std::vector<JsonStringSplice> splices;
  for (size_t i = 0; i < replacements.size(); ++i) {
    if (replacements[i].replacement == replacements[i].original) continue;
    splices.push_back(
        JsonStringSplice{std::move(replacements[i].location), (*spans)[i], std::move(replacements[i].replacement)});
  }
  if (splices.empty()) return std::optional<std::string>();
  auto spliced = spliceJsonStrings(body, std::move(splices), what);
  if (!spliced) return spliced.error();
  return std::optional<std::string>(std::move(*spliced));
}

}  // namespace shadowai
