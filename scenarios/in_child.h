// run_in_child: a piece of harness work in a forked child process, with a
// time limit. For work that runs the stack under test in-process where a
// crash or a hang of that stack must not take the caller with it (hunt's
// replay confirmation, a sweep's PCT calibration run).
//
// What it promises:
//  * The body runs only in the child, which always ends with _exit and never
//    returns into the caller's code: 0 after its bytes were sent,
//    kChildWriteFailedExit when they could not be, kChildThrewExit when the
//    body threw. Nothing of the child's (atexit handlers, destructors of
//    statics, unflushed stdio buffers) runs at its end.
//  * The parent flushes std::cout, std::cerr, std::clog and stdio before the
//    fork, so the child never prints the parent's pending text a second time.
//    Other streams (a log) are the caller's to flush.
//  * The body's bytes come back whole, binary-safe, up to `max_bytes`; the
//    rest is dropped and `truncated` is set. A body that returns more than
//    the pipe holds never blocks the child: the parent keeps reading.
//  * Time limit: the parent waits at most `time_limit` (real monotonic time,
//    counted from the fork) for the child to send its bytes and end; then
//    it kills the child (SIGKILL) and the outcome is TimedOut, with whatever
//    bytes had arrived. A limit of zero or less kills the child at once.
//  * Every outcome but NotStarted has reaped the child (no zombie is left)
//    and every path closes both ends of the pipe.
//  * NotStarted: the pipe or the fork failed; nothing ran, the caller may
//    run the work in-process instead.
//  * The child dies with the thread that forked it (PR_SET_PDEATHSIG):
//    a killed caller leaves no hung child behind.
// Not for use inside a simulation (it reads the real clock and forks); call
// it from the harness's own, single-threaded code.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace segsim::scenarios {

// The child's exit codes of its own (the body may _exit with any other).
inline constexpr int kChildWriteFailedExit = 3;
inline constexpr int kChildThrewExit = 4;

struct ChildOutcome {
  enum class End {
    Exited,      // exit_code holds its exit status
    Signalled,   // signal holds the signal that ended it
    TimedOut,    // killed at the time limit
    NotStarted,  // pipe or fork failed: the body did not run
  };
  End end = End::NotStarted;
  int exit_code = -1;      // End::Exited only
  int signal = 0;          // End::Signalled only
  std::string bytes;       // what the body returned, at most max_bytes of it
  bool truncated = false;  // the body returned more than max_bytes

  // The body ran to its end and every byte it returned is in `bytes`.
  bool complete() const { return end == End::Exited && exit_code == 0 && !truncated; }
};

// Flushes std::cout, std::cerr, std::clog and stdio: a forked child gets
// copies of their buffers, and unflushed text would be printed twice.
void flush_standard_streams();

// Forks; the child runs `body` and sends what it returns to the parent.
ChildOutcome run_in_child(const std::function<std::string()>& body, std::size_t max_bytes,
                          std::chrono::milliseconds time_limit);

}  // namespace segsim::scenarios
