// The segsim CLI's parts: seed ranges and shards, sweep results as JSON and
// JUnit, merging shard results, forked sweeps, shrinking, trace JSON, plots.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <map>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "faults/fault_injector.h"
#include "scenarios/plot_svg.h"
#include "scenarios/repro.h"
#include "scenarios/shrink.h"
#include "scenarios/sweep.h"
#include "scenarios/safe_file.h"
#include "scenarios/tests/test_files.h"
#include "scenarios/trace_json.h"

namespace segsim::scenarios {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}


// ---------------------------------------------------------------------------
// seed ranges and shards

TEST(SeedRange, ParsesInclusiveDecimalRanges) {
  std::string error;
  auto range = parse_seed_range("1..1000", &error);
  ASSERT_TRUE(range.ok()) << error;
  EXPECT_EQ(range->first, 1u);
  EXPECT_EQ(range->last, 1000u);

  range = parse_seed_range("7..7", &error);
  ASSERT_TRUE(range.ok()) << error;
  EXPECT_EQ(range->first, 7u);
  EXPECT_EQ(range->last, 7u);

  range = parse_seed_range("18446744073709551610..18446744073709551615", &error);
  ASSERT_TRUE(range.ok()) << error;
  EXPECT_EQ(range->last, UINT64_MAX);
}

TEST(SeedRange, RefusesBadInputWithOneClearLine) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"", "expected A..B"},
      {"42", "expected A..B"},
      {"1-10", "expected A..B"},
      {"1..", "decimal"},
      {"..10", "decimal"},
      {"a..b", "decimal"},
      {"-1..10", "decimal"},
      {"+1..10", "decimal"},
      {" 1..10", "decimal"},
      {"1..10 ", "decimal"},
      {"0x10..0x20", "decimal"},
      {"1...10", "decimal"},
      {"1..18446744073709551616", "decimal"},
      {"10..1", "after the last"},
      {"0..10000000", "split it"},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto range = parse_seed_range(c.text, &error);
    EXPECT_FALSE(range.ok()) << "'" << c.text << "' parsed";
    if (range.ok()) continue;
    EXPECT_EQ(range.error().code, Errc::InvalidConfig);
    EXPECT_NE(error.find(c.says), std::string::npos) << c.text << " -> " << error;
    EXPECT_NE(error.find(std::string("'") + c.text + "'"), std::string::npos) << "names the input: " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
}

TEST(Shard, ParsesZeroBasedShards) {
  std::string error;
  auto shard = parse_shard("0/1", &error);
  ASSERT_TRUE(shard.ok()) << error;
  EXPECT_EQ(shard->index, 0u);
  EXPECT_EQ(shard->count, 1u);
  shard = parse_shard("3/4", &error);
  ASSERT_TRUE(shard.ok()) << error;
  EXPECT_EQ(shard->index, 3u);
  EXPECT_EQ(shard->count, 4u);
}

TEST(Shard, RefusesBadInputWithOneClearLine) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"", "expected K/N"},    {"3", "expected K/N"},     {"a/b", "expected K/N"},
      {"-1/4", "expected K/N"}, {"1/4/5", "expected K/N"}, {"1/", "expected K/N"},
      {"0/0", "N must be"},    {"0/100001", "N must be"}, {"4/4", "0-based"},
      {"9/4", "0-based"},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto shard = parse_shard(c.text, &error);
    EXPECT_FALSE(shard.ok()) << "'" << c.text << "' parsed";
    if (shard.ok()) continue;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.text << " -> " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
}

TEST(ShardSeeds, ShardsPartitionTheRange) {
  const SeedRange ranges[] = {{1, 100}, {0, 0}, {5, 7}, {1000, 1012}, {UINT64_MAX - 9, UINT64_MAX}};
  for (const SeedRange& range : ranges) {
    for (std::uint32_t count = 1; count <= 13; ++count) {
      std::set<std::uint64_t> seen;
      std::size_t total = 0;
      for (std::uint32_t index = 0; index < count; ++index) {
        const std::vector<std::uint64_t> seeds = shard_seeds(range, Shard{index, count});
        EXPECT_TRUE(std::is_sorted(seeds.begin(), seeds.end()));
        for (std::uint64_t seed : seeds) {
          EXPECT_GE(seed, range.first);
          EXPECT_LE(seed, range.last);
          EXPECT_EQ((seed - range.first) % count, index) << "seed " << seed << " in shard " << index;
          seen.insert(seed);
        }
        total += seeds.size();
      }
      const std::uint64_t expected = range.last - range.first + 1;
      EXPECT_EQ(total, expected) << "disjoint: no seed in two shards";
      EXPECT_EQ(seen.size(), expected) << "complete: every seed in some shard";
    }
  }
}

// ---------------------------------------------------------------------------
// sweep results: JSON, JUnit, merge

SeedResult seed_result(std::uint64_t seed, SeedOutcome outcome, std::string detail = "",
                       std::uint64_t hash = 0) {
  SeedResult s;
  s.seed = seed;
  s.outcome = outcome;
  s.detail = std::move(detail);
  if (outcome != SeedOutcome::Passed) s.repro_path = fmt::format("segsim-failures/chicago-seed{}.json", seed);
  s.trace_hash = hash;
  s.steps = seed * 10;
  s.seconds = 0.25 * static_cast<double>(seed % 7);
  return s;
}

SweepResult sample_sweep() {
  RunSpec spec;
  spec.scenario = "chicago";
  spec.strategy = sim::StrategyKind::Pct;
  spec.faults = "mmap:ENOMEM@p=0.01";
  SweepResult r = sweep_settings(spec);
  r.probes = {{"alloc.invalid_size.zero", 3}, {"alloc.invalid_size.too_large", 0}};
  r.wall_seconds = 12.5;
  r.seeds = {seed_result(1, SeedOutcome::Passed, "", 0x0123456789abcdefULL),
             seed_result(2, SeedOutcome::Failed, "content: slot 3 reads \"x\" <not> 'y' & z\tü", 7),
             seed_result(3, SeedOutcome::Crashed, "killed by SIGSEGV (Segmentation fault)"),
             seed_result(4, SeedOutcome::TimedOut, "timed out after 60 s"),
             seed_result(UINT64_MAX, SeedOutcome::Passed, "", UINT64_MAX)};
  return r;
}

TEST(SweepJson, RoundTripsEveryField) {
  const SweepResult original = sample_sweep();
  std::string error;
  const auto parsed = sweep_from_json(sweep_to_json(original), &error);
  ASSERT_TRUE(parsed.ok()) << error;
  EXPECT_EQ(parsed->scenario, original.scenario);
  EXPECT_EQ(parsed->strategy, original.strategy);
  EXPECT_EQ(parsed->faults, original.faults);
  EXPECT_EQ(settings_difference(*parsed, original), "");
  EXPECT_EQ(parsed->threads, 4u);  // resolved: the scenario's default
  EXPECT_EQ(parsed->probes, original.probes);
  EXPECT_EQ(parsed->wall_seconds, original.wall_seconds);
  ASSERT_EQ(parsed->seeds.size(), original.seeds.size());
  for (std::size_t i = 0; i < original.seeds.size(); ++i) {
    const SeedResult& a = original.seeds[i];
    const SeedResult& b = parsed->seeds[i];
    EXPECT_EQ(b.seed, a.seed);
    EXPECT_EQ(b.outcome, a.outcome);
    EXPECT_EQ(b.detail, a.detail);
    EXPECT_EQ(b.repro_path, a.repro_path);
    EXPECT_EQ(b.trace_hash, a.trace_hash);
    EXPECT_EQ(b.steps, a.steps);
    EXPECT_EQ(b.seconds, a.seconds);
  }
  EXPECT_EQ(parsed->failures(), 3u);
}

TEST(SweepJson, RefusesAnythingButItsOwnFormat) {
  const std::string good = sweep_to_json(sample_sweep());
  const auto edited = [&](auto edit) {
    nlohmann::ordered_json doc = nlohmann::ordered_json::parse(good);
    edit(doc);
    return doc.dump();
  };
  struct Case {
    std::string text;
    const char* says;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {good.substr(0, good.size() / 2), "not valid JSON"},
      {"[]", "expected a JSON object"},
      {edited([](auto& d) { d["format"] = "segsim-repro"; }), "not 'segsim-sweep'"},
      {edited([](auto& d) { d["version"] = 99; }), "version 99"},
      {edited([](auto& d) { d.erase("scenario"); }), "missing field 'scenario'"},
      {edited([](auto& d) { d["extra"] = 1; }), "unknown field 'extra'"},
      {edited([](auto& d) { d["wall_seconds"] = -1; }), "'wall_seconds'"},
      {edited([](auto& d) { d["seeds"] = "1..5"; }), "'seeds' must be an array"},
      {edited([](auto& d) { d["seeds"][0]["seed"] = "1"; }), "seeds[0]: field 'seed'"},
      {edited([](auto& d) { d["seeds"][1]["seed"] = -2; }), "seeds[1]: field 'seed'"},
      {edited([](auto& d) { d["seeds"][1]["outcome"] = "flaky"; }), "unknown outcome 'flaky'"},
      {edited([](auto& d) { d["seeds"][0]["trace_hash"] = "0x12"; }), "trace_hash '0x12'"},
      {edited([](auto& d) { d["seeds"][0].erase("steps"); }), "seeds[0]: missing field 'steps'"},
      {edited([](auto& d) { d["seeds"][2]["oops"] = true; }), "seeds[2]: unknown field 'oops'"},
      {edited([](auto& d) { d["seeds"][1]["seed"] = 1; }), "listed twice"},
      {edited([](auto& d) { d["failures"] = 0; }), "'failures' says 0"},
      {edited([](auto& d) { d.erase("settings"); }), "missing field 'settings'"},
      {edited([](auto& d) { d["settings"]["threads"] = 4294967297ULL; }), "settings: field 'threads'"},
      {edited([](auto& d) { d["probes"]["x"] = -1; }), "probe 'x'"},
      // Numbers beyond a double: nlohmann's out_of_range, once an abort (exit 134).
      {std::string(good).replace(good.find("\"wall_seconds\": ") + 16, 4, "1e999"), "not valid JSON"},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto parsed = sweep_from_json(c.text, &error);
    EXPECT_FALSE(parsed.ok()) << "accepted: " << c.text.substr(0, 200);
    if (parsed.ok()) continue;
    EXPECT_NE(error.find(c.says), std::string::npos) << "wanted '" << c.says << "', got: " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
}

// Every '&' starts an entity and no markup character survives unescaped in
// a value: enough to know a JUnit consumer can parse it.
void expect_escaped(const std::string& xml) {
  for (std::size_t at = xml.find('&'); at != std::string::npos; at = xml.find('&', at + 1)) {
    const std::string rest = xml.substr(at, 6);
    const bool entity = rest.rfind("&amp;", 0) == 0 || rest.rfind("&lt;", 0) == 0 ||
                        rest.rfind("&gt;", 0) == 0 || rest.rfind("&quot;", 0) == 0 ||
                        rest.rfind("&apos;", 0) == 0 || rest.rfind("&#", 0) == 0;
    EXPECT_TRUE(entity) << "bare '&' at " << at << ": " << xml.substr(at, 20);
  }
  for (char c : xml) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 || c == '\n' || c == '\t' || c == '\r') << "control character " << int(u);
  }
}

TEST(SweepJunit, OneTestcasePerSeedWithEscapedFailures) {
  SweepResult sweep = sample_sweep();
  sweep.scenario = "chi<ca>go&\"co\"";
  sweep.seeds[1].detail = "content: <slot> & \"quote\" 'apos'\nsecond line \x01 bell";
  const std::string xml = sweep_to_junit(sweep);
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  EXPECT_EQ(count(xml, "<testcase "), sweep.seeds.size());
  EXPECT_EQ(count(xml, "<failure "), 3u);
  EXPECT_EQ(count(xml, "</failure>"), 3u);
  EXPECT_NE(xml.find("classname=\"chi&lt;ca&gt;go&amp;&quot;co&quot;\" name=\"seed 2\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("name=\"seed 18446744073709551615\""), std::string::npos);
  EXPECT_NE(xml.find("message=\"content: &lt;slot&gt; &amp; &quot;quote&quot; &apos;apos&apos;&#10;second line"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("type=\"timed-out\""), std::string::npos);
  EXPECT_NE(xml.find("segsim-failures/chicago-seed3.json"), std::string::npos);
  EXPECT_EQ(xml.find("<slot>"), std::string::npos);
  EXPECT_EQ(xml.find("chi<ca>"), std::string::npos);
  expect_escaped(xml);
  EXPECT_EQ(xml.substr(xml.size() - std::string("</testsuites>\n").size()), "</testsuites>\n");
}

TEST(SweepMerge, CombinesShardsInSeedOrder) {
  SweepResult a = sample_sweep();
  SweepResult b = sample_sweep();
  a.seeds = {seed_result(1, SeedOutcome::Passed, "", 11), seed_result(3, SeedOutcome::Failed, "content: x", 33)};
  b.seeds = {seed_result(2, SeedOutcome::Passed, "", 22), seed_result(4, SeedOutcome::Crashed, "killed"),
             seed_result(3, SeedOutcome::Failed, "content: x", 33)};  // a re-run seed, same outcome
  a.wall_seconds = 3;
  b.wall_seconds = 5;
  std::string error;
  const auto merged = merge_sweeps({b, a}, &error);
  ASSERT_TRUE(merged.ok()) << error;
  std::vector<std::uint64_t> seeds;
  for (const SeedResult& s : merged->seeds) seeds.push_back(s.seed);
  EXPECT_EQ(seeds, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(merged->failures(), 2u);
  EXPECT_EQ(merged->scenario, "chicago");
  EXPECT_EQ(merged->wall_seconds, 5);
  // Merging is idempotent and survives a JSON round trip of its output.
  const auto again = merge_sweeps({*merged, *merged}, &error);
  ASSERT_TRUE(again.ok()) << error;
  const auto parsed = sweep_from_json(sweep_to_json(*again), &error);
  ASSERT_TRUE(parsed.ok()) << error;
  EXPECT_EQ(parsed->seeds.size(), 4u);
}

TEST(SweepMerge, RefusesResultsOfDifferentSweepsOrContradictions) {
  const SweepResult base = sample_sweep();
  struct Case {
    std::vector<SweepResult> shards;
    const char* says;
  };
  SweepResult other_scenario = base;
  other_scenario.scenario = "budget";
  SweepResult other_strategy = base;
  other_strategy.strategy = "rr";
  SweepResult other_faults = base;
  other_faults.faults = "none";
  SweepResult contradicting = base;
  contradicting.seeds = {seed_result(2, SeedOutcome::Passed, "", 7)};
  SweepResult other_hash = base;
  other_hash.seeds = {seed_result(1, SeedOutcome::Passed, "", 0x42)};
  // Settings beyond scenario, strategy and faults: a --size 2 sweep is not a
  // shard of a default one (it used to merge, or to report "nondeterminism").
  SweepResult other_size = base;
  other_size.size = 2;
  SweepResult other_steps = base;
  other_steps.max_steps = 7;
  SweepResult other_build = base;
  other_build.build_id = "another build";
  const Case cases[] = {
      {{}, "no sweep results"},
      {{base, other_scenario}, "scenario 'chicago' vs 'budget'"},
      {{base, other_strategy}, "strategy 'pct' vs 'rr'"},
      {{base, other_faults}, "faults 'mmap:ENOMEM@p=0.01' vs 'none'"},
      {{base, other_size}, "size '1' vs '2'"},
      {{base, other_steps}, "max_steps '4000000' vs '7'"},
      {{base, other_build}, "build_id"},
      {{base, contradicting}, "seed 2 is failed in one result and passed in another"},
      {{base, other_hash}, "nondeterminism"},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto merged = merge_sweeps(c.shards, &error);
    EXPECT_FALSE(merged.ok()) << c.says;
    if (merged.ok()) continue;
    EXPECT_EQ(merged.error().code, Errc::InvalidConfig);
    EXPECT_NE(error.find(c.says), std::string::npos) << "wanted '" << c.says << "', got: " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

TEST(SeedOutcomeName, NamesEveryOutcome) {
  EXPECT_EQ(seed_outcome_name(SeedOutcome::Passed), "passed");
  EXPECT_EQ(seed_outcome_name(SeedOutcome::Failed), "failed");
  EXPECT_EQ(seed_outcome_name(SeedOutcome::Crashed), "crashed");
  EXPECT_EQ(seed_outcome_name(SeedOutcome::TimedOut), "timed-out");
}

// ---------------------------------------------------------------------------
// trace JSON, text files, plots

RunReport synthetic_report() {
  RunReport r;
  r.spec.scenario = "chicago";
  r.spec.seed = 42;
  r.concrete_faults = "mmap:ENOMEM@nth=1";
  r.fibers = 3;  // fiber #2 records nothing, yet gets a track
  using sim::TraceOp;
  r.full_trace = {
      {1, 0, TraceOp::Start, 0, 1000, 0},
      {2, 1, TraceOp::MutexLock, 5, 1500, 0},
      {3, 1, TraceOp::Annotation, 0, 2000,
       faults::kTraceOsFault << 32 | (std::uint64_t{static_cast<std::uint8_t>(OsCall::Map)} << 16 | ENOMEM)},
      {4, 0, TraceOp::Annotation, 0, 2500, faults::kTracePointFired << 32 | 0},
      {5, sim::kNoFiber, TraceOp::Wake, 5, 3001, 1},
  };
  r.memory = {{0, 0, 0}, {1'000'000, 4u << 20, 1u << 20}, {3'000'000, 6u << 20, 5u << 20}};
  r.peak_virtual_bytes = 6u << 20;
  r.peak_resident_bytes = 5u << 20;
  return r;
}

TEST(TraceJson, IsChromeTraceFormatWithOneTrackPerFiber) {
  const std::string text = chrome_trace_json(synthetic_report());
  const nlohmann::json doc = nlohmann::json::parse(text);  // throws (fails the test) if invalid
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["displayTimeUnit"], "ns");
  ASSERT_TRUE(doc["traceEvents"].is_array());

  std::map<int, std::string> thread_names;
  std::size_t faults = 0, counters_virtual = 0, counters_resident = 0, instants = 0;
  for (const auto& e : doc["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("name")) << e.dump();
    EXPECT_EQ(e["pid"], 1);
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "thread_name") thread_names[e["tid"].get<int>()] = e["args"]["name"];
    if (ph != "M") {
      ASSERT_TRUE(e["ts"].is_number()) << e.dump();
    }
    if (ph == "C") {
      if (e["name"] == "virtual_bytes") ++counters_virtual;
      if (e["name"] == "resident_bytes") ++counters_resident;
    }
    if (ph == "i" && e["name"] == "fault") {
      ++faults;
      EXPECT_EQ(e["s"], "g");
    }
    if (ph == "i" && e["name"] == "mutex.lock") {
      ++instants;
      EXPECT_EQ(e["tid"], 2);  // fiber #1
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 1.5);
      EXPECT_EQ(e["args"]["step"], 2);
      EXPECT_EQ(e["args"]["object"], 5);
    }
    if (e["name"] == "wake") {
      EXPECT_EQ(e["tid"], 0);
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 3.001);
    }
  }
  EXPECT_EQ(thread_names[0], "scheduler");
  EXPECT_EQ(thread_names[1], "fiber #0");
  EXPECT_EQ(thread_names[2], "fiber #1");
  EXPECT_EQ(thread_names[3], "fiber #2");
  EXPECT_EQ(thread_names.size(), 4u);
  EXPECT_EQ(faults, 2u);
  EXPECT_EQ(instants, 1u) << "mutex.lock must be named by trace_op_name";
  EXPECT_EQ(counters_virtual, 3u);
  EXPECT_EQ(counters_resident, 3u);
  EXPECT_NE(text.find("\"call\":\"mmap\""), std::string::npos);
  EXPECT_NE(text.find("\"errno\":\"ENOMEM\""), std::string::npos);
}

TEST(TraceJson, EmptyRunIsStillValid) {
  RunReport r;
  r.spec.scenario = "we\"ird\nname";
  const nlohmann::json doc = nlohmann::json::parse(chrome_trace_json(r));
  EXPECT_TRUE(doc["traceEvents"].is_array());
}

TEST(TraceJson, RealRunHasATrackPerFiberAndItsFaults) {
  RunSpec spec;
  spec.scenario = "chicago";
  spec.seed = 5;
  spec.size = 1;
  spec.faults = "madvise:EAGAIN@p=0.2,point:*@p=0.2";
  const auto report = run_scenario(spec, RunOptions{.keep_full_trace = true, .sample_memory = true});
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->full_trace.empty());
  std::size_t fault_annotations = 0;
  for (const sim::TraceEvent& e : report->full_trace) {
    const std::uint64_t category = e.detail >> 32;
    if (e.op == sim::TraceOp::Annotation && category >= faults::kTraceOsFault &&
        category <= faults::kTraceAsyncDelay) {
      ++fault_annotations;
    }
  }
  EXPECT_GT(fault_annotations, 0u) << "the plan injects faults";

  const nlohmann::json doc = nlohmann::json::parse(chrome_trace_json(*report));
  std::size_t tracks = 0, faults_seen = 0, events = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") ++tracks;
    if (e["ph"] == "i" && e["name"] == "fault") ++faults_seen;
    if (e["ph"] == "i") ++events;
  }
  EXPECT_EQ(tracks, report->fibers + 1u) << "one per fiber and the scheduler";
  EXPECT_EQ(faults_seen, fault_annotations);
  EXPECT_EQ(events, report->full_trace.size());

  const std::string svg = memory_plot_svg(*report);
  EXPECT_FALSE(report->memory.empty());
  EXPECT_EQ(count(svg, "<polyline "), 2u);
}

TEST(WriteTextFile, WritesAtomicallyAndReportsFailures) {
  TempDir dir;
  const fs::path target = dir.path() / "out.json";
  std::string error;
  ASSERT_TRUE(write_text_file(target.string(), "first", &error).ok()) << error;
  ASSERT_TRUE(write_text_file(target.string(), "second\n", &error).ok()) << error;
  EXPECT_EQ(read_file(target), "second\n");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u) << "no temporary file left behind";

  const std::string missing = (dir.path() / "no-such-dir" / "out.json").string();
  const Status status = write_text_file(missing, "x", &error);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(error.find(missing), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST(PlotSvg, TwoSeriesWithAxesLegendAndTitle) {
  RunReport r = synthetic_report();
  r.spec.scenario = "chi<cago>";
  const std::string svg = memory_plot_svg(r);
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(count(svg, "<polyline "), 2u);
  EXPECT_EQ(count(svg, "<text"), count(svg, "</text>"));
  EXPECT_NE(svg.find("chi&lt;cago&gt; seed 42"), std::string::npos);
  EXPECT_EQ(svg.find("chi<cago>"), std::string::npos);
  EXPECT_NE(svg.find("(MiB)"), std::string::npos);
  EXPECT_NE(svg.find("(ms)"), std::string::npos);
  EXPECT_NE(svg.find("virtual bytes"), std::string::npos);
  EXPECT_NE(svg.find("resident bytes"), std::string::npos);
  expect_escaped(svg);
}

TEST(PlotSvg, ZeroOrOneSampleIsGraceful) {
  RunReport r = synthetic_report();
  r.memory.clear();
  std::string svg = memory_plot_svg(r);
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_EQ(count(svg, "<polyline "), 0u);
  EXPECT_NE(svg.find("no memory samples"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);

  r.memory = {{0, 1u << 20, 1u << 19}};
  svg = memory_plot_svg(r);
  EXPECT_EQ(count(svg, "<polyline "), 2u);
  EXPECT_EQ(count(svg, "<circle "), 2u) << "a single point is marked";
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(PlotSvg, ThinsLongSeriesButKeepsPeaks) {
  RunReport r = synthetic_report();
  r.memory.clear();
  for (std::int64_t i = 0; i < 100'000; ++i) {
    const std::uint64_t bytes = i == 54'321 ? 64u << 20 : 1u << 20;  // one spike
    r.memory.push_back({i * 1000, bytes, bytes / 2});
  }
  const std::string svg = memory_plot_svg(r);
  EXPECT_LT(svg.size(), 200'000u);
  // The spike sets the y axis (64 MiB → top tick 80) and survives thinning:
  // some virtual point lies far above the 1 MiB baseline (y ≈ 411).
  EXPECT_NE(svg.find(">80</text>"), std::string::npos);
  const std::size_t start = svg.find("class=\"virtual\"");
  ASSERT_NE(start, std::string::npos);
  const std::string line = svg.substr(start, svg.find("/>", start) - start);
  double min_y = 1e9;
  std::istringstream points(line.substr(line.find("points=\"") + 8));
  std::string pair;
  while (points >> pair) {
    const auto comma = pair.find(',');
    if (comma == std::string::npos) break;
    min_y = std::min(min_y, std::stod(pair.substr(comma + 1)));
  }
  EXPECT_LT(min_y, 130.0) << "the 64 MiB spike is drawn";
}

// ---------------------------------------------------------------------------
// real runs: forked sweeps and shrinking

SweepSpec small_sweep(const TempDir& dir, const std::string& scenario) {
  SweepSpec spec;
  spec.base.scenario = scenario;
  spec.base.size = 1;
  spec.failures_dir = (dir.path() / "failures").string();
  spec.seed_timeout_seconds = 600;  // a hang, not slowness, must trip it
  return spec;
}

TEST(RunSweep, EverySeedOfTheShardHasAResultInOrder) {
  TempDir dir;
  SweepSpec spec = small_sweep(dir, "budget");
  spec.seeds = {1, 7};
  spec.shard = {1, 2};  // seeds 2, 4, 6
  spec.jobs = 2;
  std::ostringstream progress;
  const SweepResult result = run_sweep(spec, progress, false);
  ASSERT_EQ(result.seeds.size(), 3u) << progress.str();
  EXPECT_EQ(result.seeds[0].seed, 2u);
  EXPECT_EQ(result.seeds[1].seed, 4u);
  EXPECT_EQ(result.seeds[2].seed, 6u);
  EXPECT_EQ(result.scenario, "budget");
  for (const SeedResult& s : result.seeds) {
    EXPECT_EQ(s.outcome, SeedOutcome::Passed) << s.seed << ": " << s.detail;
    EXPECT_GT(s.steps, 0u);
    // The child reports exactly what a run in this process gives.
    RunSpec run = spec.base;
    run.seed = s.seed;
    const auto report = run_scenario(run);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(s.trace_hash, report->trace_hash) << "seed " << s.seed;
  }
  EXPECT_NE(progress.str().find("3/3 seeds"), std::string::npos) << progress.str();
}

TEST(RunSweep, FailuresAreRecordedWithReplayableRepros) {
  TempDir dir;
  SweepSpec spec = small_sweep(dir, "chicago");
  spec.base.test_hook = "corrupt-segment";
  spec.seeds = {3, 6};
  spec.jobs = 3;
  std::ostringstream progress;
  const SweepResult result = run_sweep(spec, progress, true);
  ASSERT_EQ(result.seeds.size(), 4u) << progress.str();
  EXPECT_GE(result.failures(), 1u) << "the sabotage hook must make some seed fail";
  for (const SeedResult& s : result.seeds) {
    // Each child's verdict is the verdict of the same run in this process.
    RunSpec run = spec.base;
    run.seed = s.seed;
    const auto report = run_scenario(run);
    ASSERT_TRUE(report.ok());
    if (report->passed) {
      EXPECT_EQ(s.outcome, SeedOutcome::Passed) << s.seed << ": " << s.detail;
      EXPECT_TRUE(s.repro_path.empty());
      continue;
    }
    EXPECT_EQ(s.outcome, SeedOutcome::Failed) << s.seed << ": " << s.detail;
    EXPECT_EQ(s.detail, report->failure->signature());
    EXPECT_EQ(s.repro_path, (fs::path(spec.failures_dir) / fmt::format("chicago-seed{}.json", s.seed)).string());
    std::string error;
    const auto repro = read_repro(s.repro_path, &error);
    ASSERT_TRUE(repro.ok()) << error;
    EXPECT_EQ(repro->spec.seed, s.seed);
    EXPECT_EQ(repro->expected_trace_hash, report->trace_hash);
    ASSERT_TRUE(repro->failure.has_value());
    EXPECT_EQ(repro->failure->signature(), s.detail);
    EXPECT_NE(progress.str().find(fmt::format("seed {}: failed", s.seed)), std::string::npos);
  }
  EXPECT_NE(progress.str().find('\r'), std::string::npos) << "terminal mode redraws in place";
}

TEST(RunSweep, StopOnFailureLaunchesNoMoreSeeds) {
  TempDir dir;
  SweepSpec spec = small_sweep(dir, "chicago");
  spec.base.test_hook = "corrupt-segment";
  spec.seeds = {1, 20};
  spec.jobs = 1;  // one at a time: nothing runs beside the first failure
  spec.stop_on_failure = true;
  std::ostringstream progress;
  const SweepResult result = run_sweep(spec, progress, false);
  ASSERT_FALSE(result.seeds.empty());
  ASSERT_LT(result.seeds.size(), 20u) << "the sabotage hook must make some seed fail";
  EXPECT_EQ(result.failures(), 1u);
  EXPECT_EQ(result.seeds.back().outcome, SeedOutcome::Failed);
  for (std::size_t i = 0; i < result.seeds.size(); ++i) EXPECT_EQ(result.seeds[i].seed, 1 + i);
}

// A seed that outlives its time limit is killed and kept: TimedOut, with a
// repro the parent writes from the spec alone.
TEST(RunSweep, HungSeedIsKilledAndRecorded) {
  TempDir dir;
  SweepSpec spec = small_sweep(dir, "chicago");
  spec.base.size = 1000;  // millions of steps: far beyond the limit below
  spec.base.max_steps = UINT64_MAX;
  spec.base.faults = "swarm";
  spec.seeds = {3, 4};
  spec.jobs = 2;
  spec.seed_timeout_seconds = 0.05;
  std::ostringstream progress;
  const SweepResult result = run_sweep(spec, progress, false);
  ASSERT_EQ(result.seeds.size(), 2u);
  for (const SeedResult& s : result.seeds) {
    if (s.outcome != SeedOutcome::TimedOut) GTEST_SKIP() << "seed " << s.seed << " finished within 50 ms";
    EXPECT_EQ(s.detail, "timed out after 0.05 s");
    std::string error;
    const auto repro = read_repro(s.repro_path, &error);
    ASSERT_TRUE(repro.ok()) << error;
    EXPECT_EQ(repro->spec.seed, s.seed);
    EXPECT_EQ(repro->spec.size, 1000u);
    EXPECT_NE(repro->spec.faults, "swarm") << "repros name the concrete plan";
    ASSERT_TRUE(repro->failure.has_value());
    EXPECT_EQ(repro->failure->oracle, "hang");
    EXPECT_EQ(repro->failure->message, s.detail);
  }
  EXPECT_NE(progress.str().find("timed-out"), std::string::npos);
}

TEST(Shrink, RefusesARunThatPasses) {
  Repro repro;
  repro.spec.scenario = "budget";
  repro.spec.size = 1;
  std::ostringstream log;
  std::string error;
  const auto result = shrink(repro, ShrinkLimits{}, log, &error);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::InvalidConfig);
  EXPECT_EQ(error, "the repro passes: nothing to shrink");
}

TEST(Shrink, MinimalReproFailsTheSameWayAndReplaysExactly) {
  RunSpec spec;
  spec.scenario = "chicago";
  spec.seed = 4;
  spec.size = 2;
  spec.test_hook = "corrupt-segment";
  const auto original = run_scenario(spec);
  ASSERT_TRUE(original.ok());
  ASSERT_FALSE(original->passed);
  const Repro failing = repro_from_report(*original);

  std::ostringstream log;
  std::string error;
  const auto shrunk = shrink(failing, ShrinkLimits{.max_runs = 60, .max_seconds = 120}, log, &error);
  ASSERT_TRUE(shrunk.ok()) << error;
  EXPECT_LE(shrunk->runs, 60u);
  EXPECT_LE(shrunk->threads_after, shrunk->threads_before);
  EXPECT_LE(shrunk->size_after, shrunk->size_before);
  EXPECT_LE(shrunk->decisions_after, shrunk->decisions_before);
  EXPECT_EQ(shrunk->decisions_before, original->decisions.size());
  EXPECT_GE(shrunk->threads_after, 1u);
  const Repro& minimal = shrunk->minimal;
  ASSERT_TRUE(minimal.failure.has_value());
  EXPECT_EQ(minimal.failure->oracle, original->failure->oracle);
  EXPECT_EQ(minimal.spec.threads, shrunk->threads_after);
  EXPECT_EQ(minimal.spec.decisions.size(), shrunk->decisions_after);

  // The minimal repro is exact: replaying it (as `segsim replay` does, from
  // the file) gives its recorded failure and trace hash.
  const auto reread = repro_from_json(repro_to_json(minimal), &error);
  ASSERT_TRUE(reread.ok()) << error;
  const auto replay = run_scenario(reread->spec);
  ASSERT_TRUE(replay.ok());
  ASSERT_FALSE(replay->passed);
  EXPECT_EQ(replay->failure->oracle, original->failure->oracle);
  EXPECT_EQ(replay->trace_hash, minimal.expected_trace_hash);
  EXPECT_NE(log.str().find("done after"), std::string::npos) << log.str();
}

}  // namespace
}  // namespace segsim::scenarios
