#include "sim/simulation.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <stdexcept>
#include <typeinfo>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/platform/clock.h"
#include "sim/context_switch.h"
#include "sim/fatal_failure.h"
#include "sim/fiber.h"
#include "sim/random_strategy.h"
#include "sim/rr_strategy.h"
#include "sim/simulation_fibers.h"

namespace segsim::sim {

namespace {

// How many platform operations a cancelled fiber may make while unwinding
// before we conclude it cannot be unwound (e.g. it waits in a destructor).
constexpr std::uint64_t kMaxCancelModeOps = 1'000'000;

constinit thread_local Simulation* tls_simulation = nullptr;
std::atomic<std::uint32_t> g_next_epoch{1};

// Whether a cancelled fiber may be unwound (FiberCancelled thrown) from this
// operation. Mutex operations and releasing operations — notify, atomic
// writes — commonly run in destructors (lock guards, unpins, guard resets,
// reference counts), where a throw would terminate the process, so they never
// throw; the fiber's next wait, sleep, yield or atomic read does.
constexpr std::uint64_t op_bit(TraceOp op) { return std::uint64_t{1} << static_cast<int>(op); }
constexpr std::uint64_t kUncancellableOps =
    op_bit(TraceOp::MutexLock) |  // lock guards' owners unlock, and unpin-style cleanups lock, in destructors
    op_bit(TraceOp::MutexTryLock) | op_bit(TraceOp::MutexUnlock) | op_bit(TraceOp::CondNotifyOne) |
    op_bit(TraceOp::CondNotifyAll) | op_bit(TraceOp::AtomicStore) | op_bit(TraceOp::AtomicExchange) |
    op_bit(TraceOp::AtomicCompareExchange) | op_bit(TraceOp::AtomicFetchAdd) | op_bit(TraceOp::AtomicFetchSub);
static_assert(static_cast<int>(TraceOp::Annotation) < 64, "TraceOp fits the mask");
// A mask, not a switch: asked at every scheduling point.
bool cancellable(TraceOp op) { return (kUncancellableOps & op_bit(op)) == 0; }

std::string exception_text(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const detail::SimAssertionFailed& e) {
    return e.what();
  } catch (const std::exception& e) {
    return fmt::format("threw {}: {}", typeid(e).name(), e.what());
  } catch (...) {
    return "threw a non-std exception";
  }
}

}  // namespace


std::string_view outcome_name(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::Passed: return "passed";
    case Outcome::FiberFailed: return "fiber failed";
    case Outcome::Deadlock: return "deadlock";
    case Outcome::StepLimit: return "step limit";
    case Outcome::ReplayDiverged: return "replay diverged";
  }
  return "unknown";
}

std::string RunResult::signature() const {
  if (passed()) return "passed";
  return fmt::format("{} at step {} in fiber #{}: {}", outcome_name(outcome), failure_step,
                     failed_fiber, message);
}

Simulation::Simulation(SimulationConfig config)
    : config_(std::move(config)),
      epoch_(g_next_epoch.fetch_add(1)),
      spurious_rng_(derive_seed(config_.seed, "scheduler.spurious")),
      trace_(config_.trace_ring_events, config_.keep_full_trace) {
  thread_key_ = kNoFiber;  // no fiber runs yet: current_fiber()
  StrategyOptions options;
  options.seed = derive_seed(config_.seed, "scheduler");
  options.pct_depth = config_.pct_depth;
  options.pct_estimated_steps = config_.pct_estimated_steps;
  options.rr_quantum = config_.rr_quantum;
  options.replay_decisions = config_.replay_decisions;
  options.replay_lenient = config_.replay_lenient;
  options.fuzz_bytes = config_.fuzz_bytes;
  auto strategy = make_strategy(config_.strategy, options);
  // Callers validate names from users (the CLI does); here a bad one is a bug.
  SEGSIM_ASSERT(strategy.ok(), "unknown or invalid scheduling strategy");
  strategy_ = std::move(strategy.value());
  random_ = dynamic_cast<RandomStrategy*>(strategy_.get());
  rr_ = dynamic_cast<RoundRobinStrategy*>(strategy_.get());
  spurious_wakeups_ = config_.spurious_wakeup_probability > 0;
  SEGSIM_ASSERT(config_.max_fibers >= 1 && config_.ns_per_step >= 0, "bad simulation config");
  // A SEGSIM_ASSERT on a fiber then fails the run instead of the process;
  // where it cannot, it is still named (fatal_failure.h).
  install_failure_hooks();
  forget_ended_simulation();
}

Simulation::~Simulation() {
  // Fibers spawned but never run (run() not called) still need their end.
  bool unfinished = false;
  for (const auto& record : fibers_) unfinished |= record->state != FiberState::Finished;
  if (unfinished) {
    Simulation* previous = tls_simulation;
    tls_simulation = this;
    platform::RuntimeScope scope(this);
    cancel_all();
    tls_simulation = previous;
  }
}

Simulation* Simulation::current() noexcept { return tls_simulation; }

std::string_view Simulation::fiber_name(std::uint32_t id) const noexcept {
  return id < fibers_.size() ? std::string_view(fibers_[id]->name) : std::string_view("?");
}

void Simulation::set_current(FiberRecord* record) noexcept {
  current_ = record;
  thread_key_ = record == nullptr ? kNoFiber : record->id;
}

std::uint32_t Simulation::spawn(std::string name, std::function<void()> body) {
  SEGSIM_ASSERT(body != nullptr, "spawn of an empty body");
  const auto id = static_cast<std::uint32_t>(fibers_.size());
  auto owned = std::make_unique<FiberRecord>();
  owned->id = id;
  owned->name = std::move(name);
  FiberRecord* raw = owned.get();
  owned->fiber = std::make_unique<Fiber>(fiber_home_, config_.stack_bytes, [this, raw, body = std::move(body)] {
    if (cancelling_) return;  // cancelled before it ever ran
    record(TraceOp::Start, 0);
    try {
      body();
    } catch (const FiberCancelled&) {
      // Unwound after the run failed elsewhere.
    } catch (...) {
      fail(Outcome::FiberFailed, raw->id,
           fmt::format("fiber #{} '{}' {}", raw->id, raw->name,
                       exception_text(std::current_exception())));
    }
  });
  fibers_.push_back(std::move(owned));
  pending_.push_back(PendingOp{TraceOp::Start, 0});
  strategy_->on_spawn(id);
  make_runnable(id);
  return id;
}

void Simulation::annotate(std::uint32_t object, std::uint64_t code) {
  record(TraceOp::Annotation, object, code);
}

void Simulation::mark_events(std::size_t after) {
  marked_before_ = trace_.last(config_.trace_ring_events);
  trace_.follow(after);
}

// ---------------------------------------------------------------------------
// the scheduler

RunResult Simulation::run() {
  SEGSIM_ASSERT(!ran_, "a Simulation runs once");
  SEGSIM_ASSERT(tls_simulation == nullptr, "simulations do not nest on one thread");
  ran_ = true;
  tls_simulation = this;
  {
    platform::RuntimeScope scope(this);
    const std::uint64_t float_control_at_start = float_control();
    next_ = decide();
    while (!failed_) {
      if (next_ == kNoFiber) {
        if (runnable_.empty() && sleepers_.empty()) {
          const bool all_finished = std::all_of(fibers_.begin(), fibers_.end(), [](const auto& f) {
            return f->state == FiberState::Finished;
          });
          if (all_finished) break;
          fail_deadlock();
          break;
        }
        if (runnable_.empty()) now_ns_ = std::max(now_ns_, sleepers_.begin()->first);  // all sleep
        next_ = decide();
        continue;
      }
      set_current(&fiber(next_));
      next_ = kNoFiber;
      current_->fiber->resume();
      // Fibers may have switched among themselves: the one that came back is current_.
      FiberRecord& record = *current_;
      set_current(nullptr);
      if (float_control() != float_control_at_start) [[unlikely]] {
        // The fibers share it (sim/context_switch.h): put it back for the
        // unwinding and for this thread's later runs, and fail this one.
        set_float_control(float_control_at_start);
        fail(Outcome::FiberFailed, kNoFiber,
             "a fiber changed the floating-point control state (rounding mode or exception masks), "
             "which the simulator's fibers share: restore it before the next scheduling point");
      }
      if (record.fiber->finished()) {
        record.state = FiberState::Finished;
        runnable_.erase(std::remove(runnable_.begin(), runnable_.end(), record.id), runnable_.end());
        this->record(TraceOp::Finish, 0);
        if (!failed_) next_ = decide();
      }
    }
    if (failed_) cancel_all();
  }
  tls_simulation = nullptr;
  note_simulation_ended(step_);

  RunResult result = failed_ ? failure_ : RunResult{};
  result.steps = step_;
  result.virtual_time_ns = now_ns_;
  result.trace_hash = trace_.hash();
  result.fibers = static_cast<std::uint32_t>(fibers_.size());
  // Not sealed: deflating the last block was ~8 % of a chicago run's
  // instructions, for a log that only a failure's repro (or a caller asking
  // for encoded()) reads; DecisionLog encodes a pending tail on demand.
  result.decisions = std::move(decisions_);
  result.last_events = trace_.last(config_.trace_ring_events);
  if (config_.keep_full_trace) result.full_trace = trace_.full();
  result.marked_before = std::move(marked_before_);
  result.marked_after = trace_.followed();
  return result;
}

std::uint32_t Simulation::decide() {
  ++step_;
  now_ns_ += config_.ns_per_step;
  if (step_ > config_.max_steps) [[unlikely]] return fail_step_limit();
  if (!sleepers_.empty()) wake_due_sleepers();
  if (spurious_wakeups_) maybe_spurious_wakeup();
  if (runnable_.empty()) return kNoFiber;
  std::uint32_t chosen = kNoFiber;
  if (random_ != nullptr) {
    chosen = random_->choose(runnable_);  // both choose an element of runnable_: no check needed
  } else if (rr_ != nullptr) {
    chosen = rr_->choose(runnable_, current_fiber());
  } else {
    const std::optional<std::uint32_t> picked =
        strategy_->pick(SchedulerView{runnable_, current_fiber(), step_, pending_});
    if (!picked) [[unlikely]] return fail_divergence();
    chosen = *picked;
    // runnable_ holds exactly the fibers in state Runnable: an O(1) check.
    SEGSIM_ASSERT(chosen < fibers_.size() && fibers_[chosen]->state == FiberState::Runnable,
                  "strategy chose a fiber that is not runnable");
  }
  decisions_.push_back(chosen);
  return chosen;
}

// decide()'s failures, out of line: their messages' formatting made its
// frame (and every decision's prologue) larger.
std::uint32_t Simulation::fail_step_limit() {
  fail(Outcome::StepLimit, current_fiber(),
       fmt::format("step limit of {} reached (livelock or a run longer than allowed)", config_.max_steps));
  return kNoFiber;
}

std::uint32_t Simulation::fail_divergence() {
  fail(Outcome::ReplayDiverged, current_fiber(), strategy_->divergence());
  return kNoFiber;
}

// On a fiber: lets the strategy choose who runs next; switches if not us —
// straight to the chosen fiber. Only a failure or no runnable fiber (time to
// jump, a deadlock to report) goes back to the scheduler's loop in run().
void Simulation::reschedule(bool may_unwind) {
  SEGSIM_ASSERT(in_fiber(), "reschedule outside a fiber");
  const std::uint32_t next = decide();
  if (!failed_ && next == current_->id) return;
  if (!failed_ && next != kNoFiber) {
    Fiber& from = *current_->fiber;
    set_current(&fiber(next));
    from.switch_to(*current_->fiber);
  } else {
    next_ = next;
    current_->fiber->suspend();
  }
  // Resumed by the scheduler: normally because we were chosen, or to unwind.
  if (cancelling_ && may_unwind && std::uncaught_exceptions() == 0) throw FiberCancelled{};
}

void Simulation::record(TraceOp op, std::uint32_t object, std::uint64_t detail) {
  trace_.record(step_, current_fiber(), op, object, now_ns_, detail);
}

// Flattened (the trace event, the decision, the switch inline) for the
// points of simulation_runtime.cpp — mutexes, condvars, clock, yield —
// as atomic_access below is for atomics.
[[gnu::flatten]] void Simulation::point(TraceOp op, std::uint32_t object, std::uint64_t detail) {
  if (cancelling_) {
    if (cancellable(op)) cancel_mode_op();
    return;
  }
  record(op, object, detail);
  if (!in_fiber()) return;
  pending_[current_->id] = PendingOp{op, object};
  reschedule(cancellable(op));
}

// In this file, beside point(), reschedule() and decide(): flattened into one
// function, an atomic's scheduling point (the commonest kind: every
// platform::Atomic operation and every thread-cache hit) makes no calls but
// the switch, when there is one.
[[gnu::flatten]] void Simulation::atomic_access(platform::SimTag& tag, platform::AtomicOp op) {
  static_assert(static_cast<int>(TraceOp::AtomicStore) - static_cast<int>(TraceOp::AtomicLoad) ==
                        static_cast<int>(platform::AtomicOp::Store) &&
                    static_cast<int>(TraceOp::AtomicExchange) - static_cast<int>(TraceOp::AtomicLoad) ==
                        static_cast<int>(platform::AtomicOp::Exchange) &&
                    static_cast<int>(TraceOp::AtomicCompareExchange) - static_cast<int>(TraceOp::AtomicLoad) ==
                        static_cast<int>(platform::AtomicOp::CompareExchange) &&
                    static_cast<int>(TraceOp::AtomicFetchAdd) - static_cast<int>(TraceOp::AtomicLoad) ==
                        static_cast<int>(platform::AtomicOp::FetchAdd) &&
                    static_cast<int>(TraceOp::AtomicFetchSub) - static_cast<int>(TraceOp::AtomicLoad) ==
                        static_cast<int>(platform::AtomicOp::FetchSub),
                "AtomicOp and the atomic TraceOps are in the same order");
  const std::uint32_t id = object_id(tag, ObjectKind::Atomic);
  point(static_cast<TraceOp>(static_cast<int>(TraceOp::AtomicLoad) + static_cast<int>(op)), id);
}

void Simulation::make_runnable(std::uint32_t id) {
  FiberRecord& record = fiber(id);
  record.state = FiberState::Runnable;
  auto it = std::lower_bound(runnable_.begin(), runnable_.end(), id);
  if (it == runnable_.end() || *it != id) runnable_.insert(it, id);
}

void Simulation::block_current(TraceOp reason, std::uint32_t object, std::int64_t wake_at_ns) {
  FiberRecord& record = *current_;
  record.state = FiberState::Blocked;
  record.wait_reason = reason;
  record.wait_object = object;
  record.wake_at_ns = wake_at_ns;
  record.notified = false;
  runnable_.erase(std::remove(runnable_.begin(), runnable_.end(), record.id), runnable_.end());
  if (wake_at_ns >= 0) sleepers_.emplace(wake_at_ns, record.id);
  this->record(TraceOp::Block, object, static_cast<std::uint64_t>(reason));
}

void Simulation::wake(std::uint32_t id, bool notified) {
  FiberRecord& record = fiber(id);
  if (record.state != FiberState::Blocked) return;
  if (record.wake_at_ns >= 0) sleepers_.erase({record.wake_at_ns, id});
  if (record.wait_object != 0 && record.wait_reason != TraceOp::Sleep) {
    auto& waiters = object(record.wait_object).waiters;
    waiters.erase(std::remove(waiters.begin(), waiters.end(), id), waiters.end());
  }
  record.notified = notified;
  record.wake_at_ns = -1;
  trace_.record(step_, id, TraceOp::Wake, record.wait_object, now_ns_, notified ? 1u : 0u);
  make_runnable(id);
}

void Simulation::wake_due_sleepers() {
  while (!sleepers_.empty() && sleepers_.begin()->first <= now_ns_) {
    wake(sleepers_.begin()->second, /*notified=*/false);
  }
}

void Simulation::maybe_spurious_wakeup() {
  // Condvar waiters, in id order so the choice depends only on the stream.
  std::vector<std::uint32_t> waiting;
  for (const auto& record : fibers_) {
    if (record->state == FiberState::Blocked && (record->wait_reason == TraceOp::CondWait ||
                                                 record->wait_reason == TraceOp::CondWaitFor)) {
      waiting.push_back(record->id);
    }
  }
  if (waiting.empty() || !spurious_rng_.chance(config_.spurious_wakeup_probability)) return;
  wake(waiting[spurious_rng_.below(waiting.size())], /*notified=*/true);
}

// ---------------------------------------------------------------------------
// failure, deadlock, cancellation

void Simulation::fail(Outcome outcome, std::uint32_t fiber_id, std::string message) {
  if (failed_) return;  // the first failure is the run's
  failed_ = true;
  failure_.outcome = outcome;
  failure_.failed_fiber = fiber_id;
  failure_.failure_step = step_;
  failure_.message = std::move(message);
}

std::string Simulation::describe_wait(const FiberRecord& record) const {
  std::string text = fmt::format("fiber #{} '{}' waits in {}", record.id, record.name,
                                 trace_op_name(record.wait_reason));
  if (record.wait_object != 0) {
    text += fmt::format(" on object #{}", record.wait_object);
    const Object& o = objects_[record.wait_object - 1];
    if (o.kind == ObjectKind::Mutex && o.owner != kNoFiber) {
      text += fmt::format(" held by fiber #{}", o.owner);
    }
  }
  return text;
}

void Simulation::fail_deadlock() {
  std::vector<std::string> waits;
  for (const auto& record : fibers_) {
    if (record->state == FiberState::Blocked) waits.push_back(describe_wait(*record));
  }
  fail(Outcome::Deadlock, kNoFiber,
       fmt::format("deadlock: every unfinished fiber is blocked: {}", fmt::join(waits, "; ")));
}

void Simulation::cancel_all() {
  cancelling_ = true;
  for (auto& record : fibers_) {
    if (record->state == FiberState::Finished) continue;
    set_current(record.get());
    record->fiber->resume();  // runs to its end: cancel mode never suspends
    set_current(nullptr);
    SEGSIM_ASSERT(record->fiber->finished(), "a cancelled fiber suspended again");
    record->state = FiberState::Finished;
  }
  runnable_.clear();
  sleepers_.clear();
}

// In cancel mode nothing blocks or switches; a fiber looping on a condition
// while unwinding would never end, so its operations are bounded.
void Simulation::cancel_mode_op() {
  if (++cancel_mode_ops_ > kMaxCancelModeOps) {
    SEGSIM_ASSERT(false, "a cancelled fiber keeps waiting while unwinding (a wait in a destructor?)");
  }
  if (std::uncaught_exceptions() == 0 && in_fiber()) throw FiberCancelled{};
}

}  // namespace segsim::sim
