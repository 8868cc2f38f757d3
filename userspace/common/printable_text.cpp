#include "common/printable_text.h"

namespace shadowai {

size_t printableSize(unsigned char c) { return c >= 0x20 && c < 0x7f ? 1 : 4; }

std::string printableText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (printableSize(c) == 1) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
    }
  }
  return out;
}

}  // namespace shadowai
