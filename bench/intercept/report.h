// intercept_bench's report: what a run found, as JSON or as the human summary with its goals.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "intercept/phases.h"
#include "intercept/scenario.h"

namespace shadowai::bench::intercept {

using nlohmann::json;

struct Summary {
  std::string kernel;
  unsigned cpus = 0;
  std::string loadBefore, loadAfter;
  std::string nginxVersion;
  json proxyBefore, proxyAfter;
  std::optional<uint64_t> journalEntries;  // llm-call-intercepted entries journald stored
  uint64_t journaldRestarts = 0;
  uint64_t interceptedCallsWithJournald = 0;
  std::array<VariantFigures, kVariantCount> figures;
  std::array<Session, kVariantCount> sessions;
  std::array<bool, kVariantCount> measured{};
};

json toJson(const Options& options, const Summary& summary);
void printHuman(const Options& options, const Summary& summary);

}  // namespace shadowai::bench::intercept
