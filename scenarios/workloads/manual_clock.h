// ManualClock: a platform::Runtime for one caller and the private objects it
// drives, whose clock moves only when the caller sleeps.
//
// Why: a model that predicts a time-driven policy to the nanosecond (the
// decommit-policy episode: "now >= the next check", "idle for at least N ns")
// must know the time each call reads. Under the simulator every scheduling
// point — each lock, each clock read — adds ns_per_step to the clock, and any
// other runnable fiber's steps too, so a call reads a time known only to
// within a few hundred nanoseconds. Installed (platform::RuntimeScope) on a
// fiber around a private instance's whole life, the calls read the caller's
// clock: platform::sleep_for_ns advances it by exactly the duration, nothing
// else does. Nothing else runs meanwhile: the simulation sees no scheduling
// point, so a seed's trace is the same with or without the episode.
//
// One caller: a lock never contends (a lock of a held mutex, an unlock of a
// free one is a broken discipline), a wait can never be woken (a deadlock),
// and a spawn is refused. `fail` reports those and must not return. The
// after_next_sleep, at_next_atomic and at_lock actions run on that caller
// too, as another thread when they switch act_as_thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "core/platform/runtime.h"

namespace segsim::scenarios {

class ManualClock final : public platform::Runtime {
 public:
  using FailFn = std::function<void(const std::string& what)>;

  ManualClock(std::int64_t start_ns, FailFn fail) : now_ns_(start_ns), fail_(std::move(fail)) {}

  void mutex_lock(platform::SimTag& mutex) override {
    if (at_lock_) {
      // Out of the member while it runs: its own calls lock mutexes too.
      std::function<bool(const platform::SimTag&)> then = std::exchange(at_lock_, nullptr);
      if (!then(mutex) && !at_lock_) at_lock_ = std::move(then);
    }
    if (!mutex_try_lock(mutex)) fail_("manual clock: a mutex locked by its one caller while held (a self-deadlock)");
  }
  bool mutex_try_lock(platform::SimTag& mutex) override {
    if (mutex.epoch == kHeld) return false;
    mutex.epoch = kHeld;  // never a simulation's epoch: the objects are this runtime's alone
    return true;
  }
  void mutex_unlock(platform::SimTag& mutex) override {
    if (mutex.epoch != kHeld) fail_("manual clock: a mutex unlocked that is not locked");
    mutex.epoch = 0;
  }
  void condvar_wait(platform::SimTag&, platform::SimTag&) override {
    fail_("manual clock: a wait on a condition variable with no other thread to notify it (a deadlock)");
  }
  bool condvar_wait_for(platform::SimTag&, platform::SimTag&, std::int64_t) override {
    fail_("manual clock: a timed wait on a condition variable with no other thread to notify it");
    return false;
  }
  void condvar_notify(platform::SimTag&, bool) override {}
  void atomic_access(platform::SimTag&, platform::AtomicOp op) override {
    if (at_next_atomic_) std::exchange(at_next_atomic_, nullptr)(op);
  }
  bool spawn(platform::Task) override { return false; }
  std::int64_t now_ns() override { return now_ns_; }
  void sleep_for_ns(std::int64_t duration_ns) override {
    now_ns_ += duration_ns;
    if (after_next_sleep_) std::exchange(after_next_sleep_, nullptr)();
  }
  void yield() override {}

  // Runs `then` at the end of the next sleep, once: what another thread did
  // meanwhile, where the code under test sleeps with its lock dropped (a slow
  // fault point's window).
  void after_next_sleep(std::function<void()> then) { after_next_sleep_ = std::move(then); }
  // Runs `then` at the next atomic access, once, given its operation: what
  // another thread did at that scheduling point (a simulated hit path's).
  void at_next_atomic(std::function<void(platform::AtomicOp)> then) { at_next_atomic_ = std::move(then); }
  // Runs `then` at each mutex_lock, before the mutex is taken, given it,
  // until `then` returns true: what another thread did while the caller
  // waited for that lock (the window between a check made without the lock
  // and the locked work that relies on it). Null disarms it.
  void at_lock(std::function<bool(const platform::SimTag&)> then) { at_lock_ = std::move(then); }
  // The simulated thread the caller's calls now belong to (thread_key(): the
  // per-thread caches' key), so one caller can act as several threads.
  void act_as_thread(std::uint32_t key) { thread_key_ = key; }

 private:
  static constexpr std::uint32_t kHeld = ~std::uint32_t{0};

  std::int64_t now_ns_;
  FailFn fail_;
  std::function<void()> after_next_sleep_;
  std::function<void(platform::AtomicOp)> at_next_atomic_;
  std::function<bool(const platform::SimTag&)> at_lock_;
};

}  // namespace segsim::scenarios
