// fuzz_run_spec: a fuzzer's bytes decoded into a run (fuzz_input.h).
#include "scenarios/fuzz_input.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "core/fault_point.h"

namespace segsim::scenarios {
namespace {

class ByteCursor {
 public:
  explicit ByteCursor(std::string_view bytes) : bytes_(bytes) {}
  std::uint8_t byte() { return position_ < bytes_.size() ? static_cast<std::uint8_t>(bytes_[position_++]) : 0; }
  std::string_view rest() const { return bytes_.substr(std::min(position_, bytes_.size())); }

 private:
  std::string_view bytes_;
  std::size_t position_ = 0;
};

static_assert(std::size(kFuzzFaultRules) < 8, "the rules byte's bit 7 selects fault points one by one");
static_assert(fault_points::kFaultPoints.size() <= 16, "the fault point mask is two bytes");

// Appends "<rule>@p=<rate>", the rate from the cursor's next byte.
void add_rule(std::string& spec, std::string_view rule, ByteCursor& cursor) {
  if (!spec.empty()) spec += ',';
  spec += rule;
  spec += "@p=";
  spec += kFuzzFaultRates[cursor.byte() % std::size(kFuzzFaultRates)];
}

std::string fault_spec(ByteCursor& cursor) {
  const std::uint8_t mode = cursor.byte() % 4;
  if (mode == 0) return "none";
  if (mode == 1) return "swarm";
  const std::uint8_t rules = cursor.byte();
  std::string spec;
  for (std::size_t i = 0; i < std::size(kFuzzFaultRules); ++i) {
    if ((rules & (1u << i)) != 0) add_rule(spec, kFuzzFaultRules[i], cursor);
  }
  if ((rules & kFuzzFaultPointsBit) != 0) {
    const std::uint16_t low = cursor.byte();
    const std::uint16_t points = static_cast<std::uint16_t>(low | (cursor.byte() << 8));
    for (std::size_t i = 0; i < fault_points::kFaultPoints.size(); ++i) {
      if ((points & (1u << i)) != 0) add_rule(spec, "point:" + std::string(fault_points::kFaultPoints[i].name), cursor);
    }
  }
  return spec.empty() ? "none" : spec;
}

}  // namespace

RunSpec fuzz_run_spec(std::string_view bytes) {
  ByteCursor cursor(bytes);
  const std::vector<ScenarioInfo>& scenarios = scenario_catalogue();
  const ScenarioInfo& scenario = scenarios[cursor.byte() % scenarios.size()];
  RunSpec spec;
  spec.scenario = scenario.name;
  spec.seed = 0;
  for (int i = 0; i < 8; ++i) spec.seed |= std::uint64_t{cursor.byte()} << (8 * i);
  spec.threads = 1 + cursor.byte() % std::min(kFuzzMaxThreads, scenario.default_threads);
  spec.size = 1;
  spec.faults = fault_spec(cursor);
  spec.strategy = sim::StrategyKind::Fuzz;
  spec.fuzz_bytes = std::string(cursor.rest());
  return spec;
}

}  // namespace segsim::scenarios
