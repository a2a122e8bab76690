#include "core/tests/scripted_os.h"

namespace segsim::testing {

namespace {
std::size_t index(OsCall call) { return static_cast<std::size_t>(call); }
}  // namespace

void ScriptedOs::fail_nth(OsCall call, std::uint64_t n, int errno_value) {
  std::lock_guard guard(mu_);
  rules_.push_back(Rule{call, calls_[index(call)] + n, false, errno_value});
}

void ScriptedOs::fail_from(OsCall call, std::uint64_t n, int errno_value) {
  std::lock_guard guard(mu_);
  rules_.push_back(Rule{call, calls_[index(call)] + n, true, errno_value});
}

void ScriptedOs::throw_nth(OsCall call, std::uint64_t n) {
  std::lock_guard guard(mu_);
  rules_.push_back(Rule{call, calls_[index(call)] + n, false, kThrows});
}

void ScriptedOs::only_advice(Advice advice) {
  std::lock_guard guard(mu_);
  advice_filter_ = true;
  advice_only_ = advice;
}

void ScriptedOs::clear_failures() {
  std::lock_guard guard(mu_);
  rules_.clear();
  advice_filter_ = false;
}

std::uint64_t ScriptedOs::calls(OsCall call) const {
  std::lock_guard guard(mu_);
  return calls_[index(call)];
}

std::uint64_t ScriptedOs::failures(OsCall call) const {
  std::lock_guard guard(mu_);
  return failures_[index(call)];
}

std::uint64_t ScriptedOs::advise_calls(Advice advice) const {
  std::lock_guard guard(mu_);
  return advise_calls_[static_cast<std::size_t>(advice)];
}

int ScriptedOs::next(OsCall call, const Advice* advice) {
  std::lock_guard guard(mu_);
  const std::uint64_t n = ++calls_[index(call)];
  if (advice != nullptr) {
    ++advise_calls_[static_cast<std::size_t>(*advice)];
    if (advice_filter_ && *advice != advice_only_) return 0;
  }
  for (const Rule& rule : rules_) {
    if (rule.call != call) continue;
    if (n == rule.first || (rule.repeat && n > rule.first)) {
      ++failures_[index(call)];
      if (rule.errno_value == kThrows) throw Thrown{call};
      return rule.errno_value;
    }
  }
  return 0;
}

OsResult<std::byte*> ScriptedOs::map(std::size_t bytes) {
  if (int err = next(OsCall::Map)) return OsFailure{OsCall::Map, err};
  return inner_.map(bytes);
}

OsStatus ScriptedOs::unmap(std::byte* addr, std::size_t bytes) {
  if (int err = next(OsCall::Unmap)) return OsFailure{OsCall::Unmap, err};
  return inner_.unmap(addr, bytes);
}

OsStatus ScriptedOs::advise(std::byte* addr, std::size_t bytes, Advice advice) {
  if (int err = next(OsCall::Advise, &advice)) return OsFailure{OsCall::Advise, err};
  return inner_.advise(addr, bytes, advice);
}

OsResult<MappedFile> ScriptedOs::map_file(const std::string& path) {
  if (int err = next(OsCall::MapFile)) return OsFailure{OsCall::MapFile, err};
  return inner_.map_file(path);
}

OsResult<FileStatus> ScriptedOs::stat_file(const std::string& path) {
  if (int err = next(OsCall::StatFile)) return OsFailure{OsCall::StatFile, err};
  return inner_.stat_file(path);
}

OsResult<int> ScriptedOs::create_file(const std::string& path) {
  if (int err = next(OsCall::CreateFile)) return OsFailure{OsCall::CreateFile, err};
  return inner_.create_file(path);
}

OsResult<std::size_t> ScriptedOs::write_file(int fd, const std::byte* data, std::size_t bytes) {
  if (int err = next(OsCall::WriteFile)) return OsFailure{OsCall::WriteFile, err};
  return inner_.write_file(fd, data, bytes);
}

// An injected close failure still closes: the descriptor must not leak.
OsStatus ScriptedOs::close_file(int fd) {
  if (int err = next(OsCall::CloseFile)) {
    (void)inner_.close_file(fd);
    return OsFailure{OsCall::CloseFile, err};
  }
  return inner_.close_file(fd);
}

}  // namespace segsim::testing
