// Sweep results: the settings they ran with, JSON (what --json writes and
// merge reads), JUnit XML, and merging shards. Format, version 2:
// {
//   "format": "segsim-sweep", "version": 2,
//   "scenario": "chicago", "strategy": "random", "faults": "none",
//   "settings": {"pct_depth": 3, "threads": 4, "size": 1, "max_steps": 4000000,
//                "test_hook": "", "bug": "", "build_id": "segsim 0.1 ..."},
//   "wall_seconds": 1.5, "failures": 0, "interrupted": 0,
//   "probes": {"alloc.invalid_size.zero": 12, ...},     // every probe, zeros included
//   "seeds": [{"seed": 1, "outcome": "passed", "detail": "", "repro": "",
//              "trace_hash": "0x...", "steps": 1234, "seconds": 0.01}, ...]
// }
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scenarios/safe_file.h"
#include "scenarios/sweep.h"
#include "scenarios/xml.h"

namespace segsim::scenarios {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::uint64_t kSweepVersion = 2;
constexpr std::size_t kMaxProbes = 100'000;

Result<SweepResult> invalid(std::string* error_line, std::string line) {
  if (error_line != nullptr) *error_line = std::move(line);
  return make_error(Errc::InvalidConfig, "sweep");
}

std::string hex64(std::uint64_t value) { return fmt::format("0x{:016x}", value); }

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

// Strict field access: every read names the field in its error line.
class Fields {
 public:
  Fields(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  bool only(std::initializer_list<const char*> keys, std::string& error) const {
    for (const auto& item : object_.items()) {
      bool known = false;
      for (const char* key : keys) known = known || item.key() == key;
      if (!known) {
        error = fmt::format("{}: unknown field {}", where_, quoted_text(item.key()));
        return false;
      }
    }
    return true;
  }
  bool string(const char* key, std::string& out, std::string& error) const {
    if (!present(key, error)) return false;
    if (!object_[key].is_string()) return wrong(key, "a string", error);
    out = object_[key].get<std::string>();
    return true;
  }
  bool u64(const char* key, std::uint64_t& out, std::string& error, std::uint64_t max = UINT64_MAX) const {
    if (!present(key, error)) return false;
    if (!object_[key].is_number_unsigned() || object_[key].get<std::uint64_t>() > max) {
      return wrong(key, fmt::format("a whole number in 0..{}", max).c_str(), error);
    }
    out = object_[key].get<std::uint64_t>();
    return true;
  }
  bool seconds(const char* key, double& out, std::string& error) const {
    if (!present(key, error)) return false;
    if (!object_[key].is_number()) return wrong(key, "a number", error);
    out = object_[key].get<double>();
    if (!std::isfinite(out) || out < 0) return wrong(key, "a non-negative number", error);
    return true;
  }

 private:
  bool present(const char* key, std::string& error) const {
    if (object_.contains(key)) return true;
    error = fmt::format("{}: missing field '{}'", where_, key);
    return false;
  }
  bool wrong(const char* key, const char* expected, std::string& error) const {
    error = fmt::format("{}: field '{}' must be {}", where_, key, expected);
    return false;
  }
  const Json& object_;
  std::string where_;
};

// The settings, by name, as text: one list for JSON, comparison and messages.
std::vector<std::pair<const char*, std::string>> settings_list(const SweepResult& r) {
  return {{"scenario", r.scenario},
          {"strategy", r.strategy},
          {"faults", r.faults},
          {"pct_depth", std::to_string(r.pct_depth)},
          {"threads", std::to_string(r.threads)},
          {"size", std::to_string(r.size)},
          {"max_steps", std::to_string(r.max_steps)},
          {"test_hook", r.test_hook},
          {"bug", r.bug},
          {"build_id", r.build_id}};
}

bool parse_settings(const Json& root, SweepResult& result, std::string& error) {
  if (!root.contains("settings") || !root["settings"].is_object()) {
    error = "sweep results: field 'settings' must be an object";
    return false;
  }
  const Fields f(root["settings"], "sweep results: settings");
  std::uint64_t pct_depth = 0, threads = 0, size = 0;
  if (!f.only({"pct_depth", "threads", "size", "max_steps", "test_hook", "bug", "build_id"}, error) ||
      !f.u64("pct_depth", pct_depth, error, kMaxPctDepth) || !f.u64("threads", threads, error, kMaxThreads) ||
      !f.u64("size", size, error, kMaxSize) || !f.u64("max_steps", result.max_steps, error) ||
      !f.string("test_hook", result.test_hook, error) || !f.string("bug", result.bug, error) ||
      !f.string("build_id", result.build_id, error)) {
    return false;
  }
  result.pct_depth = static_cast<int>(pct_depth);
  result.threads = static_cast<std::uint32_t>(threads);
  result.size = static_cast<std::uint32_t>(size);
  return true;
}

bool parse_probes(const Json& root, SweepResult& result, std::string& error) {
  if (!root.contains("probes") || !root["probes"].is_object()) {
    error = "sweep results: field 'probes' must be an object of probe name -> hits";
    return false;
  }
  if (root["probes"].size() > kMaxProbes) {
    error = fmt::format("sweep results: more than {} probes", kMaxProbes);
    return false;
  }
  for (const auto& item : root["probes"].items()) {
    if (!item.value().is_number_unsigned()) {
      error = fmt::format("sweep results: probe {} must have a whole number of hits", quoted_text(item.key()));
      return false;
    }
    result.probes.push_back(ProbeCount{item.key(), item.value().get<std::uint64_t>()});
  }
  return true;
}

Result<SweepResult> parse_sweep(const Json& root, std::string* error_line) {
  if (!root.is_object()) return invalid(error_line, "sweep results: expected a JSON object");
  std::string error;
  const Fields top(root, "sweep results");
  std::string format;
  std::uint64_t version = 0;
  if (!top.only({"format", "version", "scenario", "strategy", "faults", "settings", "wall_seconds", "failures",
                 "interrupted", "probes", "seeds"},
                error) ||
      !top.string("format", format, error)) {
    return invalid(error_line, error);
  }
  if (format != "segsim-sweep") {
    return invalid(error_line, fmt::format("sweep results: format is {}, not 'segsim-sweep'", quoted_text(format)));
  }
  if (!top.u64("version", version, error)) return invalid(error_line, error);
  if (version != kSweepVersion) {
    return invalid(error_line, fmt::format("sweep results: version {} is not supported (only {}: re-run the sweep "
                                           "with this build)",
                                           version, kSweepVersion));
  }
  SweepResult result;
  std::uint64_t failures = 0, interrupted = 0;
  if (!top.string("scenario", result.scenario, error) || !top.string("strategy", result.strategy, error) ||
      !top.string("faults", result.faults, error) || !parse_settings(root, result, error) ||
      !top.seconds("wall_seconds", result.wall_seconds, error) || !top.u64("failures", failures, error) ||
      !top.u64("interrupted", interrupted, error, 64) || !parse_probes(root, result, error)) {
    return invalid(error_line, error);
  }
  result.interrupted = static_cast<int>(interrupted);
  if (!root.contains("seeds") || !root["seeds"].is_array()) {
    return invalid(error_line, "sweep results: field 'seeds' must be an array");
  }
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < root["seeds"].size(); ++i) {
    const Json& item = root["seeds"][i];
    const std::string where = fmt::format("sweep results: seeds[{}]", i);
    if (!item.is_object()) return invalid(error_line, where + ": expected an object");
    const Fields f(item, where);
    SeedResult s;
    std::string outcome;
    std::string hash;
    if (!f.only({"seed", "outcome", "detail", "repro", "trace_hash", "steps", "seconds"}, error) ||
        !f.u64("seed", s.seed, error) || !f.string("outcome", outcome, error) ||
        !f.string("detail", s.detail, error) || !f.string("repro", s.repro_path, error) ||
        !f.string("trace_hash", hash, error) || !f.u64("steps", s.steps, error) ||
        !f.seconds("seconds", s.seconds, error)) {
      return invalid(error_line, error);
    }
    const std::optional<SeedOutcome> parsed = outcome_from_name(outcome);
    if (!parsed) {
      return invalid(error_line, fmt::format("{}: unknown outcome {} (passed, failed, crashed, timed-out)", where,
                                             quoted_text(outcome)));
    }
    s.outcome = *parsed;
    Result<std::uint64_t> hash_value = parse_hex64(hash);
    if (!hash_value.ok()) {
      return invalid(error_line, fmt::format("{}: trace_hash {} is not 0x + 16 hex digits", where, quoted_text(hash)));
    }
    s.trace_hash = *hash_value;
    if (!seen.insert(s.seed).second) {
      return invalid(error_line, fmt::format("{}: seed {} is listed twice", where, s.seed));
    }
    result.seeds.push_back(std::move(s));
  }
  if (failures != result.failures()) {
    return invalid(error_line, fmt::format("sweep results: 'failures' says {} but the seeds hold {} "
                                           "(file edited or truncated?)",
                                           failures, result.failures()));
  }
  std::sort(result.seeds.begin(), result.seeds.end(),
            [](const SeedResult& a, const SeedResult& b) { return a.seed < b.seed; });
  return result;
}

}  // namespace

SweepResult sweep_settings(const RunSpec& spec_in) {
  const RunSpec spec = resolved_spec(spec_in);
  SweepResult r;
  r.scenario = spec.scenario;
  r.strategy = spec.strategy;
  r.faults = spec.faults;
  r.pct_depth = spec.pct_depth;
  r.threads = spec.threads;
  r.size = spec.size;
  r.max_steps = spec.max_steps;
  r.test_hook = spec.test_hook;
  r.bug = spec.bug;
  r.build_id = build_id();
  return r;
}

std::string settings_difference(const SweepResult& a, const SweepResult& b) {
  const auto mine = settings_list(a);
  const auto theirs = settings_list(b);
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (mine[i].second != theirs[i].second) {
      return fmt::format("{} {} vs {}", mine[i].first, quoted_text(mine[i].second, 60), quoted_text(theirs[i].second, 60));
    }
  }
  return {};
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
  Json seeds = Json::array();
  for (const SeedResult& s : result.seeds) {
    Json item;
    item["seed"] = s.seed;
    item["outcome"] = seed_outcome_name(s.outcome);
    item["detail"] = s.detail;
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
    return invalid(error_line, fmt::format("sweep results: {} bytes is over the {} byte limit", text.size(),
                                           kMaxSweepResultsBytes));
  }
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::exception& e) {
    // parse_error, and out_of_range for numbers like 1e999.
    return invalid(error_line, fmt::format("sweep results: not valid JSON ({})", one_line(e.what(), 200)));
  }
  try {
    return parse_sweep(root, error_line);
  } catch (const Json::exception& e) {
    return invalid(error_line, fmt::format("sweep results: {}", one_line(e.what(), 200)));
  }
}

std::string sweep_to_junit(const SweepResult& result) {
  const std::string suite = xml_escape(result.scenario, true);
  double seconds = 0;
  for (const SeedResult& s : result.seeds) seconds += s.seconds;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"segsim sweep\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
                     "time=\"{:.3f}\">\n",
                     result.seeds.size(), result.failures(), result.wall_seconds);
  out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" "
                     "time=\"{:.3f}\">\n",
                     suite, result.seeds.size(), result.failures(), seconds);
  out += "    <properties>\n";
  for (const auto& [name, value] : settings_list(result)) {
    if (std::string_view(name) == "scenario") continue;
    out += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, xml_escape(value, true));
  }
  out += "    </properties>\n";
  for (const SeedResult& s : result.seeds) {
    out += fmt::format("    <testcase classname=\"{}\" name=\"seed {}\" time=\"{:.3f}\"", suite, s.seed, s.seconds);
    if (s.outcome == SeedOutcome::Passed) {
      out += "/>\n";
      continue;
    }
    out += ">\n";
    std::string body = s.detail;
    if (!s.repro_path.empty()) body += "\nrepro: " + s.repro_path;
    body += fmt::format("\nreproduce: segsim replay {}", s.repro_path.empty() ? "?" : s.repro_path);
    out += fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n", seed_outcome_name(s.outcome),
                       xml_escape(s.detail, true), xml_escape(body, false));
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

Result<SweepResult> merge_sweeps(const std::vector<SweepResult>& shards, std::string* error_line) {
  if (shards.empty()) return invalid(error_line, "merge: no sweep results to merge");
  SweepResult merged = shards.front();
  merged.seeds.clear();
  merged.probes.clear();
  merged.wall_seconds = 0;
  std::map<std::uint64_t, SeedResult> by_seed;
  std::map<std::string, std::size_t> probe_index;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const SweepResult& shard = shards[i];
    if (const std::string difference = settings_difference(shards.front(), shard); !difference.empty()) {
      return invalid(error_line, fmt::format("merge: result {} ran with other settings than result 1 ({}): not "
                                             "shards of one sweep",
                                             i + 1, difference));
    }
    // Shards run side by side: the merged sweep took as long as the slowest.
    merged.wall_seconds = std::max(merged.wall_seconds, shard.wall_seconds);
    merged.interrupted = merged.interrupted != 0 ? merged.interrupted : shard.interrupted;
    for (const ProbeCount& p : shard.probes) {
      auto [it, inserted] = probe_index.emplace(p.name, merged.probes.size());
      if (inserted) merged.probes.push_back(ProbeCount{p.name, 0});
      std::uint64_t& hits = merged.probes[it->second].hits;
      hits = hits > UINT64_MAX - p.hits ? UINT64_MAX : hits + p.hits;
    }
    for (const SeedResult& s : shard.seeds) {
      auto [it, inserted] = by_seed.emplace(s.seed, s);
      if (inserted) continue;
      const SeedResult& earlier = it->second;
      if (earlier.outcome != s.outcome) {
        return invalid(error_line, fmt::format("merge: seed {} is {} in one result and {} in another", s.seed,
                                               seed_outcome_name(earlier.outcome), seed_outcome_name(s.outcome)));
      }
      // A run is a function of its spec: a seed that passed twice with two
      // trace hashes is nondeterminism, the very thing segsim must not hide.
      if (s.outcome == SeedOutcome::Passed && earlier.trace_hash != s.trace_hash) {
        return invalid(error_line, fmt::format("merge: seed {} passed with trace hash {} in one result "
                                               "and {} in another (nondeterminism)",
                                               s.seed, hex64(earlier.trace_hash), hex64(s.trace_hash)));
      }
    }
  }
  merged.seeds.reserve(by_seed.size());
  for (auto& [seed, s] : by_seed) merged.seeds.push_back(std::move(s));
  return merged;
}

}  // namespace segsim::scenarios
