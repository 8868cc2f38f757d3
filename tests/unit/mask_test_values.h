// Deterministic fake credentials for the masking tests: right shape, random-looking, never real.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shadowai::testing {

inline constexpr std::string_view kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kHex = "0123456789abcdef";

// N characters from ALPHABET; SEED picks a different but reproducible string.
inline std::string fakeChars(std::string_view alphabet, size_t n, uint64_t seed = 1) {
  std::string out;
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  for (size_t i = 0; i < n; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    out.push_back(alphabet[state % alphabet.size()]);
  }
  return out;
}

}  // namespace shadowai::testing
