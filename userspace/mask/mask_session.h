// MaskSession: masking for one intercepted call. It knows which detectors the call's policy selected
// and how each is replaced, numbers placeholders per call (the same value keeps the same placeholder
// in the prompt and the answer), and counts what fired where, for the call's alert: counts and
// detector names only, never the values.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "mask/detector_set.h"
#include "mask/text_masker.h"

namespace shadowai {

// The host secret pseudonyms are keyed with (32 random bytes), so a value masks the same way across
// calls on this host and cannot be recovered by hashing guesses without it.
class PseudonymKey {
 public:
  // Reads FILE, or creates it (mode 0600, 32 bytes from the OpenSSL RNG) when it does not exist.
  static Result<PseudonymKey> loadOrCreate(const std::filesystem::path& file);
  static PseudonymKey fromBytes(const std::array<unsigned char, 32>& bytes);
  const std::array<unsigned char, 32>& bytes() const { return bytes_; }

 private:
  std::array<unsigned char, 32> bytes_{};
};

// What a call's policy asks the masker to do. Built once per (policy, workload, call selector) and
// shared by the calls it applies to.
struct MaskRules {
  std::shared_ptr<const DetectorSet> detectors;
  DetectorSelection requestDetectors;   // which detectors mask the prompt
  DetectorSelection responseDetectors;  // which mask the answer
  std::vector<ReplacementStyle> styles; // by detector index

  // Every detector of DETECTORS on both sides, each with its default replacement (the fuzz targets,
  // the benchmark and tests mask with all of them).
  static std::shared_ptr<const MaskRules> everything(std::shared_ptr<const DetectorSet> detectors);
};

struct DetectorHits {
  std::string detector;  // name
  DetectorCategory category = DetectorCategory::kPii;
  MaskSite site = MaskSite::kRequest;
  uint64_t count = 0;  // distinct values masked (the same value masked twice counts once)

  bool operator==(const DetectorHits&) const = default;
};

// Not thread-safe: one call's request and response are masked in turn. Its streams refer to it and
// must not outlive it.
class MaskSession : public TextMasker {
 public:
  MaskSession(std::shared_ptr<const MaskRules> rules, std::shared_ptr<const PseudonymKey> key);

  Result<std::string> mask(std::string_view text, MaskSite site) override;
  std::unique_ptr<TextStream> openStream(MaskSite site) override;

  // Per detector and site, in detector order then request before response; only those that fired.
  std::vector<DetectorHits> hits() const;
  uint64_t totalHits() const;

  // Bounds the CPU time masking this call may take in all (its prompt, its answer, every streamed
  // delta); zero: no bound. Past it mask() and every stream's feed() and finish() fail, a scan
  // included, so a text shaped to be slow to mask costs its own call (refused, or its stream cut)
  // and not the proxy thread every other call shares.
  void setCpuLimit(std::chrono::nanoseconds limit) { cpuLimitNs_ = static_cast<uint64_t>(limit.count()); }
  std::chrono::nanoseconds cpuSpent() const { return std::chrono::nanoseconds(cpuSpentNs_); }

 private:
  friend class MaskStream;

  // One masking step's CPU time, charged to the call when the step ends.
  class CpuCharge {
   public:
    explicit CpuCharge(MaskSession& session);
    ~CpuCharge();
    CpuCharge(const CpuCharge&) = delete;
    CpuCharge& operator=(const CpuCharge&) = delete;
    // The thread CPU time at which the step must stop (0: no bound), for DetectorSet::scanFrom.
    uint64_t deadline() const;
    // An error when the call has used up its budget; else OK.
    Status check() const;

   private:
    MaskSession& session_;
    uint64_t started_ = 0;
  };

  const DetectorSelection& selection(MaskSite site) const;
  // Appends TEXT[from, to) to OUT with MATCHES (sorted, inside the range) replaced, numbering
  // placeholders and counting hits: only text that is released goes through here, so a stream
  // numbers and counts exactly as masking the whole text at once would.
  Status appendMasked(std::string_view text, size_t from, size_t to, const std::vector<DetectorMatch>& matches,
                      MaskSite site, std::string& out);
  Result<std::string> replacement(uint32_t detector, std::string_view value);

  std::shared_ptr<const MaskRules> rules_;
  std::shared_ptr<const PseudonymKey> key_;
  std::map<std::pair<std::string, std::string>, std::string> placeholders_;  // (label, value) -> "[EMAIL_1]"
  std::map<std::string, uint32_t> nextNumber_;                               // per label
  std::map<std::pair<uint32_t, MaskSite>, uint64_t> counts_;
  std::set<std::tuple<uint32_t, MaskSite, std::string>> countedValues_;
  std::vector<DetectorMatch> scratchMatches_;
  uint64_t cpuLimitNs_ = 0;
  uint64_t cpuSpentNs_ = 0;
};

}  // namespace shadowai
