// AsyncExecutor: where core runs work off the caller's path (spawn_async).
//
// Production: a bounded FIFO queue served by a few worker threads, started
// lazily on the first task. Under a simulation: each task becomes a fiber of
// that simulation. In both worlds try_spawn refuses (returns false) when the
// queue is full or the executor is shutting down — the caller must handle the
// refusal — and shutdown() waits for every accepted task to finish.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "core/platform/mutex.h"
#include "core/platform/runtime.h"

namespace segsim::platform {

struct AsyncExecutorConfig {
  std::size_t worker_threads = 1;   // production only; at least 1
  std::size_t queue_capacity = 64;  // accepted but unfinished tasks, at least 1
};

class AsyncExecutor {
 public:
  explicit AsyncExecutor(AsyncExecutorConfig config = {});
  ~AsyncExecutor();  // shutdown()
  AsyncExecutor(const AsyncExecutor&) = delete;
  AsyncExecutor& operator=(const AsyncExecutor&) = delete;

  // Accepts `task` to run asynchronously; false when full or shut down.
  [[nodiscard]] bool try_spawn(Task task);

  // Blocks until every accepted task has finished. Tasks may still be spawned.
  void wait_idle();

  // Stops accepting, finishes every accepted task, joins the workers. Idempotent.
  void shutdown();

  std::size_t in_flight() const;
  // Tasks that ended by throwing (production workers catch and count them).
  std::uint64_t tasks_failed() const;

 private:
  void worker_loop();
  void finish_one();

  const AsyncExecutorConfig config_;
  mutable Mutex mu_;
  CondVar work_ready_;
  CondVar idle_;
  std::deque<Task> queue_;
  std::vector<std::thread> workers_;
  std::size_t in_flight_ = 0;  // accepted and not finished (queued + running)
  std::uint64_t tasks_failed_ = 0;
  bool stopping_ = false;
};

}  // namespace segsim::platform
