// FailureLog: what real-thread stress tests collect instead of a bare
// counter — every failure as one line naming the thread, the operation, the
// object and the error, so a red run says what went wrong where. The first
// failure also writes a flight-recorder crash report of kind
// kStressCheckReport when the recorder is on (SEGSIM_FLIGHT_RECORDER), with
// the test's name and that line: a stress test's own check is a failure
// `segsim reproduce` can start from. (A failed gtest assertion writes one
// too: core/tests/stress_failure_report.cpp.)
#pragma once

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "core/flight_recorder.h"

namespace segsim::testing {

// "Suite.Test: what" — a stress-check report's message.
inline std::string stress_check_message(const std::string& what) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  if (test == nullptr) return what;
  return std::string(test->test_suite_name()) + "." + test->name() + ": " + what;
}

class FailureLog {
 public:
  void add(std::string what) {
    bool first = false;
    {
      std::lock_guard<std::mutex> guard(mu_);
      first = !reported_;
      reported_ = true;
      lines_.push_back(std::move(what));
    }
    if (first && flight_recorder::on()) {
      (void)flight_recorder::write_final_report(flight_recorder::kStressCheckReport, stress_check_message(lines_back()));
    }
  }
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> guard(mu_);
    return std::move(lines_);
  }

 private:
  std::string lines_back() {
    std::lock_guard<std::mutex> guard(mu_);
    return lines_.empty() ? std::string() : lines_.front();
  }

  std::mutex mu_;
  std::vector<std::string> lines_;
  bool reported_ = false;
};

// One line per entry, for a gtest failure message.
inline std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

}  // namespace segsim::testing
