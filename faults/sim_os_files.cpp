// SimOs's files (sim_os.h): whole-file contents in memory, mapped read-only
// into the reservation, written through descriptors of its own.
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "faults/sim_os.h"

namespace segsim::faults {

// ---- files -----------------------------------------------------------------

OsResult<MappedFile> SimOs::map_file(const std::string& path) {
  std::lock_guard guard(mu_);
  ++stats_.calls[static_cast<std::size_t>(OsCall::MapFile)];
  auto it = files_.find(path);
  if (it == files_.end()) return refuse_locked(OsCall::MapFile, ENOENT);
  const File& file = *it->second;
  MappedFile mapped;
  mapped.bytes = file.contents.size();
  mapped.status = FileStatus{file.contents.size(), file.mtime_ns};
  if (mapped.bytes == 0) return mapped;
  const std::size_t length = (mapped.bytes + page_size_ - 1) / page_size_ * page_size_;
  OsResult<std::byte*> region = map_locked(length, /*read_only=*/false);
  if (!region.ok()) return refuse_locked(OsCall::MapFile, region.error().errno_value);
  std::memcpy(region.value(), file.contents.data(), file.contents.size());
  ::mprotect(region.value(), length, PROT_READ);
  mappings_[static_cast<std::size_t>(region.value() - base_)].read_only = true;
  mapped.data = region.value();
  return mapped;
}

OsResult<FileStatus> SimOs::stat_file(const std::string& path) {
  std::lock_guard guard(mu_);
  ++stats_.calls[static_cast<std::size_t>(OsCall::StatFile)];
  auto it = files_.find(path);
  if (it == files_.end()) return refuse_locked(OsCall::StatFile, ENOENT);
  return FileStatus{it->second->contents.size(), it->second->mtime_ns};
}

void SimOs::add_file(const std::string& path, std::vector<std::byte> contents, std::int64_t mtime_ns) {
  std::lock_guard guard(mu_);
  files_[path] = std::make_shared<File>(File{std::move(contents), mtime_ns});
}

bool SimOs::remove_file(const std::string& path) {
  std::lock_guard guard(mu_);
  return files_.erase(path) > 0;
}

std::optional<std::vector<std::byte>> SimOs::file_contents(const std::string& path) const {
  std::lock_guard guard(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  return it->second->contents;
}

std::size_t SimOs::open_file_count() const {
  std::lock_guard guard(mu_);
  return open_files_.size();
}

OsResult<int> SimOs::create_file(const std::string& path) {
  std::lock_guard guard(mu_);
  ++stats_.calls[static_cast<std::size_t>(OsCall::CreateFile)];
  if (path.empty()) return refuse_locked(OsCall::CreateFile, ENOENT);
  if (path.back() == '/') return refuse_locked(OsCall::CreateFile, EISDIR);
  // A path under a file: the file is no directory.
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (files_.contains(path.substr(0, slash))) return refuse_locked(OsCall::CreateFile, ENOTDIR);
  }
  if (open_files_.size() >= kMaxOpenFiles) return refuse_locked(OsCall::CreateFile, EMFILE);
  std::shared_ptr<File>& file = files_[path];
  if (file == nullptr) {
    file = std::make_shared<File>(File{{}, ++file_clock_ns_});
  } else {  // O_TRUNC: the same file, emptied
    file->contents.clear();
    file->mtime_ns = ++file_clock_ns_;
  }
  const int fd = next_fd_++;
  open_files_.emplace(fd, file);
  return fd;
}

OsResult<std::size_t> SimOs::write_file(int fd, const std::byte* data, std::size_t bytes) {
  std::lock_guard guard(mu_);
  ++stats_.calls[static_cast<std::size_t>(OsCall::WriteFile)];
  auto open = open_files_.find(fd);
  if (open == open_files_.end()) return refuse_locked(OsCall::WriteFile, EBADF);
  if (bytes == 0) return std::size_t{0};
  if (data == nullptr) return refuse_locked(OsCall::WriteFile, EFAULT);
  File& file = *open->second;
  const std::size_t length = file.contents.size();
  if (length >= kMaxFileBytes) return refuse_locked(OsCall::WriteFile, EFBIG);
  const std::size_t n = std::min({bytes, page_size_, kMaxFileBytes - length});
  file.contents.insert(file.contents.end(), data, data + n);
  file.mtime_ns = ++file_clock_ns_;
  return n;
}

OsStatus SimOs::close_file(int fd) {
  std::lock_guard guard(mu_);
  ++stats_.calls[static_cast<std::size_t>(OsCall::CloseFile)];
  if (open_files_.erase(fd) == 0) return refuse_locked(OsCall::CloseFile, EBADF);
  return {};
}

}  // namespace segsim::faults
