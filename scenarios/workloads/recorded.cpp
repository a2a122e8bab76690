// recorded — a flight-recorder crash report's operations as a workload
// (issue 13, PRES): client i runs recorded thread i's operations with the
// same sizes on a fresh allocator with the report's region size and budget.
// A report with page-layer events (version 2) is rebuilt at the program's
// level: the operations it called (depth 0) — pool, page, cache and
// allocator — on the stack's own pool and cache (recorded_pages.cpp), whose
// nested calls (an eviction's give-back, a page's releases) the rebuilt
// stack makes itself. A "refused" report, and one without page events, is
// rebuilt at the allocator's level: its allocator operations at any depth.
// Handles are matched by the recorded stable ids (region, slice, generation)
// of their allocation; slices released in the window but allocated before it
// are allocated up front by the conductor. With follow_recorded_order each
// operation waits for its sequence number to be the next recorded one.
//
// The recorded failure, when it recurs, is the run's failure, named in the
// report's own ids (so its signature is the same in every process):
//   refused    the same call of the same recorded handle is refused with the
//              same Errc — oracle double-free;
//   signal     the recorded slice holding the fault address is released, or
//              its memory unmapped, once the recorded operations are done —
//              oracle use-after-release;
//   assertion  the same SEGSIM_ASSERT fails in the stack — the simulator's
//              assertion oracle (scenarios/reproduce.cpp matches its text);
//   stress-check  (a real-thread stress test's own check failed: the report
//              names no operation) any oracle failure.
// Any other failure is the oracles' as usual — but a refusal the recorded
// run also got (recorded with an error, before the report's own) is
// expected. The threads knob keeps the first `threads` recorded threads
// (what shrink reduces).
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "core/platform/mutex.h"
#include "core/size_class.h"
#include "scenarios/stack.h"
#include "scenarios/workloads/recorded_layers.h"
#include "scenarios/workloads/recorded_pages.h"

namespace segsim::scenarios {

namespace {

using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>;  // recorded region, slice, generation

Key key_of(const CrashEvent& e) { return {e.region, e.slice, e.generation}; }
bool is_release(const CrashEvent& e) {
  return e.op == flight_recorder::Op::Release || e.op == flight_recorder::Op::Reset;
}

struct RecordedState {
  std::vector<std::uint64_t> order;  // the running threads' sequence numbers, ascending
  std::size_t next = 0;              // index into order: whose turn it is
  platform::Mutex gate_mu;
  platform::CondVar gate_cv;
  std::map<Key, Segment> handles;  // by the recorded ids of their allocation
  std::vector<Segment> allocated;  // every hand-out, given back at the end
  RecordedPages pages;             // the page layer's (replays_page_layer)
  std::uint32_t allocator = 0;     // rebuilt_allocator
  std::map<Key, std::uint32_t> releases;  // replayed releases / resets per recorded handle
  RecordedLayers layers;                  // the object layers' (recorded_target)
  bool page_layer = false;                // replays_page_layer
  // Each replayed event's place in the order: its sequence number, raised
  // past the allocation of the object it frees (and past its thread's
  // previous event) — a Lamport fix-up for hand-overs the recorder saw no
  // stamp of (a slab object freed remotely).
  std::map<const CrashEvent*, std::uint64_t> place;
  std::set<ObjectKey> pending;  // objects the window creates, not yet created here
};

RecordedState& state_of(Stack& stack) { return *static_cast<RecordedState*>(stack.scenario_state.get()); }

std::size_t running_threads(const Stack& stack) {
  return std::min<std::size_t>(stack.threads, stack.recording->report.threads.size());
}

// The allocator whose operations are rebuilt: a process may hold several
// (one per test of a stress binary), whose recorded ids overlap. The refused
// call's, else the one of the latest recorded allocator event; 0 (version 1
// reports) keeps them all.
std::uint32_t rebuilt_allocator(const CrashReport& report) {
  if (report.refused) return report.refused->allocator;
  if (recorded_target(report).layer != RecordedLayer::Allocator) return 0;
  std::uint64_t latest = 0;
  std::uint32_t allocator = 0;
  for (const CrashThread& thread : report.threads) {
    for (const CrashEvent& e : thread.events) {
      if (!flight_recorder::is_allocator_op(e.op) || e.allocator == 0 || e.sequence < latest) continue;
      latest = e.sequence;
      allocator = e.allocator;
    }
  }
  return allocator;
}

// Whether the rebuilt run performs `e` itself (see the top of this file).
bool replayed(const Stack& stack, const CrashEvent& e, std::uint32_t allocator) {
  const RecordedTarget& target = state_of(const_cast<Stack&>(stack)).layers.target;
  if (target.layer == RecordedLayer::Slab || target.layer == RecordedLayer::Arena ||
      target.layer == RecordedLayer::Large) {
    return replays_object_event(target, e);
  }
  if (flight_recorder::is_object_op(e.op)) return false;
  const bool page_op = flight_recorder::is_page_op(e.op);
  if (!page_op && allocator != 0 && e.allocator != 0 && e.allocator != allocator) return false;
  if (state_of(const_cast<Stack&>(stack)).page_layer) return e.depth == 0;
  return !page_op;
}

// Every replayed event of the running threads, by sequence number.
std::vector<const CrashEvent*> events_in_order(const Stack& stack, std::uint32_t allocator) {
  std::vector<const CrashEvent*> events;
  for (std::size_t t = 0; t < running_threads(stack); ++t) {
    for (const CrashEvent& e : stack.recording->report.threads[t].events) {
      if (replayed(stack, e, allocator)) events.push_back(&e);
    }
  }
  std::stable_sort(events.begin(), events.end(), [](auto* a, auto* b) { return a->sequence < b->sequence; });
  return events;
}

// Each replayed event's place (RecordedState::place): the sequence numbers
// with every free after its object's creation, each thread's places
// strictly increasing. Passes until nothing moves (bounded). A sequence
// number s starts at place s << kTiePlaceBits: a thread's events that tie on
// s (version 4: no synchronisation between them) are spread over the places
// up to the next number's, never past an event of another thread that the
// recorded clock put after them.
constexpr unsigned kTiePlaceBits = 20;  // more than a ring's events (65536)
void place_events(Stack& stack, RecordedState& state) {
  std::vector<std::vector<const CrashEvent*>> threads;
  for (std::size_t t = 0; t < running_threads(stack); ++t) {
    threads.emplace_back();
    for (const CrashEvent& e : stack.recording->report.threads[t].events) {
      if (replayed(stack, e, state.allocator)) threads.back().push_back(&e);
    }
  }
  std::map<ObjectKey, const CrashEvent*> creator;
  for (const auto& events : threads) {
    for (const CrashEvent* e : events) {
      state.place[e] = e->sequence << kTiePlaceBits;
      if (auto key = creates_object(*e)) creator[*key] = e;
    }
  }
  for (int pass = 0; pass < 64; ++pass) {
    bool moved = false;
    for (const auto& events : threads) {
      std::uint64_t previous = 0;
      for (const CrashEvent* e : events) {
        std::uint64_t place = std::max(state.place[e], previous + 1);
        if (auto key = uses_object(*e)) {
          if (auto it = creator.find(*key); it != creator.end() && it->second != e) {
            place = std::max(place, state.place[it->second] + 1);
          }
        }
        if (place != state.place[e]) {
          state.place[e] = place;
          moved = true;
        }
        previous = place;
      }
    }
    if (!moved) break;
  }
  for (const auto& [key, e] : creator) state.pending.insert(key);
}

// Slices released in the window but allocated before it: allocated up front.
void prepare(Stack& stack) {
  auto state = std::make_shared<RecordedState>();
  state->layers.target = recorded_target(stack.recording->report);
  state->page_layer = replays_page_layer(stack.recording->report);
  state->allocator = rebuilt_allocator(stack.recording->report);
  stack.scenario_state = state;
  place_events(stack, *state);
  std::vector<const CrashEvent*> in_order = events_in_order(stack, state->allocator);
  std::stable_sort(in_order.begin(), in_order.end(),
                   [&](auto* a, auto* b) { return state->place[a] < state->place[b]; });
  prepare_layers(stack, state->layers, in_order);
  std::map<Key, bool> allocated;
  for (const CrashEvent* e : in_order) {
    state->order.push_back(state->place[e]);
    if (!flight_recorder::is_allocator_op(e->op)) continue;
    if (is_release(*e)) ++state->releases[key_of(*e)];
    if (!is_release(*e)) {
      if (!e->error) allocated[key_of(*e)] = true;
      continue;
    }
    if (allocated.count(key_of(*e)) > 0 || e->size_class < 0) continue;
    allocated[key_of(*e)] = true;
    auto segment = stack.allocator.allocate(class_bytes(static_cast<std::size_t>(e->size_class)));
    if (!segment.ok()) continue;
    state->handles[key_of(*e)] = segment.value();
    state->allocated.push_back(segment.value());
  }
}

// The message of the report's refusal recurring (what recurs_in compares).
std::string refused_again(const CrashEvent& e, std::uint32_t thread, Errc code) {
  return fmt::format("{} of recorded region #{} slice {} (generation {}) by recorded thread {} refused again: {}",
                     flight_recorder::op_name(e.op), e.region, e.slice, e.generation, thread, errc_name(code));
}

std::string fault_slice_hit(const CrashReport& report) {
  const CrashFaultSlice& f = *report.fault_slice;
  return fmt::format("the recorded {} at offset {} of recorded region #{} slice {} (generation {}) hit a slice that "
                     "is ",
                     report.signal_name, f.offset, f.region, f.slice, f.generation);
}

// Whether `e` of recorded `thread` is the report's refused call.
bool is_target(const CrashReport& report, std::uint32_t thread, const CrashEvent& e) {
  const std::optional<CrashEvent>& target = report.refused;
  return target && thread == report.refused_thread && target->sequence == e.sequence && target->op == e.op &&
         key_of(*target) == key_of(e);
}

void check_refusal(Stack& stack, std::uint32_t thread, const CrashEvent& e, const Status& status,
                   const Segment& segment) {
  const CrashReport& report = stack.recording->report;
  if (status.ok() || !is_target(report, thread, e) || report.refused->error != status.error().code) return;
  stack.oracles.fail("double-free", refused_again(e, thread, status.error().code), segment.data());
}

void perform(Stack& stack, std::uint32_t thread, const CrashEvent& e) {
  RecordedState& state = state_of(stack);
  if (flight_recorder::is_object_op(e.op)) return perform_layer_operation(stack, state.layers, e);
  if (flight_recorder::is_page_op(e.op)) return perform_page_operation(stack, state.pages, thread, e);
  if (!is_release(e)) {
    auto got = e.op == flight_recorder::Op::Allocate ? stack.allocator.allocate(e.bytes)
                                                     : stack.allocator.allocate_uninitialized(e.bytes);
    if (!got.ok()) return;
    state.allocated.push_back(got.value());
    if (!e.error) state.handles[key_of(e)] = got.value();
    return;
  }
  auto it = state.handles.find(key_of(e));
  if (it == state.handles.end()) return;  // its allocation failed here: nothing to release
  const Segment segment = it->second;
  // A call the recorded run made successfully, of a handle this run already
  // gave back (the schedule ran the window's operations in another order, or
  // ids recur across the allocators of one process): replaying it would be
  // the rebuilt workload's own double free, not the stack's. Skipped.
  if (!e.error && !stack.oracles.model_live(segment)) return;
  // A refusal the recorded run also got before the report's own (a report
  // numbered n > 0 holds those of reports 0..n-1) is not the failure sought.
  const bool earlier_refusal = e.error && !is_target(stack.recording->report, thread, e) &&
                               (*e.error == Errc::DoubleFree || *e.error == Errc::InvalidPointer);
  // A handle the recorded run released more than once (a double free it
  // made, or its effect): another schedule may refuse another of the calls
  // than the recorded run did — as many are refused either way.
  const bool contested = !earlier_refusal && !is_target(stack.recording->report, thread, e) &&
                         state.releases[key_of(e)] > 1;
  const std::optional<Errc> expected = earlier_refusal ? e.error : contested ? std::optional(Errc::DoubleFree)
                                                                              : std::nullopt;
  if (expected) stack.oracles.expect_refusal(*expected);
  const Status status =
      e.op == flight_recorder::Op::Release ? stack.allocator.release(segment) : stack.allocator.reset(segment);
  if (expected && status.ok()) stack.oracles.unexpect_refusal(*expected);
  check_refusal(stack, thread, e, status, segment);
  stack.oracles.check_cheap();
}

void client(Stack& stack, std::uint32_t index) {
  if (index >= running_threads(stack)) return;
  RecordedState& state = state_of(stack);
  const bool follow = stack.recording->follow_recorded_order;
  const CrashThread& thread = stack.recording->report.threads[index];
  for (const CrashEvent& e : thread.events) {
    if (!replayed(stack, e, state.allocator)) continue;
    const std::uint64_t place = state.place[&e];
    if (follow) {
      platform::UniqueLock lock(state.gate_mu);
      state.gate_cv.wait(lock, [&] { return state.order[state.next] == place; });
    } else if (auto key = uses_object(e); key && state.pending.count(*key) > 0) {
      // Its object is created in the window by another thread: not before.
      platform::UniqueLock lock(state.gate_mu);
      state.gate_cv.wait(lock, [&] { return state.pending.count(*key) == 0; });
    }
    perform(stack, thread.thread, e);
    const std::optional<ObjectKey> created = creates_object(e);
    if (follow || created) {
      platform::LockGuard guard(state.gate_mu);
      if (follow) ++state.next;
      if (created) state.pending.erase(*created);
      state.gate_cv.notify_all();
    }
  }
  finish_layer_client(state.layers);
}

// A fatal signal inside a recorded slice: after the recorded operations,
// that slice must be live and mapped, or the real run's access was to
// memory the stack no longer owned.
void check_fault_slice(Stack& stack) {
  const std::optional<CrashFaultSlice>& fault = stack.recording->report.fault_slice;
  if (!fault) return;
  RecordedState& state = state_of(stack);
  auto it = state.handles.find({fault->region, fault->slice, fault->generation});
  if (it == state.handles.end()) return;  // never handed out here: nothing to judge
  const Segment& segment = it->second;
  const bool live = stack.oracles.model_live(segment);
  // The faulting byte itself (an offset past the slice: its first byte).
  const std::size_t offset = fault->offset < class_bytes(segment.size_class()) ? fault->offset : 0;
  const bool mapped = stack.sim_os.page_state(segment.data() + offset) != faults::PageState::Unmapped;
  if (live && mapped) return;
  stack.oracles.fail("use-after-release",
                     fault_slice_hit(stack.recording->report) +
                         (live ? "live but unmapped" : "released") + " after the recorded operations",
                     segment.data());
}

void finish(Stack& stack) {
  finish_layers(stack, state_of(stack).layers);
  finish_page_operations(stack, state_of(stack).pages);
  check_fault_slice(stack);
  // Give back what the window left live (the leaks oracle runs next).
  for (const Segment& segment : state_of(stack).allocated) {
    if (stack.oracles.model_live(segment)) (void)stack.allocator.release(segment);
  }
}

}  // namespace

// A refused release the page layer made (a nested call: a give-back's, an
// eviction's): rebuilt at the program's level, where the stack makes the
// release itself — replaying the recorded releases would be the rebuild's
// own double free, bug or not.
bool refused_inside_page_layer(const CrashReport& report) {
  return report.kind == "refused" && report.refused && report.refused->depth > 0;
}

bool replays_page_layer(const CrashReport& report) {
  if (report.kind == "refused" && !refused_inside_page_layer(report)) return false;
  if (recorded_target(report).layer != RecordedLayer::Allocator) return false;
  for (const CrashThread& thread : report.threads) {
    for (const CrashEvent& e : thread.events) {
      if (flight_recorder::is_page_op(e.op)) return true;
    }
  }
  return false;
}

std::string unmatchable_because(const CrashReport& report) {
  if (report.kind == "refused" && report.refused) return "";
  if (report.assertion) return "";
  if (report.kind == "signal" && report.fault_slice) return "";
  if (report.kind == flight_recorder::kStressCheckReport) return "";
  if (report.kind == "signal") {
    return fmt::format("a {} outside every recorded slice: no recorded operation names its memory",
                       report.signal_name);
  }
  return fmt::format("a failure of kind '{}' ({}): only refusals, assertions, signals inside a recorded slice and "
                     "stress checks are matched",
                     report.kind, report.text);
}

bool recurs_in(const CrashReport& report, const Failure& failure) {
  if (report.kind == "refused" && report.refused && replays_page_layer(report)) {
    // The stack's own nested release was refused again (its ids are the
    // rebuilt run's, not the report's: the oracle is what is compared) — or
    // the stale reference that makes the second release was caught earlier,
    // at its first use of the released slice (canary / poisoning).
    return failure.oracle == "double-free" || failure.oracle == "use-after-release";
  }
  if (report.kind == "refused" && report.refused) {
    return failure.oracle == "double-free" &&
           failure.message == refused_again(*report.refused, report.refused_thread, *report.refused->error);
  }
  if (report.assertion) {
    const std::string text = fmt::format("assertion failed: {} ({})", report.assertion->condition,
                                         report.assertion->message);
    return failure.oracle == "assertion" && failure.message.find(text) != std::string::npos;
  }
  if (report.kind == "signal" && report.fault_slice) {
    return failure.oracle == "use-after-release" && failure.message.rfind(fault_slice_hit(report), 0) == 0;
  }
  // A stress test's own check names no operation: any oracle failure of the
  // recorded operations is the match (the weakest one).
  return report.kind == flight_recorder::kStressCheckReport;
}

ScenarioDef recorded_scenario() {
  ScenarioDef def;
  def.info = {"recorded",
              "a flight-recorder crash report's operations, one fiber per recorded thread (made by segsim "
              "reproduce; not run by name)",
              1, 1};
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig&, std::uint32_t, std::uint32_t) {};
  def.configure_from_spec = [](SegmentAllocatorConfig& config, PageCacheConfig& cache, const RunSpec& spec) {
    const CrashReport& report = spec.recording->report;
    // A process without a SegmentAllocator (only large objects) recorded none.
    if (report.region_bytes != 0) config.region_bytes = report.region_bytes;
    if (report.budget_bytes != 0) config.budget_bytes = report.budget_bytes;
    if (report.cache_max_entries != 0) cache = {report.cache_max_entries, report.cache_max_bytes};
  };
  def.prepare = prepare;
  def.client = client;
  def.finish = finish;
  def.needs = ScenarioDef::Needs::Recording;
  return def;
}

}  // namespace segsim::scenarios
