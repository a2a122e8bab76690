// The flight recorder's refusal reports on fresh threads: see
// recorder_fresh_thread_refusals.h.
#include "scenarios/workloads/recorder_fresh_thread_refusals.h"

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "core/flight_recorder.h"
#include "core/segment_allocator.h"
#include "core/size_class.h"
#include "scenarios/crash_report.h"
#include "scenarios/workloads/episode_instance.h"

namespace segsim::scenarios {

namespace {

// One release or reset of a released handle, refused on a fresh real thread:
// `ringless`, its ring allocation fails (and it makes the handle itself, and
// makes the refusal once before under RefusalsExpected, which reports none);
// else the handle is made and released by another thread first, so the
// refusal is the one event the refusing thread's ring holds.
void refused_on_a_fresh_thread(Stack& stack, const RecorderCheck& check, sim::Rng& rng, bool ringless) {
  const char* const what = ringless ? "a thread without a ring" : "a thread whose first recorded call it is";
  flight_recorder::Config config = check.config;
  config.report_refusals = true;
  enable_recorder_or_fail(stack, config);
  const std::size_t before = flight_recorder::reports_written();
  auto os = make_episode_os(stack, rng, std::size_t{8} << 20, "recorder-ringless");
  SegmentAllocatorConfig allocator_config;
  allocator_config.region_bytes = std::size_t{1} << 20;
  allocator_config.budget_bytes = std::size_t{4} << 20;
  allocator_config.proactive_cleanup = false;  // no worker thread outlives the drill
  auto allocator = make_episode_allocator(stack, *os, allocator_config, "recorder-ringless");
  const bool by_reset = rng.chance(0.5);
  const std::size_t bytes = 1 + rng.below(kLargestClassBytes);
  Segment handle;
  std::string problem;
  std::optional<Errc> refused;
  const auto make_and_release = [&] {
    Result<Segment> got = allocator->allocate(bytes);
    if (!got.ok()) {
      problem = fmt::format("allocate({}) refused: {}", bytes, got.error().describe());
      return false;
    }
    handle = got.value();
    if (const Status first = allocator->release(handle); !first.ok()) {
      problem = "the release of a live segment refused: " + first.error().describe();
      return false;
    }
    return true;
  };
  const auto refuse = [&] {
    const Status second = by_reset ? allocator->reset(handle) : allocator->release(handle);
    if (second.ok()) {
      problem = fmt::format("a {} of a released segment was accepted", by_reset ? "reset" : "release");
    } else {
      refused = second.error().code;
    }
  };
  if (ringless) {
    flight_recorder::fail_ring_allocations(1);
    std::thread([&] {
      if (!make_and_release()) return;
      {
        const flight_recorder::RefusalsExpected on_purpose;  // the same refusal, said to be on purpose: no report
        refuse();
      }
      refuse();
    }).join();
    flight_recorder::fail_ring_allocations(0);
  } else {
    bool made = false;
    std::thread([&] { made = make_and_release(); }).join();
    if (made) std::thread(refuse).join();
  }
  allocator.reset();
  const std::size_t after = flight_recorder::reports_written();
  flight_recorder::disable();
  if (!problem.empty()) recorder_fail(stack, fmt::format("{}: {}", what, problem));
  if (refused != Errc::DoubleFree) {
    recorder_fail(stack, fmt::format("{}: a second {} answered {}; DoubleFree was due", what,
                                     by_reset ? "reset" : "release", errc_name(*refused)));
  }
  if (after != before + 1) {
    recorder_fail(stack, fmt::format("a refusal on {} wrote {} report(s); one was due{}", what, after - before,
                                     ringless ? " (the same refusal before it, under RefusalsExpected, writes none)"
                                              : ""));
  }
  const CrashReport report = read_recorder_report(stack, recorder_report_path(check, before));
  const auto op = by_reset ? flight_recorder::Op::Reset : flight_recorder::Op::Release;
  // Ringless: the call, made up from the handle, by no thread. Else: by its
  // thread, and among that thread's recorded events (its only one).
  const bool named = ringless ? names_refused_call(report, handle, op, Errc::DoubleFree) &&
                                    report.refused_thread == UINT32_MAX
                              : names_refusal(report, handle, op, Errc::DoubleFree) &&
                                    report.refused_thread != UINT32_MAX;
  if (!named) {
    recorder_fail(stack, fmt::format("the report of a {} refused on {} (region {} slice {} generation {}, DoubleFree) "
                                     "names {} by thread {}; {} was due",
                                     flight_recorder::op_name(op), what, handle.region_id(), handle.slice_index(),
                                     handle.generation(), describe_refusal(report, handle), report.refused_thread,
                                     ringless ? "the call by no thread (4294967295)"
                                              : "the call by its thread, among that thread's recorded events"));
  }
}

}  // namespace

void refused_on_fresh_threads(Stack& stack, const RecorderCheck& check, sim::Rng& rng) {
  refused_on_a_fresh_thread(stack, check, rng, /*ringless=*/true);
  refused_on_a_fresh_thread(stack, check, rng, /*ringless=*/false);
}

}  // namespace segsim::scenarios
