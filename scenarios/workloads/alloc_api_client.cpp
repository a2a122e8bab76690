// alloc-api's client fibers: see alloc_api_client.h.
#include "scenarios/workloads/alloc_api_client.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/size_class.h"
#include "faults/sim_os.h"
#include "scenarios/crash_report.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/oracles/zero_scan.h"
#include "scenarios/workloads/forged_handles.h"
#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios::alloc_api {

namespace {

constexpr std::uint32_t kOpsPerSize = 150;
constexpr std::size_t kMaxHeld = 24;     // live segments a client holds at most
constexpr std::size_t kMaxStale = 8;     // released handles kept for bad calls

enum Op : std::size_t {
  kAllocate, kAllocateUninitialized, kRelease, kReset, kWriteVerify, kLookupLive, kLookupInterior,
  kLookupStale, kReleaseStale, kResetStale, kReleaseForeign, kReleaseNull, kFreeUnused, kReleaseUnused,
  kStats, kPlatform, kReleaseForged, kOpCount
};

struct Held {
  Segment segment;
  std::size_t bytes = 0;  // requested
  std::uint8_t fill = 0;  // 0: zero (allocate / reset); else every requested byte
  bool known = true;      // false after allocate_uninitialized, until written
};

// A second allocator on its own SimOs: its handles are foreign to the stack's.
struct Foreign {
  std::unique_ptr<faults::SimOs> os;
  std::unique_ptr<SegmentAllocator> allocator;
  Segment segment;
};

Foreign make_foreign(Stack& stack) {
  Foreign foreign;
  faults::SimOsConfig config;
  config.reservation_bytes = std::size_t{4} << 20;
  auto os = faults::SimOs::create(config);
  if (!os.ok()) stack.oracles.fail("exception", "foreign SimOs: " + os.error().describe());
  foreign.os = std::move(os.value());
  SegmentAllocatorConfig allocator_config;
  allocator_config.region_bytes = kForeignRegionBytes;
  allocator_config.budget_bytes = kForeignBudgetBytes;
  auto allocator = SegmentAllocator::create(*foreign.os, allocator_config);
  if (!allocator.ok()) stack.oracles.fail("exception", "foreign allocator: " + allocator.error().describe());
  foreign.allocator = std::move(allocator.value());
  auto segment = foreign.allocator->allocate(4096);
  if (!segment.ok()) stack.oracles.fail("exception", "foreign allocate: " + segment.error().describe());
  foreign.segment = segment.value();
  return foreign;
}

void verify(Stack& stack, const Held& held) {
  if (!held.known) return;
  const std::byte* data = held.segment.data();
  // All bytes right is the common answer, found vectorised (zero_scan.h); the
  // byte loop, which reports each wrong byte, was a third of a seed's
  // instructions.
  if (!first_byte_other_than(data, held.bytes, std::byte{held.fill})) return;
  for (std::size_t i = 0; i < held.bytes; ++i) {
    if (data[i] != std::byte{held.fill}) {
      stack.oracles.fail("content", fmt::format("a {}-byte segment reads {:#04x} at byte {}; {:#04x} was due",
                                                held.bytes, static_cast<unsigned>(data[i]), i, held.fill),
                         data);
    }
  }
}

class Client {
 public:
  Client(Stack& stack, std::uint32_t index, const OpMix& mix)
      : stack_(stack), mix_(mix), rng_(stack.simulation.stream(fmt::format("workload.alloc-api.{}", index))) {}

  void run() {
    check_names(stack_.oracles);
    foreign_ = make_foreign(stack_);
    for (std::uint32_t n = 0; n < kOpsPerSize * stack_.size; ++n) {
      step(static_cast<Op>(mix_.pick(rng_)));
      stack_.oracles.check_cheap();
    }
    for (const Held& held : held_) {
      verify(stack_, held);
      checked_release(stack_, held.segment);
    }
    held_.clear();
    if (!foreign_.allocator->release(foreign_.segment).ok()) stack_.oracles.fail("exception", "foreign release");
  }

 private:
  void step(Op op);
  void lookup_live();
  void lookup_interior();
  void lookup_past_region();
  void release_forged();
  void allocate(bool zero);
  void lookup_stale();
  void stats();
  Held* pick_held() { return held_.empty() ? nullptr : &held_[rng_.below(held_.size())]; }
  void forget(std::size_t index) {
    stale_.push_back(Stale{held_[index].segment, stack_.sim_os.unmap_calls()});
    if (stale_.size() > kMaxStale) stale_.erase(stale_.begin());
    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(index));
  }
  // A call that must be refused with `code`: counted as deliberate first.
  // `rule`: the one rule the model says refuses it, when it knows (rule-texts).
  void refused(const char* call, Errc code, const Segment& segment, Status (SegmentAllocator::*fn)(const Segment&),
               const char* rule = nullptr) {
    RecorderCheck* recorder = state_of(stack_).recorder.get();
    if (recorder != nullptr) recorder_before_refusal(*recorder);
    stack_.oracles.expect_refusal(code);
    const std::uint64_t window = stack_.oracles.slice_events();
    const Oracles::HeardCalls heard_before = stack_.oracles.heard_by_current_fiber();
    const Status status = (stack_.allocator.*fn)(segment);
    stack_.oracles.check_heard(fn == &SegmentAllocator::release ? "release" : "reset", segment, status, heard_before);
    if (!status) {
      check_error_text(stack_.oracles, status.error());
      stack_.oracles.check_live_generation(call, segment, status.error(), window);
    }
    stack_.oracles.check_refusal(call, status, code, segment.data());
    if (recorder != nullptr) recorder_after_refusal(stack_, *recorder, segment, fn == &SegmentAllocator::release, code);
    if (rule != nullptr) state_of(stack_).rules.check(stack_.oracles, rule, status.error().detail, segment.data());
  }

  Stack& stack_;
  const OpMix& mix_;
  sim::Rng rng_;
  std::vector<Held> held_;
  // A released handle, and SimOs's unmap calls when it was released.
  struct Stale {
    Segment segment;
    std::uint64_t unmap_calls = 0;
  };
  std::vector<Stale> stale_;
  Foreign foreign_;
};

void Client::allocate(bool zero) {
  if (held_.size() >= kMaxHeld) return;
  const std::size_t bytes = draw_allocation_bytes(rng_, kLargestClassBytes);
  Result<Segment> segment = checked_allocate(stack_, bytes, zero);
  if (!segment) {
    check_error_text(stack_.oracles, segment.error());
    const Errc code = segment.error().code;
    if (code == Errc::InvalidSize || code == Errc::OutOfBudget || code == Errc::OutOfMemory) return;
    stack_.oracles.fail("exception", "allocate: " + segment.error().describe());
  }
  Held held{segment.value(), bytes, 0, zero};
  if (rng_.chance(0.7)) {  // most segments are written: a later overlap or reuse shows
    held.fill = static_cast<std::uint8_t>(1 + rng_.below(255));
    std::memset(held.segment.data(), held.fill, bytes);
    held.known = true;
  }
  held_.push_back(held);
}

void Client::lookup_stale() {
  if (stale_.empty()) return;
  const Stale& picked = stale_[rng_.below(stale_.size())];
  const Segment& stale = picked.segment;
  // Free (DoubleFree), reallocated to anyone (a live handle), or unmapped
  // (InvalidPointer): which refusal comes is not known before the call —
  // unless nothing was unmapped since the release (below).
  stack_.oracles.expect_refusal(Errc::DoubleFree);
  stack_.oracles.expect_refusal(Errc::InvalidPointer);
  const std::uint64_t events = stack_.oracles.slice_events();
  Result<Segment> found = stack_.allocator.lookup(stale.data());
  const bool alone = events == stack_.oracles.slice_events();
  // No unmap since the release, through the call: the slice's region is
  // where it was, so a refusal can only say the slice is free.
  const bool region_kept = picked.unmap_calls == stack_.sim_os.unmap_calls();
  if (!found.ok() && alone && region_kept && found.error().code != Errc::DoubleFree) {
    stack_.oracles.fail("lookup", fmt::format("lookup of a released slice's start, its region mapped since the "
                                              "release, was refused as {}; due double free (the slice is free)",
                                              found.error().describe()),
                        stale.data());
  }
  // Undo the expectation of the refusal that did not come.
  if (found.ok()) {
    stack_.oracles.unexpect_refusal(Errc::DoubleFree);
    stack_.oracles.unexpect_refusal(Errc::InvalidPointer);
    if (alone && !stack_.oracles.model_live(found.value())) {
      stack_.oracles.fail("lookup", "lookup of a released slice's start returned a handle the model holds free",
                          stale.data());
    }
  } else if (check_error_text(stack_.oracles, found.error()); found.error().code == Errc::DoubleFree) {
    stack_.oracles.unexpect_refusal(Errc::InvalidPointer);
    // Lookup's one DoubleFree: the address is a free slice's start.
    state_of(stack_).rules.check(stack_.oracles, "lookup of a free slice's start", found.error().detail, stale.data());
  } else if (found.error().code == Errc::InvalidPointer) {
    stack_.oracles.unexpect_refusal(Errc::DoubleFree);
  } else {
    stack_.oracles.fail("lookup", "lookup of a released slice: " + found.error().describe(), stale.data());
  }
}

void Client::stats() {
  const std::uint64_t events = stack_.oracles.slice_events();
  const AllocatorStats stats = stack_.allocator.stats();
  stack_.oracles.check_resident_estimate(stats);
  if (events != stack_.oracles.slice_events()) return;  // others changed it meanwhile
  if (stats.live_slices() != stack_.oracles.model_live_slices()) {
    stack_.oracles.fail("accounting", fmt::format("stats() reports {} live slices, the model holds {}",
                                                  stats.live_slices(), stack_.oracles.model_live_slices()));
  }
  if (stats.live_bytes() != stack_.oracles.model_live_bytes()) {
    stack_.oracles.fail("accounting", fmt::format("stats() reports {} live bytes, the model holds {}",
                                                  stats.live_bytes(), stack_.oracles.model_live_bytes()));
  }
  // The allocator's shape, as configured: its budget, its regions' size, each class's slice size.
  const SegmentAllocatorConfig& config = stack_.allocator.config();
  if (stats.budget_bytes != config.budget_bytes || stats.region_bytes != config.region_bytes) {
    stack_.oracles.fail("accounting", fmt::format("stats() reports a budget of {} B and regions of {} B; the config "
                                                  "says {} and {}",
                                                  stats.budget_bytes, stats.region_bytes, config.budget_bytes,
                                                  config.region_bytes));
  }
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    if (stats.classes[c].slice_bytes != class_bytes(c)) {
      stack_.oracles.fail("accounting", fmt::format("stats() reports class {}'s slices as {} B; the class is {} B", c,
                                                    stats.classes[c].slice_bytes, class_bytes(c)));
    }
  }
  // Free slices are the active regions' slices that are not live.
  std::size_t slices_in_active_regions = 0;
  for (const SizeClassStats& c : stats.classes) {
    if (c.slice_bytes != 0) slices_in_active_regions += c.active_regions * (stats.region_bytes / c.slice_bytes);
  }
  if (stats.free_slices() + stats.live_slices() > slices_in_active_regions) {
    stack_.oracles.fail("accounting", fmt::format("stats() reports {} free and {} live slices; its active regions "
                                                  "hold {}",
                                                  stats.free_slices(), stats.live_slices(), slices_in_active_regions));
  }
  if (&stack_.allocator.os() != &stack_.allocator_os) stack_.oracles.fail("accounting", "os() is not the Os it was created on");
  if (stats.virtual_bytes > stats.budget_bytes) {
    stack_.oracles.fail("accounting", fmt::format("stats() reports {} virtual bytes over the budget of {}",
                                                  stats.virtual_bytes, stats.budget_bytes));
  }
}

void Client::lookup_live() {
  Held* held = pick_held();
  if (held == nullptr) return;
  Result<Segment> found = stack_.allocator.lookup(held->segment.data());
  if (!found || !(*found == held->segment)) {
    stack_.oracles.fail("lookup", "lookup of a live segment's start did not return its handle: " +
                                      outcome_text(found, "another handle"),
                        held->segment.data());
  }
}

void Client::lookup_interior() {
  Held* held = pick_held();
  if (held == nullptr) return;
  stack_.oracles.expect_refusal(Errc::InvalidPointer);
  const std::size_t offset = 1 + rng_.below(held->segment.size() - 1);
  const std::byte* inside = held->segment.data() + offset;
  Result<Segment> found = stack_.allocator.lookup(inside);
  if (found.ok() || found.error().code != Errc::InvalidPointer) {
    stack_.oracles.fail("lookup",
                        fmt::format("lookup {} bytes inside a live segment was not refused as an invalid pointer", offset),
                        held->segment.data());
  }
  // The refusal names the address asked about and the class of the region holding it.
  const Error& error = found.error();
  if (error.address != reinterpret_cast<std::uintptr_t>(inside) || error.size_class != held->segment.size_class()) {
    stack_.oracles.fail("lookup",
                        fmt::format("lookup {} bytes inside a live class-{} segment was refused naming {} and class {}",
                                    offset, held->segment.size_class(),
                                    error.address == reinterpret_cast<std::uintptr_t>(inside) ? "that address"
                                                                                              : "another address",
                                    error.size_class),
                        held->segment.data());
  }
  state_of(stack_).rules.check(stack_.oracles, "lookup inside a live slice", error.detail, held->segment.data());
}

// The first byte past a live segment's region: when SimOs has nothing mapped
// there and no region was mapped during the call, it is in no region of the
// allocator — InvalidPointer naming no size class (the address index's
// bound, not a slice's). Otherwise another region may start there: which
// refusal comes, if any, is not known, so it is not judged.
void Client::lookup_past_region() {
  Held* held = pick_held();
  if (held == nullptr) return;
  const Segment& live = held->segment;
  const std::byte* past = live.data() - live.offset_in_region() + stack_.allocator.config().region_bytes;
  const std::uint64_t mapped_before = stack_.oracles.regions_mapped();
  const bool unmapped = !stack_.sim_os.mapped(past);
  stack_.oracles.expect_refusal(Errc::DoubleFree);
  stack_.oracles.expect_refusal(Errc::InvalidPointer);
  Result<Segment> found = stack_.allocator.lookup(past);
  const std::optional<Errc> came = recorded_error(found);
  if (came != Errc::DoubleFree) stack_.oracles.unexpect_refusal(Errc::DoubleFree);
  if (came != Errc::InvalidPointer) stack_.oracles.unexpect_refusal(Errc::InvalidPointer);
  if (!found.ok()) check_error_text(stack_.oracles, found.error());
  if (!unmapped || mapped_before != stack_.oracles.regions_mapped()) return;
  if (found.ok() || came != Errc::InvalidPointer || found.error().size_class != -1) {
    stack_.oracles.fail("lookup", fmt::format("lookup of the first byte past a live segment's region, where nothing is "
                                              "mapped, answered {}; due InvalidPointer naming no class",
                                              outcome_text(found, "a handle")),
                        live.data());
  }
  state_of(stack_).rules.check(stack_.oracles, "lookup outside every region", found.error().detail, live.data());
}

// A live handle with one field forged: refused, and the slice stays live.
void Client::release_forged() {
  Held* held = pick_held();
  if (held == nullptr) return;
  const auto forgery = static_cast<Forgery>(rng_.below(kForgeryCount));
  const std::optional<Segment> forged = forge(held->segment, forgery, stack_.allocator.config().region_bytes);
  if (!forged) return;
  const bool reset = rng_.chance(0.5);
  refused(reset ? "reset of a forged handle" : "release of a forged handle", refusal_of(forgery), *forged,
          reset ? &SegmentAllocator::reset : &SegmentAllocator::release, forgery_name(forgery));
  verify(stack_, *held);
}

void Client::step(Op op) {
  switch (op) {
    case kAllocate: return allocate(true);
    case kAllocateUninitialized: return allocate(false);
    case kRelease:
      if (!held_.empty()) {
        const std::size_t i = rng_.below(held_.size());
        verify(stack_, held_[i]);
        checked_release(stack_, held_[i].segment);
        forget(i);
      }
      return;
    case kReset:
      if (Held* held = pick_held()) {
        const std::uint64_t advises_before = stack_.oracles.allocator_dont_needs_by_current_fiber();
        const Oracles::HeardCalls heard_before = stack_.oracles.heard_by_current_fiber();
        Status reset = stack_.allocator.reset(held->segment);
        if (!reset.ok()) stack_.oracles.fail("refusal", "reset of a live segment refused: " + reset.error().describe());
        stack_.oracles.check_heard("reset", held->segment, reset, heard_before);
        stack_.oracles.check_reset_zeroing(held->segment.size(),
                                           stack_.oracles.allocator_dont_needs_by_current_fiber() - advises_before);
        *held = Held{held->segment, held->bytes, 0, true};
        verify(stack_, *held);
      }
      return;
    case kWriteVerify:
      if (Held* held = pick_held()) {
        verify(stack_, *held);
        held->fill = static_cast<std::uint8_t>(1 + rng_.below(255));
        std::memset(held->segment.data(), held->fill, held->bytes);
        held->known = true;
      }
      return;
    case kLookupLive: return lookup_live();
    case kLookupInterior: return rng_.below(4) == 0 ? lookup_past_region() : lookup_interior();
    case kLookupStale: return lookup_stale();
    case kReleaseStale:
      if (!stale_.empty()) refused("release of a stale handle", Errc::DoubleFree, stale_[rng_.below(stale_.size())].segment, &SegmentAllocator::release);
      return;
    case kResetStale:
      if (!stale_.empty()) refused("reset of a stale handle", Errc::DoubleFree, stale_[rng_.below(stale_.size())].segment, &SegmentAllocator::reset);
      return;
    case kReleaseForeign:
      return refused("release of another allocator's handle", Errc::InvalidPointer, foreign_.segment,
                     &SegmentAllocator::release, "a handle of another allocator");
    case kReleaseNull:
      return refused("release of a null handle", Errc::InvalidPointer, Segment{}, &SegmentAllocator::release,
                     "a null handle");
    case kFreeUnused: {
      const std::size_t budget = stack_.allocator.config().budget_bytes;
      const std::size_t region_bytes = stack_.allocator.config().region_bytes;
      const std::size_t virtual_bytes = stack_.allocator.stats().virtual_bytes;
      // Also one byte and one region over the target: exactly one region is
      // due, whatever else is free.
      tracked_free_unused_regions(stack_, draw_one<std::size_t>(rng_, {0, budget / 2, budget,
                                                                       virtual_bytes - std::min<std::size_t>(virtual_bytes, 1),
                                                                       virtual_bytes - std::min(virtual_bytes, region_bytes)}));
      return;
    }
    case kReleaseUnused:
      tracked_release_unused_regions(stack_, static_cast<int>(rng_.below(kSizeClassCount)));
      return;
    case kStats: return stats();
    case kReleaseForged: return release_forged();
    case kPlatform: return platform_op(stack_, *state_of(stack_).platform, rng_);
    case kOpCount: break;
  }
}

}  // namespace

void run_client(Stack& stack, std::uint32_t index) {
  sim::Rng mix_rng(sim::derive_seed(stack.seed, "workload.alloc-api.mix"));
  OpMix drawn(mix_rng, kOpCount, {kAllocate, kRelease});
  Client client(stack, index, drawn);
  client.run();
}

}  // namespace segsim::scenarios::alloc_api
