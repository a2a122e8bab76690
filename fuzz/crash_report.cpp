// fuzz_crash_report: libFuzzer's bytes are a flight-recorder crash report
// (scenarios/crash_report.h, docs/flight-recorder.md). Parsing must never crash,
// hang or allocate without bound; a refusal is one line; a report that parses
// keeps every promise the reader makes (crash_report_broken_promise: event
// order by format version, classes the recorder writes, depths, the refused
// call, the recorded cache) — the same checks alloc-api's recorder episodes
// apply to every report the recorder writes.
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
  if (!crash_report_broken_promise(report.value()).empty()) std::abort();
  return 0;
}
