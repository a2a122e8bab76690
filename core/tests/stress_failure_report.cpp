// A crash report for every failed gtest assertion of the real-thread stress
// tests (issue 13): when the flight recorder is on (SEGSIM_FLIGHT_RECORDER),
// the first failed EXPECT / ASSERT of the process writes a report of kind
// kStressCheckReport naming the test and the assertion's text on one line — unless
// an earlier report (a FailureLog line, a refused release) already stands for
// this run. Registered at start-up, before gtest_main runs the tests; fatal
// signals and failed SEGSIM_ASSERTs are the recorder's own reports.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "core/flight_recorder.h"

namespace segsim::testing {
namespace {

class ReportFirstFailure : public ::testing::EmptyTestEventListener {
 public:
  // Kept here: inside OnTestPartResult gtest holds the lock that
  // current_test_info() takes.
  void OnTestStart(const ::testing::TestInfo& test) override {
    test_ = std::string(test.test_suite_name()) + "." + test.name();
  }

  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed() || !flight_recorder::on() || flight_recorder::reports_written() > 0) return;
    if (reported_.exchange(true)) return;
    // One line: gtest's summary spans lines ("Expected equality…", the values).
    std::string summary;
    for (const char* c = result.summary(); c != nullptr && *c != '\0' && summary.size() < 400; ++c) {
      if (*c != '\n') summary += *c;
      else if (c[1] != '\0') summary += " | ";
    }
    const std::string where = result.file_name() == nullptr ? "" : std::string(result.file_name());
    const std::string at = where.substr(where.find_last_of('/') + 1) + ":" + std::to_string(result.line_number());
    (void)flight_recorder::write_final_report(flight_recorder::kStressCheckReport, test_ + ": " + summary + " (" + at + ")");
  }

 private:
  std::atomic<bool> reported_{false};
  std::string test_;
};

[[maybe_unused]] const bool g_registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new ReportFirstFailure);
  return true;
}();

}  // namespace
}  // namespace segsim::testing
