// SimOs: a deterministic operating system for the memory stack.
//
// Memory is real — one large PROT_NONE reservation whose pages are made
// accessible as they are mapped — so the stack reads and writes it as usual,
// but addresses are handed out by a deterministic rule (the same sequence of
// calls gives the same offsets in every run and process) and traced as
// offsets, never raw addresses. It models what the stack relies on:
//   * map: zero-filled pages; first never-used address space (bump), then
//     first-fit reuse of unmapped holes — so a stale pointer keeps faulting
//     for as long as possible;
//   * unmap of all or part of a mapping (a middle part splits it), with a
//     map-count limit like vm.max_map_count (ENOMEM past it);
//   * madvise(DONTNEED): physical pages dropped, zero on next touch;
//     madvise(FREE): old bytes survive or not, decided by the seeded stream;
//     WILLNEED / SEQUENTIAL / HUGEPAGE: recorded no-ops;
//   * map_file over in-memory files (add_file), read-only;
//   * create_file / write_file / close_file into those files: a write
//     appends at most one page a call (a short write, as write(2) may give),
//     a path under an existing file is ENOTDIR, past kMaxOpenFiles
//     descriptors EMFILE, past kMaxFileBytes EFBIG; a file removed while open
//     takes the rest of its writes nowhere (as an unlinked inode).
// Guard mode (on by default): unmapped pages are PROT_NONE, and a touch of
// one is reported with the simulation's fiber and step before the process
// dies of the SIGSEGV — never an anonymous crash. So is, while a simulation
// runs, a fault in the null page (below 64 KiB): a null pointer followed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/os.h"
#include "core/result.h"
#include "sim/random.h"

namespace segsim::faults {

struct SimOsConfig {
  std::size_t reservation_bytes = std::size_t{16} << 30;  // address space for all mappings
  std::size_t max_mappings = 65530;                       // Linux's default vm.max_map_count
  std::uint64_t seed = 1;                                 // the MADV_FREE survival stream
  double free_survival_probability = 0.5;                 // MADV_FREE keeps old bytes
  bool guard = true;                                      // report touches of unmapped pages
};

enum class PageState : std::uint8_t { Unmapped, Mapped, Resident, LazyFree };

struct SimOsStats {
  std::size_t virtual_bytes = 0;   // mapped now (anonymous and files)
  std::size_t file_bytes = 0;      // of which map_file mappings
  std::size_t resident_bytes = 0;  // of mapped pages, resident now (the kernel's mincore)
  std::size_t mappings = 0;        // distinct mappings (VMAs) now
  std::size_t peak_virtual_bytes = 0;
  std::array<std::uint64_t, kOsCallCount> calls{};
  std::array<std::uint64_t, kOsCallCount> failures{};  // refused by SimOs itself
  std::uint64_t free_survived = 0;   // MADV_FREE ranges whose bytes survived
  std::uint64_t free_reclaimed = 0;  // MADV_FREE ranges reclaimed (zeroed)
};

class SimOs final : public Os {
 public:
  static Result<std::unique_ptr<SimOs>> create(SimOsConfig config = {});
  ~SimOs() override;
  SimOs(const SimOs&) = delete;
  SimOs& operator=(const SimOs&) = delete;

  OsResult<std::byte*> map(std::size_t bytes) override;
  OsStatus unmap(std::byte* addr, std::size_t bytes) override;
  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override;
  OsResult<MappedFile> map_file(const std::string& path) override;
  OsResult<FileStatus> stat_file(const std::string& path) override;
  OsResult<int> create_file(const std::string& path) override;
  OsResult<std::size_t> write_file(int fd, const std::byte* data, std::size_t bytes) override;
  OsStatus close_file(int fd) override;
  std::size_t page_size() const noexcept override { return page_size_; }

  static constexpr std::size_t kMaxOpenFiles = 64;
  static constexpr std::size_t kMaxFileBytes = std::size_t{64} << 20;  // a writer that never stops is refused soon

  // The in-memory file system map_file and stat_file read (and create_file
  // and write_file write). A descriptor names its file, not its path, as a
  // POSIX one names an inode: remove_file unlinks the path (the descriptor
  // writes on to a file nobody can open), add_file puts a new file at it (a
  // rename over it), and create_file of an existing path truncates that file
  // (every descriptor of it sees the truncation).
  void add_file(const std::string& path, std::vector<std::byte> contents, std::int64_t mtime_ns);
  bool remove_file(const std::string& path);
  // A file's contents (nullopt if there is none at `path`).
  std::optional<std::vector<std::byte>> file_contents(const std::string& path) const;
  // Descriptors create_file gave that are not closed yet.
  std::size_t open_file_count() const;

  SimOsStats stats() const;
  // The ledger of successful unmaps by caller — the fiber of the simulation
  // running on the calling thread (sim::kNoFiber outside one): an oracle
  // takes the difference across one call to count the unmaps that call made,
  // which no other fiber's unmap can enter. (Injected failures never reach
  // SimOs, so only unmaps that really happened are counted.)
  std::uint64_t unmaps_by_current_caller() const;
  // Unmap calls so far, by every caller (stats().calls without its residency
  // walk): unchanged between two reads, no mapping went or moved meanwhile.
  std::uint64_t unmap_calls() const;
  // Map calls so far, by every caller, refused ones too (as unmap_calls()).
  std::uint64_t map_calls() const;
  PageState page_state(const void* address) const;
  // A stamp of the pages' contents: SimOs counts every operation that drops
  // pages (unmap, DONTNEED, a reclaimed FREE). page_state_since(address, stamp)
  // answers page_state for a page written when drop_epoch() was `stamp`: if
  // nothing dropped it since, it still holds what was written — Resident —
  // without asking the kernel (one mincore per question was most of a seed's
  // system time: the use-after-release oracle asks per slice handed out).
  std::uint32_t drop_epoch() const;
  PageState page_state_since(const void* address, std::uint32_t stamp) const;
  // Which pages spanning [data, data + bytes) may hold data: a page of the
  // reservation that is not resident reads zero (anonymous memory, dropped or
  // never touched) when the machine has no swap, so a zero scan may skip it
  // — reading it would fault a page in, ~13 us on a paravirtualised VM
  // (docs/benchmarks.md), most of a leak-soak seed. nullopt when any page may
  // (swap on, a range outside the reservation or shorter than
  // kMinResidencyQueryPages, mincore refused).
  static constexpr std::size_t kMinResidencyQueryPages = 8;
  struct Residency {
    const std::byte* first_page;              // page-aligned, <= data
    std::size_t page_bytes;
    std::vector<unsigned char> may_hold_data; // one flag a page from first_page
  };
  std::optional<Residency> residency(const std::byte* data, std::size_t bytes) const;
  // How many pages spanning [data, data + bytes) are resident (mincore; swap
  // or not): a range nobody wrote since it was mapped or dropped has none.
  // The reservation never takes transparent huge pages, so this holds page by
  // page. nullopt outside the reservation or when mincore refuses.
  std::optional<std::size_t> resident_pages(const std::byte* data, std::size_t bytes) const;
  // The stable name of an address for traces: its offset in the reservation.
  std::optional<std::uint64_t> offset_of(const void* address) const;
  bool contains(const void* address) const;
  // Whether the page holding `address` is mapped now (false outside the reservation).
  bool mapped(const void* address) const;

 private:
  std::optional<Residency> resident_flags(const std::byte* data, std::size_t bytes) const;
  struct Mapping {
    std::size_t bytes;
    bool read_only;  // a map_file mapping
  };
  struct File {
    std::vector<std::byte> contents;
    std::int64_t mtime_ns;
  };
  SimOs(SimOsConfig config, std::byte* base, std::size_t page_size, PageState* pages);
  OsResult<std::size_t> take_range(std::size_t bytes);
  void release_range(std::size_t offset, std::size_t bytes);
  bool range_mapped(std::size_t offset, std::size_t bytes) const;
  void set_pages(std::size_t offset, std::size_t bytes, PageState state);
  void stamp_dropped(std::size_t offset, std::size_t bytes);
  OsResult<std::byte*> map_locked(std::size_t bytes, bool read_only);
  // Counts a refusal of `call` by SimOs itself and returns it.
  OsFailure refuse_locked(OsCall call, int errno_value);

  const SimOsConfig config_;
  std::byte* const base_;
  const std::size_t page_size_;
  mutable std::mutex mu_;  // not a platform mutex: an Os call adds no scheduling point
  std::map<std::size_t, Mapping> mappings_;   // offset → mapping
  std::map<std::size_t, std::size_t> holes_;  // offset → bytes, unmapped and reusable
  std::size_t bump_ = 0;                      // never-used space starts here
  const std::size_t page_count_;              // of the reservation
  PageState* const pages_;                    // by page index: its own MAP_NORESERVE mapping
  // By page index: the drop_epoch_ of the last drop of its contents (0 = never).
  // Its own MAP_NORESERVE mapping: untouched pages read zero without a fault,
  // so a seed pays only for the pages it drops.
  std::uint32_t* dropped_at_ = nullptr;
  bool swap_on_ = true;  // /proc/swaps lists a device: a page that is not resident may hold data
  std::uint32_t drop_epoch_ = 0;
  std::map<std::string, std::shared_ptr<File>> files_;  // path → file
  std::map<int, std::shared_ptr<File>> open_files_;     // descriptor → file (perhaps unlinked since)
  int next_fd_ = 3;                        // descriptors are never reused
  std::int64_t file_clock_ns_ = 0;         // mtime of written files: one tick a write
  sim::Rng free_rng_;
  SimOsStats stats_;
  std::map<std::uint32_t, std::uint64_t> unmaps_by_caller_;  // fiber → successful unmaps
};

}  // namespace segsim::faults
