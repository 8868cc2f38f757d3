#include "policy/prompt_matcher.h"

#include <hs.h>

#include <cctype>
#include <limits>

#include "mask/vectorscan_handles.h"

namespace shadowai {
namespace {

// UTF8: prompt text is decoded JSON (valid UTF-8), so '.' and classes take characters, not bytes.
// Not UCP: Vectorscan refuses \b in UCP mode, and word boundaries matter more to block words than
// letters beyond ASCII do. SINGLEMATCH: which expression fired matters, not where or how often.
constexpr unsigned kPatternFlags = HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH;

// One scratch per thread, grown by hs_alloc_scratch to fit every database the thread scans (it
// returns at once when the scratch is already big enough). A scratch does not refer to a database,
// so it outlives policy reloads safely.
thread_local VectorscanScratchPtr threadScratch;

bool isWordByte(unsigned char c) { return std::isalnum(c) != 0 || c == '_'; }

int onMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/, unsigned int /*flags*/,
            void* context) {
  *static_cast<std::optional<uint32_t>*>(context) = id;
  return 1;  // stop: the first expression that fires decides
}

// The length of the valid UTF-8 sequence at TEXT[0], or 0 (overlong forms, surrogates and code
// points above U+10FFFF are invalid too).
size_t utf8SequenceLength(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
  }
  if (length == 0 || text.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
  }
  if (lead == 0xe0 && byte(1) < 0xa0) return 0;   // overlong
  if (lead == 0xed && byte(1) >= 0xa0) return 0;  // UTF-16 surrogate
  if (lead == 0xf0 && byte(1) < 0x90) return 0;   // overlong
  if (lead == 0xf4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
  return length;
}

// Vectorscan's results on invalid UTF-8 are undefined for UTF-8 patterns. Decoded JSON is valid
// UTF-8, but a caller's bug must not turn into a missed block: invalid bytes become U+FFFD.
std::optional<std::string> validUtf8Copy(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    size_t length = utf8SequenceLength(text.substr(i));
    if (length == 0) break;
    i += length;
  }
  if (i == text.size()) return std::nullopt;
  std::string copy(text.substr(0, i));
  while (i < text.size()) {
    size_t length = utf8SequenceLength(text.substr(i));
    if (length == 0) {
      copy += "\xef\xbf\xbd";
      ++i;
    } else {
      copy.append(text.substr(i, length));
      i += length;
    }
  }
  return copy;
}

}  // namespace

struct PromptMatcher::Impl {
  VectorscanDatabasePtr database;
};

PromptMatcher::PromptMatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PromptMatcher::~PromptMatcher() = default;

std::string wordExpression(std::string_view word) {
  // White space at the ends is a typo, not a request to match a space.
  while (!word.empty() && std::isspace(static_cast<unsigned char>(word.front())) != 0) word.remove_prefix(1);
  while (!word.empty() && std::isspace(static_cast<unsigned char>(word.back())) != 0) word.remove_suffix(1);
  std::string expression;
  if (!word.empty() && isWordByte(static_cast<unsigned char>(word.front()))) expression += "\\b";
  bool inSpace = false;
  for (unsigned char c : word) {
    if (std::isspace(c) != 0) {
      if (!inSpace) expression += "\\s+";
      inSpace = true;
      continue;
    }
    inSpace = false;
    if (isWordByte(c) || c >= 0x80) {
      expression += static_cast<char>(c);  // bytes of a UTF-8 sequence stay as they are
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      expression += {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
    } else {
      expression += {'\\', static_cast<char>(c)};  // any other ASCII punctuation, literally
    }
  }
  if (!word.empty() && isWordByte(static_cast<unsigned char>(word.back()))) expression += "\\b";
  return expression;
}

std::optional<std::string> PromptMatcher::patternError(const std::string& pattern) {
  if (VectorscanExpressionInfo described = describeExpression(pattern.c_str(), kPatternFlags); !described.info) {
    return compileErrorMessage(described.error, "unknown Vectorscan error");
  }
  // hs_expression_info accepts what only hs_compile refuses (an empty-matching pattern, for one).
  if (VectorscanCompiled compiled = compileExpression(pattern.c_str(), kPatternFlags, HS_MODE_BLOCK);
      !compiled.database) {
    return compileErrorMessage(compiled.error, "unknown Vectorscan error");
  }
  return std::nullopt;
}

Result<std::unique_ptr<PromptMatcher>> PromptMatcher::compile(const std::vector<std::string>& patterns,
                                                              const std::vector<std::string>& words,
                                                              bool caseSensitive) {
  std::vector<std::string> expressions = patterns;
  std::vector<unsigned> flags(patterns.size(), kPatternFlags);
  for (const std::string& word : words) {
    expressions.push_back(wordExpression(word));
    flags.push_back(kPatternFlags | (caseSensitive ? 0u : HS_FLAG_CASELESS));
  }
  if (expressions.empty()) return makeError("a prompt matcher needs a pattern or a word");
  std::vector<const char*> pointers;
  std::vector<unsigned> ids;
  for (size_t i = 0; i < expressions.size(); ++i) {
    pointers.push_back(expressions[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  VectorscanCompiled compiled = compileExpressions(pointers.data(), flags.data(), ids.data(),
                                                   static_cast<unsigned>(pointers.size()), HS_MODE_BLOCK);
  if (!compiled.database) {
    const VectorscanCompileErrorPtr& error = compiled.error;
    std::string message = compileErrorMessage(error, "unknown Vectorscan error");
    if (error && error->expression >= 0) {
      size_t index = static_cast<size_t>(error->expression);
      message = (index < patterns.size() ? "pattern " + std::to_string(index + 1)
                                         : "word " + std::to_string(index - patterns.size() + 1)) +
                " does not compile: " + message;
    }
    return makeError(message);
  }
  auto impl = std::make_unique<Impl>();
  impl->database = std::move(compiled.database);
  return std::unique_ptr<PromptMatcher>(new PromptMatcher(std::move(impl)));
}

Result<std::optional<uint32_t>> PromptMatcher::firstMatch(std::string_view text) const {
  std::optional<std::string> repaired = validUtf8Copy(text);
  if (repaired) text = *repaired;
  if (text.size() > std::numeric_limits<unsigned>::max()) return makeError("prompt text too long to scan");
  hs_scratch_t* scratch = threadScratch.release();
  hs_error_t allocated = hs_alloc_scratch(impl_->database.get(), &scratch);
  threadScratch.reset(scratch);
  if (allocated != HS_SUCCESS)
    return makeError("cannot allocate Vectorscan scratch (error " + std::to_string(allocated) + ")");
  std::optional<uint32_t> fired;
  hs_error_t scanned =
      hs_scan(impl_->database.get(), text.data(), static_cast<unsigned>(text.size()), 0, scratch, onMatch, &fired);
  if (scanned != HS_SUCCESS && scanned != HS_SCAN_TERMINATED) {
    return makeError("Vectorscan scan failed (error " + std::to_string(scanned) + ")");
  }
  return fired;
}

}  // namespace shadowai
