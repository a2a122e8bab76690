// double free: the allocator refused no release, reset or lookup but those a
// workload made on purpose (stale, foreign and null handles, free slices).
// Any other refusal means the stack above the allocator (pages, pool, caches)
// released something twice. A release the allocator wrongly *accepts* is the
// ownership oracle's (ownership.cpp).
#include "scenarios/oracles/refusal_ledger.h"

#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/sim_now.h"
#include "sim/simulation.h"

namespace segsim::scenarios {

void RefusalLedger::expect(Errc code) {
  if (code == Errc::DoubleFree) {
    ++expected_double_frees_;
  } else {
    ++expected_invalid_pointers_;
  }
}

void RefusalLedger::unexpect(Errc code) {
  std::uint64_t& expected = code == Errc::DoubleFree ? expected_double_frees_ : expected_invalid_pointers_;
  if (expected > 0) --expected;
}

// Deliberate bad calls are counted before they are made: more refusals than
// that is a double free somewhere in the stack.
std::string RefusalLedger::excess(const AllocatorStats& stats) const {
  if (stats.double_frees > expected_double_frees_) {
    return fmt::format("the allocator refused {} release(s) of a slice that was not live ({} made on purpose)",
                       stats.double_frees, expected_double_frees_);
  }
  if (stats.invalid_pointers > expected_invalid_pointers_) {
    return fmt::format("the allocator refused {} release(s) of a pointer that is no slice start ({} made on "
                       "purpose)",
                       stats.invalid_pointers, expected_invalid_pointers_);
  }
  return {};
}

std::uint64_t RefusalLedger::expected(Errc code) const {
  return code == Errc::DoubleFree ? expected_double_frees_ : expected_invalid_pointers_;
}

void Oracles::expect_refusal(Errc code) { refusals_.expect(code); }

void Oracles::unexpect_refusal(Errc code) { refusals_.unexpect(code); }

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
  note_heard(segment, true);  // observer_calls.cpp
  check_refusal_fields(call, segment, error);
  const bool double_free = error.code == Errc::DoubleFree;
  std::uint64_t& seen = double_free ? refused_double_frees_ : refused_invalid_pointers_;
  ++seen;
  if (seen <= refusals_.expected(error.code) || first_refusal_) return;
  Offence offence;
  offence.event = SegmentEvent{release ? "release refused" : "reset refused", fiber_now(), step_now(),
                               segment.generation()};
  offence.data = segment.data();
  offence.text = fmt::format("{} of region #{} slice {} (generation {}) by fiber #{} at step {}: {}", call,
                             segment.region_id(), segment.slice_index(), segment.generation(), offence.event.fiber,
                             offence.event.step, error.describe());
  if (auto offset = os_.offset_of(segment.data())) offence.history = history_.events(*offset);
  first_refusal_ = std::move(offence);
  if (!failure_) mark_failure_window();
}

void Oracles::check_double_free() {
  if (allocator_ == nullptr) return;
  const std::string verdict = refusals_.excess(allocator_->stats());
  if (verdict.empty()) return;
  if (!first_refusal_) fail("double-free", verdict);
  // The failure is the first offending refusal: its fiber, step and slice.
  if (!failure_) {
    record_failure("double-free", verdict + "; the first: " + first_refusal_->text, first_refusal_->data,
                   first_refusal_->event.fiber, first_refusal_->event.step);
  }
  throw OracleTripped(failure_->signature());
}

}  // namespace segsim::scenarios
