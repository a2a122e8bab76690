// What a parsed crash report promises (crash_report.h): the checks the
// crash-report fuzz target applies to everything crash_report_from_json
// accepts, and alloc-api's recorder episodes to every report the recorder
// writes — so the target's checks and the writer's output cannot drift apart
// unnoticed (the target's checks once went stale when format 4 let events tie).
#include <fmt/format.h>

#include "core/flight_recorder.h"
#include "core/size_class.h"
#include "core/slab_object.h"
#include "scenarios/crash_report.h"

namespace segsim::scenarios {

std::string crash_report_broken_promise(const CrashReport& report) {
  namespace recorder = flight_recorder;
  std::size_t events = 0;
  for (const CrashThread& thread : report.threads) {
    std::uint64_t previous = 0;
    for (const CrashEvent& event : thread.events) {
      // Increasing per thread: strictly before version 4, ties allowed from it (compact events).
      const bool in_order = report.version >= 4 ? event.sequence >= previous : event.sequence > previous;
      if (event.sequence == 0 || !in_order) {
        return fmt::format("thread {}: event seq {} after seq {} (version {})", thread.thread, event.sequence,
                           previous, report.version);
      }
      // The class is one the recorder writes: an allocator size class, a
      // slab class, -1 for the page layer and the other object layers.
      const int class_limit = recorder::is_allocator_op(event.op) ? static_cast<int>(kSizeClassCount)
                              : recorder::has_slab_class(event.op) ? static_cast<int>(kSlabClassCount)
                                                                 : 0;
      if (event.size_class < -1 || event.size_class >= class_limit) {
        return fmt::format("thread {}: a {} event of class {}", thread.thread, recorder::op_name(event.op),
                           event.size_class);
      }
      if (event.depth > 255) return fmt::format("thread {}: an event at depth {}", thread.thread, event.depth);
      previous = event.sequence;
      ++events;
    }
  }
  if (events > kMaxCrashEvents) return fmt::format("{} events, over the reader's {}", events, kMaxCrashEvents);
  if (report.kind == "refused" && (!report.refused || !report.refused->error)) {
    return "a refused failure without its refused call and error";
  }
  if (report.refused && !recorder::is_allocator_op(report.refused->op)) {
    return fmt::format("the refused call is a {}, not an allocator call", recorder::op_name(report.refused->op));
  }
  if (report.assertion &&
      (report.assertion->condition.empty() || report.assertion->file.empty() || report.assertion->line == 0)) {
    return "an assertion without its condition, file or line";
  }
  if (report.cache_max_bytes != 0 && report.cache_max_entries == 0) return "a recorded cache bounded to no entry";
  return "";
}

}  // namespace segsim::scenarios
