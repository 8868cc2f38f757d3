// IpAddress: an IPv4 or IPv6 address held as 16 bytes. IPv4 is kept as an IPv4-mapped IPv6
// address (::ffff:a.b.c.d), the same shape the BPF programs emit, so one map key covers a v4
// socket, a v6 socket and a v4-mapped connect on a v6 socket.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace shadowai {

class IpAddress {
 public:
  IpAddress() = default;
  explicit IpAddress(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}

  static IpAddress fromV4(const uint8_t bytes[4]);
  static IpAddress fromV6(const uint8_t bytes[16]);
  // Parses "1.2.3.4" or "2001:db8::1" (no brackets, no port).
  static std::optional<IpAddress> parse(std::string_view text);

  bool isV4() const;  // true for IPv4-mapped addresses
  bool isLoopback() const;
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  // "1.2.3.4" for v4(-mapped), "2001:db8::1" otherwise.
  std::string toString() const;

  bool operator==(const IpAddress&) const = default;
  auto operator<=>(const IpAddress&) const = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

// "1.2.3.4:443" or "[2001:db8::1]:443".
std::string formatEndpoint(const IpAddress& address, uint16_t port);

struct IpAddressHash {
  size_t operator()(const IpAddress& address) const noexcept {
    uint64_t high = 0, low = 0;
    std::memcpy(&high, address.bytes().data(), 8);
    std::memcpy(&low, address.bytes().data() + 8, 8);
    return std::hash<uint64_t>()(high * 0x9E3779B97F4A7C15ULL ^ low);
  }
};

}  // namespace shadowai
