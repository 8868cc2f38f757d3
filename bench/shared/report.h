// What the benchmarks' reports share: how a goal's verdict reads, and where the report goes.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>

namespace shadowai::bench {

// "met" or "MISSED": the word a reader scans a report for.
inline const char* verdict(bool met) { return met ? "met" : "MISSED"; }

// The report on stdout: TO_JSON's figures for machines with --json, PRINT_HUMAN's summary otherwise.
template <typename ToJson, typename PrintHuman>
void printReport(bool asJson, const ToJson& toJson, const PrintHuman& printHuman) {
  if (asJson) {
    std::printf("%s\n", nlohmann::json(toJson()).dump(2).c_str());
  } else {
    printHuman();
  }
}

}  // namespace shadowai::bench
