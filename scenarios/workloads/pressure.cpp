// pressure — the closed memory-pressure loop (issue 15, seed 004 M002). A
// seeded demand of large objects ramps, plateaus and spikes against a shared
// budget while a writer fills the page cache and readers hold pages pinned
// across loop ticks. The loop fiber samples the real stack's accounting
// (segment virtual bytes + large-object mapped bytes) every second of virtual
// time, forecasts, and acts through StackPressureActions; a large allocation
// over budget asks the loop to reclaim before it is refused. Per seed the
// loop's extra operations (restart after a limit change, a second reading at
// the same instant) are drawn on or off. Oracles: oracles/pressure.h, every
// forecast against ForecastModel (forecast-model), plus content (pinned pages,
// live objects) and accounting; at quiescence the drills of pressure_drills.h
// and the decommit-policy episode (the actions' decommits on a private allocator).
#include <vector>

#include <fmt/format.h>

#include "core/fault_point_controllers.h"
#include "core/platform/clock.h"
#include "core/platform/mutex.h"
#include "core/pressure_actions.h"
#include "core/units.h"
#include "scenarios/oracles/forecast_model.h"
#include "scenarios/oracles/large_objects.h"
#include "scenarios/oracles/pressure.h"
#include "scenarios/workloads/decommit_policy_episode.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/pressure_drills.h"

namespace segsim::scenarios {

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::size_t kLimitBytes = 24 * MiB;
constexpr std::int64_t kTickNs = kSecond;
constexpr std::int64_t kRunNsPerSize = 240 * kSecond;

struct Phase {
  std::int64_t end_ns;
  double from, to;  // demand as a fraction of the limit, linear over the phase
};

struct PressureRun {
  explicit PressureRun(Os& os) : advises(os) {}
  OsLedgerOs advises;  // what `large` asked of the Os (declared first: outlives it)
  std::unique_ptr<LargeObjectAllocator> large;
  std::unique_ptr<PressureForecaster> forecaster;
  std::unique_ptr<StackPressureActions> actions;
  std::unique_ptr<ActionLedger> ledger;  // between the loop and `actions`: what the loop did
  std::unique_ptr<SourceLedger> sources;  // between the loop and its source readers: what they answered
  ReclaimLedger reclaims;
  std::unique_ptr<PressureLoop> loop;
  std::unique_ptr<LargeObjectChecks> large_checks;
  std::unique_ptr<PressureChecks> checks;
  std::unique_ptr<ForecastModel> model;  // fed every sample the forecaster is given (loop fiber only)
  platform::Mutex mu;  // guards the models and clients_done
  std::vector<Phase> phases;
  std::size_t held_bytes = 0;
  std::uint32_t clients_done = 0;
  bool restarts = false, bursts = false;
  // What the arena target heard from StackPressureActions::refuse_new_arenas:
  // every word the loop gave (ActionLedger), as it gave it.
  std::uint64_t arena_words = 0;
  bool arena_refusing = false;
};

PressureRun& run_of(Stack& stack) { return *std::static_pointer_cast<PressureRun>(stack.held.front()); }

// Ramps, plateaus and spikes, seeded.
std::vector<Phase> draw_phases(sim::Rng& rng, std::int64_t total_ns) {
  std::vector<Phase> phases;
  std::int64_t t = 0;
  double level = 0.1;
  while (t < total_ns) {
    const std::int64_t length = (5 + static_cast<std::int64_t>(rng.below(50))) * kSecond;
    double next = level;
    switch (rng.below(4)) {
      case 0: next = 0.2 + 0.75 * rng.unit(); break;                  // ramp to a new level
      case 1: break;                                                  // plateau
      case 2: next = std::min(1.3, level + 0.3 + 0.4 * rng.unit());   // spike
              phases.push_back({t + length / 4, next, next});
              t += length / 4;
              next = level;
              break;
      default: next = 0.05 + 0.2 * rng.unit(); break;                 // drop
    }
    phases.push_back({t + length, level, next});
    level = next;
    t += length;
  }
  return phases;
}

double demand_at(const std::vector<Phase>& phases, std::int64_t t) {
  std::int64_t start = 0;
  for (const Phase& p : phases) {
    if (t < p.end_ns) {
      const double f = static_cast<double>(t - start) / static_cast<double>(std::max<std::int64_t>(1, p.end_ns - start));
      return p.from + (p.to - p.from) * f;
    }
    start = p.end_ns;
  }
  return phases.empty() ? 0 : phases.back().to;
}

bool finished(PressureRun& run, std::uint32_t others) {
  platform::LockGuard guard(run.mu);
  return run.clients_done >= others;
}

void loop_fiber(Stack& stack, PressureRun& run, sim::Rng& rng) {
  bool burst_next = false;
  while (!finished(run, stack.threads - 1)) {
    platform::sleep_for_ns(kTickNs);
    run.sources->tick_starts();
    PressureTick tick = run.loop->tick();
    run.sources->check_tick(tick);
    platform::LockGuard guard(run.mu);
    run.checks->check_forecast(tick.forecast, "at a tick");
    run.model->record_at(tick.forecast.time_ns, tick.used_before_bytes, kLimitBytes);
    check_forecast_against_model(stack.oracles, run.forecaster->config(), tick.forecast, run.model->forecast(), "at a tick");
    run.checks->record_tick(tick);
    stack.pressure.push_back(PressurePoint{tick.forecast.time_ns, tick.used_before_bytes, kLimitBytes,
                                           tick.forecast.predicted_60s, tick.forecast.confidence,
                                           std::string(pressure_action_name(tick.action))});
    if (burst_next || (run.bursts && rng.chance(0.1))) {
      // A second source reporting at the same instant as the tick.
      burst_next = false;
      const std::size_t used = run.loop->used_bytes();
      if (!run.forecaster->record_at(tick.forecast.time_ns, used, kLimitBytes).ok()) {
        stack.oracles.fail("forecast", "a sample at the last sample's instant was refused");
      }
      run.model->record_at(tick.forecast.time_ns, used, kLimitBytes);
      const PressureForecast after = run.forecaster->forecast();
      run.checks->check_forecast(after, "after a reading at the same instant");
      check_forecast_against_model(stack.oracles, run.forecaster->config(), after, run.model->forecast(),
                                   "after a reading at the same instant");
    }
    if (run.bursts && rng.chance(0.05)) {
      // A late reading from before the last sample: refused, nothing kept.
      const std::size_t samples = run.forecaster->sample_count();
      Status late = run.forecaster->record_at(tick.forecast.time_ns - 1, 0, kLimitBytes);
      run.model->record_at(tick.forecast.time_ns - 1, 0, kLimitBytes);
      if (samples > 0 && (late.ok() || run.forecaster->sample_count() != samples)) {
        stack.oracles.fail("forecast", "a sample older than the last one was kept");
      }
    }
    if (run.restarts && rng.chance(0.05)) {
      run.forecaster->reset();  // as after a limit change: the history no longer applies
      run.model->reset();
      burst_next = run.bursts;
    }
    stack.oracles.check_cheap();
  }
}

void large_demand(Stack& stack, PressureRun& run, sim::Rng& rng) {
  const std::int64_t end = kRunNsPerSize * stack.size;
  for (std::int64_t now = platform::now_ns(); now < end; now = platform::now_ns()) {
    platform::sleep_for_ns(100'000'000 + static_cast<std::int64_t>(rng.below(400'000'000)));
    const auto target = static_cast<std::size_t>(demand_at(run.phases, platform::now_ns()) * kLimitBytes * 0.9);
    platform::LockGuard guard(run.mu);
    if (run.held_bytes < target) {
      const std::size_t requested = LargeObjectAllocator::kMinObjectBytes + rng.below(2 * MiB - 256 * KiB);
      const std::uint64_t reclaims_before = run.loop->stats().reclaims;
      const std::size_t live_before = run.large->stats().live_objects;
      auto object = run.large->allocate(requested);
      if (!object.ok() && object.error().code == Errc::OutOfBudget) {
        run.checks->check_refusal(platform::now_ns(), reclaims_before, run.loop->stats().reclaims, requested);
      }
      const std::uint64_t key = run.large_checks->allocated(object, requested, true, live_before,
                                                            stack.faults_active, false);
      if (object.ok()) {
        run.large_checks->write(key, static_cast<std::uint8_t>(1 + rng.below(255)));
        run.held_bytes += object->size();
      }
    } else if (!run.large_checks->live().empty()) {
      const auto& [key, entry] = *std::next(run.large_checks->live().begin(),
                                            static_cast<long>(rng.below(run.large_checks->live().size())));
      const std::uint64_t k = key;
      const LargeObject handle = entry.handle;
      run.large_checks->verify(k, "before release");
      run.held_bytes -= handle.size();
      run.large_checks->released(k, run.large->release(handle));
    }
    run.large_checks->check_audit();
    stack.oracles.check_cheap();
  }
}

void pages(Stack& stack, sim::Rng& rng, std::uint32_t index) {
  const std::int64_t end = kRunNsPerSize * stack.size;
  PageShape shape;
  shape.max_slots = 8;
  shape.max_value_bytes = 3000;
  while (platform::now_ns() < end) {
    if (index == 2) {  // the writer
      platform::sleep_for_ns(200'000'000 + static_cast<std::int64_t>(rng.below(800'000'000)));
      const std::uint64_t id = stack.next_page_id++;
      if (LeafPage* page = build_page(stack, rng, id, shape)) publish(stack, id, page);
    } else if (stack.next_page_id > 1) {  // readers: pins held across loop ticks
      const std::uint64_t id = 1 + rng.below(stack.next_page_id - 1);
      auto handle = stack.cache.get(id);
      platform::sleep_for_ns(100'000'000 + static_cast<std::int64_t>(rng.below(2'000'000'000)));
      if (handle) verify_page(stack, id, *handle.page());
    } else {
      platform::sleep_for_ns(kTickNs);
    }
    stack.oracles.check_cheap();
  }
}

// StackPressureActions with no targets (a stack without a cache, large
// objects or arenas): every action is a no-op, nothing is reclaimable.
void check_actions_without_targets(Stack& stack) {
  const std::size_t live_before = stack.oracles.model_live_slices();
  StackPressureActions none(StackPressureTargets{});
  none.gentle_eviction();
  none.aggressive_eviction();
  none.emergency_cleanup();
  none.refuse_new_arenas(true);
  if (none.pages_evicted() != 0 || none.reclaimable_bytes() != 0 || stack.oracles.model_live_slices() != live_before) {
    stack.oracles.fail("forecast", fmt::format("actions without targets evicted {} pages and count {} reclaimable bytes",
                                               none.pages_evicted(), none.reclaimable_bytes()));
  }
}

// StackPressureActions with a page cache (pressure_actions.h): gentle evicts
// gentle_pages, aggressive aggressive_pages, emergency every unpinned page —
// least recently used first, pinned pages never — and pages_evicted() counts
// them. On a private PageCache over the stack's pool (its evicted pages go
// back there), with drawn bounds and a few pages pinned; skipped when the
// run's faults refuse a page.
void check_actions_on_a_cache(Stack& stack, sim::Rng& rng) {
  StackPressureActionsConfig config;
  config.gentle_pages = 1 + rng.below(6);
  config.aggressive_pages = config.gentle_pages + 1 + rng.below(8);
  const std::size_t pinned = rng.below(4);
  const std::size_t pages = config.gentle_pages + config.aggressive_pages + pinned + 1 + rng.below(4);
  PageCache cache(PageCacheConfig{}, stack.pool);
  std::vector<PageCache::Handle> pins;
  for (std::uint64_t key = 1; key <= pages; ++key) {
    auto borrowed = stack.pool.borrow(stack.next_page_id++);
    if (!borrowed.ok()) return;  // a fault refused it: the cache's destructor gives back the rest
    cache.put(key, borrowed.value());
  }
  // The most recently used pages pinned: every action's first victims are unpinned.
  for (std::uint64_t key = pages; key > pages - pinned; --key) pins.push_back(cache.get(key));
  StackPressureActions actions(StackPressureTargets{&cache, nullptr, nullptr, {}}, config);
  auto expect = [&](const char* action, std::uint64_t evicted, std::size_t entries) {
    if (actions.pages_evicted() != evicted || cache.stats().entries != entries) {
      stack.oracles.fail("pressure-stats",
                         fmt::format("{} on a cache of {} pages ({} pinned; gentle {}, aggressive {} pages): "
                                     "pages_evicted() {} with {} cached; {} and {} were due",
                                     action, pages, pinned, config.gentle_pages, config.aggressive_pages,
                                     actions.pages_evicted(), cache.stats().entries, evicted, entries));
    }
    // With a cache as the only target, what is reclaimable is its bytes.
    if (actions.reclaimable_bytes() != cache.stats().bytes) {
      stack.oracles.fail("pressure-stats", fmt::format("after {}: reclaimable_bytes() {} with {} bytes cached",
                                                       action, actions.reclaimable_bytes(), cache.stats().bytes));
    }
  };
  expect("no action yet", 0, pages);
  actions.gentle_eviction();
  expect("gentle_eviction", config.gentle_pages, pages - config.gentle_pages);
  actions.aggressive_eviction();
  expect("aggressive_eviction", config.gentle_pages + config.aggressive_pages,
         pages - config.gentle_pages - config.aggressive_pages);
  actions.emergency_cleanup();
  expect("emergency_cleanup", pages - pinned, pinned);
}

// aggressive_eviction and emergency_cleanup unmap the wholly free large
// spans (pressure_actions.h); gentle_eviction leaves them mapped. On a
// private LargeObjectAllocator: one object per span, released, then each
// action in turn, the spans freed again before the next.
void check_actions_unmap_free_spans(Stack& stack, sim::Rng& rng) {
  constexpr char kDrill[] = "pressure actions' span drill";
  fault_points::ControllerScope quiet(nullptr);  // no fault point may steer what the drill predicts
  LargeObjectAllocatorConfig config;
  config.granule_bytes = 64 * KiB;
  config.span_bytes = 1 * MiB;
  config.max_object_bytes = config.span_bytes;
  config.budget_bytes = 4 * config.span_bytes;
  config.huge_pages = false;
  auto os = make_episode_os(stack, rng, 8 * MiB, kDrill);
  auto made = LargeObjectAllocator::create(*os, config);
  if (!made.ok()) stack.oracles.fail("exception", fmt::format("{}: allocator: {}", kDrill, made.error().describe()));
  LargeObjectAllocator& large = *made.value();
  StackPressureActions actions(StackPressureTargets{.large = &large, .refuse_arenas = {}});
  const std::size_t spans = 1 + rng.below(3);
  auto free_spans = [&] {
    std::vector<LargeObject> held;
    for (std::size_t i = 0; i < spans; ++i) {
      Result<LargeObject> got = large.allocate(config.span_bytes);
      if (!got.ok()) stack.oracles.fail("exception", fmt::format("{}: allocate: {}", kDrill, got.error().describe()));
      held.push_back(got.value());
    }
    for (const LargeObject& object : held) {
      if (Status released = large.release(object); !released.ok()) {
        stack.oracles.fail("large-outcome", fmt::format("{}: release: {}", kDrill, released.error().describe()));
      }
    }
  };
  auto expect = [&](const char* after, std::size_t due) {
    const LargeObjectStats stats = large.stats();
    if (stats.wholly_free_spans != due || stats.spans != due) {
      stack.oracles.fail("pressure-stats", fmt::format("{}: after {} with {} wholly free span(s): {} span(s) mapped, "
                                                       "{} wholly free; {} were due",
                                                       kDrill, after, spans, stats.spans, stats.wholly_free_spans, due));
    }
  };
  free_spans();
  expect("the releases", spans);
  actions.gentle_eviction();
  expect("gentle_eviction", spans);
  actions.aggressive_eviction();
  expect("aggressive_eviction", 0);
  free_spans();
  actions.emergency_cleanup();
  expect("emergency_cleanup", 0);
}

void prepare(Stack& stack) {
  check_actions_without_targets(stack);
  sim::Rng actions_rng = stack.simulation.stream("workload.pressure.actions");
  check_actions_on_a_cache(stack, actions_rng);
  sim::Rng spans_rng = stack.simulation.stream("workload.pressure.actions-spans");
  check_actions_unmap_free_spans(stack, spans_rng);
  sim::Rng rng = stack.simulation.stream("workload.pressure.swarm");
  auto run = std::make_shared<PressureRun>(stack.os);
  PressureRun* raw = run.get();
  SegmentAllocator* segments = &stack.allocator;
  LargeObjectAllocatorConfig config;
  config.max_object_bytes = 2 * MiB;
  config.span_bytes = 1 * MiB;
  config.budget_bytes = kLimitBytes;
  config.decommit_after_ns = 5 * kSecond;
  config.shared_used_bytes = [segments, raw] {
    const std::size_t bytes = segments->stats().virtual_bytes;
    raw->large_checks->shared_bytes_read(bytes);
    return bytes;
  };
  config.on_budget_exhausted = [raw](std::size_t needed) {
    const bool freed = raw->loop->reclaim(needed);
    ++raw->reclaims.calls;
    raw->reclaims.answered_true += freed ? 1 : 0;
    raw->large_checks->reclaim_asked(freed);
    return freed;
  };
  auto large = LargeObjectAllocator::create(run->advises, std::move(config));
  PressureForecasterConfig forecaster_config;
  forecaster_config.window_samples = 10 + rng.below(30);
  auto forecaster = PressureForecaster::create(forecaster_config);
  if (!large.ok() || !forecaster.ok()) stack.oracles.fail("exception", "pressure scenario config refused");
  run->large = std::move(large.value());
  run->forecaster = std::move(forecaster.value());
  StackPressureTargets targets{&stack.cache, segments, run->large.get(), [raw](bool refuse) {
                                 ++raw->arena_words;
                                 raw->arena_refusing = refuse;
                               }};
  run->actions = std::make_unique<StackPressureActions>(targets);
  run->ledger = std::make_unique<ActionLedger>(*run->actions);
  run->loop = std::make_unique<PressureLoop>(*run->forecaster, *run->ledger, kLimitBytes);
  if (run->loop->limit_bytes() != kLimitBytes ||
      run->forecaster->config().window_samples != forecaster_config.window_samples) {
    stack.oracles.fail("forecast", "the loop's limit or the forecaster's window is not what they were made with");
  }
  LargeObjectAllocator* lo = run->large.get();
  sim::Simulation* simulation = &stack.simulation;
  run->sources = std::make_unique<SourceLedger>(stack.oracles, [simulation] { return simulation->current_fiber(); }, 2);
  run->loop->add_source("segments", run->sources->wrap(0, [segments] { return segments->stats().virtual_bytes; }));
  run->loop->add_source("large-objects", run->sources->wrap(1, [lo] { return lo->mapped_bytes(); }));
  run->large_checks = std::make_unique<LargeObjectChecks>(stack.oracles, stack.sim_os, *run->large, run->advises);
  run->checks = std::make_unique<PressureChecks>(stack.oracles, forecaster_config, 2 * kTickNs);
  run->model = std::make_unique<ForecastModel>(forecaster_config);
  run->phases = draw_phases(rng, kRunNsPerSize * stack.size);
  run->restarts = rng.chance(0.7);
  run->bursts = rng.chance(0.7);
  stack.oracles.add_mapped_source([lo] { return lo->mapped_bytes(); });
  // After the run: stats() takes the loop's lock, which is no scheduling
  // point then. reclaimable_bytes() is "cached page bytes plus free
  // large-object bytes" (pressure_actions.h), and nothing changes either now.
  stack.oracles.at_quiescence([&stack, weak = std::weak_ptr<PressureRun>(run)] {
    auto r = weak.lock();
    if (!r) return;
    r->checks->check_loop_stats(r->loop->stats(), *r->ledger, r->reclaims);
    const std::size_t cached = stack.cache.stats().bytes, free_large = r->large->stats().free_bytes;
    if (r->actions->reclaimable_bytes() != cached + free_large) {
      stack.oracles.fail("pressure-stats", fmt::format("at quiescence reclaimable_bytes() is {}; the cache holds {} "
                                                       "bytes and the large objects {} free bytes",
                                                       r->actions->reclaimable_bytes(), cached, free_large));
    }
  });
  stack.oracles.at_quiescence([&stack] {
    forecast_drill(stack);
    loop_drill(stack);
  });
  stack.held.insert(stack.held.begin(), run);
}

void client(Stack& stack, std::uint32_t index) {
  PressureRun& run = run_of(stack);
  sim::Rng rng = stack.simulation.stream(fmt::format("workload.pressure.{}", index));
  if (index == 0) return loop_fiber(stack, run, rng);
  if (index == 1) {
    large_demand(stack, run, rng);
  } else {
    pages(stack, rng, index);
  }
  platform::LockGuard guard(run.mu);
  ++run.clients_done;
}

void finish(Stack& stack) {
  PressureRun& run = run_of(stack);
  platform::LockGuard guard(run.mu);
  while (!run.large_checks->live().empty()) {
    const auto& [key, entry] = *run.large_checks->live().begin();
    const std::uint64_t k = key;
    const LargeObject handle = entry.handle;
    run.large_checks->verify(k, "at quiescence");
    run.large_checks->released(k, run.large->release(handle));
  }
  run.large_checks->check_quiescent(0);
  // Only the loop evicts (the cache's bounds are never reached): the pages
  // the actions report evicted are every eviction the cache counted.
  const std::uint64_t cache_evictions = stack.cache.stats().evictions;
  if (run.actions->pages_evicted() != cache_evictions) {
    stack.oracles.fail("accounting", fmt::format("the actions report {} pages evicted; the cache counted {}",
                                                       run.actions->pages_evicted(), cache_evictions));
  }
  // The arena gate heard each word the loop gave the actions, the last one last.
  if (run.arena_words != run.ledger->arena_words || run.arena_refusing != run.ledger->refusing_arenas) {
    stack.oracles.fail("pressure-stats", fmt::format("the arena target heard {} word(s), the last '{}'; the loop gave "
                                                     "{}, the last '{}'",
                                                     run.arena_words, run.arena_refusing ? "refuse" : "admit",
                                                     run.ledger->arena_words,
                                                     run.ledger->refusing_arenas ? "refuse" : "admit"));
  }
  sim::Rng episode_rng = stack.simulation.stream("workload.pressure.decommit-policy");
  run_decommit_policy_episode(stack, episode_rng);
}

}  // namespace

ScenarioDef pressure_scenario() {
  ScenarioDef def;
  def.info = {"pressure",
              "seeded demand ramps, plateaus and spikes against a shared budget with the pressure loop on; pinned "
              "pages held across ticks; forecasts, refusals and actions checked",
              4, 1};
  def.configure = [](SegmentAllocatorConfig& allocator, PageCacheConfig& cache, std::uint32_t, std::uint32_t) {
    allocator.region_bytes = 256 * 1024;
    allocator.budget_bytes = kLimitBytes;  // the large objects share it (shared_used_bytes)
    cache.max_entries = 4096;  // only pressure evicts
    cache.max_bytes = std::size_t{1} << 30;
  };
  def.prepare = prepare;
  def.client = client;
  def.finish = finish;
  return def;
}

}  // namespace segsim::scenarios
