// NoteCell: a small note (the config of the last slab or large-object
// allocator made) that any thread may write at any time and a report writer —
// another thread, or a signal handler that interrupted the writer — reads
// whole, never half of one note and half of the next.
//
// A seqlock over relaxed atomic words: every access is atomic, so no read
// races a write (by the standard and under TSan), and the version, odd while
// a write is under way, tells a reader to read again. Writers take turns (the
// odd version is claimed by compare-exchange); a write is rare, so a waiting
// writer spins — at most kMaxWriteSpins times, then drops its note. A reader
// reads at most kMaxReadAttempts times, then gives up (load() false, the
// report leaves the note out): a signal handler that interrupted its own
// thread's write would otherwise wait forever.
// Async-signal-safe to read. Internal to the flight recorder.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace segsim::flight_recorder::detail {

template <typename Note>
class NoteCell {
  static_assert(std::is_trivially_copyable_v<Note>, "a note is copied word by word");

 public:
  static constexpr int kMaxReadAttempts = 64;
  static constexpr std::uint32_t kMaxWriteSpins = std::uint32_t{1} << 24;

  // The note kept until the next store() or clear().
  void store(const Note& note) noexcept {
    std::uint64_t words[kWords] = {};
    std::memcpy(words, &note, sizeof(Note));
    write([&] {
      for (std::size_t i = 0; i < kWords; ++i) words_[i].store(words[i], std::memory_order_relaxed);
      present_.store(true, std::memory_order_relaxed);
    });
  }

  // No note: load() is false until the next store().
  void clear() noexcept {
    write([&] { present_.store(false, std::memory_order_relaxed); });
  }

  // The note of one whole store() into `out`: false when there is none, or
  // when a write stayed under way through every attempt (`out` untouched).
  bool load(Note& out) const noexcept {
    for (int attempt = 0; attempt < kMaxReadAttempts; ++attempt) {
      const std::uint32_t before = version_.load(std::memory_order_acquire);
      if (before % 2 != 0) continue;  // a write under way
      std::uint64_t words[kWords];
      for (std::size_t i = 0; i < kWords; ++i) words[i] = words_[i].load(std::memory_order_relaxed);
      const bool present = present_.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (version_.load(std::memory_order_relaxed) != before) continue;  // written meanwhile
      if (!present) return false;
      std::memcpy(&out, words, sizeof(Note));
      return true;
    }
    return false;
  }

  // A write begun and not finished (a test's stand-in for a writer a signal
  // interrupted): load() gives up until end_write_for_test().
  void begin_write_for_test() noexcept { (void)begin_write(); }
  void end_write_for_test() noexcept { end_write(); }

 private:
  static constexpr std::size_t kWords = (sizeof(Note) + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);

  template <typename Write>
  void write(Write&& body) noexcept {
    if (!begin_write()) return;
    body();
    end_write();
  }
  // Claims the odd version from an even one (another writer holds it while
  // odd); false when it stayed odd through kMaxWriteSpins tries — a writer
  // that never finished (its thread interrupted for good): the store is
  // dropped rather than the caller held forever.
  bool begin_write() noexcept {
    std::uint32_t version = version_.load(std::memory_order_relaxed);
    for (std::uint32_t spins = 0; version % 2 != 0 || !version_.compare_exchange_weak(version, version + 1,
                                                                                        std::memory_order_relaxed,
                                                                                        std::memory_order_relaxed);
         ++spins) {
      if (spins == kMaxWriteSpins) return false;
      if (version % 2 != 0) version = version_.load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_release);  // the odd version before any word
    return true;
  }
  void end_write() noexcept { version_.fetch_add(1, std::memory_order_release); }

  std::atomic<std::uint32_t> version_{0};
  std::atomic<std::uint64_t> words_[kWords] = {};
  std::atomic<bool> present_{false};
};

}  // namespace segsim::flight_recorder::detail
