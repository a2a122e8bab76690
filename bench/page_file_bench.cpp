// PageFileOpen: MappedPageFile::open + close of page files of 1 MiB .. 1 GiB.
//
// The question is seed 003's claim that opening a mapped file is O(1) in its
// size. Default open maps the file and reads only the 64-byte header; with
// populate_on_open it also reads one byte per OS page (the O(size) variant,
// as a baseline that shows what "touching the file" costs). The files are
// sparse (header + ftruncate), created once in /tmp and removed at exit; a
// hole reads as zeros, which is a valid page (no records), so the file passes
// validation like a real one.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "bench/bench_support.h"
#include "core/mapped_page_file.h"

namespace segsim::bench {
namespace {

constexpr std::uint32_t kPageBytes = 4096;

// The sparse files, one per size; removed when the process exits.
class SparseFiles {
 public:
  ~SparseFiles() {
    for (const auto& [bytes, path] : paths_) ::unlink(path.c_str());
  }

  const std::string& get(std::uint64_t bytes) {
    auto it = paths_.find(bytes);
    if (it != paths_.end()) return it->second;
    std::string path = "/tmp/segsim_page_file_bench_" + std::to_string(::getpid()) + "_" +
                       std::to_string(bytes >> 20) + "MiB.pf";
    PageFileHeader header;
    header.page_size = kPageBytes;
    header.page_count = bytes / kPageBytes - 1;
    header.root_offset = kPageBytes;
    const auto encoded = encode_page_file_header(header);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("cannot create " + path);
    if (::write(fd, encoded.data(), encoded.size()) != static_cast<ssize_t>(encoded.size()) ||
        ::ftruncate(fd, static_cast<off_t>(bytes)) != 0 || ::close(fd) != 0) {
      die("cannot write " + path);
    }
    return paths_.emplace(bytes, std::move(path)).first->second;
  }

 private:
  std::map<std::uint64_t, std::string> paths_;
};

long minor_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

SparseFiles& sparse_files() {
  static SparseFiles files;
  return files;
}

void PageFileOpen(benchmark::State& state) {
  const auto bytes = static_cast<std::uint64_t>(state.range(0)) << 20;
  const bool populate = state.range(1) != 0;
  const std::string& path = sparse_files().get(bytes);
  LinuxOs& os = LinuxOs::instance();
  const OpenOptions options{AccessHint::None, populate};
  // One untimed round: the first read of a hole allocates its page-cache page
  // (hundreds of ms for 1 GiB), a one-off cost that would dominate one
  // repetition and say nothing about open.
  for (int round = 0; round < kWarmupRounds; ++round) {
    auto warm = MappedPageFile::open(os, path, options);
    if (!warm.ok() || !warm->close().ok()) die("warm-up open of " + path);
  }
  const long faults_before = minor_faults();
  for (auto _ : state) {
    auto opened = MappedPageFile::open(os, path, options);
    if (!opened.ok()) [[unlikely]] die("open: " + opened.error().describe());
    benchmark::DoNotOptimize(opened->root_page().data());
    if (!opened->close().ok()) [[unlikely]] die("close failed");
  }
  // Page faults explain the populate rows: the kernel maps several pages per
  // fault (fault-around, large page-cache folios), so faults grow slower than size.
  state.counters["minor_faults_per_open"] =
      static_cast<double>(minor_faults() - faults_before) / static_cast<double>(state.iterations());
}
BENCHMARK(PageFileOpen)
    ->ArgNames({"MiB", "populate"})
    ->ArgsProduct({{1, 16, 256, 1024}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace segsim::bench
