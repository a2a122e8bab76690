// Sweep results as JSON: what --json writes and merge reads. Format, version 2:
// {
//   "format": "segsim-sweep", "version": 2,
//   "scenario": "chicago", "strategy": "random", "faults": "none",
//   "settings": {"pct_depth": 3, "threads": 4, "size": 1, "max_steps": 4000000,
//                "test_hook": "", "bug": "", "build_id": "segsim 0.1 ..."},
//   "wall_seconds": 1.5, "failures": 0, "interrupted": 0,
//   "probes": {"alloc.invalid_size.zero": 12, ...},     // every probe, zeros included
//   "fault_points": {"alloc.cleanup.delay": {"asks": 40, "fires": 3}, ...},  // optional
//   "seeds": [{"seed": 1, "outcome": "passed", "detail": "", "repro": "",
//              "trace_hash": "0x...", "steps": 1234, "seconds": 0.01}, ...]
//              // a crashed or timed-out seed may add "stderr": its worker's last stderr line
// }
#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "scenarios/json_read.h"
#include "scenarios/safe_file.h"
#include "scenarios/sweep_result.h"

namespace segsim::scenarios {

namespace {

constexpr std::uint64_t kSweepVersion = 2;
constexpr std::size_t kMaxProbes = 100'000;

Result<std::uint64_t> parse_hex64(const std::string& text) {
  std::uint64_t value = 0;
  if (text.size() != 18 || text[0] != '0' || text[1] != 'x') return make_error(Errc::InvalidConfig);
  auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), value, 16);
  if (ec != std::errc() || end != text.data() + text.size()) return make_error(Errc::InvalidConfig);
  return value;
}

std::optional<SeedOutcome> outcome_from_name(std::string_view name) {
  for (SeedOutcome o : {SeedOutcome::Passed, SeedOutcome::Failed, SeedOutcome::Crashed, SeedOutcome::TimedOut}) {
    if (seed_outcome_name(o) == name) return o;
  }
  return std::nullopt;
}

bool parse_settings(const JsonFields& top, SweepResult& result, std::string& error) {
  const Json* settings = nullptr;
  if (!top.object("settings", settings, error)) return false;
  const JsonFields f(*settings, "sweep results: settings");
  std::uint64_t pct_depth = 0, threads = 0, size = 0;
  if (!f.only({"pct_depth", "threads", "size", "max_steps", "test_hook", "bug", "build_id"}, error) ||
      !f.whole("pct_depth", pct_depth, error, 0, kMaxPctDepth) || !f.whole("threads", threads, error, 0, kMaxThreads) ||
      !f.whole("size", size, error, 0, kMaxSize) || !f.whole("max_steps", result.max_steps, error) ||
      !f.string("test_hook", result.test_hook, error) || !f.string("bug", result.bug, error) ||
      !f.string("build_id", result.build_id, error)) {
    return false;
  }
  result.pct_depth = static_cast<int>(pct_depth);
  result.threads = static_cast<std::uint32_t>(threads);
  result.size = static_cast<std::uint32_t>(size);
  return true;
}

bool parse_probes(const JsonFields& top, SweepResult& result, std::string& error) {
  const Json* probes = nullptr;
  if (!top.object("probes", probes, error)) return false;
  if (probes->size() > kMaxProbes) return top.fail(fmt::format("more than {} probes", kMaxProbes), error);
  for (const auto& item : probes->items()) {
    if (!item.value().is_number_unsigned()) {
      return top.fail(fmt::format("probe {} must have a whole number of hits", quoted_text(item.key())), error);
    }
    result.probes.push_back(ProbeCount{item.key(), item.value().get<std::uint64_t>()});
  }
  return true;
}

// Optional (results of builds before they were counted have none).
bool parse_fault_points(const JsonFields& top, SweepResult& result, std::string& error) {
  if (!top.has("fault_points")) return true;
  const Json* points = nullptr;
  if (!top.object("fault_points", points, error)) return false;
  if (points->size() > kMaxProbes) return top.fail(fmt::format("more than {} fault points", kMaxProbes), error);
  for (const auto& item : points->items()) {
    if (!item.value().is_object()) {
      return top.fail(fmt::format("fault point {} must be an object", quoted_text(item.key())), error);
    }
    const JsonFields fields(item.value(), fmt::format("{}: fault point {}", top.where(), quoted_text(item.key())));
    std::uint64_t asks = 0, fires = 0;
    if (!fields.only({"asks", "fires"}, error) || !fields.whole("asks", asks, error) ||
        !fields.whole("fires", fires, error)) {
      return false;
    }
    if (fires > asks) return fields.fail(fmt::format("fired {} times but was asked {}", fires, asks), error);
    result.fault_point_asks.push_back(ProbeCount{item.key(), asks});
    result.fault_point_fires.push_back(ProbeCount{item.key(), fires});
  }
  return true;
}

bool parse_seed(const Json& item, const std::string& where, SeedResult& s, std::string& error) {
  if (!item.is_object()) {
    error = where + ": expected an object";
    return false;
  }
  const JsonFields f(item, where);
  std::string outcome;
  std::string hash;
  if (!f.only({"seed", "outcome", "detail", "stderr", "repro", "trace_hash", "steps", "seconds"}, error) ||
      !f.whole("seed", s.seed, error) || !f.string("outcome", outcome, error) ||
      !f.string("detail", s.detail, error) || !f.optional_string("stderr", s.worker_stderr, error) ||
      !f.string("repro", s.repro_path, error) ||
      !f.string("trace_hash", hash, error) || !f.whole("steps", s.steps, error) ||
      !f.seconds("seconds", s.seconds, error)) {
    return false;
  }
  const std::optional<SeedOutcome> parsed = outcome_from_name(outcome);
  if (!parsed) {
    return f.fail(fmt::format("unknown outcome {} (passed, failed, crashed, timed-out)", quoted_text(outcome)), error);
  }
  s.outcome = *parsed;
  Result<std::uint64_t> hash_value = parse_hex64(hash);
  if (!hash_value.ok()) return f.fail(fmt::format("trace_hash {} is not 0x + 16 hex digits", quoted_text(hash)), error);
  s.trace_hash = *hash_value;
  return true;
}

bool parse_seeds(const JsonFields& top, SweepResult& result, std::string& error) {
  const Json* seeds = nullptr;
  if (!top.array("seeds", seeds, error)) return false;
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < seeds->size(); ++i) {
    const std::string where = fmt::format("sweep results: seeds[{}]", i);
    SeedResult s;
    if (!parse_seed((*seeds)[i], where, s, error)) return false;
    if (!seen.insert(s.seed).second) {
      error = fmt::format("{}: seed {} is listed twice", where, s.seed);
      return false;
    }
    result.seeds.push_back(std::move(s));
  }
  std::sort(result.seeds.begin(), result.seeds.end(),
            [](const SeedResult& a, const SeedResult& b) { return a.seed < b.seed; });
  return true;
}

bool parse_header(const JsonFields& top, std::string& error) {
  std::string format;
  std::uint64_t version = 0;
  if (!top.only({"format", "version", "scenario", "strategy", "faults", "settings", "wall_seconds", "failures",
                 "interrupted", "probes", "fault_points", "seeds"},
                error) ||
      !top.string("format", format, error)) {
    return false;
  }
  if (format != "segsim-sweep") return top.fail(fmt::format("format is {}, not 'segsim-sweep'", quoted_text(format)), error);
  if (!top.whole("version", version, error)) return false;
  if (version != kSweepVersion) {
    return top.fail(fmt::format("version {} is not supported (only {}: re-run the sweep with this build)", version,
                                kSweepVersion),
                    error);
  }
  return true;
}

Result<SweepResult> parse_sweep(const Json& root, std::string* error_line) {
  if (!root.is_object()) return invalid_sweep(error_line, "sweep results: expected a JSON object");
  std::string error;
  const JsonFields top(root, "sweep results");
  SweepResult result;
  std::uint64_t failures = 0, interrupted = 0;
  if (!parse_header(top, error) || !top.string("scenario", result.scenario, error) ||
      !top.string("strategy", result.strategy, error) || !top.string("faults", result.faults, error) ||
      !parse_settings(top, result, error) || !top.seconds("wall_seconds", result.wall_seconds, error) ||
      !top.whole("failures", failures, error) || !top.whole("interrupted", interrupted, error, 0, 64) ||
      !parse_probes(top, result, error) || !parse_fault_points(top, result, error) ||
      !parse_seeds(top, result, error)) {
    return invalid_sweep(error_line, error);
  }
  result.interrupted = static_cast<int>(interrupted);
  if (failures != result.failures()) {
    return invalid_sweep(error_line, fmt::format("sweep results: 'failures' says {} but the seeds hold {} "
                                           "(file edited or truncated?)",
                                           failures, result.failures()));
  }
  return result;
}

}  // namespace

Result<SweepResult> invalid_sweep(std::string* error_line, std::string line) {
  if (error_line != nullptr) *error_line = std::move(line);
  return make_error(Errc::InvalidConfig, "sweep");
}

std::string sweep_to_json(const SweepResult& result) {
  Json root;
  root["format"] = "segsim-sweep";
  root["version"] = kSweepVersion;
  root["scenario"] = result.scenario;
  root["strategy"] = result.strategy;
  root["faults"] = result.faults;
  root["settings"] = {{"pct_depth", result.pct_depth}, {"threads", result.threads},
                      {"size", result.size},           {"max_steps", result.max_steps},
                      {"test_hook", result.test_hook}, {"bug", result.bug},
                      {"build_id", result.build_id}};
  root["wall_seconds"] = result.wall_seconds;
  root["failures"] = result.failures();
  root["interrupted"] = result.interrupted;
  Json probes = Json::object();
  for (const ProbeCount& p : result.probes) probes[p.name] = p.hits;
  root["probes"] = std::move(probes);
  if (!result.fault_point_asks.empty()) {
    Json points = Json::object();
    for (const ProbeCount& asked : result.fault_point_asks) points[asked.name] = {{"asks", asked.hits}, {"fires", 0}};
    for (const ProbeCount& fired : result.fault_point_fires) {
      if (points.contains(fired.name)) points[fired.name]["fires"] = fired.hits;
    }
    root["fault_points"] = std::move(points);
  }
  Json seeds = Json::array();
  for (const SeedResult& s : result.seeds) {
    Json item;
    item["seed"] = s.seed;
    item["outcome"] = seed_outcome_name(s.outcome);
    item["detail"] = s.detail;
    if (!s.worker_stderr.empty()) item["stderr"] = s.worker_stderr;
    item["repro"] = s.repro_path;
    item["trace_hash"] = hex64(s.trace_hash);
    item["steps"] = s.steps;
    item["seconds"] = s.seconds;
    seeds.push_back(std::move(item));
  }
  root["seeds"] = std::move(seeds);
  return root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<SweepResult> sweep_from_json(const std::string& text, std::string* error_line) {
  if (text.size() > kMaxSweepResultsBytes) {
    return invalid_sweep(error_line, fmt::format("sweep results: {} bytes is over the {} byte limit", text.size(),
                                           kMaxSweepResultsBytes));
  }
  Json root;
  std::string error;
  if (!parse_json(text, root, "sweep results", error)) return invalid_sweep(error_line, error);
  try {
    return parse_sweep(root, error_line);
  } catch (const Json::exception& e) {
    return invalid_sweep(error_line, fmt::format("sweep results: {}", one_line(e.what(), 200)));
  }
}

}  // namespace segsim::scenarios
