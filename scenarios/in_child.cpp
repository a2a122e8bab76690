#include "scenarios/in_child.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>

#include "core/assert.h"

namespace segsim::scenarios {

namespace {

using ChildClock = std::chrono::steady_clock;  // CLOCK_MONOTONIC

constexpr std::size_t kChildReadChunkBytes = 64 * 1024;
// The longest single poll(): its timeout is an int of milliseconds.
constexpr std::chrono::milliseconds kChildMaxPoll{60'000};
// While the child, its bytes sent, has not ended yet: the longest pause
// between two looks.
constexpr std::chrono::milliseconds kChildMaxReapPause{10};

// The child's side: runs the body, sends at most max_bytes + 1 of its bytes
// (one more than kept tells the parent it was cut), ends. Never returns.
[[noreturn]] void be_the_child(const std::function<std::string()>& body, std::size_t max_bytes, int fd,
                               pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(kChildWriteFailedExit);  // the parent is gone already
  std::string bytes;
  try {
    bytes = body();
  } catch (...) {
    ::_exit(kChildThrewExit);
  }
  const std::size_t size = bytes.size() > max_bytes ? max_bytes + 1 : bytes.size();
  for (std::size_t written = 0; written < size;) {
    const ssize_t n = ::write(fd, bytes.data() + written, size - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
    } else if (errno != EINTR) {
      ::_exit(kChildWriteFailedExit);
    }
  }
  ::_exit(0);
}

// Reads the child's bytes into `outcome` until end of file (true) or the
// deadline (false). A read or poll error ends the reading like end of file.
bool read_child_bytes(int fd, ChildClock::time_point deadline, std::size_t max_bytes, ChildOutcome& outcome) {
  char buffer[kChildReadChunkBytes];
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - ChildClock::now());
    if (left.count() <= 0) return false;
    pollfd polled{fd, POLLIN, 0};
    const int ready = ::poll(&polled, 1, static_cast<int>(std::min(left, kChildMaxPoll).count()));
    if (ready < 0 && errno != EINTR) return true;
    if (ready <= 0) continue;
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return true;
    }
    const std::size_t got = static_cast<std::size_t>(n);
    const std::size_t kept = std::min(got, max_bytes - outcome.bytes.size());
    outcome.bytes.append(buffer, kept);
    if (kept < got) outcome.truncated = true;
  }
}

// The child's wait status once it has ended, looking until `deadline`;
// nullopt when the deadline came first (the child still runs).
std::optional<int> reap_child_by(pid_t pid, ChildClock::time_point deadline) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    int status = 0;
    const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return status;
    SEGSIM_ASSERT(reaped == 0 || errno == EINTR, "waitpid on our own child");
    const auto now = ChildClock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<ChildClock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, kChildMaxReapPause);
  }
}

// Kills the child and reaps it (waitpid, EINTR loop).
void kill_child(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

void flush_standard_streams() {
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(nullptr);
}

ChildOutcome run_in_child(const std::function<std::string()>& body, std::size_t max_bytes,
                          std::chrono::milliseconds time_limit) {
  ChildOutcome outcome;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return outcome;  // NotStarted
  flush_standard_streams();
  const pid_t parent = ::getpid();
  const auto deadline = ChildClock::now() + time_limit;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return outcome;  // NotStarted
  }
  if (pid == 0) {
    ::close(fds[0]);
    be_the_child(body, max_bytes, fds[1], parent);
  }
  ::close(fds[1]);
  const bool ended = read_child_bytes(fds[0], deadline, max_bytes, outcome);
  ::close(fds[0]);
  const std::optional<int> status = ended ? reap_child_by(pid, deadline) : std::nullopt;
  if (!status) {
    kill_child(pid);
    outcome.end = ChildOutcome::End::TimedOut;
  } else if (WIFSIGNALED(*status)) {
    outcome.end = ChildOutcome::End::Signalled;
    outcome.signal = WTERMSIG(*status);
  } else {
    outcome.end = ChildOutcome::End::Exited;
    outcome.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }
  return outcome;
}

}  // namespace segsim::scenarios
