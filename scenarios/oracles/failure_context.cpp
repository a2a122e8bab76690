// What a failure report says beyond its message: the slice involved by
// stable id, that slice's history (who allocated, reset, released it, at which
// step, in which fiber), the slice operations and the trace events around the
// failing step, and the signature replay compares (addresses rewritten to
// stable names: failure_signature.h).
#include <fmt/format.h>

#include "scenarios/failure_signature.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/sim_now.h"
#include "scenarios/report_events.h"

namespace segsim::scenarios {

namespace {

// The operation log: enough before the mark to show the slice's last hands,
// a few after it to show what the failure led to.
constexpr std::size_t kOperationLogEvents = 24;
constexpr std::size_t kOperationsAfterMark = 8;
constexpr std::size_t kOperationsBefore = 6;  // shown up to the failing step
constexpr std::size_t kTraceEventsAfterMark = 48;
// A number printed in hex below this is an offset or a size, not an address:
// user-space mappings of 64-bit Linux lie far above it.
constexpr std::uintptr_t kLowestAddress = std::uintptr_t{1} << 36;


}  // namespace

std::optional<std::string> Oracles::stable_address_name(std::uintptr_t address) const {
  const auto offset = os_.offset_of(reinterpret_cast<const std::byte*>(address));
  if (!offset) return address < kLowestAddress ? std::nullopt : std::optional<std::string>("<foreign address>");
  auto it = regions_at_.upper_bound(*offset);
  if (it != regions_at_.begin() && allocator_ != nullptr) {
    --it;
    if (*offset < it->first + allocator_->config().region_bytes) {
      const std::uint64_t within = *offset - it->first;
      const std::uint64_t slice_bytes = class_bytes(it->second.size_class);
      std::string name = fmt::format("region #{} slice {}", it->second.region_id, within / slice_bytes);
      if (within % slice_bytes != 0) name += fmt::format(" +{:#x}", within % slice_bytes);
      return name;
    }
  }
  return fmt::format("SimOs offset {:#x}", *offset);
}

std::string Oracles::name_segment(const std::byte* data) const {
  if (data == nullptr) return {};
  const auto offset = os_.offset_of(data);
  if (!offset) return "a segment outside SimOs";
  const std::string name = stable_address_name(reinterpret_cast<std::uintptr_t>(data)).value_or("");
  return name.rfind("SimOs", 0) == 0 ? name : fmt::format("{} (SimOs offset {:#x})", name, *offset);
}

// Messages built from an allocator's Error carry the slice's address: the
// first address in our memory that a message names is the slice involved.
const std::byte* Oracles::segment_named_in(const std::string& message) const {
  const std::byte* found = nullptr;
  (void)stable_text(message, [&](std::uintptr_t address) -> std::optional<std::string> {
    const auto* data = reinterpret_cast<const std::byte*>(address);
    if (found == nullptr && os_.offset_of(data)) found = data;
    return std::nullopt;
  });
  return found;
}

void Oracles::note(const Segment& segment, const char* what) {
  const auto offset = os_.offset_of(segment.data());
  if (!offset) return;
  const std::uint32_t fiber = fiber_now();
  const std::uint64_t step = step_now();
  if (what[0] == 'a') {  // "allocated": where this region lies, for stable names
    const std::uint64_t base = *offset - segment.offset_in_region();
    regions_at_[base] = RegionAt{segment.region_id(), segment.size_class()};
  }
  history_.note(*offset, what, fiber, step, segment.generation());
  const SliceOperation operation{what, segment.region_id(), segment.slice_index(), segment.generation(), fiber, step};
  operation_log_.push_back(operation);
  if (operation_log_.size() > kOperationLogEvents) operation_log_.pop_front();
  if (operations_to_follow_ > 0) {
    --operations_to_follow_;
    operations_marked_.push_back(operation);
  }
}

void Oracles::mark_failure_window() {
  sim::Simulation* simulation = sim::Simulation::current();
  if (simulation == nullptr) return;
  simulation->mark_events(kTraceEventsAfterMark);
  operations_marked_.assign(operation_log_.begin(), operation_log_.end());
  operations_to_follow_ = kOperationsAfterMark;
  window_marked_ = true;
}

void Oracles::record_failure(const std::string& oracle, const std::string& message, const std::byte* segment,
                             std::uint32_t fiber, std::uint64_t step) {
  Failure failure;
  failure.oracle = oracle;
  failure.message = message;
  failure.fiber = fiber;
  failure.step = step;
  if (segment == nullptr) segment = segment_named_in(message);
  // A double free seen later (a refused return reported by its caller) began
  // at the first refusal no deliberate call explains: that is the offence.
  const bool at_refusal = oracle == "double-free" && first_refusal_.has_value();
  if (at_refusal) {
    failure.fiber = first_refusal_->event.fiber;
    failure.step = first_refusal_->event.step;
    segment = first_refusal_->data;
  }
  failure.segment = name_segment(segment);
  if (segment != nullptr) {
    if (auto offset = os_.offset_of(segment)) failure.segment_history = history_.events(*offset);
  }
  if (at_refusal) failure.segment_history = first_refusal_->history;  // up to and with the refusal
  std::string stable = stable_text(message, [this](std::uintptr_t a) { return stable_address_name(a); });
  if (stable != message) failure.stable_message = std::move(stable);
  failure_ = std::move(failure);
  // During the run, unless the refusal's mark stands; at quiescence there is no simulation.
  if (!at_refusal) mark_failure_window();
}

void Oracles::complete_failure(const sim::RunResult& result) {
  if (!failure_) return;
  std::vector<sim::TraceEvent> window;
  if (window_marked_) {
    window = result.marked_before;
    window.insert(window.end(), result.marked_after.begin(), result.marked_after.end());
  } else {
    window = result.last_events;
  }
  failure_->trace_around = events_around(window, failure_->fiber, failure_->step);
  const std::vector<SliceOperation> operations =
      window_marked_ ? operations_marked_ : std::vector<SliceOperation>(operation_log_.begin(), operation_log_.end());
  failure_->operations_around.clear();
  std::size_t earlier = 0;  // at most kOperationsBefore up to the failing step
  for (const SliceOperation& op : operations) earlier += op.step <= failure_->step ? 1 : 0;
  std::size_t index = 0;
  for (const SliceOperation& op : operations) {
    if (op.step <= failure_->step && index++ + kOperationsBefore < earlier) continue;
    failure_->operations_around.push_back(SegmentEvent{
        fmt::format("{} region #{} slice {}", op.what, op.region_id, op.slice), op.fiber, op.step, op.generation});
  }
}

}  // namespace segsim::scenarios
