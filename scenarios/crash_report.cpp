#include "scenarios/crash_report.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/size_class.h"
#include "core/slab_object.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios {

namespace {

using nlohmann::json;

constexpr Errc kAllErrcs[] = {Errc::InvalidSize,    Errc::OutOfBudget,   Errc::OutOfMemory,   Errc::DoubleFree,
                              Errc::InvalidPointer, Errc::OsFailure,     Errc::InvalidConfig, Errc::InvalidPageFile,
                              Errc::SlotOutOfRange, Errc::ValueTooLarge, Errc::PageFull,      Errc::PageReturned,
                              Errc::InUse};

template <class T>
bool unsigned_field(const json& object, const char* name, T& out, std::uint64_t max) {
  if (!object.contains(name) || !object[name].is_number_unsigned()) return false;
  const auto value = object[name].get<std::uint64_t>();
  if (value > max) return false;
  out = static_cast<T>(value);
  return true;
}

bool string_field(const json& object, const char* name, std::string& out) {
  if (!object.contains(name) || !object[name].is_string()) return false;
  out = object[name].get<std::string>();
  return true;
}

// A "0x…" text of 1 to 16 lowercase hex digits, with no leading zero but
// for 0 itself ("0x0"): exactly the form the writer's put_hex writes, so a
// writer that pads or cuts digits is caught by the first reader.
bool hex_field(const json& object, const char* name, std::uint64_t& out) {
  if (!object[name].is_string()) return false;
  const std::string& text = object[name].get_ref<const std::string&>();
  if (text.size() < 3 || text.size() > 18 || text.compare(0, 2, "0x") != 0) return false;
  if (text[2] == '0' && text.size() > 3) return false;
  const auto lowercase_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  if (!std::all_of(text.begin() + 2, text.end(), lowercase_hex)) return false;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data() + 2, end, out, 16);
  return error == std::errc{} && stop == end;
}

// Where a number outside the strings starts with "-0" (a "-0", or a
// fraction or exponent of it): JSON allows it, but the writer's put_i64 writes
// 0 as "0" and no fraction at all, so the first reader catches a writer that
// signs zero. npos when there is none.
std::size_t minus_zero_at(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '0') {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string parse_result(const json& e, CrashEvent& out);

// One event; "" when valid, else what is wrong with it.
std::string parse_event(const json& e, CrashEvent& out) {
  if (!e.is_object()) return "an event is not an object";
  std::string op;
  if (!unsigned_field(e, "seq", out.sequence, UINT64_MAX) || out.sequence == 0) return "an event's \"seq\"";
  if (!string_field(e, "op", op)) return "an event's \"op\"";
  bool known = false;
  for (unsigned i = 0; i <= static_cast<unsigned>(flight_recorder::kLastOp); ++i) {
    const auto candidate = static_cast<flight_recorder::Op>(i);
    if (op == flight_recorder::op_name(candidate)) {
      out.op = candidate;
      known = true;
    }
  }
  if (!known) return fmt::format("unknown operation '{}'", op.substr(0, 40));
  if (!unsigned_field(e, "bytes", out.bytes, UINT64_MAX)) return "an event's \"bytes\"";
  // Version 2: the nesting depth (absent in version 1: every event was the program's call).
  if (e.contains("depth") && !unsigned_field(e, "depth", out.depth, 255)) return "an event's \"depth\"";
  if (flight_recorder::is_object_op(out.op)) {  // version 3
    if (!unsigned_field(e, "allocator", out.allocator, UINT32_MAX)) return "an object-layer event's \"allocator\"";
    if (!e.contains("ids") || !e["ids"].is_array() || e["ids"].size() != 4) {
      return "an object-layer event's \"ids\" (four numbers)";
    }
    const json& ids = e["ids"];
    for (const json& id : ids) {
      if (!id.is_number_unsigned()) return "an object-layer event's \"ids\" (four numbers)";
    }
    if (ids[0].get<std::uint64_t>() > UINT32_MAX || ids[1].get<std::uint64_t>() > UINT32_MAX ||
        ids[2].get<std::uint64_t>() > UINT32_MAX) {
      return "an object-layer event's \"ids\" (the first three are 32-bit)";
    }
    out.region = static_cast<std::uint32_t>(ids[0].get<std::uint64_t>());
    out.slice = static_cast<std::uint32_t>(ids[1].get<std::uint64_t>());
    out.generation = static_cast<std::uint32_t>(ids[2].get<std::uint64_t>());
    out.object = ids[3].get<std::uint64_t>();
    if (!e.contains("class") || !e["class"].is_number_integer()) return "an event's \"class\"";
    // What the recorder writes: a slab object's class (its allocation or
    // free; -1 refused), -1 for every other object-layer operation.
    const auto object_class = e["class"].get<std::int64_t>();
    const std::int64_t class_limit = flight_recorder::has_slab_class(out.op) ? std::int64_t{kSlabClassCount} : 0;
    if (object_class < -1 || object_class >= class_limit) return "an object-layer event's \"class\"";
    out.size_class = static_cast<int>(object_class);
    return parse_result(e, out);
  }
  if (flight_recorder::is_page_op(out.op)) {
    if (!unsigned_field(e, "page", out.page, UINT64_MAX) || !unsigned_field(e, "slot", out.slot, UINT32_MAX)) {
      return "a page-layer event's \"page\" or \"slot\"";
    }
    return parse_result(e, out);
  }
  if (e.contains("allocator") && !unsigned_field(e, "allocator", out.allocator, UINT32_MAX)) {
    return "an event's \"allocator\"";
  }
  if (!e.contains("class") || !e["class"].is_number_integer()) return "an event's \"class\"";
  const auto size_class = e["class"].get<std::int64_t>();
  if (size_class < -1 || size_class >= static_cast<std::int64_t>(kSizeClassCount)) return "an event's \"class\"";
  out.size_class = static_cast<int>(size_class);
  if (!unsigned_field(e, "region", out.region, UINT32_MAX) || !unsigned_field(e, "slice", out.slice, UINT32_MAX) ||
      !unsigned_field(e, "generation", out.generation, UINT32_MAX)) {
    return "an event's \"region\", \"slice\" or \"generation\"";
  }
  if (e.contains("address") && !hex_field(e, "address", out.address.value)) return "an event's \"address\"";
  return parse_result(e, out);
}

std::string parse_result(const json& e, CrashEvent& out) {
  std::string result;
  if (!string_field(e, "result", result)) return "an event's \"result\"";
  if (result == "ok") return "";
  for (Errc code : kAllErrcs) {
    if (result == errc_name(code)) {
      out.error = code;
      return "";
    }
  }
  return fmt::format("unknown result '{}'", result.substr(0, 40));
}

std::string parse_refused(const json& f, CrashReport& report) {
  CrashEvent refused;
  if (!f.contains("operation")) return "a refused failure needs its \"operation\"";
  if (std::string why = parse_event(f["operation"], refused); !why.empty()) return "failure: " + why;
  if (!refused.error) return "a refused failure's operation has result \"ok\"";
  if (!flight_recorder::is_allocator_op(refused.op)) return "a refused failure's operation is not a release or reset";
  if (!unsigned_field(f, "thread", report.refused_thread, UINT32_MAX)) return "failure: \"thread\"";
  report.text = fmt::format("{} of region #{} slice {} (generation {}) refused: {}",
                            flight_recorder::op_name(refused.op), refused.region, refused.slice, refused.generation,
                            errc_name(*refused.error));
  report.refused = refused;
  return "";
}

std::string parse_signal(const json& f, CrashReport& report) {
  if (!f.contains("signal") || !f["signal"].is_number_integer() || !string_field(f, "signal_name", report.signal_name)) {
    return "a signal failure needs \"signal\" and \"signal_name\"";
  }
  const auto signal = f["signal"].get<std::int64_t>();
  if (signal <= 0 || signal > 64) return "failure: \"signal\" is no signal number";
  report.signal = static_cast<int>(signal);
  report.text = "signal " + report.signal_name;
  if (f.contains("fault_address") && !hex_field(f, "fault_address", report.fault_address)) {
    return "failure: \"fault_address\" is no \"0x…\" address";
  }
  if (!f.contains("fault_slice")) return "";
  const json& s = f["fault_slice"];
  CrashFaultSlice slice;
  if (!s.is_object() || !unsigned_field(s, "region", slice.region, UINT32_MAX) ||
      !unsigned_field(s, "slice", slice.slice, UINT32_MAX) ||
      !unsigned_field(s, "generation", slice.generation, UINT32_MAX) ||
      !unsigned_field(s, "offset", slice.offset, UINT64_MAX)) {
    return "failure: \"fault_slice\" needs region, slice, generation and offset";
  }
  report.fault_slice = slice;
  report.text += fmt::format(" at offset {} of region #{} slice {} (generation {})", slice.offset, slice.region,
                             slice.slice, slice.generation);
  return "";
}

std::string parse_assertion(const json& a, CrashReport& report) {
  CrashAssertion assertion;
  if (!a.is_object() || !string_field(a, "condition", assertion.condition) ||
      !string_field(a, "message", assertion.message) || !string_field(a, "file", assertion.file) ||
      !unsigned_field(a, "line", assertion.line, UINT32_MAX)) {
    return "failure: \"assertion\" needs condition, message, file and line";
  }
  // A failed SEGSIM_ASSERT always has all three (an empty one was written
  // for no assertion at all).
  if (assertion.condition.empty() || assertion.file.empty() || assertion.line == 0) {
    return "failure: \"assertion\" with an empty condition or file, or line 0";
  }
  report.assertion = std::move(assertion);
  return "";
}

std::string parse_failure(const json& f, CrashReport& report) {
  if (!f.is_object() || !string_field(f, "kind", report.kind)) return "\"failure\" needs a \"kind\"";
  if (f.contains("message") && !string_field(f, "message", report.message)) return "failure: mistyped \"message\"";
  report.text = report.message.empty() ? report.kind : report.kind + ": " + one_line(report.message, 300);
  std::string why;
  if (report.kind == "refused") why = parse_refused(f, report);
  if (report.kind == "signal") why = parse_signal(f, report);
  if (why.empty() && f.contains("assertion")) why = parse_assertion(f["assertion"], report);
  if (!why.empty()) return why;
  if (report.kind == "assertion") {
    if (!report.assertion) return "an assertion failure needs its \"assertion\"";
    report.text = fmt::format("assertion {} ({})", report.assertion->condition, report.assertion->message);
  }
  return "";
}

std::string parse_threads(const json& threads, CrashReport& report, std::int64_t version) {
  if (!threads.is_array()) return "\"threads\" is not a list";
  std::size_t total = 0;
  for (const json& t : threads) {
    CrashThread thread;
    if (!t.is_object() || !unsigned_field(t, "thread", thread.thread, UINT32_MAX) ||
        !unsigned_field(t, "recorded", thread.recorded, UINT64_MAX) || !t.contains("events") ||
        !t["events"].is_array()) {
      return "a thread needs \"thread\", \"recorded\" and \"events\"";
    }
    std::uint64_t previous = 0;
    std::size_t overwritten = 0;  // leading events newer than the rest
    for (const json& e : t["events"]) {
      if (++total > kMaxCrashEvents) return fmt::format("more than {} events", kMaxCrashEvents);
      CrashEvent event;
      if (std::string why = parse_event(e, event); !why.empty()) return why;
      if (version < 3 && flight_recorder::is_object_op(event.op)) {
        return fmt::format("operation '{}' in a version {} report (it came with version 3)",
                           flight_recorder::op_name(event.op), version);
      }
      // Per thread increasing, strictly before version 4 (whose compact
      // events do not step the clock: a thread's events between two of its
      // synchronisations tie, in their ring order); threads may tie
      // (concurrent operations).
      if (event.sequence == previous && version < 4) return "a thread's events are not in sequence order";
      // A ring copied while its thread kept recording: its oldest slots may
      // already hold newer events. Those (everything before the descent) go.
      if (event.sequence < previous) overwritten = thread.events.size();
      previous = event.sequence;
      thread.events.push_back(event);
    }
    thread.events.erase(thread.events.begin(), thread.events.begin() + static_cast<std::ptrdiff_t>(overwritten));
    report.threads.push_back(std::move(thread));
  }
  return "";
}

// Version 3: "slab" and "large", the last such allocator's config.
std::string parse_layer_configs(const json& stack, CrashReport& report) {
  if (stack.contains("slab")) {
    const json& j = stack["slab"];
    CrashSlabConfig c;
    if (!j.is_object() || !unsigned_field(j, "allocator", c.allocator, UINT32_MAX) ||
        !unsigned_field(j, "slab_bytes", c.slab_bytes, std::uint64_t{1} << 30) ||
        !unsigned_field(j, "depot_full_magazines_max", c.depot_full_magazines_max, UINT32_MAX) ||
        !unsigned_field(j, "empty_slabs_kept", c.empty_slabs_kept, UINT32_MAX) ||
        !unsigned_field(j, "max_slabs", c.max_slabs, std::uint64_t{1} << 24) || !j.contains("adaptive_magazines") ||
        !j["adaptive_magazines"].is_boolean() || !j.contains("magazine_capacity") ||
        !j["magazine_capacity"].is_array() || j["magazine_capacity"].size() != kSlabClassCount) {
      return "\"slab\" needs allocator, slab_bytes, magazine_capacity (9), adaptive_magazines, "
             "depot_full_magazines_max, empty_slabs_kept and max_slabs";
    }
    c.adaptive_magazines = j["adaptive_magazines"].get<bool>();
    for (const json& m : j["magazine_capacity"]) {
      if (!m.is_number_unsigned() || m.get<std::uint64_t>() > 65536) return "\"slab\": a magazine_capacity";
      c.magazine_capacity.push_back(m.get<std::uint64_t>());
    }
    report.slab = std::move(c);
  }
  if (stack.contains("large")) {
    const json& j = stack["large"];
    CrashLargeConfig c;
    auto signed_field = [&](const char* name, std::int64_t& out) {
      if (!j.contains(name) || !j[name].is_number_integer()) return false;
      out = j[name].get<std::int64_t>();
      return true;
    };
    if (!j.is_object() || !unsigned_field(j, "allocator", c.allocator, UINT32_MAX) ||
        !unsigned_field(j, "max_object_bytes", c.max_object_bytes, UINT64_MAX) ||
        !unsigned_field(j, "granule_bytes", c.granule_bytes, UINT64_MAX) ||
        !unsigned_field(j, "span_bytes", c.span_bytes, UINT64_MAX) ||
        !unsigned_field(j, "budget_bytes", c.budget_bytes, UINT64_MAX) || !unsigned_field(j, "fit", c.fit, 8) ||
        !signed_field("decommit_after_ns", c.decommit_after_ns) ||
        !signed_field("decommit_check_interval_ns", c.decommit_check_interval_ns)) {
      return "\"large\" needs allocator, max_object_bytes, granule_bytes, span_bytes, budget_bytes, fit, "
             "decommit_after_ns and decommit_check_interval_ns";
    }
    report.large = c;
  }
  return "";
}

Result<CrashReport> parse(const std::string& text, std::string* error_line) {
  auto refuse = [&](const std::string& line) -> Result<CrashReport> {
    if (error_line != nullptr) *error_line = "bad crash report: " + line;
    return make_error(Errc::InvalidConfig, "bad crash report");
  };
  if (text.empty()) return refuse("empty");
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return refuse("not valid JSON (truncated?)");
  if (const std::size_t at = minus_zero_at(text); at != std::string_view::npos) {
    return refuse(fmt::format("the number at byte {} is a signed zero, not the writer's form", at));
  }
  if (!doc.is_object()) return refuse("not a JSON object");
  if (!doc.contains("format") || doc["format"] != "segsim-crash") return refuse("\"format\" is not \"segsim-crash\"");
  if (!doc.contains("version") || !doc["version"].is_number_integer()) return refuse("missing \"version\"");
  const auto version = doc["version"].get<std::int64_t>();
  if (version < 1 || version > flight_recorder::kFormatVersion) {
    return refuse(fmt::format("version {} is not supported (this build reads versions 1 to {})",
                              doc["version"].dump(), flight_recorder::kFormatVersion));
  }
  CrashReport report;
  report.version = version;
  if (!string_field(doc, "build_id", report.build_id)) return refuse("missing or mistyped \"build_id\"");
  if (doc.contains("bug") && !string_field(doc, "bug", report.bug)) return refuse("mistyped \"bug\"");
  if (!doc.contains("stack") || !doc["stack"].is_object() ||
      !unsigned_field(doc["stack"], "region_bytes", report.region_bytes, UINT64_MAX) ||
      !unsigned_field(doc["stack"], "budget_bytes", report.budget_bytes, UINT64_MAX)) {
    return refuse("\"stack\" needs region_bytes and budget_bytes");
  }
  if (doc["stack"].contains("threads_not_recorded") &&
      !unsigned_field(doc["stack"], "threads_not_recorded", report.threads_not_recorded, UINT64_MAX)) {
    return refuse("mistyped \"stack\": \"threads_not_recorded\"");
  }
  if (doc["stack"].contains("page_cache")) {
    const json& cache = doc["stack"]["page_cache"];
    if (!cache.is_object() || !unsigned_field(cache, "max_entries", report.cache_max_entries, UINT32_MAX) ||
        !unsigned_field(cache, "max_bytes", report.cache_max_bytes, UINT64_MAX) || report.cache_max_entries == 0) {
      return refuse("\"stack\": \"page_cache\" needs max_entries (1 or more) and max_bytes");
    }
  }
  if (std::string why = parse_layer_configs(doc["stack"], report); !why.empty()) return refuse("\"stack\": " + why);
  if (!doc.contains("failure")) return refuse("missing \"failure\"");
  if (std::string why = parse_failure(doc["failure"], report); !why.empty()) return refuse(why);
  if (!doc.contains("threads")) return refuse("missing \"threads\"");
  if (std::string why = parse_threads(doc["threads"], report, version); !why.empty()) return refuse(why);
  return report;
}

}  // namespace

Result<CrashReport> crash_report_from_json(const std::string& text, std::string* error_line) {
  try {
    return parse(text, error_line);
  } catch (const json::exception& e) {  // the net under the typed access
    if (error_line != nullptr) *error_line = "bad crash report: " + one_line(e.what(), 200);
    return make_error(Errc::InvalidConfig, "bad crash report");
  }
}

Result<CrashReport> read_crash_report(const std::string& path, std::string* error_line) {
  auto text = read_text_file(path, kMaxCrashReportBytes, "crash report", error_line);
  if (!text.ok()) return text.error();
  return crash_report_from_json(text.value(), error_line);
}

namespace {

json event_to_json(const CrashEvent& e) {
  if (flight_recorder::is_object_op(e.op)) {
    return {{"seq", e.sequence},
            {"op", flight_recorder::op_name(e.op)},
            {"depth", e.depth},
            {"allocator", e.allocator},
            {"ids", {e.region, e.slice, e.generation, e.object}},
            {"bytes", e.bytes},
            {"class", e.size_class},
            {"result", e.error ? errc_name(*e.error) : "ok"}};
  }
  if (flight_recorder::is_page_op(e.op)) {
    return {{"seq", e.sequence}, {"op", flight_recorder::op_name(e.op)}, {"depth", e.depth}, {"page", e.page},
            {"slot", e.slot},    {"bytes", e.bytes},                      {"result", e.error ? errc_name(*e.error) : "ok"}};
  }
  return {{"seq", e.sequence},
          {"depth", e.depth},
          {"allocator", e.allocator},
          {"op", flight_recorder::op_name(e.op)},
          {"bytes", e.bytes},
          {"class", e.size_class},
          {"region", e.region},
          {"slice", e.slice},
          {"generation", e.generation},
          {"result", e.error ? errc_name(*e.error) : "ok"}};
}

json failure_to_json(const CrashReport& report) {
  json failure = {{"kind", report.kind}};
  if (!report.message.empty()) failure["message"] = report.message;
  if (report.refused) {
    failure["errc"] = errc_name(*report.refused->error);
    failure["thread"] = report.refused_thread;
    failure["operation"] = event_to_json(*report.refused);
  }
  if (report.kind == "signal") {
    failure["signal"] = report.signal;
    failure["signal_name"] = report.signal_name;
  }
  if (const auto& s = report.fault_slice) {
    failure["fault_slice"] = {
        {"region", s->region}, {"slice", s->slice}, {"generation", s->generation}, {"offset", s->offset}};
  }
  if (const auto& a = report.assertion) {
    failure["assertion"] = {{"condition", a->condition}, {"message", a->message}, {"file", a->file}, {"line", a->line}};
  }
  return failure;
}

}  // namespace

std::string crash_report_to_json(const CrashReport& report) {
  json threads = json::array();
  for (const CrashThread& t : report.threads) {
    json events = json::array();
    for (const CrashEvent& e : t.events) events.push_back(event_to_json(e));
    threads.push_back({{"thread", t.thread}, {"recorded", t.recorded}, {"events", std::move(events)}});
  }
  json doc = {{"format", "segsim-crash"},
              {"version", flight_recorder::kFormatVersion},
              {"build_id", report.build_id},
              {"stack",
               {{"region_bytes", report.region_bytes},
                {"budget_bytes", report.budget_bytes},
                {"threads_not_recorded", report.threads_not_recorded}}},
              {"failure", failure_to_json(report)},
              {"threads", std::move(threads)}};
  if (!report.bug.empty()) doc["bug"] = report.bug;
  if (report.cache_max_entries != 0) {
    doc["stack"]["page_cache"] = {{"max_entries", report.cache_max_entries}, {"max_bytes", report.cache_max_bytes}};
  }
  if (const auto& c = report.slab) {
    doc["stack"]["slab"] = {{"allocator", c->allocator},
                            {"slab_bytes", c->slab_bytes},
                            {"magazine_capacity", c->magazine_capacity},
                            {"adaptive_magazines", c->adaptive_magazines},
                            {"depot_full_magazines_max", c->depot_full_magazines_max},
                            {"empty_slabs_kept", c->empty_slabs_kept},
                            {"max_slabs", c->max_slabs}};
  }
  if (const auto& c = report.large) {
    doc["stack"]["large"] = {{"allocator", c->allocator},
                             {"max_object_bytes", c->max_object_bytes},
                             {"granule_bytes", c->granule_bytes},
                             {"span_bytes", c->span_bytes},
                             {"budget_bytes", c->budget_bytes},
                             {"fit", c->fit},
                             {"decommit_after_ns", c->decommit_after_ns},
                             {"decommit_check_interval_ns", c->decommit_check_interval_ns}};
  }
  return doc.dump();
}

bool looks_like_crash_report(const std::string& text) {
  return text.find("\"segsim-crash\"") != std::string::npos;
}

}  // namespace segsim::scenarios
