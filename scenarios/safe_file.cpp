#include "scenarios/safe_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace segsim::scenarios {

namespace {

constexpr std::size_t kReadChunkBytes = 64 * 1024;

Status os_failure(std::string* error_line, const std::string& path, const char* what, int errno_value) {
  if (error_line != nullptr) {
    *error_line = fmt::format("cannot write {}: {}: {}", quoted_text(path, 200), what, std::strerror(errno_value));
  }
  Error error = make_error(Errc::OsFailure, "writing a file");
  error.os_errno = errno_value;
  return error;
}

Status refused(std::string* error_line, std::string line) {
  if (error_line != nullptr) *error_line = std::move(line);
  return make_error(Errc::InvalidConfig, "bad output path");
}

// The folder a temporary for `path` goes to, and the temporary's template.
std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string temp_template(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // Hidden, named for its target; mkstemp replaces the X's and creates it with O_EXCL.
  return fmt::format("{}/.{}.tmp.XXXXXX", folder_of(path), base.substr(0, 64));
}

bool write_all(int fd, std::string_view text, int& errno_out) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      errno_out = n < 0 ? errno : EIO;
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
}

// A target that exists and is not a regular file (a device, a FIFO, a
// socket): write through to it, never rename over it.
Status write_through(const std::string& path, std::string_view text, std::string* error_line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return os_failure(error_line, path, "open", errno);
  int write_errno = 0;
  const bool ok = write_all(fd, text, write_errno);
  ::close(fd);
  if (!ok) return os_failure(error_line, path, "write", write_errno);
  return {};
}

// 0666 less the umask, as a plain fopen would have created the file.
mode_t default_file_mode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace

std::string quoted_text(std::string_view text, std::size_t max_bytes) {
  std::string out = "'";
  const std::size_t shown = std::min(text.size(), max_bytes);
  for (std::size_t i = 0; i < shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "'";
  if (shown < text.size()) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

std::string one_line(std::string_view text, std::size_t max_bytes) {
  std::string out;
  const std::size_t shown = std::min(text.size(), max_bytes);
  out.reserve(shown + 8);
  for (std::size_t i = 0; i < shown; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < text.size()) out += "...";
  return out;
}

Status write_text_file(const std::string& path, std::string_view text, std::string* error_line) {
  if (path.empty()) return refused(error_line, "cannot write a file with an empty name");
  struct stat target {};
  if (::stat(path.c_str(), &target) == 0) {
    if (S_ISDIR(target.st_mode)) return refused(error_line, fmt::format("cannot write {}: it is a folder", quoted_text(path, 200)));
    if (!S_ISREG(target.st_mode)) return write_through(path, text, error_line);
  }
  std::string temp = temp_template(path);
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return os_failure(error_line, path, "create a temporary in its folder", errno);
  int failed_errno = 0;
  const char* failed_step = nullptr;
  if (::fchmod(fd, default_file_mode()) != 0) {
    failed_errno = errno, failed_step = "chmod";
  } else if (!write_all(fd, text, failed_errno)) {
    failed_step = "write";
  } else if (::fsync(fd) != 0) {
    failed_errno = errno, failed_step = "fsync";
  }
  if (::close(fd) != 0 && failed_step == nullptr) failed_errno = errno, failed_step = "close";
  if (failed_step == nullptr && ::rename(temp.c_str(), path.c_str()) != 0) {
    failed_errno = errno, failed_step = "rename";
  }
  if (failed_step != nullptr) {
    ::unlink(temp.c_str());
    return os_failure(error_line, path, failed_step, failed_errno);
  }
  // The rename is durable once the folder is: best effort.
  const int folder = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder >= 0) {
    ::fsync(folder);
    ::close(folder);
  }
  return {};
}

Status check_output_path(const std::string& path, std::string* error_line) {
  if (path.empty()) return refused(error_line, "cannot write a file with an empty name");
  struct stat target {};
  if (::stat(path.c_str(), &target) == 0) {
    if (S_ISDIR(target.st_mode)) return refused(error_line, fmt::format("cannot write {}: it is a folder", quoted_text(path, 200)));
    if (!S_ISREG(target.st_mode)) {
      if (::access(path.c_str(), W_OK) != 0) return os_failure(error_line, path, "open", errno);
      return {};
    }
  }
  std::string temp = temp_template(path);
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return os_failure(error_line, path, "create a file in its folder", errno);
  ::close(fd);
  ::unlink(temp.c_str());
  return {};
}

Status prepare_output_folder(const std::string& folder, std::string* error_line) {
  if (folder.empty()) return refused(error_line, "an output folder needs a name");
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) {
    return refused(error_line, fmt::format("cannot create folder {}: {}", quoted_text(folder, 200), error.message()));
  }
  return check_output_path((std::filesystem::path(folder) / "probe").string(), error_line);
}

Result<std::string> make_temp_folder(std::string_view prefix, std::string* error_line) {
  std::error_code error;
  const std::filesystem::path base = std::filesystem::temp_directory_path(error);
  const std::string pattern =
      ((error ? std::filesystem::path("/tmp") : base) / fmt::format("{}-XXXXXX", prefix)).string();
  std::string path = pattern;  // mkdtemp fills in the Xs, also when it fails
  if (::mkdtemp(path.data()) == nullptr) {
    if (error_line != nullptr) {
      *error_line = fmt::format("cannot make a temporary folder {}: {}", quoted_text(pattern, 200), std::strerror(errno));
    }
    return make_error(Errc::InvalidConfig, "no temporary folder");
  }
  return path;
}

Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes, std::string_view what,
                                   std::string* error_line) {
  const auto refuse = [&](std::string line) -> Result<std::string> {
    if (error_line != nullptr) *error_line = std::move(line);
    return make_error(Errc::InvalidConfig, "unreadable input");
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return refuse(fmt::format("cannot read {} {}: {}", what, quoted_text(path, 200), std::strerror(errno)));
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    ::close(fd);
    return refuse(fmt::format("cannot read {} {}: it is a folder", what, quoted_text(path, 200)));
  }
  std::string text;
  if (S_ISREG(info.st_mode) && info.st_size > 0) {
    text.reserve(std::min<std::size_t>(static_cast<std::size_t>(info.st_size), max_bytes) + 1);
  }
  char buffer[kReadChunkBytes];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int read_errno = errno;
      ::close(fd);
      return refuse(fmt::format("cannot read {} {}: {}", what, quoted_text(path, 200), std::strerror(read_errno)));
    }
    if (n == 0) break;
    if (text.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      return refuse(fmt::format("{} {} is larger than {} bytes: not one of ours", what, quoted_text(path, 200), max_bytes));
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace segsim::scenarios
