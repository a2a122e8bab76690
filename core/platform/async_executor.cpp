#include "core/platform/async_executor.h"

#include <memory>
#include <utility>

#include "core/assert.h"

namespace segsim::platform {

AsyncExecutor::AsyncExecutor(AsyncExecutorConfig config) : config_(config) {
  SEGSIM_ASSERT(config_.worker_threads >= 1, "AsyncExecutor needs a worker");
  SEGSIM_ASSERT(config_.queue_capacity >= 1, "AsyncExecutor needs queue capacity");
}

AsyncExecutor::~AsyncExecutor() { shutdown(); }

bool AsyncExecutor::try_spawn(Task task) {
  SEGSIM_ASSERT(task != nullptr, "empty task");
  Runtime* rt = current_runtime();
  {
    LockGuard guard(mu_);
    if (stopping_ || in_flight_ >= config_.queue_capacity) return false;
    ++in_flight_;
    if (rt == nullptr) {
      queue_.push_back(std::move(task));
      // Workers start lazily: an executor that never gets work never has a thread.
      if (workers_.size() < config_.worker_threads && workers_.size() < in_flight_) {
        workers_.emplace_back([this] { worker_loop(); });
      }
      work_ready_.notify_one();
      return true;
    }
  }
  // Simulation: the task becomes a fiber; the simulator reports a throwing task.
  // The task counts as finished when its closure is destroyed — after it ran,
  // after it was unwound, or when the simulation refused or never ran it.
  struct Completion {
    AsyncExecutor* executor;
    ~Completion() { executor->finish_one(); }
  };
  std::shared_ptr<Completion> completion(new Completion{this});
  return rt->spawn([completion, task = std::move(task)] { task(); });
}

void AsyncExecutor::finish_one() {
  LockGuard guard(mu_);
  SEGSIM_ASSERT(in_flight_ > 0, "AsyncExecutor in-flight underflow");
  if (--in_flight_ == 0) idle_.notify_all();
}

void AsyncExecutor::worker_loop() {
  for (;;) {
    Task task;
    {
      UniqueLock lock(mu_);
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (...) {
      // A detached task has nobody to throw to; count it so tests can see it.
      LockGuard guard(mu_);
      ++tasks_failed_;
    }
    finish_one();
  }
}

void AsyncExecutor::wait_idle() {
  UniqueLock lock(mu_);
  idle_.wait(lock, [this] { return in_flight_ == 0; });
}

void AsyncExecutor::shutdown() {
  std::vector<std::thread> workers;
  {
    UniqueLock lock(mu_);
    stopping_ = true;
    work_ready_.notify_all();
    idle_.wait(lock, [this] { return in_flight_ == 0; });
    workers.swap(workers_);
  }
  for (std::thread& worker : workers) worker.join();
}

std::size_t AsyncExecutor::in_flight() const {
  LockGuard guard(mu_);
  return in_flight_;
}

std::uint64_t AsyncExecutor::tasks_failed() const {
  LockGuard guard(mu_);
  return tasks_failed_;
}

}  // namespace segsim::platform
