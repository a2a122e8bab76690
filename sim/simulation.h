// Simulation: runs simulated threads as fibers on the calling OS thread under
// a seeded scheduling strategy. While it runs, every platform-seam operation
// of code on its fibers (core included, unmodified) is a scheduling point:
// mutex lock / try_lock / unlock, each Atomic operation, condvar wait /
// notify, spawn_async (a new fiber), sleep, clock reads, yield.
//
//   sim::Simulation simulation({.seed = 42, .strategy = "pct"});
//   simulation.spawn("writer", [&] { ... });
//   sim::RunResult result = simulation.run();   // result.trace_hash, result.outcome
//
// Blocking is modelled (a fiber waiting on a held mutex or a condvar is not
// runnable), time is virtual (it moves a fixed amount per decision and jumps
// to the next wake-up when every fiber sleeps), deadlock and step-limit are
// failures, and a throwing fiber (or a SEGSIM_ASSERT on a fiber) fails the
// run; the other fibers are then unwound by a FiberCancelled exception thrown
// from their next scheduling point, so their destructors run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/platform/runtime.h"
#include "sim/fiber.h"
#include "sim/random.h"
#include "sim/strategy.h"
#include "sim/trace.h"

namespace segsim::sim {

class RandomStrategy;
class RoundRobinStrategy;

struct SimulationConfig {
  std::uint64_t seed = 1;
  std::string strategy = "random";  // random | pct | pos | rr | replay | fuzz
  int pct_depth = 3;
  std::uint64_t pct_estimated_steps = 1000;
  std::uint64_t rr_quantum = 1;
  DecisionLog replay_decisions;                  // for "replay"
  bool replay_lenient = false;                   // see StrategyOptions::replay_lenient
  std::string fuzz_bytes;                        // for "fuzz": see StrategyOptions::fuzz_bytes
  std::uint64_t max_steps = 1'000'000;           // more decisions: a livelock failure
  std::size_t max_fibers = 4096;                 // spawn beyond: refused
  std::size_t stack_bytes = 256 * 1024;          // per fiber, plus a guard page
  std::int64_t ns_per_step = 100;                // virtual time per decision
  double spurious_wakeup_probability = 0.0;      // per decision, for condvar waiters
  std::size_t trace_ring_events = 64;
  bool keep_full_trace = false;
  // Yields a task spawned through the platform seam (spawn_async) makes
  // before it starts; the fault plan's async:delay / async:reorder. Optional.
  std::function<std::uint32_t()> async_start_delay;
};

enum class Outcome : std::uint8_t { Passed, FiberFailed, Deadlock, StepLimit, ReplayDiverged };
std::string_view outcome_name(Outcome outcome) noexcept;

struct RunResult {
  Outcome outcome = Outcome::Passed;
  std::string message;                   // empty when passed
  std::uint32_t failed_fiber = kNoFiber; // the fiber that failed, if one did
  std::uint64_t failure_step = 0;
  std::uint64_t steps = 0;               // decisions made
  std::int64_t virtual_time_ns = 0;
  std::uint64_t trace_hash = 0;
  std::uint32_t fibers = 0;              // fibers that existed
  DecisionLog decisions;                 // the fiber chosen at each step: feed to "replay"
  std::vector<TraceEvent> last_events;   // the ring, oldest first
  std::vector<TraceEvent> full_trace;    // when keep_full_trace
  std::vector<TraceEvent> marked_before; // the ring when mark_events() was called, oldest first
  std::vector<TraceEvent> marked_after;  // the events that followed it

  bool passed() const noexcept { return outcome == Outcome::Passed; }
  // Outcome, message, fiber and step: what must match when a failure is replayed.
  std::string signature() const;
};

// Thrown from a scheduling point to unwind a fiber after the run has failed.
// Deliberately not a std::exception: core code never catches it by accident.
struct FiberCancelled {};

class Simulation final : public platform::Runtime {
 public:
  explicit Simulation(SimulationConfig config);
  ~Simulation() override;
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Adds a fiber (before run(), or from a fiber). Returns its id (0, 1, ...).
  std::uint32_t spawn(std::string name, std::function<void()> body);
  // Runs until every fiber has finished or the run fails. Once per Simulation.
  RunResult run();

  // The simulation running on this thread, or null.
  static Simulation* current() noexcept;
  // Inline: every trace event asks it. thread_key_ follows current_ (set_current).
  std::uint32_t current_fiber() const noexcept { return thread_key_; }
  std::uint64_t step() const noexcept { return step_; }
  // The name a fiber was spawned with ("?" for an id that is none).
  std::string_view fiber_name(std::uint32_t id) const noexcept;
  std::int64_t virtual_now_ns() const noexcept { return now_ns_; }
  const SimulationConfig& config() const noexcept { return config_; }
  // An independent seeded stream of this run (e.g. "workload", "faults").
  Rng stream(std::string_view name) const { return Rng(derive_seed(config_.seed, name)); }
  // Records an event of a layer above the scheduler in the trace (and hash).
  void annotate(std::uint32_t object, std::uint64_t code);
  // Keeps the trace around this moment for a failure report: the ring's
  // events so far and the next `after` events (RunResult::marked_*). A later
  // call replaces the mark. Changes neither the trace nor its hash.
  void mark_events(std::size_t after);

  // platform::Runtime
  void mutex_lock(platform::SimTag& mutex) override;
  bool mutex_try_lock(platform::SimTag& mutex) override;
  void mutex_unlock(platform::SimTag& mutex) override;
  void condvar_wait(platform::SimTag& condvar, platform::SimTag& mutex) override;
  bool condvar_wait_for(platform::SimTag& condvar, platform::SimTag& mutex,
                        std::int64_t timeout_ns) override;
  void condvar_notify(platform::SimTag& condvar, bool all) override;
  void atomic_access(platform::SimTag& atomic, platform::AtomicOp op) override;
  bool spawn(platform::Task task) override;
  std::int64_t now_ns() override;
  void sleep_for_ns(std::int64_t duration_ns) override;
  void yield() override;

 private:
  struct FiberRecord;
  enum class ObjectKind : std::uint8_t { Mutex, CondVar, Atomic };
  struct Object {
    ObjectKind kind;
    std::uint32_t owner = kNoFiber;      // mutex holder
    std::vector<std::uint32_t> waiters;  // fibers blocked on it, FIFO
  };

  // The object's stable id; inline: every mutex and atomic point asks it.
  std::uint32_t object_id(platform::SimTag& tag, ObjectKind kind) {
    if (tag.epoch == epoch_) [[likely]] return tag.id;
    return new_object_id(tag, kind);
  }
  [[gnu::noinline]] std::uint32_t new_object_id(platform::SimTag& tag, ObjectKind kind);
  Object& object(std::uint32_t id) { return objects_[id - 1]; }
  void point(TraceOp op, std::uint32_t object, std::uint64_t detail = 0);
  void record(TraceOp op, std::uint32_t object, std::uint64_t detail = 0);
  std::uint32_t decide();
  [[gnu::cold, gnu::noinline]] std::uint32_t fail_step_limit();
  [[gnu::cold, gnu::noinline]] std::uint32_t fail_divergence();
  void reschedule(bool may_unwind);
  void block_current(TraceOp reason, std::uint32_t object, std::int64_t wake_at_ns);
  void make_runnable(std::uint32_t fiber);
  void wake(std::uint32_t fiber, bool notified);
  void acquire_blocking(std::uint32_t mutex);
  void release_mutex(std::uint32_t mutex);
  void wake_all(std::vector<std::uint32_t>& waiters);
  void wake_due_sleepers();
  void maybe_spurious_wakeup();
  void fail(Outcome outcome, std::uint32_t fiber, std::string message);
  void fail_deadlock();
  void cancel_all();
  bool in_fiber() const noexcept { return current_ != nullptr; }
  // The fiber running now (null: the scheduler), and the thread key with it.
  void set_current(FiberRecord* record) noexcept;
  FiberRecord& fiber(std::uint32_t id) { return *fibers_[id]; }
  void cancel_mode_op();
  std::string describe_wait(const FiberRecord& record) const;

  SimulationConfig config_;
  std::uint32_t epoch_;
  std::unique_ptr<Strategy> strategy_;
  // strategy_ when it is one of these (else null): called without a virtual
  // call, so the pick inlines into the scheduling point.
  RandomStrategy* random_ = nullptr;
  RoundRobinStrategy* rr_ = nullptr;
  bool spurious_wakeups_ = false;  // config_.spurious_wakeup_probability > 0, tested per decision
  Rng spurious_rng_;
  Trace trace_;
  Fiber::Home fiber_home_;  // before fibers_: outlives them
  std::vector<std::unique_ptr<FiberRecord>> fibers_;
  std::vector<std::uint32_t> runnable_;  // ascending ids
  std::vector<PendingOp> pending_;       // by fiber id: its next operation (SchedulerView::pending)
  std::set<std::pair<std::int64_t, std::uint32_t>> sleepers_;  // (wake time, fiber)
  // id - 1 → object. A vector (indexing a deque was a tenth of a mutex
  // point): a reference to an Object is good only until the next new object
  // (object_id), so none is held across a scheduling point.
  std::vector<Object> objects_;
  std::vector<std::uint32_t> waking_;  // wake_all's scratch list
  DecisionLog decisions_;
  FiberRecord* current_ = nullptr;
  std::uint32_t next_ = kNoFiber;
  std::uint64_t step_ = 0;
  std::int64_t now_ns_ = 0;
  bool ran_ = false;
  bool failed_ = false;
  bool cancelling_ = false;
  std::uint64_t cancel_mode_ops_ = 0;
  RunResult failure_;
  std::vector<TraceEvent> marked_before_;
};

}  // namespace segsim::sim
