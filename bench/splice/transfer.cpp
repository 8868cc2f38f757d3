#include "splice/transfer.h"

#include <cstring>

namespace shadowai::bench::splice {

std::array<uint8_t, kTransferHeaderSize> transferHeader(uint8_t kind, uint64_t bytes) {
  std::array<uint8_t, kTransferHeaderSize> header{};
  header[0] = kind;
  std::memcpy(header.data() + 8, &bytes, sizeof(bytes));  // both ends run on this host
  return header;
}

std::vector<uint8_t> pseudoRandomBytes(size_t size) {
  std::vector<uint8_t> bytes(size);
  uint32_t state = 12345;
  for (auto& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<uint8_t>(state >> 24);
  }
  return bytes;
}

}  // namespace shadowai::bench::splice
