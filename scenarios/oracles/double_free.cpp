// double free: the allocator refused no release, reset or lookup but those a
// workload made on purpose (stale, foreign and null handles, free slices).
// Any other refusal means the stack above the allocator (pages, pool, caches)
// released something twice. A release the allocator wrongly *accepts* is the
// ownership oracle's (ownership.cpp).
#include "scenarios/oracles/refusal_ledger.h"

#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void RefusalLedger::expect(Errc code) {
  if (code == Errc::DoubleFree) {
    ++expected_double_frees_;
  } else {
    ++expected_invalid_pointers_;
  }
}

void RefusalLedger::unexpect(Errc code) {
  std::uint64_t& expected = code == Errc::DoubleFree ? expected_double_frees_ : expected_invalid_pointers_;
  if (expected > 0) --expected;
}

// Deliberate bad calls are counted before they are made: more refusals than
// that is a double free somewhere in the stack.
std::string RefusalLedger::excess(const AllocatorStats& stats) const {
  if (stats.double_frees > expected_double_frees_) {
    return fmt::format("the allocator refused {} release(s) of a slice that was not live ({} made on purpose)",
                       stats.double_frees, expected_double_frees_);
  }
  if (stats.invalid_pointers > expected_invalid_pointers_) {
    return fmt::format("the allocator refused {} release(s) of a pointer that is no slice start ({} made on "
                       "purpose)",
                       stats.invalid_pointers, expected_invalid_pointers_);
  }
  return {};
}

void Oracles::expect_refusal(Errc code) { refusals_.expect(code); }

void Oracles::unexpect_refusal(Errc code) { refusals_.unexpect(code); }

void Oracles::check_refusal(const char* call, const Status& status, Errc expected, const std::byte* segment) {
  if (status.ok()) {
    fail("refusal", fmt::format("{} was accepted; the model says it must be refused with '{}'", call,
                                errc_name(expected)),
         segment);
  }
  if (status.error().code != expected) {
    fail("refusal", fmt::format("{} was refused with '{}'; the model says '{}' ({})", call,
                                errc_name(status.error().code), errc_name(expected), status.error().describe()),
         segment);
  }
}

void Oracles::check_double_free() {
  if (allocator_ == nullptr) return;
  const std::string verdict = refusals_.excess(allocator_->stats());
  if (!verdict.empty()) fail("double-free", verdict);
}

}  // namespace segsim::scenarios
