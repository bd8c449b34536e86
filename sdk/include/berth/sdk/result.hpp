// Error values and Result<T>, the std::expected-shaped return type used on both sides of the SDK.
// Expected failures (I/O, mounts, bad input, drivers) are values, not exceptions; context is added
// on the way up crun-style: "start container 3f2a: create task: mount overlay: invalid argument".
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "berth/sdk/abi.h"

namespace berth::sdk {

enum class ErrorCode : int32_t {
  kOk = BERTH_OK,
  kInvalidArgument = BERTH_ERR_INVALID_ARGUMENT,
  kNotFound = BERTH_ERR_NOT_FOUND,
  kAlreadyExists = BERTH_ERR_ALREADY_EXISTS,
  kFailedPrecondition = BERTH_ERR_FAILED_PRECONDITION,
  kUnsupported = BERTH_ERR_UNSUPPORTED,
  kUnavailable = BERTH_ERR_UNAVAILABLE,
  kCancelled = BERTH_ERR_CANCELLED,
  kDeadlineExceeded = BERTH_ERR_DEADLINE_EXCEEDED,
  kPermissionDenied = BERTH_ERR_PERMISSION_DENIED,
  kResourceExhausted = BERTH_ERR_RESOURCE_EXHAUSTED,
  kInternal = BERTH_ERR_INTERNAL,
};

// Maps a raw status from the other side of the ABI; unknown codes become kInternal.
inline ErrorCode error_code_from_status(berth_status status) {
  if (status >= BERTH_OK && status <= BERTH_ERR_INTERNAL) return static_cast<ErrorCode>(status);
  return ErrorCode::kInternal;
}

inline std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kAlreadyExists: return "already exists";
    case ErrorCode::kFailedPrecondition: return "failed precondition";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kDeadlineExceeded: return "deadline exceeded";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kResourceExhausted: return "resource exhausted";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // "what: message": context for the caller's log line or HTTP answer.
  [[nodiscard]] Error wrap(std::string_view what) const& {
    return Error{code, std::string(what) + ": " + message};
  }
  [[nodiscard]] Error wrap(std::string_view what) && {
    message.insert(0, std::string(what) + ": ");
    return std::move(*this);
  }
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// Error from errno: "what: strerror(err)", with a code chosen from the errno.
inline Error errno_error(std::string_view what, int err = errno) {
  ErrorCode code = ErrorCode::kInternal;
  switch (err) {
    case ENOENT: case ESRCH: code = ErrorCode::kNotFound; break;
    case EEXIST: code = ErrorCode::kAlreadyExists; break;
    case EINVAL: case ENAMETOOLONG: case ENOTDIR: case EISDIR: case ELOOP: case EXDEV:
      code = ErrorCode::kInvalidArgument; break;
    case EPERM: case EACCES: code = ErrorCode::kPermissionDenied; break;
    case ENOSPC: case EMFILE: case ENFILE: case ENOMEM: case EDQUOT:
      code = ErrorCode::kResourceExhausted; break;
    case EBUSY: case ENOTEMPTY: code = ErrorCode::kFailedPrecondition; break;
    case ENOSYS: case EOPNOTSUPP: code = ErrorCode::kUnsupported; break;
    case EAGAIN: case ECONNREFUSED: code = ErrorCode::kUnavailable; break;
    case ETIMEDOUT: code = ErrorCode::kDeadlineExceeded; break;
    default: break;
  }
  std::string message(what);
  message += ": ";
  // Lowercase like Go's errors: the docker CLI matches phrases such as "no such file or
  // directory" and "permission denied" in daemon messages to pick its exit code.
  std::string text = std::strerror(err);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
  message += text;
  return Error{code, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  using value_type = T;

  Result() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
  Result(const T& value) : v_(std::in_place_index<0>, value) {}  // NOLINT: implicit by design
  Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  template <class U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Error> &&
             !std::is_same_v<std::decay_t<U>, Result>)
  Result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  Result(const Error& error) : v_(std::in_place_index<1>, error) {}  // NOLINT
  Result(Error&& error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(const Error& error) : error_(error), failed_(true) {}  // NOLINT: implicit by design
  Result(Error&& error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }
  void value() const {}

  Error& error() & { return error_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

inline Status ok() { return {}; }

}  // namespace berth::sdk

// Propagates a failed Result out of the enclosing function (which returns a Result of any type).
#define BERTH_TRY_STATUS(expr)                                  \
  do {                                                          \
    auto&& berth_try_result_ = (expr);                          \
    if (!berth_try_result_) return std::move(berth_try_result_).error(); \
  } while (0)
