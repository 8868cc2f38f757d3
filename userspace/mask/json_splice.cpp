#include "mask/json_splice.h"

#include <algorithm>

#include <simdjson.h>

#include "mask/strict_json.h"

namespace shadowai {

namespace {

using Json = nlohmann::json;

struct Span {
  size_t begin = 0;
  size_t end = 0;
  const JsonStringReplacement* replacement = nullptr;
};

Error spliceError(std::string_view what, const Json::json_pointer& at, std::string_view problem) {
  std::string where = at.to_string();
  return makeError(std::string(what) + ": " + (where.empty() ? "/" : where) + " " + std::string(problem));
}

// The byte span of the string token at `at`, found by simdjson (which, unlike nlohmann, tells where a
// value sits). raw_json_token() may run on over whitespace up to the next structural character.
// INSPECTED is the text the caller checked there in its own reading of the body.
Result<Span> locate(simdjson::ondemand::document& document, const char* base, size_t size,
                    const JsonStringReplacement& replacement, const std::string& inspected, std::string_view what) {
  std::string pointer = replacement.location.to_string();
  if (pointer.empty()) return spliceError(what, replacement.location, "is not a string inside the body");
  simdjson::ondemand::value value;
  if (document.at_pointer(pointer).get(value) != simdjson::SUCCESS) {
    return spliceError(what, replacement.location, "cannot be located in the body");
  }
  std::string_view token = value.raw_json_token();
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' || token.back() == '\r')) {
    token.remove_suffix(1);
  }
  if (token.size() < 2 || token.front() != '"' || token.back() != '"' || token.data() < base ||
      token.data() + token.size() > base + size) {
    return spliceError(what, replacement.location, "is not a string token");
  }
  // Decoded independently of the adapter: the bytes we overwrite must be the text that was masked.
  // Without a backslash the token's inside is the text itself (simdjson checked the UTF-8, and the
  // inspected text, from nlohmann, holds no raw control character): compared in place, since decoding
  // a prompt of many MiB would hold it twice more.
  const std::string_view inside = token.substr(1, token.size() - 2);
  if (inside.find('\\') == std::string_view::npos) {
    if (inside != inspected) return spliceError(what, replacement.location, "does not hold the text that was inspected");
    const size_t begin = static_cast<size_t>(token.data() - base);
    return Span{begin, begin + token.size(), &replacement};
  }
  try {
    Json decoded = Json::parse(token);
    if (!decoded.is_string() || decoded.get_ref<const std::string&>() != inspected) {
      return spliceError(what, replacement.location, "does not hold the text that was inspected");
    }
  } catch (const Json::exception&) {
    return spliceError(what, replacement.location, "is not a valid string token");
  }
  size_t begin = static_cast<size_t>(token.data() - base);
  return Span{begin, begin + token.size(), &replacement};
}

Result<std::string> encodeString(const std::string& text, std::string_view what, const Json::json_pointer& at) {
  try {
    // ensure_ascii off: UTF-8 stays UTF-8; strict: invalid UTF-8 is an error, never silently altered.
    return Json(text).dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception&) {
    return spliceError(what, at, "replacement is not valid UTF-8");
  }
}

// The spans of the replacements' string tokens in BODY, in body order. PARSED is where each
// replacement's location was checked to hold its original.
Result<std::vector<Span>> locateAll(std::string_view body, const Json& parsed,
                                    const std::vector<JsonStringReplacement>& replacements, std::string_view what) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: a padded copy, gone when this returns.
  std::string padded;
  padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  if (parser.iterate(padded.data(), padded.size(), padded.capacity()).get(document) != simdjson::SUCCESS) {
    return makeError(std::string(what) + " could not be read for rewriting");
  }
  std::vector<Span> spans;
  spans.reserve(replacements.size());
  for (const auto& replacement : replacements) {
    const std::string& inspected = parsed.at(replacement.location).get_ref<const std::string&>();
    auto span = locate(document, padded.data(), padded.size(), replacement, inspected, what);
    if (!span) return span.error();
    spans.push_back(*span);
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  return spans;
}

// What goes out must read back as EXPECTED (the body as first parsed) with the replacements applied.
// Consumes both: the replacement texts move into EXPECTED rather than being copied.
Status checkResult(const std::string& spliced, Json expected, std::vector<JsonStringReplacement>& replacements,
                   std::string_view what) {
  for (auto& replacement : replacements) expected[replacement.location] = std::move(replacement.replacement);
  try {
    if (Json::parse(spliced) == expected) return {};
  } catch (const Json::exception&) {
  }
  return makeError(std::string(what) + " did not read back as masked after rewriting");
}

}  // namespace

Result<std::string> spliceJsonStrings(std::string_view body, Json parsed, std::vector<JsonStringReplacement> replacements,
                                      std::string_view what) {
  if (replacements.empty()) return std::string(body);
  for (auto& replacement : replacements) {
    const Json* value = nullptr;
    try {
      value = &parsed.at(replacement.location);
    } catch (const Json::exception&) {
    }
    if (value == nullptr || !value->is_string() || value->get_ref<const std::string&>() != replacement.original) {
      return spliceError(what, replacement.location, "does not hold the text that was inspected");
    }
    // PARSED holds the same text from here on.
    std::string().swap(replacement.original);
  }
  auto spans = locateAll(body, parsed, replacements, what);
  if (!spans) return spans.error();

  std::string out;
  out.reserve(body.size() + body.size() / 8);
  size_t copied = 0;
  for (size_t i = 0; i < spans->size(); ++i) {
    const Span& span = (*spans)[i];
    if (i > 0 && span.begin == (*spans)[i - 1].begin) {
      // The same place named twice is fine only when both ask for the same text.
      if (span.end != (*spans)[i - 1].end || span.replacement->replacement != (*spans)[i - 1].replacement->replacement) {
        return spliceError(what, span.replacement->location, "is rewritten twice in different ways");
      }
      continue;
    }
    if (span.begin < copied) return spliceError(what, span.replacement->location, "overlaps another rewritten value");
    auto encoded = encodeString(span.replacement->replacement, what, span.replacement->location);
    if (!encoded) return encoded.error();
    out.append(body.substr(copied, span.begin - copied));
    out.append(*encoded);
    copied = span.end;
  }
  out.append(body.substr(copied));
  if (auto status = checkResult(out, std::move(parsed), replacements, what); !status) return status.error();
  return out;
}

Result<std::optional<std::string>> rewriteJsonStrings(std::string_view body,
                                                      std::vector<JsonStringReplacement> replacements,
                                                      std::string_view what) {
  auto parsed = parseJsonRefusingDuplicateKeys(body, what);
  if (!parsed) return parsed.error();
  std::erase_if(replacements,
                [](const JsonStringReplacement& replacement) { return replacement.replacement == replacement.original; });
  if (replacements.empty()) return std::optional<std::string>();
  auto spliced = spliceJsonStrings(body, std::move(*parsed), std::move(replacements), what);
  if (!spliced) return spliced.error();
  return std::optional<std::string>(std::move(*spliced));
}

}  // namespace shadowai
