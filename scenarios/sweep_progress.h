// A sweep's progress on stderr: a one-line bar redrawn in place (seeds done,
// seeds/s, failures) on a terminal, plain lines every 10 % otherwise; a
// failing seed is always its own line.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

#include <fmt/format.h>

#include "scenarios/sweep_result.h"

namespace segsim::scenarios {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

  Progress(std::ostream& out, bool terminal, const std::string& scenario, std::size_t total)
      : out_(out), terminal_(terminal), scenario_(scenario), total_(total), started_(Clock::now()) {
    // Plain output: a line every 10 % or every 50 seeds, whichever comes first.
    plain_every_ = std::max<std::size_t>(1, std::min<std::size_t>(50, (total + 9) / 10));
  }

  void seed_done(const SeedResult& result) {
    ++done_;
    if (result.outcome != SeedOutcome::Passed) {
      ++failures_;
      if (terminal_) out_ << '\r' << std::string(last_width_, ' ') << '\r';
      out_ << fmt::format("seed {}: {}: {}", result.seed, seed_outcome_name(result.outcome),
                          result.detail);
      if (!result.worker_stderr.empty()) out_ << fmt::format(" [its stderr: {}]", result.worker_stderr);
      if (!result.repro_path.empty()) out_ << fmt::format(" (repro {})", result.repro_path);
      out_ << '\n';
      last_width_ = 0;
    }
    if (terminal_) {
      const auto now = Clock::now();
      if (done_ == total_ || now - last_redraw_ >= kRedrawInterval) {
        last_redraw_ = now;
        redraw();
      }
    } else if (done_ % plain_every_ == 0 || done_ == total_) {
      out_ << line() << '\n';
    }
    out_.flush();
  }

  // After the sweep: the final state, whatever the throttling skipped.
  void finish() {
    if (terminal_) {
      redraw();
      out_ << '\n';
    } else if (done_ % plain_every_ != 0 && done_ != total_) {
      out_ << line() << '\n';
    }
    out_.flush();
  }

 private:
  std::string line() const {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
    return fmt::format("sweep {}: {}/{} seeds, {:.1f} seeds/s, {} failure{}", scenario_, done_,
                       total_, rate, failures_, failures_ == 1 ? "" : "s");
  }
  void redraw() {
    const std::string text = line();
    out_ << '\r' << text;
    if (text.size() < last_width_) out_ << std::string(last_width_ - text.size(), ' ');
    last_width_ = text.size();
  }

  std::ostream& out_;
  const bool terminal_;
  const std::string scenario_;
  const std::size_t total_;
  const Clock::time_point started_;
  Clock::time_point last_redraw_{};
  std::size_t plain_every_ = 1;
  std::size_t done_ = 0;
  std::size_t failures_ = 0;
  std::size_t last_width_ = 0;
};

}  // namespace segsim::scenarios
