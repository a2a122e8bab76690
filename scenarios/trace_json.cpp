#include "scenarios/trace_json.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/fault_point.h"
#include "core/os.h"
#include "faults/fault_injector.h"
#include "faults/fault_plan.h"

namespace segsim::scenarios {

namespace {

// A trace file over ~1 GB does not load in Perfetto's UI anyway; past this
// many events the file says it was truncated instead.
constexpr std::size_t kMaxTraceEvents = 5'000'000;
constexpr std::uint32_t kSchedulerTid = 0;

// JSON string literal, quotes included; invalid UTF-8 is replaced, not fatal.
std::string json_string(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::uint64_t tid_of(std::uint32_t fiber) {
  return fiber == sim::kNoFiber ? kSchedulerTid : std::uint64_t{fiber} + 1;
}

// Timestamps are microseconds in this format: exact fixed-point from ns,
// never an exponent, so every viewer parses it.
std::string micros(std::int64_t time_ns) {
  SEGSIM_ASSERT(time_ns >= 0, "virtual time starts at zero and only grows");
  return fmt::format("{}.{:03}", time_ns / 1000, time_ns % 1000);
}

// What an injected fault was, decoded from its annotation detail.
std::string fault_args(std::uint64_t category, std::uint64_t value) {
  switch (category) {
    case faults::kTraceOsFault: {
      const auto call = static_cast<std::size_t>(value >> 16);
      const int errno_value = static_cast<int>(value & 0xffff);
      const std::string_view call_name =
          call < kOsCallCount ? os_call_name(static_cast<OsCall>(call)) : std::string_view("?");
      return fmt::format("\"kind\":\"os-call\",\"call\":{},\"errno\":{}", json_string(call_name),
                         json_string(faults::errno_name(errno_value)));
    }
    case faults::kTracePointFired: {
      const std::string_view site =
          value < fault_points::kFaultPoints.size() ? fault_points::kFaultPoints[value].name : "?";
      return fmt::format("\"kind\":\"fault-point\",\"site\":{}", json_string(site));
    }
    case faults::kTraceAsyncDelay:
      return fmt::format("\"kind\":\"async-delay\",\"yields\":{}", value);
    default:
      return fmt::format("\"kind\":\"unknown\",\"category\":{},\"value\":{}", category, value);
  }
}

bool is_fault(const sim::TraceEvent& event) {
  if (event.op != sim::TraceOp::Annotation) return false;
  const std::uint64_t category = event.detail >> 32;
  return category == faults::kTraceOsFault || category == faults::kTracePointFired ||
         category == faults::kTraceAsyncDelay;
}

// The trace-event array, written one event at a time.
class EventWriter {
 public:
  fmt::memory_buffer out;
  std::back_insert_iterator<fmt::memory_buffer> it = std::back_inserter(out);

  // Before each event: the separator from the one before.
  void begin_event() {
    fmt::format_to(it, "{}\n    ", first_ ? "" : ",");
    first_ = false;
  }

 private:
  bool first_ = true;
};

// Every fiber gets a named track, also one that recorded no event.
void write_tracks(EventWriter& w, const RunReport& report, std::size_t kept) {
  const std::vector<sim::TraceEvent>& trace = report.full_trace;
  std::set<std::uint32_t> fibers;
  for (std::uint32_t f = 0; f < report.fibers; ++f) fibers.insert(f);
  for (std::size_t i = 0; i < kept; ++i) {
    if (trace[i].fiber != sim::kNoFiber) fibers.insert(trace[i].fiber);
  }
  auto& it = w.it;
  w.begin_event();
  fmt::format_to(it, "{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{{\"name\":{}}}}}",
                 json_string(fmt::format("segsim {} seed {}", report.spec.scenario, report.spec.seed)));
  w.begin_event();
  fmt::format_to(it, "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":\"scheduler\"}}}}",
                 kSchedulerTid);
  w.begin_event();
  fmt::format_to(it, "{{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"sort_index\":0}}}}",
                 kSchedulerTid);
  for (std::uint32_t fiber : fibers) {
    w.begin_event();
    fmt::format_to(it, "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":\"fiber #{}\"}}}}",
                   tid_of(fiber), fiber);
    w.begin_event();
    fmt::format_to(it, "{{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"sort_index\":{}}}}}",
                   tid_of(fiber), tid_of(fiber));
  }
}

void write_events(EventWriter& w, const std::vector<sim::TraceEvent>& trace, std::size_t kept) {
  auto& it = w.it;
  for (std::size_t i = 0; i < kept; ++i) {
    const sim::TraceEvent& event = trace[i];
    w.begin_event();
    if (is_fault(event)) {
      // Global scope: a fault is drawn across every track, where it hits.
      fmt::format_to(it,
                     "{{\"name\":\"fault\",\"cat\":\"fault\",\"ph\":\"i\",\"s\":\"g\",\"pid\":1,\"tid\":{},"
                     "\"ts\":{},\"args\":{{\"step\":{},\"object\":{},\"detail\":{},{}}}}}",
                     tid_of(event.fiber), micros(event.time_ns), event.step, event.object, event.detail,
                     fault_args(event.detail >> 32, event.detail & 0xffffffffULL));
      continue;
    }
    // Instants, not 1-unit slices: many events share a virtual instant, and
    // equal slices on one track would be drawn as a nesting staircase.
    fmt::format_to(it,
                   "{{\"name\":{},\"cat\":\"sim\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":{},\"ts\":{},"
                   "\"args\":{{\"step\":{},\"object\":{},\"detail\":{}}}}}",
                   json_string(sim::trace_op_name(event.op)), tid_of(event.fiber), micros(event.time_ns),
                   event.step, event.object, event.detail);
  }
  if (kept < trace.size()) {
    w.begin_event();
    fmt::format_to(it,
                   "{{\"name\":\"trace truncated\",\"ph\":\"i\",\"s\":\"g\",\"pid\":1,\"tid\":0,\"ts\":{},"
                   "\"args\":{{\"events_kept\":{},\"events_recorded\":{}}}}}",
                   micros(trace[kept - 1].time_ns), kept, trace.size());
  }
}

void write_counters(EventWriter& w, const std::vector<MemorySample>& memory) {
  for (const MemorySample& sample : memory) {
    w.begin_event();
    fmt::format_to(w.it, "{{\"name\":\"virtual_bytes\",\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":{},\"args\":{{\"bytes\":{}}}}}",
                   micros(sample.time_ns), sample.virtual_bytes);
    w.begin_event();
    fmt::format_to(w.it, "{{\"name\":\"resident_bytes\",\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":{},\"args\":{{\"bytes\":{}}}}}",
                   micros(sample.time_ns), sample.resident_bytes);
  }
}

}  // namespace

std::string chrome_trace_json(const RunReport& report) {
  const std::size_t kept = std::min(report.full_trace.size(), kMaxTraceEvents);
  EventWriter w;
  auto& it = w.it;
  fmt::format_to(it, "{{\n  \"traceEvents\": [");
  write_tracks(w, report, kept);
  write_events(w, report.full_trace, kept);
  write_counters(w, report.memory);
  fmt::format_to(it, "\n  ],\n  \"displayTimeUnit\": \"ns\",\n  \"otherData\": {{");
  fmt::format_to(it,
                 "\"scenario\":{},\"seed\":{},\"strategy\":{},\"faults\":{},\"trace_hash\":\"{:#018x}\","
                 "\"steps\":{},\"passed\":{},\"build_id\":{}",
                 json_string(report.spec.scenario), json_string(std::to_string(report.spec.seed)),
                 json_string(sim::strategy_name(report.spec.strategy)), json_string(report.concrete_faults),
                 report.trace_hash, report.steps, report.passed ? "true" : "false", json_string(build_id()));
  if (report.failure) {
    fmt::format_to(it, ",\"failure\":{}", json_string(report.failure->signature()));
  }
  fmt::format_to(it, "}}\n}}\n");
  return fmt::to_string(w.out);
}

}  // namespace segsim::scenarios
