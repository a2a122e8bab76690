// fuzz_run_spec: a fuzzer's bytes decoded into a run (fuzz_input.h), through
// the split into fields that the structure-aware mutation also uses.
#include "scenarios/fuzz_input.h"

#include <algorithm>
#include <bit>
#include <iterator>

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
constexpr std::uint8_t kRuleMask = kFuzzFaultPointsBit - 1;
constexpr FuzzPointMask kPointMask = kFuzzPointMaskAll;

bool rules_mode(const FuzzFaultBytes& faults) { return faults.mode % 4 >= 2; }
bool points_on(const FuzzFaultBytes& faults) { return rules_mode(faults) && (faults.rules & kFuzzFaultPointsBit) != 0; }

// A rate byte per bit of `mask` set, as the decoding reads them.
std::vector<std::uint8_t> rates(ByteCursor& cursor, FuzzPointMask mask) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(std::popcount(mask)));
  for (std::uint8_t& rate : out) rate = cursor.byte();
  return out;
}

FuzzFaultBytes read_faults(ByteCursor& cursor) {
  FuzzFaultBytes faults;
  faults.mode = cursor.byte();
  if (!rules_mode(faults)) return faults;
  faults.rules = cursor.byte();
  faults.rule_rates = rates(cursor, faults.rules & kRuleMask);
  if (!points_on(faults)) return faults;
  for (std::size_t i = 0; i < kFuzzPointMaskBytes; ++i) faults.points |= FuzzPointMask{cursor.byte()} << (8 * i);
  faults.point_rates = rates(cursor, faults.points & kPointMask);
  return faults;
}

// Appends "<rule>@p=<rate>".
void add_rule(std::string& spec, std::string_view rule, std::uint8_t rate) {
  if (!spec.empty()) spec += ',';
  spec += rule;
  spec += "@p=";
  spec += kFuzzFaultRates[rate % std::size(kFuzzFaultRates)];
}

std::string fault_spec(const FuzzFaultBytes& faults) {
  if (faults.mode % 4 == 0) return "none";
  if (faults.mode % 4 == 1) return "swarm";
  std::string spec;
  std::size_t next = 0;
  for (std::size_t i = 0; i < std::size(kFuzzFaultRules); ++i) {
    if ((faults.rules & (1u << i)) != 0) add_rule(spec, kFuzzFaultRules[i], faults.rule_rates[next++]);
  }
  next = 0;
  for (std::size_t i = 0; points_on(faults) && i < fault_points::kFaultPoints.size(); ++i) {
    if ((faults.points & (FuzzPointMask{1} << i)) != 0) {
      add_rule(spec, "point:" + std::string(fault_points::kFaultPoints[i].name), faults.point_rates[next++]);
    }
  }
  return spec.empty() ? "none" : spec;
}

}  // namespace

FuzzInputParts split_fuzz_input(std::string_view bytes) {
  ByteCursor cursor(bytes);
  FuzzInputParts parts;
  for (std::size_t i = 0; i < kFuzzHeadBytes; ++i) parts.head += static_cast<char>(cursor.byte());
  parts.faults = read_faults(cursor);
  parts.schedule = std::string(cursor.rest());
  return parts;
}

std::string join_fuzz_input(const FuzzInputParts& parts) {
  std::string out = parts.head;
  out.resize(kFuzzHeadBytes, '\0');
  const FuzzFaultBytes& faults = parts.faults;
  const auto put = [&out](std::uint8_t byte) { out += static_cast<char>(byte); };
  const auto put_rates = [&put](const std::vector<std::uint8_t>& rates, FuzzPointMask mask) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(std::popcount(mask)); ++i) put(i < rates.size() ? rates[i] : 0);
  };
  put(faults.mode);
  if (rules_mode(faults)) {
    put(faults.rules);
    put_rates(faults.rule_rates, faults.rules & kRuleMask);
    if (points_on(faults)) {
      out += fuzz_point_mask_bytes(faults.points);
      put_rates(faults.point_rates, faults.points & kPointMask);
    }
  }
  return out + parts.schedule;
}

std::string fuzz_point_mask_bytes(FuzzPointMask mask) {
  std::string bytes;
  for (std::size_t i = 0; i < kFuzzPointMaskBytes; ++i) bytes += static_cast<char>(static_cast<std::uint8_t>(mask >> (8 * i)));
  return bytes;
}

RunSpec fuzz_run_spec(std::string_view bytes) {
  const FuzzInputParts parts = split_fuzz_input(bytes);
  ByteCursor head(parts.head);
  const std::vector<ScenarioInfo>& scenarios = scenario_catalogue();
  const ScenarioInfo& scenario = scenarios[head.byte() % scenarios.size()];
  RunSpec spec;
  spec.scenario = scenario.name;
  spec.seed = 0;
  for (int i = 0; i < 8; ++i) spec.seed |= std::uint64_t{head.byte()} << (8 * i);
  spec.threads = 1 + head.byte() % std::min(kFuzzMaxThreads, scenario.default_threads);
  spec.size = 1;
  spec.faults = fault_spec(parts.faults);
  spec.strategy = sim::StrategyKind::Fuzz;
  spec.fuzz_bytes = parts.schedule;
  return spec;
}

}  // namespace segsim::scenarios
