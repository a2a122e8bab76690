// ForwardingOs: an Os that passes every call to another Os unchanged — the
// base of a decorator (a ledger, a fault, a recycler), which overrides only
// the calls it changes and reaches the wrapped Os through inner().
#pragma once

#include <cstddef>
#include <string>

#include "core/os.h"

namespace segsim {

class ForwardingOs : public Os {
 public:
  explicit ForwardingOs(Os& inner) : inner_(inner) {}  // inner must outlive it

  OsResult<std::byte*> map(std::size_t bytes) override { return inner_.map(bytes); }
  OsStatus unmap(std::byte* addr, std::size_t bytes) override { return inner_.unmap(addr, bytes); }
  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override {
    return inner_.advise(addr, bytes, advice);
  }
  OsResult<MappedFile> map_file(const std::string& path) override { return inner_.map_file(path); }
  OsResult<FileStatus> stat_file(const std::string& path) override { return inner_.stat_file(path); }
  OsResult<int> create_file(const std::string& path) override { return inner_.create_file(path); }
  OsResult<std::size_t> write_file(int fd, const std::byte* data, std::size_t bytes) override {
    return inner_.write_file(fd, data, bytes);
  }
  OsStatus close_file(int fd) override { return inner_.close_file(fd); }
  std::size_t page_size() const noexcept override { return inner_.page_size(); }

 protected:
  Os& inner() const noexcept { return inner_; }

 private:
  Os& inner_;
};

}  // namespace segsim
