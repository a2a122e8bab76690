// The flight recorder's region table on purpose: see recorder_regions.h.
#include "scenarios/workloads/recorder_regions.h"

#include <signal.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/flight_recorder.h"
#include "core/sanitizers.h"
#include "core/segment_allocator.h"
#include "core/size_class.h"
#include "faults/sim_os.h"
#include "scenarios/crash_report.h"
#include "scenarios/oracles/recorder_addresses.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

// Holds every call of the episode (at most some 1,500).
constexpr std::size_t kEpisodeRingEvents = 4096;
constexpr const char* kReason = "regions";
// Two to eight allocators. Their keys almost never share a home entry of the
// recorder's 16,384-entry table (probe recorder.regions.displaced: 0 in 300
// seeds): the table's Fibonacci hash spreads the keys of allocators with
// close ids; region_table_drill.h makes keys collide on purpose.
constexpr std::size_t kMinAllocators = 2;
constexpr std::size_t kMaxAllocators = 8;
// Step 5 raises a fault signal; TSan defers signals, so its handler would not
// run inside the send.
#if defined(SEGSIM_HAS_TSAN)
constexpr bool kRaisesSignal = false;
#else
constexpr bool kRaisesSignal = true;
#endif
// Every allocator's budget, and room for the second mapping of the first one's regions.
constexpr std::size_t kReservationBytes = (kMaxAllocators + 1) * kRecorderRegionsBudgetBytes;

// Hears where the episode's allocators map their regions; nothing else.
class RegionsObserver final : public SegmentObserver {
 public:
  explicit RegionsObserver(RegionRecord& record) : record_(record) {}
  void handing_out(const Segment&) override {}
  void handed_out(const Segment&, bool) override {}
  void released(const Segment&) override {}
  void region_mapped(std::uint32_t allocator, std::uint32_t region, const std::byte* base, int size_class) override {
    record_.mapped(allocator, region, reinterpret_cast<std::uintptr_t>(base), size_class);
  }

 private:
  RegionRecord& record_;
};

struct Episode {
  Episode(Stack& s, const RecorderCheck& c, sim::Rng& r) : stack(s), recorder(c), rng(r) {}

  Stack& stack;
  const RecorderCheck& recorder;
  sim::Rng& rng;
  RegionRecord record;
  RegionsObserver observer{record};
  std::vector<std::unique_ptr<SegmentAllocator>> allocators;  // destroyed before the observer they name
  std::vector<std::vector<Segment>> live;  // per allocator
  std::size_t calls_ok = 0;  // successful allocator calls: each is one event of every report after it

  [[noreturn]] void setup_failed(const std::string& what) {
    stack.oracles.fail("exception", "recorder region episode: " + what);
  }

  // A quarter of the calls inside a recorder Scope: recorded nested, wide, with their own address.
  bool nested() { return rng.below(4) == 0; }

  // False once the allocator's budget refuses.
  bool allocate(std::size_t a, std::size_t bytes) {
    const bool zeroed = rng.chance(0.5);
    Result<Segment> got = [&] {
      std::optional<flight_recorder::Scope> scope;
      if (nested()) scope.emplace();
      return zeroed ? allocators[a]->allocate(bytes) : allocators[a]->allocate_uninitialized(bytes);
    }();
    if (!got.ok()) {
      if (got.error().code != Errc::OutOfBudget) {
        setup_failed(fmt::format("allocate({}): {}", bytes, got.error().describe()));
      }
      return false;
    }
    live[a].push_back(got.value());
    ++calls_ok;
    return true;
  }
  // A class edge or one past the class below (1 byte for the smallest).
  std::size_t boundary_bytes() {
    const std::size_t c = rng.below(kSizeClassCount);
    return draw_one<std::size_t>(rng, {class_bytes(c), c == 0 ? 1 : class_bytes(c - 1) + 1});
  }
  void release(std::size_t a, std::size_t i) {
    const Segment segment = live[a][i];
    Status status = [&] {
      std::optional<flight_recorder::Scope> scope;
      if (nested()) scope.emplace();
      return allocators[a]->release(segment);
    }();
    if (!status.ok()) setup_failed("release of a live segment: " + status.error().describe());
    live[a][i] = live[a].back();
    live[a].pop_back();
    ++calls_ok;
  }
  void release_all(std::size_t a) {
    while (!live[a].empty()) release(a, live[a].size() - 1);
  }
  void reset(std::size_t a, std::size_t i) {
    Status status = [&] {
      std::optional<flight_recorder::Scope> scope;
      if (nested()) scope.emplace();
      return allocators[a]->reset(live[a][i]);
    }();
    if (!status.ok()) setup_failed("reset of a live segment: " + status.error().describe());
    ++calls_ok;
  }

  // A fault at a near-null address (a field read through a null pointer),
  // the destroyed allocator's compact events in the ring with address 0 and
  // a class: no recorded slice holds the address, and the report of the
  // fault must name none. The handler turns the recorder off.
  void near_null_fault(std::uint32_t gone_id) {
    const std::size_t written = flight_recorder::reports_written();
    const int signal = rng.chance(0.5) ? SIGSEGV : SIGBUS;
    const auto address = draw_one<std::uintptr_t>(rng, {1, 64, kSmallestClassBytes - 1});
    send_fault_signal(stack, signal, reinterpret_cast<const void*>(address));
    if (flight_recorder::on()) recorder_fail(stack, "the recorder is on after the report of a near-null fault");
    if (flight_recorder::reports_written() != written + 1) {
      recorder_fail(stack, fmt::format("a fault at {:#x} made {} report(s)", address,
                                       flight_recorder::reports_written() - written));
    }
    const CrashReport report = read_recorder_report(stack, recorder_report_path(recorder, written));
    if (report.kind != "signal" || report.signal != signal) {
      recorder_fail(stack, fmt::format("the report of a fault at {:#x} says kind '{}', signal {}", address,
                                       report.kind, report.signal));
    }
    if (report.fault_slice) {
      stack.oracles.fail("recorder-addresses",
                         fmt::format("a fault at {:#x} (near null; destroyed allocator {}'s events give address 0) "
                                     "is blamed on region {} slice {} generation {} at offset {}",
                                     address, gone_id, report.fault_slice->region, report.fault_slice->slice,
                                     report.fault_slice->generation, report.fault_slice->offset));
    }
  }

  // A report now: every allocator event's address as the record says, and every successful call kept.
  void check(const char* step) {
    const std::string path = flight_recorder::write_report(kReason);
    if (path.empty()) recorder_fail(stack, fmt::format("write_report() after step '{}' wrote no report", step));
    const CrashReport report = read_recorder_report(stack, path);
    std::size_t checked = 0;
    if (auto problem = record.problem(report, &checked)) {
      stack.oracles.fail("recorder-addresses", fmt::format("after step '{}': {}", step, *problem));
    }
    if (record.unchecked_allocators() == 0 && checked != calls_ok) {
      stack.oracles.fail("recorder-addresses",
                         fmt::format("after step '{}', the report keeps {} successful call(s) of the episode's "
                                     "allocators; the episode made {}, and the ring holds {} events",
                                     step, checked, calls_ok, kEpisodeRingEvents));
    }
  }
};

void run(Episode& ep, faults::SimOs& os) {
  sim::Rng& rng = ep.rng;
  const std::size_t count = kMinAllocators + rng.below(kMaxAllocators - kMinAllocators + 1);
  for (std::size_t a = 0; a < count; ++a) {
    SegmentAllocatorConfig config;
    config.region_bytes = kRecorderRegionsRegionBytes;
    config.budget_bytes = kRecorderRegionsBudgetBytes;
    config.proactive_cleanup = false;  // no async task outlives the episode
    if (rng.chance(0.5)) config.thread_cache_bytes = 0;  // every call on the locked path
    config.observer = &ep.observer;
    auto allocator = SegmentAllocator::create(os, config);
    if (!allocator.ok()) ep.setup_failed("allocator: " + allocator.error().describe());
    ep.allocators.push_back(std::move(allocator.value()));
    ep.live.emplace_back();
  }

  // 1. Mapped: boundary sizes of every class, then regions of the largest
  // class (one slice each) — up to the budget's refusal for some.
  for (std::size_t a = 0; a < count; ++a) {
    for (std::size_t n = 4 + rng.below(16); n > 0; --n) (void)ep.allocate(a, ep.boundary_bytes());
    for (std::size_t n = draw_one<std::size_t>(rng, {2, 12, 48}); n > 0; --n) {
      if (!ep.allocate(a, kLargestClassBytes)) break;
    }
    for (std::size_t n = ep.live[a].size() / 3; n > 0; --n) ep.release(a, rng.below(ep.live[a].size()));
    for (std::size_t n = rng.below(3); n > 0 && !ep.live[a].empty(); --n) ep.reset(a, rng.below(ep.live[a].size()));
  }
  ep.check("mapped");

  // 2. The first allocator's regions unmapped; it lives on.
  ep.release_all(0);
  ep.allocators[0]->flush_thread_cache();
  if (ep.allocators[0]->free_unused_regions(0) == 0) ep.setup_failed("free_unused_regions(0) unmapped no region");
  ep.check("unmapped");

  // 3. Those ids mapped again; another allocator may take the freed room first.
  if (rng.chance(0.5)) {
    for (std::size_t n = 1 + rng.below(4); n > 0; --n) (void)ep.allocate(1, kLargestClassBytes);
  }
  for (std::size_t n = 2 + rng.below(12); n > 0; --n) {
    (void)ep.allocate(0, rng.chance(0.5) ? kLargestClassBytes : ep.boundary_bytes());
  }
  ep.check("mapped again");

  // 4. The last allocator destroyed.
  const std::size_t gone = count - 1;
  ep.release_all(gone);
  const std::uint32_t gone_id = ep.allocators[gone]->id();
  ep.allocators[gone].reset();
  ep.record.destroyed(gone_id);
  ep.check("destroyed");
  // 5. A fault near null: its report blames no slice.
  if (kRaisesSignal) ep.near_null_fault(gone_id);

  for (std::size_t a = 0; a < gone; ++a) ep.release_all(a);
  ep.allocators.clear();
}

}  // namespace

void recorder_region_ops(Stack& stack, RecorderCheck& check, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // the episode's calls must not fail but where due
  faults::SimOsConfig os_config;
  os_config.reservation_bytes = kReservationBytes;
  os_config.seed = rng.next();
  auto os = faults::SimOs::create(os_config);
  Episode ep(stack, check, rng);
  if (!os.ok()) ep.setup_failed("SimOs: " + os.error().describe());
  enable_episode_recorder(stack, check, kEpisodeRingEvents, /*catch_signals=*/kRaisesSignal);
  run(ep, *os.value());
  restore_seed_recorder(stack, check);
}

}  // namespace segsim::scenarios
