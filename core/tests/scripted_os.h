// ScriptedOs: a test Os that forwards to a real Os (LinuxOs by default) and
// fails calls on demand — "the 3rd mmap fails with ENOMEM", "every madvise
// from the 10th on fails with EAGAIN" — and counts every call. For unit,
// property and fuzz tests of core's error paths. The seeded, plan-driven
// version for simulations is FaultyOs (faults/).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

#include "core/linux_os.h"
#include "core/os.h"

namespace segsim::testing {

class ScriptedOs final : public Os {
 public:
  explicit ScriptedOs(Os& inner = LinuxOs::instance()) : inner_(inner) {}

  // The n-th call (1-based, counted from now on) of `call` fails with `errno_value`.
  void fail_nth(OsCall call, std::uint64_t n, int errno_value);
  // Every call of `call` from the n-th (1-based, counted from now on) fails.
  void fail_from(OsCall call, std::uint64_t n, int errno_value);
  // The n-th call (1-based, counted from now on) of `call` throws Thrown: an
  // Os that throws, or a simulated run cancelled inside the call.
  struct Thrown {
    OsCall call;
  };
  void throw_nth(OsCall call, std::uint64_t n);
  // Only `advice` is affected by madvise rules when set (default: every advice).
  void only_advice(Advice advice);
  void clear_failures();

  std::uint64_t calls(OsCall call) const;
  std::uint64_t failures(OsCall call) const;
  std::uint64_t advise_calls(Advice advice) const;

  OsResult<std::byte*> map(std::size_t bytes) override;
  OsStatus unmap(std::byte* addr, std::size_t bytes) override;
  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override;
  OsResult<MappedFile> map_file(const std::string& path) override;
  OsResult<FileStatus> stat_file(const std::string& path) override;
  OsResult<int> create_file(const std::string& path) override;
  OsResult<std::size_t> write_file(int fd, const std::byte* data, std::size_t bytes) override;
  OsStatus close_file(int fd) override;
  std::size_t page_size() const noexcept override { return inner_.page_size(); }

 private:
  struct Rule {
    OsCall call;
    std::uint64_t first;  // absolute call number (1-based) the rule starts at
    bool repeat;          // every call from `first` on, or just `first`
    int errno_value;  // kThrows: the call throws Thrown
  };
  static constexpr int kThrows = -1;
  // Counts the call and returns the errno it must fail with, or 0; throws
  // Thrown where a throw_nth rule says so.
  int next(OsCall call, const Advice* advice = nullptr);

  Os& inner_;
  mutable std::mutex mu_;  // test support: real threads only, never simulated
  std::vector<Rule> rules_;
  std::array<std::uint64_t, kOsCallCount> calls_{};
  std::array<std::uint64_t, kOsCallCount> failures_{};
  std::array<std::uint64_t, 5> advise_calls_{};
  bool advice_filter_ = false;
  Advice advice_only_ = Advice::DontNeed;
};

}  // namespace segsim::testing
