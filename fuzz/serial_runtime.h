// SerialRuntime: a platform::Runtime for fuzz targets that runs core's async
// work on the caller's thread, at the point the caller waits for it.
//
// Why: a SegmentAllocator starts a cleanup worker thread on its first async
// cleanup, and fuzz_alloc_ops builds an allocator per input — creating,
// handing work to and joining that thread was a fifth of the target's time
// under ASan. It also made an input's behaviour depend on the OS scheduler
// (how far the worker got before the next operation). Here a spawned task is
// queued and runs, to completion and in spawn order, when the caller blocks
// on a condition variable (AsyncExecutor::wait_idle, its shutdown): the same
// input always runs the same schedule — the one `segsim reproduce` replays
// under the simulator, whose code paths (mutexes, atomics, the per-fiber
// thread caches) are the ones taken here too.
//
// Mutexes are checked, not just skipped: with one thread, locking a mutex
// that is held, or unlocking one that is not, is a self-deadlock or a broken
// lock discipline, reported as a failure through `fail`. A wait with nothing
// queued could never be woken (a deadlock): also a failure.
//
// Install it with platform::RuntimeScope for the whole lifetime of the
// objects that use it (their mutexes get tags of this runtime). One instance
// per input; nothing is kept between inputs.
#pragma once

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/platform/runtime.h"

namespace segsim::fuzzing {

class SerialRuntime final : public platform::Runtime {
 public:
  using FailFn = std::function<void(const std::string& what)>;

  // `fail` reports a broken lock discipline, a deadlock or a task that
  // threw; it must not return.
  explicit SerialRuntime(FailFn fail) : fail_(std::move(fail)), epoch_(next_epoch()) {
    held_.reserve(kReservedTags);
  }

  void mutex_lock(platform::SimTag& mutex) override {
    if (!mutex_try_lock(mutex)) fail_("a mutex locked by the thread that holds it: a self-deadlock");
  }
  bool mutex_try_lock(platform::SimTag& mutex) override {
    const std::uint32_t id = tag(mutex);
    if (held_[id]) return false;
    held_[id] = 1;
    return true;
  }
  void mutex_unlock(platform::SimTag& mutex) override {
    const std::uint32_t id = tag(mutex);
    if (!held_[id]) fail_("a mutex unlocked that is not locked");
    held_[id] = 0;
  }

  // Nobody else can notify: run what is queued, then return (a wakeup the
  // caller's predicate loop re-checks). Nothing queued: nothing ever will be.
  void condvar_wait(platform::SimTag& condvar, platform::SimTag& mutex) override {
    (void)condvar;
    if (queue_.empty()) fail_("a wait that nothing queued can end: a deadlock");
    run_queued(mutex);
  }
  bool condvar_wait_for(platform::SimTag& condvar, platform::SimTag& mutex, std::int64_t timeout_ns) override {
    (void)condvar;
    if (queue_.empty()) {
      now_ns_ += timeout_ns;
      return false;
    }
    run_queued(mutex);
    return true;
  }
  void condvar_notify(platform::SimTag& condvar, bool all) override { (void)condvar, (void)all; }
  void atomic_access(platform::SimTag& atomic, platform::AtomicOp op) override { (void)atomic, (void)op; }

  bool spawn(platform::Task task) override {
    queue_.push_back(std::move(task));
    return true;
  }
  std::int64_t now_ns() override { return now_ns_; }
  void sleep_for_ns(std::int64_t duration_ns) override { now_ns_ += duration_ns; }
  // Nothing else runs until the caller waits: a yield is a no-op.
  void yield() override {}
  // The caller is thread 0 (thread_key_); each task is a thread of its own, as a fiber is.

  std::size_t tasks_run() const noexcept { return tasks_run_; }

  // Room for this many mutex tags up front (an allocator has a few per size
  // class): one malloc per input instead of one per doubling.
  static constexpr std::size_t kReservedTags = 64;

 private:
  static std::uint32_t next_epoch() {
    static std::uint32_t epoch = 0;  // tags of an earlier input's runtime are stale here
    return ++epoch;
  }

  std::uint32_t tag(platform::SimTag& t) {
    if (t.epoch != epoch_) {
      t.epoch = epoch_;
      t.id = static_cast<std::uint32_t>(held_.size());
      held_.push_back(0);
    }
    return t.id;
  }

  // The waiter's mutex is released while the queued tasks run (a condition
  // wait releases it), and held again when the wait returns.
  void run_queued(platform::SimTag& mutex) {
    mutex_unlock(mutex);
    const std::uint32_t caller_key = thread_key_;
    while (!queue_.empty()) {
      platform::Task task = std::move(queue_.front());
      queue_.pop_front();
      thread_key_ = ++tasks_run_;
      try {
        task();
      } catch (const std::exception& e) {
        fail_(std::string("an async task threw: ") + e.what());
      }
      task = nullptr;  // the executor counts a task finished when its closure is destroyed
    }
    thread_key_ = caller_key;
    mutex_lock(mutex);
  }

  FailFn fail_;
  const std::uint32_t epoch_;
  std::vector<std::uint8_t> held_;  // by tag id: 1 while locked
  std::deque<platform::Task> queue_;
  std::int64_t now_ns_ = 0;
  std::uint32_t tasks_run_ = 0;
};

}  // namespace segsim::fuzzing
