// FailureLog: what real-thread stress tests collect instead of a bare
// counter — every failure as one line naming the thread, the operation, the
// object and the error, so a red run says what went wrong where. The first
// failure also writes a flight-recorder crash report of kind
// kStressCheckReport when the recorder is on (SEGSIM_FLIGHT_RECORDER): a
// stress test's own check is a failure `segsim reproduce` can start from.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "core/flight_recorder.h"

namespace segsim::testing {

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
    if (first) (void)flight_recorder::write_report(flight_recorder::kStressCheckReport);
  }
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> guard(mu_);
    return std::move(lines_);
  }

 private:
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
