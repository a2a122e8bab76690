// FaultyOs: a decorator that injects a fault plan's Os failures into any Os —
// SimOs under simulation, LinuxOs in real-thread stress tests. A failed call
// never reaches the inner Os — except close_file, which closes the inner
// descriptor before it reports the injected failure (close(2) frees the
// descriptor whatever it answers).
#pragma once

#include "core/os.h"
#include "faults/fault_injector.h"

namespace segsim::faults {

class FaultyOs final : public Os {
 public:
  // Both must outlive the FaultyOs.
  FaultyOs(Os& inner, FaultInjector& injector) : inner_(inner), injector_(injector) {}

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
  Os& inner_;
  FaultInjector& injector_;
};

}  // namespace segsim::faults
