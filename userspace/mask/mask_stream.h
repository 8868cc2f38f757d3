// MaskStream: the TextStream of a MaskSession. It holds back only what pendingSuffix says could still
// become part of a match, and releases everything else masked, so a text fed in any split comes out
// exactly as MaskSession::mask would give it whole (same matches, same placeholder numbers).
//
// Why that holds: bytes before the release point cannot be part of any match that a later delta
// completes (pendingSuffix is sound), and a match starting before it is final (it ends inside the
// text, and no later match can start earlier), so it is released whole even when it reaches into
// the pending tail. Up to maxWindow() + 1 already-released bytes are kept as left context for the
// next scan, so \b and each match's leftmost start come out as on the whole text; matches that
// begin in that context are not decided again (DetectorSet::scanFrom). A long assigned value that
// is still arriving when its match is released is replaced whole too: the bytes that continue it
// are dropped as they arrive, as its match on the whole text would have covered them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mask/mask_session.h"

namespace shadowai {

class MaskStream final : public TextStream {
 public:
  MaskStream(MaskSession& session, MaskSite site) : session_(session), site_(site) {}

  Result<std::string> feed(std::string_view delta) override;
  Result<std::string> finish() override;
  bool holding() const override { return buffer_.size() > contextLength_; }

 private:
  Result<std::string> release(bool everything);
  void dropValueContinuation(bool everything);

  MaskSession& session_;
  MaskSite site_;
  std::string buffer_;        // released context, then the held text
  size_t contextLength_ = 0;  // how much of buffer_ is context
  std::vector<DetectorMatch> matches_;
  // A released match of a long assigned value (Detector::extendsToValueEnd) reached the end of what
  // had arrived: its placeholder stands for the whole value, so what continues it is dropped.
  bool continuingValue_ = false;
};

}  // namespace shadowai
