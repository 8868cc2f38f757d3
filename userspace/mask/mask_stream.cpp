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

Result<std::string> MaskStream::release(bool everything) {
  const DetectorSet& set = *session_.rules_->detectors;
  const DetectorSelection& selected = session_.selection(site_);
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
