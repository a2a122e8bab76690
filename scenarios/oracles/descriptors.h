// The "descriptors" oracle (descriptors.cpp): a seed closes every file
// descriptor it opened. The stack's file writers (core/crash_report_writer.cpp,
// core/page_file_writer.cpp) use the process's descriptors directly — a report
// must be writable from a signal handler, outside the Os seam — so nothing
// else would notice one left open: each leak is one fewer descriptor for a
// long-running database, and a crash-report writer that leaks one per report
// fails exactly when reports matter. The harness notes the descriptors open
// when the run starts; at quiescence, one open now and not then is a leak.
// Sweeps run one seed at a time per process (sweep.cpp's workers), so no other
// run opens descriptors meanwhile; descriptors of /proc files are not counted
// (sanitizer runtimes read them from threads of their own, at any moment), and
// the oracle looks twice, so a descriptor held open for a moment is not a leak.
#pragma once

#include <optional>
#include <set>
#include <string>

namespace segsim::scenarios {

class OpenDescriptors {
 public:
  // The descriptors open in this process now (Linux: /proc/self/fd). Empty,
  // with readable() false, when it cannot be listed: then nothing is checked.
  static OpenDescriptors now();
  bool readable() const noexcept { return readable_; }

  // What is open now that was not in `before`, in stable words (the kind of
  // each descriptor and, for a file, its name with digits masked — no
  // descriptor numbers, pids or temporary directories), or nullopt.
  std::optional<std::string> leaked_since(const OpenDescriptors& before) const;

 private:
  std::set<int> fds_;
  bool readable_ = false;
};

}  // namespace segsim::scenarios
