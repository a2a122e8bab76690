// run_in_child (scenarios/in_child.h): the body's bytes come back; how the
// child ended (exit code, signal, time limit); output past max_bytes is cut
// and flagged; every run leaves no child and no open descriptor behind.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "scenarios/in_child.h"

namespace segsim::scenarios {
namespace {

using End = ChildOutcome::End;
using namespace std::chrono_literals;

constexpr std::size_t kMaxBytes = 1 << 20;

// This process's open descriptors.
std::size_t open_fd_count() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

// No child of this process is left, running or zombie.
bool no_child_left() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

// Each test: run_in_child leaves no child and no descriptor behind.
class InChild : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = open_fd_count(); }
  void TearDown() override {
    EXPECT_TRUE(no_child_left());
    EXPECT_EQ(open_fd_count(), fds_before_);
  }

 private:
  std::size_t fds_before_ = 0;
};

TEST_F(InChild, TheBodysBytesComeBack) {
  const std::string sent("bytes\0and\nmore", 14);
  const ChildOutcome outcome = run_in_child([&] { return sent; }, kMaxBytes, 60s);
  EXPECT_EQ(outcome.end, End::Exited);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.bytes, sent);
  EXPECT_FALSE(outcome.truncated);
  EXPECT_TRUE(outcome.complete());
}

TEST_F(InChild, MoreBytesThanAPipeHoldsComeBackWhole) {
  std::string sent(kMaxBytes, 'x');
  for (std::size_t i = 0; i < sent.size(); i += 4093) sent[i] = static_cast<char>('a' + i % 26);
  const ChildOutcome outcome = run_in_child([&] { return sent; }, kMaxBytes, 60s);
  EXPECT_TRUE(outcome.complete());
  EXPECT_EQ(outcome.bytes, sent);
}

TEST_F(InChild, TheBodyRunsOnlyInTheChild) {
  int runs_here = 0;
  const ChildOutcome outcome = run_in_child([&] { return std::to_string(++runs_here); }, kMaxBytes, 60s);
  EXPECT_EQ(outcome.bytes, "1");
  EXPECT_EQ(runs_here, 0);
}

TEST_F(InChild, AChildThatExitsNonZero) {
  const ChildOutcome outcome = run_in_child([]() -> std::string { ::_exit(7); }, kMaxBytes, 60s);
  EXPECT_EQ(outcome.end, End::Exited);
  EXPECT_EQ(outcome.exit_code, 7);
  EXPECT_TRUE(outcome.bytes.empty());
  EXPECT_FALSE(outcome.complete());
}

TEST_F(InChild, ABodyThatThrowsEndsTheChildNotTheCaller) {
  const ChildOutcome outcome =
      run_in_child([]() -> std::string { throw std::runtime_error("in the child"); }, kMaxBytes, 60s);
  EXPECT_EQ(outcome.end, End::Exited);
  EXPECT_EQ(outcome.exit_code, kChildThrewExit);
  EXPECT_FALSE(outcome.complete());
}

TEST_F(InChild, AChildKilledByASignal) {
  const ChildOutcome outcome = run_in_child(
      []() -> std::string {
        std::signal(SIGABRT, SIG_DFL);
        std::raise(SIGABRT);
        return "not reached";
      },
      kMaxBytes, 60s);
  EXPECT_EQ(outcome.end, End::Signalled);
  EXPECT_EQ(outcome.signal, SIGABRT);
  EXPECT_TRUE(outcome.bytes.empty());
  EXPECT_FALSE(outcome.complete());
}

TEST_F(InChild, AChildPastItsTimeLimitIsKilledAndReaped) {
  const ChildOutcome outcome = run_in_child(
      [] {
        std::this_thread::sleep_for(30s);
        return std::string("too late");
      },
      kMaxBytes, 200ms);
  EXPECT_EQ(outcome.end, End::TimedOut);
  EXPECT_TRUE(outcome.bytes.empty());
  EXPECT_FALSE(outcome.complete());
  // TearDown: no child is left, not even a zombie.
}

TEST_F(InChild, OutputPastMaxBytesIsCutAndFlagged) {
  const std::string sent = "0123456789abcdefghij";
  const ChildOutcome outcome = run_in_child([&] { return sent; }, 10, 60s);
  EXPECT_EQ(outcome.end, End::Exited);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.bytes, sent.substr(0, 10));
  EXPECT_TRUE(outcome.truncated);
  EXPECT_FALSE(outcome.complete());
}

TEST_F(InChild, OutputOfExactlyMaxBytesIsWhole) {
  const ChildOutcome outcome = run_in_child([] { return std::string("0123456789"); }, 10, 60s);
  EXPECT_EQ(outcome.bytes, "0123456789");
  EXPECT_FALSE(outcome.truncated);
  EXPECT_TRUE(outcome.complete());
}

}  // namespace
}  // namespace segsim::scenarios
