// slab-churn's drills at quiescence (slab_churn_state.h).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "core/size_class.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/oracles/rule_texts.h"
#include "scenarios/workloads/forged_slab_handles.h"
#include "scenarios/workloads/slab_churn_state.h"

namespace segsim::scenarios::slab_churn {

void forged_frees(Stack& stack, SlabChurn& st) {
  sim::Rng rng = stack.simulation.stream("workload.slab-churn.forged");
  const std::size_t bytes = kSlabClassBytes[rng.below(kSlabClassCount)];
  Result<SlabObject> got = st.slab->allocate(bytes);
  if (!got.ok()) {
    judge_allocate_refusal(stack, st, bytes, got.error());
    return;
  }
  const SlabObject live = got.value();
  st.model.allocated(bytes);
  const SlabStats before = st.slab->stats();
  st.oracles->check_counters(before, st.slab->config());
  RuleTexts rules;  // each forgery's refusal names the rule the model says (rule-texts)
  for (std::size_t f = 0; f < kSlabForgeryCount; ++f) {
    const auto forgery = static_cast<SlabForgery>(f);
    const Errc due = slab_forgery_refusal(forgery);
    const SlabObject forged = forge_slab_object(live, forgery, before.classes[static_cast<std::size_t>(live.size_class())].objects_per_slab);
    const Status refused = st.slab->free(forged);
    st.oracles->expect_refused(refused, due, slab_forgery_name(forgery), forged);
    ++(due == Errc::DoubleFree ? st.model.double_frees : st.model.invalid_pointers);
    rules.check(stack.oracles, slab_forgery_rule(forgery), refused.error().detail, live.data());
  }
  st.oracles->expect_unchanged(before, st.slab->stats(), "frees of forged handles");
  Result<SlabObject> still = st.slab->lookup(live.data());
  // The same object and life (lookup's handle names no thread cache).
  if (!still.ok() || still->data() != live.data() || still->slab_id() != live.slab_id() ||
      still->slab_epoch() != live.slab_epoch() || still->index() != live.index() ||
      still->generation() != live.generation() || still->size_class() != live.size_class()) {
    stack.oracles.fail("slab-refusal", fmt::format("after refused frees of forged handles, lookup of the object answers {}",
                                                   outcome_text(still, "another handle")));
  }
  // One past its slab's end: the start of another slab (its object 0, live or
  // free) or of no slab at all — never inside an object of this one.
  const std::byte* slab_end =
      live.data() - std::size_t{live.index()} * live.size() + st.slab->config().slab_bytes;
  const Result<SlabObject> past = st.slab->lookup(slab_end);
  if (!past.ok()) ++(past.error().code == Errc::DoubleFree ? st.model.double_frees : st.model.invalid_pointers);
  if (!past.ok() && past.error().code != Errc::DoubleFree &&
      (past.error().code != Errc::InvalidPointer || std::strcmp(past.error().detail, "not inside a slab") != 0)) {
    stack.oracles.fail("slab-refusal", fmt::format("lookup of the address one past a slab's end answered {}; the "
                                                   "start of another slab or 'not inside a slab' was due",
                                                   outcome_text(past, "a live object")));
  }
  st.oracles->expect_ok(st.slab->free(live), "free of the object whose forged handles were refused", live.data());
  ++st.model.frees;
  st.slab->flush_thread_cache();
}

// A class gone cold: many operations served by the magazines between depot
// exchanges shrink its capacity (slab_depot.cpp: per 16 exchanges, when each
// came after more than 16 magazines' worth of operations) — never below half
// the initial one (slab-counters checks it after every cycle). The smallest
// class capacity, when adaptive and at most 4 (cheap: a few thousand calls),
// shrunk to its floor and then driven on for more than a window.
void cold_class_drill(Stack& stack, SlabChurn& st) {
  const SlabAllocatorConfig& config = st.slab->config();
  std::size_t c = 0;
  for (std::size_t k = 1; k < kSlabClassCount; ++k) {
    if (config.magazine_capacity[k] < config.magazine_capacity[c]) c = k;
  }
  if (!config.adaptive_magazines || config.magazine_capacity[c] > 4) return;
  const std::size_t bytes = kSlabClassBytes[c];
  const std::uint32_t floor_capacity = std::max<std::uint32_t>(1, config.magazine_capacity[c] / 2);
  constexpr int kMaxCycles = 80;
  constexpr int kCyclesAtFloor = 20;  // more than one window of exchanges
  int at_floor = 0;
  const auto take = [&]() -> std::optional<SlabObject> {
    Result<SlabObject> got = st.slab->allocate(bytes);
    if (!got.ok()) {
      judge_allocate_refusal(stack, st, bytes, got.error());
      return std::nullopt;
    }
    st.model.allocated(bytes);
    return got.value();
  };
  const auto give = [&](const SlabObject& object) {
    st.oracles->expect_ok(st.slab->free(object), "free in a cold class", object.data());
    ++st.model.frees;
  };
  for (int cycle = 0; cycle < kMaxCycles && at_floor < kCyclesAtFloor; ++cycle) {
    const std::uint32_t capacity = st.slab->stats().classes[c].magazine_capacity;
    if (capacity <= floor_capacity) ++at_floor;
    // Forty magazines' worth of operations without an exchange...
    for (std::uint32_t n = 0; n < 40 * capacity; ++n) {
      if (const auto object = take()) give(*object);
    }
    // ...then a burst that empties the magazines and fills them again.
    std::vector<SlabObject> burst;
    for (std::uint32_t n = 0; n < 2 * capacity + 1; ++n) {
      if (const auto object = take()) burst.push_back(*object);
    }
    for (const SlabObject& object : burst) give(object);
    st.oracles->check_counters(st.slab->stats(), config);
  }
  st.slab->flush_thread_cache();
}

}  // namespace segsim::scenarios::slab_churn
