// alloc-api's client fibers (alloc_api_client.cpp) and what they share with
// the scenario's prepare and finish (alloc_api.cpp). Internal to those two
// files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "scenarios/oracles/rule_texts.h"
#include "scenarios/stack.h"
#include "scenarios/workloads/platform_ops.h"
#include "scenarios/workloads/recorder_ops.h"

namespace segsim::scenarios::alloc_api {

// The shape of each client's foreign allocator (alloc_api_client.cpp): the
// recorder's final report may name it.
inline constexpr std::size_t kForeignRegionBytes = 256 * 1024;
inline constexpr std::size_t kForeignBudgetBytes = 1024 * 1024;

// Shared by the clients; made before they start.
struct AllocApiState {
  std::shared_ptr<PlatformOps> platform;
  std::shared_ptr<RecorderCheck> recorder;  // null: the flight recorder is off this seed
  RuleTexts rules;  // lookup's and forged releases' refusal rules, each with its one text
};
inline AllocApiState& state_of(Stack& stack) { return *static_cast<AllocApiState*>(stack.scenario_state.get()); }

// Client fiber `index`: calls drawn from the seed's swarm of operation kinds,
// each checked against the model; what it still holds at the end is verified
// and released.
void run_client(Stack& stack, std::uint32_t index);

}  // namespace segsim::scenarios::alloc_api
