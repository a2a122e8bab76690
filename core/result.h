// Result<T, E>: a value or an error, for every fallible call in core.
//
// C++20 has no std::expected; this is the small subset we need. Results are
// [[nodiscard]]: an ignored error is a compile warning (an error under -Werror).
#pragma once

#include <utility>
#include <variant>

#include "core/assert.h"
#include "core/error.h"

namespace segsim {

template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    SEGSIM_ASSERT(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  const T& value() const& {
    SEGSIM_ASSERT(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  T&& value() && {
    SEGSIM_ASSERT(ok(), "Result::value() on an error");
    return std::get<0>(std::move(state_));
  }
  const E& error() const& {
    SEGSIM_ASSERT(!ok(), "Result::error() on a value");
    return std::get<1>(state_);
  }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> state_;
};

// Status: success or an error, for calls that return nothing.
template <class E = Error>
class [[nodiscard]] BasicStatus {
 public:
  BasicStatus() = default;
  BasicStatus(E error) : error_(std::move(error)), failed_(true) {}  // NOLINT(implicit)

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const E& error() const {
    SEGSIM_ASSERT(failed_, "Status::error() on success");
    return error_;
  }

 private:
  E error_{};
  bool failed_ = false;
};

using Status = BasicStatus<Error>;

}  // namespace segsim
