// The native-thread episode's segment calls, each checked as it returns:
// see native_thread_episode.h.
#include <algorithm>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/flight_recorder.h"
#include "core/size_class.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/forged_handles.h"
#include "scenarios/workloads/native_thread_episode.h"

namespace segsim::scenarios {

void NativeEpisode::allocate_segment(std::size_t bytes, bool zeroed, const char* phase) {
  Result<Segment> got = zeroed ? segments->allocate(bytes) : segments->allocate_uninitialized(bytes);
  if (class_of(bytes) < 0) {
    if (got.ok() || got.error().code != Errc::InvalidSize) {
      fail(fmt::format("{}: allocate({}) gave {}; InvalidSize was due", phase, bytes,
                       outcome_text(got, "a segment")));
      if (got.ok()) (void)segments->release(got.value());
    }
    return;
  }
  if (!got.ok()) {
    fail(fmt::format("{}: allocate({}) refused under a 32 MiB budget on a fault-free Os: {}", phase, bytes,
                     got.error().describe()));
    return;
  }
  const Segment segment = got.value();
  if (segment.size() != class_bytes(static_cast<std::size_t>(class_of(bytes)))) {
    fail(fmt::format("{}: allocate({}) gave {} bytes", phase, bytes, segment.size()));
  }
  if (segment.bytes().data() != segment.data() || segment.bytes().size() != segment.size()) {
    fail(fmt::format("{}: a segment's bytes() is not its data() and size()", phase));
  }
  if (zeroed) check_bytes(segment.data(), segment.size(), 0, "a zeroed allocation");
  segments_live.push_back({segment, take_new_block(segment.data(), segment.size(), bytes, "segment", phase)});
}

void NativeEpisode::release_segment(std::size_t index, const char* phase) {
  const NativeHeldSegment held = segments_live[index];
  segments_live.erase(segments_live.begin() + static_cast<std::ptrdiff_t>(index));
  check_bytes(held.segment.data(), held.segment.size(), held.fill, "a live segment");
  if (Status released = segments->release(held.segment); !released.ok()) {
    fail(fmt::format("{}: release of a live segment refused: {}", phase, released.error().describe()));
    return;
  }
  // Refusals: a second release and a reset of the freed handle are
  // DoubleFree, reach no observer hook but the default refused(), and
  // change nothing.
  const std::uint64_t handed = observer->handed, releases = observer->releases;
  const AllocatorStats before = segments->stats();
  Status again, reset;
  {
    // Refused on purpose: the flight recorder (on in alloc-api's half of
    // the seeds) must write no report for them.
    const std::size_t reports = flight_recorder::reports_written();
    flight_recorder::RefusalsExpected expected;
    again = segments->release(held.segment);
    reset = segments->reset(held.segment);
    if (flight_recorder::reports_written() != reports) {
      fail(fmt::format("{}: the flight recorder wrote a report of a refusal made under RefusalsExpected", phase));
    }
  }
  if (again.ok() || again.error().code != Errc::DoubleFree || reset.ok() || reset.error().code != Errc::DoubleFree) {
    fail(fmt::format("{}: release / reset of a released segment answered {} / {}; DoubleFree was due", phase,
                     outcome_text(again, "ok"), outcome_text(reset, "ok")));
  }
  if (observer->handed != handed || observer->releases != releases) {
    fail(fmt::format("{}: a refused release reached the observer's hand-out / release hooks", phase));
  }
  const AllocatorStats after = segments->stats();
  if (after.live_slices() != before.live_slices() || after.free_slices() != before.free_slices()) {
    fail(fmt::format("{}: a refused release changed the live / free slices", phase));
  }
}

void NativeEpisode::reset_segment(NativeHeldSegment& held, const char* phase) {
  if (Status reset = segments->reset(held.segment); !reset.ok()) {
    fail(fmt::format("{}: reset of a live segment refused: {}", phase, reset.error().describe()));
    return;
  }
  check_bytes(held.segment.data(), held.segment.size(), 0, "a reset segment");
  held.fill = fill();
  std::fill(held.segment.data(), held.segment.data() + held.segment.size(), std::byte{held.fill});
}

void NativeEpisode::lookup_segment(const NativeHeldSegment& held, const char* phase) {
  Result<Segment> found = segments->lookup(held.segment.data());
  if (!found.ok() || !(found.value() == held.segment)) {
    fail(fmt::format("{}: lookup of a live segment answered {}", phase,
                     outcome_text(found, "another handle")));
  }
}

void NativeEpisode::forged_releases(const Segment& live, const char* phase) {
  const AllocatorStats before = segments->stats();
  for (std::size_t f = 0; f < kForgeryCount; ++f) {
    const std::optional<Segment> forged = forge(live, static_cast<Forgery>(f), segments->config().region_bytes);
    if (!forged) continue;
    Status got;
    {
      flight_recorder::RefusalsExpected expected;  // refused on purpose: no report
      got = segments->release(*forged);
    }
    const Errc due = refusal_of(static_cast<Forgery>(f));
    if (got.ok() || got.error().code != due) {
      fail(fmt::format("{}: release of {} answered {}; {} was due", phase, forgery_name(static_cast<Forgery>(f)),
                       outcome_text(got, "ok"), errc_name(due)));
    }
  }
  const AllocatorStats after = segments->stats();
  if (after.live_slices() != before.live_slices() || after.free_slices() != before.free_slices()) {
    fail(fmt::format("{}: refused releases of forged handles changed the live / free slices", phase));
  }
}

void NativeEpisode::reclaim_elsewhere() {
  std::thread([this] { (void)segments->free_unused_regions(0); }).join();
}

void NativeEpisode::reclaim_while_cached(const char* phase) {
  const std::size_t c = 0;  // the smallest class: every cache's grant holds its slices
  for (int i = 0; i < 2; ++i) {
    allocate_segment(class_bytes(c), false, phase);
    release_segment(segments_live.size() - 1, phase);
  }
  for (int call = 0; call < 2; ++call) {
    const AllocatorStats before = segments->stats();
    reclaim_elsewhere();
    const AllocatorStats reclaimed = segments->stats();
    if (reclaimed.classes[c].cached_slices != before.classes[c].cached_slices ||
        reclaimed.cache_flushes != before.cache_flushes) {
      fail(fmt::format("{}: a reclaim on another thread changed this thread's cache ({} cached slices of {} B "
                       "before, {} after; {} flushes before, {} after)", phase, before.classes[c].cached_slices,
                       class_bytes(c), reclaimed.classes[c].cached_slices, before.cache_flushes,
                       reclaimed.cache_flushes));
    }
    const std::size_t live = segments_live.size();
    if (call == 0) {
      allocate_segment(class_bytes(c), true, phase);
    } else if (!segments_live.empty()) {
      release_segment(segments_live.size() - 1, phase);
    }
    const bool made = call == 0 ? segments_live.size() > live : segments_live.size() < live;
    const std::uint64_t flushes = segments->stats().cache_flushes;
    if (faults_lifted && made && before.classes[c].cached_slices > 0 && flushes != reclaimed.cache_flushes + 1) {
      fail(fmt::format("{}: this thread's {} after another thread's reclaim flushed its cache {} times ({} slices "
                       "of {} B cached); once was due", phase, call == 0 ? "allocation" : "release",
                       flushes - reclaimed.cache_flushes, before.classes[c].cached_slices, class_bytes(c)));
    }
    // Once flushed, the cache has seen the reclaim: the next calls keep caching.
    const std::size_t live_now = segments_live.size();
    allocate_segment(class_bytes(c), false, phase);
    if (segments_live.size() > live_now) release_segment(segments_live.size() - 1, phase);
    const AllocatorStats settled = segments->stats();
    if (faults_lifted && made && settled.cache_flushes != flushes) {
      fail(fmt::format("{}: this thread's cache flushed again ({} more) on the calls after the one that saw "
                       "another thread's reclaim", phase, settled.cache_flushes - flushes));
    }
  }
}

}  // namespace segsim::scenarios
