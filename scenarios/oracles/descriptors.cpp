// descriptors: see descriptors.h.
#include "scenarios/oracles/descriptors.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

namespace {

constexpr std::size_t kMaxDescriptorsNamed = 4;

// What descriptor `fd` refers to ("" when it cannot be read).
std::string descriptor_target(int fd) {
  char target[512];
  const std::string link = fmt::format("/proc/self/fd/{}", fd);
  const ssize_t len = ::readlink(link.c_str(), target, sizeof target - 1);
  return len <= 0 ? std::string() : std::string(target, static_cast<std::size_t>(len));
}

// A sanitizer runtime's thread reads /proc files of its own (memory use, maps)
// at any moment: never the stack's or the harness's during a run.
bool runtime_introspection(int fd) { return descriptor_target(fd).rfind("/proc/", 0) == 0; }

// "a regular file 'segsim-crash-#-#.json.tmp'", "a pipe", ...: what a leaked
// descriptor is, in words that are the same in every run.
std::string descriptor_kind(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "a descriptor closed meanwhile";
  if (S_ISFIFO(st.st_mode)) return "a pipe";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (!S_ISREG(st.st_mode)) return "a device or special file";
  std::string name = descriptor_target(fd);
  if (name.empty()) return "a regular file";
  if (const auto slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
  std::string masked;  // each run of digits (a pid, a counter) as one '#'
  for (const char c : name) {
    const bool digit = std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (!digit || masked.empty() || masked.back() != '#') masked += digit ? '#' : c;
  }
  return fmt::format("a regular file '{}'", masked);
}

}  // namespace

OpenDescriptors OpenDescriptors::now() {
  OpenDescriptors open;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return open;
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == own) continue;  // ".", "..", the listing's own
    open.fds_.insert(static_cast<int>(fd));
  }
  ::closedir(dir);
  open.readable_ = true;
  return open;
}

std::optional<std::string> OpenDescriptors::leaked_since(const OpenDescriptors& before) const {
  if (!readable_ || !before.readable_) return std::nullopt;
  std::vector<int> leaked;
  for (const int fd : fds_) {
    if (before.fds_.count(fd) == 0 && !runtime_introspection(fd)) leaked.push_back(fd);
  }
  if (leaked.empty()) return std::nullopt;
  std::string kinds;
  for (std::size_t i = 0; i < leaked.size() && i < kMaxDescriptorsNamed; ++i) {
    kinds += (i == 0 ? "" : ", ") + descriptor_kind(leaked[i]);
  }
  if (leaked.size() > kMaxDescriptorsNamed) kinds += ", …";
  return fmt::format("{} file descriptor(s) opened during the run are still open at quiescence: {}", leaked.size(),
                     kinds);
}

void Oracles::check_descriptors() {
  // Twice: a descriptor another thread of the process held open for a moment
  // (the runtime's, not the run's) is gone at the second look; a leak is not.
  if (!OpenDescriptors::now().leaked_since(descriptors_at_start_)) return;
  if (auto leak = OpenDescriptors::now().leaked_since(descriptors_at_start_)) report("descriptors", *leak);
}

}  // namespace segsim::scenarios
