// A sweep worker's life (worker_life.h).
#include "scenarios/worker_life.h"

#include <unistd.h>

#include <cstdio>

#include "core/flight_recorder.h"
#include "core/platform/sync_clock.h"
#include "sim/fatal_failure.h"

namespace segsim::scenarios::sweep_detail {

std::optional<std::size_t> resident_bytes() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return std::nullopt;
  unsigned long size_pages = 0;
  unsigned long resident_pages = 0;
  const int fields = std::fscanf(statm, "%lu %lu", &size_pages, &resident_pages);
  std::fclose(statm);
  if (fields != 2) return std::nullopt;
  const long page_bytes = ::sysconf(_SC_PAGESIZE);
  return static_cast<std::size_t>(resident_pages) * static_cast<std::size_t>(page_bytes > 0 ? page_bytes : 4096);
}

bool WorkerLife::seed_done() {
  ++seeds_;
  if (seeds_ >= seeds_per_worker_) return true;
  const std::optional<std::size_t> rss = resident_bytes();
  if (!rss) return false;  // no /proc: the seed quota alone bounds the worker
  if (!baseline_rss_bytes_) {
    baseline_rss_bytes_ = *rss;
    return false;
  }
  return *rss > *baseline_rss_bytes_ && *rss - *baseline_rss_bytes_ > rss_growth_bytes_;
}

void reset_between_seeds() {
  if (!flight_recorder::on()) flight_recorder::reset_report_count();
  platform::sync_clock::tls_clock = 0;
  sim::forget_ended_simulation();  // an assert in this seed's setup is not after the last seed's run
}

}  // namespace segsim::scenarios::sweep_detail
