// The Simulation as the platform seam's runtime (core/platform/runtime.h):
// mutexes, condition variables and atomics become scheduling points of the
// simulator, and async tasks, clock reads, sleeps and yields run on its
// fibers and its virtual clock.
#include <fmt/format.h>

#include "core/assert.h"
#include "core/platform/clock.h"
#include "sim/simulation.h"
#include "sim/simulation_fibers.h"

namespace segsim::sim {

std::uint32_t Simulation::new_object_id(platform::SimTag& tag, ObjectKind kind) {
  objects_.push_back(Object{kind, kNoFiber, {}});
  tag.epoch = epoch_;
  tag.id = static_cast<std::uint32_t>(objects_.size());  // ids in order of first use
  return tag.id;
}

void Simulation::acquire_blocking(std::uint32_t mutex) {
  while (object(mutex).owner != kNoFiber) {
    if (cancelling_ || !in_fiber()) {
      if (cancelling_) break;  // unwinding: ownership no longer matters
      fail(Outcome::FiberFailed, kNoFiber, "the scheduler would block on a held mutex");
      return;
    }
    SEGSIM_ASSERT(object(mutex).owner != current_->id, "recursive lock of a platform::Mutex");
    object(mutex).waiters.push_back(current_->id);
    block_current(TraceOp::MutexLock, mutex, -1);
    reschedule(/*may_unwind=*/false);  // resumed to unwind: takes the lock, see cancellable()
  }
  object(mutex).owner = current_fiber();
}

void Simulation::release_mutex(std::uint32_t mutex) {
  Object& m = object(mutex);
  m.owner = kNoFiber;
  if (m.waiters.empty()) return;
  wake_all(m.waiters);  // all retry: more interleavings
}

// Wakes `waiters` in order and leaves it empty. They move to a scratch list
// first (wake() erases each from its wait object's list) whose capacity stays
// with the Simulation: swapping into a fresh local vector freed the list's
// buffer at every contended unlock, and the next waiter allocated it again.
void Simulation::wake_all(std::vector<std::uint32_t>& waiters) {
  waking_.swap(waiters);
  for (std::uint32_t id : waking_) wake(id, /*notified=*/true);
  waking_.clear();
  if (waiters.empty()) waiters.swap(waking_);  // give the buffer back: the next waiter reuses it
}

void Simulation::mutex_lock(platform::SimTag& tag) {
  const std::uint32_t id = object_id(tag, ObjectKind::Mutex);
  point(TraceOp::MutexLock, id);
  acquire_blocking(id);
}

bool Simulation::mutex_try_lock(platform::SimTag& tag) {
  const std::uint32_t id = object_id(tag, ObjectKind::Mutex);
  point(TraceOp::MutexTryLock, id);
  if (object(id).owner != kNoFiber && !cancelling_) return false;
  object(id).owner = current_fiber();
  return true;
}

void Simulation::mutex_unlock(platform::SimTag& tag) {
  const std::uint32_t id = object_id(tag, ObjectKind::Mutex);
  point(TraceOp::MutexUnlock, id);
  if (!cancelling_) {
    if (object(id).owner != current_fiber()) {
      fail(Outcome::FiberFailed, current_fiber(),
           fmt::format("unlock of mutex #{} not held by fiber #{}", id, current_fiber()));
    }
  }
  release_mutex(id);
}

void Simulation::condvar_wait(platform::SimTag& condvar, platform::SimTag& mutex) {
  condvar_wait_for(condvar, mutex, -1);
}

bool Simulation::condvar_wait_for(platform::SimTag& condvar, platform::SimTag& mutex,
                                  std::int64_t timeout_ns) {
  const std::uint32_t cv = object_id(condvar, ObjectKind::CondVar);
  const std::uint32_t m = object_id(mutex, ObjectKind::Mutex);
  const bool timed = timeout_ns >= 0;
  const TraceOp op = timed ? TraceOp::CondWaitFor : TraceOp::CondWait;
  if (cancelling_ || !in_fiber()) {
    if (cancelling_) cancel_mode_op();
    return false;  // a spurious wake-up: callers re-check their condition
  }
  point(op, cv);
  release_mutex(m);
  object(cv).waiters.push_back(current_->id);
  block_current(op, cv, timed ? now_ns_ + timeout_ns : -1);
  pending_[current_->id] = PendingOp{TraceOp::MutexLock, m};  // what it does once woken
  reschedule(/*may_unwind=*/true);
  const bool notified = current_->notified;
  acquire_blocking(m);
  return notified;
}

void Simulation::condvar_notify(platform::SimTag& condvar, bool all) {
  const std::uint32_t cv = object_id(condvar, ObjectKind::CondVar);
  point(all ? TraceOp::CondNotifyAll : TraceOp::CondNotifyOne, cv);
  std::vector<std::uint32_t>& waiters = object(cv).waiters;
  if (waiters.empty()) return;
  if (all) {
    wake_all(waiters);
  } else {
    wake(waiters.front(), /*notified=*/true);  // FIFO
  }
}

bool Simulation::spawn(platform::Task task) {
  if (cancelling_) return false;
  if (fibers_.size() >= config_.max_fibers) return false;
  const std::uint32_t delay = config_.async_start_delay ? config_.async_start_delay() : 0;
  if (delay > 0) {
    task = [delay, inner = std::move(task)] {
      for (std::uint32_t i = 0; i < delay; ++i) platform::yield();
      inner();
    };
  }
  const std::uint32_t id = spawn(fmt::format("async#{}", fibers_.size()), std::move(task));
  point(TraceOp::Spawn, 0, id);
  return true;
}

std::int64_t Simulation::now_ns() {
  point(TraceOp::ClockRead, 0);
  return now_ns_;
}

void Simulation::sleep_for_ns(std::int64_t duration_ns) {
  if (cancelling_ || !in_fiber()) {
    if (cancelling_) cancel_mode_op();
    return;
  }
  point(TraceOp::Sleep, 0, static_cast<std::uint64_t>(duration_ns));
  if (duration_ns <= 0) return;
  block_current(TraceOp::Sleep, 0, now_ns_ + duration_ns);
  reschedule(/*may_unwind=*/true);
}

void Simulation::yield() { point(TraceOp::Yield, 0); }

}  // namespace segsim::sim
