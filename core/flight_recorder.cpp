// The flight recorder's switch, its reports on demand and its test hooks
// (flight_recorder.h); its rings are in flight_recorder_rings.cpp, its fatal
// signals' handler in flight_recorder_signals.cpp.
#include "core/flight_recorder.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "core/flight_recorder_state.h"
#include "core/probe.h"
#include "core/platform/sync_clock.h"

namespace segsim::flight_recorder {

namespace detail {

std::atomic<std::uint32_t> g_live{0};

State& state() noexcept {
  static State instance;
  return instance;
}

AssertionInfo& last_assertion() noexcept {
  static AssertionInfo instance;
  return instance;
}

}  // namespace detail

namespace {

using detail::copy_text;
using detail::state;

constexpr std::size_t kMinRingEvents = 16;
constexpr std::size_t kMaxRingEvents = 65536;

// SEGSIM_FLIGHT_RECORDER=DIR turns the recorder on when the process starts.
[[maybe_unused]] const bool g_from_environment =
    enable_from_environment(std::getenv("SEGSIM_FLIGHT_RECORDER"), std::getenv("SEGSIM_BUILD_ID"), STDERR_FILENO);

}  // namespace

const char* op_name(Op op) noexcept {
  switch (op) {
    case Op::Allocate: return "allocate";
    case Op::AllocateUninitialized: return "allocate_uninitialized";
    case Op::Release: return "release";
    case Op::Reset: return "reset";
    case Op::PoolBorrow: return "pool_borrow";
    case Op::PoolGiveBack: return "pool_give_back";
    case Op::PageSetSlot: return "page_set_slot";
    case Op::PageSetDeweyId: return "page_set_dewey_id";
    case Op::PageReturn: return "page_return";
    case Op::PageClear: return "page_clear";
    case Op::PageReset: return "page_reset";
    case Op::CachePut: return "cache_put";
    case Op::CacheGet: return "cache_get";
    case Op::CacheUnpin: return "cache_unpin";
    case Op::CacheErase: return "cache_erase";
    case Op::CacheClear: return "cache_clear";
    case Op::CacheShrink: return "cache_shrink";
    case Op::SlabAllocate: return "slab_allocate";
    case Op::SlabFree: return "slab_free";
    case Op::SlabFlush: return "slab_flush";
    case Op::ArenaBegin: return "arena_begin";
    case Op::ArenaBeginChild: return "arena_begin_child";
    case Op::ArenaAllocate: return "arena_allocate";
    case Op::ArenaCommit: return "arena_commit";
    case Op::ArenaRollback: return "arena_rollback";
    case Op::LargeAllocate: return "large_allocate";
    case Op::LargeAllocateUninitialized: return "large_allocate_uninitialized";
    case Op::LargeRelease: return "large_release";
    case Op::LargeDecommitIdle: return "large_decommit_idle";
    case Op::LargeUnmapFreeSpans: return "large_unmap_free_spans";
  }
  return "unknown";
}

bool enable(const Config& config, std::string* error_line) {
  auto refuse = [&](std::string line) {
    SEGSIM_PROBE("recorder.enable.refused");
    if (error_line != nullptr) *error_line = std::move(line);
    return false;
  };
  if (config.dir.empty() || config.dir.size() >= sizeof state().dir - 1) return refuse("recorder directory: empty or too long");
  if (::access(config.dir.c_str(), W_OK | X_OK) != 0) {
    return refuse("recorder directory '" + config.dir + "' is not a writable directory: " + std::strerror(errno));
  }
  if (config.ring_events < kMinRingEvents || config.ring_events > kMaxRingEvents) {
    return refuse("ring_events must be in 16..65536");
  }
  std::size_t events = kMinRingEvents;
  while (events < config.ring_events) events <<= 1;
  detail::g_live.store(0, std::memory_order_release);
  detail::State& s = state();
  copy_text(s.dir, sizeof s.dir, config.dir);
  copy_text(s.build_id, sizeof s.build_id, config.build_id);
  s.ring_events = events;
  s.report_refusals = config.report_refusals;
  s.ring_count.store(0, std::memory_order_release);
  s.next_thread.store(0, std::memory_order_relaxed);
  detail::watch_thread_exits();
  s.rings_refused.store(0, std::memory_order_relaxed);
  s.rings_held.store(0, std::memory_order_relaxed);
  s.slab.clear();
  s.large.clear();
  detail::retire_rings(s);
  const std::uint32_t epoch = s.epoch.fetch_add(1, std::memory_order_acq_rel) + 1;  // never 0 (off)
  detail::g_epoch.store(epoch, std::memory_order_release);
  if (config.catch_signals) detail::install_fatal_handlers();
  platform::sync_clock::g_on.store(true, std::memory_order_release);
  detail::g_live.store(epoch, std::memory_order_release);
  return true;
}

bool enable_from_environment(const char* dir, const char* build_id, int line_fd) {
  if (dir == nullptr || dir[0] == '\0') return false;
  Config config;
  config.dir = dir;
  if (build_id != nullptr) config.build_id = build_id;
  std::string why;
  if (enable(config, &why)) return true;
  const std::string line = "segsim: flight recorder off: " + why + "\n";
  (void)!::write(line_fd, line.data(), line.size());
  return false;
}

void disable() {
  detail::g_live.store(0, std::memory_order_release);
  platform::sync_clock::g_on.store(false, std::memory_order_release);
  detail::remove_fatal_handlers();
}

std::string write_report(const char* reason) {
  if (!on()) return {};
  detail::FailureInfo failure;
  failure.kind = reason;
  char path[600];
  return detail::write_crash_report(failure, path, sizeof path) ? std::string(path) : std::string();
}

std::string write_final_report(const char* reason, const std::string& message) {
  if (detail::g_live.exchange(0, std::memory_order_acq_rel) == 0) return {};
  char text[kMaxMessageBytes + 1];
  copy_text(text, sizeof text, message);
  detail::FailureInfo failure;
  failure.kind = reason;
  failure.message = text;
  char path[600];
  return detail::write_crash_report(failure, path, sizeof path) ? std::string(path) : std::string();
}

RefusalsExpected::RefusalsExpected() noexcept { state().refusals_expected.fetch_add(1, std::memory_order_acq_rel); }
RefusalsExpected::~RefusalsExpected() { state().refusals_expected.fetch_sub(1, std::memory_order_acq_rel); }

std::size_t reports_written() noexcept {
  return std::min<std::size_t>(state().reports.load(std::memory_order_relaxed), kMaxReportsPerProcess);
}

void interrupt_report_writes(std::uint32_t count) noexcept {
  state().writes_to_interrupt.store(count, std::memory_order_relaxed);
}
bool reset_report_count() noexcept {
  if (on()) return false;
  state().reports.store(0, std::memory_order_relaxed);
  // A fatal report ends its process, unless the handler returned (a raised
  // signal: the harness's test of the handler, workloads/recorder_crash.cpp):
  // the next run in this process reports its own first fatal signal.
  detail::reset_fatal_report();
  return true;
}

std::uint64_t report_writes() noexcept { return state().report_writes.load(std::memory_order_relaxed); }

}  // namespace segsim::flight_recorder
