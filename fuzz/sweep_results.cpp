// fuzz_sweep_results: libFuzzer's bytes are a sweep results file (what
// `segsim sweep --json` writes and `segsim merge` reads, scenarios/sweep.h)
// and, the same bytes, a probe list (--require-probes). Parsing must never
// crash (numbers like 1e999 included); a file that parses must survive a
// write and a second parse, and merge with itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "scenarios/probe_report.h"
#include "scenarios/sweep.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace segsim::scenarios;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  (void)parse_probe_list(text, &error);
  auto result = sweep_from_json(text, &error);
  if (!result.ok()) {
    if (error.find('\n') != std::string::npos) std::abort();  // error lines are one line
    return 0;
  }
  auto again = sweep_from_json(sweep_to_json(result.value()), &error);
  if (!again.ok() || again->seeds.size() != result->seeds.size() || again->probes != result->probes ||
      again->fault_point_asks != result->fault_point_asks || again->fault_point_fires != result->fault_point_fires ||
      !settings_difference(again.value(), result.value()).empty()) {
    std::abort();  // what we write, we read
  }
  auto merged = merge_sweeps({result.value(), again.value()}, &error);
  if (!merged.ok() || merged->seeds.size() != result->seeds.size()) std::abort();
  (void)sweep_to_junit(merged.value());
  (void)probe_summary(merged->probes);
  (void)fault_point_summary(merged->fault_point_asks, merged->fault_point_fires);
  return 0;
}
