// The flight recorder's thread drills: see recorder_ring_drills.h.
#include "scenarios/workloads/recorder_ring_drills.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/flight_recorder.h"
#include "scenarios/crash_report.h"

namespace segsim::scenarios {

namespace {

constexpr std::uint64_t kReusePageBase = 0x7e5e0000;
constexpr std::uint64_t kLiveRingPage = 0x7e5d0000;  // the calling thread's call during the takeover
constexpr std::uint64_t kFullRingsPageBase = 0x7f011000;
constexpr std::uint64_t kRingAllocFailedPage = 0x7fa11000;
constexpr std::uint64_t kAfterExitPage = 0x7fe71000;
constexpr std::size_t kAfterExitSliceBytes = 4096;  // recorded compact: a successful call under 256 KiB
constexpr std::uint64_t kWrapPageBase = 0x7a4a0000;  // up to 65,536 pages: a whole lap of the largest ring
// The largest ring (events) the thread drills run with.
constexpr std::size_t kMaxThreadDrillRingEvents = 128;

// More threads than rings: every ring taken by a thread that exited, the
// next thread takes over the oldest's (numbered past kMaxThreads, its ring
// emptied). One recorded call each. The calling thread records first, so it
// holds a live ring throughout: once the rings before it are taken over, it
// is the lowest-numbered one, and a takeover must pass over it to the oldest
// *exited* ring.
void take_over_rings(RecorderCheck& check) {
  flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kLiveRingPage, 0, 0, nullptr);
  const auto threads = static_cast<std::uint32_t>(flight_recorder::kMaxThreads) + 1;
  for (std::uint32_t t = 0; t < threads; ++t) {
    std::thread thread([t] {
      flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kReusePageBase + t, 0, 0, nullptr);
    });
    thread.join();  // exited (its ring marked so) before the next starts
  }
  check.reuse_page = kReusePageBase + threads - 1;
}

// A thread whose ring cannot be allocated (memory ran out) records nothing
// until the next enable() — its second call does not try again — and the
// final report counts it among the threads not recorded
// (check_final_report: neither page, and threads_not_recorded). One failure
// armed is one taken: the next thread gets its ring (threads_not_recorded
// counts one).
void fail_a_ring_allocation(RecorderCheck& check) {
  flight_recorder::fail_ring_allocations(1);
  std::thread thread([] {
    flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kRingAllocFailedPage, 0, 0, nullptr);
    flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kRingAllocFailedPage + 1, 0, 0, nullptr);
  });
  thread.join();
  std::thread next([] {
    flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kRingAllocFailedPage + 2, 0, 0, nullptr);
  });
  next.join();
  flight_recorder::fail_ring_allocations(0);
  ++check.rings_refused;
  check.ring_alloc_failed_page = kRingAllocFailedPage;
}

// A thread's calls after its exit marked its ring are dropped (flight_recorder.h,
// ThreadRing: an exited thread notes the epoch it was refused in): made from a pthread key
// destructor, they must neither make a ring for the thread nor take one over
// — rings_held() counts the thread's one ring — and no report holds them
// (check_final_report). The call is made in the destructors' second pass,
// after every first-pass destructor, the recorder's included, whatever order
// the C library runs keys in. Two calls: a page operation (always wide) and,
// when the drill has a slice's handle, its allocate as a success — the
// compact hot path, which writes through the thread's ring unchecked while
// its compact epoch is live: the exit must have made it stale.
struct AfterExit {
  int passes = 0;
  Segment slice{};  // a slice of the run's allocator (its handle, released), or null
};
pthread_key_t after_exit_key();
void call_after_exit(void* value) {
  auto* after = static_cast<AfterExit*>(value);
  if (++after->passes == 1) {
    (void)pthread_setspecific(after_exit_key(), after);  // once more: a second pass
    return;
  }
  flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kAfterExitPage + 1, 0, 0, nullptr);
  if (!after->slice.is_null()) {
    flight_recorder::record_operation(flight_recorder::Op::Allocate, after->slice.size(), after->slice, nullptr);
  }
}
pthread_key_t after_exit_key() {
  static const pthread_key_t key = [] {
    pthread_key_t made{};
    const int created = pthread_key_create(&made, &call_after_exit);
    SEGSIM_ASSERT(created == 0, "no pthread key for the after-exit drill");
    return made;
  }();
  return key;
}

void record_after_exit(Stack& stack, RecorderCheck& check, const Segment& slice) {
  const std::uint32_t rings_before = flight_recorder::rings_held();
  AfterExit after{.slice = slice};
  // The thread's first call claims its ring: hold_next_ring_claim's hold
  // runs there, once (what refuse_rings' lost race stands on, drawn on few
  // seeds; checked here on every one that reaches this drill).
  int claim_holds = 0;
  std::thread thread([&after, &claim_holds] {
    flight_recorder::hold_next_ring_claim([](void* runs) { ++*static_cast<int*>(runs); }, &claim_holds);
    flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kAfterExitPage, 0, 0, nullptr);
    flight_recorder::hold_next_ring_claim(nullptr, nullptr);  // none left over, whatever happened
    (void)pthread_setspecific(after_exit_key(), &after);
  });
  thread.join();
  if (claim_holds != 1) {
    recorder_fail(stack, fmt::format("a fresh thread's first call claimed its ring and ran the claim hold {} "
                                     "time(s); once was due (hold_next_ring_claim)",
                                     claim_holds));
  }
  if (after.passes != 2) {
    stack.oracles.fail("exception", fmt::format("after-exit drill: the key destructor ran {} time(s), 2 were due",
                                                after.passes));
  }
  if (flight_recorder::rings_held() != rings_before + 1) {
    recorder_fail(stack, fmt::format("a thread with one ring that made a call after its exit left {} ring(s) held, "
                                     "{} before it: its later call must be dropped, not given a ring",
                                     flight_recorder::rings_held(), rings_before));
  }
  check.after_exit_page = kAfterExitPage + 1;
}

// The nesting depth of the lap's event `i` in reports_inside_a_wrap(): the
// first four around the most an event holds (255 stands for 255 or more),
// the rest at depth 0.
constexpr std::uint32_t kFirstDeepDepth = 253;
constexpr std::size_t kDeepEvents = 4;
std::uint32_t lap_event_depth(std::size_t i) {
  return i < kDeepEvents ? kFirstDeepDepth + static_cast<std::uint32_t>(i) : 0;
}
// The lap's event recorded inside no Scope at all, as an operation whose
// Scope began before the recorder came on (and so entered nothing) records:
// at depth 0 too.
constexpr std::size_t kUnscopedEvent = kDeepEvents;
std::uint32_t lap_event_scopes(std::size_t i) { return i == kUnscopedEvent ? 0 : lap_event_depth(i) + 1; }

// The thread of reports_inside_a_wrap(), held inside its wrap.
struct WrapHold {
  std::latch held{1};   // counted down when the hold begins (or when it never will)
  std::latch go_on{1};  // the hold ends
  std::string own_path;  // the report the held thread wrote itself
  bool ran = false;
};

// A report of a thread held inside the wrap that ends its ring's first lap
// (`who` wrote it) counts and keeps every one of the thread's calls, in order.
void check_lap_kept(Stack& stack, const std::string& path, std::size_t lap, const char* who) {
  if (path.empty()) {
    recorder_fail(stack, fmt::format("write_report() by {} while a thread was held inside its ring's wrap wrote no "
                                     "report", who));
    return;
  }
  const CrashReport report = read_recorder_report(stack, path);
  for (const CrashThread& thread : report.threads) {
    const bool has_calls = std::any_of(thread.events.begin(), thread.events.end(), [lap](const CrashEvent& e) {
      return e.op == flight_recorder::Op::PageClear && e.page >= kWrapPageBase && e.page < kWrapPageBase + lap;
    });
    if (!has_calls) continue;
    bool in_order = thread.events.size() == lap;
    for (std::size_t i = 0; in_order && i < lap; ++i) in_order = thread.events[i].page == kWrapPageBase + i;
    if (thread.recorded != lap || !in_order) {
      recorder_fail(stack, fmt::format("a report written by {} while thread {} was held inside the wrap that ends its "
                                       "ring's first lap of {} calls counts {} recorded and keeps {} events{}",
                                       who, thread.thread, lap, thread.recorded, thread.events.size(),
                                       in_order ? "" : ", not its calls in order"));
    }
    for (std::size_t i = 0; i < lap; ++i) {
      const std::uint32_t due = std::min<std::uint32_t>(lap_event_depth(i), 255);
      if (thread.events[i].depth != due) {
        recorder_fail(stack, fmt::format("a report written by {}: call {} of the held thread, {}, has depth {}; {} was "
                                         "due (an event holds at most 255)",
                                         who, i,
                                         i == kUnscopedEvent ? std::string("recorded inside no Scope (its operation "
                                                                           "began before the recorder came on)")
                                                             : fmt::format("nested {} deep", lap_event_depth(i)),
                                         thread.events[i].depth, due));
      }
    }
    return;
  }
  recorder_fail(stack, fmt::format("a report written by {} while a thread was held inside the wrap that ends its "
                                   "ring's first lap of {} calls keeps none of them", who, lap));
}

// Reports written while a thread is held inside the wrap that ends its
// ring's first lap (hold_next_wrap) — by another thread, and by the held
// thread itself, as a signal handler interrupting the wrap would: the lap is
// complete and nothing of the next is written, so each must count and keep
// every call of the lap. The one window of a ring no fiber schedule reaches
// (wrap() has no scheduling point); a reader that took it for the lap before
// would lose a lap.
void reports_inside_a_wrap(Stack& stack, const RecorderCheck& check) {
  const std::size_t lap = check.ring_events;
  WrapHold hold;
  std::thread thread([&hold, lap] {
    flight_recorder::hold_next_wrap(
        [](void* arg) {
          auto* h = static_cast<WrapHold*>(arg);
          h->ran = true;
          h->own_path = flight_recorder::write_report("inside its own ring's wrap");
          h->held.count_down();
          h->go_on.wait();
        },
        &hold);
    for (std::size_t i = 0; i < lap; ++i) {
      // Inside depth + 1 Scopes, as a page operation nested that deep records.
      std::deque<flight_recorder::Scope> scopes;
      for (std::uint32_t d = 0; d < lap_event_scopes(i); ++d) scopes.emplace_back();
      flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kWrapPageBase + i, 0, 0, nullptr);
    }
    if (!hold.ran) {
      flight_recorder::hold_next_wrap(nullptr, nullptr);
      hold.held.count_down();  // never held: said below
    }
  });
  hold.held.wait();
  const std::string path = flight_recorder::write_report("a ring held inside its wrap");
  hold.go_on.count_down();
  thread.join();
  if (!hold.ran) {
    recorder_fail(stack, fmt::format("a thread that recorded a whole lap of {} calls never wrapped its ring", lap));
    return;
  }
  check_lap_kept(stack, hold.own_path, lap, "the held thread");
  check_lap_kept(stack, path, lap, "another thread");
}

// How the threads of refuse_rings() come to the rings. Always one after
// another — each starts once the one before has recorded — so which path
// refuses each (the ring count, or a claim past the end) and so every probe's
// count replays; threads racing together for the last slots are the unit
// tests' (core/tests/flight_recorder_ring_test.cpp, under TSan too).
enum class RingRace {
  InTurn,     // the late ones find every slot claimed
  HeldClaim,  // the first is held between seeing a free slot and claiming it until
              // every other thread has recorded: it loses the race, every time
};

// The first thread's hold at its ring claim (RingRace::HeldClaim).
struct ClaimHold {
  std::latch* held;             // counted down when the hold begins
  const std::latch* others_done;  // the hold ends when every other thread has recorded
  bool ran = false;
};

// More live threads than rings: each of kMaxThreads + `extra` threads
// records one call and waits until all have, so no ring is free for the last
// `extra` (RingRace: how they come to the rings; the losers of a race take
// the path of a slot claimed past the end). The last `extra` are refused —
// counted in the report's threads_not_recorded, their calls not kept — and
// every other thread's call is kept in a ring of its own.
// Then one late thread records while all of them live: every slot is
// claimed and no ring exited, so it is refused at the ring count, before any
// claim — counted once, like every refused thread. The recorder then holds
// one ring block a slot (rings_held()), none of a refused thread.
void refuse_rings(Stack& stack, RecorderCheck& check, std::uint32_t extra, RingRace race) {
  const auto threads = static_cast<std::uint32_t>(flight_recorder::kMaxThreads) + extra;
  const bool held = race == RingRace::HeldClaim;
  bool hold_ran = false;
  {
    std::atomic<std::uint32_t> recorded{0};  // threads past their call, the held one's claim aside
    std::latch all_recorded(threads);
    std::latch claim_held(held ? 1 : 0);
    std::latch others_recorded(held ? threads - 1 : 0);
    std::latch late_recorded(1);
    ClaimHold hold{&claim_held, &others_recorded};
    std::vector<std::thread> started;
    started.reserve(threads);
    for (std::uint32_t t = 0; t < threads; ++t) {
      started.emplace_back([t, held, &hold, &recorded, &all_recorded, &claim_held, &others_recorded,
                            &late_recorded] {
        if (held && t == 0) {
          flight_recorder::hold_next_ring_claim(
              [](void* arg) {
                auto* h = static_cast<ClaimHold*>(arg);
                h->ran = true;
                h->held->count_down();
                h->others_done->wait();
              },
              &hold);
        }
        flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kFullRingsPageBase + t, 0, 0, nullptr);
        if (held && t == 0 && !hold.ran) {
          flight_recorder::hold_next_ring_claim(nullptr, nullptr);
          claim_held.count_down();  // never held: the others go on, the check below says so
        }
        if (held && t != 0) others_recorded.count_down();
        if (!held || t != 0) {
          recorded.fetch_add(1);
          recorded.notify_all();
        }
        all_recorded.count_down();
        late_recorded.wait();  // alive (its ring held) until the late thread has recorded
      });
      if (held && t == 0) {
        claim_held.wait();  // the others start once the first is held
        continue;
      }
      const std::uint32_t due = held ? t : t + 1;
      for (std::uint32_t seen = recorded.load(); seen < due; seen = recorded.load()) recorded.wait(seen);
    }
    all_recorded.wait();
    std::thread late([threads] {
      flight_recorder::record_page_operation(flight_recorder::Op::PageClear, kFullRingsPageBase + threads, 0, 0, nullptr);
    });
    late.join();
    late_recorded.count_down();
    for (std::thread& thread : started) thread.join();
    hold_ran = hold.ran;
  }
  if (held && !hold_ran) {
    recorder_fail(stack, "a thread held at its ring claim never reached the claim: its first call found no free slot");
  }
  const std::string path = flight_recorder::write_report("every ring held");
  if (path.empty()) recorder_fail(stack, "write_report() with every ring held wrote no report");
  const CrashReport report = read_recorder_report(stack, path);
  std::size_t kept = 0;
  for (const CrashThread& thread : report.threads) {
    std::size_t calls = 0;
    for (const CrashEvent& event : thread.events) {
      if (event.op != flight_recorder::Op::PageClear || event.page < kFullRingsPageBase ||
          event.page > kFullRingsPageBase + threads) {
        continue;
      }
      ++calls;
      if (event.page == kFullRingsPageBase + threads) {
        recorder_fail(stack, fmt::format("a thread that came when every ring was held by a live thread has its call "
                                         "kept (as thread {})", thread.thread));
      }
      if (held && event.page == kFullRingsPageBase) {
        recorder_fail(stack, fmt::format("a thread that lost the last ring slot while held at its claim has its call "
                                         "kept (as thread {})", thread.thread));
      }
    }
    if (calls > 1) recorder_fail(stack, fmt::format("thread {} keeps {} calls of {} threads that made one each",
                                                    thread.thread, calls, threads));
    kept += calls;
  }
  const std::uint64_t refused = extra + 1;  // the late thread too
  if (report.threads_not_recorded != check.rings_refused + refused || kept != flight_recorder::kMaxThreads) {
    recorder_fail(stack, fmt::format("{} live threads, then one more, recorded one call each into {} rings: the "
                                     "report keeps {} calls and counts {} threads not recorded; due {} and {}",
                                     threads, flight_recorder::kMaxThreads, kept, report.threads_not_recorded,
                                     flight_recorder::kMaxThreads, check.rings_refused + refused));
  }
  check.rings_refused += refused;
  // Every slot holds a ring; a thread refused after making its ring (a lost
  // race) freed it.
  if (flight_recorder::rings_held() != flight_recorder::kMaxThreads) {
    recorder_fail(stack, fmt::format("{} threads came for {} rings: the recorder holds {} ring blocks; due {} (one a "
                                     "slot; a thread that lost the race frees the ring it made)",
                                     threads + 1, flight_recorder::kMaxThreads, flight_recorder::rings_held(),
                                     flight_recorder::kMaxThreads));
  }
}

}  // namespace

void recorder_ring_drills(Stack& stack, RecorderCheck& check, sim::Rng& rng) {
  // Before this enable(): the calling thread takes no ring of its own here
  // (every ring of the drills below is a drill thread's).
  const Segment after_exit_slice = allocate_and_release(stack, kAfterExitSliceBytes);
  enable_recorder_or_fail(stack, check.config);
  check.rings_refused = 0;  // counted from this enable()
  fail_a_ring_allocation(check);
  record_after_exit(stack, check, after_exit_slice);
  // The thread drills start 257 threads and more, each with a ring of its
  // own: at 65,536 events a ring is ~5 MiB of first touches (1.3 GB, 4.6 s
  // for one seed, measured with perf), so they run only with the small rings.
  if (check.ring_events > kMaxThreadDrillRingEvents) return;
  reports_inside_a_wrap(stack, check);
  // Half of these: 2 x 257 thread starts cost ~70 ms, the seed's whole time
  // again (a sixteenth of alloc-api's seeds: ~4 % more time for the sweep).
  if (rng.below(2) == 0) {
    // First every ring held at once (this enable()'s rings are all new: no
    // exited thread's to take over), then each taken over in turn. Three
    // in four with one thread held at its claim until the others took every
    // slot: the race for the last slot, lost for certain — the one path no
    // schedule of free-running threads reaches reliably (at one in two, 40
    // seeds of alloc-api never drew it: seed 49's survivor
    // flight_recorder.cpp:193, now flight_recorder_rings.cpp). It checks all
    // the in-turn variant does.
    const auto extra = 1 + static_cast<std::uint32_t>(rng.below(3));
    const RingRace race = rng.below(4) != 0 ? RingRace::HeldClaim : RingRace::InTurn;
    refuse_rings(stack, check, extra, race);
    take_over_rings(check);
  } else if (rng.below(2) == 0) {
    // A quarter: the takeover alone (~35 ms), whose rings the threads'
    // exits must have marked — the slots fill up as the threads come and go.
    take_over_rings(check);
  }
}

// The final report keeps at most kMaxThreads rings, one of them the last
// thread's, taken over: numbered past kMaxThreads, holding only its call.
void check_ring_taken_over(Stack& stack, const RecorderCheck& check, const CrashReport& report) {
  if (report.threads.size() > flight_recorder::kMaxThreads) {
    recorder_fail(stack, fmt::format("the final report has {} threads; the recorder keeps {} rings",
                                     report.threads.size(), flight_recorder::kMaxThreads));
  }
  for (const CrashThread& thread : report.threads) {
    for (const CrashEvent& event : thread.events) {
      if (event.op != flight_recorder::Op::PageClear || event.page != check.reuse_page) continue;
      if (thread.thread < flight_recorder::kMaxThreads || thread.recorded != 1 || thread.events.size() != 1) {
        recorder_fail(stack, fmt::format("the thread that took over a ring is numbered {} with {} event(s) recorded, "
                                         "{} kept: a number from {} and its one call were due", thread.thread,
                                         thread.recorded, thread.events.size(), flight_recorder::kMaxThreads));
      }
      return;
    }
  }
  recorder_fail(stack, fmt::format("the final report lost the call of the thread that took over a ring (page {:#x})",
                                   check.reuse_page));
}

}  // namespace segsim::scenarios
