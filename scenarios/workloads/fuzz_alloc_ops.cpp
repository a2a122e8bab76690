// fuzz-alloc-ops — a fuzz_alloc_ops artifact's operations under the simulator
// (issue 13: `segsim reproduce crash-<sha1>`). The artifact is decoded the way
// the fuzz target decodes it (scenarios/alloc_ops_input.h) and one client runs
// its steps on the allocator, configured as the target configures it (256 KiB
// regions, a 32-region budget, the config byte's madvise resets and proactive
// cleanup), keeping the target's live and stale handle lists so that every
// index byte picks the same handle. The oracles judge every step; a refusal
// of a stale handle is expected (and checked). InjectFailure steps are not
// simulated — the simulated OS fails by fault plans only — and are skipped:
// a failure that needs one does not recur here.
#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

#include "scenarios/alloc_ops_input.h"
#include "scenarios/stack.h"

namespace segsim::scenarios {

namespace {

using fuzzing::AllocOp;
using fuzzing::AllocOpStep;

constexpr std::size_t kRegionBytes = 256 * 1024;
constexpr std::size_t kBudgetRegions = 32;
constexpr std::size_t kMaxLive = 48;
constexpr std::size_t kMaxStale = 8;
constexpr std::size_t kWriteBytes = 4096;  // of each write: enough to be seen by the zero and canary checks

struct Handles {
  std::vector<Segment> live;  // allocation order; erasing keeps the others' order
  std::deque<Segment> stale;  // the last kMaxStale released
};

fuzzing::AllocOpsInput decoded(const Stack& stack) {
  const std::string& bytes = stack.fuzz_artifact->bytes;
  return fuzzing::decode_alloc_ops(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

void release_live(Stack& stack, Handles& h, std::uint8_t index, bool reset) {
  if (h.live.empty()) return;
  const std::size_t i = index % h.live.size();
  const Segment segment = h.live[i];
  const Status status = reset ? stack.allocator.reset(segment) : stack.allocator.release(segment);
  if (!status.ok()) {
    stack.oracles.fail("double-free", std::string(reset ? "reset" : "release") + " of a live segment refused: " +
                                          status.error().describe(),
                       segment.data());
  }
  if (reset) return;
  h.live.erase(h.live.begin() + static_cast<std::ptrdiff_t>(i));
  h.stale.push_back(segment);
  if (h.stale.size() > kMaxStale) h.stale.pop_front();
}

void release_stale(Stack& stack, Handles& h, std::uint8_t index, bool reset) {
  if (h.stale.empty()) return;
  const Segment segment = h.stale[index % h.stale.size()];
  stack.oracles.expect_refusal(Errc::DoubleFree);
  const Status status = reset ? stack.allocator.reset(segment) : stack.allocator.release(segment);
  stack.oracles.check_refusal(reset ? "reset of a stale handle" : "release of a stale handle", status,
                              Errc::DoubleFree, segment.data());
}

void step(Stack& stack, Handles& h, const AllocOpStep& s) {
  switch (s.op) {
    case AllocOp::Allocate:
    case AllocOp::AllocateUninitialized: {
      if (h.live.size() >= kMaxLive) return;
      const std::size_t bytes = fuzzing::alloc_op_request_bytes(s.a, s.b);
      auto got = s.op == AllocOp::Allocate ? stack.allocator.allocate(bytes)
                                           : stack.allocator.allocate_uninitialized(bytes);
      if (got.ok()) h.live.push_back(got.value());
      return;
    }
    case AllocOp::Release:
    case AllocOp::Reset:
      release_live(stack, h, s.a, s.op == AllocOp::Reset);
      return;
    case AllocOp::ReleaseStale:
    case AllocOp::ResetStale:
      release_stale(stack, h, s.a, s.op == AllocOp::ResetStale);
      return;
    case AllocOp::Write: {
      if (h.live.empty()) return;
      const Segment& segment = h.live[s.a % h.live.size()];
      std::memset(segment.data(), s.b, std::min(kWriteBytes, segment.size()));
      return;
    }
    case AllocOp::ReleaseUnused:
      (void)stack.allocator.release_unused_regions(s.a % static_cast<int>(kSizeClassCount));
      return;
    case AllocOp::FreeUnused:
      (void)stack.allocator.free_unused_regions((s.a % (kBudgetRegions + 1)) * kRegionBytes);
      return;
    case AllocOp::InjectFailure:
      return;  // not simulated (see the top of this file)
  }
}

void client(Stack& stack, std::uint32_t index) {
  if (index != 0) return;
  auto handles = std::make_shared<Handles>();
  stack.scenario_state = handles;
  for (const AllocOpStep& s : decoded(stack).steps) {
    step(stack, *handles, s);
    stack.allocator.wait_for_cleanups();  // as the target does after every step
    stack.oracles.check_cheap();
  }
}

void finish(Stack& stack) {
  if (!stack.scenario_state) return;
  for (const Segment& segment : static_cast<Handles*>(stack.scenario_state.get())->live) {
    if (stack.oracles.model_live(segment)) (void)stack.allocator.release(segment);
  }
}

}  // namespace

ScenarioDef fuzz_alloc_ops_scenario() {
  ScenarioDef def;
  def.info = {"fuzz-alloc-ops",
              "a fuzz_alloc_ops artifact's operations on one client (made by segsim reproduce crash-<sha1>; not "
              "run by name)",
              1, 1};
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig&, std::uint32_t, std::uint32_t) {};
  def.configure_from_spec = [](SegmentAllocatorConfig& config, PageCacheConfig&, const RunSpec& spec) {
    const std::string& bytes = spec.fuzz_artifact->bytes;
    const fuzzing::AllocOpsInput input =
        fuzzing::decode_alloc_ops(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    config.region_bytes = kRegionBytes;
    config.budget_bytes = kBudgetRegions * kRegionBytes;
    config.reset_madvise_min_bytes = input.madvise_resets() ? 64 * 1024 : SIZE_MAX;
    config.proactive_cleanup = input.proactive_cleanup();
    config.cleanup_start_free_slices = 4;
    config.cleanup_every_free_slices = 2;
  };
  def.client = client;
  def.finish = finish;
  def.needs = ScenarioDef::Needs::FuzzArtifact;
  return def;
}

std::string_view scenario_for_fuzz_target(std::string_view target) {
  return target == "alloc_ops" ? "fuzz-alloc-ops" : "";
}

}  // namespace segsim::scenarios
