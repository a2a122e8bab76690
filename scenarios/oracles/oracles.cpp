// The oracle hub: failure recording, segment naming and history, sampling,
// and dispatch to the per-invariant checkers in this directory.
#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/sim_now.h"

#include <fmt/format.h>

#include "sim/simulation.h"

namespace segsim::scenarios {

Oracles::Oracles(faults::SimOs& os) : os_(os) {}

void Oracles::fail(const std::string& oracle, const std::string& message, const std::byte* segment) {
  if (!failure_) record_failure(oracle, message, segment, fiber_now(), step_now());
  throw OracleTripped(oracle + ": " + message);
}

void Oracles::report(const std::string& oracle, const std::string& message, const std::byte* segment) {
  try {
    fail(oracle, message, segment);
  } catch (const OracleTripped&) {
    // Recorded; off a fiber the caller carries on.
  }
}

void Oracles::record_simulation_failure(const std::string& oracle, const std::string& message,
                                        std::uint32_t fiber, std::uint64_t step) {
  if (failure_) return;
  record_failure(oracle, message, nullptr, fiber, step);
}

void Oracles::check_cheap() {
  if (failure_) throw OracleTripped(failure_->signature());  // reported by a callback: stop now
  check_double_free();
  maybe_sample();
}

void Oracles::check_quiescent(std::size_t borrowed_pages) {
  try {
    check_double_free();
    check_refusals_counted();
    check_accounting();
    check_os_accounting();
    check_memset_zeroings();
    check_resident_estimate_at_quiescence();
    check_leaks(borrowed_pages);
    check_descriptors();
    check_bounded_growth();
    for (const auto& check : quiescent_checks_) check();
  } catch (const OracleTripped&) {
    // Recorded in failure_; at quiescence there is no fiber to unwind.
  }
}

void Oracles::sample_now() {
  const faults::SimOsStats stats = os_.stats();
  sim::Simulation* simulation = sim::Simulation::current();
  sampler_.record(simulation == nullptr ? std::nullopt : std::optional<std::int64_t>(simulation->virtual_now_ns()),
                  stats.virtual_bytes, stats.resident_bytes);
}

void Oracles::maybe_sample() {
  if (sampler_.due(step_now())) sample_now();
}

void Oracles::expect_bounded_growth(double warmup_fraction, std::uint64_t slack_bytes) {
  growth_.expect(warmup_fraction, slack_bytes);
}

// ---- SegmentObserver -------------------------------------------------------

void Oracles::handing_out(const Segment& segment) {
  ownership_handing_out(segment);
  canary_verify(segment);
  overlap_insert(segment);
  note(segment, "allocated");
}

void Oracles::handed_out(const Segment& segment, bool zeroed) {
  if (zeroed) check_zeroed(segment);
}

void Oracles::released(const Segment& segment) {
  ownership_released(segment);
  overlap_erase(segment);
  canary_fill(segment);
  note(segment, "released");
}

void Oracles::was_reset(const Segment& segment) {
  note(segment, "reset");
  note_heard(segment, false);  // observer_calls.cpp
  note_reset_zeroing(segment);  // zeroing_method.cpp
}

}  // namespace segsim::scenarios
