#include "common/json_document.h"

#include <algorithm>

#include "common/json_nesting.h"
#include "common/printable_text.h"

namespace shadowai {
namespace {

using Json = nlohmann::json;

// "LINE:COLUMN" (both from 1) of the byte at OFFSET.
std::string lineAndColumn(std::string_view json, size_t offset) {
  std::string_view before = json.substr(0, std::min(offset, json.size()));
  size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  size_t lastNewline = before.rfind('\n');
  size_t column = lastNewline == std::string_view::npos ? before.size() + 1 : before.size() - lastNewline;
  return std::to_string(line) + ":" + std::to_string(column);
}

// nlohmann's what() after SEPARATOR (dropping its "[json.exception.x.n] ..." prefix). It quotes the
// token it stopped at, which may be the rest of the file.
std::string libraryMessage(const Json::exception& error, std::string_view separator) {
  std::string_view what = error.what();
  if (size_t cut = what.find(separator); cut != std::string_view::npos) what.remove_prefix(cut + separator.size());
  return printableExcerpt(what);
}

}  // namespace

std::string printableExcerpt(std::string_view text, size_t maxBytes) {
  size_t whole = 0;
  for (size_t i = 0; i < text.size() && whole <= maxBytes; ++i) whole += printableSize(text[i]);
  if (whole <= maxBytes) return printableText(text);
  constexpr std::string_view kCut = " ... ";
  const size_t budget = maxBytes > kCut.size() ? maxBytes - kCut.size() : 0;
  const size_t tailBudget = budget / 3;
  size_t headEnd = 0;
  for (size_t used = 0; headEnd < text.size() && used + printableSize(text[headEnd]) <= budget - tailBudget;) {
    used += printableSize(text[headEnd++]);
  }
  size_t tailStart = text.size();
  for (size_t used = 0; tailStart > headEnd && used + printableSize(text[tailStart - 1]) <= tailBudget;) {
    used += printableSize(text[--tailStart]);
  }
  return printableText(text.substr(0, headEnd)) + std::string(kCut) + printableText(text.substr(tailStart));
}

Result<nlohmann::json> parseJsonDocument(std::string_view json, const std::string& sourceName) {
  if (jsonNestsDeeperThan(json)) return makeError(jsonTooDeepMessage(sourceName));
  try {
    return Json::parse(json.begin(), json.end());
  } catch (const Json::parse_error& error) {
    // parse_error carries the offset of the last byte read ("byte", from 1).
    size_t offset = error.byte > 0 ? error.byte - 1 : 0;
    return makeError(sourceName + ":" + lineAndColumn(json, offset) + ": " + libraryMessage(error, ": "));
  } catch (const Json::exception& error) {
    // A number too large for a double ("1e999") fails while the value is built, without a position;
    // the message quotes the literal, so find it to point at it.
    std::string message = libraryMessage(error, "] ");
    std::string_view what = error.what();
    size_t open = what.find('\'');
    size_t close = what.rfind('\'');
    if (open != std::string_view::npos && close > open + 1) {
      if (size_t at = json.find(what.substr(open + 1, close - open - 1)); at != std::string_view::npos) {
        return makeError(sourceName + ":" + lineAndColumn(json, at) + ": " + message);
      }
    }
    return makeError(sourceName + ": " + message);
  }
}

void appendPointerToken(std::string& pointer, std::string_view key) {
  pointer += '/';
  for (char c : key) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer += c;
    }
  }
}

std::string childPointer(const std::string& pointer, std::string_view key) {
  constexpr size_t kMaxKeyBytes = 64;
  std::string result = pointer;
  appendPointerToken(result, printableExcerpt(key, kMaxKeyBytes));
  return result;
}

std::string childPointer(const std::string& pointer, size_t index) { return pointer + "/" + std::to_string(index); }

Error JsonSchemaReader::fail(const std::string& pointer, std::string_view message) const {
  if (pointer.empty()) return makeError(sourceName_ + ": " + std::string(message));
  return makeError(sourceName_ + ": " + pointer + ": " + std::string(message));
}

Status JsonSchemaReader::checkKnownFields(const nlohmann::json& object, const std::string& pointer,
                                          std::span<const std::string_view> known) const {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (unknownFieldNames_ == UnknownFieldNames::kShown) return fail(childPointer(pointer, key), "unknown field");
    // Which object, and what it may hold, is enough to find the field without printing its name.
    std::string allowed;
    for (std::string_view name : known) allowed += (allowed.empty() ? "" : ", ") + std::string(name);
    return fail(pointer, std::string(pointer.empty() ? "the top-level object has" : "has") +
                             " an unknown field (allowed: " + allowed + "; its name is withheld: the file holds keys)");
  }
  return {};
}

Status JsonSchemaReader::checkComment(const nlohmann::json& object, const std::string& pointer) const {
  if (!object.contains("comment")) return {};
  const nlohmann::json& comment = object["comment"];
  if (comment.is_string()) return {};
  if (comment.is_array() &&
      std::all_of(comment.begin(), comment.end(), [](const nlohmann::json& line) { return line.is_string(); })) {
    return {};
  }
  return fail(childPointer(pointer, "comment"), "expected a string or an array of strings");
}

}  // namespace shadowai
