// fuzz_repro: libFuzzer's bytes are a repro file (scenarios/repro.h), both
// versions: decisions as a JSON list (1) or compact, varint + deflate + base64
// (2, sim/decision_log.h). Parsing must never crash, hang or allocate without
// bound; a file that parses must survive a write and a second parse
// unchanged (decisions included), and its error lines are one line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "scenarios/repro.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace segsim::scenarios;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto repro = repro_from_json(text, &error);
  if (!repro.ok()) {
    if (error.find('\n') != std::string::npos) std::abort();  // error lines are one line
    return 0;
  }
  std::uint64_t decisions = 0;
  segsim::sim::DecisionLog::Reader reader(repro->spec.decisions);
  for (std::uint32_t fiber = 0; reader.next(fiber);) ++decisions;
  if (decisions != repro->spec.decisions.size()) std::abort();
  auto again = repro_from_json(repro_to_json(repro.value()), &error);
  if (!again.ok()) std::abort();  // what we write, we read
  if (!(again->spec.decisions == repro->spec.decisions) || again->spec.seed != repro->spec.seed ||
      again->spec.threads != repro->spec.threads || again->spec.max_steps != repro->spec.max_steps ||
      again->expected_trace_hash != repro->expected_trace_hash) {
    std::abort();
  }
  return 0;
}
