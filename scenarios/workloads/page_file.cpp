// page-file — the page-file stack end to end, from a per-seed swarm of
// operations: PageFileWriter builds a file (its refusals exercised too);
// MappedPageFile opens it with drawn options, and opens invalid variants —
// one per validation rule, truncated, padded, empty, missing — each of which
// must be refused with exactly its rule; pages are decoded (and corrupted
// copies must be refused by the codec's exact rule), loaded into leaf pages
// through the pool, verified and published; files are moved, refreshed after
// being touched, and closed twice.
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/forwarding_os.h"
#include "core/mapped_page_file.h"
#include "core/page_records.h"
#include "faults/fault_injector.h"
#include "faults/fault_plan.h"
#include "faults/faulty_os.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/page_file_model.h"
#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

using page_file::kPath;
using page_file::records_of;
using page_file::bad_record_pages;
using page_file::RecordModel;
constexpr const char* kMissingPath = "/segsim/missing.db";
constexpr std::uint32_t kOpsPerSize = 40;

// The stack's Os, counting the advises asked through it and keeping the
// latest: which hint an open gave, over which range (each one asked, refused
// or not). The check needs no more than the count and the last one.
class AdviceLog final : public ForwardingOs {
 public:
  struct Asked {
    const std::byte* addr;
    std::size_t bytes;
    Advice advice;
  };
  using ForwardingOs::ForwardingOs;
  OsStatus advise(std::byte* addr, std::size_t bytes, Advice advice) override {
    latest_ = Asked{addr, bytes, advice};
    ++count_;
    return ForwardingOs::advise(addr, bytes, advice);
  }
  std::uint64_t count() const noexcept { return count_; }
  // The latest advise, if any was asked since clear().
  const Asked* latest() const noexcept { return count_ > 0 ? &latest_ : nullptr; }
  void clear() noexcept { count_ = 0; }

 private:
  Asked latest_{};
  std::uint64_t count_ = 0;
};

class Client {
 public:
  Client(Stack& stack, std::uint32_t index, const OpMix& mix)
      : stack_(stack), mix_(mix), rng_(stack.simulation.stream(fmt::format("workload.page-file.{}", index))) {}
  void run();

  enum Op : std::size_t {
    kLoad, kOpenBad, kOpenMissing, kDecodeBad, kRefresh, kTouch, kMove, kReopen, kRefreshRemoved, kCloseUnmapFails,
    kOpCount
  };
 private:
  void open_good();
  void load_page();
  void check_open_refused(const std::string& path, const char* detail);
  // An open refused as only an injected fault may refuse a file (the OS's
  // failure or its memory's): the model says nothing more then.
  bool refused_by_fault(const Error& error) const {
    return (error.code == Errc::OsFailure || error.code == Errc::OutOfMemory) && stack_.faults_active;
  }
  void check_refused_open_unmapped(const std::string& path, std::size_t file_bytes_before,
                                   std::uint64_t unmap_failures_before);
  void refresh_removed();
  void close_unmap_fails();
  void move_file();
  std::uint64_t touches() const { return stack_.counters["page-file.touches"]; }

  Stack& stack_;
  const OpMix& mix_;
  sim::Rng rng_;
  AdviceLog advice_os_{stack_.os};  // open_good's Os (declared before file_: outlives it)
  std::optional<MappedPageFile> file_;
  std::uint64_t touches_at_open_ = 0;
};

void Client::check_open_refused(const std::string& path, const char* detail) {
  const std::size_t file_bytes_before = stack_.sim_os.stats().file_bytes;
  const std::uint64_t unmap_failures_before = MappedPageFile::unmap_failures();
  auto opened = MappedPageFile::open(stack_.os, path);
  if (opened.ok()) stack_.oracles.fail("page-file", fmt::format("{} opened; the model says '{}'", path, detail));
  check_refused_open_unmapped(path, file_bytes_before, unmap_failures_before);
  const Error& error = opened.error();
  check_error_text(stack_.oracles, error);
  if (refused_by_fault(error)) return;
  const bool missing = detail == nullptr;
  if (missing ? error.code != Errc::OsFailure : (error.code != Errc::InvalidPageFile || std::string(error.detail) != detail)) {
    stack_.oracles.fail("page-file", fmt::format("opening {} refused with '{}'; the model says '{}'", path,
                                                 error.describe(), missing ? "os failure (ENOENT)" : detail));
  }
}

// A refused open gives back the mapping it validated: SimOs maps no more file
// bytes than before, and no unmap failure is counted. Only an injected unmap
// fault may leave the mapping behind, and then exactly one failure is counted.
// Nothing between the two reads is a scheduling point (Os calls add none), so
// no other fiber's open or close lands in between.
void Client::check_refused_open_unmapped(const std::string& path, std::size_t file_bytes_before,
                                         std::uint64_t unmap_failures_before) {
  const std::size_t file_bytes = stack_.sim_os.stats().file_bytes;
  const std::uint64_t unmap_failures = MappedPageFile::unmap_failures();
  const bool unchanged = file_bytes == file_bytes_before && unmap_failures == unmap_failures_before;
  const bool failed_unmap_counted = file_bytes > file_bytes_before && unmap_failures == unmap_failures_before + 1;
  if (unchanged || (failed_unmap_counted && stack_.faults_active)) return;
  stack_.oracles.fail("page-file", fmt::format("refused open of {} left {} B of files mapped (before: {} B) and "
                                               "unmap_failures() {} (before: {})",
                                               path, file_bytes, file_bytes_before, unmap_failures,
                                               unmap_failures_before));
}

// A file removed after it was opened: the mapping stays, refresh() reports
// the failed stat with its errno (ENOENT), and close still succeeds.
void Client::refresh_removed() {
  const std::string path = fmt::format("/segsim/removed-{}.db", stack_.simulation.current_fiber());
  auto bytes = stack_.sim_os.map_file(kPath);
  if (!bytes.ok()) return;
  std::vector<std::byte> copy(bytes->data, bytes->data + bytes->bytes);
  if (!stack_.sim_os.unmap(const_cast<std::byte*>(bytes->data), bytes->bytes).ok()) stack_.oracles.fail("exception", "unmap");
  stack_.sim_os.add_file(path, std::move(copy), 1);
  auto opened = MappedPageFile::open(stack_.os, path);
  if (!opened) {
    stack_.sim_os.remove_file(path);
    if (refused_by_fault(opened.error())) return;
    stack_.oracles.fail("page-file", "opening a copy of the valid page file: " + opened.error().describe());
  }
  if (!stack_.sim_os.remove_file(path)) stack_.oracles.fail("exception", "removing " + path);
  auto changed = opened->refresh();
  if (changed) {
    stack_.oracles.fail("page-file", fmt::format("refresh of a removed file says changed={}", *changed));
  }
  check_error_text(stack_.oracles, changed.error());
  if (changed.error().code != Errc::OsFailure || (changed.error().os_errno != ENOENT && !stack_.faults_active)) {
    stack_.oracles.fail("page-file", "refresh of a removed file: " + changed.error().describe() + "; the model says ENOENT");
  }
  if (opened->page(0).size() != opened->page_size()) stack_.oracles.fail("page-file", "a removed file's mapping shrank");
  const Status closed = opened->close();
  if (!closed && !stack_.faults_active) stack_.oracles.fail("page-file", "close of a removed file: " + closed.error().describe());
}

void check_closed(Stack& stack, const MappedPageFile& file, const char* how);

// close() whose unmap the Os refuses (a plan of its own: the first munmap
// fails with EINVAL): OsFailure carrying that errno, the file closed all the
// same, exactly one unmap failure counted, and the mapping left whole (the
// workload then unmaps it itself). No scheduling point between the counter's
// reads: no other fiber's close lands in between.
void Client::close_unmap_fails() {
  auto plan = faults::parse_fault_plan("munmap:EINVAL@nth=1");
  SEGSIM_ASSERT(plan.ok(), "the close drill's fault plan does not parse");
  faults::FaultInjector injector(std::move(plan.value()), stack_.seed);
  faults::FaultyOs unmap_fails(stack_.os, injector);
  auto opened = MappedPageFile::open(unmap_fails, kPath);
  if (!opened.ok()) {
    if (refused_by_fault(opened.error())) return;
    stack_.oracles.fail("page-file", "opening the valid page file: " + opened.error().describe());
  }
  const std::byte* mapping = opened->page(0).data() - opened->page_size();  // the header page first
  const std::size_t bytes = opened->file_bytes();
  const std::size_t file_bytes_before = stack_.sim_os.stats().file_bytes;
  const std::uint64_t unmap_failures_before = MappedPageFile::unmap_failures();
  const Status closed = opened->close();
  const std::uint64_t unmap_failures = MappedPageFile::unmap_failures();
  if (closed.ok() || closed.error().code != Errc::OsFailure || closed.error().os_errno != EINVAL ||
      opened->is_open() || unmap_failures != unmap_failures_before + 1 ||
      stack_.sim_os.stats().file_bytes != file_bytes_before) {
    stack_.oracles.fail("page-file", fmt::format("close with its unmap refused (EINVAL) answered {}, left the file {}, "
                                                 "unmap_failures() {} (before: {}) and {} B of files mapped (before: "
                                                 "{} B); due: OsFailure with EINVAL, closed, one more failure, the "
                                                 "mapping left",
                                                 outcome_text(closed, "ok"),
                                                 opened->is_open() ? "open" : "closed", unmap_failures,
                                                 unmap_failures_before, stack_.sim_os.stats().file_bytes,
                                                 file_bytes_before));
  }
  check_error_text(stack_.oracles, closed.error());
  check_closed(stack_, *opened, "closed (its unmap refused)");
  if (!stack_.sim_os.unmap(const_cast<std::byte*>(mapping), bytes).ok()) {
    stack_.oracles.fail("page-file", "the mapping a refused close left behind is not whole");
  }
}

void Client::open_good() {
  OpenOptions options;
  options.access = draw_one(rng_, {AccessHint::None, AccessHint::Sequential, AccessHint::WillNeed});
  options.populate_on_open = rng_.chance(0.3);
  advice_os_.clear();
  auto opened = MappedPageFile::open(advice_os_, kPath, options);
  if (!opened.ok()) {
    if (refused_by_fault(opened.error())) return;
    stack_.oracles.fail("page-file", "opening the valid page file: " + opened.error().describe());
  }
  file_.emplace(std::move(opened.value()));
  touches_at_open_ = touches();
  const std::uint64_t pages = stack_.counters["page-file.pages"];
  const auto page_bytes = static_cast<std::uint32_t>(stack_.counters["page-file.page_bytes"]);
  const std::uint64_t root = stack_.counters["page-file.root"];
  if (file_->page_count() != pages || file_->page_size() != page_bytes || file_->root_page_index() != root ||
      file_->root_offset() != (root + 1) * page_bytes || file_->file_bytes() != (pages + 1) * page_bytes ||
      file_->path() != kPath || file_->status_at_open().bytes != file_->file_bytes() ||
      file_->status_at_open().mtime_ns != static_cast<std::int64_t>(touches_at_open_) + 1 || !file_->is_open() ||
      file_->root_page().data() != file_->page(root).data()) {
    stack_.oracles.fail("page-file", fmt::format("opened file reports {} pages of {} B, root {}, mtime {}; the writer "
                                                 "made {} of {} B, root {}, its mtime {}",
                                                 file_->page_count(), file_->page_size(), file_->root_page_index(),
                                                 file_->status_at_open().mtime_ns, pages, page_bytes, root,
                                                 touches_at_open_ + 1));
  }
  // Populating touches each OS page of the mapping once; without it, none.
  const std::size_t os_page_bytes = stack_.os.page_size();
  const std::uint64_t due_populated =
      options.populate_on_open ? (file_->file_bytes() + os_page_bytes - 1) / os_page_bytes : 0;
  if (file_->populated_os_pages() != due_populated) {
    stack_.oracles.fail("page-file", fmt::format("open of a {} B file {} populate_on_open touched {} OS page(s) of {} "
                                                 "B; {} due",
                                                 file_->file_bytes(), options.populate_on_open ? "with" : "without",
                                                 file_->populated_os_pages(), os_page_bytes, due_populated));
  }
  // An open gives one hint at most, of its kind, over the whole mapping (as
  // asked of the Os); a refused one is counted once, with its errno; no hint,
  // or no fault, refuses nothing.
  const bool hinted = options.access != AccessHint::None;
  const Advice due_advice = options.access == AccessHint::Sequential ? Advice::Sequential : Advice::WillNeed;
  const AdviceLog::Asked* asked = advice_os_.latest();
  if (advice_os_.count() != (hinted ? 1u : 0u) ||
      (hinted && (asked == nullptr || asked->advice != due_advice || asked->addr != file_->root_page().data() -
                                                                                      file_->root_offset() ||
                  asked->bytes != file_->file_bytes()))) {
    stack_.oracles.fail("page-file", fmt::format("open with hint {} asked its Os {} advise(s){}; {} due", static_cast<int>(options.access),
                                                 advice_os_.count(),
                                                 asked == nullptr ? std::string()
                                                                  : fmt::format(", the last {} over {} B",
                                                                                advice_name(asked->advice), asked->bytes),
                                                 hinted ? fmt::format("one {} over the file's {} B",
                                                                      advice_name(due_advice), file_->file_bytes())
                                                        : std::string("none")));
  }
  if (file_->advise_failures() != (file_->last_advise_errno() != 0 ? 1u : 0u) ||
      (file_->advise_failures() != 0 && (!hinted || !stack_.faults_active))) {
    stack_.oracles.fail("page-file", fmt::format("open with hint {} reports {} refused hints, last errno {}",
                                                 static_cast<int>(options.access), file_->advise_failures(),
                                                 file_->last_advise_errno()));
  }
}

// Everything a MappedPageFile tells its caller. A move carries all of it:
// construction, assignment over another open file (which it closes), and
// assignment onto itself, which changes nothing.
struct FileView {
  bool open = false;
  const std::byte* root = nullptr;  // compared, never printed
  std::uint64_t page_count = 0, root_offset = 0, populated_os_pages = 0;
  std::uint32_t page_size = 0, advise_failures = 0;
  std::size_t file_bytes = 0;
  int last_advise_errno = 0;
  std::string path;
  std::uint64_t status_bytes = 0;
  std::int64_t status_mtime_ns = 0;
  bool operator==(const FileView&) const = default;

  explicit FileView(const MappedPageFile& file)
      : open(file.is_open()),
        root(file.is_open() ? file.root_page().data() : nullptr),
        page_count(file.page_count()),
        root_offset(file.root_offset()),
        populated_os_pages(file.populated_os_pages()),
        page_size(file.page_size()),
        advise_failures(file.advise_failures()),
        file_bytes(file.file_bytes()),
        last_advise_errno(file.last_advise_errno()),
        path(file.path()),
        status_bytes(file.status_at_open().bytes),
        status_mtime_ns(file.status_at_open().mtime_ns) {}

  std::string describe() const {
    return fmt::format("open {}, {} pages of {} B, root at {}, {} B, path '{}', status {} B at {} ns, {} refused hints "
                       "(last errno {}), {} populated OS pages",
                       open, page_count, page_size, root_offset, file_bytes, path, status_bytes, status_mtime_ns,
                       advise_failures, last_advise_errno, populated_os_pages);
  }
};

// A closed or moved-from file has no pages (mapped_page_file.h): every number
// reads 0, so a caller that reads them after close sees nothing stale.
void check_closed(Stack& stack, const MappedPageFile& file, const char* how) {
  const FileView now(file);
  if (!now.open && now.page_count == 0 && now.page_size == 0 && now.root_offset == 0 && now.file_bytes == 0) return;
  stack.oracles.fail("page-file", fmt::format("a {} file reads {}; a closed file has no pages and 0 B", how,
                                              now.describe()));
}

void Client::move_file() {
  const FileView before(*file_);
  const auto check = [&](const MappedPageFile& file, const char* how) {
    const FileView now(file);
    if (now == before) return;
    stack_.oracles.fail("page-file", fmt::format("a page file {}: {}; before the move: {}{}", how, now.describe(),
                                                 before.describe(),
                                                 now.root != before.root ? " (and its root page moved)" : ""));
  };
  MappedPageFile moved(std::move(*file_));
  check(moved, "move-constructed");
  check_closed(stack_, *file_, "moved-from");
  // Over another open file (no hint, nothing refused): that one is closed (its
  // mapping given back, or the Os ledger finds a leak) and all of ours taken.
  auto other = MappedPageFile::open(stack_.os, kPath);
  if (other.ok()) {
    other.value() = std::move(moved);
    check(other.value(), "move-assigned over an open file");
    check_closed(stack_, moved, "moved-from (by assignment)");
    *file_ = std::move(other.value());
  } else {
    if (!refused_by_fault(other.error())) {
      stack_.oracles.fail("page-file", "opening the valid page file again: " + other.error().describe());
    }
    *file_ = std::move(moved);
  }
  check(*file_, "move-assigned over a moved-from file");
  MappedPageFile& same = *file_;
  *file_ = std::move(same);
  check(*file_, "move-assigned onto itself");
}

void Client::load_page() {
  if (!file_) return;
  const std::uint64_t file_page = rng_.below(file_->page_count());
  auto records = decode_page_records(file_->page(file_page));
  if (!records.ok()) stack_.oracles.fail("content", "a valid page failed to decode: " + records.error().describe());
  const std::vector<RecordModel> model = records_of(file_page, file_->page_size());
  if (records->size() != model.size()) {
    stack_.oracles.fail("content", fmt::format("file page {} decodes to {} records; {} were written", file_page,
                                               records->size(), model.size()));
  }
  const std::uint64_t id = stack_.next_page_id++;
  auto borrowed = stack_.pool.borrow(id);
  if (!borrowed.ok()) {
    if (tolerated(stack_, borrowed.error())) return;
    stack_.oracles.fail("exception", "borrow: " + borrowed.error().describe());
  }
  LeafPage* page = borrowed.value();
  std::map<std::size_t, SlotShadow> slots;
  std::map<std::size_t, SlotShadow> dewey;
  for (std::size_t i = 0; i < model.size(); ++i) {
    const PageRecordView& record = records.value()[i];
    if (record.slot != model[i].slot || record.dewey_id.has_value() != model[i].dewey_bytes.has_value()) {
      stack_.oracles.fail("content", fmt::format("file page {} record {}: slot {} / DeweyID {}; the model says {} / {}",
                                                 file_page, i, record.slot, record.dewey_id.has_value(), model[i].slot,
                                                 model[i].dewey_bytes.has_value()));
    }
    stack_.oracles.check_content(id, record.slot, record.value, SlotShadow{model[i].bytes, model[i].fill}, nullptr);
    Status set = page->set_slot(record.slot, record.value);
    if (set.ok() && record.dewey_id) set = page->set_dewey_id(record.slot, *record.dewey_id);
    if (!set.ok()) {
      // The pool's pages hold 64 slots of at most 64 KiB: a refusal is allowed only as the model says.
      const Errc code = set.error().code;
      const bool allowed = tolerated(stack_, set.error()) || (code == Errc::SlotOutOfRange && record.slot >= page->slot_count()) ||
                           (code == Errc::ValueTooLarge && record.value.size() > 64 * 1024);
      if (!allowed) stack_.oracles.fail("page-write", "loading a record: " + set.error().describe());
      continue;
    }
    slots[record.slot] = SlotShadow{model[i].bytes, model[i].fill};
    if (record.dewey_id) dewey[record.slot] = SlotShadow{*model[i].dewey_bytes, static_cast<std::uint8_t>(model[i].fill ^ 0xff)};
  }
  stack_.shadow[id] = std::move(slots);
  stack_.dewey_shadow[id] = std::move(dewey);
  verify_page(stack_, id, *page);
  publish(stack_, id, page);
  read_published(stack_, rng_, 1, 1);
}

void Client::run() {
  open_good();
  for (std::uint32_t n = 0; n < kOpsPerSize * stack_.size; ++n) {
    switch (static_cast<Op>(mix_.pick(rng_))) {
      case kLoad: load_page(); break;
      case kOpenBad: {
        const auto count = stack_.counters["page-file.bad"];
        const std::uint64_t i = rng_.below(count);
        check_open_refused(fmt::format("/segsim/bad-{}.db", i), stack_.page_file_rules.at(i).c_str());
        break;
      }
      case kOpenMissing: check_open_refused(kMissingPath, nullptr); break;
      case kDecodeBad:
        if (file_) {
          const std::uint64_t p = rng_.below(file_->page_count());
          if (records_of(p, file_->page_size()).empty()) break;  // the corruptions need a first record
          for (const auto& [bytes, rule] : bad_record_pages(file_->page(p))) {
            auto decoded = decode_page_records(bytes);
            if (decoded.ok() || std::string(decoded.error().detail) != rule) {
              stack_.oracles.fail("page-records", fmt::format("a corrupted page decoded as '{}'; the rule is '{}'",
                                                              decoded.ok() ? "valid" : decoded.error().detail, rule));
            }
          }
        }
        break;
      case kRefresh:
        if (file_) {
          auto changed = file_->refresh();
          if (!changed.ok()) {
            if (!stack_.faults_active) stack_.oracles.fail("page-file", "refresh: " + changed.error().describe());
          } else if (changed.value() != (touches() != touches_at_open_)) {
            stack_.oracles.fail("page-file", fmt::format("refresh says changed={}; the file was touched {} times since "
                                                         "open",
                                                         changed.value(), touches() - touches_at_open_));
          }
        }
        break;
      case kTouch: {  // the same bytes with a new mtime: open mappings keep what they mapped
        auto bytes = stack_.sim_os.map_file(kPath);
        if (!bytes.ok()) break;
        std::vector<std::byte> copy(bytes->data, bytes->data + bytes->bytes);
        if (!stack_.sim_os.unmap(const_cast<std::byte*>(bytes->data), bytes->bytes).ok()) stack_.oracles.fail("exception", "unmap");
        stack_.sim_os.add_file(kPath, std::move(copy), static_cast<std::int64_t>(++stack_.counters["page-file.touches"]) + 1);
        break;
      }
      case kMove:
        if (file_) move_file();
        break;
      case kReopen:
        if (file_) {
          const std::uint64_t unmap_failures = MappedPageFile::unmap_failures();
          const Status closed = file_->close();
          if (!closed.ok() && !stack_.faults_active) stack_.oracles.fail("page-file", "close: " + closed.error().describe());
          // Process-wide: other fibers' closes may add to it, never take away.
          if (MappedPageFile::unmap_failures() < unmap_failures + (closed ? 0 : 1)) {
            stack_.oracles.fail("page-file", fmt::format("close {}; unmap_failures() went from {} to {}",
                                                         closed ? "succeeded" : "failed", unmap_failures,
                                                         MappedPageFile::unmap_failures()));
          }
          check_closed(stack_, *file_, closed ? "closed" : "closed (its unmap refused)");
          if (!file_->close().ok()) stack_.oracles.fail("page-file", "a second close did not succeed");
          file_.reset();
        }
        open_good();
        break;
      case kRefreshRemoved: refresh_removed(); break;
      case kCloseUnmapFails: close_unmap_fails(); break;
      case kOpCount: break;
    }
    stack_.oracles.check_cheap();
  }
  if (file_ && !file_->close().ok() && !stack_.faults_active) stack_.oracles.fail("exception", "closing the page file failed");
}

}  // namespace

ScenarioDef page_file_scenario() {
  ScenarioDef def;
  def.info = {"page-file",
              "a page file written, opened (valid, invalid per rule, truncated, missing), decoded (and corrupted "
              "pages refused), moved, refreshed, closed, its pages loaded into leaf pages through the pool",
              3, 1};
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig& cache, std::uint32_t, std::uint32_t) {
    cache.max_entries = 4;
  };
  def.prepare = [](Stack& stack) {
    page_file::build_files(stack);
    stack.oracles.at_quiescence([&stack] { page_file::open_spec_variants(stack); });
  };
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng mix_rng(sim::derive_seed(stack.seed, "workload.page-file.mix"));
    OpMix mix(mix_rng, Client::kOpCount, {Client::kLoad});
    Client client(stack, index, mix);
    client.run();
  };
  return def;
}

}  // namespace segsim::scenarios
