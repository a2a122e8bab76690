// fuzz_crash_report: libFuzzer's bytes are a flight-recorder crash report
// (scenarios/crash_report.h, docs/flight-recorder.md). Parsing must never crash,
// hang or allocate without bound; a refusal is one line; a report that parses
// holds what the parser promises (known operations and results, each
// thread's events in increasing sequence order — strictly before format
// version 4 —, each event's class one the recorder writes, a refused failure
// with its refused call — an allocator call, never a page-layer one —, a
// depth within a byte, a recorded cache that holds an entry).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/size_class.h"
#include "core/slab_object.h"
#include "scenarios/crash_report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace segsim::scenarios;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto report = crash_report_from_json(text, &error);
  if (!report.ok()) {
    if (error.empty() || error.find('\n') != std::string::npos) std::abort();  // one line
    return 0;
  }
  namespace recorder = segsim::flight_recorder;
  std::size_t events = 0;
  for (const CrashThread& thread : report->threads) {
    std::uint64_t previous = 0;
    for (const CrashEvent& event : thread.events) {
      // Strictly increasing per thread; from version 4 ties (compact events).
      const bool in_order = report->version >= 4 ? event.sequence >= previous : event.sequence > previous;
      if (event.sequence == 0 || !in_order) std::abort();
      // The class is what the recorder writes: an allocator size class, a
      // slab class, -1 for the page layer and the other object layers.
      const int class_limit = recorder::is_allocator_op(event.op) ? static_cast<int>(segsim::kSizeClassCount)
                              : recorder::has_slab_class(event.op) ? static_cast<int>(segsim::kSlabClassCount)
                                                                 : 0;
      if (event.size_class < -1 || event.size_class >= class_limit) std::abort();
      if (event.depth > 255) std::abort();
      previous = event.sequence;
      ++events;
    }
  }
  if (events > kMaxCrashEvents) std::abort();
  if (report->kind == "refused" && (!report->refused || !report->refused->error)) std::abort();
  if (report->refused && !segsim::flight_recorder::is_allocator_op(report->refused->op)) std::abort();
  if (report->cache_max_bytes != 0 && report->cache_max_entries == 0) std::abort();
  return 0;
}
