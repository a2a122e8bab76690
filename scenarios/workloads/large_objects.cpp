// large-objects — mixed large allocations and releases through the whole
// LargeObjectAllocator API (issue 15): sizes biased to the boundaries
// (256 KiB ± 1, granule and span edges, the maximum, 0), rewrites and reads
// checked against a pattern model, double / stale / foreign / null releases
// and releases of forged handles (forged_large_handles.h),
// idle time for the lazy decommit, explicit decommits and span unmapping, and
// (per seed) a maintenance fiber decommitting concurrently and an
// on_budget_exhausted hook that releases live objects (or answers wrongly, or
// calls back into the allocator) while the allocation waits. Which operations
// are on and their weights are drawn per seed (swarm over operations); every
// completed call is checked by the oracles in oracles/large_objects.h. At
// quiescence the decommit-policy episode (workloads/decommit_policy_episode.h)
// checks when and what a private allocator decommits.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point_controllers.h"
#include "core/platform/clock.h"
#include "core/platform/mutex.h"
#include "core/units.h"
#include "scenarios/oracles/large_objects.h"
#include "scenarios/stack.h"
#include "scenarios/workloads/decommit_policy_episode.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/forged_large_handles.h"
#include "scenarios/workloads/invalid_configs.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

constexpr std::uint32_t kOpsPerSize = 250;
constexpr std::size_t kMaxLive = 20;
constexpr std::size_t kMaxStale = 8;

enum Op : std::size_t { Alloc, AllocUninit, Release, Rewrite, Verify, DoubleFree, Foreign, NullRelease, Sleep,
                        Decommit, UnmapSpans, Audit, Forged, kOpCount };

struct LargeRun {
  explicit LargeRun(Os& os) : advises(os) {}
  OsLedgerOs advises;  // what `large` asked of the Os (declared first: outlives it)
  std::unique_ptr<LargeObjectAllocator> large;
  std::unique_ptr<LargeObjectAllocator> foreign;
  std::unique_ptr<LargeObjectChecks> checks;
  platform::Mutex mu;  // the model lock: a call and its checks are one step of the model
  std::vector<LargeObject> stale;
  LargeObject foreign_object;
  std::array<std::uint64_t, kOpCount> weights{};
  bool maintenance = false;  // client 0 decommits / unmaps concurrently
  sim::Rng reclaim_rng{0};   // the on_budget_exhausted hook's draws (when the seed sets one)
  std::size_t reclaimed_in_call = 0;  // live objects the hook released during the allocate in flight
  bool hook_unmapped_in_call = false;  // the hook called unmap_free_spans during the allocate in flight
  std::uint32_t clients_done = 0;
};

LargeRun& run_of(Stack& stack) { return *std::static_pointer_cast<LargeRun>(stack.held.front()); }

LargeObjectAllocatorConfig draw_config(sim::Rng& rng) {
  LargeObjectAllocatorConfig config;
  config.max_object_bytes = 4 * MiB;
  config.granule_bytes = 64 * KiB;
  config.span_bytes = 2 * MiB;
  config.budget_bytes = 24 * MiB;
  config.fit = static_cast<FitPolicy>(rng.below(3));
  const std::int64_t idle[] = {0, 20'000, 200'000};
  config.decommit_after_ns = idle[rng.below(3)];
  config.decommit_check_interval_ns = rng.chance(0.5) ? 0 : 10'000;
  config.huge_pages = rng.chance(0.8);
  // The hint's threshold at a span's size (spans of 2 MiB hinted), between
  // (only objects' own larger spans), and at the largest object's span.
  config.huge_page_min_span_bytes = draw_one<std::size_t>(rng, {2 * MiB, 3 * MiB, 4 * MiB});
  return config;
}

// Sizes biased to every boundary the allocator has.
std::size_t draw_size(sim::Rng& rng, const LargeObjectAllocatorConfig& c) {
  const std::size_t min = LargeObjectAllocator::kMinObjectBytes;
  switch (rng.below(12)) {
    case 0: return min - 2 + rng.below(4);                               // 256 KiB - 1 ... 256 KiB + 2
    case 1: return rng.chance(0.5) ? 0 : 1 + rng.below(min - 1);         // far too small
    case 2: return c.max_object_bytes - 1 + rng.below(3);                // the maximum ± 1
    case 3: return c.span_bytes - 1 + rng.below(3);                      // a span's edge ± 1
    case 4: {                                                            // a granule edge ± 1
      const std::size_t k = 5 + rng.below(c.max_object_bytes / c.granule_bytes - 5);
      return k * c.granule_bytes - 1 + rng.below(3);
    }
    default:
      return min + rng.below(rng.chance(0.7) ? 1 * MiB : c.max_object_bytes - min + 1);
  }
}

std::size_t pick(sim::Rng& rng, std::size_t count) { return static_cast<std::size_t>(rng.below(count)); }

void do_alloc(Stack& stack, LargeRun& run, sim::Rng& rng, bool zeroed) {
  const std::size_t requested = draw_size(rng, run.large->config());
  const std::size_t live_before = run.large->stats().live_objects;
  run.reclaimed_in_call = 0;
  run.hook_unmapped_in_call = false;
  // Only when nothing else maps or unmaps spans during the call (the model
  // lock keeps other clients out): the spans before it, for large-unmap and
  // large-grow.
  std::optional<std::map<const std::byte*, std::size_t>> mapped_before;
  if (!run.maintenance) mapped_before = run.advises.ledger().live_mappings;
  const OsLedger::FiberMaps maps_before = run.advises.ledger().maps_of_current_fiber();
  auto result = zeroed ? run.large->allocate(requested) : run.large->allocate_uninitialized(requested);
  if (std::string problem = map_retry_problem(fmt::format("large allocate({})", requested), maps_before,
                                              run.advises.ledger().maps_of_current_fiber());
      !problem.empty()) {
    stack.oracles.fail("map-retry", problem);
  }
  if (mapped_before && !run.hook_unmapped_in_call) {
    run.checks->check_growth(requested, result, *mapped_before);
  }
  const bool strict = !stack.faults_active && !run.maintenance;
  const std::uint64_t key = run.checks->allocated(result, requested, zeroed, live_before - run.reclaimed_in_call,
                                                  stack.faults_active, strict);
  if (result.ok()) run.checks->write(key, static_cast<std::uint8_t>(1 + rng.below(255)));
}

// Releases a live object the model picks; returns its bytes.
std::size_t do_release(LargeRun& run, sim::Rng& rng) {
  const auto& live = run.checks->live();
  auto it = std::next(live.begin(), static_cast<long>(pick(rng, live.size())));
  const std::uint64_t key = it->first;
  const LargeObject handle = it->second.handle;
  run.checks->verify(key, "before release");
  run.checks->released(key, run.large->release(handle));
  run.stale.push_back(handle);
  if (run.stale.size() > kMaxStale) run.stale.erase(run.stale.begin());
  return handle.size();
}

// on_budget_exhausted: the allocator calls it without its lock, from the
// allocating client, which holds the model lock — so the hook's releases are
// steps of the model inside the allocate call. It frees up to three live
// objects (until `needed_bytes` are free), sometimes calls back into the
// allocator, and sometimes answers wrongly: the allocator must keep its
// promises whatever a hook says.
bool reclaim_hook(LargeRun& run, std::size_t needed_bytes) {
  const std::uint64_t most = run.reclaim_rng.below(4);
  std::size_t freed_bytes = 0;
  std::size_t released = 0;
  while (released < most && freed_bytes < needed_bytes && !run.checks->live().empty()) {
    freed_bytes += do_release(run, run.reclaim_rng);
    ++released;
  }
  if (run.reclaim_rng.chance(0.3)) {
    (void)run.large->unmap_free_spans(0);
    run.hook_unmapped_in_call = true;
  }
  bool answer = released > 0;
  if (run.reclaim_rng.chance(0.15)) answer = !answer;
  run.reclaimed_in_call += released;
  run.checks->reclaim_asked(answer);
  return answer;
}

void refused(LargeRun& run, const LargeObject& handle, Errc expected) {
  const std::size_t live_before = run.large->stats().live_objects;
  run.checks->refused_release(handle, run.large->release(handle), expected, live_before);
}

// A live object's handle with one field forged: refused by its own rule,
// the object still live. A DoubleFree names the forged generation (checked by
// refused_release) and the one live at that place.
void forged_release(Stack& stack, LargeRun& run, sim::Rng& rng) {
  const auto& live = run.checks->live();
  const LargeObject handle = std::next(live.begin(), static_cast<long>(pick(rng, live.size())))->second.handle;
  const auto forgery = static_cast<LargeForgery>(rng.below(kLargeForgeryCount));
  // Past the last span: the first id never given (spans are numbered 1, 2, …
  // as mapped, so it is one past spans_mapped), or the largest id there is.
  const std::uint64_t first_unissued = run.large->stats().spans_mapped + 1;
  const auto past_last_span = rng.chance(0.5) ? static_cast<std::uint32_t>(first_unissued) : UINT32_MAX;
  const std::optional<LargeObject> forged = forge(handle, forgery, run.large->config().granule_bytes, past_last_span);
  if (!forged) stack.oracles.fail("exception", "this build's LargeObject layout is not the one the forger knows");
  const std::size_t live_before = run.large->stats().live_objects;
  const Status status = run.large->release(*forged);
  run.checks->refused_release(*forged, status, refusal_of(forgery), live_before);
  if (refusal_of(forgery) == Errc::DoubleFree && status.error().live_generation != handle.generation()) {
    stack.oracles.fail("refusal-fields", fmt::format("the refused release of a large handle forged with {} names live "
                                                     "generation {}; generation {} is live at its place",
                                                     forgery_name(forgery), status.error().live_generation,
                                                     handle.generation()),
                       handle.data());
  }
}

void one_op(Stack& stack, LargeRun& run, sim::Rng& rng, Op op) {
  const auto& live = run.checks->live();
  if ((op == Release || op == Rewrite || op == Verify) && live.empty()) op = Alloc;
  if ((op == Alloc || op == AllocUninit) && live.size() >= kMaxLive) op = Release;
  switch (op) {
    case Alloc: return do_alloc(stack, run, rng, true);
    case AllocUninit: return do_alloc(stack, run, rng, false);
    case Release: (void)do_release(run, rng); return;
    case Rewrite: {
      const std::uint64_t key = std::next(live.begin(), static_cast<long>(pick(rng, live.size())))->first;
      run.checks->verify(key, "before a rewrite");
      return run.checks->write(key, static_cast<std::uint8_t>(1 + rng.below(255)));
    }
    case Verify:
      return run.checks->verify(std::next(live.begin(), static_cast<long>(pick(rng, live.size())))->first, "on a read");
    case DoubleFree:
      if (!run.stale.empty()) refused(run, run.stale[pick(rng, run.stale.size())], Errc::DoubleFree);
      return;
    case Foreign:
      if (!run.foreign_object.is_null()) refused(run, run.foreign_object, Errc::InvalidPointer);
      return;
    case NullRelease: return refused(run, LargeObject{}, Errc::InvalidPointer);
    case Forged:
      if (!live.empty()) forged_release(stack, run, rng);
      return;
    case Decommit: (void)run.large->decommit_idle(rng.chance(0.5) ? 0 : run.large->config().decommit_after_ns); return;
    case UnmapSpans: {
      const LargeObjectStats before = run.large->stats();
      const std::size_t target = rng.chance(0.5) ? 0 : before.mapped_bytes / 2;
      const std::size_t unmapped = run.large->unmap_free_spans(target);
      run.checks->check_unmap_free_spans(target, before, unmapped, run.large->stats(), !run.maintenance);
      return;
    }
    case Audit: {
      const LargeObjectStats s = run.large->stats();
      run.checks->check_counters(s, false);  // under the model lock: no call of the model in flight
      if (!run.maintenance) run.checks->check_free_ranges(s);  // nor a decommit
      if (!(s.fragmentation_ratio >= 0 && s.fragmentation_ratio <= 1) || s.free_list_hit_rate() > 1) {
        stack.oracles.fail("accounting", fmt::format("large-object ratios out of range: fragmentation {}, hit rate {}",
                                                     s.fragmentation_ratio, s.free_list_hit_rate()));
      }
      return;
    }
    case Sleep:
    case kOpCount: return;
  }
}

void maintenance_loop(Stack& stack, LargeRun& run, sim::Rng& rng) {
  for (;;) {
    {
      platform::LockGuard guard(run.mu);
      if (run.clients_done + 1 >= stack.threads) return;
    }
    platform::sleep_for_ns(static_cast<std::int64_t>(2'000 + rng.below(30'000)));
    (void)run.large->decommit_idle();
    if (rng.chance(0.2)) (void)run.large->unmap_free_spans(run.large->mapped_bytes() / 2);
    run.checks->check_audit();
    stack.oracles.check_cheap();
  }
}

void prepare(Stack& stack) {
  check_large_ids_exhausted(stack);
  sim::Rng rng = stack.simulation.stream("workload.large-objects.swarm");
  auto run = std::make_shared<LargeRun>(stack.os);
  LargeObjectAllocatorConfig config = draw_config(rng);
  // Its own stream: seeds without a hook run as before it existed.
  run->reclaim_rng = stack.simulation.stream("workload.large-objects.reclaim");
  if (run->reclaim_rng.chance(0.5)) {
    LargeRun* raw = run.get();  // owns the allocator, so outlives the hook
    config.on_budget_exhausted = [raw](std::size_t needed_bytes) { return reclaim_hook(*raw, needed_bytes); };
  }
  auto large = LargeObjectAllocator::create(run->advises, std::move(config));
  auto foreign = LargeObjectAllocator::create(stack.os, LargeObjectAllocatorConfig{});
  if (!large.ok() || !foreign.ok()) stack.oracles.fail("exception", "large-object allocator config refused");
  run->large = std::move(large.value());
  run->foreign = std::move(foreign.value());
  run->checks = std::make_unique<LargeObjectChecks>(stack.oracles, stack.sim_os, *run->large, run->advises);
  for (std::size_t op = 0; op < kOpCount; ++op) {
    const bool on = op == Alloc || op == Release || rng.chance(0.7);
    run->weights[op] = on ? 1 + rng.below(10) : 0;
  }
  run->maintenance = stack.threads > 1 && rng.chance(0.5);
  if (auto object = run->foreign->allocate(512 * KiB); object.ok()) run->foreign_object = object.value();
  LargeObjectAllocator* mine = run->large.get();
  LargeObjectAllocator* theirs = run->foreign.get();
  stack.oracles.add_mapped_source([mine] { return mine->mapped_bytes(); });
  stack.oracles.add_mapped_source([theirs] { return theirs->mapped_bytes(); });
  stack.held.insert(stack.held.begin(), run);
}

void client(Stack& stack, std::uint32_t index) {
  LargeRun& run = run_of(stack);
  sim::Rng rng = stack.simulation.stream(fmt::format("workload.large-objects.{}", index));
  if (index == 0 && run.maintenance) return maintenance_loop(stack, run, rng);
  std::uint64_t total = 0;
  for (std::uint64_t w : run.weights) total += w;
  for (std::uint32_t i = 0; i < kOpsPerSize * stack.size; ++i) {
    std::uint64_t draw = rng.below(total);
    std::size_t op = 0;
    while (draw >= run.weights[op]) draw -= run.weights[op++];
    if (op == Sleep) {
      platform::sleep_for_ns(static_cast<std::int64_t>(1'000 + rng.below(50'000)));
      continue;
    }
    platform::LockGuard guard(run.mu);
    one_op(stack, run, rng, static_cast<Op>(op));
    run.checks->check_audit();
    stack.oracles.check_cheap();
  }
  platform::LockGuard guard(run.mu);
  ++run.clients_done;
}

// A growth that fills the budget exactly is granted, maps a whole span (one of
// just the object's size only when the whole one would pass the budget), and
// one more object that no free range holds is then refused as OutOfBudget
// (large_object_allocator.h). On a private allocator whose budget is 1 to 3
// spans: each object a whole span but the last, drawn from the smallest large
// size to a whole span.
void check_budget_filled_exactly(Stack& stack, sim::Rng& rng) {
  constexpr char kDrill[] = "large budget-edge drill";
  fault_points::ControllerScope quiet(nullptr);  // no fault point may steer what the drill predicts
  const std::size_t spans = 1 + rng.below(3);
  LargeObjectAllocatorConfig config;
  config.granule_bytes = 64 * KiB;
  config.span_bytes = 1 * MiB;
  config.max_object_bytes = config.span_bytes;
  config.budget_bytes = spans * config.span_bytes;
  config.huge_pages = false;
  auto os = make_episode_os(stack, rng, 8 * MiB, kDrill);
  auto made = LargeObjectAllocator::create(*os, config);
  if (!made.ok()) stack.oracles.fail("exception", fmt::format("{}: allocator: {}", kDrill, made.error().describe()));
  LargeObjectAllocator& large = *made.value();
  const std::size_t smallest = 256 * KiB + 1;  // large objects are above 256 KiB
  const std::size_t last_bytes = rng.chance(0.5) ? config.span_bytes : smallest + rng.below(config.span_bytes - smallest);
  std::vector<LargeObject> held;
  for (std::size_t i = 0; i < spans; ++i) {
    const std::size_t bytes = i + 1 < spans ? config.span_bytes : last_bytes;
    Result<LargeObject> got = large.allocate(bytes);
    if (!got.ok()) {
      stack.oracles.fail("large-outcome", fmt::format("{}: allocate({}) number {} of {}, whose span fills the {} B "
                                                      "budget exactly, refused: {}",
                                                      kDrill, bytes, i + 1, spans, config.budget_bytes,
                                                      got.error().describe()));
    }
    held.push_back(got.value());
    const LargeObjectStats stats = large.stats();
    if (stats.spans != i + 1 || stats.mapped_bytes != (i + 1) * config.span_bytes) {
      stack.oracles.fail("large-outcome", fmt::format("{}: after allocate({}) number {} of {}, {} span(s) of {} B in "
                                                      "all are mapped; {} whole span(s) were due, the last filling the "
                                                      "{} B budget exactly",
                                                      kDrill, bytes, i + 1, spans, stats.spans, stats.mapped_bytes,
                                                      i + 1, config.budget_bytes));
    }
  }
  // No free range holds it: the last object's span keeps less than a span free,
  // less than the smallest object when the object is a whole span.
  const std::size_t more = last_bytes == config.span_bytes ? smallest : config.span_bytes;
  Result<LargeObject> over = large.allocate(more);
  if (over.ok() || over.error().code != Errc::OutOfBudget) {
    stack.oracles.fail("large-outcome", fmt::format("{}: with the {} B budget filled, allocate({}) answered {}; "
                                                    "OutOfBudget was due",
                                                    kDrill, config.budget_bytes, more,
                                                    over.ok() ? std::string("success") : over.error().describe()));
  }
  for (const LargeObject& object : held) {
    if (Status released = large.release(object); !released.ok()) {
      stack.oracles.fail("large-outcome", fmt::format("{}: release: {}", kDrill, released.error().describe()));
    }
  }
}

void finish(Stack& stack) {
  LargeRun& run = run_of(stack);
  platform::LockGuard guard(run.mu);
  while (!run.checks->live().empty()) {
    const auto& [key, entry] = *run.checks->live().begin();
    const std::uint64_t k = key;
    const LargeObject handle = entry.handle;
    run.checks->verify(k, "at quiescence");
    run.checks->released(k, run.large->release(handle));
  }
  if (!run.foreign_object.is_null()) {
    Status back = run.foreign->release(run.foreign_object);
    if (!back.ok()) stack.oracles.fail("large-outcome", "the foreign allocator refused its own object: " + back.error().describe());
  }
  run.checks->check_quiescent(run.foreign->stats().live_objects);
  sim::Rng episode_rng = stack.simulation.stream("workload.large-objects.decommit-policy");
  run_decommit_policy_episode(stack, episode_rng);
  sim::Rng edge_rng = stack.simulation.stream("workload.large-objects.budget-edge");
  check_budget_filled_exactly(stack, edge_rng);
}

}  // namespace

ScenarioDef large_objects_scenario() {
  ScenarioDef def;
  def.info = {"large-objects",
              "mixed large allocations and releases (boundary sizes, coalescing, lazy decommit, span unmapping, "
              "double/stale/foreign releases) checked against a pattern model; swarm over operations",
              3, 1};
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig&, std::uint32_t, std::uint32_t) {};
  def.prepare = prepare;
  def.client = client;
  def.finish = finish;
  return def;
}

}  // namespace segsim::scenarios
