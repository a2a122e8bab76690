// double free: the allocator refused no release, reset or lookup but those a
// workload made on purpose (stale, foreign and null handles, free slices).
// Any other refusal means the stack above the allocator (pages, pool, caches)
// released something twice. A release the allocator wrongly *accepts* is the
// ownership oracle's (ownership.cpp).
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"
#include "sim/simulation.h"

namespace segsim::scenarios {

void Oracles::expect_refusal(Errc code) {
  if (code == Errc::DoubleFree) {
    ++expected_double_frees_;
  } else {
    ++expected_invalid_pointers_;
  }
}

void Oracles::unexpect_refusal(Errc code) {
  std::uint64_t& expected = code == Errc::DoubleFree ? expected_double_frees_ : expected_invalid_pointers_;
  if (expected > 0) --expected;
}

void Oracles::check_refusal(const char* call, const Status& status, Errc expected, const std::byte* segment) {
  if (status.ok()) {
    fail("refusal", fmt::format("{} was accepted; the model says it must be refused with '{}'", call,
                                errc_name(expected)),
         segment);
  }
  if (status.error().code != expected) {
    fail("refusal", fmt::format("{} was refused with '{}'; the model says '{}' ({})", call,
                                errc_name(status.error().code), errc_name(expected), status.error().describe()),
         segment);
  }
}

// A refusal beyond the deliberate bad calls counted so far is the first
// offending one: it is kept with the slice's history and marks the trace,
// so the failure (reported at the next check) names it.
void Oracles::refused(const char* call, const Segment& segment, const Error& error) {
  const bool release = std::string_view(call) == "release";
  note(segment, release ? "release refused" : "reset refused");
  const bool double_free = error.code == Errc::DoubleFree;
  std::uint64_t& seen = double_free ? refused_double_frees_ : refused_invalid_pointers_;
  ++seen;
  if (seen <= (double_free ? expected_double_frees_ : expected_invalid_pointers_) || first_refusal_) return;
  sim::Simulation* simulation = sim::Simulation::current();
  Offence offence;
  offence.event = SegmentEvent{release ? "release refused" : "reset refused",
                               simulation == nullptr ? sim::kNoFiber : simulation->current_fiber(),
                               simulation == nullptr ? 0 : simulation->step(), segment.generation()};
  offence.data = segment.data();
  offence.text = fmt::format("{} of region #{} slice {} (generation {}) by fiber #{} at step {}: {}", call,
                             segment.region_id(), segment.slice_index(), segment.generation(), offence.event.fiber,
                             offence.event.step, error.describe());
  if (auto offset = os_.offset_of(segment.data()); offset && history_.count(*offset) > 0) {
    offence.history.assign(history_.at(*offset).begin(), history_.at(*offset).end());
  }
  first_refusal_ = std::move(offence);
  if (!failure_) mark_failure_window();
}

void Oracles::check_double_free() {
  if (allocator_ == nullptr) return;
  const AllocatorStats stats = allocator_->stats();
  // Deliberate bad calls are counted before they are made: more refusals than
  // that is a double free somewhere in the stack.
  std::string message;
  if (stats.double_frees > expected_double_frees_) {
    message = fmt::format("the allocator refused {} release(s) of a slice that was not live ({} made on purpose)",
                          stats.double_frees, expected_double_frees_);
  } else if (stats.invalid_pointers > expected_invalid_pointers_) {
    message = fmt::format("the allocator refused {} release(s) of a pointer that is no slice start ({} made on "
                          "purpose)",
                          stats.invalid_pointers, expected_invalid_pointers_);
  } else {
    return;
  }
  if (!first_refusal_) fail("double-free", message);
  // The failure is the first offending refusal: its fiber, step and slice.
  if (!failure_) {
    record_failure("double-free", message + "; the first: " + first_refusal_->text, first_refusal_->data,
                   first_refusal_->event.fiber, first_refusal_->event.step);
  }
  throw OracleTripped(failure_->signature());
}

}  // namespace segsim::scenarios
