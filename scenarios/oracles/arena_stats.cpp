// arena-stats: what a stats() snapshot says mid-run, against what the calling
// fiber knows for sure — its own arenas are live, with at least their chunks
// and bytes (other fibers' arenas only add to the counts) — and the header's
// bounds on the metadata estimate.
#include <fmt/format.h>

#include "scenarios/oracles/arena_oracles.h"

namespace segsim::scenarios {

namespace {
// core/txn_arena.h, TxnArenaStats::metadata_bytes.
constexpr std::size_t kMetadataMinPerArena = 64;
constexpr std::size_t kMetadataMaxPerArena = 1024;
constexpr std::size_t kMetadataMaxPerChunk = 256;
}  // namespace

void ArenaOracles::check_stats(const TxnArenaStats& stats, const std::vector<const TxnArena*>& own) {
  std::size_t own_reserved = 0, own_chunks = 0;
  for (const TxnArena* arena : own) {
    const Snapshot snap = snapshot(*arena);
    own_reserved += snap.reserved;
    own_chunks += snap.chunks;
  }
  const auto fail = [&](const std::string& what) { hub_.fail("arena-stats", "stats(): " + what); };
  if (stats.live_arenas < own.size()) {
    fail(fmt::format("{} live arenas; this fiber alone holds {}", stats.live_arenas, own.size()));
  }
  if (stats.reserved_bytes < own_reserved) {
    fail(fmt::format("{} bytes reserved; this fiber's arenas alone reserve {}", stats.reserved_bytes, own_reserved));
  }
  if (stats.peak_reserved_bytes < stats.reserved_bytes) {
    fail(fmt::format("peak reserved {} bytes, below the {} reserved now", stats.peak_reserved_bytes,
                     stats.reserved_bytes));
  }
  if (stats.chunks_returned > stats.chunks_taken || stats.chunks_taken - stats.chunks_returned < own_chunks) {
    fail(fmt::format("{} chunks taken, {} returned; this fiber's arenas alone hold {}", stats.chunks_taken,
                     stats.chunks_returned, own_chunks));
  }
  const std::size_t live_chunks = stats.chunks_taken - stats.chunks_returned;
  const std::size_t low = stats.live_arenas * kMetadataMinPerArena;
  const std::size_t high = stats.live_arenas * kMetadataMaxPerArena + live_chunks * kMetadataMaxPerChunk;
  if (stats.metadata_bytes < low || stats.metadata_bytes > high) {
    fail(fmt::format("metadata estimate {} bytes for {} live arenas holding {} chunks; the header bounds it to "
                     "{}..{}",
                     stats.metadata_bytes, stats.live_arenas, live_chunks, low, high));
  }
}

}  // namespace segsim::scenarios
