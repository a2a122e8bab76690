// FailureLog: what real-thread stress tests collect instead of a bare
// counter — every failure as one line naming the thread, the operation, the
// object and the error, so a red run says what went wrong where.
#pragma once

#include <mutex>
#include <string>
#include <vector>

namespace segsim::testing {

class FailureLog {
 public:
  void add(std::string what) {
    std::lock_guard<std::mutex> guard(mu_);
    lines_.push_back(std::move(what));
  }
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> guard(mu_);
    return std::move(lines_);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// One line per entry, for a gtest failure message.
inline std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

}  // namespace segsim::testing
