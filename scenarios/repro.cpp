#include "scenarios/repro.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scenarios/base64.h"
#include "scenarios/safe_file.h"
#include "scenarios/values.h"

namespace segsim::scenarios {

namespace {

using nlohmann::json;

// Repro files hold a run's decisions compactly (~0.4 byte each, base64'd):
// 256 MiB is far beyond the longest run the CLI accepts; a larger file is not
// one of ours. Version 1 files list decisions as a JSON array of numbers.
constexpr std::size_t kMaxReproBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxListedDecisions = 50'000'000;
constexpr const char* kDecisionsEncoding = "varint-deflate-base64";
constexpr int kOldestReadableVersion = 1;

std::string hex64(std::uint64_t value) { return fmt::format("{:#018x}", value); }

}  // namespace

namespace {

Repro repro_of(const RunReport& report, RunSpec spec, sim::DecisionLog decisions) {
  Repro repro;
  repro.spec = std::move(spec);
  repro.spec.faults = report.concrete_faults;  // never "swarm": the plan actually used
  repro.spec.decisions = std::move(decisions);
  repro.build_id = build_id();
  repro.expected_trace_hash = report.trace_hash;
  repro.failure = report.failure;
  if (repro.failure) repro.failure->bug = repro.spec.bug;  // what replay checks its "bug" field against
  return repro;
}

}  // namespace

Repro repro_from_report(const RunReport& report) { return repro_of(report, report.spec, report.decisions); }

Repro repro_from_report(RunReport&& report) {
  sim::DecisionLog decisions = std::move(report.decisions);
  RunSpec spec = std::move(report.spec);
  spec.decisions = {};
  return repro_of(report, std::move(spec), std::move(decisions));
}

std::string repro_to_json(const Repro& repro) {
  const RunSpec& spec = repro.spec;
  json doc = {
      {"format", "segsim-repro"},
      {"version", kReproVersion},
      {"scenario", spec.scenario},
      {"seed", spec.seed},
      {"strategy", spec.strategy},
      {"pct_depth", spec.pct_depth},
      {"pct_steps", spec.pct_steps},
      {"faults", spec.faults},
      {"knobs", {{"threads", spec.threads}, {"size", spec.size}, {"max_steps", spec.max_steps}}},
      {"test_hook", spec.test_hook},
      {"bug", spec.bug},
      {"build_id", repro.build_id},
      {"expected_trace_hash", hex64(repro.expected_trace_hash)},
      {"lenient_replay", spec.lenient_replay},
  };
  if (repro.failure) {
    json history = json::array();
    for (const SegmentEvent& e : repro.failure->segment_history) {
      history.push_back({{"what", e.what}, {"fiber", e.fiber}, {"step", e.step}, {"generation", e.generation}});
    }
    doc["failure"] = {{"oracle", repro.failure->oracle},     {"message", repro.failure->message},
                      {"signature", repro.failure->signature()}, {"bug", repro.failure->bug},
                      {"fiber", repro.failure->fiber},       {"step", repro.failure->step},
                      {"segment", repro.failure->segment},   {"segment_history", history}};
  }
  // The decisions go last and by hand: the long part, written without
  // another copy of it in a JSON tree.
  std::string copy;
  std::string_view encoded;
  if (spec.decisions.sealed()) {
    encoded = spec.decisions.sealed_bytes();
  } else {
    copy = spec.decisions.encoded();
    encoded = copy;
  }
  std::string text = doc.dump(2);
  SEGSIM_ASSERT(text.size() >= 2 && text.back() == '}', "a JSON object");
  text.pop_back();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  text += fmt::format(",\n  \"decisions\": {{\"encoding\": \"{}\", \"count\": {}, \"data\": \"", kDecisionsEncoding,
                      spec.decisions.size());
  text.reserve(text.size() + (encoded.size() + 2) / 3 * 4 + 8);
  base64_append(encoded, text);
  text += "\"}\n}\n";
  return text;
}

namespace {

// Version 1: a list of fiber ids. Version 2: the compact encoding.
// Takes the (long) data string out of `decisions` as it decodes it.
Result<sim::DecisionLog> decisions_from_json(json& decisions, std::string* why) {
  const auto refuse = [&](std::string line) -> Result<sim::DecisionLog> {
    *why = std::move(line);
    return make_error(Errc::InvalidConfig, "bad decisions");
  };
  if (decisions.is_array()) {
    if (decisions.size() > kMaxListedDecisions) return refuse("\"decisions\" lists too many decisions");
    sim::DecisionLog log;
    for (const json& d : decisions) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > UINT32_MAX) return refuse("\"decisions\" holds a non-id");
      log.push_back(d.get<std::uint32_t>());
    }
    log.seal();
    return log;
  }
  if (!decisions.is_object() || !decisions.contains("encoding") || decisions["encoding"] != kDecisionsEncoding ||
      !decisions.contains("count") || !decisions["count"].is_number_unsigned() || !decisions.contains("data") ||
      !decisions["data"].is_string()) {
    return refuse(fmt::format("\"decisions\" is neither a list of fiber ids nor {{\"encoding\": \"{}\", "
                              "\"count\": N, \"data\": \"...\"}}",
                              kDecisionsEncoding));
  }
  std::optional<std::string> bytes;
  {
    const std::string data = std::move(decisions["data"].get_ref<std::string&>());
    bytes = base64_decode(data);
  }
  if (!bytes) return refuse("\"decisions\" data is not base64");
  std::string error;
  auto log = sim::DecisionLog::from_encoded(std::move(*bytes), decisions["count"].get<std::uint64_t>(), &error);
  if (!log.ok()) return refuse("\"decisions\": " + error);
  return log;
}

}  // namespace

namespace {

// `text` is released once parsed: a long run's repro is held once, not twice.
Result<Repro> parse_repro(std::string text, std::string* error_line) {
  auto refuse = [&](const std::string& line) -> Result<Repro> {
    if (error_line != nullptr) *error_line = "bad repro file: " + line;
    return make_error(Errc::InvalidConfig, "bad repro file");
  };
  if (text.empty()) return refuse("empty");
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::string().swap(text);
  if (doc.is_discarded()) return refuse("not valid JSON (truncated?)");
  if (!doc.is_object()) return refuse("not a JSON object");
  if (!doc.contains("format") || doc["format"] != "segsim-repro") return refuse("\"format\" is not \"segsim-repro\"");
  if (!doc.contains("version") || !doc["version"].is_number_integer()) return refuse("missing \"version\"");
  const std::int64_t version = doc["version"].get<std::int64_t>();
  if (version < kOldestReadableVersion || version > kReproVersion) {
    return refuse(fmt::format("version {} is not supported (this build reads versions {}..{})",
                              doc["version"].dump(), kOldestReadableVersion, kReproVersion));
  }
  Repro repro;
  RunSpec& spec = repro.spec;
  // Typed field access: a missing or mistyped field is one clear line.
  auto string_field = [&](const json& object, const char* name, std::string& out) {
    if (!object.contains(name) || !object[name].is_string()) return false;
    out = object[name].get<std::string>();
    return true;
  };
  auto unsigned_field = [&](const json& object, const char* name, auto& out) {
    if (!object.contains(name) || !object[name].is_number_unsigned()) return false;
    out = object[name].get<std::remove_reference_t<decltype(out)>>();
    return true;
  };
  if (!string_field(doc, "scenario", spec.scenario)) return refuse("missing or mistyped \"scenario\"");
  if (!unsigned_field(doc, "seed", spec.seed)) return refuse("missing or mistyped \"seed\"");
  if (!string_field(doc, "strategy", spec.strategy)) return refuse("missing or mistyped \"strategy\"");
  std::string why;
  // Every number is checked against its limit before it is narrowed.
  const auto knob = [&](const json& object, const char* name, std::uint64_t min, std::uint64_t max,
                        std::uint64_t& out) {
    if (!object.contains(name) || !object[name].is_number_unsigned()) {
      why = fmt::format("missing or mistyped \"{}\" (a whole number)", name);
      return false;
    }
    out = object[name].get<std::uint64_t>();
    return check_whole(out, min, max, fmt::format("\"{}\"", name), &why).ok();
  };
  std::uint64_t pct_depth = 0;
  if (!knob(doc, "pct_depth", kMinPctDepth, kMaxPctDepth, pct_depth)) return refuse(why);
  spec.pct_depth = static_cast<int>(pct_depth);
  // PCT's k as the recorded run used it (absent in older repros: calibrated).
  if (doc.contains("pct_steps")) {
    std::uint64_t pct_steps = 0;
    if (!knob(doc, "pct_steps", 0, UINT64_MAX, pct_steps)) return refuse(why);
    spec.pct_steps = pct_steps;
  }
  if (!string_field(doc, "faults", spec.faults)) return refuse("missing or mistyped \"faults\"");
  if (!doc.contains("knobs") || !doc["knobs"].is_object()) return refuse("missing \"knobs\"");
  const json& knobs = doc["knobs"];
  std::uint64_t threads = 0, size = 0;
  if (!knob(knobs, "threads", 0, kMaxThreads, threads) || !knob(knobs, "size", 0, kMaxSize, size) ||
      !knob(knobs, "max_steps", 1, UINT64_MAX, spec.max_steps)) {
    return refuse("\"knobs\": " + why);
  }
  spec.threads = static_cast<std::uint32_t>(threads);
  spec.size = static_cast<std::uint32_t>(size);
  if (!string_field(doc, "test_hook", spec.test_hook)) return refuse("missing or mistyped \"test_hook\"");
  if (doc.contains("bug") && !string_field(doc, "bug", spec.bug)) return refuse("\"bug\" is not a string");
  if (!string_field(doc, "build_id", repro.build_id)) return refuse("missing or mistyped \"build_id\"");
  std::string hash_text;
  if (!string_field(doc, "expected_trace_hash", hash_text)) return refuse("missing \"expected_trace_hash\"");
  errno = 0;
  char* end = nullptr;
  repro.expected_trace_hash = std::strtoull(hash_text.c_str(), &end, 16);
  if (errno != 0 || end == hash_text.c_str() || *end != '\0') return refuse("\"expected_trace_hash\" is not hex");
  if (doc.contains("lenient_replay")) {
    if (!doc["lenient_replay"].is_boolean()) return refuse("\"lenient_replay\" is not true/false");
    spec.lenient_replay = doc["lenient_replay"].get<bool>();
  }
  if (doc.contains("decisions")) {
    auto decisions = decisions_from_json(doc["decisions"], &why);
    if (!decisions.ok()) return refuse(why);
    spec.decisions = std::move(decisions.value());
  }
  if (doc.contains("failure")) {
    const json& f = doc["failure"];
    Failure failure;
    if (!f.is_object() || !string_field(f, "oracle", failure.oracle) || !string_field(f, "message", failure.message)) {
      return refuse("\"failure\" needs oracle and message");
    }
    if (f.contains("fiber") && f["fiber"].is_number_unsigned() && f["fiber"].get<std::uint64_t>() <= UINT32_MAX) {
      failure.fiber = f["fiber"].get<std::uint32_t>();
    }
    if (f.contains("step") && f["step"].is_number_unsigned()) failure.step = f["step"].get<std::uint64_t>();
    if (f.contains("segment") && f["segment"].is_string()) failure.segment = f["segment"].get<std::string>();
    // The signature as recorded (stable ids, no addresses); files written
    // before it existed compare oracle and message.
    if (f.contains("signature")) {
      std::string signature;
      if (!string_field(f, "signature", signature)) return refuse("\"failure\".\"signature\" is not a string");
      const std::string prefix = failure.oracle + ": ";
      if (signature.rfind(prefix, 0) != 0) return refuse("\"failure\".\"signature\" does not start with its oracle");
      failure.stable_message = signature.substr(prefix.size());
      if (failure.stable_message == failure.message) failure.stable_message.clear();
    }
    // The bug the failure was found with; files written before it existed
    // are taken at their word.
    failure.bug = spec.bug;
    if (f.contains("bug") && !string_field(f, "bug", failure.bug)) return refuse("\"failure\".\"bug\" is not a string");
    repro.failure = std::move(failure);
  }
  return repro;
}

// Typed access is checked field by field; this is the net under it.
Result<Repro> parse_guarded(std::string text, std::string* error_line) {
  try {
    return parse_repro(std::move(text), error_line);
  } catch (const json::exception& e) {
    if (error_line != nullptr) *error_line = "bad repro file: " + one_line(e.what(), 200);
    return make_error(Errc::InvalidConfig, "bad repro file");
  }
}

}  // namespace

Result<Repro> repro_from_json(const std::string& text, std::string* error_line) {
  return parse_guarded(text, error_line);
}

Result<Repro> read_repro(const std::string& path, std::string* error_line) {
  auto text = read_text_file(path, kMaxReproBytes, "repro file", error_line);
  if (!text.ok()) return text.error();
  auto repro = parse_guarded(std::move(text.value()), error_line);
  if (!repro.ok() && error_line != nullptr) *error_line = fmt::format("{}: {}", quoted_text(path, 200), *error_line);
  return repro;
}

Status write_repro(const Repro& repro, const std::string& path, std::string* error_line) {
  return write_text_file(path, repro_to_json(repro), error_line);
}

}  // namespace segsim::scenarios
