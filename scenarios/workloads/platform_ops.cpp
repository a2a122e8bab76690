// platform_ops.h: each call is judged right after it returns — the scheduling
// point of a primitive comes before its effect, so until the caller's next
// scheduling point no other fiber has acted and the model is exact.
#include "scenarios/workloads/platform_ops.h"

#include "core/platform/async_executor.h"
#include "core/platform/atomic.h"
#include "core/platform/clock.h"
#include "core/platform/mutex.h"
#include "scenarios/oracles/platform.h"

namespace segsim::scenarios {

namespace {
constexpr std::size_t kExecutorCapacity = 2;  // small: try_spawn refuses now and then
constexpr std::int64_t kMaxWaitNs = 2'000'000;
}  // namespace

struct PlatformOps {
  platform::Atomic<std::uint64_t> counter{0};
  std::uint64_t counter_model = 0;
  platform::Mutex gate;
  bool gate_held = false;
  platform::Mutex wait_mu;
  platform::CondVar wakeup;
  std::uint64_t notifies = 0;  // under wait_mu
  platform::AsyncExecutor executor{platform::AsyncExecutorConfig{1, kExecutorCapacity}};
  std::uint64_t accepted = 0;
  std::uint64_t ended = 0;
};

std::shared_ptr<PlatformOps> make_platform_ops() { return std::make_shared<PlatformOps>(); }

namespace {

void judged(Stack& stack, const std::optional<std::string>& problem) {
  if (problem) stack.oracles.fail("platform", *problem);
}

void atomic_op(Stack& stack, PlatformOps& ops, sim::Rng& rng) {
  using platform_judge::AtomicCall;
  const std::uint64_t value = rng.below(1000);
  // The call first, then the model: argument order is unspecified, and the
  // model may be read only after the call's scheduling point.
  std::uint64_t returned = 0;
  switch (const auto call = static_cast<AtomicCall>(rng.below(4)); call) {
    case AtomicCall::FetchAdd:
      returned = ops.counter.fetch_add(value);
      judged(stack, platform_judge::atomic(call, returned, ops.counter_model));
      ops.counter_model += value;
      return;
    case AtomicCall::FetchSub:  // unsigned: the atomic and the model wrap alike
      returned = ops.counter.fetch_sub(value);
      judged(stack, platform_judge::atomic(call, returned, ops.counter_model));
      ops.counter_model -= value;
      return;
    case AtomicCall::Exchange:
      returned = ops.counter.exchange(value);
      judged(stack, platform_judge::atomic(call, returned, ops.counter_model));
      ops.counter_model = value;
      return;
    case AtomicCall::Load:
      returned = ops.counter.load();
      judged(stack, platform_judge::atomic(call, returned, ops.counter_model));
      return;
  }
}

void try_lock_op(Stack& stack, PlatformOps& ops, sim::Rng& rng) {
  const bool locked = ops.gate.try_lock();
  judged(stack, platform_judge::try_lock(locked, ops.gate_held));
  if (!locked) return;
  ops.gate_held = true;
  for (std::uint64_t n = rng.below(4); n > 0; --n) platform::yield();  // others try meanwhile
  ops.gate.unlock();
  ops.gate_held = false;  // after unlock: its scheduling point came before the release
}

void timed_wait_op(Stack& stack, PlatformOps& ops, sim::Rng& rng) {
  const auto timeout_ns = static_cast<std::int64_t>(rng.below(kMaxWaitNs));
  platform::UniqueLock lock(ops.wait_mu);
  const std::uint64_t notifies = ops.notifies;
  const std::int64_t start_ns = platform::now_ns();
  const bool notified = ops.wakeup.wait_for_ns(lock, timeout_ns);
  judged(stack, platform_judge::timed_wait(notified, ops.notifies - notifies, platform::now_ns() - start_ns, timeout_ns));
}

void notify_op(PlatformOps& ops) {
  platform::LockGuard guard(ops.wait_mu);
  ++ops.notifies;
  ops.wakeup.notify_one();
}

// A task's end as the executor sees it: when the last copy of its closure goes.
struct TaskEnd {
  PlatformOps* ops;
  bool accepted = false;
  ~TaskEnd() {
    if (accepted) ++ops->ended;
  }
};

void executor_op(Stack& stack, PlatformOps& ops, sim::Rng& rng) {
  auto end = std::make_shared<TaskEnd>(TaskEnd{&ops});
  const std::uint64_t yields = rng.below(4);
  const bool spawned = ops.executor.try_spawn([end, yields] {
    for (std::uint64_t n = yields; n > 0; --n) platform::yield();
  });
  if (spawned) {
    end->accepted = true;
    ++ops.accepted;
  }
  end.reset();
  // Accepted before the reads, ended after: others spawn and tasks end
  // meanwhile, so this is a lower bound of the tasks not yet ended.
  const std::uint64_t accepted = ops.accepted;
  const std::size_t in_flight = ops.executor.in_flight();
  const std::uint64_t failed = ops.executor.tasks_failed();
  const std::uint64_t unended = accepted > ops.ended ? accepted - ops.ended : 0;
  judged(stack, platform_judge::executor(in_flight, kExecutorCapacity, unended, failed, false));
}

}  // namespace

void platform_op(Stack& stack, PlatformOps& ops, sim::Rng& rng) {
  switch (rng.below(5)) {
    case 0: return atomic_op(stack, ops, rng);
    case 1: return try_lock_op(stack, ops, rng);
    case 2: return timed_wait_op(stack, ops, rng);
    case 3: return notify_op(ops);
    default: return executor_op(stack, ops, rng);
  }
}

void platform_finish(Stack& stack, PlatformOps& ops) {
  ops.executor.wait_idle();
  const std::size_t in_flight = ops.executor.in_flight();
  const std::uint64_t failed = ops.executor.tasks_failed();
  judged(stack, platform_judge::executor(in_flight, kExecutorCapacity, ops.accepted - ops.ended, failed, true));
  const std::uint64_t value = ops.counter.load();
  judged(stack, platform_judge::atomic(platform_judge::AtomicCall::Load, value, ops.counter_model));
  ops.executor.shutdown();
}

}  // namespace segsim::scenarios
