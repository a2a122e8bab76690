#include "sim/trace.h"

#include <fmt/format.h>

#include "sim/random.h"

namespace segsim::sim {

std::string_view trace_op_name(TraceOp op) noexcept {
  switch (op) {
    case TraceOp::Start: return "start";
    case TraceOp::Finish: return "finish";
    case TraceOp::MutexLock: return "mutex.lock";
    case TraceOp::MutexTryLock: return "mutex.try_lock";
    case TraceOp::MutexUnlock: return "mutex.unlock";
    case TraceOp::CondWait: return "condvar.wait";
    case TraceOp::CondWaitFor: return "condvar.wait_for";
    case TraceOp::CondNotifyOne: return "condvar.notify_one";
    case TraceOp::CondNotifyAll: return "condvar.notify_all";
    case TraceOp::AtomicLoad: return "atomic.load";
    case TraceOp::AtomicStore: return "atomic.store";
    case TraceOp::AtomicExchange: return "atomic.exchange";
    case TraceOp::AtomicCompareExchange: return "atomic.compare_exchange";
    case TraceOp::AtomicFetchAdd: return "atomic.fetch_add";
    case TraceOp::AtomicFetchSub: return "atomic.fetch_sub";
    case TraceOp::Spawn: return "spawn";
    case TraceOp::Sleep: return "sleep";
    case TraceOp::ClockRead: return "clock.read";
    case TraceOp::Yield: return "yield";
    case TraceOp::Block: return "block";
    case TraceOp::Wake: return "wake";
    case TraceOp::Annotation: return "annotation";
  }
  return "unknown";
}

std::string TraceEvent::describe() const {
  std::string fiber_text = fiber == kNoFiber ? std::string("scheduler") : fmt::format("fiber #{}", fiber);
  std::string text = fmt::format("step {} t={}ns {} {}", step, time_ns, fiber_text, trace_op_name(op));
  if (object != 0) text += fmt::format(" object #{}", object);
  if (detail != 0) text += fmt::format(" ({})", detail);
  return text;
}

Trace::Trace(std::size_t ring_events, bool keep_full)
    : ring_(ring_events == 0 ? 1 : ring_events), keep_full_(keep_full) {}

void Trace::record(const TraceEvent& event) {
  ring_[next_] = event;
  if (++next_ == ring_.size()) next_ = 0;  // not a modulo: a division per event is a tenth of a point
  ++count_;
  // Fold every field that identifies the event. Fields are spread by odd
  // multipliers into one word, then one splitmix64 round mixes it into the
  // hash: one round per event keeps a scheduling point cheap.
  const std::uint64_t word =
      event.step * 0x9e3779b97f4a7c15ULL ^
      ((static_cast<std::uint64_t>(event.fiber) << 8 | static_cast<std::uint64_t>(event.op)) *
       0xc2b2ae3d27d4eb4fULL) ^
      (static_cast<std::uint64_t>(event.object) * 0x165667b19e3779f9ULL) ^
      (static_cast<std::uint64_t>(event.time_ns) * 0xd6e8feb86659fd93ULL) ^
      (event.detail * 0xff51afd7ed558ccdULL);
  std::uint64_t state = hash_ ^ word;
  hash_ = splitmix64(state);
  if (keep_full_) full_.push_back(event);
  if (follow_remaining_ > 0) {
    --follow_remaining_;
    followed_.push_back(event);
  }
}

void Trace::follow(std::size_t n) {
  followed_.clear();
  followed_.reserve(n);
  follow_remaining_ = n;
}

std::vector<TraceEvent> Trace::last(std::size_t n) const {
  const std::size_t available = count_ < ring_.size() ? static_cast<std::size_t>(count_) : ring_.size();
  if (n > available) n = available;
  std::vector<TraceEvent> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(ring_[(next_ + ring_.size() - n + i) % ring_.size()]);
  }
  return out;
}

}  // namespace segsim::sim
