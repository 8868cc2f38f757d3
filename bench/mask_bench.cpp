// mask_bench: masking throughput with the full built-in detector set, next to the naive reference
// (each detector's pattern run one by one with std::regex), on the same texts in one run.
//
//   build/bench/mask_bench [--benchmark_filter=...] [--benchmark_min_time=...]
//
// Texts: (a) English-like prose with about one match per 10 KB (emails, keys, cards, phones), and
// (b) dense personal data, a match every ~60 bytes. 1 MiB each for the engine; the std::regex
// reference runs on the first 64 KiB, line by line (libstdc++'s std::regex recurses per character
// and overflows the stack on long inputs), so its bytes/s are comparable but its absolute run time
// is not. Ratios are printed after the runs.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "mask/mask_session.h"
#include "support/shipped_detectors.h"

namespace {

using shadowai::DetectorSet;
using shadowai::MaskRules;
using shadowai::MaskSession;

std::string fake(size_t n, uint64_t seed) {
  static const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    out.push_back(kAlnum[state % 62]);
  }
  return out;
}

const std::vector<std::string>& sensitiveValues() {
  static const std::vector<std::string> values = {
      "john.doe@example.com", "sk-proj-" + fake(48, 1), "4111 1111 1111 1111", "(415) 555-2671",
      "ghp_" + fake(36, 2),   "DE89 3704 0044 0532 0130 00", "10.20.30.40", "AKIAZ4XJ5QK2L7M3N6P8",
      "123-45-6789",          "password=Xk9#mP2vL7q!"};
  return values;
}

std::string prose(size_t size, size_t bytesPerMatch) {
  static const char* kWords[] = {"the", "model", "returned", "an", "answer", "about", "quarterly", "revenue", "and",
                                 "customer", "growth", "in", "Europe", "which", "we", "should", "review", "before",
                                 "Monday", "because", "numbers", "look", "different", "from", "last", "year"};
  std::string text;
  uint64_t state = 42;
  size_t nextMatch = bytesPerMatch;
  size_t value = 0;
  size_t sentence = 0;
  while (text.size() < size) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    text += kWords[(state >> 33) % (sizeof kWords / sizeof *kWords)];
    if (++sentence % 14 == 0) text += (sentence % 70 == 0) ? ".\n" : ". ";
    else text += ' ';
    if (text.size() >= nextMatch) {
      text += sensitiveValues()[value++ % sensitiveValues().size()];
      text += ' ';
      nextMatch += bytesPerMatch;
    }
  }
  text.resize(size);
  return text;
}

const std::string& sparseText() {
  static const std::string text = prose(1 << 20, 10 * 1024);
  return text;
}
const std::string& denseText() {
  static const std::string text = prose(1 << 20, 60);
  return text;
}

// Shapes a workload controls that stress the "name = value" detector: assignments back to back,
// and one assignment whose value never ends (the detector's longest value, then more).
const std::string& denseAssignments() {
  static const std::string text = [] {
    std::string out;
    for (uint64_t i = 0; out.size() < (1 << 20); ++i) out += "password=" + fake(14, i) + "#1 ";
    return out;
  }();
  return text;
}
const std::string& unendingValue() {
  static const std::string text = "token=" + fake((1 << 20) - 6, 7);
  return text;
}

std::shared_ptr<const MaskRules> rules() {
  static auto made = [] {
    auto compiled = DetectorSet::compile(shadowai::shippedDetectors());
    if (!compiled) {
      std::fprintf(stderr, "mask_bench: %s\n", compiled.error().describe().c_str());
      std::exit(1);
    }
    return MaskRules::everything(*compiled);
  }();
  return made;
}

void maskText(benchmark::State& state, const std::string& text) {
  auto key = std::make_shared<shadowai::PseudonymKey>(shadowai::PseudonymKey::fromBytes({}));
  size_t replaced = 0;
  for (auto _ : state) {
    MaskSession session(rules(), key);
    auto masked = session.mask(text, shadowai::MaskSite::kRequest);
    if (!masked) state.SkipWithError("mask failed");
    replaced = session.totalHits();
    benchmark::DoNotOptimize(masked);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["matches"] = static_cast<double>(replaced);
}

void streamText(benchmark::State& state, const std::string& text) {
  auto key = std::make_shared<shadowai::PseudonymKey>(shadowai::PseudonymKey::fromBytes({}));
  for (auto _ : state) {
    MaskSession session(rules(), key);
    auto stream = session.openStream(shadowai::MaskSite::kResponse);
    size_t out = 0;
    // Token-sized deltas, as an SSE answer arrives.
    for (size_t at = 0; at < text.size(); at += 16) out += stream->feed(std::string_view(text).substr(at, 16))->size();
    out += stream->finish()->size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

// The reference: each detector's pattern translated to ECMAScript and run with std::regex.
struct ReferenceRegex {
  std::string name;
  std::regex regex;
};

const std::vector<ReferenceRegex>& referenceRegexes() {
  static const std::vector<ReferenceRegex> regexes = [] {
    std::vector<ReferenceRegex> out;
    std::vector<std::string> skipped;
    for (const auto& detector : shadowai::shippedDetectors()) {
      // The built-ins use only syntax ECMAScript shares with PCRE ((?:), classes, {m,n}, \b, \s);
      // a pattern std::regex rejects is skipped and named.
      auto flags = std::regex::ECMAScript | std::regex::optimize | (detector.caseless ? std::regex::icase : std::regex::flag_type{});
      try {
        out.push_back({detector.name, std::regex(detector.pattern, flags)});
      } catch (const std::regex_error&) {
        skipped.push_back(detector.name);
      }
    }
    std::fprintf(stderr, "std::regex reference: %zu of %zu detectors", out.size(), shadowai::shippedDetectors().size());
    for (const auto& name : skipped) std::fprintf(stderr, " (skipped %s)", name.c_str());
    std::fprintf(stderr, "\n");
    return out;
  }();
  return regexes;
}

void stdRegexText(benchmark::State& state, const std::string& fullText) {
  std::string text = fullText.substr(0, 64 * 1024);
  std::vector<std::string_view> lines;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    lines.emplace_back(std::string_view(text).substr(at, end - at));
    at = end + 1;
  }
  const auto& regexes = referenceRegexes();
  size_t found = 0;
  for (auto _ : state) {
    found = 0;
    for (const auto& reference : regexes) {
      for (std::string_view line : lines) {
        for (std::cregex_iterator it(line.data(), line.data() + line.size(), reference.regex), end; it != end; ++it) {
          ++found;
        }
      }
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["matches"] = static_cast<double>(found);
}

BENCHMARK_CAPTURE(maskText, sparse_prose, sparseText())->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(maskText, dense_pii, denseText())->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(streamText, sparse_prose_16B_deltas, sparseText())->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(maskText, dense_assignments, denseAssignments())->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(maskText, unending_value, unendingValue())->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(stdRegexText, sparse_prose, sparseText())->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(stdRegexText, dense_pii, denseText())->Unit(benchmark::kMillisecond);

// Keeps every run's bytes/s so the ratios can be printed at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("bytes_per_second");
      if (it != run.counters.end()) bytesPerSecond[run.benchmark_name()] = it->second;
    }
  }
  std::map<std::string, double> bytesPerSecond;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  rules();  // compile outside the timed runs
  referenceRegexes();
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto rate = [&](const std::string& name) {
    auto it = reporter.bytesPerSecond.find(name);
    return it == reporter.bytesPerSecond.end() ? 0.0 : it->second;
  };
  for (const char* text : {"sparse_prose", "dense_pii"}) {
    double engine = rate(std::string("maskText/") + text);
    double naive = rate(std::string("stdRegexText/") + text);
    if (engine > 0 && naive > 0) {
      std::printf("%-13s shadowai %8.1f MB/s   std::regex one by one %8.3f MB/s   ratio %.0fx\n", text, engine / 1e6,
                  naive / 1e6, engine / naive);
    }
  }
  benchmark::Shutdown();
  return 0;
}
