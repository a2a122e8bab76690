// mutate_fuzz_input: one field of a fuzz_scenario input at a time (fuzz_input_mutation.h).
#include "scenarios/fuzz_input_mutation.h"

#include <algorithm>
#include <bit>
#include <iterator>

#include "core/fault_point.h"
#include "scenarios/fuzz_input.h"
#include "sim/random.h"

namespace segsim::scenarios {
namespace {

enum class Field { Seed, Schedule, Faults, Clients, Scenario, Anything };

// Weights: the seed and the schedule are what a near miss varies; a fault
// choice next; what changes the whole run's meaning, rarely.
constexpr std::pair<Field, std::uint64_t> kWeights[] = {
    {Field::Seed, 6}, {Field::Schedule, 6}, {Field::Faults, 4}, {Field::Clients, 2}, {Field::Scenario, 1}, {Field::Anything, 1},
};

Field draw_field(sim::Rng& rng) {
  std::uint64_t total = 0;
  for (const auto& [field, weight] : kWeights) total += weight;
  std::uint64_t draw = rng.below(total);
  for (const auto& [field, weight] : kWeights) {
    if (draw < weight) return field;
    draw -= weight;
  }
  return Field::Anything;
}

std::uint8_t draw_rate(sim::Rng& rng) { return static_cast<std::uint8_t>(rng.below(std::size(kFuzzFaultRates))); }

// Switches bit `bit` of `mask` and inserts or removes its rate in `rates`
// (one per set bit of `counted`, in bit order).
template <typename Mask>
void toggle(Mask& mask, FuzzPointMask counted, unsigned bit, std::vector<std::uint8_t>& rates, sim::Rng& rng) {
  const FuzzPointMask one = FuzzPointMask{1} << bit;
  const auto index = static_cast<std::size_t>(std::popcount(FuzzPointMask{mask} & counted & (one - 1)));
  const auto at = rates.begin() + static_cast<long>(std::min(index, rates.size()));
  if ((mask & one) != 0) {
    if (at != rates.end()) rates.erase(at);
  } else {
    rates.insert(at, draw_rate(rng));
  }
  mask = static_cast<Mask>(mask ^ one);
}

void mutate_faults(FuzzFaultBytes& faults, sim::Rng& rng) {
  const bool rules = faults.mode % 4 >= 2;
  const std::size_t rates = faults.rule_rates.size() + faults.point_rates.size();
  switch (rules ? rng.below(4) : 0) {
    case 0:  // the mode: none, swarm or rules
      faults.mode = static_cast<std::uint8_t>(rng.below(4));
      return;
    case 1: {  // one rule, or the fault points' bit
      const unsigned bit = static_cast<unsigned>(rng.below(std::size(kFuzzFaultRules) + 1));
      if (bit == std::size(kFuzzFaultRules)) {
        faults.rules ^= kFuzzFaultPointsBit;
      } else {
        toggle(faults.rules, kFuzzFaultPointsBit - 1u, bit, faults.rule_rates, rng);
      }
      return;
    }
    case 2: {  // one fault point (the points' bit on with it)
      const auto bit = static_cast<unsigned>(rng.below(fault_points::kFaultPoints.size()));
      faults.rules |= kFuzzFaultPointsBit;
      toggle(faults.points, kFuzzPointMaskAll, bit, faults.point_rates, rng);
      return;
    }
    default: {  // one rate
      if (rates == 0) return mutate_faults(faults, rng);
      const std::size_t which = rng.below(rates);
      std::uint8_t& rate = which < faults.rule_rates.size() ? faults.rule_rates[which]
                                                             : faults.point_rates[which - faults.rule_rates.size()];
      rate = draw_rate(rng);
      return;
    }
  }
}

// `bytes` after libFuzzer's own mutation, in at most max_bytes (unchanged
// when there is no room: the mutator needs one byte).
std::string mutated_bytes(std::string bytes, std::size_t max_bytes, const ByteMutator& mutate_bytes) {
  const std::size_t size = bytes.size();
  if (max_bytes == 0 || size > max_bytes) return bytes;
  bytes.resize(max_bytes);
  bytes.resize(mutate_bytes(reinterpret_cast<std::uint8_t*>(bytes.data()), size, max_bytes));
  return bytes;
}

}  // namespace

std::string mutate_fuzz_input(const std::string& input, std::size_t max_bytes, std::uint64_t seed,
                              const ByteMutator& mutate_bytes) {
  sim::Rng rng(seed);
  FuzzInputParts parts = split_fuzz_input(input);
  switch (draw_field(rng)) {
    case Field::Seed: {
      const std::uint64_t value = rng.next();
      for (std::size_t i = 0; i < 8; ++i) parts.head[kFuzzSeedOffset + i] = static_cast<char>((value >> (8 * i)) & 0xff);
      break;
    }
    case Field::Schedule: {
      const std::size_t fixed = join_fuzz_input(parts).size() - parts.schedule.size();
      parts.schedule = mutated_bytes(parts.schedule, max_bytes > fixed ? max_bytes - fixed : 0, mutate_bytes);
      break;
    }
    case Field::Faults: mutate_faults(parts.faults, rng); break;
    case Field::Clients: parts.head[kFuzzClientsOffset] = static_cast<char>(rng.next() & 0xff); break;
    case Field::Scenario: parts.head[0] = static_cast<char>(rng.next() & 0xff); break;
    case Field::Anything: return mutated_bytes(input, max_bytes, mutate_bytes);
  }
  // Too long (a rate byte more): schedule bytes go from the end first; past
  // the end every field reads as 0, so a cut still decodes.
  std::string out = join_fuzz_input(parts);
  out.resize(std::min(out.size(), max_bytes));
  return out;
}

}  // namespace segsim::scenarios
