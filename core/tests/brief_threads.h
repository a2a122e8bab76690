// Brief threads under a stats() reader, for the real-thread stress tests of
// thread-exit accounting: `waves` rounds of two threads that each run
// `brief()` and exit (their thread caches retire), while one more thread
// calls `read()` in a loop until the last wave has joined. Returns how many
// reads ran (a test asserts it read at all).
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace segsim::testing {

template <class Brief, class Read>
std::uint64_t run_brief_threads_while_reading(int waves, Brief brief, Read read) {
  std::atomic<bool> done{false};
  std::uint64_t reads = 0;
  std::thread reader([&] {
    while (!done.load(std::memory_order_acquire)) {
      read();
      ++reads;
    }
  });
  for (int wave = 0; wave < waves; ++wave) {
    std::thread a(brief), b(brief);
    a.join();
    b.join();
  }
  done.store(true, std::memory_order_release);
  reader.join();
  return reads;
}

}  // namespace segsim::testing
