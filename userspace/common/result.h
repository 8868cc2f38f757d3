// Result<T>: a value or an error, for operations where failure is expected (a bad file, a missing
// /proc entry, a kernel without a feature). Exceptions stay at the edges (CLI parsing, start-up);
// everything below returns Result so a user sees one clear line, not a stack of what()s.
// (std::expected arrives with C++23; this is the small subset we need.)
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace shadowai {

struct Error {
  std::string message;  // one line, ready to show a user
  int errnum = 0;       // errno where one applies, else 0

  // "message: strerror(errnum)" when errnum is set.
  std::string describe() const {
    if (errnum == 0) return message;
    return message + ": " + std::strerror(errnum);
  }
};

inline Error makeError(std::string message, int errnum = 0) { return Error{std::move(message), errnum}; }
inline Error errnoError(std::string message) { return Error{std::move(message), errno}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success or an error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace shadowai
