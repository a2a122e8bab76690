#include "scenarios/reproduce.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "core/platform/mutex.h"
#include "core/segment_allocator.h"
#include "core/size_class.h"
#include "faults/sim_os.h"
#include "sim/simulation.h"

namespace segsim::scenarios {

namespace {

using Clock = std::chrono::steady_clock;
using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>;  // recorded region, slice, generation
constexpr std::size_t kMaxBudgetBytes = std::size_t{8} << 30;  // the SimOs reservation is twice the budget
constexpr std::uint64_t kMaxSteps = 50'000'000;

Key key_of(const CrashEvent& e) { return {e.region, e.slice, e.generation}; }
bool is_release(const CrashEvent& e) {
  return e.op == flight_recorder::Op::Release || e.op == flight_recorder::Op::Reset;
}

// One rebuilt run: its shared state (fibers switch only at scheduling points).
struct Rebuilt {
  const CrashReport& report;
  SegmentAllocator& allocator;
  bool follow_order = false;
  std::vector<std::uint64_t> order;  // every recorded sequence number, ascending
  std::size_t next = 0;              // index into order: the operation whose turn it is
  platform::Mutex gate_mu;
  platform::CondVar gate_cv;
  bool prepared = false;
  std::map<Key, Segment> handles;
  bool reproduced = false;
  std::string failure;
};

// Slices released in the window but allocated before it: allocated up front.
void prologue(Rebuilt& run) {
  std::vector<const CrashEvent*> events;
  for (const CrashThread& t : run.report.threads) {
    for (const CrashEvent& e : t.events) events.push_back(&e);
  }
  std::sort(events.begin(), events.end(), [](auto* a, auto* b) { return a->sequence < b->sequence; });
  std::map<Key, bool> allocated;
  for (const CrashEvent* e : events) {
    if (!is_release(*e)) {
      if (!e->error) allocated[key_of(*e)] = true;
      continue;
    }
    if (allocated.count(key_of(*e)) > 0 || e->size_class < 0) continue;
    allocated[key_of(*e)] = true;
    auto segment = run.allocator.allocate(class_bytes(static_cast<std::size_t>(e->size_class)));
    if (segment.ok()) run.handles[key_of(*e)] = segment.value();
  }
}

void perform(Rebuilt& run, const CrashEvent& e) {
  if (!is_release(e)) {
    auto got = e.op == flight_recorder::Op::Allocate ? run.allocator.allocate(e.bytes)
                                                     : run.allocator.allocate_uninitialized(e.bytes);
    if (got.ok() && !e.error) run.handles[key_of(e)] = got.value();
    return;
  }
  auto it = run.handles.find(key_of(e));
  if (it == run.handles.end()) return;  // its allocation failed here: nothing to release
  const Status status = e.op == flight_recorder::Op::Release ? run.allocator.release(it->second)
                                                             : run.allocator.reset(it->second);
  const std::optional<CrashEvent>& target = run.report.refused;
  if (!status.ok() && target && target->op == e.op && key_of(*target) == key_of(e) &&
      target->error == status.error().code && !run.reproduced) {
    run.reproduced = true;
    run.failure = fmt::format("{} of recorded region #{} slice {} (generation {}) refused again: {}",
                              flight_recorder::op_name(e.op), e.region, e.slice, e.generation,
                              errc_name(status.error().code));
  }
}

void thread_body(Rebuilt& run, const CrashThread& thread) {
  {
    platform::UniqueLock lock(run.gate_mu);
    run.gate_cv.wait(lock, [&] { return run.prepared; });
  }
  for (const CrashEvent& e : thread.events) {
    if (run.reproduced) return;
    if (run.follow_order) {
      platform::UniqueLock lock(run.gate_mu);
      run.gate_cv.wait(lock, [&] { return run.order[run.next] == e.sequence; });
    }
    perform(run, e);
    if (run.follow_order) {
      platform::LockGuard guard(run.gate_mu);
      ++run.next;
      run.gate_cv.notify_all();
    }
  }
}

// One attempt; false with `error_line` set when the report's stack cannot be built.
Result<bool> attempt(const CrashReport& report, const std::string& strategy, std::uint64_t seed, bool follow_order,
                     std::string* failure, std::string* error_line) {
  faults::SimOsConfig os_config;
  os_config.reservation_bytes = std::max<std::size_t>(report.budget_bytes * 2, std::size_t{1} << 30);
  auto os = faults::SimOs::create(os_config);
  if (!os.ok()) {
    if (error_line != nullptr) *error_line = "environment: cannot reserve the simulated OS: " + os.error().describe();
    return make_error(Errc::OutOfMemory, "environment");
  }
  SegmentAllocatorConfig config;
  config.region_bytes = report.region_bytes;
  config.budget_bytes = report.budget_bytes;
  auto allocator = SegmentAllocator::create(*os.value(), config);
  if (!allocator.ok()) {
    if (error_line != nullptr) *error_line = "bad crash report: its stack config: " + allocator.error().describe();
    return make_error(Errc::InvalidConfig, "bad crash report");
  }
  Rebuilt run{report, *allocator.value()};
  run.follow_order = follow_order;
  for (const CrashThread& t : report.threads) {
    for (const CrashEvent& e : t.events) run.order.push_back(e.sequence);
  }
  std::sort(run.order.begin(), run.order.end());
  sim::SimulationConfig sim_config;
  sim_config.seed = seed;
  sim_config.strategy = strategy;
  sim_config.pct_estimated_steps = std::max<std::uint64_t>(64, run.order.size() * 8);
  sim_config.max_steps = kMaxSteps;
  sim::Simulation simulation(sim_config);
  simulation.spawn("prologue", [&] {
    prologue(run);
    platform::LockGuard guard(run.gate_mu);
    run.prepared = true;
    run.gate_cv.notify_all();
  });
  for (const CrashThread& t : report.threads) {
    simulation.spawn(fmt::format("thread-{}", t.thread), [&run, &t] { thread_body(run, t); });
  }
  (void)simulation.run();
  *failure = run.failure;
  return run.reproduced;
}

}  // namespace

Result<ReproduceOutcome> reproduce_crash(const CrashReport& report, const ReproduceLimits& limits,
                                         std::string* error_line) {
  if (report.kind != "refused" || !report.refused) {
    if (error_line != nullptr) {
      *error_line = fmt::format("crash report of a {}: this build reproduces refused releases and resets only",
                                report.kind);
    }
    return make_error(Errc::InvalidConfig, "unsupported failure");
  }
  if (report.budget_bytes == 0 || report.budget_bytes > kMaxBudgetBytes) {
    if (error_line != nullptr) *error_line = "bad crash report: budget_bytes must be in 1..8 GiB";
    return make_error(Errc::InvalidConfig, "bad crash report");
  }
  const auto started = Clock::now();
  ReproduceOutcome outcome;
  for (std::uint32_t n = 1; n <= limits.max_attempts; ++n) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (n > 1 && seconds >= limits.max_seconds) break;
    // Attempt 1 follows the recorded order; then random and PCT by turns, around it.
    const bool follow = n == 1;
    const std::string strategy = follow || n % 2 == 0 ? "random" : "pct";
    std::string failure;
    auto found = attempt(report, strategy, n, follow, &failure, error_line);
    if (!found.ok()) return found.error();
    outcome.attempts = n;
    if (found.value()) {
      outcome.reproduced = true;
      outcome.schedule = follow ? std::string("recorded order") : fmt::format("{} seed {}", strategy, n);
      outcome.failure = failure;
      break;
    }
  }
  outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return outcome;
}

}  // namespace segsim::scenarios
