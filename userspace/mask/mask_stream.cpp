#include "mask/mask_stream.h"

#include <algorithm>

namespace shadowai {

Result<std::string> MaskStream::feed(std::string_view delta) {
  if (delta.empty()) return std::string();
  buffer_.append(delta);
  return release(false);
}

Result<std::string> MaskStream::finish() {
  auto out = release(true);
  buffer_.clear();
  contextLength_ = 0;
  return out;
}

void MaskStream::dropValueContinuation(bool everything) {
  size_t run = contextLength_;
  while (run < buffer_.size() && isAssignedValueByte(buffer_[run])) ++run;
  bool valueEnded = run < buffer_.size() || everything;
  size_t dropEnd = run;
  while (dropEnd > contextLength_ && isValueCloser(buffer_[dropEnd - 1])) --dropEnd;
  // Closers at the end are held while the value may go on; a run of them longer than the longest
  // match is let go, so nothing is held without bound (at worst closers go out, never value bytes).
  bool tooManyClosers = run - dropEnd > session_.rules_->detectors->maxWindow();
  buffer_.erase(contextLength_, dropEnd - contextLength_);
  if (valueEnded || tooManyClosers) continuingValue_ = false;
}

Result<std::string> MaskStream::release(bool everything) {
  const DetectorSet& set = *session_.rules_->detectors;
  const DetectorSelection& selected = session_.selection(site_);
  if (continuingValue_) {
    dropValueContinuation(everything);
    // Still going on: what is left are closers at the end, held until the value's fate is known.
    if (continuingValue_) return std::string();
  }
  MaskSession::CpuCharge charge(session_);
  if (Status budget = charge.check(); !budget) return budget.error();
  if (Status scanned = set.scanFrom(buffer_, contextLength_, selected, matches_, charge.deadline()); !scanned) {
    if (Status budget = charge.check(); !budget) return budget.error();
    return scanned.error();
  }

  size_t releaseEnd = buffer_.size();
  if (!everything) {
    size_t pending = set.pendingSuffix(buffer_, selected);
    size_t safe = std::max(contextLength_, buffer_.size() - pending);
    releaseEnd = safe;
    for (const DetectorMatch& match : matches_) {
      if (match.begin < safe) releaseEnd = std::max(releaseEnd, match.end);
    }
  }
  auto held = std::find_if(matches_.begin(), matches_.end(),
                           [&](const DetectorMatch& match) { return match.begin >= releaseEnd; });
  matches_.erase(held, matches_.end());
  if (!everything && !matches_.empty() && set.detectors()[matches_.back().detector].extendsToValueEnd) {
    // Does its value run on to the end of what has arrived? Then the closers after the match are
    // held (they belong to the value if more of it follows) and what follows is dropped.
    size_t run = matches_.back().end;
    while (run < buffer_.size() && isAssignedValueByte(buffer_[run])) ++run;
    if (run == buffer_.size() && run - matches_.back().end <= set.maxWindow()) {
      continuingValue_ = true;
      releaseEnd = matches_.back().end;
    }
  }

  std::string out;
  if (Status masked = session_.appendMasked(buffer_, contextLength_, releaseEnd, matches_, site_, out); !masked) {
    return masked.error();
  }
  size_t keepContext = set.maxWindow() + 1;
  size_t dropped = releaseEnd > keepContext ? releaseEnd - keepContext : 0;
  buffer_.erase(0, dropped);
  contextLength_ = releaseEnd - dropped;
  return out;
}

}  // namespace shadowai
