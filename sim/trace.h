// The simulation trace: every scheduling decision and synchronisation event,
// folded into a 64-bit hash that is identical across processes, machines and
// ASLR (objects are named by stable ids, never addresses). The last events are
// kept in a ring for failure reports; the full trace is kept on request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/random.h"

namespace segsim::sim {

enum class TraceOp : std::uint8_t {
  Start,
  Finish,
  MutexLock,
  MutexTryLock,
  MutexUnlock,
  CondWait,
  CondWaitFor,
  CondNotifyOne,
  CondNotifyAll,
  AtomicLoad,
  AtomicStore,
  AtomicExchange,
  AtomicCompareExchange,
  AtomicFetchAdd,
  AtomicFetchSub,
  Spawn,
  Sleep,
  ClockRead,
  Yield,
  Block,
  Wake,
  Annotation,  // an event a layer above reports (fault injected, segment allocated, ...)
};
std::string_view trace_op_name(TraceOp op) noexcept;

inline constexpr std::uint32_t kNoFiber = UINT32_MAX;

struct TraceEvent {
  std::uint64_t step = 0;
  std::uint32_t fiber = kNoFiber;
  TraceOp op = TraceOp::Start;
  std::uint32_t object = 0;  // stable object id, 0 if none
  std::int64_t time_ns = 0;  // virtual time
  std::uint64_t detail = 0;  // op-specific (annotation code, spawned fiber id, ...)

  std::string describe() const;
};

class Trace {
 public:
  explicit Trace(std::size_t ring_events, bool keep_full);

  // Inline: every scheduling point records one event, and the call, the
  // event's copy into an argument and the rarely-taken tails (full trace,
  // followed events) were a third of a point's instructions. The fields come
  // by value and are stored one by one into the ring's slot: an event built
  // in a temporary and then copied was written as narrow stores and read
  // back as 16-byte loads, a failed store-to-load forward that stalled every
  // point (most of a simulated allocator op's time, perf annotate).
  void record(std::uint64_t step, std::uint32_t fiber, TraceOp op, std::uint32_t object,
              std::int64_t time_ns, std::uint64_t detail) {
    TraceEvent& slot = ring_[next_];
    slot.step = step;
    slot.fiber = fiber;
    slot.op = op;
    slot.object = object;
    slot.time_ns = time_ns;
    slot.detail = detail;
    const std::size_t recorded = next_;
    if (++next_ == ring_size_) next_ = 0;  // not a modulo: a division per event is a tenth of a point
    ++count_;
    hash_ = fold(hash_, step, fiber, op, object, time_ns, detail);
    if (keep_aside_) [[unlikely]] record_aside(ring_[recorded]);
  }
  std::uint64_t hash() const noexcept { return hash_; }
  std::uint64_t events() const noexcept { return count_; }
  // The last min(n, ring size) events, oldest first.
  std::vector<TraceEvent> last(std::size_t n) const;
  const std::vector<TraceEvent>& full() const noexcept { return full_; }
  // Copies the next `n` events aside (the events after a failing step, for
  // its report); a later call restarts the count. Not part of the hash.
  void follow(std::size_t n);
  const std::vector<TraceEvent>& followed() const noexcept { return followed_; }

 private:
  // Fold every field that identifies the event. Fields are spread by odd
  // multipliers into one word, then one splitmix64 round mixes it into the
  // hash: one round per event keeps a scheduling point cheap.
  static std::uint64_t fold(std::uint64_t hash, std::uint64_t step, std::uint32_t fiber, TraceOp op,
                            std::uint32_t object, std::int64_t time_ns, std::uint64_t detail) noexcept {
    const std::uint64_t word =
        step * 0x9e3779b97f4a7c15ULL ^
        ((static_cast<std::uint64_t>(fiber) << 8 | static_cast<std::uint64_t>(op)) * 0xc2b2ae3d27d4eb4fULL) ^
        (static_cast<std::uint64_t>(object) * 0x165667b19e3779f9ULL) ^
        (static_cast<std::uint64_t>(time_ns) * 0xd6e8feb86659fd93ULL) ^ (detail * 0xff51afd7ed558ccdULL);
    std::uint64_t state = hash ^ word;
    return splitmix64(state);
  }
  // The full trace and the followed events: out of line, rarely on.
  void record_aside(const TraceEvent& event);

  std::vector<TraceEvent> ring_;
  std::size_t ring_size_;  // ring_.size(), kept: one load fewer per event
  std::size_t next_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t hash_ = 0x5e65e65e65e65e6ULL;
  bool keep_full_;
  bool keep_aside_;  // keep_full_ or follow_remaining_ > 0
  std::vector<TraceEvent> full_;
  std::size_t follow_remaining_ = 0;
  std::vector<TraceEvent> followed_;
};

}  // namespace segsim::sim
