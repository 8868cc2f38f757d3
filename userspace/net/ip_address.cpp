#include "net/ip_address.h"

#include <arpa/inet.h>

namespace shadowai {

namespace {
constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

IpAddress IpAddress::fromV4(const uint8_t bytes[4]) {
  std::array<uint8_t, 16> mapped{};
  std::memcpy(mapped.data(), kV4MappedPrefix, 12);
  std::memcpy(mapped.data() + 12, bytes, 4);
  return IpAddress(mapped);
}

IpAddress IpAddress::fromV6(const uint8_t bytes[16]) {
  std::array<uint8_t, 16> copy{};
  std::memcpy(copy.data(), bytes, 16);
  return IpAddress(copy);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::string terminated(text);
  uint8_t buffer[16];
  if (inet_pton(AF_INET, terminated.c_str(), buffer) == 1) return fromV4(buffer);
  if (inet_pton(AF_INET6, terminated.c_str(), buffer) == 1) return fromV6(buffer);
  return std::nullopt;
}

bool IpAddress::isV4() const { return std::memcmp(bytes_.data(), kV4MappedPrefix, 12) == 0; }

bool IpAddress::isLoopback() const {
  if (isV4()) return bytes_[12] == 127;
  static constexpr std::array<uint8_t, 16> kLoopbackV6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return bytes_ == kLoopbackV6;
}

std::string IpAddress::toString() const {
  char text[INET6_ADDRSTRLEN];
  if (isV4()) {
    inet_ntop(AF_INET, bytes_.data() + 12, text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, bytes_.data(), text, sizeof(text));
  }
  return text;
}

std::string formatEndpoint(const IpAddress& address, uint16_t port) {
  if (address.isV4()) return address.toString() + ":" + std::to_string(port);
  return "[" + address.toString() + "]:" + std::to_string(port);
}

}  // namespace shadowai
