// SimOs (sim_os.h): its address space, its queries; its files are in
// sim_os_files.cpp, its guard mode's fault reporter in sim_os_guard.cpp.
#include "faults/sim_os.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/assert.h"
#include "faults/sim_os_guard.h"
#include "sim/simulation.h"

namespace segsim::faults {

namespace {

// Who the unmap ledger charges: the running simulation's current fiber.
std::uint32_t current_caller() {
  const sim::Simulation* simulation = sim::Simulation::current();
  return simulation == nullptr ? sim::kNoFiber : simulation->current_fiber();
}

// Whether a page that is not resident may still hold data: swapped out. Read
// once a process; unreadable counts as on.
bool swap_on() {
  static const bool on = [] {
    std::FILE* swaps = std::fopen("/proc/swaps", "r");
    if (swaps == nullptr) return true;
    int lines = 0;  // a header line, then one per swap device
    char line[512];
    while (lines < 2 && std::fgets(line, sizeof line, swaps) != nullptr) ++lines;
    std::fclose(swaps);
    return lines > 1;
  }();
  return on;
}

}  // namespace

Result<std::unique_ptr<SimOs>> SimOs::create(SimOsConfig config) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (config.reservation_bytes == 0 || config.reservation_bytes % page != 0) {
    return make_error(Errc::InvalidConfig, "reservation_bytes must be a positive multiple of the page size");
  }
  if (config.max_mappings == 0) return make_error(Errc::InvalidConfig, "max_mappings must be > 0");
  if (config.free_survival_probability < 0 || config.free_survival_probability > 1) {
    return make_error(Errc::InvalidConfig, "free_survival_probability must be in [0, 1]");
  }
  void* base = ::mmap(nullptr, config.reservation_bytes, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    Error error = make_error(Errc::OutOfMemory, "cannot reserve SimOs address space");
    error.os_errno = errno;
    return error;
  }
  // Residency page by page on any machine: under a transparent-huge-page
  // policy of "always" one write would fault in the 2 MiB around it, and a
  // range nobody wrote would read as resident (resident_pages). Refused only
  // by a kernel without huge pages, where it is so anyway.
  (void)::madvise(base, config.reservation_bytes, MADV_NOHUGEPAGE);
  // The page-state table in its own MAP_NORESERVE mapping, all Unmapped (0)
  // without a write: a std::vector of its 4 Mi entries faulted in 4 MiB every
  // seed — ~1,000 page faults, ~13 ms on a paravirtualised VM (docs/benchmarks.md).
  static_assert(static_cast<int>(PageState::Unmapped) == 0);
  const std::size_t page_count = config.reservation_bytes / page;
  void* pages = ::mmap(nullptr, page_count * sizeof(PageState), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (pages == MAP_FAILED) {
    Error error = make_error(Errc::OutOfMemory, "cannot map SimOs's page table");
    error.os_errno = errno;
    ::munmap(base, config.reservation_bytes);
    return error;
  }
  return std::unique_ptr<SimOs>(new SimOs(config, static_cast<std::byte*>(base), page, static_cast<PageState*>(pages)));
}

SimOs::SimOs(SimOsConfig config, std::byte* base, std::size_t page_size, PageState* pages)
    : config_(config),
      base_(base),
      page_size_(page_size),
      page_count_(config.reservation_bytes / page_size),
      pages_(pages),
      free_rng_(sim::derive_seed(config.seed, "simos.madv_free")) {
  void* table = ::mmap(nullptr, page_count_ * sizeof(std::uint32_t), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  // Without the table every question goes to the kernel, as before.
  if (table != MAP_FAILED) dropped_at_ = static_cast<std::uint32_t*>(table);
  if (config_.guard) guard::register_reservation(base_, config_.reservation_bytes);
}

SimOs::~SimOs() {
  if (config_.guard) guard::unregister_reservation(base_);
  ::munmap(base_, config_.reservation_bytes);
  ::munmap(pages_, page_count_ * sizeof(PageState));
  if (dropped_at_ != nullptr) ::munmap(dropped_at_, page_count_ * sizeof(std::uint32_t));
}

// ---- address space ---------------------------------------------------------

OsResult<std::size_t> SimOs::take_range(std::size_t bytes) {
  if (bump_ + bytes <= config_.reservation_bytes) {
    const std::size_t offset = bump_;
    bump_ += bytes;
    return offset;
  }
  for (auto it = holes_.begin(); it != holes_.end(); ++it) {  // first fit, lowest offset
    if (it->second < bytes) continue;
    const std::size_t offset = it->first;
    const std::size_t rest = it->second - bytes;
    holes_.erase(it);
    if (rest > 0) holes_[offset + bytes] = rest;
    return offset;
  }
  return OsFailure{OsCall::Map, ENOMEM};
}

void SimOs::release_range(std::size_t offset, std::size_t bytes) {
  // Coalesce with neighbouring holes so first-fit sees whole gaps.
  auto next = holes_.lower_bound(offset);
  if (next != holes_.end() && next->first == offset + bytes) {
    bytes += next->second;
    next = holes_.erase(next);
  }
  if (next != holes_.begin()) {
    auto previous = std::prev(next);
    if (previous->first + previous->second == offset) {
      previous->second += bytes;
      return;
    }
  }
  holes_[offset] = bytes;
}

void SimOs::set_pages(std::size_t offset, std::size_t bytes, PageState state) {
  SEGSIM_ASSERT((offset + bytes) / page_size_ <= page_count_, "pages inside the reservation");
  std::fill(pages_ + offset / page_size_, pages_ + (offset + bytes) / page_size_, state);
}

void SimOs::stamp_dropped(std::size_t offset, std::size_t bytes) {
  // Past 2^32 drops the stamps would wrap: stop answering from the table.
  if (dropped_at_ == nullptr || drop_epoch_ == UINT32_MAX) {
    drop_epoch_ = UINT32_MAX;
    return;
  }
  ++drop_epoch_;
  std::fill(dropped_at_ + offset / page_size_, dropped_at_ + (offset + bytes) / page_size_, drop_epoch_);
}

OsFailure SimOs::refuse_locked(OsCall call, int errno_value) {
  ++stats_.failures[static_cast<std::size_t>(call)];
  return OsFailure{call, errno_value};
}

bool SimOs::range_mapped(std::size_t offset, std::size_t bytes) const {
  for (std::size_t page = offset / page_size_; page < (offset + bytes) / page_size_; ++page) {
    if (pages_[page] == PageState::Unmapped) return false;
  }
  return true;
}

OsResult<std::byte*> SimOs::map_locked(std::size_t bytes, bool read_only) {
  if (mappings_.size() >= config_.max_mappings) return OsFailure{OsCall::Map, ENOMEM};
  OsResult<std::size_t> range = take_range(bytes);
  if (!range.ok()) return range.error();
  const std::size_t offset = range.value();
  std::byte* addr = base_ + offset;
  // Unmapped pages were dropped (DONTNEED) when unmapped: they read zero.
  if (::mprotect(addr, bytes, read_only ? PROT_READ : PROT_READ | PROT_WRITE) != 0) {
    const int err = errno;
    release_range(offset, bytes);
    return OsFailure{OsCall::Map, err};
  }
  mappings_[offset] = Mapping{bytes, read_only};
  set_pages(offset, bytes, PageState::Mapped);
  stats_.virtual_bytes += bytes;
  stats_.peak_virtual_bytes = std::max(stats_.peak_virtual_bytes, stats_.virtual_bytes);
  return addr;
}

OsResult<std::byte*> SimOs::map(std::size_t bytes) {
  std::lock_guard guard(mu_);
  ++stats_.calls[static_cast<std::size_t>(OsCall::Map)];
  OsResult<std::byte*> mapped = bytes == 0 || bytes % page_size_ != 0
                                    ? OsResult<std::byte*>(OsFailure{OsCall::Map, EINVAL})
                                    : map_locked(bytes, /*read_only=*/false);
  if (!mapped.ok()) ++stats_.failures[static_cast<std::size_t>(OsCall::Map)];
  return mapped;
}

OsStatus SimOs::unmap(std::byte* addr, std::size_t bytes) {
  std::lock_guard guard(mu_);
  ++stats_.calls[static_cast<std::size_t>(OsCall::Unmap)];
  if (!contains(addr) || bytes == 0 || (addr - base_) % static_cast<std::ptrdiff_t>(page_size_) != 0 ||
      static_cast<std::size_t>(addr - base_) + bytes > config_.reservation_bytes) {
    return refuse_locked(OsCall::Unmap, EINVAL);
  }
  const std::size_t begin = static_cast<std::size_t>(addr - base_);
  const std::size_t end = begin + (bytes + page_size_ - 1) / page_size_ * page_size_;
  // Plan the split first: a refusal must leave every mapping as it was.
  std::vector<std::pair<std::size_t, Mapping>> kept;  // pieces that survive, by offset
  std::vector<std::size_t> touched;                   // mappings overlapping [begin, end)
  auto it = mappings_.upper_bound(begin);
  if (it != mappings_.begin()) --it;
  for (; it != mappings_.end() && it->first < end; ++it) {
    const std::size_t m_begin = it->first;
    const std::size_t m_end = m_begin + it->second.bytes;
    if (m_end <= begin) continue;
    touched.push_back(m_begin);
    if (m_begin < begin) kept.emplace_back(m_begin, Mapping{begin - m_begin, it->second.read_only});
    if (m_end > end) kept.emplace_back(end, Mapping{m_end - end, it->second.read_only});
  }
  if (mappings_.size() - touched.size() + kept.size() > config_.max_mappings) {
    return refuse_locked(OsCall::Unmap, ENOMEM);
  }
  std::size_t removed_bytes = 0;
  for (std::size_t offset : touched) {
    removed_bytes += mappings_[offset].bytes;
    mappings_.erase(offset);
  }
  for (const auto& [offset, mapping] : kept) {
    removed_bytes -= mapping.bytes;
    mappings_[offset] = mapping;
  }
  // Unmapped pages: physical memory dropped (they read zero when mapped
  // again) and inaccessible, so a stale pointer faults. Only the pages that
  // were mapped; unmapping a hole is allowed, as on Linux.
  std::size_t page = begin / page_size_;
  while (page < end / page_size_) {
    if (pages_[page] == PageState::Unmapped) {
      ++page;
      continue;
    }
    std::size_t run_end = page;  // a run of mapped pages: one syscall pair each
    while (run_end < end / page_size_ && pages_[run_end] != PageState::Unmapped) ++run_end;
    std::byte* p = base_ + page * page_size_;
    const std::size_t run_bytes = (run_end - page) * page_size_;
    ::madvise(p, run_bytes, MADV_DONTNEED);
    ::mprotect(p, run_bytes, PROT_NONE);
    set_pages(page * page_size_, run_bytes, PageState::Unmapped);
    stamp_dropped(page * page_size_, run_bytes);
    release_range(page * page_size_, run_bytes);
    page = run_end;
  }
  stats_.virtual_bytes -= removed_bytes;
  ++unmaps_by_caller_[current_caller()];
  return {};
}

OsStatus SimOs::advise(std::byte* addr, std::size_t bytes, Advice advice) {
  std::lock_guard guard(mu_);
  ++stats_.calls[static_cast<std::size_t>(OsCall::Advise)];
  if (!contains(addr) || (addr - base_) % static_cast<std::ptrdiff_t>(page_size_) != 0) {
    return refuse_locked(OsCall::Advise, EINVAL);
  }
  const std::size_t begin = static_cast<std::size_t>(addr - base_);
  const std::size_t length = (bytes + page_size_ - 1) / page_size_ * page_size_;
  if (begin + length > config_.reservation_bytes || !range_mapped(begin, length)) {
    return refuse_locked(OsCall::Advise, ENOMEM);
  }
  switch (advice) {
    case Advice::DontNeed:
      if (::madvise(addr, length, MADV_DONTNEED) != 0) return refuse_locked(OsCall::Advise, errno);
      set_pages(begin, length, PageState::Mapped);
      stamp_dropped(begin, length);
      break;
    case Advice::Free:
      // The kernel may reclaim a lazily-freed page at any moment before the
      // next write, or never: which of the two this range gets is the stream's.
      if (free_rng_.chance(config_.free_survival_probability)) {
        set_pages(begin, length, PageState::LazyFree);
        ++stats_.free_survived;
      } else {
        if (::madvise(addr, length, MADV_DONTNEED) != 0) return refuse_locked(OsCall::Advise, errno);
        set_pages(begin, length, PageState::Mapped);
        stamp_dropped(begin, length);
        ++stats_.free_reclaimed;
      }
      break;
    case Advice::WillNeed:
    case Advice::Sequential:
    case Advice::HugePage:
      break;  // hints: recorded in the call count, no effect on contents
  }
  return {};
}

// ---- queries ---------------------------------------------------------------

bool SimOs::contains(const void* address) const {
  const auto* p = static_cast<const std::byte*>(address);
  return p >= base_ && p < base_ + config_.reservation_bytes;
}

bool SimOs::mapped(const void* address) const {
  const std::optional<std::uint64_t> offset = offset_of(address);
  if (!offset) return false;
  std::lock_guard<std::mutex> guard(mu_);
  return pages_[*offset / page_size_] != PageState::Unmapped;
}

std::optional<std::uint64_t> SimOs::offset_of(const void* address) const {
  if (!contains(address)) return std::nullopt;
  return static_cast<std::uint64_t>(static_cast<const std::byte*>(address) - base_);
}

PageState SimOs::page_state(const void* address) const {
  std::lock_guard guard(mu_);
  if (!contains(address)) return PageState::Unmapped;
  const std::size_t page = static_cast<std::size_t>(static_cast<const std::byte*>(address) - base_) / page_size_;
  const PageState state = pages_[page];
  if (state != PageState::Mapped) return state;
  unsigned char resident = 0;
  ::mincore(base_ + page * page_size_, page_size_, &resident);
  return (resident & 1) != 0 ? PageState::Resident : PageState::Mapped;
}

std::uint32_t SimOs::drop_epoch() const {
  std::lock_guard guard(mu_);
  return drop_epoch_;
}

PageState SimOs::page_state_since(const void* address, std::uint32_t stamp) const {
  {
    std::lock_guard guard(mu_);
    if (contains(address) && dropped_at_ != nullptr && drop_epoch_ != UINT32_MAX) {
      const std::size_t page = static_cast<std::size_t>(static_cast<const std::byte*>(address) - base_) / page_size_;
      // Written at `stamp` and never dropped since: its contents are still
      // there (no swap question: swapped pages come back as they were).
      if (pages_[page] == PageState::Mapped && dropped_at_[page] <= stamp) return PageState::Resident;
    }
  }
  return page_state(address);
}

std::optional<SimOs::Residency> SimOs::resident_flags(const std::byte* data, std::size_t bytes) const {
  if (bytes == 0 || !contains(data) || !contains(data + bytes - 1)) return std::nullopt;
  const std::size_t first = static_cast<std::size_t>(data - base_) / page_size_;
  const std::size_t last = static_cast<std::size_t>(data + bytes - 1 - base_) / page_size_;
  Residency residency{base_ + first * page_size_, page_size_, std::vector<unsigned char>(last - first + 1)};
  if (::mincore(base_ + first * page_size_, (last - first + 1) * page_size_, residency.may_hold_data.data()) != 0) {
    return std::nullopt;
  }
  for (unsigned char& flag : residency.may_hold_data) flag &= 1;
  return residency;
}

std::optional<SimOs::Residency> SimOs::residency(const std::byte* data, std::size_t bytes) const {
  // A short range is cheaper to read than to ask about: a syscall (~1.5 us
  // here) against faults only where pages are not resident — most of the
  // small slices a workload releases were just written (chicago ran 27 %
  // slower asking about every slice of two pages or more).
  if (swap_on() || bytes < kMinResidencyQueryPages * page_size_) return std::nullopt;
  return resident_flags(data, bytes);
}

std::optional<std::size_t> SimOs::resident_pages(const std::byte* data, std::size_t bytes) const {
  const std::optional<Residency> flags = resident_flags(data, bytes);
  if (!flags) return std::nullopt;
  return static_cast<std::size_t>(std::count(flags->may_hold_data.begin(), flags->may_hold_data.end(), 1));
}

std::uint64_t SimOs::unmaps_by_current_caller() const {
  std::lock_guard guard(mu_);
  auto it = unmaps_by_caller_.find(current_caller());
  return it == unmaps_by_caller_.end() ? 0 : it->second;
}

std::uint64_t SimOs::unmap_calls() const {
  std::lock_guard guard(mu_);
  return stats_.calls[static_cast<std::size_t>(OsCall::Unmap)];
}

std::uint64_t SimOs::map_calls() const {
  std::lock_guard guard(mu_);
  return stats_.calls[static_cast<std::size_t>(OsCall::Map)];
}

SimOsStats SimOs::stats() const {
  std::lock_guard guard(mu_);
  SimOsStats stats = stats_;
  stats.mappings = mappings_.size();
  // One mincore per run of adjacent mappings: not one per mapping (per-mapping
  // calls were most of a cheap seed's system time), nor one over the span of
  // them all — with hundreds of fibers the span is gigabytes of holes, and
  // walking them was a third of a 64-thread leak-soak run.
  std::vector<unsigned char> residency;
  auto count_run = [&](std::size_t begin, std::size_t end) {
    residency.resize((end - begin) / page_size_);
    if (::mincore(base_ + begin, end - begin, residency.data()) != 0) return;
    for (unsigned char page : residency) stats.resident_bytes += (page & 1) != 0 ? page_size_ : 0;
  };
  std::size_t run_begin = 0, run_end = 0;
  for (const auto& [offset, mapping] : mappings_) {
    stats.file_bytes += mapping.read_only ? mapping.bytes : 0;
    if (offset != run_end) {
      if (run_end > run_begin) count_run(run_begin, run_end);
      run_begin = offset;
    }
    run_end = offset + mapping.bytes;
  }
  if (run_end > run_begin) count_run(run_begin, run_end);
  return stats;
}

}  // namespace segsim::faults
