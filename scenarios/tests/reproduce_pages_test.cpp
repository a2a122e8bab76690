// segsim reproduce of the page layer (issue 13, crash-report version 2): page
// events parse (and a bad one is one line), a version-1 report still parses,
// and the "recorded" scenario rebuilds the pool and cache from the program's
// own calls (depth 0) with the recorded cache bounds — a correct stack passes
// it, so a stress-check report of a correct run is not "reproduced".
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>

#include <fmt/format.h>

#include "core/probe.h"
#include "scenarios/crash_report.h"
#include "scenarios/recording.h"
#include "scenarios/reproduce.h"
#include "scenarios/run.h"

namespace segsim::scenarios {
namespace {

std::string page_event(std::uint64_t seq, const char* op, std::uint64_t page, std::uint64_t bytes = 0,
                       std::uint32_t depth = 0, std::uint32_t slot = 0) {
  return fmt::format(R"({{"seq": {}, "op": "{}", "depth": {}, "page": {}, "slot": {}, "bytes": {}, "result": "ok"}})",
                     seq, op, depth, page, slot, bytes);
}

std::string alloc_event(std::uint64_t seq, const char* op, std::uint32_t depth, std::uint32_t slice) {
  return fmt::format(R"({{"seq": {}, "op": "{}", "depth": {}, "bytes": 4096, "class": 0, "region": 0, "slice": {}, )"
                     R"("generation": 1, "result": "ok", "address": "0x7f0000001000"}})",
                     seq, op, depth, slice);
}

// Writer thread 0 builds pages 1..3 and caches each (a cache of 2 entries:
// the third put evicts page 1, whose give-back is nested, depth 1); reader
// thread 1 pins page 3 and drops the pin.
std::string page_report(const std::string& extra_stack = R"(, "page_cache": {"max_entries": 2, "max_bytes": 1073741824})") {
  std::string writer;
  std::uint64_t seq = 1;
  // One statement per event: the order of operands of + is unspecified.
  for (std::uint64_t page = 1; page <= 3; ++page) {
    writer += page_event(seq++, "pool_borrow", page) + ", ";
    writer += alloc_event(seq++, "allocate", 1, static_cast<std::uint32_t>(page)) + ", ";
    writer += page_event(seq++, "page_set_slot", page, 100 * page) + ", ";
    writer += page_event(seq++, "cache_put", page, page);
    if (page == 3) writer += ", " + page_event(seq++, "pool_give_back", 1, 0, 1);
    if (page < 3) writer += ", ";
  }
  const std::string reader = page_event(seq + 1, "cache_get", 3, 0, 0, 1) + ", " + page_event(seq + 2, "cache_unpin", 3);
  return fmt::format(R"({{"format": "segsim-crash", "version": 2, "build_id": "b", "pid": 1,
  "stack": {{"region_bytes": 262144, "budget_bytes": 67108864, "ring_events": 64, "threads_not_recorded": 0{}}},
  "failure": {{"kind": "stress-check", "message": "PageLayerStress.X: reader 0: page 3 slot 0 reads 0x00"}},
  "threads": [{{"thread": 0, "recorded": 14, "events": [{}]}},
              {{"thread": 1, "recorded": 2, "events": [{}]}}]}})",
                     extra_stack, writer, reader);
}

TEST(CrashReportPages, VersionTwoPageEventsParseAndReadBackTheSame) {
  std::string error;
  auto report = crash_report_from_json(page_report(), &error);
  ASSERT_TRUE(report.ok()) << error;
  EXPECT_EQ(report->cache_max_entries, 2u);
  EXPECT_EQ(report->message, "PageLayerStress.X: reader 0: page 3 slot 0 reads 0x00");
  EXPECT_NE(report->text.find("reader 0: page 3"), std::string::npos) << report->text;
  const CrashEvent& set = report->threads[0].events[2];
  EXPECT_EQ(set.op, flight_recorder::Op::PageSetSlot);
  EXPECT_EQ(std::tie(set.page, set.bytes, set.depth), std::make_tuple(std::uint64_t{1}, std::uint64_t{100}, 0u));
  EXPECT_EQ(report->threads[0].events[1].depth, 1u);
  EXPECT_TRUE(replays_page_layer(report.value()));
  auto again = crash_report_from_json(crash_report_to_json(report.value()), &error);
  ASSERT_TRUE(again.ok()) << error;
  EXPECT_EQ(again->cache_max_bytes, report->cache_max_bytes);
  EXPECT_EQ(again->message, report->message);
  ASSERT_EQ(again->threads[0].events.size(), report->threads[0].events.size());
  for (std::size_t i = 0; i < again->threads[0].events.size(); ++i) {
    const CrashEvent& a = again->threads[0].events[i];
    const CrashEvent& b = report->threads[0].events[i];
    EXPECT_EQ(std::tie(a.sequence, a.op, a.page, a.slot, a.bytes, a.depth, a.region, a.slice),
              std::tie(b.sequence, b.op, b.page, b.slot, b.bytes, b.depth, b.region, b.slice));
  }
}

// Version 1 (no depth, no page events) still parses: every event the program's call.
TEST(CrashReportPages, VersionOneStillParses) {
  const std::string text = fmt::format(R"({{"format": "segsim-crash", "version": 1, "build_id": "b",
  "stack": {{"region_bytes": 262144, "budget_bytes": 67108864}}, "failure": {{"kind": "stress-check"}},
  "threads": [{{"thread": 0, "recorded": 1, "events": [{}]}}]}})",
                                       R"({"seq": 1, "op": "allocate", "bytes": 1, "class": 0, "region": 0, )"
                                       R"("slice": 0, "generation": 1, "result": "ok"})");
  std::string error;
  auto report = crash_report_from_json(text, &error);
  ASSERT_TRUE(report.ok()) << error;
  EXPECT_EQ(report->threads[0].events[0].depth, 0u);
  EXPECT_FALSE(replays_page_layer(report.value()));
}

TEST(CrashReportPages, BadPageFieldsAreOneLine) {
  const std::string good = page_report();
  auto mutate = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  };
  const std::string bad[] = {
      mutate(R"("page": 2, )", ""),                                   // a page event without its page
      mutate(R"("depth": 1,)", R"("depth": 300,)"),                    // a depth past 255
      mutate(R"("depth": 0, "page": 1, "slot": 0)", R"("depth": 0, "page": 1, "slot": -1)"),
      mutate(R"("max_entries": 2)", R"("max_entries": 0)"),            // a cache that holds nothing
      mutate(R"("message": "PageLayerStress)", R"("message": 7, "x": "PageLayerStress)"),
      mutate(R"("version": 2)", R"("version": 5)"),  // a version this build does not read
      mutate(R"("op": "cache_get")", R"("op": "cache_steal")"),
  };
  for (const std::string& text : bad) {
    std::string error;
    EXPECT_FALSE(crash_report_from_json(text, &error).ok()) << text;
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

std::uint64_t probe_hits(const RunReport& report, std::string_view name) {
  for (std::size_t i = 0; i < probes::kProbes.size(); ++i) {
    if (probes::kProbes[i].name == name) return i < report.probe_hits.size() ? report.probe_hits[i] : 0;
  }
  return 0;
}

// The rebuilt run does the program's calls on the stack's own pool and cache,
// bounded as recorded: the third put evicts (the cache holds 2), and the
// nested give-back is the cache's own, not replayed a second time (which
// would fail "double-free"). A correct stack passes: not reproduced.
TEST(ReproducePages, TheRecordedPageLayerIsRebuiltAndACorrectStackPassesIt) {
  std::string error;
  auto report = crash_report_from_json(page_report(), &error);
  ASSERT_TRUE(report.ok()) << error;
  RunSpec spec;
  spec.scenario = "recorded";
  spec.seed = 1;
  spec.threads = 2;
  spec.size = 1;
  auto recording = std::make_shared<Recording>();
  recording->report = report.value();
  recording->follow_recorded_order = true;
  spec.recording = recording;
  auto run = run_scenario(spec, {}, &error);
  ASSERT_TRUE(run.ok()) << error;
  EXPECT_FALSE(run->failure) << run->failure->signature();
  EXPECT_GE(probe_hits(run.value(), "cache.evict.entries_bound"), 1u);

  // Without the recorded bounds (the stack's default cache) nothing is evicted.
  auto unbounded = crash_report_from_json(page_report(""), &error);
  ASSERT_TRUE(unbounded.ok()) << error;
  recording->report = unbounded.value();
  auto plain = run_scenario(spec, {}, &error);
  ASSERT_TRUE(plain.ok()) << error;
  EXPECT_EQ(probe_hits(plain.value(), "cache.evict.entries_bound"), 0u);

  ReproduceLimits limits;
  limits.max_attempts = 4;
  auto outcome = reproduce_crash(report.value(), limits, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  EXPECT_FALSE(outcome->reproduced) << outcome->failure;
}

}  // namespace
}  // namespace segsim::scenarios
