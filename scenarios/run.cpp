// run_scenario: the stack on a faulty SimOs, the scenario's fibers under a
// Simulation, the oracles as it goes and at quiescence.
#include "scenarios/run.h"

#include <chrono>
#include <deque>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/mutants.h"
#include "core/probe.h"
#include "core/platform/mutex.h"
#include "faults/fault_injector.h"
#include "faults/fault_plan.h"
#include "scenarios/oracles/liveness.h"
#include "scenarios/safe_file.h"
#include "scenarios/stack.h"

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

bool known_strategy(const std::string& name) {
  return name == "random" || name == "pct" || name == "pos" || name == "rr" || name == "replay";
}

}  // namespace

std::uint64_t pct_steps_for(const RunSpec& spec) {
  if (spec.pct_steps > 0) return spec.pct_steps;
  RunSpec calibration;
  calibration.scenario = spec.scenario;
  calibration.seed = kPctCalibrationSeed;
  calibration.strategy = "random";
  calibration.faults = spec.faults;
  calibration.max_steps = spec.max_steps;
  calibration.threads = spec.threads;
  calibration.size = spec.size;
  if (const ScenarioInfo* info = find_scenario(spec.scenario); info != nullptr) {
    if (calibration.threads == 0) calibration.threads = info->default_threads;
    if (calibration.size == 0) calibration.size = info->default_size;
  }
  const std::string key = fmt::format("{}|{}|{}|{}|{}", calibration.scenario, calibration.threads,
                                      calibration.size, calibration.faults, calibration.max_steps);
  static std::mutex cache_mu;
  static std::map<std::string, std::uint64_t> cache;
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
                                                slab_churn_scenario(),  txn_arenas_scenario()};
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

const ScenarioInfo* find_scenario(const std::string& name) {
  for (const ScenarioInfo& info : scenario_catalogue()) {
    if (info.name == name) return &info;
  }
  return nullptr;
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

Result<RunReport> run_checked_scenario(const RunSpec& spec_in, const RunOptions& options, std::string* error_line) {
  const auto started = std::chrono::steady_clock::now();
  auto refuse = [&](std::string line) -> Result<RunReport> {
    if (error_line != nullptr) *error_line = std::move(line);
    return make_error(Errc::InvalidConfig, "bad run spec");
  };
  RunSpec spec = resolved_spec(spec_in);
  const ScenarioDef* def = nullptr;
  for (const ScenarioDef& candidate : scenario_defs()) {
    if (candidate.info.name == spec.scenario) def = &candidate;
  }
  if (def == nullptr) return refuse(fmt::format("unknown scenario {} (see segsim list)", quoted_text(spec.scenario)));
  if (!known_strategy(spec.strategy)) {
    return refuse(fmt::format("unknown strategy {} (random, pct, pos, rr, replay)", quoted_text(spec.strategy)));
  }
  if (spec.strategy == "replay" && spec.decisions.empty()) return refuse("strategy replay needs recorded decisions");
  if (spec.pct_depth < kMinPctDepth || spec.pct_depth > kMaxPctDepth) {
    return refuse(fmt::format("pct depth must be in {}..{}", kMinPctDepth, kMaxPctDepth));
  }
  if (spec.threads > kMaxThreads) return refuse(fmt::format("threads must be in 1..{}", kMaxThreads));
  if (spec.size > kMaxSize) return refuse(fmt::format("size must be in 1..{}", kMaxSize));
  if (!spec.test_hook.empty() && spec.test_hook != "corrupt-segment") {
    return refuse(fmt::format("unknown test hook {} (corrupt-segment)", quoted_text(spec.test_hook)));
  }
  std::string fault_error;
  auto plan = faults::make_fault_plan(spec.faults, spec.seed, &fault_error);
  if (!plan.ok()) return refuse(fault_error);
  // Before the bug switch below: the calibration run is of the correct stack.
  if (spec.strategy == "pct" && spec.decisions.empty()) spec.pct_steps = pct_steps_for(spec);
#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
  const mutants::BugInfo* bug = nullptr;
  if (!spec.bug.empty()) {
    bug = mutants::find(spec.bug);
    if (bug == nullptr) return refuse(fmt::format("unknown bug '{}' (see segsim list)", spec.bug));
  }
  // On for this run only, from before the stack is built (the pool's
  // constructor is one of the sites) until after it is gone.
  struct BugSwitch {
    explicit BugSwitch(const mutants::BugInfo* info) {
      if (info != nullptr) {
        mutants::activate(info->bug);
        active_ = true;
      }
    }
    ~BugSwitch() {
      if (active_) mutants::deactivate();
    }
    bool active_ = false;
  } bug_switch(bug);
#else
  if (!spec.bug.empty()) return refuse("this build has no mutants (configure with the mutants preset)");
#endif

  // ---- the stack ----
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

  SegmentAllocatorConfig allocator_config;
  allocator_config.region_bytes = 256 * 1024;
  // The budget grows with the clients that hold memory at once (leak-soak at
  // 64 threads holds ~0.7 GiB), within the SimOs reservation.
  allocator_config.budget_bytes = std::max<std::size_t>(kBaseBudgetBytes, spec.threads * kBudgetBytesPerThread);
  PageCacheConfig cache_config;
  def->configure(allocator_config, cache_config, spec.threads, spec.size);
  if (def->configure_seeded) def->configure_seeded(allocator_config, cache_config, spec.seed);
  allocator_config.observer = &oracles;
  auto allocator = SegmentAllocator::create(faulty_os, allocator_config);
  if (!allocator.ok()) return refuse("scenario allocator config: " + allocator.error().describe());
  oracles.attach(*allocator.value());
  LeafPagePoolConfig pool_config;
  pool_config.page.slot_count = 64;
  LeafPagePool pool(*allocator.value(), pool_config);

  sim::SimulationConfig sim_config;
  sim_config.seed = spec.seed;
  // Recorded decisions are replayed whatever strategy recorded them; the spec
  // keeps that strategy's name (oracles' preconditions may depend on it).
  sim_config.strategy = spec.decisions.empty() ? spec.strategy : "replay";
  sim_config.pct_depth = spec.pct_depth;
  sim_config.pct_estimated_steps = std::max<std::uint64_t>(spec.pct_steps, 1);
  sim_config.replay_decisions = spec.decisions;
  sim_config.replay_lenient = spec.lenient_replay;
  sim_config.max_steps = spec.max_steps;
  sim_config.keep_full_trace = options.keep_full_trace;
  sim_config.async_start_delay = [&injector] { return injector.async_start_delay(); };

  RunReport report;
  sim::RunResult result;
  std::size_t borrowed_at_end = 0;
  probes::CountingScope probe_counting;
  {
    fault_points::ControllerScope fault_points(&injector);
    sim::Simulation simulation(sim_config);
    {
      // The shadow of an evicted page is dead (ids are never published
      // twice): forgotten kShadowRetireDelay evictions later, so a long run's
      // memory does not grow with every page it ever built, and a reader that
      // a buggy cache let keep an evicted page still finds its shadow.
      Stack* stack_of_cache = nullptr;
      std::deque<std::uint64_t> retired_pages;
      PageCache cache(cache_config, [&pool, &oracles, &stack_of_cache, &retired_pages](const std::uint64_t& id,
                                                                                       LeafPage* page) {
        Status back = pool.give_back(page);
        if (!back.ok()) oracles.report("double-free", "evicted page: " + back.error().describe());
        if (stack_of_cache == nullptr) return;
        retired_pages.push_back(id);
        if (retired_pages.size() > kShadowRetireDelay) {
          stack_of_cache->shadow.erase(retired_pages.front());
          stack_of_cache->dewey_shadow.erase(retired_pages.front());
          retired_pages.pop_front();
        }
      });
      Stack stack{*sim_os.value(), faulty_os, *allocator.value(), pool, cache, oracles, simulation,
                  spec.threads, spec.size, spec.test_hook, !plan->empty(), spec.strategy, &plan.value(),
                  1, {}, {}};
      stack.seed = spec.seed;
      stack_of_cache = &stack;
      struct Forget {  // the stack goes before the cache: its listener must not reach it
        Stack*& stack;
        ~Forget() { stack = nullptr; }
      } forget_stack{stack_of_cache};
      platform::Mutex done_mu;
      platform::CondVar done_cv;
      std::uint32_t clients_done = 0;
      bool prepared = false;

      // The conductor prepares, starts the clients, waits for them, and
      // gives everything back: quiescence is reached inside the simulation.
      simulation.spawn("conductor", [&] {
        if (def->prepare) def->prepare(stack);
        {
          platform::LockGuard guard(done_mu);
          prepared = true;
          done_cv.notify_all();
        }
        platform::UniqueLock lock(done_mu);
        done_cv.wait(lock, [&] { return clients_done == spec.threads; });
        lock.unlock();
        if (def->finish) def->finish(stack);
        cache.clear();
        pool.clear_all();  // shutdown: every lingering page returns its segments (seed 001)
        oracles.check_cheap();
      });
      for (std::uint32_t i = 0; i < spec.threads; ++i) {
        simulation.spawn(fmt::format("client-{}", i), [&, i] {
          {
            platform::UniqueLock lock(done_mu);
            done_cv.wait(lock, [&] { return prepared; });
          }
          def->client(stack, i);
          platform::LockGuard guard(done_mu);
          ++clients_done;
          done_cv.notify_all();
        });
      }
      result = simulation.run();
      explain_simulation_failure(result, oracles);
      if (result.passed()) {
        allocator.value()->wait_for_cleanups();
        oracles.sample_now();
        borrowed_at_end = pool.stats().borrowed;
        oracles.check_quiescent(borrowed_at_end);
      }
      oracles.complete_failure(result);
      if (!result.passed() || oracles.failure()) {
        // Leave nothing behind for the destructors to trip over.
        cache.clear();
      }
      report.pressure = std::move(stack.pressure);
    }
  }
  pool.clear_all();

  report.spec = spec;
  report.concrete_faults = plan->describe();
  report.failure = oracles.failure();
  report.passed = !report.failure.has_value();
  report.steps = result.steps;
  report.virtual_time_ns = result.virtual_time_ns;
  report.trace_hash = result.trace_hash;
  report.fibers = result.fibers;
  report.decisions = std::move(result.decisions);
  report.last_events = std::move(result.last_events);
  report.full_trace = std::move(result.full_trace);
  report.memory = oracles.samples();
  report.peak_virtual_bytes = allocator.value()->stats().peak_virtual_bytes;
  report.peak_resident_bytes = oracles.peak_resident_bytes();
  report.faults_injected = injector.counts().injected();
  report.probe_hits = probes::hits();
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
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
