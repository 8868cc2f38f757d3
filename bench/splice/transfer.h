// What splice_bench's client and server say to each other over TLS once the handshake is done: a
// transfer request, then the bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace shadowai::bench::splice {

// A transfer request, sent by the client right after the handshake: kind, then the byte count.
inline constexpr size_t kTransferHeaderSize = 16;
inline constexpr uint8_t kUpload = 'U';    // the client sends COUNT bytes, the server acknowledges with one byte
inline constexpr uint8_t kDownload = 'D';  // the server sends COUNT bytes

std::array<uint8_t, kTransferHeaderSize> transferHeader(uint8_t kind, uint64_t bytes);

// SIZE bytes that do not compress: what a bulk transfer sends.
std::vector<uint8_t> pseudoRandomBytes(size_t size);

}  // namespace shadowai::bench::splice
