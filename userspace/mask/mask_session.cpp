#include "mask/mask_session.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>

#include "common/thread_cpu_time.h"
#include "mask/mask_stream.h"

namespace shadowai {

namespace {

const DetectorSelection kNothingSelected;

// "[LABEL_<10 hex>]": the first 5 bytes of HMAC-SHA256(key, label "\0" value). The label is part
// of the input so the same string found by two detectors does not link across labels.
Result<std::string> pseudonym(const PseudonymKey& key, const std::string& label, std::string_view value) {
  std::string input = label;
  input.push_back('\0');
  input.append(value);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.bytes().data(), static_cast<int>(key.bytes().size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest, &length) == nullptr ||
      length < 5) {
    return makeError("cannot compute a pseudonym: HMAC-SHA256 failed");
  }
  char hex[11];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x%02x", digest[0], digest[1], digest[2], digest[3], digest[4]);
  return "[" + label + "_" + hex + "]";
}

}  // namespace

std::shared_ptr<const MaskRules> MaskRules::everything(std::shared_ptr<const DetectorSet> detectors) {
  auto rules = std::make_shared<MaskRules>();
  rules->requestDetectors = detectors->all();
  rules->responseDetectors = detectors->all();
  for (const Detector& detector : detectors->detectors()) rules->styles.push_back(detector.defaultStyle);
  rules->detectors = std::move(detectors);
  return rules;
}

MaskSession::MaskSession(std::shared_ptr<const MaskRules> rules, std::shared_ptr<const PseudonymKey> key)
    : rules_(std::move(rules)), key_(std::move(key)) {}

const DetectorSelection& MaskSession::selection(MaskSite site) const {
  if (!rules_ || !rules_->detectors) return kNothingSelected;
  return site == MaskSite::kRequest ? rules_->requestDetectors : rules_->responseDetectors;
}

MaskSession::CpuCharge::CpuCharge(MaskSession& session)
    : session_(session), started_(session.cpuLimitNs_ != 0 ? threadCpuNanos() : 0) {}

MaskSession::CpuCharge::~CpuCharge() {
  if (session_.cpuLimitNs_ != 0) session_.cpuSpentNs_ += threadCpuNanos() - started_;
}

uint64_t MaskSession::CpuCharge::deadline() const {
  if (session_.cpuLimitNs_ == 0) return 0;
  const uint64_t left = session_.cpuLimitNs_ > session_.cpuSpentNs_ ? session_.cpuLimitNs_ - session_.cpuSpentNs_ : 0;
  return started_ + left;
}

Status MaskSession::CpuCharge::check() const {
  if (session_.cpuLimitNs_ == 0) return {};
  if (session_.cpuSpentNs_ + (threadCpuNanos() - started_) <= session_.cpuLimitNs_) return {};
  return makeError("masking this call took more than its CPU budget of " +
                   std::to_string(session_.cpuLimitNs_ / 1'000'000) + " ms (intercept.max_mask_cpu_ms)");
}

Result<std::string> MaskSession::mask(std::string_view text, MaskSite site) {
  if (!rules_ || !rules_->detectors) return std::string(text);
  CpuCharge charge(*this);
  if (Status budget = charge.check(); !budget) return budget.error();
  if (Status scanned = rules_->detectors->scanFrom(text, 0, selection(site), scratchMatches_, charge.deadline());
      !scanned) {
    if (Status budget = charge.check(); !budget) return budget.error();
    return scanned.error();
  }
  if (scratchMatches_.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  if (Status masked = appendMasked(text, 0, text.size(), scratchMatches_, site, out); !masked) return masked.error();
  return out;
}

std::unique_ptr<TextStream> MaskSession::openStream(MaskSite site) { return std::make_unique<MaskStream>(*this, site); }

Status MaskSession::appendMasked(std::string_view text, size_t from, size_t to,
                                 const std::vector<DetectorMatch>& matches, MaskSite site, std::string& out) {
  size_t position = from;
  for (const DetectorMatch& match : matches) {
    out.append(text.substr(position, match.begin - position));
    const std::string_view value = text.substr(match.begin, match.end - match.begin);
    auto replaced = replacement(match.detector, value);
    if (!replaced) return replaced.error();
    out += *replaced;
    // Distinct values: some APIs repeat the answer (OpenAI Responses streams its text as deltas, then
    // whole in output_text.done and again in response.completed), and one value is one finding.
    if (countedValues_.emplace(match.detector, site, std::string(value)).second) ++counts_[{match.detector, site}];
    position = match.end;
  }
  out.append(text.substr(position, to - position));
  return {};
}

Result<std::string> MaskSession::replacement(uint32_t detector, std::string_view value) {
  const Detector& info = rules_->detectors->detectors()[detector];
  ReplacementStyle style = detector < rules_->styles.size() ? rules_->styles[detector] : info.defaultStyle;
  switch (style) {
    case ReplacementStyle::kRedact:
      return std::string("[REDACTED]");
    case ReplacementStyle::kPseudonym:
      // Without the host key a pseudonym would be a plain hash anyone could check guesses against.
      if (!key_) return makeError("detector " + info.name + " asks for pseudonyms but no pseudonym key is loaded");
      return pseudonym(*key_, info.label, value);
    case ReplacementStyle::kPlaceholder:
      break;
  }
  auto [it, inserted] = placeholders_.try_emplace({info.label, std::string(value)});
  if (inserted) it->second = "[" + info.label + "_" + std::to_string(++nextNumber_[info.label]) + "]";
  return it->second;
}

std::vector<DetectorHits> MaskSession::hits() const {
  std::vector<DetectorHits> out;
  for (const auto& [where, count] : counts_) {
    const Detector& info = rules_->detectors->detectors()[where.first];
    out.push_back(DetectorHits{info.name, info.category, where.second, count});
  }
  return out;
}

uint64_t MaskSession::totalHits() const {
  uint64_t total = 0;
  for (const auto& entry : counts_) total += entry.second;
  return total;
}

}  // namespace shadowai
