// A stand-in for the masking engine in the call masker's tests: it masks every "SECRET-<digits>" as
// "[SECRET]" and every "name@host.tld" as "[EMAIL]", and in streams holds back a trailing word that
// could still grow into one of them. The real engine (mask/mask_session.h) has its own tests; these
// only need something predictable that honours the TextMasker contract.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mask/text_masker.h"

namespace shadowai::testing {

class FakeTextMasker : public TextMasker {
 public:
  Result<std::string> mask(std::string_view text, MaskSite /*site*/) override {
    if (!failOn.empty() && text.find(failOn) != std::string_view::npos) return makeError("fake masker refused");
    return maskWords(text);
  }

  std::unique_ptr<TextStream> openStream(MaskSite site) override { return std::make_unique<Stream>(*this, site); }

  // mask() fails on text containing this (when not empty), to test that failures refuse the call.
  std::string failOn;

  static bool isWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '@' || c == '.' ||
           c == '-' || c == '_';
  }

 private:
  static bool isSecret(std::string_view word) {
    constexpr std::string_view kPrefix = "SECRET-";
    if (!word.starts_with(kPrefix) || word.size() == kPrefix.size()) return false;
    for (char c : word.substr(kPrefix.size())) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  }

  static bool isEmail(std::string_view word) {
    size_t at = word.find('@');
    if (at == 0 || at == std::string_view::npos || word.find('@', at + 1) != std::string_view::npos) return false;
    size_t dot = word.rfind('.');
    return dot != std::string_view::npos && dot > at + 1 && dot + 1 < word.size();
  }

  static std::string maskWord(std::string_view word) {
    // A sentence may end right after an address: "mail a@b.com."
    size_t end = word.size();
    while (end > 0 && word[end - 1] == '.') --end;
    std::string_view core = word.substr(0, end);
    std::string tail(word.substr(end));
    if (isSecret(core)) return "[SECRET]" + tail;
    if (isEmail(core)) return "[EMAIL]" + tail;
    return std::string(word);
  }

  static std::string maskWords(std::string_view text) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      size_t start = i;
      if (isWordChar(text[i])) {
        while (i < text.size() && isWordChar(text[i])) ++i;
        out += maskWord(text.substr(start, i - start));
      } else {
        out += text[i++];
      }
    }
    return out;
  }

  class Stream : public TextStream {
   public:
    Stream(FakeTextMasker& owner, MaskSite site) : owner_(owner), site_(site) {}

    Result<std::string> feed(std::string_view delta) override {
      held_.append(delta);
      // Hold the trailing word: more letters may follow in the next delta. Text ending in a space or
      // punctuation holds nothing.
      size_t cut = held_.size();
      while (cut > 0 && isWordChar(held_[cut - 1])) --cut;
      std::string release = held_.substr(0, cut);
      held_.erase(0, cut);
      return owner_.mask(release, site_);
    }

    Result<std::string> finish() override {
      std::string rest = std::move(held_);
      held_.clear();
      return owner_.mask(rest, site_);
    }

    bool holding() const override { return !held_.empty(); }

   private:
    FakeTextMasker& owner_;
    MaskSite site_;
    std::string held_;
  };
};

}  // namespace shadowai::testing
