#include "scenarios/repro.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scenarios/base64.h"
#include "scenarios/crash_report.h"
#include "scenarios/fuzz_artifact.h"
#include "scenarios/json_read.h"
#include "scenarios/recording.h"
#include "scenarios/safe_file.h"
#include "scenarios/values.h"

namespace segsim::scenarios {

namespace {


// Repro files hold a run's decisions compactly (~0.4 byte each, base64'd):
// 256 MiB is far beyond the longest run the CLI accepts; a larger file is not
// one of ours. Version 1 files list decisions as a JSON array of numbers.
constexpr std::size_t kMaxReproBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxListedDecisions = 50'000'000;
constexpr const char* kDecisionsEncoding = "varint-deflate-base64";
constexpr int kOldestReadableVersion = 1;

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
  nlohmann::json doc = {
      {"format", "segsim-repro"},
      {"version", kReproVersion},
      {"scenario", spec.scenario},
      {"seed", spec.seed},
      {"strategy", sim::strategy_name(spec.strategy)},
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
    nlohmann::json history = nlohmann::json::array();
    for (const SegmentEvent& e : repro.failure->segment_history) {
      history.push_back({{"what", e.what}, {"fiber", e.fiber}, {"step", e.step}, {"generation", e.generation}});
    }
    doc["failure"] = {{"oracle", repro.failure->oracle},     {"message", repro.failure->message},
                      {"signature", repro.failure->signature()}, {"bug", repro.failure->bug},
                      {"fiber", repro.failure->fiber},       {"step", repro.failure->step},
                      {"segment", repro.failure->segment},   {"segment_history", history}};
  }
  if (spec.recording) {
    doc["recording"] = {{"follow_recorded_order", spec.recording->follow_recorded_order},
                        {"report", nlohmann::json::parse(crash_report_to_json(spec.recording->report))}};
  }
  if (spec.fuzz_artifact) {
    doc["fuzz_artifact"] = {{"target", spec.fuzz_artifact->target}, {"bytes", base64_encode(spec.fuzz_artifact->bytes)}};
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
  // A failure message may quote bytes that are not UTF-8 (what a process
  // wrote, a corrupted file): replaced, never an exception.
  std::string text = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
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
bool decisions_from_json(Json& decisions, sim::DecisionLog& log, std::string& why) {
  const JsonFields f(decisions, "\"decisions\"");
  if (decisions.is_array()) {
    if (decisions.size() > kMaxListedDecisions) return f.fail("lists too many decisions", why);
    for (const Json& d : decisions) {
      if (!d.is_number_unsigned() || d.get<std::uint64_t>() > UINT32_MAX) return f.fail("holds a non-id", why);
      log.push_back(d.get<std::uint32_t>());
    }
    log.seal();
    return true;
  }
  std::string encoding;
  std::uint64_t count = 0;
  if (!decisions.is_object() || !f.string("encoding", encoding, why) || encoding != kDecisionsEncoding ||
      !f.whole("count", count, why) || !decisions.contains("data") || !decisions["data"].is_string()) {
    return f.fail(fmt::format("is neither a list of fiber ids nor {{\"encoding\": \"{}\", \"count\": N, "
                              "\"data\": \"...\"}}",
                              kDecisionsEncoding),
                  why);
  }
  std::optional<std::string> bytes;
  {
    const std::string data = std::move(decisions["data"].get_ref<std::string&>());
    bytes = base64_decode(data);
  }
  if (!bytes) return f.fail("data is not base64", why);
  std::string error;
  auto decoded = sim::DecisionLog::from_encoded(std::move(*bytes), count, &error);
  if (!decoded.ok()) return f.fail(error, why);
  log = std::move(decoded.value());
  return true;
}

bool read_version(const JsonFields& doc, std::string& why) {
  std::string format;
  if (!doc.string("format", format, why)) return false;
  if (format != "segsim-repro") return doc.fail("\"format\" is not \"segsim-repro\"", why);
  std::uint64_t version = 0;
  if (!doc.whole("version", version, why)) return false;
  if (version < kOldestReadableVersion || version > kReproVersion) {
    return doc.fail(fmt::format("version {} is not supported (this build reads versions {}..{})", version,
                                kOldestReadableVersion, kReproVersion),
                    why);
  }
  return true;
}

bool known_strategy(const JsonFields& doc, const std::string& name, sim::StrategyKind& out, std::string& why) {
  const std::optional<sim::StrategyKind> kind = sim::parse_strategy(name);
  if (!kind) return doc.fail(fmt::format("unknown strategy {} ({})", quoted_text(name), sim::kStrategyNames), why);
  out = *kind;
  return true;
}

// The run's spec but its decisions; every number checked against its limit
// before it is narrowed.
bool read_spec(const JsonFields& doc, RunSpec& spec, std::string& why) {
  std::uint64_t pct_depth = 0, pct_steps = 0, threads = 0, size = 0;
  std::string strategy;
  const Json* knobs_object = nullptr;
  if (!doc.string("scenario", spec.scenario, why) || !doc.whole("seed", spec.seed, why) ||
      !doc.string("strategy", strategy, why) || !known_strategy(doc, strategy, spec.strategy, why) ||
      !doc.whole("pct_depth", pct_depth, why, kMinPctDepth, kMaxPctDepth) ||
      // PCT's k as the recorded run used it (absent in older repros: calibrated).
      !doc.optional_whole("pct_steps", pct_steps, why) || !doc.string("faults", spec.faults, why) ||
      !doc.object("knobs", knobs_object, why)) {
    return false;
  }
  const JsonFields knobs(*knobs_object, doc.where() + ": knobs");
  if (!knobs.whole("threads", threads, why, 0, kMaxThreads) || !knobs.whole("size", size, why, 0, kMaxSize) ||
      !knobs.whole("max_steps", spec.max_steps, why, 1, UINT64_MAX) || !doc.string("test_hook", spec.test_hook, why) ||
      !doc.optional_string("bug", spec.bug, why) || !doc.optional_boolean("lenient_replay", spec.lenient_replay, why)) {
    return false;
  }
  spec.pct_depth = static_cast<int>(pct_depth);
  spec.pct_steps = pct_steps;
  spec.threads = static_cast<std::uint32_t>(threads);
  spec.size = static_cast<std::uint32_t>(size);
  return true;
}

// `spec_bug`: the run's bug, taken as the failure's when the file predates the
// failure's own "bug" field.
bool read_failure(const JsonFields& doc, const std::string& spec_bug, std::optional<Failure>& out, std::string& why) {
  if (!doc.has("failure")) return true;
  const Json* object = nullptr;
  if (!doc.object("failure", object, why)) return false;
  const JsonFields f(*object, doc.where() + ": failure");
  Failure failure;
  std::uint64_t fiber = failure.fiber;
  if (!f.string("oracle", failure.oracle, why) || !f.string("message", failure.message, why) ||
      !f.optional_whole("fiber", fiber, why, 0, UINT32_MAX) || !f.optional_whole("step", failure.step, why) ||
      !f.optional_string("segment", failure.segment, why)) {
    return false;
  }
  failure.fiber = static_cast<std::uint32_t>(fiber);
  // The signature as recorded (stable ids, no addresses); files written
  // before it existed compare oracle and message.
  std::string signature;
  if (!f.optional_string("signature", signature, why)) return false;
  if (!signature.empty()) {
    const std::string prefix = failure.oracle + ": ";
    if (signature.rfind(prefix, 0) != 0) {
      why = f.where() + ": 'signature' does not start with its oracle";
      return false;
    }
    failure.stable_message = signature.substr(prefix.size());
    if (failure.stable_message == failure.message) failure.stable_message.clear();
  }
  failure.bug = spec_bug;
  if (!f.optional_string("bug", failure.bug, why)) return false;
  out = std::move(failure);
  return true;
}

// The crash report a "recorded" run rebuilds (scenarios/recording.h), embedded whole.
bool read_recording(const JsonFields& doc, RunSpec& spec, std::string& why) {
  if (!doc.has("recording")) return true;
  const Json* object = nullptr;
  if (!doc.object("recording", object, why)) return false;
  const JsonFields f(*object, doc.where() + ": recording");
  auto recording = std::make_shared<Recording>();
  if (!f.boolean("follow_recorded_order", recording->follow_recorded_order, why)) return false;
  const Json* report_object = nullptr;
  if (!f.object("report", report_object, why)) return false;
  std::string error;
  auto report = crash_report_from_json(report_object->dump(), &error);
  if (!report.ok()) return f.fail(error, why);
  recording->report = std::move(report.value());
  spec.recording = std::move(recording);
  return true;
}

// The libFuzzer artifact a fuzz-* run decodes (scenarios/fuzz_artifact.h), base64.
bool read_fuzz_artifact(const JsonFields& doc, RunSpec& spec, std::string& why) {
  if (!doc.has("fuzz_artifact")) return true;
  const Json* object = nullptr;
  if (!doc.object("fuzz_artifact", object, why)) return false;
  const JsonFields f(*object, doc.where() + ": fuzz_artifact");
  auto artifact = std::make_shared<FuzzArtifact>();
  std::string encoded;
  if (!f.string("target", artifact->target, why) || !f.string("bytes", encoded, why)) return false;
  if (scenario_for_fuzz_target(artifact->target).empty()) {
    return f.fail(fmt::format("no scenario runs artifacts of fuzz_{}", one_line(artifact->target, 40)), why);
  }
  std::optional<std::string> bytes = base64_decode(encoded);
  if (!bytes) return f.fail("bytes is not base64", why);
  artifact->bytes = std::move(*bytes);
  spec.fuzz_artifact = std::move(artifact);
  return true;
}

// `text` is released once parsed: a long run's repro is held once, not twice.
Result<Repro> parse_repro(std::string text, std::string* error_line) {
  auto refuse = [&](const std::string& line) -> Result<Repro> {
    if (error_line != nullptr) *error_line = line;
    return make_error(Errc::InvalidConfig, "bad repro file");
  };
  if (text.empty()) return refuse("bad repro file: empty");
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::string().swap(text);
  if (doc.is_discarded()) return refuse("bad repro file: not valid JSON (truncated?)");
  if (!doc.is_object()) return refuse("bad repro file: not a JSON object");
  const JsonFields fields(doc, "bad repro file");
  Repro repro;
  std::string why;
  std::string hash_text;
  if (!read_version(fields, why) || !read_spec(fields, repro.spec, why) ||
      !fields.string("build_id", repro.build_id, why) || !fields.string("expected_trace_hash", hash_text, why)) {
    return refuse(why);
  }
  errno = 0;
  char* end = nullptr;
  repro.expected_trace_hash = std::strtoull(hash_text.c_str(), &end, 16);
  if (errno != 0 || end == hash_text.c_str() || *end != '\0') return refuse("bad repro file: \"expected_trace_hash\" is not hex");
  if (doc.contains("decisions") && !decisions_from_json(doc["decisions"], repro.spec.decisions, why)) {
    return refuse("bad repro file: " + why);
  }
  if (!read_failure(fields, repro.spec.bug, repro.failure, why) || !read_recording(fields, repro.spec, why) ||
      !read_fuzz_artifact(fields, repro.spec, why)) {
    return refuse(why);
  }
  return repro;
}

// Typed access is checked field by field; this is the net under it.
Result<Repro> parse_guarded(std::string text, std::string* error_line) {
  try {
    return parse_repro(std::move(text), error_line);
  } catch (const Json::exception& e) {
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
