// platform::Mutex and platform::CondVar: std::mutex / std::condition_variable
// in production, scheduling points under a simulation (see runtime.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "core/platform/runtime.h"
#include "core/platform/sync_clock.h"

namespace segsim::platform {

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() {
    if (Runtime* rt = current_runtime(); __builtin_expect(rt != nullptr, 0)) {
      rt->mutex_lock(tag_);
    } else {
      native_.lock();
      if (sync_clock::on()) [[unlikely]] sync_clock::acquired(clock_);
    }
  }
  bool try_lock() {
    if (Runtime* rt = current_runtime(); __builtin_expect(rt != nullptr, 0)) {
      return rt->mutex_try_lock(tag_);
    }
    if (!native_.try_lock()) return false;
    if (sync_clock::on()) [[unlikely]] sync_clock::acquired(clock_);
    return true;
  }
  void unlock() {
    if (Runtime* rt = current_runtime(); __builtin_expect(rt != nullptr, 0)) {
      rt->mutex_unlock(tag_);
    } else {
      if (sync_clock::on()) [[unlikely]] sync_clock::releasing(clock_);
      native_.unlock();
    }
  }

 private:
  friend class CondVar;
  std::mutex native_;
  SimTag tag_;
  std::uint64_t clock_ = 0;  // the flight recorder's order (sync_clock.h); guarded by the mutex itself
};

using LockGuard = std::lock_guard<Mutex>;
using UniqueLock = std::unique_lock<Mutex>;

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // `lock` must hold its mutex.
  void wait(UniqueLock& lock);
  template <class Predicate>
  void wait(UniqueLock& lock, Predicate ready) {
    while (!ready()) wait(lock);
  }
  // False on timeout (wall time in production, virtual time under simulation).
  bool wait_for_ns(UniqueLock& lock, std::int64_t timeout_ns);

  void notify_one();
  void notify_all();

 private:
  std::condition_variable native_;
  SimTag tag_;
};

}  // namespace segsim::platform
