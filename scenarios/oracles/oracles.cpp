// The oracle hub: failure recording, segment naming and history, sampling,
// and dispatch to the per-invariant checkers in this directory.
#include "scenarios/oracles/oracles.h"

#include <fmt/format.h>

#include "sim/simulation.h"

namespace segsim::scenarios {

namespace {
std::uint32_t current_fiber() {
  sim::Simulation* simulation = sim::Simulation::current();
  return simulation == nullptr ? sim::kNoFiber : simulation->current_fiber();
}
std::uint64_t current_step() {
  sim::Simulation* simulation = sim::Simulation::current();
  return simulation == nullptr ? 0 : simulation->step();
}
}  // namespace

Oracles::Oracles(faults::SimOs& os) : os_(os) {}

std::string Oracles::name_segment(const std::byte* data) const {
  if (data == nullptr) return {};
  auto offset = os_.offset_of(data);
  if (!offset) return "a segment outside SimOs";
  return fmt::format("segment at SimOs offset {:#x}", *offset);
}

void Oracles::note(const std::byte* data, const char* what) {
  if (auto offset = os_.offset_of(data)) history_.note(*offset, what, current_fiber(), current_step());
}

void Oracles::fail(const std::string& oracle, const std::string& message, const std::byte* segment) {
  if (!failure_) {
    Failure failure;
    failure.oracle = oracle;
    failure.message = message;
    failure.fiber = current_fiber();
    failure.step = current_step();
    failure.segment = name_segment(segment);
    if (segment != nullptr) {
      if (auto offset = os_.offset_of(segment)) failure.segment_history = history_.events(*offset);
    }
    failure_ = std::move(failure);
  }
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
  Failure failure;
  failure.oracle = oracle;
  failure.message = message;
  failure.fiber = fiber;
  failure.step = step;
  failure_ = std::move(failure);
}

void Oracles::check_cheap() {
  if (failure_) throw OracleTripped(failure_->signature());  // reported by a callback: stop now
  check_double_free();
  maybe_sample();
}

void Oracles::check_quiescent(std::size_t borrowed_pages) {
  try {
    check_double_free();
    check_accounting();
    check_leaks(borrowed_pages);
    check_bounded_growth();
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
  if (sampler_.due(current_step())) sample_now();
}

void Oracles::expect_bounded_growth(double warmup_fraction, std::uint64_t slack_bytes) {
  growth_.expect(warmup_fraction, slack_bytes);
}

// ---- SegmentObserver -------------------------------------------------------

void Oracles::handing_out(const Segment& segment) {
  ownership_handing_out(segment);
  canary_verify(segment);
  overlap_insert(segment);
  note(segment.data(), "allocated");
}

void Oracles::handed_out(const Segment& segment, bool zeroed) {
  if (zeroed) check_zeroed(segment);
}

void Oracles::released(const Segment& segment) {
  ownership_released(segment);
  overlap_erase(segment);
  canary_fill(segment);
  note(segment.data(), "released");
}

}  // namespace segsim::scenarios
