// fuzz_crash_report: libFuzzer's bytes are a flight-recorder crash report
// (scenarios/crash_report.h, docs/flight-recorder.md). Parsing must never crash,
// hang or allocate without bound; a refusal is one line; a report that parses
// holds what the parser promises (known operations and results, each
// thread's events in strictly increasing sequence order, a refused failure
// with its refused call — an allocator call, never a page-layer one —, page
// events without a size class, a depth within a byte, a recorded cache that
// holds an entry).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

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
  std::size_t events = 0;
  for (const CrashThread& thread : report->threads) {
    std::uint64_t previous = 0;
    for (const CrashEvent& event : thread.events) {
      if (event.sequence <= previous || event.size_class < -1 || event.size_class > 6) std::abort();
      if (event.depth > 255 || (segsim::flight_recorder::is_page_op(event.op) && event.size_class != -1)) std::abort();
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
