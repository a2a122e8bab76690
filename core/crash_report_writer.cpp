// Writing a crash report (docs/flight-recorder.md) with async-signal-safe work
// only: it runs inside a fatal-signal handler, where the heap, locks and
// stdio may be what just broke. Text is built in a stack buffer and written
// with write(2); numbers are formatted by hand; the file appears whole, by
// rename(2) of a temporary.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/flight_recorder_state.h"
#include "core/os.h"
#include "core/mutants.h"
#include "core/probe.h"
#include "core/size_class.h"

namespace segsim::flight_recorder::detail {

namespace {

// The decimal digits of `value`, most significant first and NUL-terminated;
// returns how many. By hand: no snprintf inside a signal handler.
int decimal_digits(std::uint64_t value, char (&text)[24]) {
  char reversed[24];
  int n = 0;
  do {
    reversed[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int i = 0; i < n; ++i) text[i] = reversed[n - 1 - i];
  text[n] = '\0';
  return n;
}

// interrupt_report_writes(): this write fails with EINTR, as a signal
// arriving before the write wrote anything would make it. Bounded like every
// loop here (a signal handler may run it): the claim is retried only while
// other writers take interruptions at the same moment.
bool interrupted_by_drill() noexcept {
  constexpr int kMaxClaimTries = 64;
  std::atomic<std::uint32_t>& left = state().writes_to_interrupt;
  std::uint32_t count = left.load(std::memory_order_relaxed);
  for (int tries = 0; tries < kMaxClaimTries && count > 0; ++tries) {
    if (left.compare_exchange_weak(count, count - 1, std::memory_order_relaxed)) {
      errno = EINTR;
      return true;
    }
  }
  return false;
}

class SafeWriter {
 public:
  explicit SafeWriter(int fd) : fd_(fd) {}
  ~SafeWriter() { flush(); }
  SafeWriter(const SafeWriter&) = delete;
  SafeWriter& operator=(const SafeWriter&) = delete;

  bool ok() const noexcept { return ok_; }
  SafeWriter& put(const char* text) {
    while (*text != '\0') put_char(*text++);
    return *this;
  }
  SafeWriter& put_u64(std::uint64_t value) {
    char text[24];
    decimal_digits(value, text);
    return put(text);
  }
  SafeWriter& put_i64(std::int64_t value) {
    if (value < 0) put_char('-');
    return put_u64(value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value));
  }
  SafeWriter& put_hex(std::uint64_t value) {
    put("\"0x");
    bool started = false;
    for (int shift = 60; shift >= 0; shift -= 4) {
      const unsigned digit = (value >> shift) & 0xf;
      started |= digit != 0 || shift == 0;
      if (started) put_char("0123456789abcdef"[digit]);
    }
    return put("\"");
  }
  // A JSON string; control characters become \u00XX. Measured first, then
  // walked by count (strlen is async-signal-safe): a mistake in the walk
  // writes a wrong string, which a reader can name, rather than run past the
  // text's end inside a signal handler.
  SafeWriter& put_string(const char* text) {
    put_char('"');
    const std::size_t length = text == nullptr ? 0 : std::strlen(text);
    for (std::size_t i = 0; i < length; ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c == '"' || c == '\\') {
        put_char('\\');
        put_char(static_cast<char>(c));
      } else if (c < 0x20) {
        put("\\u00");
        put_char("0123456789abcdef"[c >> 4]);
        put_char("0123456789abcdef"[c & 0xf]);
      } else {
        put_char(static_cast<char>(c));
      }
    }
    put_char('"');
    return *this;
  }
  // Bounded even if the loop stops advancing: each successful write moves a
  // byte at least, so more of them than bytes to write gives the report up as
  // incomplete rather than spinning inside a signal handler.
  void flush() {
    std::size_t done = 0;
    std::size_t writes = 0;  // that succeeded
    std::uint32_t interruptions = 0;  // in a row
    while (ok_ && done < len_) {
      const ssize_t n = interrupted_by_drill() ? -1 : ::write(fd_, buffer_ + done, len_ - done);
      if (n < 0 && errno == EINTR && ++interruptions <= kMaxWriteInterruptions) {
        SEGSIM_PROBE("recorder.report.write_interrupted");
        continue;
      }
      if (n <= 0 || ++writes > len_) {
        ok_ = false;
        break;
      }
      interruptions = 0;
      done += static_cast<std::size_t>(n);
      state().report_writes.fetch_add(1, std::memory_order_relaxed);
    }
    len_ = 0;
  }

 private:
  void put_char(char c) {
    if (len_ == sizeof buffer_) flush();
    buffer_[len_++] = c;
  }

  int fd_;
  bool ok_ = true;
  std::size_t len_ = 0;
  char buffer_[kReportBufferBytes];
};

const char* result_name(std::uint8_t result) {
  return result == 0 ? "ok" : errc_name(static_cast<Errc>(result - 1)).data();
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
  }
}

void put_event(SafeWriter& out, const Event& e) {
  out.put("{\"seq\": ").put_u64(e.sequence).put(", \"op\": \"").put(op_name(e.op)).put("\"");
  out.put(", \"depth\": ").put_u64(e.depth);
  if (is_object_op(e.op)) {  // the slab / arena / large-object layers: an instance and object ids
    out.put(", \"allocator\": ").put_u64(e.page).put(", \"ids\": [").put_u64(e.region).put(", ").put_u64(e.slice);
    out.put(", ").put_u64(e.generation).put(", ").put_u64(e.address).put("], \"bytes\": ").put_u64(e.bytes);
    out.put(", \"class\": ").put_i64(e.size_class).put(", \"result\": ").put_string(result_name(e.result)).put("}");
    return;
  }
  if (is_page_op(e.op)) {  // the page layer: no slice of its own
    out.put(", \"page\": ").put_u64(e.page).put(", \"slot\": ").put_u64(e.slice).put(", \"bytes\": ").put_u64(e.bytes);
    out.put(", \"result\": ").put_string(result_name(e.result)).put("}");
    return;
  }
  out.put(", \"allocator\": ").put_u64(e.page);
  out.put(", \"bytes\": ").put_u64(e.bytes).put(", \"class\": ").put_i64(e.size_class);
  out.put(", \"region\": ").put_u64(e.region).put(", \"slice\": ").put_u64(e.slice);
  out.put(", \"generation\": ").put_u64(e.generation).put(", \"result\": ").put_string(result_name(e.result));
  out.put(", \"address\": ").put_hex(e.address).put("}");
}

// Calls visit(ring, first, head) for every registered ring; it still holds
// the events numbered first..head-1 (older ones were overwritten).
template <typename Visit>
void for_each_ring(Visit&& visit) {
  State& s = state();
  const std::uint32_t count = s.ring_count.load(std::memory_order_acquire);
  for (std::uint32_t r = 0; r < count && r < kMaxThreads; ++r) {
    const Ring* ring = s.rings[r].load(std::memory_order_acquire);
    if (ring == nullptr) continue;
    const std::uint64_t head = ring_head(*ring);
    const std::uint64_t first = head > ring->mask + 1 ? head - ring->mask - 1 : 0;
    visit(*ring, first, head);
  }
}

// The latest recorded slice that holds `address`, if any.
bool slice_holding(std::uintptr_t address, Event* found) {
  bool any = false;
  for_each_ring([&](const Ring& ring, std::uint64_t first, std::uint64_t head) {
    for (std::uint64_t i = first; i < head; ++i) {
      const Event e = unpack_slot(ring, i);
      if (!is_allocator_op(e.op) || e.address == 0 || e.size_class < 0 || address < e.address ||
          address >= e.address + class_bytes(static_cast<std::size_t>(e.size_class))) {
        continue;
      }
      // Ties (version 4: one thread's events between two synchronisations)
      // keep ring order, which this loop follows: the later one wins.
      if (!any || e.sequence >= found->sequence) *found = e;
      any = true;
    }
  });
  return any;
}

// Version 3: the configs of the last slab and large-object allocators made.
void put_layer_configs(SafeWriter& out, const State& s) {
  if (SlabNote n; s.slab.load(n)) {
    out.put(", \"slab\": {\"allocator\": ").put_u64(n.allocator).put(", \"slab_bytes\": ").put_u64(n.slab_bytes);
    out.put(", \"magazine_capacity\": [");
    for (std::size_t c = 0; c < sizeof n.magazine_capacity / sizeof n.magazine_capacity[0]; ++c) {
      if (c > 0) out.put(", ");
      out.put_u64(n.magazine_capacity[c]);
    }
    out.put("], \"adaptive_magazines\": ").put(n.adaptive ? "true" : "false");
    out.put(", \"depot_full_magazines_max\": ").put_u64(n.depot_full_magazines_max);
    out.put(", \"empty_slabs_kept\": ").put_u64(n.empty_slabs_kept).put(", \"max_slabs\": ").put_u64(n.max_slabs);
    out.put("}");
  }
  if (LargeNote n; s.large.load(n)) {
    out.put(", \"large\": {\"allocator\": ").put_u64(n.allocator);
    out.put(", \"max_object_bytes\": ").put_u64(n.max_object_bytes).put(", \"granule_bytes\": ").put_u64(n.granule_bytes);
    out.put(", \"span_bytes\": ").put_u64(n.span_bytes).put(", \"budget_bytes\": ").put_u64(n.budget_bytes);
    out.put(", \"fit\": ").put_u64(n.fit).put(", \"decommit_after_ns\": ").put_i64(n.decommit_after_ns);
    out.put(", \"decommit_check_interval_ns\": ").put_i64(n.decommit_check_interval_ns).put("}");
  }
}

// The catalogued bug switched on (mutants builds): reproduce switches it on too.
void put_bug(SafeWriter& out) {
#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
  if (const char* bug = mutants::active_name(); bug != nullptr) out.put("  \"bug\": ").put_string(bug).put(",\n");
#else
  (void)out;
#endif
}

void put_failure(SafeWriter& out, const FailureInfo& f) {
  out.put("  \"failure\": {\"kind\": ").put_string(f.kind);
  if (std::strcmp(f.kind, "signal") == 0) {
    out.put(", \"signal\": ").put_i64(f.signal).put(", \"signal_name\": ").put_string(signal_name(f.signal));
    out.put(", \"fault_address\": ").put_hex(f.fault_address);
    Event slice;
    if (f.fault_address != 0 && slice_holding(f.fault_address, &slice)) {
      out.put(", \"fault_slice\": {\"region\": ").put_u64(slice.region).put(", \"slice\": ").put_u64(slice.slice);
      out.put(", \"generation\": ").put_u64(slice.generation).put(", \"offset\": ");
      out.put_u64(f.fault_address - slice.address).put("}");
    }
  }
  const AssertionInfo& a = last_assertion();
  if (const char* condition = a.condition.load(std::memory_order_acquire); condition != nullptr) {
    out.put(", \"assertion\": {\"condition\": ").put_string(condition).put(", \"message\": ").put_string(a.message);
    out.put(", \"file\": ").put_string(a.file).put(", \"line\": ").put_i64(a.line).put("}");
  }
  if (f.message != nullptr) out.put(", \"message\": ").put_string(f.message);
  if (std::strcmp(f.kind, "refused") == 0) {
    out.put(", \"errc\": ").put_string(result_name(f.refused.result)).put(", \"thread\": ").put_u64(f.refused_thread);
    out.put(", \"operation\": ");
    put_event(out, f.refused);
  }
  out.put("},\n");
}

void put_rings(SafeWriter& out) {
  out.put("  \"threads\": [");
  bool first_ring = true;
  for_each_ring([&](const Ring& ring, std::uint64_t first, std::uint64_t head) {
    out.put(first_ring ? "\n    {\"thread\": " : ",\n    {\"thread\": ").put_u64(ring.thread);
    first_ring = false;
    out.put(", \"recorded\": ").put_u64(head).put(", \"events\": [");
    bool first_event = true;
    for (std::uint64_t i = first; i < head; ++i) {
      const Event e = unpack_slot(ring, i);
      // The thread recorded on meanwhile and wrote event i + N over this
      // slot: the copy may be torn, and tied sequence numbers (version 4)
      // would not show it to a reader, so it goes. (A write of event i + N
      // still under way is not seen here; the reader's order check drops it
      // when its number differs.) The head is read after the slot.
      std::atomic_thread_fence(std::memory_order_acquire);
      if (ring_head(ring) > i + ring.mask + 1) continue;
      out.put(first_event ? "\n      " : ",\n      ");
      first_event = false;
      put_event(out, e);
    }
    out.put("]}");
  });
  out.put("\n  ]\n}\n");
}

// Appends `text` / `value` at out[*len], within `capacity` (false when full).
bool append(char* out, std::size_t capacity, std::size_t* len, const char* text) {
  for (; *text != '\0'; ++text) {
    if (*len + 1 >= capacity) return false;
    out[(*len)++] = *text;
  }
  out[*len] = '\0';
  return true;
}
bool append_u64(char* out, std::size_t capacity, std::size_t* len, std::uint64_t value) {
  char text[24];
  decimal_digits(value, text);
  return append(out, capacity, len, text);
}

// dir + "/segsim-crash-<pid>-<n>.json" (+ ".tmp"), formatted by hand (no snprintf in a handler).
bool report_path(char* out, std::size_t capacity, std::uint32_t n, bool temporary) {
  std::size_t len = 0;
  return append(out, capacity, &len, state().dir) && append(out, capacity, &len, "/segsim-crash-") &&
         append_u64(out, capacity, &len, static_cast<std::uint64_t>(::getpid())) &&
         append(out, capacity, &len, "-") && append_u64(out, capacity, &len, n) &&
         append(out, capacity, &len, temporary ? ".json.tmp" : ".json");
}

}  // namespace

bool write_crash_report(const FailureInfo& failure, char* path_out, std::size_t path_capacity) noexcept {
  State& s = state();
  const std::uint32_t n = s.reports.fetch_add(1);
  if (n >= kMaxReportsPerProcess) {
    SEGSIM_PROBE("recorder.report.cap_reached");
    return false;
  }
  char temporary[600];
  char final_path[600];
  if (!report_path(temporary, sizeof temporary, n, true) || !report_path(final_path, sizeof final_path, n, false)) {
    SEGSIM_PROBE("recorder.report.path_too_long");
    return false;
  }
  const int fd = ::open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    SEGSIM_PROBE("recorder.report.open_failed");
    return false;
  }
  bool ok = false;
  {
    SafeWriter out(fd);
    out.put("{\n  \"format\": \"segsim-crash\",\n  \"version\": ").put_i64(kFormatVersion).put(",\n");
    out.put("  \"build_id\": ").put_string(s.build_id).put(",\n  \"pid\": ").put_i64(::getpid()).put(",\n");
    put_bug(out);
    out.put("  \"stack\": {\"region_bytes\": ").put_u64(s.region_bytes.load(std::memory_order_relaxed));
    out.put(", \"budget_bytes\": ").put_u64(s.budget_bytes.load(std::memory_order_relaxed));
    out.put(", \"ring_events\": ").put_u64(s.ring_events);
    out.put(", \"threads_not_recorded\": ").put_u64(s.rings_refused.load(std::memory_order_relaxed));
    if (const std::size_t entries = s.cache_max_entries.load(std::memory_order_relaxed); entries != 0) {
      out.put(", \"page_cache\": {\"max_entries\": ").put_u64(entries);
      out.put(", \"max_bytes\": ").put_u64(s.cache_max_bytes.load(std::memory_order_relaxed)).put("}");
    }
    put_layer_configs(out, s);
    out.put("},\n");
    put_failure(out, failure);
    put_rings(out);
    out.flush();
    ok = out.ok();
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temporary, final_path) != 0) {
    SEGSIM_PROBE("recorder.report.write_failed");
    ::unlink(temporary);
    return false;
  }
  copy_text(path_out, path_capacity, final_path);
  return true;
}

void copy_text(char* out, std::size_t capacity, std::string_view text) noexcept {
  if (out == nullptr || capacity == 0) return;
  const std::size_t n = text.size() < capacity - 1 ? text.size() : capacity - 1;
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

}  // namespace segsim::flight_recorder::detail
