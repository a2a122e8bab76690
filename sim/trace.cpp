#include "sim/trace.h"

#include <fmt/format.h>


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
    : ring_(ring_events == 0 ? 1 : ring_events), ring_size_(ring_.size()), keep_full_(keep_full),
      keep_aside_(keep_full) {}

void Trace::record_aside(const TraceEvent& event) {
  if (keep_full_) full_.push_back(event);
  if (follow_remaining_ > 0) {
    --follow_remaining_;
    followed_.push_back(event);
  }
  keep_aside_ = keep_full_ || follow_remaining_ > 0;
}

void Trace::follow(std::size_t n) {
  followed_.clear();
  followed_.reserve(n);
  follow_remaining_ = n;
  keep_aside_ = keep_full_ || follow_remaining_ > 0;
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
