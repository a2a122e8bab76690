// NoteCell (core/flight_recorder_note.h): a note read whole or not at all —
// never half of one store and half of the next — by readers on other threads
// while writers store, and given up on when a write stays under way.
#include "core/flight_recorder_note.h"

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/flight_recorder.h"

namespace segsim::flight_recorder::detail {
namespace {

// The recorder's own note, every field holding the same stamp: a torn read
// shows two.
using StampedNote = SlabNote;

StampedNote stamped(std::uint32_t stamp) {
  StampedNote note;
  note.allocator = stamp;
  note.slab_bytes = stamp;
  for (std::uint32_t& capacity : note.magazine_capacity) capacity = stamp;
  note.adaptive = stamp % 2 != 0;
  note.depot_full_magazines_max = stamp;
  note.empty_slabs_kept = stamp;
  note.max_slabs = stamp;
  return note;
}

bool whole(const StampedNote& note) {
  for (const std::uint32_t capacity : note.magazine_capacity) {
    if (capacity != note.allocator) return false;
  }
  return note.slab_bytes == note.allocator && note.adaptive == (note.allocator % 2 != 0) &&
         note.depot_full_magazines_max == note.allocator && note.empty_slabs_kept == note.allocator &&
         note.max_slabs == note.allocator;
}

TEST(NoteCell, NoNoteUntilStoredAndNoneAfterClear) {
  NoteCell<StampedNote> cell;
  StampedNote out = stamped(7);
  EXPECT_FALSE(cell.load(out));
  EXPECT_EQ(out.allocator, 7u);  // untouched
  cell.store(stamped(3));
  ASSERT_TRUE(cell.load(out));
  EXPECT_EQ(out.allocator, 3u);
  EXPECT_TRUE(whole(out));
  cell.store(stamped(4));
  ASSERT_TRUE(cell.load(out));
  EXPECT_EQ(out.allocator, 4u);
  cell.clear();
  EXPECT_FALSE(cell.load(out));
  EXPECT_EQ(out.allocator, 4u);
}

TEST(NoteCell, AReaderGivesUpOnAWriteUnderWay) {
  NoteCell<StampedNote> cell;
  cell.store(stamped(1));
  cell.begin_write_for_test();  // as a writer a signal interrupted mid-store
  StampedNote out = stamped(9);
  EXPECT_FALSE(cell.load(out));
  EXPECT_EQ(out.allocator, 9u);
  cell.end_write_for_test();
  ASSERT_TRUE(cell.load(out));
  EXPECT_EQ(out.allocator, 1u);
}

// A writer that finds a write under way through every spin drops its note
// (a writer never holds its caller forever); the note before stays.
TEST(NoteCell, AWriterGivesUpOnAWriteThatNeverEnds) {
  NoteCell<StampedNote> cell;
  cell.store(stamped(1));
  cell.begin_write_for_test();
  cell.store(stamped(2));  // spins kMaxWriteSpins times, then drops it
  cell.end_write_for_test();
  StampedNote out;
  ASSERT_TRUE(cell.load(out));
  EXPECT_EQ(out.allocator, 1u);
  cell.store(stamped(3));
  ASSERT_TRUE(cell.load(out));
  EXPECT_EQ(out.allocator, 3u);
}

// Two writers storing in turn-less races and two readers: every note read is
// one whole store, and each reader's stamps of one writer never go back.
TEST(NoteCell, ReadersOnOtherThreadsSeeWholeNotes) {
  constexpr std::uint32_t kStoresPerWriter = 100000;
  NoteCell<StampedNote> cell;
  std::atomic<int> writers_left{2};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> loaded{0};
  std::vector<std::thread> threads;
  for (std::uint32_t w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      // Writer w stores stamps of its own parity, rising.
      for (std::uint32_t i = 1; i <= kStoresPerWriter; ++i) cell.store(stamped(2 * i + w));
      writers_left.fetch_sub(1);
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      std::uint32_t last_of[2] = {0, 0};
      while (writers_left.load() > 0) {
        StampedNote note;
        if (!cell.load(note)) continue;
        loaded.fetch_add(1);
        if (!whole(note) || note.allocator < last_of[note.allocator % 2]) torn.fetch_add(1);
        last_of[note.allocator % 2] = note.allocator;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(torn.load(), 0u) << "of " << loaded.load() << " notes read";
  StampedNote last;
  ASSERT_TRUE(cell.load(last));
  EXPECT_TRUE(whole(last));
  EXPECT_GE(last.allocator, 2 * kStoresPerWriter);  // one writer's last store
}

}  // namespace
}  // namespace segsim::flight_recorder::detail
