#include "scenarios/failure_text.h"

#include <fmt/format.h>

namespace segsim::scenarios {

namespace {

std::string fiber_text(std::uint32_t fiber) {
  return fiber == sim::kNoFiber ? std::string("no fiber") : fmt::format("fiber #{}", fiber);
}

std::string event_text(const SegmentEvent& e) {
  std::string text = fmt::format("step {} {} {}", e.step, fiber_text(e.fiber), e.what);
  if (e.generation != 0) text += fmt::format(" (generation {})", e.generation);
  return text;
}

// The trace events and the slice operations around the failing step, one
// list in step order (operations first within a step: they name what the
// scheduling points around them were for).
void print_around(const Failure& f, const RunReport& report, std::ostream& out) {
  std::vector<std::pair<std::uint64_t, std::string>> lines;
  for (const SegmentEvent& e : f.operations_around) lines.emplace_back(e.step, "  " + event_text(e));
  for (const sim::TraceEvent& e : f.trace_around) lines.emplace_back(e.step, e.describe());
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (!lines.empty()) {
    out << fmt::format("  around step {} (slice operations indented; other fibers' mutex events left out):\n",
                       f.step);
    for (const auto& [step, line] : lines) out << fmt::format("    {}{}\n", line, step == f.step ? "   <==" : "");
    return;
  }
  if (report.last_events.empty()) return;
  out << "  last trace events:\n";
  const std::size_t first = report.last_events.size() > 12 ? report.last_events.size() - 12 : 0;
  for (std::size_t i = first; i < report.last_events.size(); ++i) {
    out << "    " << report.last_events[i].describe() << "\n";
  }
}

}  // namespace

void print_failure_details(const RunReport& report, std::ostream& out) {
  const Failure& f = *report.failure;
  out << fmt::format("\nFAILURE: oracle {} — {}\n", f.oracle, f.message);
  if (f.fiber == sim::kNoFiber) {
    out << fmt::format("  at quiescence, after step {}\n", report.steps);
  } else {
    out << fmt::format("  first offending operation: fiber #{} at step {}\n", f.fiber, f.step);
  }
  if (!f.stable_message.empty()) out << fmt::format("  signature: {}\n", f.signature());
  if (!f.segment.empty()) {
    out << fmt::format("  slice: {}\n", f.segment);
    if (!f.segment_history.empty()) out << "  its history:\n";
    for (const SegmentEvent& e : f.segment_history) out << "    " << event_text(e) << "\n";
  }
  print_around(f, report, out);
}

nlohmann::json failure_json(const Failure& f) {
  nlohmann::json history = nlohmann::json::array();
  for (const SegmentEvent& e : f.segment_history) {
    history.push_back({{"what", e.what}, {"fiber", e.fiber}, {"step", e.step}, {"generation", e.generation}});
  }
  nlohmann::json operations = nlohmann::json::array();
  for (const SegmentEvent& e : f.operations_around) {
    operations.push_back({{"what", e.what}, {"fiber", e.fiber}, {"step", e.step}, {"generation", e.generation}});
  }
  nlohmann::json trace = nlohmann::json::array();
  for (const sim::TraceEvent& e : f.trace_around) {
    trace.push_back({{"step", e.step}, {"fiber", e.fiber}, {"op", sim::trace_op_name(e.op)}, {"object", e.object},
                     {"detail", e.detail}, {"time_ns", e.time_ns}});
  }
  return {{"oracle", f.oracle},          {"message", f.message},       {"signature", f.signature()},
          {"fiber", f.fiber},            {"step", f.step},             {"segment", f.segment},
          {"segment_history", history},  {"trace_around", trace},      {"operations_around", operations}};
}

}  // namespace segsim::scenarios
