// The seed again in a fresh process under another heap (fresh_run.h).
#include "scenarios/cli/fresh_run.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scenarios/cli/commands.h"
#include "scenarios/safe_file.h"
#include "sim/strategy_kind.h"

extern char** environ;

namespace segsim::scenarios::cli {

namespace {

constexpr std::string_view kTunables = "GLIBC_TUNABLES";
constexpr std::string_view kAsanOptions = "ASAN_OPTIONS";
constexpr std::size_t kMaxSummaryBytes = 1 << 20;  // a run's --report is a few KiB

bool names_variable(std::string_view assignment, std::string_view name) {
  return assignment.size() > name.size() && assignment.substr(0, name.size()) == name && assignment[name.size()] == '=';
}

// This process's environment with the other heap's assignments in place of its own.
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view assignment(*entry);
    if (names_variable(assignment, kTunables) || names_variable(assignment, kAsanOptions)) continue;
    env.emplace_back(assignment);
  }
  for (std::string& assignment : other_heap_environment(std::getenv(std::string(kAsanOptions).c_str()))) {
    env.push_back(std::move(assignment));
  }
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// A private folder for the child's summary, removed with this object.
class TempFolder {
 public:
  TempFolder() {
    Result<std::string> made = make_temp_folder("segsim-fresh-run", &error_);
    if (made.ok()) path_ = made.value();
  }
  ~TempFolder() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::string& path() const { return path_; }    // empty: none could be made
  const std::string& error() const { return error_; }  // why not

 private:
  std::string path_;
  std::string error_;
};

// Waits for `pid` until `deadline`, then kills it. Its wait status, or
// nothing with `*why` saying what happened instead.
std::optional<int> wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline, std::string* why) {
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) {
      *why = fmt::format("waiting for it failed: {}", std::strerror(errno));
      return std::nullopt;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      *why = "it did not end in time (killed)";
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

std::vector<std::string> other_heap_environment(const char* asan_options) {
  const std::string asan = asan_options != nullptr && asan_options[0] != '\0' ? std::string(asan_options) + ":" : "";
  return {fmt::format("{}=glibc.malloc.tcache_count=100:glibc.malloc.mxfast=0", kTunables),
          fmt::format("{}={}quarantine_size_mb=0", kAsanOptions, asan)};
}

std::vector<std::string> run_arguments(const RunSpec& spec) {
  std::vector<std::string> args = {spec.scenario,
                                   "--seed",
                                   std::to_string(spec.seed),
                                   "--strategy",
                                   std::string(sim::strategy_name(spec.strategy)),
                                   "--pct-depth",
                                   std::to_string(spec.pct_depth),
                                   "--faults",
                                   spec.faults};
  auto add_nonzero = [&](const char* option, std::uint64_t value) {
    if (value == 0) return;
    args.emplace_back(option);
    args.push_back(std::to_string(value));
  };
  add_nonzero("--pct-steps", spec.pct_steps);
  add_nonzero("--steps", spec.max_steps);
  add_nonzero("--threads", spec.threads);
  add_nonzero("--size", spec.size);
  for (const auto& [option, value] : {std::pair{"--test-hook", &spec.test_hook}, std::pair{"--bug", &spec.bug}}) {
    if (value->empty()) continue;
    args.emplace_back(option);
    args.push_back(*value);
  }
  return args;
}

FreshRun run_in_fresh_process(const RunSpec& spec, double time_limit_s) {
  FreshRun result;
  const TempFolder folder;
  if (folder.path().empty()) {
    result.error = fmt::format("no temporary folder for its summary: {}", folder.error());
    return result;
  }
  const std::string summary = folder.path() + "/report.json";
  std::vector<std::string> argv = {"segsim", "run"};
  for (std::string& arg : run_arguments(spec)) argv.push_back(std::move(arg));
  argv.insert(argv.end(), {"--report", summary});
  std::vector<std::string> env = child_environment();
  std::vector<char*> argv_c = c_strings(argv);
  std::vector<char*> env_c = c_strings(env);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int spawn_error = ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv_c.data(), env_c.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    result.error = fmt::format("could not start /proc/self/exe: {}", std::strerror(spawn_error));
    return result;
  }
  result.started = true;
  const auto limit = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(time_limit_s));
  const std::optional<int> status = wait_until(pid, std::chrono::steady_clock::now() + limit, &result.error);
  if (!status) {
    result.error += fmt::format(" (its time limit: {:.0f} s)", time_limit_s);
    return result;
  }
  if (WIFSIGNALED(*status)) {
    result.error = fmt::format("it was killed by signal {} ({})", WTERMSIG(*status), ::strsignal(WTERMSIG(*status)));
    return result;
  }
  const int code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  if (code != kExitPassed && code != kExitFailure) {
    result.error = fmt::format("it exited {}", code);
    return result;
  }
  std::string line;
  const Result<std::string> text = read_text_file(summary, kMaxSummaryBytes, "its summary", &line);
  if (!text.ok()) {
    result.error = line;
    return result;
  }
  const nlohmann::json json = nlohmann::json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("trace_hash") || !json["trace_hash"].is_string() ||
      !json.contains("passed") || !json["passed"].is_boolean()) {
    result.error = "its summary has no trace_hash and passed";
    return result;
  }
  const std::string hash = json["trace_hash"].get<std::string>();
  char* end = nullptr;
  errno = 0;
  result.trace_hash = std::strtoull(hash.c_str(), &end, 16);
  if (errno != 0 || end == hash.c_str() || *end != '\0') {
    result.error = fmt::format("its summary's trace_hash {} is not a number", quoted_text(hash));
    return result;
  }
  result.passed = json["passed"].get<bool>();
  result.ran = true;
  return result;
}

}  // namespace segsim::scenarios::cli
