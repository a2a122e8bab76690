#include "scenarios/repro.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scenarios/trace_json.h"

namespace segsim::scenarios {

namespace {

using nlohmann::json;

// Repro files are small; anything larger is not one of ours.
constexpr std::size_t kMaxReproBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxDecisions = 50'000'000;

std::string hex64(std::uint64_t value) { return fmt::format("{:#018x}", value); }

}  // namespace

Repro repro_from_report(const RunReport& report) {
  Repro repro;
  repro.spec = report.spec;
  repro.spec.faults = report.concrete_faults;  // never "swarm": the plan actually used
  repro.spec.decisions = report.decisions;
  repro.spec.strategy = report.spec.strategy;
  repro.build_id = build_id();
  repro.expected_trace_hash = report.trace_hash;
  repro.failure = report.failure;
  return repro;
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
      history.push_back({{"what", e.what}, {"fiber", e.fiber}, {"step", e.step}});
    }
    doc["failure"] = {{"oracle", repro.failure->oracle},     {"message", repro.failure->message},
                      {"fiber", repro.failure->fiber},       {"step", repro.failure->step},
                      {"segment", repro.failure->segment},   {"segment_history", history}};
  }
  doc["decisions"] = spec.decisions;  // last: the long part
  return doc.dump(2) + "\n";
}

Result<Repro> repro_from_json(const std::string& text, std::string* error_line) {
  auto refuse = [&](const std::string& line) -> Result<Repro> {
    if (error_line != nullptr) *error_line = "bad repro file: " + line;
    return make_error(Errc::InvalidConfig, "bad repro file");
  };
  if (text.empty()) return refuse("empty");
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return refuse("not valid JSON (truncated?)");
  if (!doc.is_object()) return refuse("not a JSON object");
  if (!doc.contains("format") || doc["format"] != "segsim-repro") return refuse("\"format\" is not \"segsim-repro\"");
  if (!doc.contains("version") || !doc["version"].is_number_integer()) return refuse("missing \"version\"");
  if (doc["version"].get<std::int64_t>() != kReproVersion) {
    return refuse(fmt::format("version {} is not supported (this build reads version {})",
                              doc["version"].dump(), kReproVersion));
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
  if (!doc.contains("pct_depth") || !doc["pct_depth"].is_number_integer()) return refuse("missing or mistyped \"pct_depth\"");
  spec.pct_depth = doc["pct_depth"].get<int>();
  // PCT's k as the recorded run used it (absent in older repros: calibrated).
  if (doc.contains("pct_steps") && !unsigned_field(doc, "pct_steps", spec.pct_steps)) {
    return refuse("\"pct_steps\" is not a whole number");
  }
  if (!string_field(doc, "faults", spec.faults)) return refuse("missing or mistyped \"faults\"");
  if (!doc.contains("knobs") || !doc["knobs"].is_object()) return refuse("missing \"knobs\"");
  const json& knobs = doc["knobs"];
  if (!unsigned_field(knobs, "threads", spec.threads) || !unsigned_field(knobs, "size", spec.size) ||
      !unsigned_field(knobs, "max_steps", spec.max_steps)) {
    return refuse("\"knobs\" needs threads, size and max_steps (whole numbers)");
  }
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
    const json& decisions = doc["decisions"];
    if (!decisions.is_array() || decisions.size() > kMaxDecisions) return refuse("\"decisions\" is not a list of fiber ids");
    spec.decisions.reserve(decisions.size());
    for (const json& d : decisions) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > UINT32_MAX) return refuse("\"decisions\" holds a non-id");
      spec.decisions.push_back(d.get<std::uint32_t>());
    }
  }
  if (doc.contains("failure")) {
    const json& f = doc["failure"];
    Failure failure;
    if (!f.is_object() || !string_field(f, "oracle", failure.oracle) || !string_field(f, "message", failure.message)) {
      return refuse("\"failure\" needs oracle and message");
    }
    if (f.contains("fiber") && f["fiber"].is_number_unsigned()) failure.fiber = f["fiber"].get<std::uint32_t>();
    if (f.contains("step") && f["step"].is_number_unsigned()) failure.step = f["step"].get<std::uint64_t>();
    if (f.contains("segment") && f["segment"].is_string()) failure.segment = f["segment"].get<std::string>();
    repro.failure = std::move(failure);
  }
  return repro;
}

Result<Repro> read_repro(const std::string& path, std::string* error_line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error_line != nullptr) *error_line = fmt::format("cannot read repro file '{}': {}", path, std::strerror(errno));
    return make_error(Errc::InvalidConfig, "unreadable repro file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxReproBytes) {
    if (error_line != nullptr) *error_line = fmt::format("repro file '{}' is larger than 256 MiB", path);
    return make_error(Errc::InvalidConfig, "repro file too large");
  }
  auto repro = repro_from_json(text.str(), error_line);
  if (!repro.ok() && error_line != nullptr) *error_line = fmt::format("{}: {}", path, *error_line);
  return repro;
}

Status write_repro(const Repro& repro, const std::string& path, std::string* error_line) {
  return write_text_file(path, repro_to_json(repro), error_line);
}

}  // namespace segsim::scenarios
