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

  void record(const TraceEvent& event);
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
  std::vector<TraceEvent> ring_;
  std::size_t next_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t hash_ = 0x5e65e65e65e65e6ULL;
  bool keep_full_;
  std::vector<TraceEvent> full_;
  std::size_t follow_remaining_ = 0;
  std::vector<TraceEvent> followed_;
};

}  // namespace segsim::sim
