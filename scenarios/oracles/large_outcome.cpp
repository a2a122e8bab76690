// large objects, outcome: every completed call's result is one the model
// allows; a failed call changed nothing; a refusal was necessary.
#include <utility>

#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

std::uint64_t LargeObjectChecks::offset_of(const LargeObject& object) const {
  auto offset = os_.offset_of(object.data());
  if (!offset) oracles_.fail("large-outcome", "a large object outside the simulated OS", object.data());
  return *offset;
}

std::uint64_t LargeObjectChecks::allocated(const Result<LargeObject>& result, std::size_t requested, bool zeroed,
                                           std::size_t live_before, bool faults_active, bool strict_refusal) {
  const LargeObjectAllocatorConfig& config = large_.config();
  const bool valid_size = requested >= LargeObjectAllocator::kMinObjectBytes && requested <= config.max_object_bytes;
  const std::size_t need = (requested + config.granule_bytes - 1) / config.granule_bytes * config.granule_bytes;
  const std::uint32_t reclaims = std::exchange(reclaims_in_call_, 0);
  const bool refused_over_budget = !result.ok() && result.error().code == Errc::OutOfBudget;
  check_reclaims(requested, result, valid_size, reclaims);
  check_budget(requested);
  // One refused growth a refused-over-budget first attempt (it asks the hook,
  // when set) and one more a retry that was refused too.
  calls_.budget_refusals += reclaims + (refused_over_budget && (reclaims == 0 || reclaim_answer_) ? 1 : 0);
  // A "nothing freed" answer means no retry: a free range the hook's releases
  // made may go unused.
  strict_refusal = strict_refusal && !(reclaims > 0 && !reclaim_answer_);
  if (!result.ok()) {
    const Error& e = result.error();
    const bool allowed = (e.code == Errc::InvalidSize && !valid_size) || (e.code == Errc::OutOfBudget && valid_size) ||
                         (e.code == Errc::OutOfMemory && valid_size && faults_active);
    if (!allowed) {
      oracles_.fail("large-outcome", fmt::format("allocate({}) refused with '{}', the model allows {}", requested,
                                                 e.describe(), valid_size ? "success" : "InvalidSize"));
    }
    calls_.out_of_budget += e.code == Errc::OutOfBudget ? 1 : 0;
    calls_.out_of_memory += e.code == Errc::OutOfMemory ? 1 : 0;
    const int map_errno = advises_.ledger().last_map_errno_of_current_fiber();
    if (e.code == Errc::OutOfMemory && (e.os_errno == 0 || e.os_errno != map_errno)) {
      oracles_.fail("large-outcome", fmt::format("allocate({}) refused with OutOfMemory carrying errno {}; the calling "
                                                 "fiber's last failed map gave errno {}",
                                                 requested, e.os_errno, map_errno));
    }
    const LargeObjectStats after = large_.stats();
    if (after.live_objects != live_before) {
      oracles_.fail("large-outcome", fmt::format("a refused allocate({}) changed live objects {} -> {}", requested,
                                                 live_before, after.live_objects));
    }
    if (strict_refusal && e.code == Errc::OutOfBudget && after.largest_free_bytes >= need) {
      oracles_.fail("large-outcome", fmt::format("allocate({}) refused over budget with a {}-byte free range",
                                                 requested, after.largest_free_bytes));
    }
    // A growth unmaps wholly free spans until the new span fits, so a refusal
    // over budget (no unmap failing: strict runs have no faults) keeps none.
    if (strict_refusal && e.code == Errc::OutOfBudget && after.wholly_free_spans > 0) {
      oracles_.fail("large-outcome", fmt::format("allocate({}) refused over budget keeping {} wholly free span(s) "
                                                 "mapped ({} B mapped of a {} B budget): a growth unmaps them first",
                                                 requested, after.wholly_free_spans, after.mapped_bytes,
                                                 config.budget_bytes));
    }
    return 0;
  }
  const LargeObject& object = result.value();
  if (!valid_size) oracles_.fail("large-outcome", fmt::format("allocate({}) succeeded; the model says InvalidSize", requested), object.data());
  if (object.size() != need || object.bytes().data() != object.data() || object.bytes().size() != need) {
    oracles_.fail("large-outcome", fmt::format("allocate({}) gave {} bytes, not {}", requested, object.size(), need), object.data());
  }
  if (object.generation() == 0) {
    oracles_.fail("large-outcome", fmt::format("allocate({}) gave generation 0, which marks a free range", requested),
                  object.data());
  }
  ++calls_.allocations;
  calls_.zeroed_allocations += zeroed ? 1 : 0;
  const std::uint64_t key = offset_of(object);
  overlap_insert(object);
  if (zeroed) check_zeroed(object);
  live_[key] = LargeModelEntry{object, requested, 0};
  return key;
}

void LargeObjectChecks::reclaim_asked(bool answered) {
  ++reclaims_in_call_;
  reclaim_answer_ = answered;
}

void LargeObjectChecks::check_reclaims(std::size_t requested, const Result<LargeObject>& result, bool valid_size,
                                       std::uint32_t reclaims) {
  const bool hooked = static_cast<bool>(large_.config().on_budget_exhausted);
  const bool refused_over_budget = !result.ok() && result.error().code == Errc::OutOfBudget;
  const std::string outcome = outcome_text(result);
  if (reclaims > (hooked && valid_size ? 1u : 0u)) {
    oracles_.fail("large-outcome", fmt::format("allocate({}) asked on_budget_exhausted {} times ({}); the model allows "
                                               "one ask, and only for a valid size when a hook is set",
                                               requested, reclaims, outcome));
  } else if (hooked && refused_over_budget && reclaims == 0) {
    oracles_.fail("large-outcome", fmt::format("allocate({}) refused over budget without asking on_budget_exhausted",
                                               requested));
  } else if (reclaims == 1 && !reclaim_answer_ && !refused_over_budget) {
    oracles_.fail("large-outcome", fmt::format("allocate({}) ended with '{}' after on_budget_exhausted answered that "
                                               "nothing was freed: without a retry the refusal over budget stands",
                                               requested, outcome));
  }
}

void LargeObjectChecks::released(std::uint64_t key, const Status& status) {
  auto it = live_.find(key);
  if (it == live_.end()) oracles_.fail("large-outcome", "the model has no such live object");
  if (!status.ok()) {
    oracles_.fail("large-outcome", "release of a live object refused: " + status.error().describe(),
                  it->second.handle.data());
  }
  ++calls_.releases;
  overlap_erase(it->second.handle);
  live_.erase(it);
}

void LargeObjectChecks::refused_release(const LargeObject& handle, const Status& status, Errc expected,
                                        std::size_t live_before) {
  if (status.ok()) {
    oracles_.fail("double-free", fmt::format("release of a {} handle succeeded; the model says {}",
                                             expected == Errc::DoubleFree ? "stale" : "foreign", errc_name(expected)),
                  handle.data());
  }
  if (status.error().code != expected) {
    oracles_.fail("large-outcome", fmt::format("release refused with '{}', the model says {}",
                                               status.error().describe(), errc_name(expected)));
  }
  // refusal-fields, as for segments (refusal_fields.cpp): a stale handle's
  // refusal names the generation it was refused under.
  if (expected == Errc::DoubleFree && status.error().generation != handle.generation()) {
    oracles_.fail("refusal-fields", fmt::format("the refused release of a stale large object of generation {} "
                                                "carries generation {}",
                                                handle.generation(), status.error().generation),
                  handle.data());
  }
  // And the generation live at the handle's place now (its span and offset;
  // 0 when none is, as error.h says of a free slice).
  if (expected == Errc::DoubleFree) {
    std::uint32_t live_now = 0;
    for (const auto& [offset, entry] : live_) {
      if (entry.handle.span_id() == handle.span_id() && entry.handle.offset() == handle.offset()) {
        live_now = entry.handle.generation();
      }
    }
    if (status.error().live_generation != live_now) {
      oracles_.fail("refusal-fields", fmt::format("the refused release of a stale large object of generation {} (span "
                                                  "{}, offset {}) names live generation {}; {}",
                                                  handle.generation(), handle.span_id(), handle.offset(),
                                                  status.error().live_generation,
                                                  live_now == 0 ? std::string("none is live there (0 was due)")
                                                                : fmt::format("generation {} is live there", live_now)),
                    handle.data());
    }
  }
  (expected == Errc::DoubleFree ? calls_.double_frees : calls_.invalid_pointers) += 1;
  const std::size_t live_after = large_.stats().live_objects;
  if (live_after != live_before) {
    oracles_.fail("large-outcome", fmt::format("a refused release changed live objects {} -> {}", live_before, live_after));
  }
}

}  // namespace segsim::scenarios
