// segsim reproduce's parts (issue 13): the crash report parser is strict (a
// bad, truncated or foreign report is one line), and a report's recorded
// operations, rebuilt as fibers, make the recorded refusal recur — first in
// the recorded order; a refusal the operations cannot cause is not found.
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "scenarios/crash_report.h"
#include "scenarios/reproduce.h"

namespace segsim::scenarios {
namespace {

std::string event(std::uint64_t seq, const char* op, int size_class, std::uint32_t slice, std::uint32_t generation,
                  const char* result) {
  return fmt::format(R"({{"seq": {}, "op": "{}", "bytes": {}, "class": {}, "region": 0, "slice": {}, )"
                     R"("generation": {}, "result": "{}", "address": "0x7f0000001000"}})",
                     seq, op, std::string(op).rfind("allocate", 0) == 0 ? 4096 : 0, size_class, slice, generation,
                     result);
}

// Thread 0 allocates slice 0 and releases it; thread 1 releases the same
// handle again afterwards: the double free the report records.
std::string double_free_report(const std::string& refused_slice = "0") {
  return fmt::format(R"({{"format": "segsim-crash", "version": 1, "build_id": "b", "pid": 1,
  "stack": {{"region_bytes": 262144, "budget_bytes": 67108864, "ring_events": 16, "threads_not_recorded": 0}},
  "failure": {{"kind": "refused", "errc": "double free", "thread": 1,
               "operation": {{"seq": 3, "op": "release", "bytes": 0, "class": 0, "region": 0, "slice": {},
                             "generation": 1, "result": "double free", "address": "0x1"}}}},
  "threads": [
    {{"thread": 0, "recorded": 2, "events": [{}, {}]}},
    {{"thread": 1, "recorded": 1, "events": [{}]}}
  ]}})",
                     refused_slice, event(1, "allocate", 0, 0, 1, "ok"), event(2, "release", 0, 0, 1, "ok"),
                     event(3, "release", 0, 0, 1, "double free"));
}

TEST(CrashReport, ParsesTheRecordedOperations) {
  std::string error;
  auto report = crash_report_from_json(double_free_report(), &error);
  ASSERT_TRUE(report.ok()) << error;
  EXPECT_EQ(report->kind, "refused");
  ASSERT_TRUE(report->refused);
  EXPECT_EQ(report->refused->error, Errc::DoubleFree);
  ASSERT_EQ(report->threads.size(), 2u);
  EXPECT_EQ(report->threads[0].events[1].op, flight_recorder::Op::Release);
  EXPECT_EQ(report->region_bytes, 262144u);
}

TEST(CrashReport, BadTruncatedOrForeignIsOneLine) {
  const std::string good = double_free_report();
  std::vector<std::string> bad = {"", "{", "[]", R"({"format": "segsim-repro", "version": 2})",
                                  R"({"format": "segsim-crash", "version": 99})"};
  for (std::size_t cut = 1; cut < good.size(); cut += 37) bad.push_back(good.substr(0, cut));
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  bad.push_back(replaced(R"("op": "allocate")", R"("op": "free")"));
  bad.push_back(replaced(R"("result": "ok")", R"("result": "oops")"));
  bad.push_back(replaced(R"("class": 0)", R"("class": 9)"));
  bad.push_back(replaced(R"("seq": 2)", R"("seq": 1)"));
  bad.push_back(replaced(R"("region_bytes": 262144)", R"("region_bytes": -1)"));
  for (const std::string& text : bad) {
    std::string error;
    EXPECT_FALSE(crash_report_from_json(text, &error).ok()) << text;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(error.rfind("bad crash report: ", 0), 0u) << error;
  }
}

TEST(Reproduce, TheRecordedDoubleFreeRecursInTheRecordedOrder) {
  std::string error;
  auto report = crash_report_from_json(double_free_report(), &error);
  ASSERT_TRUE(report.ok()) << error;
  auto outcome = reproduce_crash(report.value(), {}, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  EXPECT_TRUE(outcome->reproduced);
  EXPECT_EQ(outcome->attempts, 1u);
  EXPECT_EQ(outcome->schedule, "recorded order");
  EXPECT_NE(outcome->failure.find("double free"), std::string::npos) << outcome->failure;
}

TEST(Reproduce, ARefusalTheOperationsCannotCauseIsNotFound) {
  std::string error;
  auto report = crash_report_from_json(double_free_report("5"), &error);  // slice 5: never released twice
  ASSERT_TRUE(report.ok()) << error;
  ReproduceLimits limits;
  limits.max_attempts = 4;
  auto outcome = reproduce_crash(report.value(), limits, &error);
  ASSERT_TRUE(outcome.ok()) << error;
  EXPECT_FALSE(outcome->reproduced);
  EXPECT_EQ(outcome->attempts, 4u);
}

TEST(Reproduce, ABadStackConfigIsRefused) {
  std::string text = double_free_report();
  text.replace(text.find("262144"), 6, "1000");
  std::string error;
  auto report = crash_report_from_json(text, &error);
  ASSERT_TRUE(report.ok()) << error;
  EXPECT_FALSE(reproduce_crash(report.value(), {}, &error).ok());
  EXPECT_NE(error.find("stack config"), std::string::npos) << error;
}

}  // namespace
}  // namespace segsim::scenarios
