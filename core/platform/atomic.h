// platform::Atomic<T>: std::atomic<T> in production; under a simulation each
// operation is first a scheduling point, so interleavings between atomic
// operations are explored. Only the operations core needs are provided.
// Operations are not noexcept: a simulation unwinds a cancelled fiber from its
// next scheduling point, which may be an atomic operation.
#pragma once

#include <atomic>

#include "core/platform/runtime.h"

namespace segsim::platform {

template <class T>
class Atomic {
 public:
  constexpr Atomic() noexcept = default;
  constexpr explicit Atomic(T initial) noexcept : value_(initial) {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(std::memory_order order = std::memory_order_seq_cst) const {
    point(AtomicOp::Load);
    return value_.load(order);
  }
  void store(T desired, std::memory_order order = std::memory_order_seq_cst) {
    point(AtomicOp::Store);
    value_.store(desired, order);
  }
  T exchange(T desired, std::memory_order order = std::memory_order_seq_cst) {
    point(AtomicOp::Exchange);
    return value_.exchange(desired, order);
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order order = std::memory_order_seq_cst) {
    point(AtomicOp::CompareExchange);
    return value_.compare_exchange_strong(expected, desired, order);
  }
  T fetch_add(T delta, std::memory_order order = std::memory_order_seq_cst) {
    point(AtomicOp::FetchAdd);
    return value_.fetch_add(delta, order);
  }
  T fetch_sub(T delta, std::memory_order order = std::memory_order_seq_cst) {
    point(AtomicOp::FetchSub);
    return value_.fetch_sub(delta, order);
  }

 private:
  void point(AtomicOp op) const {
    if (Runtime* rt = current_runtime(); __builtin_expect(rt != nullptr, 0)) {
      rt->atomic_access(tag_, op);
    }
  }
  std::atomic<T> value_{};
  mutable SimTag tag_;
};

}  // namespace segsim::platform
