// page_file_write.h: PageFileWriter::write through the Os seam, checked
// against what each call of the seam answered.
#include "scenarios/workloads/page_file_write.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/forwarding_os.h"
#include "core/linux_os.h"
#include "faults/fault_injector.h"
#include "faults/fault_plan.h"
#include "faults/faulty_os.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios::page_file {

namespace {

constexpr const char* kOracle = "page-file-writer";

// What one write under a small fault plan must give.
struct WriteCase {
  std::string name;             // for a failure line: the spec can run to 32 rules
  std::string spec;             // the fault plan (faults/fault_plan.h)
  int expected_errno = 0;       // 0: the write succeeds
  bool file_complete = false;   // a failure that still leaves every byte (close)
  std::uint64_t write_calls = 0;  // exactly this many write_file calls
};


// The writer's file calls as it made them (it sits over the FaultyOs, so
// refused calls count too): each descriptor it created must be closed exactly
// once, after its last write, and no call may name a descriptor it did not
// create — what SimOs's open-file count cannot tell (a second close, a write
// after the close).
class FileCallLog final : public ForwardingOs {
 public:
  using ForwardingOs::ForwardingOs;  // inner must outlive it

  OsResult<int> create_file(const std::string& path) override {
    OsResult<int> fd = ForwardingOs::create_file(path);
    if (fd.ok()) open_.push_back(fd.value());
    return fd;
  }
  OsResult<std::size_t> write_file(int fd, const std::byte* data, std::size_t bytes) override {
    if (!is_open(fd)) problems_.push_back(fmt::format("a write to descriptor {}, which it {}", fd, whose(fd)));
    return ForwardingOs::write_file(fd, data, bytes);
  }
  OsStatus close_file(int fd) override {
    if (auto it = std::find(open_.begin(), open_.end(), fd); it != open_.end()) {
      open_.erase(it);
      closed_.push_back(fd);
    } else {
      problems_.push_back(fmt::format("a close of descriptor {}, which it {}", fd, whose(fd)));
    }
    return ForwardingOs::close_file(fd);
  }

  // What broke the descriptors' life cycle, once the write returned.
  std::vector<std::string> problems() const {
    std::vector<std::string> all = problems_;
    for (const int fd : open_) all.push_back(fmt::format("descriptor {} created and never closed", fd));
    return all;
  }

 private:
  bool is_open(int fd) const { return std::find(open_.begin(), open_.end(), fd) != open_.end(); }
  const char* whose(int fd) const {
    return std::find(closed_.begin(), closed_.end(), fd) != closed_.end() ? "had closed" : "never created";
  }

  std::vector<int> open_;
  std::vector<int> closed_;
  std::vector<std::string> problems_;
};

// One write of `writer` to a fresh SimOs path through a FaultyOs with the
// case's plan. SimOs takes at most a page a call, so every write of a file of
// two pages or more is short, and the writer's resumption is checked too.
void check_case(Stack& stack, const PageFileWriter& writer, const WriteCase& c, const std::string& path,
                std::uint64_t seed) {
  std::string why;
  auto plan = faults::parse_fault_plan(c.spec, &why);
  if (!plan.ok()) return stack.oracles.fail(kOracle, fmt::format("the harness's own plan '{}': {}", c.spec, why));
  faults::FaultInjector injector(std::move(plan.value()), seed);
  faults::FaultyOs faulty(stack.sim_os, injector);
  FileCallLog os(faulty);
  const std::size_t open_before = stack.sim_os.open_file_count();
  const Status written = writer.write(os, path);
  const std::vector<std::byte> want = writer.to_bytes();
  const std::optional<std::vector<std::byte>> got = stack.sim_os.file_contents(path);
  const std::string where = fmt::format("write() under {}", c.name);
  if (const std::vector<std::string> problems = os.problems(); !problems.empty()) {
    stack.oracles.fail(kOracle, fmt::format("{}: {}; each descriptor it creates is closed once, after its last "
                                            "write", where, fmt::join(problems, "; ")));
  }
  if (c.expected_errno == 0) {
    if (!written) {
      return stack.oracles.fail(kOracle, fmt::format("{}: {}; the model says success", where, outcome_text(written)));
    }
  } else {
    if (written || written.error().code != Errc::OsFailure || written.error().os_errno != c.expected_errno) {
      return stack.oracles.fail(kOracle, fmt::format("{}: {}; the model says an OS failure with errno {}", where,
                                                     outcome_text(written), c.expected_errno));
    }
    check_error_text(stack.oracles, written.error());
  }
  if (stack.sim_os.open_file_count() != open_before) {
    stack.oracles.fail(kOracle, fmt::format("{}: {} descriptors left open", where,
                                            stack.sim_os.open_file_count() - open_before));
  }
  const std::uint64_t writes = injector.counts().os_calls[static_cast<std::size_t>(OsCall::WriteFile)];
  if (writes != c.write_calls) {
    stack.oracles.fail(kOracle, fmt::format("{}: {} write calls; the model says {}", where, writes, c.write_calls));
  }
  if (c.spec.starts_with("create:")) {
    if (got) stack.oracles.fail(kOracle, fmt::format("{}: a file exists though create failed", where));
    return;
  }
  if (!got) return stack.oracles.fail(kOracle, fmt::format("{}: no file at {}", where, path));
  const bool complete = c.expected_errno == 0 || c.file_complete;
  // A failed write leaves what the writes before it took: a prefix.
  const bool prefix = got->size() <= want.size() && std::equal(got->begin(), got->end(), want.begin());
  if (!prefix || (complete && got->size() != want.size())) {
    stack.oracles.fail(kOracle, fmt::format("{}: the file holds {} bytes{}; to_bytes() has {}{}", where, got->size(),
                                            prefix ? "" : " that differ from the start of to_bytes()", want.size(),
                                            complete ? ", all of which must be there" : ""));
  }
}

// The real Os, where no file system is touched: an anonymous in-memory file
// (memfd by its /proc/self/fd path), a device that is always full, a path
// under /dev/null.
void check_linux(Stack& stack, const PageFileWriter& writer) {
  Os& os = LinuxOs::instance();
  const Status unwritable = writer.write(os, "/dev/null/segsim-pages.db");
  if (unwritable || unwritable.error().code != Errc::OsFailure || unwritable.error().os_errno != ENOTDIR) {
    stack.oracles.fail(kOracle, "writing under /dev/null: " + outcome_text(unwritable) + "; the model says ENOTDIR");
  }
  check_error_text(stack.oracles, unwritable.error());
  struct stat device {};
  if (::stat("/dev/full", &device) == 0 && S_ISCHR(device.st_mode)) {
    const Status full = writer.write(os, "/dev/full");
    if (full || full.error().code != Errc::OsFailure || full.error().os_errno != ENOSPC) {
      stack.oracles.fail(kOracle, "writing to /dev/full: " + outcome_text(full) + "; the model says ENOSPC");
    }
    check_error_text(stack.oracles, full.error());
  }
  const int fd = ::memfd_create("segsim-page-file", MFD_CLOEXEC);
  if (fd < 0) return;  // no memfd here: the rest still ran
  const Status written = writer.write(os, fmt::format("/proc/self/fd/{}", fd));
  const std::vector<std::byte> want = writer.to_bytes();
  std::vector<std::byte> got(want.size() + 1);
  const ssize_t n = written ? ::pread(fd, got.data(), got.size(), 0) : -1;
  ::close(fd);
  if (!written) stack.oracles.fail(kOracle, "writing to a memfd: " + written.error().describe());
  if (n != static_cast<ssize_t>(want.size()) || !std::equal(want.begin(), want.end(), got.begin())) {
    stack.oracles.fail(kOracle, fmt::format("write() put {} bytes in a memfd; to_bytes() has {}", n, want.size()));
  }
}

}  // namespace

void check_writer_writes(Stack& stack, const PageFileWriter& writer, sim::Rng& rng) {
  const Status empty = PageFileWriter{}.write(stack.sim_os, "/segsim/written/empty.db");
  if (empty || empty.error().code != Errc::InvalidConfig || stack.sim_os.file_contents("/segsim/written/empty.db")) {
    stack.oracles.fail(kOracle, "writing a file without pages: " + outcome_text(empty) +
                                    "; the model says InvalidConfig and no file");
  }
  check_error_text(stack.oracles, empty.error());
  const std::size_t page_bytes = stack.sim_os.page_size();
  const std::uint64_t writes = (writer.to_bytes().size() + page_bytes - 1) / page_bytes;  // SimOs: a page a call
  const std::uint64_t nth = 1 + rng.below(writes);
  // The limit is on interruptions in a row: two runs of the most it allows,
  // with a write between them, succeed.
  std::string two_runs;
  for (std::uint64_t call = 1; call <= 2 * kMaxWriteInterruptions + 1; ++call) {
    if (call == kMaxWriteInterruptions + 1) continue;
    two_runs += fmt::format("{}write:EINTR@nth={}", two_runs.empty() ? "" : ",", call);
  }
  const std::vector<WriteCase> cases = {
      {"no faults", "none", 0, false, writes},
      {"one interrupted write", fmt::format("write:EINTR@nth={}", nth), 0, false, writes + 1},
      {"every write interrupted", "write:EINTR@after=0", EINTR, false, kMaxWriteInterruptions + 1},  // bounded
      {"two runs of the most interruptions in a row", two_runs, 0, false, writes + 2 * kMaxWriteInterruptions},
      {fmt::format("ENOSPC on write {}", nth), fmt::format("write:ENOSPC@nth={}", nth), ENOSPC, false, nth},
      {"create refused", "create:EACCES@nth=1", EACCES, false, 0},
      {"close failing", "close:EIO@nth=1", EIO, true, writes},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    check_case(stack, writer, cases[i], fmt::format("/segsim/written/{}.db", i), stack.seed);
  }
  // A path under a file: the file is no directory.
  const std::string under = "/segsim/written/0.db/pages.db";
  const Status refused = writer.write(stack.sim_os, under);
  if (refused || refused.error().code != Errc::OsFailure || refused.error().os_errno != ENOTDIR) {
    stack.oracles.fail(kOracle, "writing under a file: " + outcome_text(refused) + "; the model says ENOTDIR");
  }
  check_linux(stack, writer);
}

}  // namespace segsim::scenarios::page_file
