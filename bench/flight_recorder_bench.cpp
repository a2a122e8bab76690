// The flight recorder's cost on the allocator's hot path (issue 13): one
// allocate_uninitialized + release of a 4 KiB segment from a warm pool, with
// the recorder off and on (on: two events per iteration, each a stamp from
// the thread's logical clock and one 32-byte slot of its ring, written
// inline). Target: <= 10 % on, nothing measurable off.
#include <filesystem>

#include "bench/bench_support.h"
#include "core/flight_recorder.h"

namespace segsim::bench {
namespace {

void AllocReleaseRecorderOff(benchmark::State& state) {
  flight_recorder::disable();
  segment_alloc_release(state, false);
}

void AllocReleaseRecorderOn(benchmark::State& state) {
  flight_recorder::Config config;
  config.dir = std::filesystem::temp_directory_path().string();
  config.catch_signals = false;
  config.report_refusals = false;  // nothing is refused here; no report may be written by a benchmark
  std::string error;
  if (!flight_recorder::enable(config, &error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  segment_alloc_release(state, false);
  flight_recorder::disable();
}

BENCHMARK(AllocReleaseRecorderOff)->Arg(4096)->Arg(65536);
BENCHMARK(AllocReleaseRecorderOn)->Arg(4096)->Arg(65536);

}  // namespace
}  // namespace segsim::bench
