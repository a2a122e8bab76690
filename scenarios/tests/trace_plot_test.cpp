// Chrome trace JSON, atomic text files, memory plots.
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
#include "scenarios/tests/text_checks.h"
#include "scenarios/trace_json.h"

namespace segsim::scenarios {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using testing::count;
using testing::expect_escaped;


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

}  // namespace
}  // namespace segsim::scenarios
