// The seam between the text masker (MaskSession: detectors and replacements) and what feeds it text
// (the provider-aware body and stream rewriting in mask/call_masker.h). Whole texts are masked at
// once; streamed text goes through a TextStream per stream channel (a choice, a content block), which
// may hold back a bounded tail that could still grow into a match.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace shadowai {

enum class MaskSite { kRequest, kResponse };
std::string_view toString(MaskSite site);  // "request", "response"

class TextStream {
 public:
  virtual ~TextStream() = default;
  // The masked text that may go to the client now: DELTA appended to what was held, masked, minus a
  // tail that could still be the start of a match (held for the next call). Nothing is held when no
  // match can be in progress, so text is not delayed for nothing.
  virtual Result<std::string> feed(std::string_view delta) = 0;
  // Everything still held, masked: the channel ended.
  virtual Result<std::string> finish() = 0;
  virtual bool holding() const = 0;
};

class TextMasker {
 public:
  virtual ~TextMasker() = default;
  // TEXT with every match replaced (the same text when nothing matched). An error means the text
  // could not be masked: the caller refuses the call.
  virtual Result<std::string> mask(std::string_view text, MaskSite site) = 0;
  virtual std::unique_ptr<TextStream> openStream(MaskSite site) = 0;
};

}  // namespace shadowai
