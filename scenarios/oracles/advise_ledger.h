// AdviseLedgerOs: the harness's own account of what one component asked of
// the Os — a decorator that forwards every call unchanged and counts the
// DontNeed advises and how each ended. An oracle holds the component's
// counters (e.g. LargeObjectStats::decommits / advise_failures) against this
// ledger instead of trusting the counters' code. It adds no scheduling point,
// draws from no random stream and traces nothing, so a run over it is the
// same run (same trace hash) as one without it. Under the simulator fibers
// run one at a time, so plain counters suffice.
#pragma once

#include <cstdint>

#include "core/os.h"

namespace segsim::scenarios {

struct AdviseLedger {
  std::uint64_t dont_need_ok = 0;      // DontNeed advises that succeeded
  std::uint64_t dont_need_failed = 0;  // DontNeed advises that failed (injected or refused)
  std::uint64_t dont_need_ok_bytes = 0;
};

class AdviseLedgerOs final : public Os {
 public:
  explicit AdviseLedgerOs(Os& inner) : inner_(inner) {}  // inner must outlive it

  OsResult<std::byte*> map(std::size_t bytes) override { return inner_.map(bytes); }
  OsStatus unmap(std::byte* addr, std::size_t bytes) override { return inner_.unmap(addr, bytes); }
  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override {
    OsStatus status = inner_.advise(addr, bytes, advice);
    if (advice == Advice::DontNeed) {
      if (status.ok()) {
        ++ledger_.dont_need_ok;
        ledger_.dont_need_ok_bytes += bytes;
      } else {
        ++ledger_.dont_need_failed;
      }
    }
    return status;
  }
  OsResult<MappedFile> map_file(const std::string& path) override { return inner_.map_file(path); }
  OsResult<FileStatus> stat_file(const std::string& path) override { return inner_.stat_file(path); }
  std::size_t page_size() const noexcept override { return inner_.page_size(); }

  const AdviseLedger& ledger() const noexcept { return ledger_; }

 private:
  Os& inner_;
  AdviseLedger ledger_;
};

}  // namespace segsim::scenarios
