// ConnectionSlot: one of ProxyOptions::maxConnections places, held by a connection from accept to
// close and given back by its destructor, whichever way the connection ends (even when a stopping
// io_context destroys it mid-flight).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace shadowai {

class ConnectionSlot {
 public:
  // A slot if fewer than LIMIT are held; ACTIVE counts the holders and must outlive every slot.
  static std::optional<ConnectionSlot> tryAcquire(std::atomic<uint64_t>& active, size_t limit) {
    if (active.fetch_add(1, std::memory_order_relaxed) >= limit) {
      active.fetch_sub(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return ConnectionSlot(&active);
  }

  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ConnectionSlot(ConnectionSlot&& other) noexcept : active_(std::exchange(other.active_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept {
    if (this != &other) {
      release();
      active_ = std::exchange(other.active_, nullptr);
    }
    return *this;
  }
  ~ConnectionSlot() { release(); }

 private:
  explicit ConnectionSlot(std::atomic<uint64_t>* active) : active_(active) {}
  void release() {
    if (active_ != nullptr) active_->fetch_sub(1, std::memory_order_relaxed);
    active_ = nullptr;
  }

  std::atomic<uint64_t>* active_ = nullptr;
};

}  // namespace shadowai
