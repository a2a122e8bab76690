// run_scenario: the stack on a faulty SimOs, the scenario's fibers under a
// Simulation, the oracles as it goes and at quiescence.
#include "scenarios/run.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/assert.h"
#include "core/fault_point.h"
#include "core/mutants.h"
#include "core/probe.h"
#include "core/platform/clock.h"
#include "core/platform/mutex.h"
#include "faults/fault_injector.h"
#include "faults/fault_plan.h"
#include "scenarios/oracles/liveness.h"
#include "scenarios/safe_file.h"
#include "scenarios/stack.h"
#include "scenarios/test_hooks.h"

#ifndef SEGSIM_BUILD_DESCRIPTION
#define SEGSIM_BUILD_DESCRIPTION "unknown"
#endif

namespace segsim::scenarios {

namespace {

// Limits on what a run may ask for.
constexpr std::size_t kReservationBytes = std::size_t{4} << 30;
constexpr std::size_t kShadowRetireDelay = 4096;
constexpr std::size_t kBaseBudgetBytes = std::size_t{256} << 20;
constexpr std::size_t kBudgetBytesPerThread = std::size_t{16} << 20;  // 64 threads: 1 GiB
// PCT's k is calibrated by a run at this seed (pct_steps_for); a calibration
// run that ends early (a fault plan that stops it) still gives at least this.
constexpr std::uint64_t kPctCalibrationSeed = 1;
constexpr std::uint64_t kPctMinSteps = 64;

}  // namespace

std::uint64_t pct_steps_for(const RunSpec& spec) {
  if (spec.pct_steps > 0) return spec.pct_steps;
  RunSpec calibration;
  calibration.scenario = spec.scenario;
  calibration.seed = kPctCalibrationSeed;
  calibration.strategy = sim::StrategyKind::Random;
  calibration.faults = spec.faults;
  calibration.max_steps = spec.max_steps;
  calibration.threads = spec.threads;
  calibration.size = spec.size;
  calibration.recording = spec.recording;
  calibration.fuzz_artifact = spec.fuzz_artifact;
  if (const ScenarioInfo* info = find_scenario(spec.scenario); info != nullptr) {
    if (calibration.threads == 0) calibration.threads = info->default_threads;
    if (calibration.size == 0) calibration.size = info->default_size;
  }
  const std::string key = fmt::format("{}|{}|{}|{}|{}", calibration.scenario, calibration.threads,
                                      calibration.size, calibration.faults, calibration.max_steps);
  static std::mutex cache_mu;
  static std::map<std::string, std::uint64_t> cache;
  if (calibration.recording || calibration.fuzz_artifact) {  // workloads the key does not name: not cached
    auto report = run_scenario(calibration);
    return std::max(kPctMinSteps, report.ok() ? report->steps : 0);
  }
  {
    std::lock_guard lock(cache_mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  auto report = run_scenario(calibration);
  const std::uint64_t steps = std::max(kPctMinSteps, report.ok() ? report->steps : 0);
  std::lock_guard lock(cache_mu);
  cache.emplace(key, steps);
  return steps;
}

const std::vector<ScenarioDef>& scenario_defs() {
  static const std::vector<ScenarioDef> defs = {chicago_scenario(),     leak_soak_scenario(),
                                                budget_scenario(),      resize_storm_scenario(),
                                                evict_race_scenario(),  page_file_scenario(),
                                                alloc_api_scenario(),   page_api_scenario(),
                                                large_objects_scenario(), pressure_scenario(),
                                                slab_churn_scenario(),  txn_arenas_scenario(),
                                                tcache_churn_scenario()};
  return defs;
}

const std::vector<ScenarioInfo>& scenario_catalogue() {
  static const std::vector<ScenarioInfo> catalogue = [] {
    std::vector<ScenarioInfo> infos;
    for (const ScenarioDef& def : scenario_defs()) infos.push_back(def.info);
    return infos;
  }();
  return catalogue;
}

namespace {

// Scenarios a RunSpec's own data builds (not listed, not run by name).
const std::vector<ScenarioDef>& spec_built_defs() {
  static const std::vector<ScenarioDef> defs = {recorded_scenario(), fuzz_alloc_ops_scenario()};
  return defs;
}

const ScenarioDef* find_def(const std::string& name) {
  for (const auto* defs : {&scenario_defs(), &spec_built_defs()}) {
    for (const ScenarioDef& candidate : *defs) {
      if (candidate.info.name == name) return &candidate;
    }
  }
  return nullptr;
}

}  // namespace

const ScenarioInfo* find_scenario(const std::string& name) {
  const ScenarioDef* def = find_def(name);
  return def == nullptr ? nullptr : &def->info;
}

std::string build_id() { return SEGSIM_BUILD_DESCRIPTION; }

std::uint64_t default_step_limit(const ScenarioInfo& scenario, std::uint32_t threads, std::uint32_t size) {
  // Work grows with clients x size; contention adds scheduling steps per
  // operation as threads grow, hence the extra factor on threads.
  const std::uint64_t default_work = std::uint64_t{scenario.default_threads} * scenario.default_size;
  const std::uint64_t work = std::uint64_t{threads} * size;
  const std::uint64_t scale = (work + default_work - 1) / default_work;
  const std::uint64_t contention = 1 + threads / 16;
  return kBaseStepLimit * std::max<std::uint64_t>(1, scale) * contention;
}

RunSpec resolved_spec(const RunSpec& spec_in) {
  RunSpec spec = spec_in;
#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
  // A catalogued bug switched on for the whole process (SEGSIM_MUTANT) is part
  // of the run: named in its spec, so its repro replays in a process without it.
  if (spec.bug.empty()) {
    if (const char* active = mutants::active_name(); active != nullptr) spec.bug = active;
  }
#endif
  const ScenarioInfo* info = find_scenario(spec.scenario);
  if (info == nullptr) return spec;
  if (spec.threads == 0) spec.threads = info->default_threads;
  if (spec.size == 0) spec.size = info->default_size;
  if (spec.max_steps == 0 && spec.threads <= kMaxThreads && spec.size <= kMaxSize) {
    spec.max_steps = default_step_limit(*info, spec.threads, spec.size);
  }
  return spec;
}

namespace {

// Whether the spec carries what its scenario runs (and nothing else).
std::string payload_refusal(const ScenarioDef& def, const RunSpec& spec) {
  using Needs = ScenarioDef::Needs;
  if (def.needs == Needs::Recording && !spec.recording) {
    return fmt::format("scenario {} runs a crash report's operations: make it with segsim reproduce CRASH.json",
                       def.info.name);
  }
  if (def.needs == Needs::FuzzArtifact && !spec.fuzz_artifact) {
    return fmt::format("scenario {} runs a fuzzer artifact's operations: make it with segsim reproduce crash-<sha1>",
                       def.info.name);
  }
  if ((def.needs != Needs::Recording && spec.recording) || (def.needs != Needs::FuzzArtifact && spec.fuzz_artifact)) {
    return fmt::format("scenario {} takes no recording nor fuzzer artifact", def.info.name);
  }
  return {};
}

// Why the (resolved) spec cannot run, or "" when it can; the fault spec and
// the bug name are checked where they are made into a plan and a switch.
std::string spec_refusal(const RunSpec& spec) {
  const ScenarioDef* def = find_def(spec.scenario);
  if (def == nullptr) return fmt::format("unknown scenario {} (see segsim list)", quoted_text(spec.scenario));
  if (std::string why = payload_refusal(*def, spec); !why.empty()) return why;
  if (spec.strategy == sim::StrategyKind::Replay && spec.decisions.empty()) {
    return "strategy replay needs recorded decisions";
  }
  if (spec.pct_depth < kMinPctDepth || spec.pct_depth > kMaxPctDepth) {
    return fmt::format("pct depth must be in {}..{}", kMinPctDepth, kMaxPctDepth);
  }
  if (spec.threads > kMaxThreads) return fmt::format("threads must be in 1..{}", kMaxThreads);
  if (spec.size > kMaxSize) return fmt::format("size must be in 1..{}", kMaxSize);
  if (!spec.test_hook.empty()) {
    constexpr std::string_view kHooks[] = {"corrupt-segment",       kCrashHook,            kUseAfterUnmapHook,
                                           kAssertInDestructorHook, kAssertInTeardownHook, kHeapReuseHook};
    if (std::find(std::begin(kHooks), std::end(kHooks), spec.test_hook) == std::end(kHooks)) {
      return fmt::format("unknown test hook {} ({})", quoted_text(spec.test_hook), fmt::join(kHooks, ", "));
    }
  }
  return {};
}

#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
// A catalogued bug, on for one run only: from before the stack is built (the
// pool's constructor is one of the sites) until after it is gone. The bug
// that was on before (SEGSIM_MUTANT) is back afterwards: the next run in this
// process (a sweep worker's next seed) starts as a fresh process would.
class BugSwitch {
 public:
  explicit BugSwitch(const mutants::BugInfo* info) {
    if (info != nullptr) {
      const char* before = mutants::active_name();
      previous_ = before == nullptr ? nullptr : mutants::find(before);
      mutants::activate(info->bug);
      active_ = true;
    }
  }
  ~BugSwitch() {
    if (!active_) return;
    if (previous_ != nullptr) {
      mutants::activate(previous_->bug);
    } else {
      mutants::deactivate();
    }
  }
  BugSwitch(const BugSwitch&) = delete;
  BugSwitch& operator=(const BugSwitch&) = delete;

 private:
  bool active_ = false;
  const mutants::BugInfo* previous_ = nullptr;
};
#endif

// The parts of the stack under test one run builds before its fibers start.
struct Rig {
  faults::SimOs& sim_os;
  faults::FaultyOs& faulty_os;
  Os& allocator_os;
  faults::FaultInjector& injector;
  const faults::FaultPlan& plan;
  SegmentAllocator& allocator;
  LeafPagePool& pool;
  Oracles& oracles;
  const PageCacheConfig& cache_config;
};

SegmentAllocatorConfig allocator_config_for(const RunSpec& spec, const ScenarioDef& def,
                                            PageCacheConfig& cache_config, Oracles& oracles) {
  SegmentAllocatorConfig allocator_config;
  allocator_config.region_bytes = 256 * 1024;
  // The budget grows with the clients that hold memory at once (leak-soak at
  // 64 threads holds ~0.7 GiB), within the SimOs reservation.
  allocator_config.budget_bytes = std::max<std::size_t>(kBaseBudgetBytes, spec.threads * kBudgetBytesPerThread);
  def.configure(allocator_config, cache_config, spec.threads, spec.size);
  if (def.configure_seeded) def.configure_seeded(allocator_config, cache_config, spec.seed);
  if (def.configure_from_spec) def.configure_from_spec(allocator_config, cache_config, spec);
  allocator_config.observer = &oracles;
  return allocator_config;
}

sim::SimulationConfig simulation_config_for(const RunSpec& spec, const RunOptions& options,
                                            faults::FaultInjector& injector) {
  sim::SimulationConfig sim_config;
  sim_config.seed = spec.seed;
  // Recorded decisions are replayed whatever strategy recorded them; the spec
  // keeps that strategy's name (oracles' preconditions may depend on it).
  sim_config.strategy = sim::strategy_name(spec.decisions.empty() ? spec.strategy : sim::StrategyKind::Replay);
  sim_config.pct_depth = spec.pct_depth;
  sim_config.pct_estimated_steps = std::max<std::uint64_t>(spec.pct_steps, 1);
  sim_config.replay_decisions = spec.decisions;
  sim_config.replay_lenient = spec.lenient_replay;
  sim_config.fuzz_bytes = spec.fuzz_bytes;
  sim_config.max_steps = spec.max_steps;
  sim_config.keep_full_trace = options.keep_full_trace;
  sim_config.async_start_delay = [&injector] { return injector.async_start_delay(); };
  return sim_config;
}

// The conductor prepares, starts the clients, waits for them, and gives
// everything back: quiescence is reached inside the simulation.
struct Rendezvous {
  platform::Mutex done_mu;
  platform::CondVar done_cv;
  std::uint32_t clients_done = 0;
  bool prepared = false;
};

void spawn_fibers(sim::Simulation& simulation, Stack& stack, const ScenarioDef& def, Rendezvous& meet) {
  simulation.spawn("conductor", [&] {
    if (def.prepare) def.prepare(stack);
    run_conductor_test_hooks(stack);
    {
      platform::LockGuard guard(meet.done_mu);
      meet.prepared = true;
      meet.done_cv.notify_all();
    }
    platform::UniqueLock lock(meet.done_mu);
    meet.done_cv.wait(lock, [&] { return meet.clients_done == stack.threads; });
    lock.unlock();
    if (def.finish) def.finish(stack);
    stack.cache.clear();
    stack.pool.clear_all();  // shutdown: every lingering page returns its segments (seed 001)
    stack.oracles.check_cheap();
  });
  for (std::uint32_t i = 0; i < stack.threads; ++i) {
    simulation.spawn(fmt::format("client-{}", i), [&, i] {
      {
        platform::UniqueLock lock(meet.done_mu);
        meet.done_cv.wait(lock, [&] { return meet.prepared; });
      }
      def.client(stack, i);
      platform::LockGuard guard(meet.done_mu);
      ++meet.clients_done;
      meet.done_cv.notify_all();
    });
  }
}

// Runs the scenario's fibers over the rig, then the quiescent checks; the
// pressure ticks go to `report`.
sim::RunResult simulate(const RunSpec& spec, const RunOptions& options, const ScenarioDef& def, Rig& rig,
                        RunReport& report) {
  fault_points::ControllerScope fault_points(&rig.injector);
  sim::Simulation simulation(simulation_config_for(spec, options, rig.injector));
  LeafPagePool& pool = rig.pool;
  Oracles& oracles = rig.oracles;
  // The shadow of an evicted page is dead (ids are never published twice):
  // forgotten kShadowRetireDelay evictions later, so a long run's memory does
  // not grow with every page it ever built, and a reader that a buggy cache
  // let keep an evicted page still finds its shadow.
  Stack* stack_of_cache = nullptr;
  std::deque<std::uint64_t> retired_pages;
  PageCache cache(rig.cache_config, pool, [&oracles, &stack_of_cache, &retired_pages](const std::uint64_t& id,
                                                                                      const Status& back) {
    if (!back.ok()) oracles.report("double-free", "evicted page: " + back.error().describe());
    if (stack_of_cache == nullptr) return;
    retired_pages.push_back(id);
    if (retired_pages.size() > kShadowRetireDelay) {
      stack_of_cache->shadow.erase(retired_pages.front());
      stack_of_cache->dewey_shadow.erase(retired_pages.front());
      retired_pages.pop_front();
    }
  });
  Stack stack{.sim_os = rig.sim_os,
              .os = rig.faulty_os,
              .allocator_os = rig.allocator_os,
              .allocator = rig.allocator,
              .pool = pool,
              .cache = cache,
              .oracles = oracles,
              .simulation = simulation,
              .threads = spec.threads,
              .size = spec.size,
              .test_hook = spec.test_hook,
              .faults_active = !rig.plan.empty(),
              .strategy = spec.strategy,
              .plan = &rig.plan,
              .injector = &rig.injector};
  stack.seed = spec.seed;
  stack.recording = spec.recording.get();
  stack.fuzz_artifact = spec.fuzz_artifact.get();
  stack_of_cache = &stack;
  struct Forget {  // the stack goes before the cache: its listener must not reach it
    Stack*& stack;
    ~Forget() { stack = nullptr; }
  } forget_stack{stack_of_cache};
  Rendezvous meet;
  spawn_fibers(simulation, stack, def, meet);
  sim::RunResult result = simulation.run();
  SEGSIM_ASSERT(spec.test_hook != kAssertInTeardownHook, "test hook: an assertion in the run's teardown");
  explain_simulation_failure(result, oracles);
  if (result.passed()) {
    rig.allocator.wait_for_cleanups();
    oracles.sample_now();
    oracles.check_quiescent(pool.stats().borrowed);
  }
  oracles.complete_failure(result);
  if (!result.passed() || oracles.failure()) {
    // Leave nothing behind for the destructors to trip over.
    cache.clear();
  }
  report.pressure = std::move(stack.pressure);
  return result;
}

// What the run measured; its verdict is set once every check has run.
void fill_report_measures(RunReport& report, const RunSpec& spec, const Rig& rig, sim::RunResult&& result) {
  report.spec = spec;
  report.concrete_faults = rig.plan.describe();
  report.steps = result.steps;
  report.virtual_time_ns = result.virtual_time_ns;
  report.trace_hash = result.trace_hash;
  report.fibers = result.fibers;
  report.decisions = std::move(result.decisions);
  report.last_events = std::move(result.last_events);
  report.full_trace = std::move(result.full_trace);
  report.memory = rig.oracles.samples();
  report.peak_virtual_bytes = rig.allocator.stats().peak_virtual_bytes;
  report.peak_resident_bytes = rig.oracles.peak_resident_bytes();
  report.faults_injected = rig.injector.counts().injected();
  report.probe_hits = probes::hits();
  for (std::size_t site = 0; site < fault_points::kFaultPoints.size(); ++site) {
    report.fault_point_asks.push_back(rig.injector.asks(site));
    report.fault_point_fires.push_back(rig.injector.fires(site));
  }
}

Result<RunReport> run_checked_scenario(const RunSpec& spec_in, const RunOptions& options, std::string* error_line) {
  const auto started = std::chrono::steady_clock::now();
  auto refuse = [&](std::string line) -> Result<RunReport> {
    if (error_line != nullptr) *error_line = std::move(line);
    return make_error(Errc::InvalidConfig, "bad run spec");
  };
  RunSpec spec = resolved_spec(spec_in);
  if (std::string refusal = spec_refusal(spec); !refusal.empty()) return refuse(std::move(refusal));
  const ScenarioDef& def = *find_def(spec.scenario);
  std::string fault_error;
  auto plan = faults::make_fault_plan(spec.faults, spec.seed, &fault_error);
  if (!plan.ok()) return refuse(fault_error);
  // Before the bug switch below: the calibration run is of the correct stack.
  if (spec.strategy == sim::StrategyKind::Pct && spec.decisions.empty()) spec.pct_steps = pct_steps_for(spec);
#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
  const mutants::BugInfo* bug = nullptr;
  if (!spec.bug.empty()) {
    bug = mutants::find(spec.bug);
    if (bug == nullptr) return refuse(fmt::format("unknown bug '{}' (see segsim list)", spec.bug));
  }
  const BugSwitch bug_switch(bug);
#else
  if (!spec.bug.empty()) return refuse("this build has no mutants (configure with the mutants preset)");
#endif
  faults::SimOsConfig os_config;
  os_config.reservation_bytes = kReservationBytes;
  os_config.seed = spec.seed;
  auto sim_os = faults::SimOs::create(os_config);
  if (!sim_os.ok()) {
    if (error_line != nullptr) {
      *error_line = fmt::format("environment: cannot reserve {} GiB of address space for the simulated OS "
                                "(ulimit -v?): {}",
                                kReservationBytes >> 30, sim_os.error().describe());
    }
    return make_error(Errc::OutOfMemory, "environment");
  }
  faults::FaultInjector injector(plan.value(), spec.seed);
  faults::FaultyOs faulty_os(*sim_os.value(), injector);
  Oracles oracles(*sim_os.value());
  if (options.sample_memory) oracles.sample_every(500);
  PageCacheConfig cache_config;
  OsLedgerOs allocator_os(faulty_os);  // what the allocator asked of its Os (os-accounting)
  auto allocator = SegmentAllocator::create(allocator_os, allocator_config_for(spec, def, cache_config, oracles));
  if (!allocator.ok()) return refuse("scenario allocator config: " + allocator.error().describe());
  oracles.attach(*allocator.value(), &allocator_os.ledger());
  LeafPagePoolConfig pool_config;
  pool_config.page.slot_count = 64;
  std::optional<LeafPagePool> pool(std::in_place, *allocator.value(), pool_config);
  Rig rig{*sim_os.value(), faulty_os, allocator_os, injector, plan.value(), *allocator.value(), *pool, oracles, cache_config};
  RunReport report;
  probes::CountingScope probe_counting;
  sim::RunResult result = simulate(spec, options, def, rig, report);
  pool->clear_all();
  fill_report_measures(report, spec, rig, std::move(result));
  // The allocator's teardown, judged (teardown-unmapped) on a run whose
  // checks found nothing, with no cleanup task left for the destructor to
  // run. Its fault draws come after everything the report counts.
  const AllocatorStats last = allocator.value()->stats();
  const bool judge_teardown = !oracles.failure() && last.cleanups_started() == last.cleanups_finished();
  pool.reset();
  const OsLedger before_teardown = allocator_os.ledger();
  allocator.value().reset();
  if (judge_teardown) oracles.check_teardown_unmapped(before_teardown);
  report.failure = oracles.failure();
  report.passed = !report.failure.has_value();
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace

Result<RunReport> run_scenario(const RunSpec& spec, const RunOptions& options, std::string* error_line) {
  try {
    return run_checked_scenario(spec, options, error_line);
  } catch (const std::bad_alloc&) {
    // The harness could not get the memory it needs (ulimit -v, a full
    // machine): the environment's problem, not a finding about the stack.
    if (error_line != nullptr) *error_line = "environment: out of memory running the scenario (ulimit -v?)";
    return make_error(Errc::OutOfMemory, "environment");
  }
}

}  // namespace segsim::scenarios
